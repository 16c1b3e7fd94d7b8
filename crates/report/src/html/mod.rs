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
    /// the Summary of findings (`sof::sof_table`)
    pub sof: Option<&'a Table>,
    /// the PRISMA 2020 checklist (`checklist::checklist`)
    pub checklist: Option<&'a Table>,
    /// what moved since the previous results (a living review's rerun)
    pub changes: Option<&'a Table>,
    /// where title/abstract screening stands by the stopping rule (`screening_progress`)
    pub progress: Option<&'a Table>,
    /// dual extraction: the cells where the two extractors disagree, and their agreement per
    /// column
    pub extraction: Option<(&'a Table, &'a Table)>,
    pub outcomes: Vec<OutcomeView>,
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
    pub kind: OutcomeKind,
    /// the forest plot's axis labels (left, right)
    pub favours: (String, String),
    /// the compared groups (experimental, control), as the forest plot heads the arms
    pub groups: (String, String),
    /// the model the protocol plans, in RevMan's short form ("M-H, Fixed"), shown when nothing
    /// was pooled
    pub planned_model: String,
    /// the outcome's confidence level as printed ("95%")
    pub level_pct: String,
}

pub use metapipe_tables::schema::OutcomeKind;

impl ReportInput<'_> {
    /// The groups an outcome compares (its own, else the review's), as the tables name them.
    pub(crate) fn groups(&self, outcome: &str) -> (&str, &str) {
        self.outcomes
            .iter()
            .find(|o| o.id == outcome)
            .map(|o| (o.groups.0.as_str(), o.groups.1.as_str()))
            .unwrap_or(("Intervention", "Control"))
    }
}

/// The columns of a table that hold at least one value (a studies table's unused fixed columns
/// left out).
pub(crate) fn filled_columns(t: &Table) -> Vec<&Column> {
    t.df.columns()
        .iter()
        .filter(|c| c.null_count() < c.len())
        .collect()
}

pub(crate) use crate::cells::{fl, it, s};

pub(crate) fn table_html(t: &Table, cols: &[&str]) -> String {
    table_html_with(t, cols, computed_number)
}

/// A computed number (an estimate, a weight): three decimals, or in scientific notation with
/// two decimals (8.91e-31) when below 0.001.
fn computed_number(x: f64) -> String {
    if x.abs() < 0.001 && x != 0.0 {
        format!("{x:.2e}")
    } else {
        format!("{x:.3}")
    }
}

/// As [`table_html`], numbers written by `number`.
fn table_html_with(t: &Table, cols: &[&str], number: fn(f64) -> String) -> String {
    let mut h = String::from("<table>\n<thead><tr>");
    for c in cols {
        h.push_str(&format!("<th>{}</th>", esc(c)));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for r in 0..t.num_rows() {
        h.push_str("<tr>");
        for c in cols {
            let v = match t.df.column(c).map(|c| c.dtype().clone()) {
                Ok(DataType::Float64) => fl(t, c, r).map(number).unwrap_or_default(),
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
    let files = figure_files(inp)?;
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    html.push_str(&format!("<title>{}</title>\n", esc(inp.title)));
    html.push_str("<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;max-width:1100px}table{border-collapse:collapse;font-size:12px;margin:8px 0 24px}td,th{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}th{background:#eef3f8}figure{margin:16px 0 32px}figcaption{font-weight:bold;margin-bottom:6px}.note{color:#555;font-size:13px}</style>\n</head>\n<body>\n");
    html.push_str(&format!("<h1>{}</h1>\n", esc(inp.title)));
    html.push_str("<p class=\"note\">Generated by metapipe from the stage tables of this run. Every number is computed from record- or study-level input; published figures appear only in the audit. Outcomes whose studies lack data are not pooled; their rows say which studies lack data.</p>\n");
    figures(&mut html, &files, "Study selection", "prisma");
    if let Some(p) = inp.prisma {
        awaiting(&mut html, p);
    }
    if let Some(t) = inp.progress {
        progress(&mut html, t);
    }
    if let Some(c) = inp.changes {
        changes(&mut html, c)?;
    }
    characteristics(&mut html, inp.studies);
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
    if let Some(t) = inp.sof {
        sof_section(&mut html, inp, t);
    }
    if let Some((conflicts, agreement)) = inp.extraction {
        html.push_str(&format!("<h2>Dual extraction</h2>\n<p class=\"note\">Two extractors' sheets compared cell by cell: {} cells disagree (the analyses use the consensus sheets). Agreement per sheet and column:</p>\n", conflicts.num_rows()));
        html.push_str(&table_html(
            agreement,
            &["sheet", "column", "cells", "agreeing", "agreement"],
        ));
        if conflicts.num_rows() > 0 {
            html.push_str(&table_html(
                conflicts,
                &[
                    "sheet", "study_id", "outcome", "arm", "column", "value_a", "value_b",
                    "line_a", "line_b",
                ],
            ));
        }
    }
    figures(&mut html, &files, "Forest plots", "forest_");
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
    figures(&mut html, &files, "Funnel plots", "funnel_");
    figures(&mut html, &files, "Risk of bias", "rob_");
    closing_sections(&mut html, inp);
    html.push_str("</body>\n</html>\n");
    let mut out: Vec<(String, String)> = files.into_iter().map(|(n, _, svg)| (n, svg)).collect();
    out.push(("index.html".into(), html));
    Ok(out)
}

/// Every figure: (file name, caption, SVG).
pub(crate) fn figure_files(inp: &ReportInput) -> Result<Vec<(String, String, String)>> {
    let mut files: Vec<(String, String, String)> = vec![];
    if let Some(p) = inp.prisma {
        let caption = "PRISMA 2020 flow diagram";
        files.push(("prisma.svg".into(), caption.into(), prisma_svg(p)));
    }
    files.extend(forests(inp)?);
    files.extend(funnels(inp));
    if let Some(rob) = inp.rob {
        let (traffic, summary) = rob_svgs(inp, rob);
        let caption = "Risk of bias: traffic-light plot";
        files.push(("rob_traffic_light.svg".into(), caption.into(), traffic));
        let caption = "Risk of bias: summary";
        files.push(("rob_summary.svg".into(), caption.into(), summary));
    }
    Ok(files)
}

/// The figures whose file names start with `prefix`, under a heading (nothing when none).
fn figures(html: &mut String, files: &[(String, String, String)], heading: &str, prefix: &str) {
    let mine: Vec<&(String, String, String)> =
        files.iter().filter(|f| f.0.starts_with(prefix)).collect();
    if !mine.is_empty() {
        html.push_str(&format!("<h2>{heading}</h2>\n"));
        for (n, c, svg) in mine {
            html.push_str(&format!(
                "<figure id=\"{}\"><figcaption>{}</figcaption>\n{}</figure>\n",
                esc(n),
                esc(c),
                svg
            ));
        }
    }
}

/// Where title/abstract screening stands by the stopping rule, while records await it.
fn progress(html: &mut String, t: &Table) {
    if it(t, "awaiting", 0).is_none_or(|n| n <= 0) {
        return;
    }
    html.push_str(&format!(
        "<p class=\"note\"><b>When to stop (Callaghan &amp; Müller-Hansen 2020):</b> {} of {} records screened, {} included at title/abstract; recall reached with {:.0}% confidence ≥ {:.3} (target {:.0}%): {} (<code>screening_progress.csv</code>, docs/screening.md).</p>\n",
        it(t, "screened", 0).unwrap_or(0),
        it(t, "records", 0).unwrap_or(0),
        it(t, "relevant_found", 0).unwrap_or(0),
        fl(t, "confidence", 0).unwrap_or(0.0) * 100.0,
        fl(t, "recall_lower_bound", 0).unwrap_or(0.0),
        fl(t, "recall_target", 0).unwrap_or(0.0) * 100.0,
        esc(&s(t, "note", 0).unwrap_or_default())
    ));
}

/// A living review's open work: the records and reports awaiting a decision.
fn awaiting(html: &mut String, p: &Table) {
    let count = |stage: &str| {
        figures::known_stage(stage);
        (0..p.num_rows())
            .find(|&r| s(p, "stage", r).as_deref() == Some(stage) && s(p, "database", r).is_none())
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

/// What changed since the previous version: the count, and the analyses that changed.
fn changes(html: &mut String, c: &Table) -> Result<()> {
    let moved: Vec<usize> = (0..c.num_rows())
        .filter(|&r| s(c, "change", r).as_deref() != Some("unchanged"))
        .collect();
    html.push_str("<h2>What changed since the previous version</h2>\n");
    html.push_str(&format!(
        "<p class=\"note\">{} of {} analyses changed (<code>changes.csv</code>; the previous results are in <code>previous_results.parquet</code>).</p>\n",
        moved.len(),
        c.num_rows()
    ));
    if moved.is_empty() {
        return Ok(());
    }
    let rows = IdxCa::from_vec("idx".into(), moved.iter().map(|&r| r as IdxSize).collect());
    let t = Table::new(c.schema, c.df.take(&rows)?)?;
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
    Ok(())
}

/// The Summary of findings, as GRADEpro lays it out, with the suggestion and the flags beside
/// the team's judgment.
fn sof_section(html: &mut String, inp: &ReportInput, t: &Table) {
    if t.num_rows() == 0 {
        return;
    }
    html.push_str("<h2>Summary of findings</h2>\n<p class=\"note\">Per outcome: the anticipated absolute effects (95% CI) at the assumed risk without the intervention, the relative effect, the participants and studies, and the certainty of the evidence (GRADE) as the review team judged it in <code>[[grade]]</code>. The suggested certainty comes from the rules in docs/config.md and is never the judgment; where the two differ the row says so (<code>sof.csv</code>).</p>\n");
    html.push_str("<table>\n<thead><tr><th>Outcome</th><th>Risk without</th><th>Risk with (95% CI)</th><th>Relative effect (95% CI)</th><th>Participants (studies)</th><th>Certainty (team)</th><th>Suggested</th><th>Differs from suggestion</th><th>Footnotes</th></tr></thead>\n<tbody>\n");
    for r in 0..t.num_rows() {
        let id = s(t, "outcome", r).unwrap_or_default();
        let (treat, ctrl) = inp.groups(&id);
        let x = crate::sof::sof_text(t, r, treat, ctrl);
        let cells = [
            &x.outcome,
            &x.without,
            &x.with,
            &x.relative,
            &x.participants,
            &x.certainty,
            &x.suggested,
            &x.flags,
            &x.footnotes,
        ];
        html.push_str("<tr>");
        for c in cells {
            html.push_str(&format!("<td>{}</td>", esc(c)));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n");
}

/// Characteristics of included studies: every studies column that holds something.
fn characteristics(html: &mut String, studies: &Table) {
    let cols: Vec<&str> = filled_columns(studies)
        .into_iter()
        .map(|c| c.name().as_str())
        .collect();
    html.push_str("<h2>Characteristics of included studies</h2>\n");
    // the studies sheet's numbers as the review typed them (a year 1948, not 1948.000)
    html.push_str(&table_html_with(studies, &cols, crate::cells::typed_number));
}

/// The consistency search's and the audit's sections, and the PRISMA checklist.
fn closing_sections(html: &mut String, inp: &ReportInput) {
    if let Some(c) = inp.checklist {
        html.push_str("<h2>PRISMA 2020 checklist</h2>\n<p class=\"note\">The items this run can answer, with where the answer is (<code>prisma_checklist.csv</code>); the others are for the review team.</p>\n");
        html.push_str(&table_html(
            c,
            &["section", "item", "topic", "status", "answer", "location"],
        ));
    }
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
}
