//! The report: every figure and table drawn from the stage tables into SVG files and one
//! self-contained `index.html` (figures inlined). No statistic is computed here.

use crate::svg::{self, esc, Forest, ForestSection, ForestStudy, PrismaCounts};
use metapipe_tables::{frame, pe, Result, Table};
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
    ids.iter()
        .position(|x| x == Some(id))
        .and_then(|r| s(inp.studies, "label", r))
        .unwrap_or_else(|| id.to_string())
}

/// The study rows of every forest section, by one polars query: each results row's `studies`
/// exploded in order, joined to its per-study effects on (outcome, subgroup, study_id) — a
/// missing subgroup matches a missing subgroup — and to the outcome data on (outcome,
/// study_id), with the study label. Counts come from the effects row when there is one, else
/// from the outcome data.
fn forest_rows(inp: &ReportInput) -> PolarsResult<DataFrame> {
    let res = inp.results;
    let (mut res_row, mut outcome, mut subgroup, mut study) = (vec![], vec![], vec![], vec![]);
    for r in 0..res.num_rows() {
        for id in res
            .str("studies")
            .get(r)
            .into_iter()
            .flat_map(|l| l.split(';'))
            .filter(|id| !id.is_empty())
        {
            res_row.push(r as IdxSize);
            outcome.push(res.str("outcome").get(r));
            subgroup.push(res.str("subgroup").get(r));
            study.push(id);
        }
    }
    let n = study.len();
    let rows = DataFrame::new(
        n,
        vec![
            Column::new("res_row".into(), res_row),
            Column::new("outcome".into(), outcome),
            Column::new("subgroup".into(), subgroup),
            Column::new("study_id".into(), study),
            Column::new("pos".into(), (0..n as IdxSize).collect::<Vec<_>>()),
        ],
    )?;
    let mut eff = inp.effects.df.select([
        "outcome",
        "subgroup",
        "study_id",
        "events_treat",
        "n_treat",
        "events_ctrl",
        "n_ctrl",
        "estimate",
        "ci_lb",
        "ci_ub",
        "weight",
    ])?;
    eff.with_column(Column::new("has_effect".into(), vec![true; eff.height()]))?;
    let mut od = inp.outcome_data.df.select([
        "outcome",
        "study_id",
        "events_treat",
        "n_treat",
        "events_ctrl",
        "n_ctrl",
        "mean_treat",
        "sd_treat",
        "mean_ctrl",
        "sd_ctrl",
    ])?;
    for c in ["events_treat", "n_treat", "events_ctrl", "n_ctrl"] {
        od.rename(c, format!("od_{c}").into())?;
    }
    let labels = inp.studies.df.select(["study_id", "label"])?;
    let df = frame::join(
        &rows,
        &eff,
        &["outcome", "subgroup", "study_id"],
        JoinType::Left,
        true,
    )?;
    let df = frame::join(&df, &od, &["outcome", "study_id"], JoinType::Left, false)?;
    let mut df = frame::join(&df, &labels, &["study_id"], JoinType::Left, false)?
        .sort(["pos"], SortMultipleOptions::default())?;
    // counts from the effects row when there is one, else from the outcome data
    let has = df.column("has_effect")?.is_not_null();
    for c in ["events_treat", "n_treat", "events_ctrl", "n_ctrl"] {
        let picked = df
            .column(c)?
            .zip_with(&has, df.column(&format!("od_{c}"))?)?;
        df.with_column(picked)?;
    }
    let label = df.column("label")?;
    let label = label.zip_with(&label.is_not_null(), df.column("study_id")?)?;
    df.with_column(label)?;
    df.select([
        "res_row",
        "study_id",
        "label",
        "events_treat",
        "n_treat",
        "events_ctrl",
        "n_ctrl",
        "mean_treat",
        "sd_treat",
        "mean_ctrl",
        "sd_ctrl",
        "estimate",
        "ci_lb",
        "ci_ub",
        "weight",
    ])
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

/// The results row an (outcome, subgroup) is drawn from: the last one (the random-effects row
/// when an outcome reports both models).
fn result_row(res: &Table, outcome: &str, subgroup: Option<&str>) -> Option<usize> {
    (0..res.num_rows()).rev().find(|&r| {
        res.str("outcome").get(r) == Some(outcome) && res.str("subgroup").get(r) == subgroup
    })
}

/// The per-arm cells of a forest row, by the outcome's type.
fn arm_cells(
    kind: Kind,
    events: Option<i64>,
    n: Option<i64>,
    mean: Option<f64>,
    sd: Option<f64>,
) -> [String; 2] {
    let n = n.map(|x| x.to_string()).unwrap_or_else(|| "–".into());
    match kind {
        Kind::Binary => [
            events.map(|x| x.to_string()).unwrap_or_else(|| "–".into()),
            n,
        ],
        Kind::Continuous => [
            match (mean, sd) {
                (Some(m), Some(s)) => format!("{} ({})", fmt_g(m), fmt_g(s)),
                _ => "–".into(),
            },
            n,
        ],
        Kind::Generic => [String::new(), String::new()],
    }
}

/// A number as printed in a forest row: at most 4 significant decimals, no trailing zeros.
fn fmt_g(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The rows of one results row (outcome × subgroup) of [`forest_rows`].
fn rows_of(
    inp: &ReportInput,
    o: &OutcomeView,
    rows: &DataFrame,
    subgroup: Option<&str>,
) -> Option<(usize, DataFrame)> {
    let r = result_row(inp.results, &o.id, subgroup)?;
    let mine: BooleanChunked = rows
        .column("res_row")
        .ok()?
        .idx()
        .ok()?
        .iter()
        .map(|x| x == Some(r as IdxSize))
        .collect();
    Some((r, rows.filter(&mine).ok()?))
}

/// Each study's weight (a fraction) in the overall analysis of an outcome, by study id.
fn overall_weights(
    inp: &ReportInput,
    o: &OutcomeView,
    rows: &DataFrame,
) -> Option<std::collections::HashMap<String, f64>> {
    let (_, mine) = rows_of(inp, o, rows, None)?;
    let (ids, w) = (
        mine.column("study_id").ok()?.str().ok()?.clone(),
        mine.column("weight").ok()?.f64().ok()?.clone(),
    );
    let m: std::collections::HashMap<String, f64> = (0..mine.height())
        .filter_map(|k| Some((ids.get(k)?.to_string(), w.get(k)?)))
        .collect();
    (!m.is_empty()).then_some(m)
}

/// The forest section of one results row (outcome × subgroup); `rows` from [`forest_rows`].
/// With `overall`, the study weights shown are those of the outcome's overall analysis (RevMan
/// shows a subgroup's studies so, the subtotal carrying the subgroup's share), else the
/// section's own.
fn section(
    inp: &ReportInput,
    o: &OutcomeView,
    rows: &DataFrame,
    subgroup: Option<&str>,
    title: Option<String>,
    overall: Option<&std::collections::HashMap<String, f64>>,
) -> Option<ForestSection> {
    let res = inp.results;
    let (r, mine) = rows_of(inp, o, rows, subgroup)?;
    let c = |n: &str| mine.column(n).ok().cloned();
    let (label, et, nt, ec, nc) = (
        c("label")?,
        c("events_treat")?,
        c("n_treat")?,
        c("events_ctrl")?,
        c("n_ctrl")?,
    );
    let (mt, sdt, mc, sdc) = (
        c("mean_treat")?,
        c("sd_treat")?,
        c("mean_ctrl")?,
        c("sd_ctrl")?,
    );
    let (est, lb, ub, w) = (c("estimate")?, c("ci_lb")?, c("ci_ub")?, c("weight")?);
    let (label, et, nt, ec, nc) = (
        label.str().ok()?,
        et.i64().ok()?,
        nt.i64().ok()?,
        ec.i64().ok()?,
        nc.i64().ok()?,
    );
    let (mt, sdt, mc, sdc) = (
        mt.f64().ok()?,
        sdt.f64().ok()?,
        mc.f64().ok()?,
        sdc.f64().ok()?,
    );
    let (est, lb, ub, w) = (
        est.f64().ok()?,
        lb.f64().ok()?,
        ub.f64().ok()?,
        w.f64().ok()?,
    );
    let ids = mine.column("study_id").ok()?.str().ok()?.clone();
    let weight = |k: usize| match overall {
        Some(ow) => w.get(k).and(ids.get(k).and_then(|id| ow.get(id).copied())),
        None => w.get(k),
    };
    let studies: Vec<ForestStudy> = (0..mine.height())
        .map(|k| {
            let e = match (est.get(k), lb.get(k), ub.get(k)) {
                (Some(a), Some(b), Some(c)) => Some((a, b, c)),
                _ => None,
            };
            let counted = [et.get(k), nt.get(k), ec.get(k), nc.get(k)]
                .iter()
                .all(Option::is_some);
            let note = match (e, o.kind) {
                (Some(_), _) => None,
                // RevMan's words for a study whose counts give no estimate (no events, or only
                // events, in both arms, for OR and RR)
                (None, Kind::Binary) if counted => Some("Not estimable".to_string()),
                (None, Kind::Binary) => Some("no sourced counts".to_string()),
                (None, _) => Some("no sourced data".to_string()),
            };
            ForestStudy {
                label: label.get(k).unwrap_or_default().to_string(),
                treat: arm_cells(o.kind, et.get(k), nt.get(k), mt.get(k), sdt.get(k)),
                ctrl: arm_cells(o.kind, ec.get(k), nc.get(k), mc.get(k), sdc.get(k)),
                est: e,
                weight: weight(k).map(|x| 100.0 * x),
                note,
            }
        })
        .collect();
    let pooled = match (
        fl(res, "estimate", r),
        fl(res, "ci_lb", r),
        fl(res, "ci_ub", r),
    ) {
        (Some(a), Some(b), Some(c)) => Some((a, b, c)),
        _ => None,
    };
    let tot = [
        it(res, "events_treat", r),
        it(res, "n_treat", r),
        it(res, "events_ctrl", r),
        it(res, "n_ctrl", r),
    ];
    let totals = tot.iter().any(Option::is_some).then_some(tot);
    let heterogeneity = match (
        fl(res, "Q", r),
        it(res, "Q_df", r),
        fl(res, "Q_p", r),
        fl(res, "I2", r),
    ) {
        (Some(q), Some(df), Some(p), Some(i2)) => {
            let tau = fl(res, "tau2", r)
                .filter(|t| *t > 0.0)
                .map(|t| format!("Tau² = {t:.2}; "))
                .unwrap_or_default();
            // which I²: (Q - df)/Q beside Chi², or τ²/(τ² + typical variance) from the model
            let basis = match s(res, "I2_from", r).as_deref() {
                Some("tau2") => " (from Tau²)",
                _ => "",
            };
            Some(format!(
                "{tau}Chi² = {q:.2}, df = {df} ({}); I² = {i2:.0}%{basis}",
                fmt_p(p)
            ))
        }
        _ => None,
    };
    let overall_test = fl(res, "p", r).map(fmt_p);
    let share = overall.map(|_| studies.iter().filter_map(|st| st.weight).sum::<f64>());
    let prediction = match (fl(res, "pi_lb", r), fl(res, "pi_ub", r)) {
        (Some(l), Some(u)) => Some((l, u)),
        _ => None,
    };
    Some(ForestSection {
        title,
        studies,
        pooled,
        prediction,
        totals,
        heterogeneity,
        overall: overall_test,
        note: s(res, "note", r),
        weight: share,
    })
}

/// RevMan's short name of a model ("M-H, Fixed", "IV, Random", "Peto, Fixed").
pub fn model_short(model: &str) -> String {
    let random = model.starts_with("random");
    let method = if model.contains("Peto") {
        "Peto"
    } else if model.contains("Mantel-Haenszel") || (random && model.contains("RevMan 5")) {
        "M-H"
    } else {
        "IV"
    };
    format!("{method}, {}", if random { "Random" } else { "Fixed" })
}

/// Forest plots: per outcome, one figure (the levels of `subgroup_by` as sections with the
/// test for subgroup differences, then the total); every further subgroup gets its own figure.
pub fn forests(inp: &ReportInput) -> Result<Vec<(String, String, String)>> {
    let res = inp.results;
    let rows = forest_rows(inp).map_err(|e| pe(e).field("report.forest"))?;
    let mut out = vec![];
    for o in &inp.outcomes {
        let id = o.id.as_str();
        let of_outcome: Vec<usize> = (0..res.num_rows())
            .filter(|&r| res.str("outcome").get(r) == Some(id))
            .collect();
        let overall = result_row(res, id, None);
        let by = overall.and_then(|r| s(res, "subgroup_by", r));
        let mut levels: Vec<String> = vec![];
        let mut others: Vec<String> = vec![];
        for &r in &of_outcome {
            if let Some(g) = s(res, "subgroup", r) {
                let list = if by.is_some() && s(res, "subgroup_by", r) == by {
                    &mut levels
                } else {
                    &mut others
                };
                if !list.contains(&g) {
                    list.push(g);
                }
            }
        }
        let model = overall
            .and_then(|r| s(res, "model", r))
            .or_else(|| of_outcome.iter().find_map(|&r| s(res, "model", r)))
            .map(|m| model_short(&m))
            .unwrap_or_else(|| o.planned_model.clone());
        let level = o.level_pct.clone();
        let figure =
            |title: String, sections: Vec<ForestSection>, subgroup_test: Option<String>| Forest {
                title,
                model: model.clone(),
                treat: inp.treat_label.into(),
                ctrl: inp.ctrl_label.into(),
                effect: o.effect.clone(),
                log: o.log,
                level: level.clone(),
                columns: match o.kind {
                    Kind::Binary => ["Events".into(), "Total".into()],
                    Kind::Continuous => ["Mean (SD)".into(), "Total".into()],
                    Kind::Generic => [String::new(), String::new()],
                },
                favours: o.favours.clone(),
                sections,
                subgroup_test,
            };
        let mut sections = vec![];
        if levels.is_empty() {
            sections.extend(section(inp, o, &rows, None, None, None));
        } else {
            let ow = overall_weights(inp, o, &rows);
            for g in &levels {
                sections.extend(section(
                    inp,
                    o,
                    &rows,
                    Some(g.as_str()),
                    Some(g.to_string()),
                    ow.as_ref(),
                ));
            }
            if let Some(mut total) = section(inp, o, &rows, None, Some("All studies".into()), None)
            {
                total.studies.clear();
                total.title = None;
                sections.push(total);
            }
        }
        if sections.is_empty() {
            continue;
        }
        let test = overall.and_then(|r| {
            Some(format!(
                "Chi² = {:.2}, df = {} ({})",
                fl(res, "Q_between", r)?,
                it(res, "Q_between_df", r)?,
                fmt_p(fl(res, "Q_between_p", r)?)
            ))
        });
        out.push((
            format!("forest_{id}.svg"),
            format!("Forest plot: {}", o.label),
            svg::forest(&figure(
                format!(
                    "{}: {} vs {}",
                    o.label,
                    inp.treat_label,
                    inp.ctrl_label.to_lowercase()
                ),
                sections,
                test,
            )),
        ));
        for g in &others {
            if let Some(sec) = section(inp, o, &rows, Some(g), None, None) {
                out.push((
                    format!("forest_{id}_{g}.svg"),
                    format!("Forest plot: {}, {g} subgroup", o.label),
                    svg::forest(&figure(
                        format!("{}: {g} subgroup", o.label),
                        vec![sec],
                        None,
                    )),
                ));
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
    let get = |stage: &str| {
        (0..p.num_rows())
            .find(|&r| s(p, "stage", r).as_deref() == Some(stage) && s(p, "database", r).is_none())
            .and_then(|r| it(p, "count", r))
            .unwrap_or(0)
    };
    let rows_of = |stage: &str| {
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
        full_text: get("full_text_assessed"),
        excluded_ft: get("excluded_full_text"),
        reasons: rows_of("excluded_full_text_reason"),
        included: get("studies_included"),
        update: None,
    })
}

pub fn rob_svgs(inp: &ReportInput, rob: &Table) -> (String, String) {
    let mut order: Vec<String> = vec![];
    for r in 0..rob.num_rows() {
        let st = s(rob, "study_id", r).unwrap_or_default();
        if !order.contains(&st) {
            order.push(st);
        }
    }
    let cols = ["D1", "D2", "D3", "D4", "D5", "overall"];
    let judgment = |st: &str, d: &str| {
        (0..rob.num_rows())
            .find(|&r| {
                s(rob, "study_id", r).as_deref() == Some(st)
                    && s(rob, "domain", r).as_deref() == Some(d)
            })
            .and_then(|r| s(rob, "judgment", r))
            .unwrap_or_default()
    };
    let rows: Vec<(String, Vec<String>)> = order
        .iter()
        .map(|st| {
            (
                study_label(inp, st),
                cols.iter().map(|d| judgment(st, d)).collect(),
            )
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
    let domains: Vec<(String, [f64; 3])> = cols
        .iter()
        .zip(names)
        .map(|(d, n)| {
            let js: Vec<String> = order.iter().map(|st| judgment(st, d)).collect();
            let frac = |j: &str| {
                js.iter().filter(|x| x.as_str() == j).count() as f64 / js.len().max(1) as f64
            };
            (
                n.to_string(),
                [frac("low"), frac("some concerns"), frac("high")],
            )
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
