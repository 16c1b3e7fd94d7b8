//! τ² estimators for the intercept-only random-effects model, each written once and
//! allocation-free over slices: the single-analysis path ([`crate::model::rma_uni`]) and the
//! batch kernels ([`crate::batch`]) both call [`estimate`].
//!
//! As metafor's `rma.uni()`, `yi` is mean-centred before estimation (it changes nothing but
//! rounding); the centring is done on the fly. Sources: DerSimonian & Laird (1986); Hedges
//! (1983) "HE"; Sidik & Jonkman (2005) "SJ"; Paule & Mandel (1982) "PM" (root by R's `uniroot`,
//! i.e. Brent's zeroin); ML, REML and Morris (1983) empirical Bayes "EB" by Fisher scoring
//! (Viechtbauer 2005, J Educ Behav Stat 30:261).

use crate::types::{Control, MetaError, Method};
use crate::zeroin::zeroin2;

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Generalized Q at `tau2` of `yi − c`: Σ (y − c − μ̂(τ²))² / (v + τ²) (metafor's `.QE.func`,
/// intercept only). Allocation-free; translation-invariant in `c` up to rounding.
pub fn q_centred(yi: &[f64], vi: &[f64], c: f64, tau2: f64) -> f64 {
    let (mut sw, mut swy) = (0.0, 0.0);
    for (y, v) in yi.iter().zip(vi) {
        let w = 1.0 / (v + tau2);
        sw += w;
        swy += (y - c) * w;
    }
    let m = swy / sw;
    yi.iter()
        .zip(vi)
        .map(|(y, v)| (1.0 / (v + tau2)) * (y - c - m) * (y - c - m))
        .sum()
}

/// Generalized Q at `tau2`: Σ (y − μ̂(τ²))² / (v + τ²).
pub fn q_gen(yi: &[f64], vi: &[f64], tau2: f64) -> f64 {
    q_centred(yi, vi, 0.0, tau2)
}

/// R's `mad()` (scaled by 1.4826).
pub fn mad(xs: &[f64]) -> f64 {
    fn median(v: &mut [f64]) -> f64 {
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }
    let m = median(&mut xs.to_vec());
    1.4826 * median(&mut xs.iter().map(|x| (x - m).abs()).collect::<Vec<_>>())
}

/// DerSimonian-Laird's moment estimator (unclipped) given a heterogeneity statistic `q` with
/// weights `1/vi`: (Q − (k − 1)) / (Σw − Σw²/Σw). `estimate` takes Q about the inverse-variance
/// mean; RevMan 5 takes Q about the Mantel-Haenszel estimate.
pub fn dl_moment(q: f64, vi: &[f64]) -> f64 {
    let (mut sw, mut sw2) = (0.0, 0.0);
    for v in vi {
        let w = 1.0 / v;
        sw += w;
        sw2 += w * w;
    }
    dl_from_sums(q, vi.len(), sw, sw2)
}

/// [`dl_moment`] from sums already at hand (Σw, Σw² with w = 1/v): the batch kernel has them.
#[inline]
pub fn dl_from_sums(q: f64, k: usize, sw: f64, sw2: f64) -> f64 {
    (q - (k as f64 - 1.0)) / (sw - sw2 / sw)
}

/// Hedges' estimator (unclipped): also the starting value of ML, REML and EB.
fn hedges(yi: &[f64], vi: &[f64], ybar: f64) -> f64 {
    let kf = yi.len() as f64;
    let rss = yi.iter().map(|y| (y - ybar) * (y - ybar)).sum::<f64>()
        - yi.iter().map(|y| y - ybar).sum::<f64>().powi(2) / kf;
    let sv: f64 = vi.iter().sum();
    (rss - (sv - sv / kf)) / (kf - 1.0)
}

/// Estimate τ² by `method` for the intercept-only model, as `rma.uni()` (0 for k = 1 and for
/// the fixed-effect methods; never negative).
#[inline(never)]
pub fn estimate(
    yi: &[f64],
    vi: &[f64],
    method: Method,
    control: &Control,
) -> Result<f64, MetaError> {
    let k = yi.len();
    if k <= 1 {
        return Ok(0.0);
    }
    let kf = k as f64;
    let ybar = mean(yi);
    let tau2 = match method {
        Method::FE | Method::MH | Method::Peto | Method::GlmmFe => 0.0,
        Method::Glmm => {
            return Err(MetaError::BadInput(
                "the GLMM is fitted on the counts (glmm.rs), not by rma.uni".into(),
            ))
        }
        Method::DL => dl_moment(q_centred(yi, vi, ybar, 0.0), vi),
        Method::HE => hedges(yi, vi, ybar),
        Method::SJ => {
            let var = yi.iter().map(|y| (y - ybar) * (y - ybar)).sum::<f64>() / (kf - 1.0)
                - yi.iter().map(|y| y - ybar).sum::<f64>().powi(2) / (kf * (kf - 1.0));
            let t0 = var * (kf - 1.0) / kf;
            t0 * q_centred(yi, vi, ybar, t0) / (kf - 1.0)
        }
        Method::PM => {
            let tau2_max = control
                .tau2_max
                .unwrap_or_else(|| 100f64.max(10.0 * mad(yi).powi(2)));
            let target = kf - 1.0;
            let f = |t: f64| q_centred(yi, vi, ybar, t) - target;
            let f0 = f(0.0);
            if f0 < 0.0 {
                0.0
            } else {
                let fmax = f(tau2_max);
                if fmax > 0.0 {
                    return Err(MetaError::NoConvergence(format!(
                        "PM: tau2_max = {tau2_max} too low"
                    )));
                }
                zeroin2(0.0, tau2_max, f0, fmax, f, control.tol, control.maxiter)
                    .ok_or_else(|| MetaError::NoConvergence("PM: uniroot".into()))?
            }
        }
        Method::ML | Method::REML | Method::EB => {
            scoring(yi, vi, method, hedges(yi, vi, ybar).max(0.0), control)?
        }
    };
    Ok(tau2.max(0.0))
}

/// Fisher scoring for ML/REML/EB without allocation, step by step as metafor's `rma.uni()`
/// (Viechtbauer 2005): adjustment × `stepadj`, step-halving at τ² = 0, stop when the change is
/// below `threshold`, and for ML/REML fall back to τ² = 0 when it has the larger likelihood.
pub fn scoring(
    yi: &[f64],
    vi: &[f64],
    method: Method,
    start: f64,
    control: &Control,
) -> Result<f64, MetaError> {
    let kf = yi.len() as f64;
    let ybar = yi.iter().sum::<f64>() / kf;
    let mut tau2 = start;
    let mut change = control.threshold + 1.0;
    let mut iter = 0;
    while change > control.threshold {
        iter += 1;
        let old = tau2;
        let mut adj = adjustment(yi, vi, ybar, tau2, method);
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
            return Err(MetaError::NoConvergence(format!(
                "{}: Fisher scoring did not converge",
                method.name()
            )));
        }
    }
    if matches!(method, Method::ML | Method::REML) {
        let ll = |t: f64| loglik(yi, vi, ybar, t, method);
        if ll(0.0) - ll(tau2) > control.tol && tau2 > control.threshold {
            tau2 = 0.0;
        }
    }
    Ok(tau2.max(0.0))
}

/// One Fisher-scoring step's adjustment of τ² (before `stepadj`), sums about the mean `ybar`.
#[inline]
fn adjustment(yi: &[f64], vi: &[f64], ybar: f64, tau2: f64, method: Method) -> f64 {
    let kf = yi.len() as f64;
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
    match method {
        Method::ML => (ypy - sw) / sw2,
        Method::REML => {
            let trp = sw - sw2 / sw;
            let trpp = sw2 - 2.0 * sw3 / sw + (sw2 / sw).powi(2);
            (ypy - trp) / trpp
        }
        _ => (rss * kf / (kf - 1.0) - kf) / sw,
    }
}

/// The (restricted) log-likelihood at τ² = `t` (ML, else REML).
#[inline]
fn loglik(yi: &[f64], vi: &[f64], ybar: f64, t: f64, method: Method) -> f64 {
    let kf = yi.len() as f64;
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
}
