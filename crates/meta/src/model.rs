//! Pooling models: Mantel-Haenszel, Peto, inverse-variance fixed effect, and the random-effects
//! model with every τ² estimator metafor's `rma.uni()` offers here.
//!
//! Sources (formulas as metafor 3.8 implements them, checked number by number in the tests):
//! - Mantel & Haenszel (1959) pooled OR; its variance: Robins, Breslow & Greenland (1986).
//! - MH risk ratio and its variance: Greenland & Robins (1985).
//! - MH risk difference and its variance: Sato, Greenland & Robins (1989).
//! - Peto's one-step OR: Yusuf et al. (1985).
//! - DerSimonian & Laird (1986); Hedges (1983) "HE"; Sidik & Jonkman (2005) "SJ";
//!   Paule & Mandel (1982) "PM"; Morris (1983) empirical Bayes "EB"; ML and REML by Fisher
//!   scoring (Viechtbauer 2005, J Educ Behav Stat 30:261).
//! - Knapp & Hartung (2003) / Sidik & Jonkman (2002) adjustment (metafor `test = "knha"`).
//! - Prediction interval as metafor's `predict()`: `μ̂ ± crit · √(SE² + τ²)`.
//! - Q-profile confidence interval for τ² (Viechtbauer 2007, Stat Med 26:37); I² and H² from
//!   the "typical" within-study variance (Higgins & Thompson 2002).

use crate::dist::{p_normal, p_t, pchisq_upper, qchisq, qnorm_two_sided, qt_two_sided};
use crate::effect::{binary_effect, escalc_binary, Binary, Effect, Measure, ZeroCell};
use crate::zeroin::{zeroin2, R_UNIROOT_TOL};
use std::fmt;

/// Pooling methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Mantel-Haenszel fixed effect (binary data)
    MH,
    /// Peto's one-step odds ratio (binary data)
    Peto,
    /// inverse-variance fixed ("equal") effect, metafor `method = "EE"`
    FE,
    DL,
    REML,
    PM,
    ML,
    SJ,
    HE,
    EB,
}

impl Method {
    pub fn parse(s: &str) -> Option<Method> {
        Some(match s.to_ascii_uppercase().as_str() {
            "MH" => Method::MH,
            "PETO" => Method::Peto,
            "FE" | "EE" | "IV" => Method::FE,
            "DL" => Method::DL,
            "REML" => Method::REML,
            "PM" => Method::PM,
            "ML" => Method::ML,
            "SJ" => Method::SJ,
            "HE" => Method::HE,
            "EB" => Method::EB,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Method::MH => "MH",
            Method::Peto => "PETO",
            Method::FE => "FE",
            Method::DL => "DL",
            Method::REML => "REML",
            Method::PM => "PM",
            Method::ML => "ML",
            Method::SJ => "SJ",
            Method::HE => "HE",
            Method::EB => "EB",
        }
    }
    pub fn is_random(self) -> bool {
        !matches!(self, Method::MH | Method::Peto | Method::FE)
    }
}

/// Test statistic for the pooled estimate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Test {
    Z,
    /// Hartung-Knapp-Sidik-Jonkman (metafor `test = "knha"`)
    Knha,
}

/// Iteration settings, named and defaulted as metafor's `control` list.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Control {
    /// Upper end of the search interval for PM and the Q-profile limits. `None`: metafor's
    /// default `max(100, 10 · mad(yi)²)`.
    pub tau2_max: Option<f64>,
    /// Convergence threshold on the change in τ² (ML, REML, EB).
    pub threshold: f64,
    /// Iteration limit (ML, REML, EB, and `uniroot`).
    pub maxiter: usize,
    /// Step-size multiplier of the Fisher scoring steps.
    pub stepadj: f64,
    /// `uniroot` tolerance.
    pub tol: f64,
}

impl Default for Control {
    fn default() -> Self {
        Control { tau2_max: None, threshold: 1e-5, maxiter: 100, stepadj: 1.0, tol: R_UNIROOT_TOL }
    }
}

/// How an analysis is run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    pub level: f64,
    pub test: Test,
    pub control: Control,
    /// Compute prediction interval and (DL/REML/PM) Q-profile intervals.
    pub extras: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { level: 0.95, test: Test::Z, control: Control::default(), extras: true }
    }
}

/// Why a model could not be fitted.
#[derive(Clone, Debug, PartialEq)]
pub enum MetaError {
    NoStudies,
    NotEstimable(String),
    NoConvergence(String),
    BadInput(String),
}

impl fmt::Display for MetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetaError::NoStudies => write!(f, "no studies to pool"),
            MetaError::NotEstimable(s) => write!(f, "not estimable: {s}"),
            MetaError::NoConvergence(s) => write!(f, "did not converge: {s}"),
            MetaError::BadInput(s) => write!(f, "bad input: {s}"),
        }
    }
}
impl std::error::Error for MetaError {}

/// A fitted model, with metafor's names in the comments. Estimates are on the analysis scale
/// (log for ratio measures).
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    pub method: Method,
    pub estimate: f64,
    pub se: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
    /// z (or t under HKSJ)
    pub z: f64,
    pub p: f64,
    /// studies in the analysis
    pub k: usize,
    /// heterogeneity statistic `QE`
    pub q: f64,
    /// its degrees of freedom (studies with an estimable effect − 1)
    pub q_df: usize,
    pub q_p: f64,
    pub i2: f64,
    pub h2: f64,
    pub tau2: f64,
    /// t degrees of freedom (HKSJ only)
    pub df: Option<f64>,
    pub pi_lb: Option<f64>,
    pub pi_ub: Option<f64>,
    pub tau2_ci: Option<(f64, f64)>,
    pub i2_ci: Option<(f64, f64)>,
    /// Relative weights (summing to 1) of the studies, in input order; 0 for a study that
    /// contributes nothing.
    pub weights: Vec<f64>,
}

fn sum(it: impl Iterator<Item = f64>) -> f64 {
    it.sum()
}

/// Inverse-variance weighted mean of `yi` with weights `wi`.
fn wmean(yi: &[f64], wi: &[f64]) -> f64 {
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

fn validate(yi: &[f64], vi: &[f64]) -> Result<(), MetaError> {
    if yi.is_empty() {
        return Err(MetaError::NoStudies);
    }
    if yi.len() != vi.len() {
        return Err(MetaError::BadInput("yi and vi differ in length".into()));
    }
    for (i, (y, v)) in yi.iter().zip(vi).enumerate() {
        if !y.is_finite() {
            return Err(MetaError::BadInput(format!("study {}: yi is not finite", i + 1)));
        }
        if !v.is_finite() || *v <= 0.0 {
            return Err(MetaError::BadInput(format!("study {}: vi must be finite and > 0", i + 1)));
        }
    }
    Ok(())
}

pub use crate::tau2::{estimate as tau2_estimate, mad, q_gen};

/// Q-profile confidence interval for τ² (metafor `confint(type = "QP")`).
pub fn tau2_qprofile(yi: &[f64], vi: &[f64], level: f64, control: &Control, tau2_hat: f64) -> Option<(f64, f64)> {
    let k = yi.len();
    if k < 2 {
        return None;
    }
    let df = (k - 1) as f64;
    let alpha = 1.0 - level;
    let crit_u = qchisq(1.0 - alpha / 2.0, df);
    let crit_l = qchisq(alpha / 2.0, df);
    let tau2_min = 0f64.min(tau2_hat);
    let tau2_max = control.tau2_max.unwrap_or_else(|| 100f64.max(10.0 * tau2_hat).max(10.0 * tau2_min));
    let qmax = q_gen(yi, vi, tau2_max);
    let qmin = q_gen(yi, vi, tau2_min);
    let root = |target: f64| {
        let f = |t: f64| q_gen(yi, vi, t) - target;
        zeroin2(tau2_min, tau2_max, qmin - target, qmax - target, f, control.tol, control.maxiter)
    };
    let (lb, ub);
    if qmin < crit_l {
        lb = tau2_min;
        ub = tau2_min;
    } else if qmax > crit_u {
        lb = tau2_max;
        ub = tau2_max;
    } else {
        ub = if qmax > crit_l { tau2_max } else { root(crit_l)? };
        lb = if qmin < crit_u { tau2_min } else { root(crit_u)? };
    }
    Some((lb, ub))
}

/// Random- or fixed-effect inverse-variance model for effects `yi` with variances `vi`
/// (metafor `rma.uni`, intercept only). `method` is FE or a τ² estimator.
pub fn rma_uni(yi: &[f64], vi: &[f64], method: Method, opts: &Options) -> Result<Fit, MetaError> {
    validate(yi, vi)?;
    if matches!(method, Method::MH | Method::Peto) {
        return Err(MetaError::BadInput(format!("{} needs 2x2 counts", method.name())));
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
    let mut se = (1.0 / sw).sqrt();
    let mut df = None;
    if opts.test == Test::Knha && k > 1 {
        let rss = sum(yi.iter().zip(&wi).map(|(y, w)| w * (y - est) * (y - est)));
        let s2w = if rss <= f64::EPSILON { 0.0 } else { rss / (kf - 1.0) };
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
        let half = crit * (se * se + tau2).sqrt();
        fit.pi_lb = Some(est - half);
        fit.pi_ub = Some(est + half);
        if matches!(method, Method::DL | Method::REML | Method::PM) && k > 1 {
            if let Some((lb, ub)) = tau2_qprofile(yi, vi, opts.level, &opts.control, tau2) {
                fit.tau2_ci = Some((lb, ub));
                fit.i2_ci = Some((100.0 * lb / (vt + lb), 100.0 * ub / (vt + ub)));
            }
        }
    }
    fit
}

/// Q, its p-value, I², H² and the typical within-study variance, as `rma.uni()`.
fn heterogeneity_iv(yi: &[f64], vi: &[f64], method: Method, tau2: f64) -> (f64, f64, f64, f64, f64) {
    let k = yi.len();
    if k < 2 {
        return (0.0, 1.0, 0.0, 1.0, 0.0);
    }
    let df = (k - 1) as f64;
    let q = cochran_q(yi, vi);
    let w: Vec<f64> = vi.iter().map(|v| 1.0 / v).collect();
    let vt = df / tr_p(&w);
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

fn check_tables(tables: &[Binary]) -> Result<(), MetaError> {
    if tables.is_empty() {
        return Err(MetaError::NoStudies);
    }
    for (i, t) in tables.iter().enumerate() {
        let ok = [t.ai, t.n1i, t.ci, t.n2i].iter().all(|x| x.is_finite() && *x >= 0.0) && t.ai <= t.n1i && t.ci <= t.n2i;
        if !ok {
            return Err(MetaError::BadInput(format!("study {}: counts must satisfy 0 <= events <= n", i + 1)));
        }
    }
    Ok(())
}

/// Heterogeneity about a fixed estimate `beta` with the `escalc` effects of `rma.mh`/`rma.peto`
/// (add 1/2 to zero-cell studies, double zeros dropped). Returns (Q, df, p, I², H²).
fn heterogeneity_about(effects: &[Option<Effect>], beta: f64) -> (f64, usize, f64, f64, f64) {
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
                return Err(MetaError::NotEstimable("MH odds ratio: no events (or no non-events) in one arm across all studies".into()));
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
                return Err(MetaError::NotEstimable("MH risk ratio: no events in one arm across all studies".into()));
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
                pterm += c * (n1 / n).powi(2) - a * (n2 / n).powi(2) + (n1 / n) * (n2 / n) * (n2 - n1) / 2.0;
                qterm += a * (n2 - c) / n + c * (n1 - a) / n;
                w[i] = n1 * (n2 / n);
            }
            let beta = num / den;
            (beta, ((beta * pterm + qterm / 2.0) / (den * den)).sqrt())
        }
        _ => return Err(MetaError::BadInput(format!("Mantel-Haenszel is for OR, RR, RD, not {}", measure.name()))),
    };
    let effects = escalc_binary(measure, tables, ZeroCell::MH_Q);
    let (q, q_df, q_p, i2, h2) = heterogeneity_about(&effects, beta);
    let sw: f64 = w.iter().sum();
    let z = beta / se;
    Ok(Fit {
        method: Method::MH,
        estimate: beta,
        se,
        ci_lb: beta - crit * se,
        ci_ub: beta + crit * se,
        z,
        p: p_normal(z),
        k,
        q,
        q_df,
        q_p,
        i2,
        h2,
        tau2: 0.0,
        df: None,
        pi_lb: None,
        pi_ub: None,
        tau2_ci: None,
        i2_ci: None,
        weights: w.iter().map(|x| if sw > 0.0 { x / sw } else { 0.0 }).collect(),
    })
}

/// Peto's one-step log odds ratio (`rma.peto`).
pub fn peto(tables: &[Binary], level: f64) -> Result<Fit, MetaError> {
    check_tables(tables)?;
    let k = tables.len();
    let mut o_e = Vec::with_capacity(k);
    let mut var = Vec::with_capacity(k);
    for t in tables {
        let n = t.n1i + t.n2i;
        let xt = t.ai + t.ci;
        let yt = t.bi() + t.di();
        let e = xt * t.n1i / n;
        let v = xt * yt * (t.n1i / n) * (t.n2i / n) / (n - 1.0);
        o_e.push(t.ai - e);
        var.push(if v.is_finite() { v } else { 0.0 });
    }
    let sv: f64 = var.iter().sum();
    if sv == 0.0 {
        return Err(MetaError::NotEstimable("Peto: one of the outcomes never occurred".into()));
    }
    let so: f64 = o_e.iter().sum();
    let beta = so / sv;
    let se = (1.0 / sv).sqrt();
    let crit = qnorm_two_sided(level);
    let k_yi = tables.iter().filter(|t| !t.is_double_zero()).filter(|t| {
        let tt = if t.has_zero_cell() { t.plus(0.5) } else { **t };
        let n = tt.n1i + tt.n2i;
        let v = (tt.ai + tt.ci) * (tt.bi() + tt.di()) * (tt.n1i / n) * (tt.n2i / n) / (n - 1.0);
        v > 0.0 && v.is_finite()
    }).count();
    let q = (sum(o_e.iter().zip(&var).filter(|(_, v)| **v > 0.0).map(|(o, v)| o * o / v)) - so * so / sv).max(0.0);
    let (q_df, q_p, i2, h2) = if k_yi > 1 {
        let df = (k_yi - 1) as f64;
        (k_yi - 1, pchisq_upper(q, df), i2_from_q(q, df), q / df)
    } else {
        (0, 1.0, 0.0, 1.0)
    };
    let z = beta / se;
    Ok(Fit {
        method: Method::Peto,
        estimate: beta,
        se,
        ci_lb: beta - crit * se,
        ci_ub: beta + crit * se,
        z,
        p: p_normal(z),
        k,
        q,
        q_df,
        q_p,
        i2,
        h2,
        tau2: 0.0,
        df: None,
        pi_lb: None,
        pi_ub: None,
        tau2_ci: None,
        i2_ci: None,
        weights: var.iter().map(|v| v / sv).collect(),
    })
}

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
        return Err(MetaError::BadInput("the RevMan 5 convention is implemented for OR and RR".into()));
    }
    let kept: Vec<Binary> = revman_tables(tables).into_iter().flatten().collect();
    if kept.is_empty() {
        return Err(MetaError::NotEstimable("every study has no events (or only events) in both arms".into()));
    }
    let mh = mantel_haenszel(&kept, measure, level)?;
    let es: Vec<Effect> = kept.iter().map(|t| binary_effect(measure, t)).collect::<Option<Vec<_>>>()
        .ok_or_else(|| MetaError::NotEstimable("a study effect is not finite".into()))?;
    let yi: Vec<f64> = es.iter().map(|e| e.yi).collect();
    let vi: Vec<f64> = es.iter().map(|e| e.vi).collect();
    let k = kept.len();
    let w: Vec<f64> = vi.iter().map(|v| 1.0 / v).collect();
    let q = sum(yi.iter().zip(&w).map(|(y, wi)| wi * (y - mh.estimate).powi(2)));
    let tau2 = if k > 1 { crate::tau2::dl_moment(q, &vi).max(0.0) } else { 0.0 };
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
        weights.push(if t.is_some() { it.next().copied().unwrap_or(0.0) / swr } else { 0.0 });
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
        return Err(MetaError::BadInput("the RevMan 5 convention is implemented for OR and RR".into()));
    }
    let kept_opt = revman_tables(tables);
    let kept: Vec<Binary> = kept_opt.iter().flatten().copied().collect();
    if kept.is_empty() {
        return Err(MetaError::NotEstimable("every study has no events (or only events) in both arms".into()));
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
    fit.weights = kept_opt.iter().map(|t| if t.is_some() { it.next().unwrap_or(0.0) } else { 0.0 }).collect();
    Ok(fit)
}

impl Fit {
    /// The fit as (key, value) pairs under the key names of metafor's fixtures
    /// (`tests/fixtures/oracle/metafor/*.json`): always `estimate, se, ci_lb, ci_ub, z, p, k, Q,
    /// Q_df, Q_p, I2, H2, tau2`, then `pi_lb, pi_ub` (random effects) and the
    /// Q-profile limits (DL, REML, PM) where computed.
    pub fn fields(&self) -> Vec<(&'static str, f64)> {
        let mut v = vec![
            ("estimate", self.estimate),
            ("se", self.se),
            ("ci_lb", self.ci_lb),
            ("ci_ub", self.ci_ub),
            ("z", self.z),
            ("p", self.p),
            ("k", self.k as f64),
            ("Q", self.q),
            ("Q_df", self.q_df as f64),
            ("Q_p", self.q_p),
            ("I2", self.i2),
            ("H2", self.h2),
            ("tau2", self.tau2),
        ];
        if let (Some(a), Some(b)) = (self.pi_lb, self.pi_ub) {
            v.push(("pi_lb", a));
            v.push(("pi_ub", b));
        }
        if let Some((a, b)) = self.tau2_ci {
            v.push(("tau2_ci_lb", a));
            v.push(("tau2_ci_ub", b));
        }
        if let Some((a, b)) = self.i2_ci {
            v.push(("I2_ci_lb", a));
            v.push(("I2_ci_ub", b));
        }
        v
    }
}
