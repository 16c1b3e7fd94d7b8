//! Allocation-free kernels for pooling many meta-analyses (simulation studies, `pool --group`).
//!
//! Each kernel computes exactly what [`crate::model::rma_uni`] / [`crate::model::mantel_haenszel`]
//! compute for the same options (the tests check equality to 1e-12), but over slices and without
//! heap allocation, and without the Q-profile confidence interval for τ² (a root search per
//! analysis; use the single-analysis path when it is wanted).

use crate::dist::{p_normal, pchisq_upper, qnorm_two_sided};
use crate::model::{i2_from_q, mh_or_terms, mh_or_var, Control, MetaError, Method};

/// One pooled analysis (log scale for ratio measures), the columns of `pool --group`.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Row {
    pub k: usize,
    pub estimate: f64,
    pub se: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
    pub z: f64,
    pub p: f64,
    pub q: f64,
    pub q_df: usize,
    pub q_p: f64,
    pub i2: f64,
    pub h2: f64,
    pub tau2: f64,
    pub pi_lb: f64,
    pub pi_ub: f64,
}

/// Inverse-variance model with τ² by `method` (FE, DL, REML, ML, EB, HE, SJ; PM is not offered
/// here) on `yi`, `vi`; `crit` = the normal critical value for the confidence level.
pub fn iv(yi: &[f64], vi: &[f64], method: Method, control: &Control, crit: f64) -> Result<Row, MetaError> {
    let k = yi.len();
    if k == 0 {
        return Err(MetaError::NoStudies);
    }
    let kf = k as f64;
    // fixed-effect sums
    let (mut sw, mut swy, mut sw2) = (0.0, 0.0, 0.0);
    for (y, v) in yi.iter().zip(vi) {
        let w = 1.0 / v;
        sw += w;
        swy += w * y;
        sw2 += w * w;
    }
    let mean_fe = swy / sw;
    let mut q = 0.0;
    for (y, v) in yi.iter().zip(vi) {
        q += (y - mean_fe) * (y - mean_fe) / v;
    }
    let q = q.max(0.0);
    let trp = sw - sw2 / sw;
    let tau2 = if k == 1 {
        0.0
    } else {
        match method {
            Method::FE => 0.0,
            Method::DL => ((q - (kf - 1.0)) / trp).max(0.0),
            Method::HE | Method::REML | Method::ML | Method::EB => {
                let ybar = yi.iter().sum::<f64>() / kf;
                let (mut ss, mut sv) = (0.0, 0.0);
                for (y, v) in yi.iter().zip(vi) {
                    ss += (y - ybar) * (y - ybar);
                    sv += v;
                }
                let he = (ss - (sv - sv / kf)) / (kf - 1.0);
                if method == Method::HE {
                    he.max(0.0)
                } else {
                    scoring(yi, vi, method, he.max(0.0), control)?
                }
            }
            Method::SJ => {
                let ybar = yi.iter().sum::<f64>() / kf;
                let ss: f64 = yi.iter().map(|y| (y - ybar) * (y - ybar)).sum();
                let t0 = ss / kf;
                let (mut a, mut b) = (0.0, 0.0);
                for (y, v) in yi.iter().zip(vi) {
                    let w = 1.0 / (v + t0);
                    a += w;
                    b += w * y;
                }
                let m = b / a;
                let rss: f64 = yi.iter().zip(vi).map(|(y, v)| (y - m) * (y - m) / (v + t0)).sum();
                (t0 * rss / (kf - 1.0)).max(0.0)
            }
            _ => return Err(MetaError::BadInput(format!("{} is not available in the batch kernel", method.name()))),
        }
    };
    let (mut swr, mut swry) = (0.0, 0.0);
    for (y, v) in yi.iter().zip(vi) {
        let w = 1.0 / (v + tau2);
        swr += w;
        swry += w * y;
    }
    let est = swry / swr;
    let se = (1.0 / swr).sqrt();
    let z = est / se;
    let df = kf - 1.0;
    let (q_p, i2, h2) = if k > 1 {
        let vt = df / trp;
        let (i2, h2) = if method == Method::FE { (i2_from_q(q, df), q / df) } else { (100.0 * tau2 / (vt + tau2), tau2 / vt + 1.0) };
        (pchisq_upper(q, df), i2, h2)
    } else {
        (1.0, 0.0, 1.0)
    };
    // prediction interval for random-effects models only (as `rma_uni`)
    let half_pi = if method == Method::FE { f64::NAN } else { crit * (se * se + tau2).sqrt() };
    Ok(Row {
        k,
        estimate: est,
        se,
        ci_lb: est - crit * se,
        ci_ub: est + crit * se,
        z,
        p: p_normal(z),
        q: if k > 1 { q } else { 0.0 },
        q_df: k - 1,
        q_p,
        i2,
        h2,
        tau2,
        pi_lb: est - half_pi,
        pi_ub: est + half_pi,
    })
}

/// Fisher scoring for ML/REML/EB without allocation, step by step as metafor's `rma.uni()`
/// (Viechtbauer 2005): adjustment × `stepadj`, step-halving at τ² = 0, stop when the change is
/// below `threshold`, and for ML/REML fall back to τ² = 0 when it has the larger likelihood.
pub(crate) fn scoring(yi: &[f64], vi: &[f64], method: Method, start: f64, control: &Control) -> Result<f64, MetaError> {
    let kf = yi.len() as f64;
    let ybar = yi.iter().sum::<f64>() / kf;
    let mut tau2 = start;
    let mut change = control.threshold + 1.0;
    let mut iter = 0;
    while change > control.threshold {
        iter += 1;
        let old = tau2;
        let (mut sw, mut swy, mut sw2, mut sw3) = (0.0, 0.0, 0.0, 0.0);
        for (y, v) in yi.iter().zip(vi) {
            let w = 1.0 / (v + tau2);
            sw += w;
            swy += w * (y - ybar);
            sw2 += w * w;
            sw3 += w * w * w;
        }
        let m = swy / sw;
        let (mut ypy, mut rss) = (0.0, 0.0);
        for (y, v) in yi.iter().zip(vi) {
            let w = 1.0 / (v + tau2);
            let d = y - ybar - m;
            ypy += w * w * d * d;
            rss += w * d * d;
        }
        let mut adj = match method {
            Method::ML => (ypy - sw) / sw2,
            Method::REML => {
                let trp = sw - sw2 / sw;
                let trpp = sw2 - 2.0 * sw3 / sw + (sw2 / sw).powi(2);
                (ypy - trp) / trpp
            }
            _ => (rss * kf / (kf - 1.0) - kf) / sw,
        };
        adj *= control.stepadj;
        if adj.is_nan() {
            adj = 0.0;
        }
        while tau2 + adj < 0.0 {
            adj /= 2.0;
        }
        tau2 += adj;
        change = (old - tau2).abs();
        if iter > control.maxiter {
            return Err(MetaError::NoConvergence(format!("{}: Fisher scoring did not converge", method.name())));
        }
    }
    if matches!(method, Method::ML | Method::REML) {
        let ll = |t: f64| {
            let (mut sw, mut swy) = (0.0, 0.0);
            for (y, v) in yi.iter().zip(vi) {
                let w = 1.0 / (v + t);
                sw += w;
                swy += w * (y - ybar);
            }
            let m = swy / sw;
            let (mut rss, mut logdet) = (0.0, 0.0);
            for (y, v) in yi.iter().zip(vi) {
                let d = y - ybar - m;
                rss += d * d / (v + t);
                logdet += (v + t).ln();
            }
            let c = (2.0 * std::f64::consts::PI).ln();
            if method == Method::ML {
                -0.5 * kf * c - 0.5 * logdet - 0.5 * rss
            } else {
                -0.5 * (kf - 1.0) * c - 0.5 * logdet - 0.5 * sw.ln() - 0.5 * rss
            }
        };
        if ll(0.0) - ll(tau2) > control.tol && tau2 > control.threshold {
            tau2 = 0.0;
        }
    }
    Ok(tau2.max(0.0))
}

/// Mantel-Haenszel odds ratio (Robins-Breslow-Greenland variance) with metafor's heterogeneity
/// statistic, on parallel slices of counts.
pub fn mh_or(ai: &[f64], n1i: &[f64], ci: &[f64], n2i: &[f64], crit: f64) -> Result<Row, MetaError> {
    let k = ai.len();
    if k == 0 {
        return Err(MetaError::NoStudies);
    }
    let mut sums = [0.0; 5];
    for j in 0..k {
        let v = mh_or_terms(ai[j], n1i[j] - ai[j], ci[j], n2i[j] - ci[j]);
        for (x, y) in sums.iter_mut().zip(v) {
            *x += y;
        }
    }
    if sums[0] == 0.0 || sums[1] == 0.0 {
        return Err(MetaError::NotEstimable("MH odds ratio: no events (or no non-events) in one arm".into()));
    }
    let beta = (sums[0] / sums[1]).ln();
    let se = mh_or_var(&sums).sqrt();
    // heterogeneity: escalc effects with 1/2 added to zero-cell studies, double zeros dropped
    let (mut qsum, mut kyi) = (0.0, 0usize);
    for j in 0..k {
        let (mut a, mut c) = (ai[j], ci[j]);
        let (mut b, mut d) = (n1i[j] - a, n2i[j] - c);
        if (a == 0.0 && c == 0.0) || (b == 0.0 && d == 0.0) {
            continue;
        }
        if a == 0.0 || b == 0.0 || c == 0.0 || d == 0.0 {
            a += 0.5;
            b += 0.5;
            c += 0.5;
            d += 0.5;
        }
        let y = (a * d / (b * c)).ln();
        let v = 1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d;
        qsum += (y - beta) * (y - beta) / v;
        kyi += 1;
    }
    let (q, q_df, q_p, i2, h2) = if kyi > 1 {
        let df = (kyi - 1) as f64;
        let q = qsum.max(0.0);
        (q, kyi - 1, pchisq_upper(q, df), i2_from_q(q, df), q / df)
    } else {
        (0.0, 0, 1.0, 0.0, 1.0)
    };
    let z = beta / se;
    Ok(Row {
        k,
        estimate: beta,
        se,
        ci_lb: beta - crit * se,
        ci_ub: beta + crit * se,
        z,
        p: p_normal(z),
        q,
        q_df,
        q_p,
        i2,
        h2,
        tau2: 0.0,
        pi_lb: f64::NAN,
        pi_ub: f64::NAN,
    })
}

/// Normal critical value for a confidence level (computed once per batch).
pub fn crit(level: f64) -> f64 {
    qnorm_two_sided(level)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{mantel_haenszel, rma_uni, Options};
    use crate::{Binary, Measure};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs())) || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn kernels_equal_the_single_analysis_path() {
        let yi = [0.1, -0.3, 0.25, 0.4, -0.05, 0.6, 0.2, 0.0, 0.15, -0.2];
        let vi = [0.02, 0.05, 0.1, 0.04, 0.03, 0.2, 0.06, 0.08, 0.05, 0.09];
        let opts = Options { extras: true, ..Options::default() };
        let c = crit(0.95);
        for m in [Method::FE, Method::DL, Method::REML, Method::ML, Method::EB, Method::HE, Method::SJ] {
            let a = iv(&yi, &vi, m, &opts.control, c).unwrap();
            let b = rma_uni(&yi, &vi, m, &opts).unwrap();
            for (x, y, name) in [(a.estimate, b.estimate, "est"), (a.se, b.se, "se"), (a.tau2, b.tau2, "tau2"), (a.q, b.q, "Q"), (a.q_p, b.q_p, "Qp"), (a.i2, b.i2, "I2"), (a.h2, b.h2, "H2"), (a.p, b.p, "p"), (a.ci_lb, b.ci_lb, "lb")] {
                assert!(close(x, y), "{m:?} {name}: {x} vs {y}");
            }
            if m != Method::FE {
                assert!(close(a.pi_lb, b.pi_lb.unwrap()), "{m:?} pi");
            }
        }
        let t = [Binary::new(4., 50., 8., 50.), Binary::new(0., 30., 3., 31.), Binary::new(10., 100., 12., 100.), Binary::new(0., 20., 0., 20.)];
        let b = mantel_haenszel(&t, Measure::OR, 0.95).unwrap();
        let (ai, n1, ci, n2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (t.iter().map(|x| x.ai).collect(), t.iter().map(|x| x.n1i).collect(), t.iter().map(|x| x.ci).collect(), t.iter().map(|x| x.n2i).collect());
        let a = mh_or(&ai, &n1, &ci, &n2, c).unwrap();
        for (x, y) in [(a.estimate, b.estimate), (a.se, b.se), (a.q, b.q), (a.q_p, b.q_p), (a.i2, b.i2), (a.h2, b.h2)] {
            assert!(close(x, y), "MH {x} vs {y}");
        }
        assert_eq!(a.q_df, b.q_df);
    }
}
