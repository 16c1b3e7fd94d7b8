//! # metapipe-plan
//!
//! The analysis plan applied to the extracted data: which studies each outcome pools, which
//! model, which subgroups. An outcome whose stated studies lack data is never pooled from a
//! silent subset: its row names the studies that lack data and leaves the estimate empty (or,
//! when the plan allows pooling the available studies, says so in `note`).

use metapipe_meta::effect::{binary_effect, Binary, Measure};
use metapipe_meta::model::{revman_dl, revman_mh, revman_tables, Fit};
use metapipe_tables::schema::{EFFECTS, RESULTS};
use metapipe_tables::{f, i, pe, s, so, Builder, Error, Result, Table};
use polars::prelude::*;

/// Per-arm counts of one study for one outcome (`None` events: missing).
#[derive(Debug, Clone)]
pub struct Counts {
    pub study_id: String,
    pub outcome: String,
    pub events_treat: Option<i64>,
    pub n_treat: i64,
    pub events_ctrl: Option<i64>,
    pub n_ctrl: i64,
}

/// A subgroup: the studies whose `column` (a column of the studies table) reads `value`
/// (yes/no columns read `true`/`false`), shown as `name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Subgroup {
    pub column: String,
    pub value: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct OutcomePlan {
    pub id: String,
    /// The studies the review pooled for this outcome; `None` when the review does not say.
    pub studies: Option<Vec<String>>,
    pub subgroups: Vec<Subgroup>,
    /// Pool the studies with data when some lack it (and say so), instead of leaving it empty.
    pub pool_available: bool,
}

/// Model choice: Mantel-Haenszel fixed effect; DerSimonian-Laird random effects (RevMan 5
/// convention) when I² > `i2_above` or the heterogeneity p < `q_p_below`.
#[derive(Debug, Clone, Copy)]
pub struct ModelRule {
    pub i2_above: f64,
    pub q_p_below: f64,
    pub level: f64,
}

impl Default for ModelRule {
    fn default() -> Self {
        ModelRule { i2_above: 50.0, q_p_below: 0.10, level: 0.95 }
    }
}

/// One pooled analysis (outcome × subgroup).
#[derive(Debug, Clone)]
pub struct Analysis {
    pub outcome: String,
    pub subgroup: Option<String>,
    pub studies: Vec<String>,
    pub missing: Vec<String>,
    pub totals: Option<(i64, i64, i64, i64)>,
    pub model: Option<String>,
    pub fit: Option<Fit>,
    /// the MH fit the heterogeneity rule was applied to
    pub fixed: Option<Fit>,
    pub note: Option<String>,
    /// every study with data: counts, (yi, vi) after RevMan's zero-cell rule, weight when pooled
    pub per_study: Vec<(Counts, Option<(f64, f64)>, Option<f64>)>,
}

/// Choose and fit the model on complete counts.
pub fn fit_counts(counts: &[Counts], rule: &ModelRule) -> std::result::Result<(String, Fit, Fit), String> {
    let tables: Vec<Binary> = counts.iter().map(|c| Binary::new(c.events_treat.unwrap() as f64, c.n_treat as f64, c.events_ctrl.unwrap() as f64, c.n_ctrl as f64)).collect();
    let mh = revman_mh(&tables, Measure::OR, rule.level).map_err(|e| e.to_string())?;
    let heterogeneous = mh.k > 1 && (mh.i2 > rule.i2_above || mh.q_p < rule.q_p_below);
    if heterogeneous {
        let dl = revman_dl(&tables, Measure::OR, rule.level).map_err(|e| e.to_string())?;
        Ok(("random effects: DerSimonian-Laird (RevMan 5)".into(), dl, mh))
    } else {
        Ok(("fixed effect: Mantel-Haenszel (RevMan 5)".into(), mh.clone(), mh))
    }
}

/// One analysis of the plan: an outcome, optionally restricted to a subgroup.
struct Cell<'a> {
    plan: &'a OutcomePlan,
    subgroup: Option<&'a Subgroup>,
}

/// The plan as a table: one row per (analysis, study) it names, in plan order, with the
/// outcome data joined on (outcome, study_id) and `has` = both arms' events are sourced.
/// Subgroups are semi-joins with the studies whose column reads the subgroup's value.
fn plan_frame(cells: &[Cell], studies: &Table, outcome_data: &Table) -> Result<DataFrame> {
    let mut parts: Vec<LazyFrame> = vec![];
    for (a, c) in cells.iter().enumerate() {
        let Some(set) = &c.plan.studies else { continue };
        let n = set.len();
        let rows = DataFrame::new(
            n,
            vec![
                Column::new("analysis".into(), vec![a as u32; n]),
                Column::new("pos".into(), (0..n as u32).collect::<Vec<_>>()),
                Column::new("outcome".into(), vec![c.plan.id.as_str(); n]),
                Column::new("study_id".into(), set.clone()),
            ],
        )
        .map_err(pe)?
        .lazy();
        let rows = match c.subgroup {
            None => rows,
            Some(sg) => {
                if studies.df.column(&sg.column).is_err() {
                    return Err(Error::data(format!("subgroup {:?}: the studies table has no column {:?}", sg.name, sg.column)).field("outcomes.subgroups"));
                }
                let members = studies.df.clone().lazy().filter(col(sg.column.as_str()).cast(DataType::String).eq(lit(sg.value.as_str()))).select([col("study_id")]);
                rows.join(members, [col("study_id")], [col("study_id")], JoinArgs::new(JoinType::Semi))
            }
        };
        parts.push(rows);
    }
    if parts.is_empty() {
        return Ok(DataFrame::empty());
    }
    let od = outcome_data.df.clone().lazy().select([col("outcome"), col("study_id"), col("events_treat"), col("n_treat"), col("events_ctrl"), col("n_ctrl")]);
    concat(parts, UnionArgs::default())
        .map_err(pe)?
        .join(od, [col("outcome"), col("study_id")], [col("outcome"), col("study_id")], JoinArgs::new(JoinType::Left))
        .with_column((col("events_treat").is_not_null().and(col("events_ctrl").is_not_null())).alias("has"))
        .sort(["analysis", "pos"], SortMultipleOptions::default())
        .collect()
        .map_err(pe)
}

/// Run every outcome and its subgroups. Study sets, subgroup membership and the outcome data
/// are joined in polars ([`plan_frame`]); each analysis then fits its studies with data.
pub fn run(plans: &[OutcomePlan], studies: &Table, outcome_data: &Table, rule: &ModelRule) -> Result<Vec<Analysis>> {
    let cells: Vec<Cell> = plans.iter().flat_map(|p| std::iter::once(Cell { plan: p, subgroup: None }).chain(p.subgroups.iter().map(move |sg| Cell { plan: p, subgroup: Some(sg) }))).collect();
    let df = plan_frame(&cells, studies, outcome_data)?;
    let get = |name: &str| df.column(name).map_err(pe);
    let (analysis, study, has) =
        if df.height() > 0 { (get("analysis")?.u32().map_err(pe)?.clone(), get("study_id")?.str().map_err(pe)?.clone(), get("has")?.bool().map_err(pe)?.clone()) } else { Default::default() };
    let (et, nt, ec, nc) = if df.height() > 0 {
        (get("events_treat")?.i64().map_err(pe)?.clone(), get("n_treat")?.i64().map_err(pe)?.clone(), get("events_ctrl")?.i64().map_err(pe)?.clone(), get("n_ctrl")?.i64().map_err(pe)?.clone())
    } else {
        Default::default()
    };
    // rows of analysis a are one run (sorted by analysis, pos)
    let mut start = 0usize;
    let mut out = vec![];
    for (a, c) in cells.iter().enumerate() {
        let mut end = start;
        while end < df.height() && analysis.get(end) == Some(a as u32) {
            end += 1;
        }
        let rows = start..end;
        start = end;
        let counts = |r: usize| Counts {
            study_id: study.get(r).unwrap_or_default().to_string(),
            outcome: c.plan.id.clone(),
            events_treat: et.get(r),
            n_treat: nt.get(r).unwrap_or(0),
            events_ctrl: ec.get(r),
            n_ctrl: nc.get(r).unwrap_or(0),
        };
        let set: Vec<String> = rows.clone().map(|r| study.get(r).unwrap_or_default().to_string()).collect();
        let have: Vec<Counts> = rows.clone().filter(|&r| has.get(r) == Some(true)).map(counts).collect();
        let missing: Vec<String> = rows.filter(|&r| has.get(r) != Some(true)).map(|r| study.get(r).unwrap_or_default().to_string()).collect();
        out.push(analyse(c.plan, c.subgroup, set, have, missing, rule));
    }
    Ok(out)
}

/// One outcome × subgroup, given its study set (plan order), the studies with data and those
/// without.
fn analyse(plan: &OutcomePlan, subgroup: Option<&Subgroup>, set: Vec<String>, have: Vec<Counts>, missing: Vec<String>, rule: &ModelRule) -> Analysis {
    let mut a =
        Analysis { outcome: plan.id.clone(), subgroup: subgroup.map(|s| s.name.clone()), studies: set, missing, totals: None, model: None, fit: None, fixed: None, note: None, per_study: vec![] };
    if plan.studies.is_none() {
        a.note = Some("not computable: the review does not say which studies it pooled, and no study-level data for this outcome are available here".into());
        return a;
    }
    if a.studies.is_empty() {
        a.note = Some("no study in this subgroup".into());
        return a;
    }
    // per-study effects of the studies with data (drawn in forest and funnel plots even when the
    // outcome is not pooled)
    let study_effect = |c: &Counts| {
        let t = Binary::new(c.events_treat.unwrap() as f64, c.n_treat as f64, c.events_ctrl.unwrap() as f64, c.n_ctrl as f64);
        revman_tables(&[t])[0].as_ref().and_then(|t| binary_effect(Measure::OR, t)).map(|e| (e.yi, e.vi))
    };
    if !a.missing.is_empty() && (!plan.pool_available || have.is_empty()) {
        a.per_study = have.iter().map(|c| (c.clone(), study_effect(c), None)).collect();
        a.note = Some(format!("incomplete: no sourced data for {} ({} of {} studies have data); not pooled", a.missing.join(", "), have.len(), a.studies.len()));
        return a;
    }
    let sum = |f: &dyn Fn(&Counts) -> i64| have.iter().map(f).sum::<i64>();
    a.totals = Some((sum(&|c| c.events_treat.unwrap()), sum(&|c| c.n_treat), sum(&|c| c.events_ctrl.unwrap()), sum(&|c| c.n_ctrl)));
    match fit_counts(&have, rule) {
        Ok((model, fit, mh)) => {
            for (c, w) in have.iter().zip(&fit.weights) {
                a.per_study.push((c.clone(), study_effect(c), Some(*w)));
            }
            if !a.missing.is_empty() {
                a.note = Some(format!("pooled the {} studies with data; no sourced data for {}", have.len(), a.missing.join(", ")));
            }
            a.model = Some(model);
            a.fit = Some(fit);
            a.fixed = Some(mh);
        }
        Err(e) => {
            a.per_study = have.iter().map(|c| (c.clone(), study_effect(c), None)).collect();
            a.note = Some(format!("not estimable: {e}"));
        }
    }
    a
}

/// The results table (estimates on the OR scale).
pub fn results_table(an: &[Analysis]) -> Result<Table> {
    let mut t = Builder::new(&RESULTS);
    for a in an {
        let fit = a.fit.as_ref();
        let tot = a.totals;
        t.row(vec![
            s(&a.outcome),
            so(a.subgroup.clone()),
            i(fit.map(|f| f.k as i64).unwrap_or(a.studies.len() as i64)),
            i(tot.map(|x| x.0)),
            i(tot.map(|x| x.1)),
            i(tot.map(|x| x.2)),
            i(tot.map(|x| x.3)),
            so(a.model.clone()),
            f(fit.map(|f| f.estimate.exp())),
            f(fit.map(|f| f.ci_lb.exp())),
            f(fit.map(|f| f.ci_ub.exp())),
            f(fit.map(|f| f.p)),
            f(fit.map(|f| f.q)),
            i(fit.map(|f| f.q_df as i64)),
            f(fit.map(|f| f.q_p)),
            f(fit.map(|f| f.i2)),
            f(fit.map(|f| f.tau2)),
            so(a.note.clone()),
            s(a.studies.join(";")),
            s(Measure::OR.name()),
            s("natural"),
        ]);
    }
    t.finish()
}

/// The per-study effects each analysis used.
pub fn effects_table(an: &[Analysis], level: f64) -> Result<Table> {
    let z = metapipe_meta::dist::qnorm_two_sided(level);
    let mut t = Builder::new(&EFFECTS);
    for a in an {
        for (c, eff, w) in &a.per_study {
            t.row(vec![
                s(&a.outcome),
                so(a.subgroup.clone()),
                s(&c.study_id),
                i(c.events_treat),
                i(c.n_treat),
                i(c.events_ctrl),
                i(c.n_ctrl),
                f(eff.map(|e| e.0)),
                f(eff.map(|e| e.1)),
                f(eff.map(|e| e.0.exp())),
                f(eff.map(|e| (e.0 - z * e.1.sqrt()).exp())),
                f(eff.map(|e| (e.0 + z * e.1.sqrt()).exp())),
                f(*w),
            ]);
        }
    }
    t.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use metapipe_tables::schema::{OUTCOME_DATA, STUDIES};

    fn studies(rows: &[(&str, &str)]) -> Table {
        let mut b = Builder::new(&STUDIES);
        for (id, drug) in rows {
            b.row(vec![s(*id), so(None::<String>), s(*id), s(*drug), so(None::<String>), metapipe_tables::b(false), i(10), i(10), s("x"), so(None::<String>)]);
        }
        b.finish().unwrap()
    }
    fn data(rows: &[(&str, Option<i64>, i64, Option<i64>, i64)]) -> Table {
        let mut b = Builder::new(&OUTCOME_DATA);
        for (id, a, n1, c, n2) in rows {
            let status = if a.is_some() { "reported" } else { "missing" };
            b.row(vec![s(*id), s("m"), i(*a), i(*n1), i(*c), i(*n2), s(status), so(None::<String>), so(None::<String>), so(None::<String>)]);
        }
        b.finish().unwrap()
    }
    fn drug(d: &str) -> Subgroup {
        Subgroup { column: "drug".into(), value: d.into(), name: d.into() }
    }

    #[test]
    fn incomplete_is_not_pooled_and_names_missing() {
        let plan = OutcomePlan { id: "m".into(), studies: Some(vec!["a".into(), "b".into()]), subgroups: vec![], pool_available: false };
        let an = run(&[plan], &studies(&[("a", "x"), ("b", "x")]), &data(&[("a", Some(1), 10, Some(2), 10), ("b", None, 10, None, 10)]), &ModelRule::default()).unwrap();
        let a = &an[0];
        assert!(a.fit.is_none());
        assert_eq!(a.missing, vec!["b".to_string()]);
        assert!(a.note.as_ref().unwrap().contains("no sourced data for b"));
    }

    #[test]
    fn complete_is_pooled_with_mh_and_matches_meta() {
        let plan = OutcomePlan { id: "m".into(), studies: Some(vec!["a".into(), "b".into()]), subgroups: vec![drug("x"), drug("z")], pool_available: false };
        let an = run(&[plan], &studies(&[("a", "x"), ("b", "y")]), &data(&[("a", Some(4), 50, Some(8), 50), ("b", Some(10), 100, Some(12), 100)]), &ModelRule::default()).unwrap();
        assert_eq!(an.len(), 3);
        let f = an[0].fit.as_ref().unwrap();
        let direct = metapipe_meta::mantel_haenszel(&[Binary::new(4., 50., 8., 50.), Binary::new(10., 100., 12., 100.)], Measure::OR, 0.95).unwrap();
        assert_eq!(f.estimate, direct.estimate);
        assert_eq!(an[0].totals, Some((14, 150, 20, 150)));
        assert_eq!(an[1].studies, vec!["a".to_string()]);
        assert_eq!(an[1].subgroup.as_deref(), Some("x"));
        assert!(an[2].studies.is_empty() && an[2].note.as_deref() == Some("no study in this subgroup"));
    }

    #[test]
    fn plan_order_is_kept_and_unknown_subgroup_column_is_an_error() {
        let plan = OutcomePlan { id: "m".into(), studies: Some(vec!["b".into(), "a".into()]), subgroups: vec![], pool_available: false };
        let an = run(std::slice::from_ref(&plan), &studies(&[("a", "x"), ("b", "x")]), &data(&[("a", Some(4), 50, Some(8), 50), ("b", Some(10), 100, Some(12), 100)]), &ModelRule::default()).unwrap();
        assert_eq!(an[0].studies, vec!["b".to_string(), "a".to_string()]);
        let bad = OutcomePlan { subgroups: vec![Subgroup { column: "nope".into(), value: "1".into(), name: "n".into() }], ..plan };
        assert!(run(&[bad], &studies(&[("a", "x")]), &data(&[]), &ModelRule::default()).is_err());
    }
}
