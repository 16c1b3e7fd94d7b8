//! Mantel-Haenszel fixed-effect models (metafor `rma.mh`) for OR, RR and RD.
//!
//! Sources: Mantel & Haenszel (1959) pooled OR, its variance Robins, Breslow & Greenland (1986);
//! MH risk ratio and its variance Greenland & Robins (1985); MH risk difference and its variance
//! Sato, Greenland & Robins (1989).

use crate::dist::{pchisq_upper, qnorm_two_sided};
use crate::effect::{escalc_binary, Binary, Effect, Measure, ZeroCell};
use crate::rma::{i2_from_q, sum};
use crate::types::{Fit, MetaError, Method};

pub(crate) fn check_tables(tables: &[Binary]) -> Result<(), MetaError> {
    if tables.is_empty() {
        return Err(MetaError::NoStudies);
    }
    for (i, t) in tables.iter().enumerate() {
        let ok = [t.ai, t.n1i, t.ci, t.n2i]
            .iter()
            .all(|x| x.is_finite() && *x >= 0.0)
            && t.ai <= t.n1i
            && t.ci <= t.n2i;
        if !ok {
            return Err(MetaError::BadInput(format!(
                "study {}: counts must satisfy 0 <= events <= n",
                i + 1
            )));
        }
    }
    Ok(())
}

/// Heterogeneity about a fixed estimate `beta` with the `escalc` effects of `rma.mh`/`rma.peto`
/// (add 1/2 to zero-cell studies, double zeros dropped). Returns (Q, df, p, I², H²).
pub(crate) fn heterogeneity_about(
    effects: &[Option<Effect>],
    beta: f64,
) -> (f64, usize, f64, f64, f64) {
    let es: Vec<Effect> = effects.iter().flatten().copied().collect();
    let k_yi = es.len();
    if k_yi > 1 {
        let df = (k_yi - 1) as f64;
        let q = sum(es.iter().map(|e| (e.yi - beta).powi(2) / e.vi)).max(0.0);
        (q, k_yi - 1, pchisq_upper(q, df), i2_from_q(q, df), q / df)
    } else {
        (0.0, 0, 1.0, 0.0, 1.0)
    }
}

/// One 2×2 table's terms of the Mantel-Haenszel odds ratio and its Robins-Breslow-Greenland
/// variance: [R, S, P·R, P·S + Q·R, Q·S] with R = ad/N, S = bc/N, P = (a+d)/N, Q = (b+c)/N.
pub fn mh_or_terms(a: f64, b: f64, c: f64, d: f64) -> [f64; 5] {
    let n = a + b + c + d;
    let (p, q) = (a / n + d / n, b / n + c / n);
    let (r, s) = ((a / n) * d, (b / n) * c);
    [r, s, p * r, p * s + q * r, q * s]
}

/// The RBG variance of the log MH odds ratio from the summed [`mh_or_terms`].
pub fn mh_or_var(t: &[f64]) -> f64 {
    let (r, s) = (t[0], t[1]);
    0.5 * (t[2] / (r * r) + t[3] / (r * s) + t[4] / (s * s))
}

/// Mantel-Haenszel fixed-effect model (`rma.mh`) for OR, RR or RD on the given counts
/// (no continuity correction inside the MH sums, as metafor).
pub fn mantel_haenszel(tables: &[Binary], measure: Measure, level: f64) -> Result<Fit, MetaError> {
    check_tables(tables)?;
    let crit = qnorm_two_sided(level);
    let k = tables.len();
    let mut w = vec![0.0; k];
    let (beta, se) = match measure {
        Measure::OR => {
            let mut sums = [0.0; 5];
            for (i, t) in tables.iter().enumerate() {
                let v = mh_or_terms(t.ai, t.bi(), t.ci, t.di());
                for j in 0..5 {
                    sums[j] += v[j];
                }
                w[i] = v[1];
            }
            if sums[0] == 0.0 || sums[1] == 0.0 {
                return Err(MetaError::NotEstimable(
                    "MH odds ratio: no events (or no non-events) in one arm across all studies"
                        .into(),
                ));
            }
            ((sums[0] / sums[1]).ln(), mh_or_var(&sums).sqrt())
        }
        Measure::RR => {
            let (mut r, mut s, mut num) = (0.0, 0.0, 0.0);
            let (mut sa, mut sc) = (0.0, 0.0);
            for (i, t) in tables.iter().enumerate() {
                let n = t.n1i + t.n2i;
                r += t.ai * (t.n2i / n);
                s += t.ci * (t.n1i / n);
                num += (t.n1i / n) * (t.n2i / n) * (t.ai + t.ci) - (t.ai / n) * t.ci;
                sa += t.ai;
                sc += t.ci;
                w[i] = t.ci * (t.n1i / n);
            }
            if sa == 0.0 || sc == 0.0 {
                return Err(MetaError::NotEstimable(
                    "MH risk ratio: no events in one arm across all studies".into(),
                ));
            }
            ((r / s).ln(), (num / (r * s)).sqrt())
        }
        Measure::RD => {
            let (mut num, mut den, mut pterm, mut qterm) = (0.0, 0.0, 0.0, 0.0);
            for (i, t) in tables.iter().enumerate() {
                let n = t.n1i + t.n2i;
                let (n1, n2, a, c) = (t.n1i, t.n2i, t.ai, t.ci);
                num += a * (n2 / n) - c * (n1 / n);
                den += n1 * (n2 / n);
                pterm += c * (n1 / n).powi(2) - a * (n2 / n).powi(2)
                    + (n1 / n) * (n2 / n) * (n2 - n1) / 2.0;
                qterm += a * (n2 - c) / n + c * (n1 - a) / n;
                w[i] = n1 * (n2 / n);
            }
            let beta = num / den;
            (beta, ((beta * pterm + qterm / 2.0) / (den * den)).sqrt())
        }
        _ => {
            return Err(MetaError::BadInput(format!(
                "Mantel-Haenszel is for OR, RR, RD, not {}",
                measure.name()
            )))
        }
    };
    let effects = escalc_binary(measure, tables, ZeroCell::MH_Q);
    let (q, q_df, q_p, i2, h2) = heterogeneity_about(&effects, beta);
    let sw: f64 = w.iter().sum();
    Ok(Fit::fixed(
        Method::MH,
        beta,
        se,
        crit,
        k,
        (q, q_df, q_p, i2, h2),
        w.iter()
            .map(|x| if sw > 0.0 { x / sw } else { 0.0 })
            .collect(),
    ))
}
