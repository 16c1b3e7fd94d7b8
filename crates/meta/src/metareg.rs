//! Meta-regression (mixed-effects models with moderators), as metafor's
//! `rma.uni(yi, vi, mods = ~ …)`: any number of moderators (a [`Design`] with the intercept),
//! every τ² estimator of this crate, the z test or Knapp-Hartung (t tests on k − p df, the
//! omnibus test QM as F on (m, k − p) df) and its ad hoc variant, the residual heterogeneity QE,
//! I², H² and the pseudo-R² (the share of the intercept-only τ² the moderators account for).
//! Also used to choose the side in trim-and-fill and for the τ²-based Egger test.
//!
//! Notation as metafor: `P = W − W X (XᵀWX)⁻¹ XᵀW`; the estimators are those of `tau2.rs`
//! with the intercept-only projection replaced by this one (Viechtbauer 2005).

use crate::dist::{p_normal, p_t, pchisq_upper, qnorm_two_sided, qt_two_sided};
use crate::types::{Control, MetaError, Method, Options, Test};
use crate::zeroin::zeroin2;

mod design;
pub use design::Design;
use design::Proj;

fn proj<'a>(x: &'a Design, vi: &[f64], tau2: f64) -> Result<Proj<'a>, MetaError> {
    Proj::new(x, vi.iter().map(|v| 1.0 / (v + tau2)).collect())
}

/// τ² of the meta-regression of `y` on the design `x` by `method` (never negative; 0 for the
/// fixed-effect methods and when k ≤ p).
pub fn tau2(
    y: &[f64],
    vi: &[f64],
    x: &Design,
    method: Method,
    control: &Control,
) -> Result<f64, MetaError> {
    let k = y.len() as f64;
    let p = x.p() as f64;
    if k <= p {
        return Ok(0.0);
    }
    let mean = y.iter().sum::<f64>() / k;
    let ymc: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let he = || -> Result<f64, MetaError> {
        let pr = Proj::new(x, vec![1.0; y.len()])?;
        let trpv: f64 = (0..y.len()).map(|i| pr.p(i, i) * vi[i]).sum();
        Ok((pr.ypy(&ymc) - trpv) / (k - p))
    };
    let t = match method {
        Method::FE | Method::MH | Method::Peto | Method::GlmmFe => 0.0,
        Method::Glmm => {
            return Err(MetaError::BadInput(
                "the GLMM is not a moment or likelihood estimator of rma.uni: use its iv()".into(),
            ))
        }
        Method::DL => {
            let pr = proj(x, vi, 0.0)?;
            (pr.ypy(&ymc) - (k - p)) / pr.tr()
        }
        Method::HE => he()?,
        Method::SJ => {
            let var = ymc.iter().map(|v| v * v).sum::<f64>() / (k - 1.0);
            let t0 = var * (k - 1.0) / k;
            t0 * proj(x, vi, t0)?.ypy(&ymc) / (k - p)
        }
        Method::PM => pm(y, vi, x, &ymc, control)?,
        Method::ML | Method::REML | Method::EB => {
            let t = scoring(vi, x, &ymc, method, he()?, control)?;
            ll0_check(vi, x, &ymc, method, t, control)?
        }
    };
    Ok(t.max(0.0))
}

/// τ² by Paule-Mandel: the root of the generalised Q minus its df in [0, tau2_max].
fn pm(y: &[f64], vi: &[f64], x: &Design, ymc: &[f64], control: &Control) -> Result<f64, MetaError> {
    let (k, p) = (y.len() as f64, x.p() as f64);
    let f = |t: f64| {
        proj(x, vi, t)
            .map(|pr| pr.ypy(ymc) - (k - p))
            .unwrap_or(f64::NAN)
    };
    let f0 = f(0.0);
    if f0 < 0.0 {
        return Ok(0.0);
    }
    let hi = control
        .tau2_max
        .unwrap_or_else(|| 100f64.max(10.0 * crate::tau2::mad(y).powi(2)));
    let fh = f(hi);
    if fh > 0.0 {
        return Err(MetaError::NoConvergence(
            "PM meta-regression: tau2_max too low".into(),
        ));
    }
    zeroin2(0.0, hi, f0, fh, f, control.tol, control.maxiter)
        .ok_or_else(|| MetaError::NoConvergence("PM meta-regression".into()))
}

/// τ² by Fisher scoring (ML, REML, EB) from `start` (the HE estimate).
fn scoring(
    vi: &[f64],
    x: &Design,
    ymc: &[f64],
    method: Method,
    start: f64,
    control: &Control,
) -> Result<f64, MetaError> {
    let (k, p) = (ymc.len() as f64, x.p() as f64);
    let mut t = start.max(0.0);
    let mut change = control.threshold + 1.0;
    let mut iter = 0;
    while change > control.threshold {
        iter += 1;
        let old = t;
        let pr = proj(x, vi, t)?;
        let sw: f64 = pr.w.iter().sum();
        let mut adj = match method {
            Method::ML => {
                let py = pr.py(ymc);
                (py.iter().map(|v| v * v).sum::<f64>() - sw)
                    / pr.w.iter().map(|w| w * w).sum::<f64>()
            }
            Method::REML => {
                let py = pr.py(ymc);
                (py.iter().map(|v| v * v).sum::<f64>() - pr.tr()) / pr.tr_pp()
            }
            _ => (pr.ypy(ymc) * k / (k - p) - k) / sw,
        };
        adj *= control.stepadj;
        if adj.is_nan() {
            adj = 0.0;
        }
        while t + adj < 0.0 {
            adj /= 2.0;
        }
        t += adj;
        change = (old - t).abs();
        if iter > control.maxiter {
            return Err(MetaError::NoConvergence(
                "meta-regression Fisher scoring".into(),
            ));
        }
    }
    Ok(t)
}

/// metafor's `ll0check`: an ML/REML τ² whose (restricted) likelihood is below the one at τ² = 0
/// is a local maximum; τ² = 0 then.
fn ll0_check(
    vi: &[f64],
    x: &Design,
    ymc: &[f64],
    method: Method,
    t: f64,
    control: &Control,
) -> Result<f64, MetaError> {
    if method == Method::EB {
        return Ok(t);
    }
    let ll = |t: f64| -> Result<f64, MetaError> {
        let pr = proj(x, vi, t)?;
        let (k, p) = (ymc.len() as f64, x.p() as f64);
        let c = (2.0 * std::f64::consts::PI).ln();
        let logv: f64 = vi.iter().map(|v| (v + t).ln()).sum();
        let rss = pr.ypy(ymc);
        Ok(if method == Method::ML {
            -0.5 * k * c - 0.5 * logv - 0.5 * rss
        } else {
            -0.5 * (k - p) * c - 0.5 * logv - 0.5 * pr.log_det_m() - 0.5 * rss
        })
    };
    if ll(0.0)? - ll(t)? > control.tol && t > control.threshold {
        Ok(0.0)
    } else {
        Ok(t)
    }
}

/// Slope of `y` on one moderator `x` in the mixed-effects meta-regression fitted by `method`.
pub fn slope(
    y: &[f64],
    vi: &[f64],
    x: &[f64],
    method: Method,
    control: &Control,
) -> Result<f64, MetaError> {
    let d = Design::with_intercept(&[x.to_vec()], vec!["x".into()])?;
    let t = tau2(y, vi, &d, method, control)?;
    Ok(proj(&d, vi, t)?.beta(y)[1])
}

/// A fitted meta-regression, with metafor's names: per coefficient (the intercept first, in the
/// design's order) the estimate, SE, test statistic (z, or t under Knapp-Hartung), p and CI; the
/// omnibus test of the moderators QM (χ² on m df, or F on (m, k − p) df); the residual
/// heterogeneity QE (weights 1/vᵢ, k − p df); τ², I², H² of the residuals; R².
#[derive(Clone, Debug, PartialEq)]
pub struct MetaReg {
    pub k: usize,
    pub method: Method,
    pub tau2: f64,
    pub beta: Vec<f64>,
    pub se: Vec<f64>,
    /// z, or t under Knapp-Hartung
    pub z: Vec<f64>,
    pub p: Vec<f64>,
    pub ci_lb: Vec<f64>,
    pub ci_ub: Vec<f64>,
    /// the t tests' degrees of freedom (k − p) under Knapp-Hartung
    pub df: Option<f64>,
    /// χ² (z test) or F (Knapp-Hartung) of all coefficients but the intercept
    pub qm: f64,
    /// m, and k − p for the F test
    pub qm_df: (usize, Option<usize>),
    pub qm_p: f64,
    pub qe: f64,
    pub qe_df: usize,
    pub qe_p: f64,
    pub i2: f64,
    pub h2: f64,
    /// R² in percent: for random effects the pseudo-R² `max(0, (τ²₀ − τ²)/τ²₀)` with τ²₀ of the
    /// intercept-only model by the same method (0 when τ²₀ = 0); for a fixed-effect model the
    /// adjusted R² of the weighted regression, as metafor
    pub r2: f64,
}

/// Fit the meta-regression of `y` on the design `x` by `method` (FE: τ² = 0), with the test and
/// confidence level of `opts`. Needs k > p.
pub fn fit(
    y: &[f64],
    vi: &[f64],
    x: &Design,
    method: Method,
    opts: &Options,
) -> Result<MetaReg, MetaError> {
    let (k, p) = (y.len(), x.p());
    if x.k() != k || vi.len() != k {
        return Err(MetaError::BadInput(
            "yi, vi and the design differ in length".into(),
        ));
    }
    if k <= p {
        return Err(MetaError::NotEstimable(format!(
            "a meta-regression with {} coefficients needs more than {p} studies (has {k})",
            p
        )));
    }
    let t = tau2(y, vi, x, method, &opts.control)?;
    let pr = proj(x, vi, t)?;
    let beta = pr.beta(y);
    let mut vb = pr.minv.clone();
    let df = matches!(opts.test, Test::Knha | Test::Adhoc).then(|| (k - p) as f64);
    if let Some(df) = df {
        let rss = pr.rss(y, &beta);
        let mut s2w = if rss <= f64::EPSILON { 0.0 } else { rss / df };
        if opts.test == Test::Adhoc {
            s2w = s2w.max(1.0);
        }
        vb.iter_mut().for_each(|v| *v *= s2w);
    }
    let se: Vec<f64> = (0..p).map(|j| vb[j * p + j].sqrt()).collect();
    let z: Vec<f64> = beta.iter().zip(&se).map(|(b, s)| b / s).collect();
    let (crit, pv): (f64, Vec<f64>) = match df {
        Some(d) => (
            qt_two_sided(opts.level, d),
            z.iter().map(|z| p_t(*z, d)).collect(),
        ),
        None => (
            qnorm_two_sided(opts.level),
            z.iter().map(|z| p_normal(*z)).collect(),
        ),
    };
    let (qm, qm_df, qm_p) = moderator_test(&beta, &vb, p, k, df);
    let r = Residual::of(y, vi, x, method, t, &opts.control)?;
    Ok(MetaReg {
        k,
        method,
        tau2: t,
        ci_lb: beta.iter().zip(&se).map(|(b, s)| b - crit * s).collect(),
        ci_ub: beta.iter().zip(&se).map(|(b, s)| b + crit * s).collect(),
        beta,
        se,
        z,
        p: pv,
        df,
        qm,
        qm_df,
        qm_p,
        qe: r.qe,
        qe_df: r.qe_df,
        qe_p: pchisq_upper(r.qe, r.qe_df as f64),
        i2: r.i2,
        h2: r.h2,
        r2: r.r2,
    })
}

/// QM, its df and p: the Wald χ² of the coefficients after the intercept (`vb` their p × p
/// covariance), or under Knapp-Hartung (`df` = k − p) the F statistic QM/m.
fn moderator_test(
    beta: &[f64],
    vb: &[f64],
    p: usize,
    k: usize,
    df: Option<f64>,
) -> (f64, (usize, Option<usize>), f64) {
    let m = p - 1;
    let wald = design::wald(&beta[1..], vb, p).unwrap_or(f64::NAN);
    match df {
        Some(d) => {
            let f = wald / m as f64;
            (f, (m, Some(k - p)), crate::dist::pf_upper(f, m as f64, d))
        }
        None => (wald, (m, None), pchisq_upper(wald, m as f64)),
    }
}

/// The residual heterogeneity of a fit with τ² = `t`: QE (weights 1/vᵢ), I², H², R².
struct Residual {
    qe: f64,
    qe_df: usize,
    i2: f64,
    h2: f64,
    r2: f64,
}

impl Residual {
    fn of(
        y: &[f64],
        vi: &[f64],
        x: &Design,
        method: Method,
        t: f64,
        control: &Control,
    ) -> Result<Residual, MetaError> {
        let k = y.len();
        let fe = proj(x, vi, 0.0)?;
        let ymean = y.iter().sum::<f64>() / k as f64;
        let ymc: Vec<f64> = y.iter().map(|v| v - ymean).collect();
        let qe = fe.ypy(&ymc).max(0.0);
        let qe_df = k - x.p();
        let vt = qe_df as f64 / fe.tr();
        let (i2, h2) = if method.is_random() {
            (100.0 * t / (vt + t), t / vt + 1.0)
        } else {
            (crate::rma::i2_from_q(qe, qe_df as f64), qe / qe_df as f64)
        };
        let r2 = if method.is_random() {
            let t0 = crate::tau2::estimate(y, vi, method, control)?;
            if t0 == 0.0 {
                0.0
            } else {
                (100.0 * (t0 - t) / t0).max(0.0)
            }
        } else {
            // metafor: the adjusted R² of the weighted least-squares regression (weights 1/vᵢ)
            let q0 = crate::rma::cochran_q(y, vi);
            if q0 == 0.0 {
                0.0
            } else {
                let kf = k as f64;
                (100.0 * (1.0 - qe / q0 * (kf - 1.0) / qe_df as f64)).max(0.0)
            }
        };
        Ok(Residual {
            qe,
            qe_df,
            i2,
            h2,
            r2,
        })
    }
}
