//! The inverse-variance model, intercept only (metafor `rma.uni`): fixed effect or random
//! effects with τ² from [`crate::tau2`]; Knapp-Hartung, prediction interval, Q-profile CI for τ².
//!
//! Sources: Knapp & Hartung (2003) / Sidik & Jonkman (2002) adjustment (metafor `test =
//! "knha"`); prediction interval as metafor's `predict()`: `μ̂ ± crit · √(SE² + τ²)`; Q-profile
//! confidence interval for τ² (Viechtbauer 2007, Stat Med 26:37); I² and H² from the "typical"
//! within-study variance (Higgins & Thompson 2002).

use crate::dist::{p_normal, p_t, pchisq_upper, qchisq, qnorm_two_sided, qt_two_sided};
use crate::types::{Control, Fit, MetaError, Method, Options, Pi, Test};
use crate::zeroin::zeroin2;

pub(crate) fn sum(it: impl Iterator<Item = f64>) -> f64 {
    it.sum()
}

/// Inverse-variance weighted mean of `yi` with weights `wi`.
pub(crate) fn wmean(yi: &[f64], wi: &[f64]) -> f64 {
    sum(yi.iter().zip(wi).map(|(y, w)| y * w)) / sum(wi.iter().copied())
}

/// Q about the inverse-variance fixed-effect mean, with weights `1/vi`.
pub fn cochran_q(yi: &[f64], vi: &[f64]) -> f64 {
    let wi: Vec<f64> = vi.iter().map(|v| 1.0 / v).collect();
    let m = wmean(yi, &wi);
    sum(yi.iter().zip(&wi).map(|(y, w)| w * (y - m) * (y - m))).max(0.0)
}

/// `tr(P)` for weights `wi` in the intercept-only model: Σw − Σw²/Σw.
fn tr_p(wi: &[f64]) -> f64 {
    let sw = sum(wi.iter().copied());
    sw - sum(wi.iter().map(|w| w * w)) / sw
}

/// The "typical" within-study variance ṽ = (k − 1)/tr(P) with weights 1/vᵢ (Higgins & Thompson
/// 2002), the denominator of the τ²-based I²; needs k ≥ 2.
pub(crate) fn typical_variance(vi: &[f64]) -> f64 {
    let w: Vec<f64> = vi.iter().map(|v| 1.0 / v).collect();
    (vi.len() - 1) as f64 / tr_p(&w)
}

fn validate(yi: &[f64], vi: &[f64]) -> Result<(), MetaError> {
    if yi.is_empty() {
        return Err(MetaError::NoStudies);
    }
    if yi.len() != vi.len() {
        return Err(MetaError::BadInput("yi and vi differ in length".into()));
    }
    for (i, (y, v)) in yi.iter().zip(vi).enumerate() {
        if !y.is_finite() {
            return Err(MetaError::BadInput(format!(
                "study {}: yi is not finite",
                i + 1
            )));
        }
        if !v.is_finite() || *v <= 0.0 {
            return Err(MetaError::BadInput(format!(
                "study {}: vi must be finite and > 0",
                i + 1
            )));
        }
    }
    Ok(())
}

use crate::tau2::{estimate as tau2_estimate, q_gen};

/// Q-profile confidence interval for τ² (metafor `confint(type = "QP")`).
pub fn tau2_qprofile(
    yi: &[f64],
    vi: &[f64],
    level: f64,
    control: &Control,
    tau2_hat: f64,
) -> Option<(f64, f64)> {
    let k = yi.len();
    if k < 2 {
        return None;
    }
    let df = (k - 1) as f64;
    let alpha = 1.0 - level;
    let crit_u = qchisq(1.0 - alpha / 2.0, df);
    let crit_l = qchisq(alpha / 2.0, df);
    let tau2_min = 0f64.min(tau2_hat);
    let tau2_max = control
        .tau2_max
        .unwrap_or_else(|| 100f64.max(10.0 * tau2_hat).max(10.0 * tau2_min));
    let qmax = q_gen(yi, vi, tau2_max);
    let qmin = q_gen(yi, vi, tau2_min);
    let root = |target: f64| {
        let f = |t: f64| q_gen(yi, vi, t) - target;
        zeroin2(
            tau2_min,
            tau2_max,
            qmin - target,
            qmax - target,
            f,
            control.tol,
            control.maxiter,
        )
    };
    let (lb, ub);
    if qmin < crit_l {
        lb = tau2_min;
        ub = tau2_min;
    } else if qmax > crit_u {
        lb = tau2_max;
        ub = tau2_max;
    } else {
        ub = if qmax > crit_l {
            tau2_max
        } else {
            root(crit_l)?
        };
        lb = if qmin < crit_u {
            tau2_min
        } else {
            root(crit_u)?
        };
    }
    Some((lb, ub))
}

/// Random- or fixed-effect inverse-variance model for effects `yi` with variances `vi`
/// (metafor `rma.uni`, intercept only). `method` is FE or a τ² estimator.
pub fn rma_uni(yi: &[f64], vi: &[f64], method: Method, opts: &Options) -> Result<Fit, MetaError> {
    validate(yi, vi)?;
    if matches!(method, Method::MH | Method::Peto) {
        return Err(MetaError::BadInput(format!(
            "{} needs 2x2 counts",
            method.name()
        )));
    }
    let tau2 = tau2_estimate(yi, vi, method, &opts.control)?;
    Ok(fit_with_tau2(yi, vi, method, tau2, opts))
}

/// Finish a model given τ² (estimate, inference, heterogeneity, prediction interval).
pub fn fit_with_tau2(yi: &[f64], vi: &[f64], method: Method, tau2: f64, opts: &Options) -> Fit {
    let k = yi.len();
    let kf = k as f64;
    let wi: Vec<f64> = vi.iter().map(|v| 1.0 / (v + tau2)).collect();
    let sw = sum(wi.iter().copied());
    let est = wmean(yi, &wi);
    let se2 = 1.0 / sw;
    let mut se = se2.sqrt();
    let mut df = None;
    // the Knapp-Hartung scale, where the test or the prediction interval needs it
    let knha = matches!(opts.test, Test::Knha | Test::Adhoc);
    let hk_pi = opts.extras && method.is_random() && opts.pi == Pi::Hksj;
    let s2w = (k > 1 && (knha || hk_pi)).then(|| hk_scale(yi, &wi, est));
    if let (true, Some(s2w)) = (knha, s2w) {
        // the ad hoc variant: never narrower than the Wald interval
        let s2w = if opts.test == Test::Adhoc {
            s2w.max(1.0)
        } else {
            s2w
        };
        se *= s2w.sqrt();
        df = Some(kf - 1.0);
    }
    let z = est / se;
    let (crit, p) = match df {
        Some(d) => (qt_two_sided(opts.level, d), p_t(z, d)),
        None => (qnorm_two_sided(opts.level), p_normal(z)),
    };
    let (q, q_p, i2, h2, vt) = heterogeneity_iv(yi, vi, method, tau2);
    let mut fit = Fit {
        method,
        estimate: est,
        se,
        ci_lb: est - crit * se,
        ci_ub: est + crit * se,
        z,
        p,
        k,
        q,
        q_df: k.saturating_sub(1),
        q_p,
        i2,
        i2_from_tau2: method.is_random() && k > 1,
        h2,
        tau2,
        df,
        pi_lb: None,
        pi_ub: None,
        tau2_ci: None,
        i2_ci: None,
        weights: wi.iter().map(|w| w / sw).collect(),
    };
    if opts.extras && method.is_random() {
        let se2_hk = s2w.map(|s| se2 * s);
        if let Some((lb, ub)) = prediction_interval(est, tau2, k, se2, se * se, se2_hk, opts) {
            fit.pi_lb = Some(lb);
            fit.pi_ub = Some(ub);
        }
        if matches!(method, Method::DL | Method::REML | Method::PM) && k > 1 {
            if let Some((lb, ub)) = tau2_qprofile(yi, vi, opts.level, &opts.control, tau2) {
                fit.tau2_ci = Some((lb, ub));
                fit.i2_ci = Some((100.0 * lb / (vt + lb), 100.0 * ub / (vt + ub)));
            }
        }
    }
    fit
}

/// The Knapp-Hartung scale s²_w = Σwᵢ(yᵢ − μ̂)²/(k − 1) of a fit with weights `wi` = 1/(vᵢ + τ̂²)
/// and estimate `est` (0 when the residuals vanish); needs k ≥ 2.
fn hk_scale(yi: &[f64], wi: &[f64], est: f64) -> f64 {
    let rss = sum(yi.iter().zip(wi).map(|(y, w)| w * (y - est) * (y - est)));
    if rss <= f64::EPSILON {
        0.0
    } else {
        rss / (yi.len() as f64 - 1.0)
    }
}

/// The prediction interval μ̂ ± crit · √(var + τ̂²) of the kind `opts.pi` ([`Pi`]) for a fit of
/// `k` studies: `se2` the Wald variance of μ̂, `se2_model` the one the model's own test used (the
/// Knapp-Hartung one under `knha`/`adhoc`, else `se2`), `se2_hk` the plain Knapp-Hartung one
/// where the fit has it. `None` below the kind's fewest studies, or for the HKSJ-based kind
/// without `se2_hk`. Shared by `rma.uni` and RevMan 5's DL fit.
pub(crate) fn prediction_interval(
    est: f64,
    tau2: f64,
    k: usize,
    se2: f64,
    se2_model: f64,
    se2_hk: Option<f64>,
    opts: &Options,
) -> Option<(f64, f64)> {
    if k < opts.pi.min_k() {
        return None;
    }
    let kf = k as f64;
    let (crit, var) = match (opts.pi, opts.test) {
        (Pi::Metafor, Test::Knha | Test::Adhoc) if k > 1 => {
            (qt_two_sided(opts.level, kf - 1.0), se2_model)
        }
        (Pi::Metafor, _) => (qnorm_two_sided(opts.level), se2),
        (Pi::T, _) => (qt_two_sided(opts.level, kf - 2.0), se2),
        (Pi::Z, _) => (qnorm_two_sided(opts.level), se2),
        (Pi::Hksj, _) => (qt_two_sided(opts.level, kf - 1.0), se2_hk?),
    };
    let half = crit * (var + tau2).sqrt();
    Some((est - half, est + half))
}

/// Q, its p-value, I², H² and the typical within-study variance, as `rma.uni()`.
fn heterogeneity_iv(
    yi: &[f64],
    vi: &[f64],
    method: Method,
    tau2: f64,
) -> (f64, f64, f64, f64, f64) {
    let k = yi.len();
    if k < 2 {
        return (0.0, 1.0, 0.0, 1.0, 0.0);
    }
    let df = (k - 1) as f64;
    let q = cochran_q(yi, vi);
    let vt = typical_variance(vi);
    let (i2, h2) = if method.is_random() {
        (100.0 * tau2 / (vt + tau2), tau2 / vt + 1.0)
    } else {
        (i2_from_q(q, df), q / df)
    };
    (q, pchisq_upper(q, df), i2, h2, vt)
}

/// I² = max(0, (Q − df)/Q) · 100.
pub fn i2_from_q(q: f64, df: f64) -> f64 {
    if q <= 0.0 {
        0.0
    } else {
        (100.0 * (q - df) / q).max(0.0)
    }
}
