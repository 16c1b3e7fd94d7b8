//! The other figures from the stage tables: funnel plots, the PRISMA diagram, the RoB 2 plots.

use super::*;
use crate::svg::{self, PrismaCounts};
use metapipe_tables::Table;

/// Funnel plots for the outcomes with at least one study estimate.
pub fn funnels(inp: &ReportInput) -> Vec<(String, String, String)> {
    let eff = inp.effects;
    let res = inp.results;
    let mut out = vec![];
    for o in &inp.outcomes {
        let id = o.id.as_str();
        let pts: Vec<(String, f64, f64)> = (0..eff.num_rows())
            .filter(|&k| {
                s(eff, "outcome", k).as_deref() == Some(id) && s(eff, "subgroup", k).is_none()
            })
            .filter_map(|k| {
                Some((
                    study_label(inp, &s(eff, "study_id", k)?),
                    fl(eff, "estimate", k)?,
                    fl(eff, "vi", k)?.sqrt(),
                ))
            })
            .collect();
        if pts.is_empty() {
            continue;
        }
        let pooled = result_row(res, id, None).and_then(|r| fl(res, "estimate", r));
        let mut note = String::new();
        if pooled.is_none() {
            note.push_str("No pooled estimate, so no pseudo 95% confidence limits. ");
        }
        if pts.len() < 10 {
            note.push_str(&format!(
                "{} studies: too few for Egger's test (needs at least 10 by convention).",
                pts.len()
            ));
        } else if let Some((t, r)) = inp.sensitivity.and_then(|t| {
            (0..t.num_rows())
                .find(|&r| {
                    t.str("outcome").get(r) == Some(id) && t.str("analysis").get(r) == Some("egger")
                })
                .map(|r| (t, r))
        }) {
            match t.float("p").get(r) {
                Some(p) => note.push_str(&format!(
                    "Egger's test for funnel-plot asymmetry: {} (sensitivity table).",
                    fmt_p(p)
                )),
                None => note.push_str(&format!(
                    "Egger's test: {}.",
                    t.str("note").get(r).unwrap_or_default()
                )),
            }
        }
        // an axis label in sentence case ("Odds Ratio" on the forest plot, "Odds ratio" here)
        let mut words = o.effect.split(' ');
        let effect = words
            .next()
            .into_iter()
            .map(String::from)
            .chain(words.map(str::to_lowercase))
            .collect::<Vec<_>>()
            .join(" ");
        out.push((
            format!("funnel_{id}.svg"),
            format!("Funnel plot: {}", o.label),
            svg::funnel(
                &format!("{}: funnel plot", o.label),
                &pts,
                pooled,
                Some(note.trim_end()).filter(|n| !n.is_empty()),
                &effect,
                o.log,
                &o.short,
            ),
        ));
    }
    out
}

pub fn prisma_svg(p: &Table) -> String {
    let find = |stage: &str| {
        known_stage(stage);
        (0..p.num_rows())
            .find(|&r| s(p, "stage", r).as_deref() == Some(stage) && s(p, "database", r).is_none())
            .and_then(|r| it(p, "count", r))
    };
    let get = |stage: &str| find(stage).unwrap_or(0);
    // reports sought: as counted, else (typed counts without it) those assessed and not retrieved
    let sought = |prefix: &str| {
        find(&format!("{prefix}reports_sought")).unwrap_or_else(|| {
            get(&format!("{prefix}full_text_assessed"))
                + get(&format!("{prefix}reports_not_retrieved"))
        })
    };
    let rows_of = |stage: &str| {
        known_stage(stage);
        (0..p.num_rows())
            .filter(|&r| s(p, "stage", r).as_deref() == Some(stage))
            .filter_map(|r| Some((s(p, "database", r)?, it(p, "count", r)?)))
            .collect::<Vec<_>>()
    };
    // an updated review (more than one search round): the new round's flow, the previous
    // version's studies and the total, as the PRISMA 2020 template for updated reviews draws it
    if get("update_round") > 1 {
        return svg::prisma(&PrismaCounts {
            identified: get("update_records_identified"),
            per_database: vec![],
            duplicates: get("update_duplicates_removed"),
            screened: get("update_records_screened"),
            awaiting: get("update_records_awaiting_screening"),
            excluded_ta: get("update_excluded_title_abstract"),
            sought: sought("update_"),
            not_retrieved: get("update_reports_not_retrieved"),
            full_text: get("update_full_text_assessed"),
            excluded_ft: get("update_excluded_full_text"),
            reasons: rows_of("update_excluded_full_text_reason"),
            included: get("update_new_studies_included"),
            update: Some(svg::PrismaUpdate {
                previous_studies: get("update_previous_studies"),
                previous_reports: get("update_previous_reports"),
                new_reports: get("update_new_reports_included"),
                total_studies: get("update_total_studies_included"),
                total_reports: get("update_total_reports_included"),
            }),
        });
    }
    svg::prisma(&PrismaCounts {
        identified: get("records_identified"),
        per_database: rows_of("records_identified"),
        duplicates: get("duplicates_removed"),
        screened: get("records_screened"),
        awaiting: get("records_awaiting_screening"),
        excluded_ta: get("excluded_title_abstract"),
        sought: sought(""),
        not_retrieved: get("reports_not_retrieved"),
        full_text: get("full_text_assessed"),
        excluded_ft: get("excluded_full_text"),
        reasons: rows_of("excluded_full_text_reason"),
        included: get("studies_included"),
        update: None,
    })
}

/// RoB 2's columns: the five domains, then the overall judgment.
pub(crate) const ROB_COLS: [&str; 6] = ["D1", "D2", "D3", "D4", "D5", "overall"];

/// The judgment of `domain` for `study`'s result of `outcome` (None: the study's judgment of all
/// its results), if the answers gave one.
pub(crate) fn rob_judgment(
    rob: &Table,
    study: &str,
    outcome: Option<&str>,
    domain: &str,
) -> Option<String> {
    (0..rob.num_rows())
        .find(|&r| {
            s(rob, "study_id", r).as_deref() == Some(study)
                && s(rob, "outcome", r).as_deref() == outcome
                && s(rob, "domain", r).as_deref() == Some(domain)
        })
        .and_then(|r| s(rob, "judgment", r))
}

/// Every judged result in the table's order — (study, outcome; None for all the study's
/// results) — with its judgment per column of [`ROB_COLS`] ("" where none).
pub(crate) fn rob_results(rob: &Table) -> Vec<((String, Option<String>), Vec<String>)> {
    let mut order: Vec<(String, Option<String>)> = vec![];
    for r in 0..rob.num_rows() {
        let key = (
            s(rob, "study_id", r).unwrap_or_default(),
            s(rob, "outcome", r),
        );
        if !order.contains(&key) {
            order.push(key);
        }
    }
    order
        .into_iter()
        .map(|key| {
            let js = ROB_COLS
                .iter()
                .map(|d| rob_judgment(rob, &key.0, key.1.as_deref(), d).unwrap_or_default())
                .collect();
            (key, js)
        })
        .collect()
}

/// The RoB 2 traffic-light and summary plots: a row per study, and per result where the
/// answers judged one outcome's result apart ("Study (outcome)").
pub fn rob_svgs(inp: &ReportInput, rob: &Table) -> (String, String) {
    let results = rob_results(rob);
    let rows: Vec<(String, Vec<String>)> = results
        .iter()
        .map(|((study, outcome), js)| {
            let label = match outcome {
                None => study_label(inp, study),
                Some(o) => format!("{} ({o})", study_label(inp, study)),
            };
            (label, js.clone())
        })
        .collect();
    let names = [
        "Randomization process",
        "Deviations from intended interventions",
        "Missing outcome data",
        "Measurement of the outcome",
        "Selection of the reported result",
        "Overall risk of bias",
    ];
    let domains: Vec<(String, [f64; 3])> = names
        .iter()
        .enumerate()
        .map(|(k, n)| {
            let frac = |j: &str| {
                let hits = results.iter().filter(|(_, js)| js[k] == j).count();
                hits as f64 / results.len().max(1) as f64
            };
            (
                n.to_string(),
                [frac("low"), frac("some concerns"), frac("high")],
            )
        })
        .collect();
    (svg::rob_traffic(&rows), svg::rob_summary(&domains, false))
}

/// A stage the report looks up is one the `prisma` table may hold (a misspelt name would read
/// as a count of 0).
pub(crate) fn known_stage(stage: &str) {
    assert!(
        metapipe_tables::schema::PRISMA_STAGES.contains(&stage),
        "{stage:?} is not a PRISMA stage of the schema"
    );
}
