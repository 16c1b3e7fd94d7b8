//! The GRADE domains suggested from the data, by rules stated here and in docs/config.md
//! ("Certainty of the evidence"). A suggestion is evidence for the review team, who decide in
//! `[[grade]]`; it is shown beside their judgment and never replaces it.
//!
//! - **Risk of bias**: the share of the analysis's weight from studies at high overall RoB 2
//!   risk, and at high or some concerns: −2 where high-risk studies carry half the weight or
//!   more, −1 where high and some-concerns studies together do, else 0 (Handbook 14.2.2: judge
//!   by the studies that contribute most). No suggestion without RoB judgments.
//! - **Inconsistency**: −1 where I² ≥ 50% and the Q test's p < 0.10; −2 where moreover I² ≥ 75%
//!   and the prediction interval (when computed) reaches across the null; else 0. The share of
//!   study pairs whose CIs do not overlap is given as evidence.
//! - **Indirectness**: no suggestion — the match of population, intervention, comparator and
//!   outcome to the review question is not in the data (counted as 0 in the suggested
//!   certainty).
//! - **Imprecision**: −2 where the CI reaches both thresholds of appreciable benefit and harm
//!   (default for ratios 0.75 and 1.25, GRADE's; `thresholds` in `[[grade]]`); −1 where it
//!   includes the null, or where the participants fall short of the optimal information size
//!   (binary: a trial detecting a 25% relative risk reduction from the assumed risk, α 0.05,
//!   power 80%; continuous: 400 participants, Guyatt et al. 2011); else 0.
//! - **Publication bias**: −1 where the outcome's test for funnel-plot asymmetry (k ≥ 10) has
//!   p < 0.10; 0 otherwise, saying why when it could not be tested.

use super::{natural, SofInput, SofOutcome};
use crate::cells::{fl, it, s};
use metapipe_meta::absolute::optimal_information_size;
use metapipe_tables::schema::OutcomeKind;

/// The five GRADE domains for downgrading, in the order of a Summary of findings table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    RiskOfBias,
    Inconsistency,
    Indirectness,
    Imprecision,
    PublicationBias,
}

pub const DOMAINS: [Domain; 5] = [
    Domain::RiskOfBias,
    Domain::Inconsistency,
    Domain::Indirectness,
    Domain::Imprecision,
    Domain::PublicationBias,
];

impl Domain {
    /// Its name in text (the config key with spaces).
    pub fn name(self) -> &'static str {
        match self {
            Domain::RiskOfBias => "risk of bias",
            Domain::Inconsistency => "inconsistency",
            Domain::Indirectness => "indirectness",
            Domain::Imprecision => "imprecision",
            Domain::PublicationBias => "publication bias",
        }
    }
    /// Its key in `[[grade]]`.
    pub fn key(self) -> &'static str {
        match self {
            Domain::RiskOfBias => "risk_of_bias",
            Domain::Inconsistency => "inconsistency",
            Domain::Indirectness => "indirectness",
            Domain::Imprecision => "imprecision",
            Domain::PublicationBias => "publication_bias",
        }
    }
}

/// One domain's suggestion: the levels to downgrade (None: no suggestion) and the evidence.
#[derive(Debug, Clone)]
pub struct Suggestion {
    pub domain: Domain,
    pub downgrade: Option<u8>,
    pub why: String,
}

/// Every domain's suggestion for the pooled row `r` of an outcome.
pub(super) fn suggest(
    inp: &SofInput,
    o: &SofOutcome,
    r: usize,
    participants: Option<i64>,
    risks: &[(i64, i64)],
) -> Vec<Suggestion> {
    let one = |domain, (downgrade, why): (Option<u8>, String)| Suggestion {
        domain,
        downgrade,
        why,
    };
    vec![
        one(Domain::RiskOfBias, risk_of_bias(inp, o)),
        one(Domain::Inconsistency, inconsistency(inp, o, r)),
        one(
            Domain::Indirectness,
            (
                None,
                "judged against the review question by the team".into(),
            ),
        ),
        one(
            Domain::Imprecision,
            imprecision(inp, o, r, participants, risks),
        ),
        one(Domain::PublicationBias, publication_bias(inp, o, r)),
    ]
}

/// The overall analysis's studies and their weights (`per_study_effects`, no subgroup).
fn weights(inp: &SofInput, id: &str) -> Vec<(String, f64)> {
    let e = inp.effects;
    super::analysed(e, id)
        .into_iter()
        .filter_map(|r| Some((s(e, "study_id", r)?, fl(e, "weight", r)?)))
        .collect()
}

fn pct(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

fn risk_of_bias(inp: &SofInput, o: &SofOutcome) -> (Option<u8>, String) {
    let Some(rob) = inp.rob else {
        return (None, "no RoB 2 assessment".into());
    };
    let judged = metapipe_plan::rob_overall(rob, Some(&o.id));
    let w = weights(inp, &o.id);
    let total: f64 = w.iter().map(|x| x.1).sum();
    if total <= 0.0 {
        return (None, "no study weights".into());
    }
    let share = |level: &[&str]| {
        w.iter()
            .filter(|(id, _)| judged.get(id).is_some_and(|j| level.contains(&j.as_str())))
            .map(|x| x.1)
            .sum::<f64>()
            / total
    };
    let unjudged = w.iter().filter(|(id, _)| !judged.contains_key(id)).count();
    let (high, concerns) = (share(&["high"]), share(&["high", "some concerns"]));
    let mut why = format!(
        "{} of the weight from studies at high risk, {} at high risk or some concerns",
        pct(high),
        pct(concerns)
    );
    if unjudged > 0 {
        why.push_str(&format!(", {unjudged} studies not judged"));
    }
    let d = if high >= 0.5 {
        2
    } else if concerns >= 0.5 {
        1
    } else {
        0
    };
    (Some(d), why)
}

/// The null value on the scale the results table reports the effect.
fn null_value(o: &SofOutcome) -> f64 {
    if o.log {
        1.0
    } else {
        0.0
    }
}

fn inconsistency(inp: &SofInput, o: &SofOutcome, r: usize) -> (Option<u8>, String) {
    let res = inp.results;
    let k = it(res, "k", r).unwrap_or(0);
    let (Some(i2), Some(qp)) = (fl(res, "I2", r), fl(res, "Q_p", r)) else {
        return (Some(0), format!("k = {k}: no heterogeneity to assess"));
    };
    let null = null_value(o);
    let pi = match (natural(res, "pi_lb", r), natural(res, "pi_ub", r)) {
        (Some(l), Some(u)) => Some((l, u)),
        _ => None,
    };
    let crosses = pi.is_some_and(|(l, u)| l < null && u > null);
    let mut why = format!("I² = {i2:.0}%, Q test p {}", p_text(qp));
    if let Some((l, u)) = pi {
        why.push_str(&format!(", prediction interval {} to {}", sig(l), sig(u)));
    }
    if let Some((apart, pairs)) = non_overlap(inp, &o.id) {
        why.push_str(&format!(
            ", {apart} of {pairs} study pairs with non-overlapping CIs"
        ));
    }
    let d = if i2 >= 75.0 && qp < 0.10 && (pi.is_none() || crosses) {
        2
    } else if i2 >= 50.0 && qp < 0.10 {
        1
    } else {
        0
    };
    (Some(d), why)
}

/// Study pairs of the overall analysis whose CIs do not overlap, of all pairs.
fn non_overlap(inp: &SofInput, id: &str) -> Option<(usize, usize)> {
    let e = inp.effects;
    let cis: Vec<(f64, f64)> = super::analysed(e, id)
        .into_iter()
        .filter_map(|r| Some((fl(e, "ci_lb", r)?, fl(e, "ci_ub", r)?)))
        .collect();
    let mut pairs = 0;
    let mut apart = 0;
    for (a, x) in cis.iter().enumerate() {
        for y in &cis[a + 1..] {
            pairs += 1;
            if x.1 < y.0 || y.1 < x.0 {
                apart += 1;
            }
        }
    }
    (pairs > 0).then_some((apart, pairs))
}

fn imprecision(
    inp: &SofInput,
    o: &SofOutcome,
    r: usize,
    participants: Option<i64>,
    risks: &[(i64, i64)],
) -> (Option<u8>, String) {
    let res = inp.results;
    let (Some(lb), Some(ub)) = (natural(res, "ci_lb", r), natural(res, "ci_ub", r)) else {
        return (None, "no pooled CI".into());
    };
    let null = null_value(o);
    let thresholds = o.thresholds.or_else(|| o.log.then_some((0.75, 1.25)));
    let mut why = format!("CI {} to {}", sig(lb), sig(ub));
    let includes_null = lb <= null && ub >= null;
    if let Some((lo, hi)) = thresholds {
        why.push_str(&format!(" against thresholds {} and {}", sig(lo), sig(hi)));
        if lb <= lo && ub >= hi {
            return (
                Some(2),
                why + ": appreciable benefit and harm both included",
            );
        }
    }
    if includes_null {
        return (Some(1), why + ": includes no effect");
    }
    let ois = match o.kind {
        OutcomeKind::Binary => {
            let p0 = super::assumed(&super::Baseline::MedianControl, risks);
            p0.and_then(|p| optimal_information_size(p, 0.25, 0.05, 0.2))
        }
        OutcomeKind::Continuous => Some(400.0),
        _ => None,
    };
    match (ois, participants) {
        (Some(need), Some(n)) if (n as f64) < need => (
            Some(1),
            format!("{why}; {n} participants, below the optimal information size of {need:.0}"),
        ),
        (Some(need), Some(n)) => (
            Some(0),
            format!("{why}; {n} participants, at least the optimal information size of {need:.0}"),
        ),
        _ => (Some(0), why + "; the CI excludes no effect"),
    }
}

fn publication_bias(inp: &SofInput, o: &SofOutcome, r: usize) -> (Option<u8>, String) {
    let k = it(inp.results, "k", r).unwrap_or(0);
    let test = inp.sensitivity.and_then(|t| {
        (0..t.num_rows()).find_map(|q| {
            let a = s(t, "analysis", q)?;
            let is_test = matches!(a.as_str(), "egger" | "egger_rma" | "peters" | "harbord");
            (s(t, "outcome", q).as_deref() == Some(&o.id) && is_test).then(|| (a, fl(t, "p", q)))
        })
    });
    match test {
        Some((name, Some(p))) if p < 0.10 => (
            Some(1),
            format!("funnel-plot asymmetry ({name} test p {})", p_text(p)),
        ),
        Some((name, Some(p))) => (
            Some(0),
            format!(
                "no funnel-plot asymmetry shown ({name} test p {})",
                p_text(p)
            ),
        ),
        _ if k < 10 => (Some(0), format!("not testable: k = {k} < 10")),
        _ => (
            Some(0),
            "no test for funnel-plot asymmetry run (small_study = true runs one)".into(),
        ),
    }
}

/// A p-value as the table prints it, with its relation: "= 0.127", "< 0.001".
fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("= {p:.3}")
    }
}

/// A number to three significant digits.
fn sig(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}
