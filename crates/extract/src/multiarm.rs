//! Multi-arm trials: the rows of one (study, outcome) that each give an arm (`arm`) are merged
//! into one comparison, group by group (Cochrane Handbook 6.5.2.10): events and sizes summed;
//! means and SDs combined by the Handbook's formula, two arms at a time — N = N₁ + N₂,
//! M = (N₁M₁ + N₂M₂)/N, SD = √(((N₁ − 1)SD₁² + (N₂ − 1)SD₂² + N₁N₂/N·(M₁ − M₂)²)/(N − 1)).

use crate::values::{Parsed, Values};
use crate::OutcomeKind;
use metapipe_tables::sheet::Sheet;
use metapipe_tables::{Error, Result};

/// One group's numbers in an arm's row: (events, n, mean, sd).
type Group = (Option<i64>, Option<i64>, Option<f64>, Option<f64>);

fn group(v: &Values, treat: bool) -> Group {
    if treat {
        (v.et, v.nt, v.mt, v.sdt)
    } else {
        (v.ec, v.nc, v.mc, v.sdc)
    }
}

/// The rows of one (study, outcome), merged (a single row without `arm` as it is).
pub(crate) fn merge(
    sh: &Sheet,
    key: &(String, String),
    mut rows: Vec<Parsed>,
    kind: OutcomeKind,
) -> Result<Parsed> {
    let last = rows.last().map_or(0, |p| p.line);
    let err = |line: usize, field: &str, msg: String| {
        Error::data(msg).file(&sh.path).line(line).field(field)
    };
    if rows.len() == 1 && rows[0].arm.is_none() {
        return Ok(rows.remove(0));
    }
    if !matches!(kind, OutcomeKind::Binary | OutcomeKind::Continuous) {
        return Err(err(
            last,
            "arm",
            format!(
                "{} {}: arms are combined for binary and continuous outcomes only",
                key.0, key.1
            ),
        ));
    }
    let mut out = Values::empty();
    let mut notes: Vec<String> = vec![];
    for treat in [true, false] {
        let (acc, note) = merge_group(sh, &rows, treat, kind)?;
        notes.extend(note);
        if let Some((e, n, m, sd)) = acc {
            if treat {
                (out.et, out.nt, out.mt, out.sdt) = (e, n, m, sd);
            } else {
                (out.ec, out.nc, out.mc, out.sdc) = (e, n, m, sd);
            }
        }
    }
    let (given, lacking, what) = out.needs(kind);
    if let (true, Some(cell)) = (given, lacking) {
        return Err(err(
            last,
            cell,
            format!("{} {}: the arms' rows together need {what}", key.0, key.1),
        ));
    }
    for p in &rows {
        if let (Some(a), Some(d)) = (&p.arm, &p.derivation) {
            notes.push(format!("{a}: {d}"));
        }
    }
    let mut sources: Vec<String> = vec![];
    for s in rows.iter().filter_map(|p| p.source.clone()) {
        if !sources.contains(&s) {
            sources.push(s);
        }
    }
    let all_missing = rows.iter().all(|p| p.status == "missing");
    Ok(Parsed {
        line: rows[0].line,
        arm: None,
        status: if all_missing || !given {
            "missing".into()
        } else {
            "derived".into()
        },
        source: (!sources.is_empty()).then(|| sources.join("; ")),
        timepoint: rows[0].timepoint.clone(),
        evidence: rows[0].evidence.clone(),
        derivation: (!notes.is_empty()).then(|| notes.join("; ")),
        v: out,
    })
}

/// One group's numbers over the arms' rows that give them, combined; the note when more than
/// one arm was combined.
fn merge_group(
    sh: &Sheet,
    rows: &[Parsed],
    treat: bool,
    kind: OutcomeKind,
) -> Result<(Option<Group>, Option<String>)> {
    let name = if treat { "treat" } else { "ctrl" };
    let given: Vec<(&Parsed, Group)> = rows
        .iter()
        .map(|p| (p, group(&p.v, treat)))
        .filter(|(_, g)| g.0.is_some() || g.2.is_some() || g.3.is_some())
        .collect();
    let mut acc: Option<Group> = None;
    for (p, g) in &given {
        let need = |ok: bool, field: &str| {
            if ok {
                return Ok(());
            }
            Err(Error::data(format!(
                "an arm's row of a multi-arm trial gives its own {field}_{name}"
            ))
            .file(&sh.path)
            .line(p.line)
            .field(format!("{field}_{name}")))
        };
        need(g.1.is_some(), "n")?;
        if kind == OutcomeKind::Binary {
            need(g.0.is_some(), "events")?;
        } else {
            need(g.2.is_some(), "mean")?;
            need(g.3.is_some(), "sd")?;
        }
        acc = Some(match acc {
            None => *g,
            Some(a) => combine(a, *g),
        });
    }
    let note = (given.len() > 1).then(|| {
        let arms: Vec<&str> = given
            .iter()
            .map(|(p, _)| p.arm.as_deref().unwrap_or(""))
            .collect();
        format!(
            "{name}: arms {} combined (Handbook 6.5.2.10)",
            arms.join(" + ")
        )
    });
    Ok((acc, note))
}

/// Two arms as one (Handbook 6.5.2.10).
fn combine(a: Group, b: Group) -> Group {
    let sum = |x: Option<i64>, y: Option<i64>| Some(x? + y?);
    let n = sum(a.1, b.1);
    let (mean, sd) = match (a.1, a.2, a.3, b.1, b.2, b.3) {
        (Some(n1), Some(m1), Some(s1), Some(n2), Some(m2), Some(s2)) => {
            let (n1, n2) = (n1 as f64, n2 as f64);
            let nn = n1 + n2;
            let m = (n1 * m1 + n2 * m2) / nn;
            let var =
                ((n1 - 1.0) * s1 * s1 + (n2 - 1.0) * s2 * s2 + n1 * n2 / nn * (m1 - m2).powi(2))
                    / (nn - 1.0);
            (Some(m), Some(var.sqrt()))
        }
        _ => (None, None),
    };
    (sum(a.0, b.0), n, mean, sd)
}
