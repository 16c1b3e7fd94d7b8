//! The consistency stage: for each published pooled result and a stated set of studies, search
//! the completions of the missing per-arm counts that reproduce every printed figure
//! (`metapipe_meta::consistency`). Completions describe what the published numbers imply; they
//! are never data and never reach the results.

use crate::audit::{parse_or, AuditRow};
use metapipe_meta::consistency::{search, Arm2, Printed};
use metapipe_meta::Binary;
use metapipe_tables::schema::CONSISTENCY;
use metapipe_tables::{i, s, so, Builder, Result, Table};

/// One check: a published item, the outcome and the studies it is assumed to pool.
#[derive(Debug, Clone)]
pub struct Check {
    pub outcome: String,
    pub subgroup: Option<String>,
    /// the item in published.csv (e.g. "mortality OR, subgroup A")
    pub published_item: String,
    pub studies: Vec<String>,
    /// where the study set comes from
    pub basis: String,
    pub max_nodes: u64,
}

/// (study, outcome, events_treat, n_treat, events_ctrl, n_ctrl)
pub type Row = (String, String, Option<i64>, i64, Option<i64>, i64);

#[derive(Debug, Clone)]
pub struct Found {
    pub check: Check,
    pub published: String,
    pub missing_cells: usize,
    pub completions: Option<u64>,
    pub status: &'static str,
    pub note: String,
}

/// Run every check (`published` gives each item's printed value).
pub fn run(checks: &[Check], rows: &[Row], published: &[(String, String)]) -> Vec<Found> {
    checks
        .iter()
        .map(|c| {
            let value = published.iter().find(|(k, _)| *k == c.published_item).map(|(_, v)| v.clone()).unwrap_or_default();
            let mut studies = vec![];
            let mut missing_names = vec![];
            for id in &c.studies {
                match rows.iter().find(|r| r.0 == *id && r.1 == c.outcome) {
                    Some((_, _, Some(a), n1, Some(cc), n2)) => studies.push(Arm2::Known(Binary::new(*a as f64, *n1 as f64, *cc as f64, *n2 as f64))),
                    Some((_, _, _, n1, _, n2)) => {
                        studies.push(Arm2::Missing(*n1 as u32, *n2 as u32));
                        missing_names.push(id.clone());
                    }
                    None => missing_names.push(format!("{id} (no row)")),
                }
            }
            let base = Found { check: c.clone(), published: value.clone(), missing_cells: 2 * missing_names.len(), completions: None, status: "not checked", note: String::new() };
            let Some((or, lb, ub, Some(i2))) = parse_or(&value) else {
                return Found { note: format!("published value {value:?} not parseable"), ..base };
            };
            if studies.len() != c.studies.len() {
                return Found { note: format!("no arm sizes for {}", missing_names.join(", ")), ..base };
            }
            let p = Printed { or, lb, ub, dp: 2, i2 };
            let out = search(&studies, &p, c.max_nodes);
            let ranges: Vec<String> = missing_names
                .iter()
                .zip(&out.ranges)
                .map(|(n, r)| match r {
                    Some((a0, a1, c0, c1)) => format!("{n}: events {a0}-{a1} vs {c0}-{c1}"),
                    None => format!("{n}: none"),
                })
                .collect();
            let (status, note) = match (out.complete, out.completions) {
                (true, 0) => {
                    ("inconsistent", format!("no whole-number completion of the {} missing cells reproduces OR, CI and I² under RevMan rules; searched {} nodes", 2 * missing_names.len(), out.nodes))
                }
                (true, n) => ("consistent", format!("{n} completions reproduce every printed figure ({} model); ranges over them: {}", out.model.unwrap_or("?"), ranges.join("; "))),
                (false, 0) => ("not checked", format!("search stopped at the node budget ({}) before finding a completion", c.max_nodes)),
                (false, n) => (
                    "consistent",
                    format!("at least {n} completions reproduce every printed figure (search stopped at the node budget of {}); ranges over those found: {}", c.max_nodes, ranges.join("; ")),
                ),
            };
            let completions = if out.complete || out.completions > 0 { Some(out.completions) } else { None };
            Found { completions, status, note: format!("{note}. Study set: {}", c.basis), ..base }
        })
        .collect()
}

pub fn table(found: &[Found]) -> Result<Table> {
    let mut t = Builder::new(&CONSISTENCY);
    for f in found {
        t.row(vec![
            s(&f.check.outcome),
            so(f.check.subgroup.clone()),
            s(format!("{} = {}", f.check.published_item, f.published)),
            s(f.check.studies.join(";")),
            i(f.missing_cells as i64),
            i(f.completions.map(|n| n as i64)),
            s(f.status),
            s(&f.note),
        ]);
    }
    t.finish()
}

/// Audit rows for the consistency checks.
pub fn audit_rows(found: &[Found]) -> Vec<AuditRow> {
    found
        .iter()
        .map(|f| AuditRow {
            item: format!(
                "{}: consistent with the sourced data? ({})",
                f.check.published_item, f.check.basis
            ),
            published: f.published.clone(),
            recomputed: f.completions.map(|n| format!("{n} completions")),
            status: match f.status {
                "consistent" => "match",
                "inconsistent" => "mismatch",
                _ => "not computable",
            },
            why: f.note.clone(),
        })
        .collect()
}
