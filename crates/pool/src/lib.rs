//! # metapipe-pool
//!
//! The analysis plan applied to the extracted data: which studies each outcome pools, which
//! model, which subgroups. An outcome whose stated studies lack data is never pooled from a
//! silent subset: its row names the studies that lack data and leaves the estimate empty (or,
//! when the plan allows pooling the available studies, says so in `note`).

use metapipe_meta::effect::{binary_effect, Binary, Measure};
use metapipe_meta::model::{revman_dl, revman_mh, revman_tables, Fit};
use metapipe_tables::schema::{EFFECTS, RESULTS};
use metapipe_tables::{f, i, s, so, Builder, Result, Table};

/// Study facts the plan needs.
#[derive(Debug, Clone)]
pub struct StudyInfo {
    pub study_id: String,
    pub drug: String,
    pub hyperinflammation: bool,
}

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

#[derive(Debug, Clone, PartialEq)]
pub enum Subgroup {
    Drug(String),
    Hyperinflammation,
}

impl Subgroup {
    pub fn name(&self) -> String {
        match self {
            Subgroup::Drug(d) => d.clone(),
            Subgroup::Hyperinflammation => "hyperinflammation".into(),
        }
    }
    fn admits(&self, s: &StudyInfo) -> bool {
        match self {
            Subgroup::Drug(d) => &s.drug == d,
            Subgroup::Hyperinflammation => s.hyperinflammation,
        }
    }
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
    let tables: Vec<Binary> = counts
        .iter()
        .map(|c| Binary::new(c.events_treat.unwrap() as f64, c.n_treat as f64, c.events_ctrl.unwrap() as f64, c.n_ctrl as f64))
        .collect();
    let mh = revman_mh(&tables, Measure::OR, rule.level).map_err(|e| e.to_string())?;
    let heterogeneous = mh.k > 1 && (mh.i2 > rule.i2_above || mh.q_p < rule.q_p_below);
    if heterogeneous {
        let dl = revman_dl(&tables, Measure::OR, rule.level).map_err(|e| e.to_string())?;
        Ok(("random effects: DerSimonian-Laird (RevMan 5)".into(), dl, mh))
    } else {
        Ok(("fixed effect: Mantel-Haenszel (RevMan 5)".into(), mh.clone(), mh))
    }
}

/// Run one outcome × subgroup.
pub fn analyse(plan: &OutcomePlan, subgroup: Option<&Subgroup>, studies: &[StudyInfo], data: &[Counts], rule: &ModelRule) -> Analysis {
    let mut a = Analysis {
        outcome: plan.id.clone(),
        subgroup: subgroup.map(|s| s.name()),
        studies: vec![],
        missing: vec![],
        totals: None,
        model: None,
        fit: None,
        fixed: None,
        note: None,
        per_study: vec![],
    };
    let Some(set) = &plan.studies else {
        a.note = Some("not computable: the review does not say which studies it pooled, and no study-level data for this outcome are available here".into());
        return a;
    };
    let set: Vec<&String> = set.iter().filter(|id| subgroup.is_none_or(|sg| studies.iter().any(|s| &s.study_id == *id && sg.admits(s)))).collect();
    let mut have = vec![];
    for id in &set {
        match data.iter().find(|c| &&c.study_id == id && c.outcome == plan.id && c.events_treat.is_some() && c.events_ctrl.is_some()) {
            Some(c) => have.push(c.clone()),
            None => a.missing.push((*id).clone()),
        }
    }
    a.studies = set.iter().map(|s| (*s).clone()).collect();
    if set.is_empty() {
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
        a.note = Some(format!(
            "incomplete: no sourced data for {} ({} of {} studies have data); not pooled",
            a.missing.join(", "),
            have.len(),
            set.len()
        ));
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

/// Run every outcome and its subgroups.
pub fn run(plans: &[OutcomePlan], studies: &[StudyInfo], data: &[Counts], rule: &ModelRule) -> Vec<Analysis> {
    let mut out = vec![];
    for p in plans {
        out.push(analyse(p, None, studies, data, rule));
        for sg in &p.subgroups {
            out.push(analyse(p, Some(sg), studies, data, rule));
        }
    }
    out
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

    fn st(id: &str, drug: &str) -> StudyInfo {
        StudyInfo { study_id: id.into(), drug: drug.into(), hyperinflammation: false }
    }
    fn c(id: &str, a: Option<i64>, n1: i64, b: Option<i64>, n2: i64) -> Counts {
        Counts { study_id: id.into(), outcome: "m".into(), events_treat: a, n_treat: n1, events_ctrl: b, n_ctrl: n2 }
    }

    #[test]
    fn incomplete_is_not_pooled_and_names_missing() {
        let plan = OutcomePlan { id: "m".into(), studies: Some(vec!["a".into(), "b".into()]), subgroups: vec![], pool_available: false };
        let a = analyse(&plan, None, &[st("a", "x"), st("b", "x")], &[c("a", Some(1), 10, Some(2), 10), c("b", None, 10, None, 10)], &ModelRule::default());
        assert!(a.fit.is_none());
        assert_eq!(a.missing, vec!["b".to_string()]);
        assert!(a.note.unwrap().contains("no sourced data for b"));
    }

    #[test]
    fn complete_is_pooled_with_mh_and_matches_meta() {
        let plan = OutcomePlan { id: "m".into(), studies: Some(vec!["a".into(), "b".into()]), subgroups: vec![Subgroup::Drug("x".into())], pool_available: false };
        let data = [c("a", Some(4), 50, Some(8), 50), c("b", Some(10), 100, Some(12), 100)];
        let an = run(&[plan], &[st("a", "x"), st("b", "y")], &data, &ModelRule::default());
        assert_eq!(an.len(), 2);
        let f = an[0].fit.as_ref().unwrap();
        let direct = metapipe_meta::mantel_haenszel(&[Binary::new(4., 50., 8., 50.), Binary::new(10., 100., 12., 100.)], Measure::OR, 0.95).unwrap();
        assert_eq!(f.estimate, direct.estimate);
        assert_eq!(an[0].totals, Some((14, 150, 20, 150)));
        assert_eq!(an[1].studies, vec!["a".to_string()]);
    }
}
