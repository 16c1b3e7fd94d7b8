//! The arms sheet and factorial margins.

use metapipe_tables::io::Input;
use metapipe_tables::schema::ARMS;
use metapipe_tables::sheet::Sheet;
use metapipe_tables::{i, pe, s, so, Builder, Result, Table};
use polars::prelude::*;

/// Arms in long form: one row per (arm, factor) with the arm's level on that factor.
pub(crate) struct ArmRow {
    study_id: String,
    arm: String,
    n: i64,
    factors: Vec<(String, String)>,
    source: Option<String>,
}

/// Margins of factorial trials along every factor, in polars: for each (study, factor), the
/// arms whose level is not "none" (treat) against the arms whose level is "none" (ctrl).
/// Columns: study_id, factor, treat, ctrl, treat_arms, ctrl_arms (arm names joined by " + ").
pub fn factor_margins(arms: &Table) -> Result<DataFrame> {
    // one row per (arm, factor): the arm's `factors` cell "f=level; g=level" split
    let (mut study, mut factor, mut level, mut arm, mut n) =
        (vec![], vec![], vec![], vec![], vec![]);
    for r in 0..arms.num_rows() {
        let (Some(id), Some(name), Some(fs), Some(size)) = (
            arms.str("study_id").get(r),
            arms.str("arm").get(r),
            arms.str("factors").get(r),
            arms.int("n").get(r),
        ) else {
            continue;
        };
        for part in fs.split("; ") {
            let mut kv = part.split('=');
            study.push(id);
            arm.push(name);
            n.push(size);
            factor.push(kv.next().unwrap_or(""));
            level.push(kv.next());
        }
    }
    let long = DataFrame::new(
        study.len(),
        vec![
            Column::new("study_id".into(), &study),
            Column::new("factor".into(), &factor),
        ],
    )?;
    let (mut g_study, mut g_factor, mut treat, mut ctrl, mut treat_arms, mut ctrl_arms) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (level, arm, n) = (&level, &arm, &n);
    for rows in metapipe_tables::frame::groups(&long, &["study_id", "factor"])?.iter() {
        let rows: Vec<usize> = rows.iter().map(|&r| r as usize).collect();
        // an arm without a level for the factor is on neither side
        let side = |none: bool| {
            rows.iter()
                .filter(move |&&r| level[r].map(|l| (l == "none") == none).unwrap_or(false))
        };
        g_study.push(study[rows[0]]);
        g_factor.push(factor[rows[0]]);
        treat.push(side(false).map(|&r| n[r]).sum::<i64>());
        ctrl.push(side(true).map(|&r| n[r]).sum::<i64>());
        treat_arms.push(side(false).map(|&r| arm[r]).collect::<Vec<_>>().join(" + "));
        ctrl_arms.push(side(true).map(|&r| arm[r]).collect::<Vec<_>>().join(" + "));
    }
    let col = |name: &str, v: &[&str]| Column::new(name.into(), v);
    DataFrame::new(
        g_study.len(),
        vec![
            col("study_id", &g_study),
            col("factor", &g_factor),
            Column::new("treat".into(), treat),
            Column::new("ctrl".into(), ctrl),
            Column::new("treat_arms".into(), treat_arms),
            Column::new("ctrl_arms".into(), ctrl_arms),
        ],
    )
    .map_err(pe)
}

pub(crate) fn read_arms(input: &Input, factor: &str) -> Result<Vec<ArmRow>> {
    let sa = Sheet::parse(input, &["study_id", "arm", "n", factor])?;
    let factor_cols: Vec<String> = sa
        .headers
        .iter()
        .filter(|h| !["study_id", "arm", "n", "source"].contains(&h.as_str()))
        .cloned()
        .collect();
    let mut out = vec![];
    for r in sa.rows() {
        let n = r
            .count("n")?
            .ok_or_else(|| r.err("n", "required value is empty"))?;
        let factors = factor_cols
            .iter()
            .map(|fc| Ok((fc.clone(), r.req(fc)?.to_string())))
            .collect::<Result<Vec<_>>>()?;
        out.push(ArmRow {
            study_id: r.req("study_id")?.into(),
            arm: r.req("arm")?.into(),
            n,
            factors,
            source: r.get("source").map(String::from),
        });
    }
    Ok(out)
}

pub(crate) fn arms_table(arms: &[ArmRow], factor: &str) -> Result<Table> {
    let mut t = Builder::new(&ARMS);
    for a in arms {
        let in_treat = a.factors.iter().any(|(f, v)| f == factor && v != "none");
        let factors = a
            .factors
            .iter()
            .map(|(f, v)| format!("{f}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        t.row(vec![
            s(&a.study_id),
            s(&a.arm),
            s(if in_treat { "treat" } else { "ctrl" }),
            s(factors),
            i(a.n),
            so(a.source.clone()),
        ]);
    }
    t.finish()
}
