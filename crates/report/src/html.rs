//! The report: every figure and table drawn from the stage tables into SVG files and one
//! self-contained `index.html` (figures inlined). No statistic is computed here.

use crate::svg::{self, esc, Forest, ForestSection, ForestStudy, PrismaCounts};
use metapipe_tables::{pe, Result, Table};
use polars::prelude::*;

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
    let ids = inp.studies.str("study_id");
    ids.iter().position(|x| x == Some(id)).and_then(|r| s(inp.studies, "label", r)).unwrap_or_else(|| id.to_string())
}

/// The study rows of every forest section, by one polars query: each results row's `studies`
/// exploded in order, joined to its per-study effects on (outcome, subgroup, study_id) — a
/// missing subgroup matches a missing subgroup — and to the outcome data on (outcome,
/// study_id), with the study label. Counts come from the effects row when there is one, else
/// from the outcome data.
fn forest_rows(inp: &ReportInput) -> PolarsResult<DataFrame> {
    let res = inp.results.df.clone().lazy().with_row_index("res_row", None).select([col("res_row"), col("outcome"), col("subgroup"), col("studies").str().split(lit(";")).alias("study_id")]);
    let rows = res.explode(cols(["study_id"]), ExplodeOptions { empty_as_null: false, keep_nulls: false }).filter(col("study_id").neq(lit(""))).with_row_index("pos", None);
    let eff = inp.effects.df.clone().lazy().select([
        col("outcome"),
        col("subgroup"),
        col("study_id"),
        lit(true).alias("has_effect"),
        col("events_treat"),
        col("n_treat"),
        col("events_ctrl"),
        col("n_ctrl"),
        col("estimate"),
        col("ci_lb"),
        col("ci_ub"),
        col("weight"),
    ]);
    let od = inp.outcome_data.df.clone().lazy().select([
        col("outcome"),
        col("study_id"),
        col("events_treat").alias("od_events_treat"),
        col("n_treat").alias("od_n_treat"),
        col("events_ctrl").alias("od_events_ctrl"),
        col("n_ctrl").alias("od_n_ctrl"),
    ]);
    let labels = inp.studies.df.clone().lazy().select([col("study_id"), col("label")]);
    let keys3 = [col("outcome"), col("subgroup"), col("study_id")];
    let mut with_nulls = JoinArgs::new(JoinType::Left);
    with_nulls.nulls_equal = true;
    let pick = |name: &str| when(col("has_effect").is_not_null()).then(col(name)).otherwise(col(format!("od_{name}").as_str())).alias(name);
    rows.join(eff, keys3.clone(), keys3, with_nulls)
        .join(od, [col("outcome"), col("study_id")], [col("outcome"), col("study_id")], JoinArgs::new(JoinType::Left))
        .join(labels, [col("study_id")], [col("study_id")], JoinArgs::new(JoinType::Left))
        .sort(["pos"], SortMultipleOptions::default())
        .select([
            col("res_row"),
            col("study_id"),
            col("label").fill_null(col("study_id")),
            pick("events_treat"),
            pick("n_treat").fill_null(lit(0i64)),
            pick("events_ctrl"),
            pick("n_ctrl").fill_null(lit(0i64)),
            col("estimate"),
            col("ci_lb"),
            col("ci_ub"),
            col("weight"),
        ])
        .collect()
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

/// The forest section of one results row (outcome × subgroup); `rows` from [`forest_rows`].
fn section(inp: &ReportInput, rows: &DataFrame, outcome: &str, subgroup: Option<&str>, title: Option<String>) -> Option<ForestSection> {
    let res = inp.results;
    let r = (0..res.num_rows()).find(|&r| s(res, "outcome", r).as_deref() == Some(outcome) && s(res, "subgroup", r).as_deref() == subgroup)?;
    let mine = rows.clone().lazy().filter(col("res_row").eq(lit(r as IdxSize))).collect().ok()?;
    let c = |n: &str| mine.column(n).ok().cloned();
    let (label, et, nt, ec, nc) = (c("label")?, c("events_treat")?, c("n_treat")?, c("events_ctrl")?, c("n_ctrl")?);
    let (est, lb, ub, w) = (c("estimate")?, c("ci_lb")?, c("ci_ub")?, c("weight")?);
    let (label, et, nt, ec, nc) = (label.str().ok()?, et.i64().ok()?, nt.i64().ok()?, ec.i64().ok()?, nc.i64().ok()?);
    let (est, lb, ub, w) = (est.f64().ok()?, lb.f64().ok()?, ub.f64().ok()?, w.f64().ok()?);
    let studies = (0..mine.height())
        .map(|k| {
            let or = match (est.get(k), lb.get(k), ub.get(k)) {
                (Some(a), Some(b), Some(c)) => Some((a, b, c)),
                _ => None,
            };
            let note = if or.is_none() { Some("no sourced counts".to_string()) } else { None };
            ForestStudy {
                label: label.get(k).unwrap_or_default().to_string(),
                events_treat: et.get(k),
                n_treat: nt.get(k).unwrap_or(0),
                events_ctrl: ec.get(k),
                n_ctrl: nc.get(k).unwrap_or(0),
                or,
                weight: w.get(k).map(|x| 100.0 * x),
                note,
            }
        })
        .collect();
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
pub fn forests(inp: &ReportInput) -> Result<Vec<(String, String, String)>> {
    let res = inp.results;
    let rows = forest_rows(inp).map_err(|e| pe(e).field("report.forest"))?;
    let model_of = |outcome: &str| (0..res.num_rows()).find(|&r| s(res, "outcome", r).as_deref() == Some(outcome) && s(res, "model", r).is_some()).and_then(|r| s(res, "model", r));
    let mut out = vec![];
    for (id, label) in &inp.outcomes {
        let subgroups: Vec<String> = (0..res.num_rows()).filter(|&r| s(res, "outcome", r).as_deref() == Some(id.as_str())).filter_map(|r| s(res, "subgroup", r)).collect();
        let drugs: Vec<&String> = subgroups.iter().filter(|g| *g != "hyperinflammation").collect();
        let model = if model_of(id).is_some_and(|m| m.starts_with("random")) { "M-H, Random" } else { "M-H, Fixed" };
        let mut sections = vec![];
        if drugs.is_empty() {
            sections.extend(section(inp, &rows, id, None, None));
        } else {
            for g in &drugs {
                sections.extend(section(inp, &rows, id, Some(g.as_str()), Some(g.to_string())));
            }
            if let Some(mut total) = section(inp, &rows, id, None, Some("All studies".into())) {
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
            if let Some(sec) = section(inp, &rows, id, Some(g), None) {
                let f = Forest { title: format!("{label}: {g} subgroup"), model: model.into(), treat: inp.treat_label.into(), ctrl: inp.ctrl_label.into(), sections: vec![sec], subgroup_test: None };
                out.push((format!("forest_{id}_{g}.svg"), format!("Forest plot: {label}, {g} subgroup"), svg::forest(&f)));
            }
        }
    }
    Ok(out)
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
    let judgment = |st: &str, d: &str| {
        (0..rob.num_rows()).find(|&r| s(rob, "study_id", r).as_deref() == Some(st) && s(rob, "domain", r).as_deref() == Some(d)).and_then(|r| s(rob, "judgment", r)).unwrap_or_default()
    };
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
pub fn build(inp: &ReportInput) -> Result<Vec<(String, String)>> {
    let mut files: Vec<(String, String, String)> = vec![];
    files.push(("prisma.svg".into(), "PRISMA 2020 flow diagram".into(), prisma_svg(inp)));
    files.extend(forests(inp)?);
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
    Ok(out)
}
