//! The report: every figure and table drawn from the stage tables into SVG files and one
//! self-contained `index.html` (figures inlined). No statistic is computed here.

mod figures;
mod forest;

pub use figures::*;
pub use forest::*;

use crate::svg::esc;
use metapipe_tables::{Result, Table};
use polars::prelude::*;

/// What the report is drawn from (the stage tables, as read back from Parquet).
pub struct ReportInput<'a> {
    pub title: &'a str,
    pub results: &'a Table,
    pub effects: &'a Table,
    pub outcome_data: &'a Table,
    pub prisma: Option<&'a Table>,
    pub rob: Option<&'a Table>,
    pub studies: &'a Table,
    pub audit: Option<&'a Table>,
    pub consistency: Option<&'a Table>,
    pub sensitivity: Option<&'a Table>,
    /// what moved since the previous results (a living review's rerun)
    pub changes: Option<&'a Table>,
    pub outcomes: Vec<OutcomeView>,
    pub treat_label: &'a str,
    pub ctrl_label: &'a str,
}

/// How the report draws one outcome.
#[derive(Debug, Clone)]
pub struct OutcomeView {
    pub id: String,
    pub label: String,
    /// the effect's name ("Odds Ratio", "Mean Difference", …)
    pub effect: String,
    /// the effect's abbreviation in axis labels ("OR", "MD"; "effect" for generic outcomes)
    pub short: String,
    /// ratios: log axes about 1
    pub log: bool,
    /// binary (events/total), continuous (mean (SD)/total) or generic (no per-arm cells)
    pub kind: Kind,
    /// the forest plot's axis labels (left, right)
    pub favours: (String, String),
    /// the model the protocol plans, in RevMan's short form ("M-H, Fixed"), shown when nothing
    /// was pooled
    pub planned_model: String,
    /// the outcome's confidence level as printed ("95%")
    pub level_pct: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Binary,
    Continuous,
    Generic,
}

pub(crate) fn s(t: &Table, c: &str, r: usize) -> Option<String> {
    t.str_at(c, r)
}

pub(crate) fn fl(t: &Table, c: &str, r: usize) -> Option<f64> {
    t.float(c).get(r)
}

pub(crate) fn it(t: &Table, c: &str, r: usize) -> Option<i64> {
    t.int(c).get(r)
}

pub(crate) fn table_html(t: &Table, cols: &[&str]) -> String {
    let mut h = String::from("<table>\n<thead><tr>");
    for c in cols {
        h.push_str(&format!("<th>{}</th>", esc(c)));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for r in 0..t.num_rows() {
        h.push_str("<tr>");
        for c in cols {
            let v = match t.df.column(c).map(|c| c.dtype().clone()) {
                Ok(DataType::Float64) => fl(t, c, r)
                    .map(|x| {
                        if x.abs() < 0.001 && x != 0.0 {
                            format!("{x:.2e}")
                        } else {
                            format!("{x:.3}")
                        }
                    })
                    .unwrap_or_default(),
                Ok(DataType::Int64) => it(t, c, r).map(|x| x.to_string()).unwrap_or_default(),
                Ok(DataType::Boolean) => t
                    .boolean(c)
                    .get(r)
                    .map(|x| x.to_string())
                    .unwrap_or_default(),
                Ok(_) => s(t, c, r).unwrap_or_default(),
                Err(_) => String::new(),
            };
            h.push_str(&format!("<td>{}</td>", esc(&v)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
    h
}

/// Build every report file: (file name, contents). `index.html` inlines the SVGs. A section
/// whose stage did not run (search and screening, RoB, consistency, audit) is left out.
pub fn build(inp: &ReportInput) -> Result<Vec<(String, String)>> {
    let mut files: Vec<(String, String, String)> = vec![];
    if let Some(p) = inp.prisma {
        files.push((
            "prisma.svg".into(),
            "PRISMA 2020 flow diagram".into(),
            prisma_svg(p),
        ));
    }
    files.extend(forests(inp)?);
    files.extend(funnels(inp));
    if let Some(rob) = inp.rob {
        let (traffic, summary) = rob_svgs(inp, rob);
        files.push((
            "rob_traffic_light.svg".into(),
            "Risk of bias: traffic-light plot".into(),
            traffic,
        ));
        files.push((
            "rob_summary.svg".into(),
            "Risk of bias: summary".into(),
            summary,
        ));
    }
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    html.push_str(&format!("<title>{}</title>\n", esc(inp.title)));
    html.push_str("<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;max-width:1100px}table{border-collapse:collapse;font-size:12px;margin:8px 0 24px}td,th{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}th{background:#eef3f8}figure{margin:16px 0 32px}figcaption{font-weight:bold;margin-bottom:6px}.note{color:#555;font-size:13px}</style>\n</head>\n<body>\n");
    html.push_str(&format!("<h1>{}</h1>\n", esc(inp.title)));
    html.push_str("<p class=\"note\">Generated by metapipe from the stage tables of this run. Every number is computed from record- or study-level input; published figures appear only in the audit. Outcomes whose studies lack data are not pooled; their rows say which studies lack data.</p>\n");
    let fig = |name: &str, cap: &str, svg: &str| {
        format!(
            "<figure id=\"{}\"><figcaption>{}</figcaption>\n{}</figure>\n",
            esc(name),
            esc(cap),
            svg
        )
    };
    let figures = |html: &mut String, heading: &str, prefix: &str| {
        let mine: Vec<&(String, String, String)> =
            files.iter().filter(|f| f.0.starts_with(prefix)).collect();
        if !mine.is_empty() {
            html.push_str(&format!("<h2>{heading}</h2>\n"));
            for (n, c, svg) in mine {
                html.push_str(&fig(n, c, svg));
            }
        }
    };
    figures(&mut html, "Study selection", "prisma");
    // a living review's open work
    if let Some(p) = inp.prisma {
        let count = |stage: &str| {
            (0..p.num_rows())
                .find(|&r| {
                    s(p, "stage", r).as_deref() == Some(stage) && s(p, "database", r).is_none()
                })
                .and_then(|r| it(p, "count", r))
        };
        let (ta, ft) = (
            count("records_awaiting_screening"),
            count("reports_awaiting_assessment"),
        );
        if ta.is_some() || ft.is_some() {
            html.push_str(&format!(
                "<p class=\"note\"><b>Awaiting decisions:</b> {} records await title/abstract screening and {} reports await full-text assessment (<code>to_screen.csv</code>, <code>to_screen.ris</code> for the screening app). The counts above are of the records decided so far.</p>\n",
                ta.unwrap_or(0),
                ft.unwrap_or(0)
            ));
        }
    }
    if let Some(c) = inp.changes {
        let moved: Vec<usize> = (0..c.num_rows())
            .filter(|&r| s(c, "change", r).as_deref() != Some("unchanged"))
            .collect();
        html.push_str("<h2>What changed since the previous version</h2>\n");
        html.push_str(&format!(
            "<p class=\"note\">{} of {} analyses changed (<code>changes.csv</code>; the previous results are in <code>previous_results.parquet</code>).</p>\n",
            moved.len(),
            c.num_rows()
        ));
        if !moved.is_empty() {
            let t = Table::new(
                c.schema,
                c.df.take(&IdxCa::from_vec(
                    "idx".into(),
                    moved.iter().map(|&r| r as IdxSize).collect(),
                ))?,
            )?;
            html.push_str(&table_html(
                &t,
                &[
                    "outcome",
                    "subgroup",
                    "model_type",
                    "change",
                    "studies_added",
                    "studies_removed",
                    "estimate_before",
                    "estimate_after",
                    "ci_lb_before",
                    "ci_lb_after",
                    "ci_ub_before",
                    "ci_ub_after",
                    "I2_before",
                    "I2_after",
                    "flags",
                ],
            ));
        }
    }
    html.push_str("<h2>Results</h2>\n");
    html.push_str(&table_html(
        inp.results,
        &[
            "outcome",
            "subgroup",
            "k",
            "events_treat",
            "n_treat",
            "events_ctrl",
            "n_ctrl",
            "model",
            "estimate",
            "ci_lb",
            "ci_ub",
            "p",
            "I2",
            "tau2",
            "note",
        ],
    ));
    figures(&mut html, "Forest plots", "forest_");
    if let Some(t) = inp.sensitivity {
        html.push_str("<h2>Sensitivity and small-study analyses</h2>\n<p class=\"note\">Leave-one-out, cumulative and risk-of-bias analyses refit each outcome's own model; Egger's test, trim-and-fill and meta-regression are inverse-variance analyses of the per-study effects.</p>\n");
        html.push_str(&table_html(
            t,
            &[
                "outcome", "analysis", "step", "k", "estimate", "ci_lb", "ci_ub", "p", "I2",
                "tau2", "scale", "note",
            ],
        ));
    }
    figures(&mut html, "Funnel plots", "funnel_");
    figures(&mut html, "Risk of bias", "rob_");
    if let Some(c) = inp.consistency {
        html.push_str("<h2>Are the published pooled results consistent with the sourced data?</h2>\n<p class=\"note\">Completions of the missing per-arm counts that reproduce every printed figure (OR, CI, I²) under RevMan 5's rules. They describe what the published numbers imply; they are not data and are never pooled.</p>\n");
        html.push_str(&table_html(
            c,
            &[
                "outcome",
                "subgroup",
                "published",
                "studies_assumed",
                "missing_cells",
                "consistent_completions",
                "status",
                "note",
            ],
        ));
    }
    if let Some(a) = inp.audit {
        html.push_str("<h2>Audit: published figures against recomputed ones</h2>\n");
        html.push_str(&table_html(
            a,
            &["item", "published", "recomputed", "status", "why"],
        ));
    }
    html.push_str("</body>\n</html>\n");
    let mut out: Vec<(String, String)> = files.into_iter().map(|(n, _, svg)| (n, svg)).collect();
    out.push(("index.html".into(), html));
    Ok(out)
}
