//! RevMan 5's conventions for binary data (Deeks & Higgins, "Statistical algorithms in Review
//! Manager 5", 2010): its zero-cell rule, Mantel-Haenszel under that rule, and DerSimonian-Laird
//! with τ² from Q about the MH estimate.

use crate::dist::{p_normal, pchisq_upper, qnorm_two_sided};
use crate::effect::{binary_effect, Binary, Effect, Measure};
use crate::mh::{check_tables, heterogeneity_about, mantel_haenszel};
use crate::rma::{i2_from_q, sum, wmean};
use crate::types::{Fit, MetaError, Method};

/// RevMan 5's zero-cell rule for one study: dropped (`None`) with no events or only events in both
/// arms; 0.5 added to every cell of a study with a zero cell.
pub fn revman_correct(t: &Binary) -> Option<Binary> {
    if t.is_double_zero() {
        None
    } else if t.has_zero_cell() {
        Some(t.plus(0.5))
    } else {
        Some(*t)
    }
}

/// RevMan 5's zero-cell rule over a table of studies (see [`revman_correct`]).
pub fn revman_tables(tables: &[Binary]) -> Vec<Option<Binary>> {
    tables.iter().map(revman_correct).collect()
}

/// RevMan 5 random effects for binary data: DerSimonian-Laird with τ² from the Mantel-Haenszel
/// heterogeneity statistic (Q with inverse-variance weights about the MH estimate), after
/// RevMan's zero-cell rule (Deeks & Higgins, "Statistical algorithms in Review Manager 5", 2010).
pub fn revman_dl(tables: &[Binary], measure: Measure, level: f64) -> Result<Fit, MetaError> {
    check_tables(tables)?;
    if !matches!(measure, Measure::OR | Measure::RR) {
        return Err(MetaError::BadInput(
            "the RevMan 5 convention is implemented for OR and RR".into(),
        ));
    }
    let kept: Vec<Binary> = revman_tables(tables).into_iter().flatten().collect();
    if kept.is_empty() {
        return Err(MetaError::NotEstimable(
            "every study has no events (or only events) in both arms".into(),
        ));
    }
    let mh = mantel_haenszel(&kept, measure, level)?;
    let es: Vec<Effect> = kept
        .iter()
        .map(|t| binary_effect(measure, t))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| MetaError::NotEstimable("a study effect is not finite".into()))?;
    let yi: Vec<f64> = es.iter().map(|e| e.yi).collect();
    let vi: Vec<f64> = es.iter().map(|e| e.vi).collect();
    let k = kept.len();
    let w: Vec<f64> = vi.iter().map(|v| 1.0 / v).collect();
    let q = sum(yi
        .iter()
        .zip(&w)
        .map(|(y, wi)| wi * (y - mh.estimate).powi(2)));
    let tau2 = if k > 1 {
        crate::tau2::dl_moment(q, &vi).max(0.0)
    } else {
        0.0
    };
    let wr: Vec<f64> = vi.iter().map(|v| 1.0 / (v + tau2)).collect();
    let swr = sum(wr.iter().copied());
    let est = wmean(&yi, &wr);
    let se = (1.0 / swr).sqrt();
    let crit = qnorm_two_sided(level);
    let df = (k.saturating_sub(1)) as f64;
    let z = est / se;
    // weights aligned to the input order (0 for dropped studies)
    let mut weights = Vec::with_capacity(tables.len());
    let mut it = wr.iter();
    for t in revman_tables(tables) {
        weights.push(if t.is_some() {
            it.next().copied().unwrap_or(0.0) / swr
        } else {
            0.0
        });
    }
    Ok(Fit {
        method: Method::DL,
        estimate: est,
        se,
        ci_lb: est - crit * se,
        ci_ub: est + crit * se,
        z,
        p: p_normal(z),
        k,
        q,
        q_df: k - 1,
        q_p: if k > 1 { pchisq_upper(q, df) } else { 1.0 },
        i2: if k > 1 { i2_from_q(q, df) } else { 0.0 },
        i2_from_tau2: false,
        h2: if k > 1 { q / df } else { 1.0 },
        tau2,
        df: None,
        pi_lb: None,
        pi_ub: None,
        tau2_ci: None,
        i2_ci: None,
        weights,
    })
}

/// Mantel-Haenszel under RevMan 5's zero-cell rule (metafor's `mh_revman` in the oracle).
pub fn revman_mh(tables: &[Binary], measure: Measure, level: f64) -> Result<Fit, MetaError> {
    check_tables(tables)?;
    if !matches!(measure, Measure::OR | Measure::RR) {
        return Err(MetaError::BadInput(
            "the RevMan 5 convention is implemented for OR and RR".into(),
        ));
    }
    let kept_opt = revman_tables(tables);
    let kept: Vec<Binary> = kept_opt.iter().flatten().copied().collect();
    if kept.is_empty() {
        return Err(MetaError::NotEstimable(
            "every study has no events (or only events) in both arms".into(),
        ));
    }
    let mut fit = mantel_haenszel(&kept, measure, level)?;
    // Q from the corrected counts themselves (no further correction)
    let effects: Vec<Option<Effect>> = kept.iter().map(|t| binary_effect(measure, t)).collect();
    let (q, q_df, q_p, i2, h2) = heterogeneity_about(&effects, fit.estimate);
    fit.q = q;
    fit.q_df = q_df;
    fit.q_p = q_p;
    fit.i2 = i2;
    fit.h2 = h2;
    let mut it = fit.weights.clone().into_iter();
    fit.weights = kept_opt
        .iter()
        .map(|t| {
            if t.is_some() {
                it.next().unwrap_or(0.0)
            } else {
                0.0
            }
        })
        .collect();
    Ok(fit)
}
