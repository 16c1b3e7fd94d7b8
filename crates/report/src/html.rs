//! The report: every figure and table drawn from the stage tables into SVG files and one
//! self-contained `index.html` (figures inlined). No statistic is computed here.

use crate::svg::{self, esc, Forest, ForestSection, ForestStudy, PrismaCounts};
use polars::prelude::DataType;
use metapipe_tables::Table;

/// What the report is drawn from (the stage tables, as read back from Parquet).
pub struct ReportInput<'a> {
    pub title: &'a str,
    pub results: &'a Table,
    pub effects: &'a Table,
    pub outcome_data: &'a Table,
    pub prisma: &'a Table,
    pub rob: &'a Table,
    pub studies: &'a Table,
    pub audit: &'a Table,
    pub consistency: &'a Table,
    /// (outcome id, label)
    pub outcomes: Vec<(String, String)>,
    pub treat_label: &'a str,
    pub ctrl_label: &'a str,
}

fn s(t: &Table, c: &str, r: usize) -> Option<String> {
    t.str_at(c, r)
}
fn fl(t: &Table, c: &str, r: usize) -> Option<f64> {
    t.float(c).get(r)
}
fn it(t: &Table, c: &str, r: usize) -> Option<i64> {
    t.int(c).get(r)
}

fn study_label(inp: &ReportInput, id: &str) -> String {
    (0..inp.studies.num_rows()).find(|&r| s(inp.studies, "study_id", r).as_deref() == Some(id)).and_then(|r| s(inp.studies, "label", r)).unwrap_or_else(|| id.to_string())
}

fn fmt_p(p: f64) -> String {
    if p < 0.0001 {
        "P < 0.0001".into()
    } else if p < 0.01 {
        format!("P = {p:.4}")
    } else {
        format!("P = {p:.2}")
    }
}

/// The forest section of one results row (outcome × subgroup).
fn section(inp: &ReportInput, outcome: &str, subgroup: Option<&str>, title: Option<String>) -> Option<ForestSection> {
    let res = inp.results;
    let r = (0..res.num_rows()).find(|&r| s(res, "outcome", r).as_deref() == Some(outcome) && s(res, "subgroup", r).as_deref() == subgroup)?;
    let ids: Vec<String> = s(res, "studies", r).unwrap_or_default().split(';').filter(|x| !x.is_empty()).map(String::from).collect();
    let eff = inp.effects;
    let od = inp.outcome_data;
    let mut studies = vec![];
    for id in &ids {
        let e = (0..eff.num_rows()).find(|&k| s(eff, "outcome", k).as_deref() == Some(outcome) && s(eff, "subgroup", k).as_deref() == subgroup && s(eff, "study_id", k).as_deref() == Some(id));
        let o = (0..od.num_rows()).find(|&k| s(od, "outcome", k).as_deref() == Some(outcome) && s(od, "study_id", k).as_deref() == Some(id));
        let (et, nt, ec, nc) = match (e, o) {
            (Some(k), _) => (it(eff, "events_treat", k), it(eff, "n_treat", k).unwrap_or(0), it(eff, "events_ctrl", k), it(eff, "n_ctrl", k).unwrap_or(0)),
            (None, Some(k)) => (it(od, "events_treat", k), it(od, "n_treat", k).unwrap_or(0), it(od, "events_ctrl", k), it(od, "n_ctrl", k).unwrap_or(0)),
            (None, None) => (None, 0, None, 0),
        };
        let or = e.and_then(|k| Some((fl(eff, "estimate", k)?, fl(eff, "ci_lb", k)?, fl(eff, "ci_ub", k)?)));
        let weight = e.and_then(|k| fl(eff, "weight", k)).map(|w| 100.0 * w);
        let note = if or.is_none() { Some("no sourced counts".to_string()) } else { None };
        studies.push(ForestStudy { label: study_label(inp, id), events_treat: et, n_treat: nt, events_ctrl: ec, n_ctrl: nc, or, weight, note });
    }
    let pooled = match (fl(res, "estimate", r), fl(res, "ci_lb", r), fl(res, "ci_ub", r)) {
        (Some(a), Some(b), Some(c)) => Some((a, b, c)),
        _ => None,
    };
    let totals = match (it(res, "events_treat", r), it(res, "n_treat", r), it(res, "events_ctrl", r), it(res, "n_ctrl", r)) {
        (Some(a), Some(b), Some(c), Some(d)) => Some((a, b, c, d)),
        _ => None,
    };
    let heterogeneity = match (fl(res, "Q", r), it(res, "Q_df", r), fl(res, "Q_p", r), fl(res, "I2", r)) {
        (Some(q), Some(df), Some(p), Some(i2)) => {
            let tau = fl(res, "tau2", r).filter(|t| *t > 0.0).map(|t| format!("Tau² = {t:.2}; ")).unwrap_or_default();
            Some(format!("{tau}Chi² = {q:.2}, df = {df} ({}); I² = {i2:.0}%", fmt_p(p)))
        }
        _ => None,
    };
    let overall = fl(res, "p", r).map(fmt_p);
    Some(ForestSection { title, studies, pooled, totals, heterogeneity, overall, note: s(res, "note", r) })
}

/// Forest plots: per outcome, one figure (drug subgroups as sections where the plan has them,
/// then the total); a subgroup that is not a drug (hyperinflammation) gets its own figure.
pub fn forests(inp: &ReportInput) -> Vec<(String, String, String)> {
    let res = inp.results;
    let model_of = |outcome: &str| (0..res.num_rows()).find(|&r| s(res, "outcome", r).as_deref() == Some(outcome) && s(res, "model", r).is_some()).and_then(|r| s(res, "model", r));
    let mut out = vec![];
    for (id, label) in &inp.outcomes {
        let subgroups: Vec<String> = (0..res.num_rows()).filter(|&r| s(res, "outcome", r).as_deref() == Some(id.as_str())).filter_map(|r| s(res, "subgroup", r)).collect();
        let drugs: Vec<&String> = subgroups.iter().filter(|g| *g != "hyperinflammation").collect();
        let model = if model_of(id).is_some_and(|m| m.starts_with("random")) { "M-H, Random" } else { "M-H, Fixed" };
        let mut sections = vec![];
        if drugs.is_empty() {
            sections.extend(section(inp, id, None, None));
        } else {
            for g in &drugs {
                sections.extend(section(inp, id, Some(g.as_str()), Some(format!("{g}"))));
            }
            if let Some(mut total) = section(inp, id, None, Some("All studies".into())) {
                total.studies.clear();
                total.title = None;
                sections.push(total);
            }
        }
        if sections.is_empty() {
            continue;
        }
        let f = Forest { title: format!("{label}: IL-1 blockade vs control"), model: model.into(), treat: inp.treat_label.into(), ctrl: inp.ctrl_label.into(), sections, subgroup_test: None };
        out.push((format!("forest_{id}.svg"), format!("Forest plot: {label}"), svg::forest(&f)));
        for g in subgroups.iter().filter(|g| *g == "hyperinflammation") {
            if let Some(sec) = section(inp, id, Some(g), None) {
                let f = Forest { title: format!("{label}: {g} subgroup"), model: model.into(), treat: inp.treat_label.into(), ctrl: inp.ctrl_label.into(), sections: vec![sec], subgroup_test: None };
                out.push((format!("forest_{id}_{g}.svg"), format!("Forest plot: {label}, {g} subgroup"), svg::forest(&f)));
            }
        }
    }
    out
}

/// Funnel plots for the outcomes with at least one study estimate.
pub fn funnels(inp: &ReportInput) -> Vec<(String, String, String)> {
    let eff = inp.effects;
    let res = inp.results;
    let mut out = vec![];
    for (id, label) in &inp.outcomes {
        let pts: Vec<(String, f64, f64)> = (0..eff.num_rows())
            .filter(|&k| s(eff, "outcome", k).as_deref() == Some(id.as_str()) && s(eff, "subgroup", k).is_none())
            .filter_map(|k| Some((study_label(inp, &s(eff, "study_id", k)?), fl(eff, "estimate", k)?, fl(eff, "vi", k)?.sqrt())))
            .collect();
        if pts.is_empty() {
            continue;
        }
        let r = (0..res.num_rows()).find(|&r| s(res, "outcome", r).as_deref() == Some(id.as_str()) && s(res, "subgroup", r).is_none());
        let pooled = r.and_then(|r| fl(res, "estimate", r));
        let mut note = String::new();
        if pooled.is_none() {
            note.push_str("No pooled estimate, so no pseudo 95% confidence limits. ");
        }
        note.push_str(&format!("{} studies: too few for Egger's test (needs at least 10 by convention).", pts.len()));
        out.push((format!("funnel_{id}.svg"), format!("Funnel plot: {label}"), svg::funnel(&format!("{label}: funnel plot"), &pts, pooled, Some(&note))));
    }
    out
}

pub fn prisma_svg(inp: &ReportInput) -> String {
    let p = inp.prisma;
    let get = |stage: &str| (0..p.num_rows()).find(|&r| s(p, "stage", r).as_deref() == Some(stage) && s(p, "database", r).is_none()).and_then(|r| it(p, "count", r)).unwrap_or(0);
    let rows_of = |stage: &str| (0..p.num_rows()).filter(|&r| s(p, "stage", r).as_deref() == Some(stage)).filter_map(|r| Some((s(p, "database", r)?, it(p, "count", r)?))).collect::<Vec<_>>();
    svg::prisma(&PrismaCounts {
        identified: get("records_identified"),
        per_database: rows_of("records_identified"),
        duplicates: get("duplicates_removed"),
        screened: get("records_screened"),
        excluded_ta: get("excluded_title_abstract"),
        full_text: get("full_text_assessed"),
        excluded_ft: get("excluded_full_text"),
        reasons: rows_of("excluded_full_text_reason"),
        included: get("studies_included"),
    })
}

pub fn rob_svgs(inp: &ReportInput) -> (String, String) {
    let rob = inp.rob;
    let mut order: Vec<String> = vec![];
    for r in 0..rob.num_rows() {
        let st = s(rob, "study_id", r).unwrap_or_default();
        if !order.contains(&st) {
            order.push(st);
        }
    }
    let cols = ["D1", "D2", "D3", "D4", "D5", "overall"];
    let judgment = |st: &str, d: &str| (0..rob.num_rows()).find(|&r| s(rob, "study_id", r).as_deref() == Some(st) && s(rob, "domain", r).as_deref() == Some(d)).and_then(|r| s(rob, "judgment", r)).unwrap_or_default();
    let rows: Vec<(String, Vec<String>)> = order.iter().map(|st| (study_label(inp, st), cols.iter().map(|d| judgment(st, d)).collect())).collect();
    let names = ["Randomization process", "Deviations from intended interventions", "Missing outcome data", "Measurement of the outcome", "Selection of the reported result", "Overall risk of bias"];
    let domains: Vec<(String, [f64; 3])> = cols
        .iter()
        .zip(names)
        .map(|(d, n)| {
            let js: Vec<String> = order.iter().map(|st| judgment(st, d)).collect();
            let frac = |j: &str| js.iter().filter(|x| x.as_str() == j).count() as f64 / js.len().max(1) as f64;
            (n.to_string(), [frac("low"), frac("some concerns"), frac("high")])
        })
        .collect();
    (svg::rob_traffic(&rows), svg::rob_summary(&domains, false))
}

fn table_html(t: &Table, cols: &[&str]) -> String {
    let mut h = String::from("<table>\n<thead><tr>");
    for c in cols {
        h.push_str(&format!("<th>{}</th>", esc(c)));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for r in 0..t.num_rows() {
        h.push_str("<tr>");
        for c in cols {
            let v = match t.df.column(c).map(|c| c.dtype().clone()) {
                Ok(DataType::Float64) => fl(t, c, r).map(|x| if x.abs() < 0.001 && x != 0.0 { format!("{x:.2e}") } else { format!("{x:.3}") }).unwrap_or_default(),
                Ok(DataType::Int64) => it(t, c, r).map(|x| x.to_string()).unwrap_or_default(),
                Ok(DataType::Boolean) => t.boolean(c).get(r).map(|x| x.to_string()).unwrap_or_default(),
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

/// Build every report file: (file name, contents). `index.html` inlines the SVGs.
pub fn build(inp: &ReportInput) -> Vec<(String, String)> {
    let mut files: Vec<(String, String, String)> = vec![];
    files.push(("prisma.svg".into(), "PRISMA 2020 flow diagram".into(), prisma_svg(inp)));
    files.extend(forests(inp));
    files.extend(funnels(inp));
    let (traffic, summary) = rob_svgs(inp);
    files.push(("rob_traffic_light.svg".into(), "Risk of bias: traffic-light plot".into(), traffic));
    files.push(("rob_summary.svg".into(), "Risk of bias: summary".into(), summary));
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    html.push_str(&format!("<title>{}</title>\n", esc(inp.title)));
    html.push_str("<style>body{font-family:Helvetica,Arial,sans-serif;margin:24px;max-width:1100px}table{border-collapse:collapse;font-size:12px;margin:8px 0 24px}td,th{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}th{background:#eef3f8}figure{margin:16px 0 32px}figcaption{font-weight:bold;margin-bottom:6px}.note{color:#555;font-size:13px}</style>\n</head>\n<body>\n");
    html.push_str(&format!("<h1>{}</h1>\n", esc(inp.title)));
    html.push_str("<p class=\"note\">Generated by metapipe from the stage tables of this run. Every number is computed from record- or study-level input; published figures appear only in the audit. Outcomes whose studies lack data are not pooled; their rows say which studies lack data.</p>\n");
    html.push_str("<h2>Study selection</h2>\n");
    let fig = |name: &str, cap: &str, svg: &str| format!("<figure id=\"{}\"><figcaption>{}</figcaption>\n{}</figure>\n", esc(name), esc(cap), svg);
    html.push_str(&fig(&files[0].0, &files[0].1, &files[0].2));
    html.push_str("<h2>Results</h2>\n");
    html.push_str(&table_html(inp.results, &["outcome", "subgroup", "k", "events_treat", "n_treat", "events_ctrl", "n_ctrl", "model", "estimate", "ci_lb", "ci_ub", "p", "I2", "tau2", "note"]));
    html.push_str("<h2>Forest plots</h2>\n");
    for (n, c, svg) in files.iter().filter(|f| f.0.starts_with("forest_")) {
        html.push_str(&fig(n, c, svg));
    }
    html.push_str("<h2>Funnel plots</h2>\n");
    for (n, c, svg) in files.iter().filter(|f| f.0.starts_with("funnel_")) {
        html.push_str(&fig(n, c, svg));
    }
    html.push_str("<h2>Risk of bias</h2>\n");
    for (n, c, svg) in files.iter().filter(|f| f.0.starts_with("rob_")) {
        html.push_str(&fig(n, c, svg));
    }
    html.push_str("<h2>Are the published pooled results consistent with the sourced data?</h2>\n<p class=\"note\">Completions of the missing per-arm counts that reproduce every printed figure (OR, CI, I²) under RevMan 5's rules. They describe what the published numbers imply; they are not data and are never pooled.</p>\n");
    html.push_str(&table_html(inp.consistency, &["outcome", "subgroup", "published", "studies_assumed", "missing_cells", "consistent_completions", "status", "note"]));
    html.push_str("<h2>Audit: published figures against recomputed ones</h2>\n");
    html.push_str(&table_html(inp.audit, &["item", "published", "recomputed", "status", "why"]));
    html.push_str("</body>\n</html>\n");
    let mut out: Vec<(String, String)> = files.into_iter().map(|(n, _, svg)| (n, svg)).collect();
    out.push(("index.html".into(), html));
    out
}
