//! The outcome sheet.

use crate::values::{Parsed, Values};
use crate::{OutcomeKind, Spec};
use metapipe_tables::io::Input;
use metapipe_tables::schema::OUTCOME_DATA;
use metapipe_tables::sheet::{Row, Sheet};
use metapipe_tables::{Builder, Result, Table};
use std::collections::BTreeMap;

/// Read the outcome sheet. `status` (reported, derived, missing) is optional: without it a row
/// with data is reported and a row without is missing; a row marked reported or derived needs
/// its source (`source` or `source_url`). Binary denominators default to the studies' arm sizes.
pub(crate) fn read_outcomes(input: &Input, studies: &Table, spec: &Spec) -> Result<Table> {
    let sh = Sheet::parse(input, &["study_id", "outcome"])?;
    let src_col = if sh.has("source") {
        "source"
    } else {
        "source_url"
    };
    // each (study, outcome) once, or once per arm of a multi-arm trial (merged below)
    let mut groups: Vec<Vec<Parsed>> = vec![];
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in sh.rows() {
        let ((sid, outcome), p) = parse_row(&r, studies, spec, src_col)?;
        match seen.get(&(sid.clone(), outcome.clone())) {
            None => {
                seen.insert((sid.clone(), outcome.clone()), groups.len());
                groups.push(vec![p]);
            }
            Some(&g) => {
                let first = &groups[g][0];
                if first.arm.is_none()
                    || p.arm.is_none()
                    || groups[g].iter().any(|q| q.arm == p.arm)
                {
                    return Err(r.err(
                        if p.arm.is_some() { "arm" } else { "outcome" },
                        format!(
                            "{sid} {outcome} already given on line {} (a multi-arm trial gives each arm's row a distinct arm)",
                            first.line
                        ),
                    ));
                }
                groups[g].push(p);
            }
        }
    }
    let mut t = Builder::new(&OUTCOME_DATA);
    for (key, g) in seen_in_order(&seen) {
        let kind = spec
            .outcomes
            .iter()
            .find(|(id, _)| *id == key.1)
            .map(|(_, k)| *k)
            .unwrap_or(OutcomeKind::Generic);
        let p = crate::multiarm::merge(&sh, &key, std::mem::take(&mut groups[g]), kind)?;
        t.row(p.cells(&key));
    }
    t.finish()
}

/// One row of the outcome sheet, read, converted and checked: its (study, outcome) and numbers.
fn parse_row(
    r: &Row,
    studies: &Table,
    spec: &Spec,
    src_col: &str,
) -> Result<((String, String), Parsed)> {
    let ids = studies.str("study_id");
    let (snt, snc) = (studies.int("n_treat"), studies.int("n_ctrl"));
    let sid = r.req("study_id")?.to_string();
    let row = ids
        .iter()
        .position(|x| x == Some(sid.as_str()))
        .ok_or_else(|| {
            r.err(
                "study_id",
                format!("unknown study {sid:?} (not in the studies sheet)"),
            )
        })?;
    let outcome = r.req("outcome")?.to_string();
    let Some((_, kind)) = spec.outcomes.iter().find(|(id, _)| *id == outcome) else {
        return Err(r.err(
            "outcome",
            format!("outcome {outcome:?} is not in the pipeline's outcomes"),
        ));
    };
    // an arm's row gives its own sizes (the studies sheet's are the trial's)
    let arm = r.get("arm").map(str::to_string);
    let (dt, dc) = if arm.is_some() {
        (None, None)
    } else {
        (snt.get(row), snc.get(row))
    };
    let mut v = Values::read(r, dt, dc)?;
    let derivation = v.derive(r, spec)?;
    v.check(r)?;
    let p = Parsed {
        line: r.line,
        arm,
        status: match &arm_or_none(r) {
            // an arm's row alone need not be complete: the merged row is checked
            Some(_) => r.get("status").unwrap_or("").to_string(),
            None => status(r, &v, *kind, src_col, derivation.is_some())?,
        },
        source: r.get(src_col).map(str::to_string),
        timepoint: r.get("timepoint").map(str::to_string),
        evidence: r.get("evidence").map(str::to_string),
        derivation,
        v,
    };
    Ok(((sid, outcome), p))
}

/// The sheet's `arm` of a row, if any.
fn arm_or_none(r: &Row) -> Option<String> {
    r.get("arm").map(str::to_string)
}

/// The groups of `seen` in the order of their first row.
fn seen_in_order(seen: &BTreeMap<(String, String), usize>) -> Vec<((String, String), usize)> {
    let mut v: Vec<_> = seen.iter().map(|(k, g)| (k.clone(), *g)).collect();
    v.sort_by_key(|(_, g)| *g);
    v
}

/// The row's status (reported, derived or missing; from its data when not given), checked
/// against its data and source.
fn status(r: &Row, v: &Values, kind: OutcomeKind, src_col: &str, derived: bool) -> Result<String> {
    let (given, lacking, what) = v.needs(kind);
    let status = match r.get("status") {
        Some("reported") if derived => {
            return Err(r.err(
                "status",
                "reported, but numbers of this row were derived from the statistics it reports (see derivation): write derived, or leave status empty",
            ))
        }
        Some(v) => v.to_string(),
        None if derived => "derived".into(),
        None if given => "reported".into(),
        None => "missing".into(),
    };
    match status.as_str() {
        "reported" | "derived" => {
            if let Some(cell) = lacking {
                return Err(r.err(
                    cell,
                    format!("required value is empty: a {status} row of this outcome needs {what}"),
                ));
            }
            if r.get("status").is_some() && r.get(src_col).is_none() {
                return Err(r.err(src_col, format!("a {status} number needs its source")));
            }
        }
        "missing" => {
            if given {
                return Err(r.err("status", "status missing but data are given"));
            }
        }
        other => {
            return Err(r.err(
                "status",
                format!("{other:?}: expected reported, derived or missing"),
            ))
        }
    }
    Ok(status)
}
