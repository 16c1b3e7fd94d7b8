//! The forest plots' rows: one polars query joins each results row's studies to their
//! effects, outcome data and labels; each outcome's sections (overall, subgroups) as RevMan
//! draws them.

use super::*;
use crate::svg::{self, Forest, ForestSection, ForestStudy};
use metapipe_meta::ModelId;
use metapipe_tables::{frame, pe, Result, Table};
use polars::prelude::*;

pub(crate) fn study_label(inp: &ReportInput, id: &str) -> String {
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
pub(crate) fn forest_rows(inp: &ReportInput) -> PolarsResult<DataFrame> {
    let rows = results_studies(inp.results)?;
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

/// Each results row's `studies` exploded in order: (res_row, outcome, subgroup, study_id, pos).
fn results_studies(res: &Table) -> PolarsResult<DataFrame> {
    let (mut res_row, mut outcome, mut subgroup, mut study) = (vec![], vec![], vec![], vec![]);
    for r in 0..res.num_rows() {
        let studies = res.str("studies").get(r).into_iter();
        for id in studies
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
    DataFrame::new(
        n,
        vec![
            Column::new("res_row".into(), res_row),
            Column::new("outcome".into(), outcome),
            Column::new("subgroup".into(), subgroup),
            Column::new("study_id".into(), study),
            Column::new("pos".into(), (0..n as IdxSize).collect::<Vec<_>>()),
        ],
    )
}

pub(crate) fn fmt_p(p: f64) -> String {
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
pub(crate) fn result_row(res: &Table, outcome: &str, subgroup: Option<&str>) -> Option<usize> {
    (0..res.num_rows()).rev().find(|&r| {
        res.str("outcome").get(r) == Some(outcome) && res.str("subgroup").get(r) == subgroup
    })
}

/// The per-arm cells of a forest row, by the outcome's type.
pub(crate) fn arm_cells(
    kind: OutcomeKind,
    events: Option<i64>,
    n: Option<i64>,
    mean: Option<f64>,
    sd: Option<f64>,
) -> [String; 2] {
    let n = n.map(|x| x.to_string()).unwrap_or_else(|| "–".into());
    match kind {
        OutcomeKind::Binary => [
            events.map(|x| x.to_string()).unwrap_or_else(|| "–".into()),
            n,
        ],
        OutcomeKind::Continuous => [
            match (mean, sd) {
                (Some(m), Some(s)) => format!("{} ({})", fmt_g(m), fmt_g(s)),
                _ => "–".into(),
            },
            n,
        ],
        // one-group data and the other families: the estimate and CI only
        _ => [String::new(), String::new()],
    }
}

/// A number as printed in a forest row: at most 4 significant decimals, no trailing zeros.
pub(crate) fn fmt_g(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The rows of one results row (outcome × subgroup) of [`forest_rows`].
pub(crate) fn rows_of(
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
pub(crate) fn overall_weights(
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
pub(crate) fn section(
    inp: &ReportInput,
    o: &OutcomeView,
    rows: &DataFrame,
    subgroup: Option<&str>,
    title: Option<String>,
    overall: Option<&std::collections::HashMap<String, f64>>,
) -> Option<ForestSection> {
    let res = inp.results;
    let (r, mine) = rows_of(inp, o, rows, subgroup)?;
    let studies = study_rows(o, &mine, overall)?;
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
    let heterogeneity = heterogeneity(res, r);
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

/// The study rows of a section (`mine`: its rows of [`forest_rows`]); with `overall`, each
/// study's weight in the outcome's overall analysis.
fn study_rows(
    o: &OutcomeView,
    mine: &DataFrame,
    overall: Option<&std::collections::HashMap<String, f64>>,
) -> Option<Vec<ForestStudy>> {
    let c = |n: &str| mine.column(n).ok();
    let i = |n: &str| c(n)?.i64().ok();
    let f = |n: &str| c(n)?.f64().ok();
    let label = c("label")?.str().ok()?;
    let (et, nt, ec, nc) = (
        i("events_treat")?,
        i("n_treat")?,
        i("events_ctrl")?,
        i("n_ctrl")?,
    );
    let (mt, sdt) = (f("mean_treat")?, f("sd_treat")?);
    let (mc, sdc) = (f("mean_ctrl")?, f("sd_ctrl")?);
    let (est, lb, ub, w) = (f("estimate")?, f("ci_lb")?, f("ci_ub")?, f("weight")?);
    let ids = c("study_id")?.str().ok()?;
    let weight = |k: usize| match overall {
        Some(ow) => w.get(k).and(ids.get(k).and_then(|id| ow.get(id).copied())),
        None => w.get(k),
    };
    let study = |k: usize| {
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
            (None, OutcomeKind::Binary) if counted => Some("Not estimable".to_string()),
            (None, OutcomeKind::Binary) => Some("no sourced counts".to_string()),
            (None, _) => Some("no sourced data".to_string()),
        };
        ForestStudy {
            id: ids.get(k).unwrap_or_default().to_string(),
            rob: vec![],
            label: label.get(k).unwrap_or_default().to_string(),
            treat: arm_cells(o.kind, et.get(k), nt.get(k), mt.get(k), sdt.get(k)),
            ctrl: arm_cells(o.kind, ec.get(k), nc.get(k), mc.get(k), sdc.get(k)),
            est: e,
            weight: weight(k).map(|x| 100.0 * x),
            note,
        }
    };
    Some((0..mine.height()).map(study).collect())
}

/// A results row's heterogeneity line, e.g. "Tau² = 0.12; Chi² = 1.23, df = 2 (P = 0.54); I² = 0%".
fn heterogeneity(res: &Table, r: usize) -> Option<String> {
    match (
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
    }
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
        let (levels, others) = subgroups(res, &of_outcome, overall);
        let model = overall
            .and_then(|r| s(res, "model", r))
            .or_else(|| of_outcome.iter().find_map(|&r| s(res, "model", r)))
            .and_then(|m| ModelId::parse(&m))
            .map(|m| m.revman_short())
            .unwrap_or_else(|| o.planned_model.clone());
        let sections = main_sections(inp, o, &rows, &levels);
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
        let title = if o.kind.one_group() {
            o.label.clone()
        } else {
            format!(
                "{}: {} vs {}",
                o.label,
                o.groups.0,
                o.groups.1.to_lowercase()
            )
        };
        let mut fig = figure(o, &model, title, sections, test);
        with_rob(&mut fig, inp.rob, id);
        let caption = format!("Forest plot: {}", o.label);
        out.push((format!("forest_{id}.svg"), caption, svg::forest(&fig)));
        for g in &others {
            if let Some(sec) = section(inp, o, &rows, Some(g), None, None) {
                let title = format!("{}: {g} subgroup", o.label);
                let mut fig = figure(o, &model, title, vec![sec], None);
                with_rob(&mut fig, inp.rob, id);
                let caption = format!("Forest plot: {}, {g} subgroup", o.label);
                out.push((format!("forest_{id}_{g}.svg"), caption, svg::forest(&fig)));
            }
        }
    }
    Ok(out)
}

/// The RoB 2 columns of a forest plot (RevMan's layout), when the review judged its studies:
/// each study's judgment of this outcome's result where the answers name the outcome, else the
/// study's own.
fn with_rob(fig: &mut Forest, rob: Option<&Table>, outcome: &str) {
    let Some(rob) = rob else {
        return;
    };
    use super::figures::{rob_judgment, ROB_COLS};
    // the result's own judgment where the answers judged it apart, else the study's
    let judgment = |study: &str, domain: &str| {
        rob_judgment(rob, study, Some(outcome), domain)
            .or_else(|| rob_judgment(rob, study, None, domain))
            .unwrap_or_default()
    };
    fig.rob = ROB_COLS.iter().map(|c| c.to_string()).collect();
    for sec in &mut fig.sections {
        for st in &mut sec.studies {
            st.rob = ROB_COLS.iter().map(|d| judgment(&st.id, d)).collect();
        }
    }
}

/// An outcome's subgroups: the levels of the overall analysis's `subgroup_by` (drawn as sections
/// of the main figure) and every other subgroup (a figure each), in the results' order.
fn subgroups(
    res: &Table,
    of_outcome: &[usize],
    overall: Option<usize>,
) -> (Vec<String>, Vec<String>) {
    let by = overall.and_then(|r| s(res, "subgroup_by", r));
    let mut levels: Vec<String> = vec![];
    let mut others: Vec<String> = vec![];
    for &r in of_outcome {
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
    (levels, others)
}

/// The main figure's sections: the overall analysis, or each level then the total.
fn main_sections(
    inp: &ReportInput,
    o: &OutcomeView,
    rows: &DataFrame,
    levels: &[String],
) -> Vec<ForestSection> {
    let mut sections = vec![];
    if levels.is_empty() {
        sections.extend(section(inp, o, rows, None, None, None));
        return sections;
    }
    let ow = overall_weights(inp, o, rows);
    for g in levels {
        let title = Some(g.to_string());
        sections.extend(section(inp, o, rows, Some(g.as_str()), title, ow.as_ref()));
    }
    let all = Some("All studies".into());
    if let Some(mut total) = section(inp, o, rows, None, all, None) {
        total.studies.clear();
        total.title = None;
        sections.push(total);
    }
    sections
}

/// A forest figure of an outcome.
fn figure(
    o: &OutcomeView,
    model: &str,
    title: String,
    sections: Vec<ForestSection>,
    subgroup_test: Option<String>,
) -> Forest {
    Forest {
        title,
        model: model.to_string(),
        // one group's data have no arms to head
        treat: if o.kind.one_group() {
            String::new()
        } else {
            o.groups.0.clone()
        },
        ctrl: if o.kind.one_group() {
            String::new()
        } else {
            o.groups.1.clone()
        },
        effect: o.effect.clone(),
        log: o.log,
        level: o.level_pct.clone(),
        columns: match o.kind {
            OutcomeKind::Binary => ["Events".into(), "Total".into()],
            OutcomeKind::Continuous => ["Mean (SD)".into(), "Total".into()],
            _ => [String::new(), String::new()],
        },
        favours: o.favours.clone(),
        sections,
        subgroup_test,
        rob: vec![],
    }
}
