//! The types every model shares: methods, tests, metafor's `control`, options, errors, and the
//! fitted model ([`Fit`]) with metafor's names.

use crate::zeroin::R_UNIROOT_TOL;
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
    /// the binomial-normal GLMM by maximum likelihood (metafor `rma.glmm(method = "ML")`: OR by
    /// the unconditional model with fixed study effects, PLO with a random intercept)
    Glmm,
    /// its fixed-effect form: the logistic regression (`rma.glmm(method = "EE")`)
    GlmmFe,
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
            "GLMM" => Method::Glmm,
            "GLMM_FE" | "GLMM_EE" => Method::GlmmFe,
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
            Method::Glmm => "GLMM",
            Method::GlmmFe => "GLMM_FE",
        }
    }
    pub fn is_random(self) -> bool {
        !matches!(
            self,
            Method::MH | Method::Peto | Method::FE | Method::GlmmFe
        )
    }
    /// The GLMMs (`rma.glmm`), fitted on the counts rather than on per-study effects.
    pub fn is_glmm(self) -> bool {
        matches!(self, Method::Glmm | Method::GlmmFe)
    }
    /// The inverse-variance method that stands in for this one in analyses of per-study effects
    /// (trim-and-fill, meta-regression, small-study tests): ML for the GLMM, FE for its
    /// fixed-effect form.
    pub fn iv(self) -> Method {
        match self {
            Method::Glmm => Method::ML,
            Method::GlmmFe => Method::FE,
            m => m,
        }
    }
}

/// Test statistic for the pooled estimate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Test {
    Z,
    /// Hartung-Knapp-Sidik-Jonkman (metafor `test = "knha"`)
    Knha,
    /// Knapp-Hartung with the ad hoc correction: the SE never narrower than the Wald SE (the
    /// scaling factor at least 1; metafor `test = "adhoc"`, meta's `adhoc.hakn.ci = "se"`)
    Adhoc,
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
        Control {
            tau2_max: None,
            threshold: 1e-5,
            maxiter: 100,
            stepadj: 1.0,
            tol: R_UNIROOT_TOL,
        }
    }
}

/// How the prediction interval of a random-effects model is computed (μ̂ the pooled estimate,
/// τ̂² the heterogeneity, SE the Wald (inverse-variance) standard error of μ̂, SE_HK the
/// Knapp-Hartung one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pi {
    /// metafor's `predict()`: `μ̂ ± crit · √(SE² + τ̂²)` with the model's own test (z, or t with
    /// k − 1 df and SE_HK under Knapp-Hartung); for any k, as metafor
    Metafor,
    /// Higgins, Thompson & Spiegelhalter (2009), Cochrane Handbook 10.10.4.3, meta's "HTS":
    /// `μ̂ ± t(k − 2) · √(SE² + τ̂²)`; needs k ≥ 3
    T,
    /// `μ̂ ± z · √(SE² + τ̂²)`; from k = 3 (as the Handbook's)
    Z,
    /// the HKSJ-based interval: `μ̂ ± t(k − 1) · √(SE_HK² + τ̂²)` (metafor's `predict()` under
    /// `test = "knha"`, meta's "HK"); from k = 3
    Hksj,
}

impl Pi {
    /// The fewest studies this interval is given for.
    pub fn min_k(self) -> usize {
        if self == Pi::Metafor {
            1
        } else {
            3
        }
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
    /// the prediction interval's kind
    pub pi: Pi,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            level: 0.95,
            test: Test::Z,
            control: Control::default(),
            extras: true,
            pi: Pi::Metafor,
        }
    }
}

/// A confidence level as a fraction, from a percentage (95) or a fraction (0.95); `None` for
/// anything else (0, 100, out of range).
pub fn level_fraction(l: f64) -> Option<f64> {
    if l > 1.0 && l < 100.0 {
        Some(l / 100.0)
    } else if l > 0.0 && l < 1.0 {
        Some(l)
    } else {
        None
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
    /// whether `i2` is τ̂²/(τ̂² + ṽ) (random-effects `rma.uni`) rather than (Q − df)/Q
    pub i2_from_tau2: bool,
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

impl Fit {
    /// A fixed-effect fit (MH, Peto): estimate `beta` with standard error `se`, normal CI at
    /// critical value `crit`, heterogeneity `(Q, df, p, I², H²)`, and the studies' weights.
    pub fn fixed(
        method: Method,
        beta: f64,
        se: f64,
        crit: f64,
        k: usize,
        het: (f64, usize, f64, f64, f64),
        weights: Vec<f64>,
    ) -> Fit {
        let (q, q_df, q_p, i2, h2) = het;
        let z = beta / se;
        Fit {
            method,
            estimate: beta,
            se,
            ci_lb: beta - crit * se,
            ci_ub: beta + crit * se,
            z,
            p: crate::dist::p_normal(z),
            k,
            q,
            q_df,
            q_p,
            i2,
            i2_from_tau2: false,
            h2,
            tau2: 0.0,
            df: None,
            pi_lb: None,
            pi_ub: None,
            tau2_ci: None,
            i2_ci: None,
            weights,
        }
    }

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
