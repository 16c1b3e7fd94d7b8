//! Meta-regression with one moderator (intercept + x), as metafor's `rma.uni(yi, vi, mods = x)`,
//! for the τ² estimators of this crate. Used to choose the side in trim-and-fill.
//!
//! Notation as metafor: `P = W − W X (XᵀWX)⁻¹ XᵀW`; the estimators are those of
//! `model.rs` with the intercept-only projection replaced by this one (Viechtbauer 2005).

use crate::types::{Control, MetaError, Method};
use crate::zeroin::zeroin2;

struct Proj {
    w: Vec<f64>,
    /// rows of W X
    a: Vec<[f64; 2]>,
    /// (XᵀWX)⁻¹
    minv: [[f64; 2]; 2],
}

impl Proj {
    fn new(x: &[f64], w: Vec<f64>) -> Option<Proj> {
        let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
        for (wi, xi) in w.iter().zip(x) {
            s0 += wi;
            s1 += wi * xi;
            s2 += wi * xi * xi;
        }
        let det = s0 * s2 - s1 * s1;
        if det.abs() <= f64::EPSILON * s0 * s2 {
            return None;
        }
        let minv = [[s2 / det, -s1 / det], [-s1 / det, s0 / det]];
        let a = w.iter().zip(x).map(|(wi, xi)| [*wi, wi * xi]).collect();
        Some(Proj { w, a, minv })
    }
    fn q(&self, i: usize, j: usize) -> f64 {
        let (ai, aj) = (self.a[i], self.a[j]);
        ai[0] * (self.minv[0][0] * aj[0] + self.minv[0][1] * aj[1])
            + ai[1] * (self.minv[1][0] * aj[0] + self.minv[1][1] * aj[1])
    }
    fn p(&self, i: usize, j: usize) -> f64 {
        (if i == j { self.w[i] } else { 0.0 }) - self.q(i, j)
    }
    fn beta(&self, y: &[f64]) -> [f64; 2] {
        let mut ay = [0.0, 0.0];
        for (ai, yi) in self.a.iter().zip(y) {
            ay[0] += ai[0] * yi;
            ay[1] += ai[1] * yi;
        }
        [
            self.minv[0][0] * ay[0] + self.minv[0][1] * ay[1],
            self.minv[1][0] * ay[0] + self.minv[1][1] * ay[1],
        ]
    }
    /// P y
    fn py(&self, y: &[f64]) -> Vec<f64> {
        let b = self.beta(y);
        y.iter()
            .zip(&self.w)
            .zip(&self.a)
            .map(|((yi, wi), ai)| wi * yi - (ai[0] * b[0] + ai[1] * b[1]))
            .collect()
    }
    fn ypy(&self, y: &[f64]) -> f64 {
        y.iter().zip(self.py(y)).map(|(a, b)| a * b).sum()
    }
    fn tr(&self) -> f64 {
        (0..self.w.len()).map(|i| self.p(i, i)).sum()
    }
    fn tr_pp(&self) -> f64 {
        let k = self.w.len();
        let mut s = 0.0;
        for i in 0..k {
            for j in 0..k {
                s += self.p(i, j).powi(2);
            }
        }
        s
    }
}

fn proj(x: &[f64], vi: &[f64], tau2: f64) -> Result<Proj, MetaError> {
    Proj::new(x, vi.iter().map(|v| 1.0 / (v + tau2)).collect())
        .ok_or_else(|| MetaError::NotEstimable("moderator is constant".into()))
}

/// τ² of the meta-regression `y ~ 1 + x` by `method`.
pub fn tau2(
    y: &[f64],
    vi: &[f64],
    x: &[f64],
    method: Method,
    control: &Control,
) -> Result<f64, MetaError> {
    let k = y.len() as f64;
    let p = 2.0;
    if k <= p {
        return Ok(0.0);
    }
    let mean = y.iter().sum::<f64>() / k;
    let ymc: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let he = || -> Result<f64, MetaError> {
        let pr = Proj::new(x, vec![1.0; y.len()])
            .ok_or_else(|| MetaError::NotEstimable("moderator is constant".into()))?;
        let trpv: f64 = (0..y.len()).map(|i| pr.p(i, i) * vi[i]).sum();
        Ok((pr.ypy(&ymc) - trpv) / (k - p))
    };
    let t = match method {
        Method::FE | Method::MH | Method::Peto => 0.0,
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
        Method::ML | Method::REML | Method::EB => scoring(vi, x, &ymc, method, he()?, control)?,
    };
    Ok(t.max(0.0))
}

/// τ² by Paule-Mandel: the root of the generalised Q minus its df in [0, tau2_max].
fn pm(y: &[f64], vi: &[f64], x: &[f64], ymc: &[f64], control: &Control) -> Result<f64, MetaError> {
    let (k, p) = (y.len() as f64, 2.0);
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
    x: &[f64],
    ymc: &[f64],
    method: Method,
    start: f64,
    control: &Control,
) -> Result<f64, MetaError> {
    let (k, p) = (ymc.len() as f64, 2.0);
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

/// Slope of `y` on `x` in the mixed-effects meta-regression fitted by `method`.
pub fn slope(
    y: &[f64],
    vi: &[f64],
    x: &[f64],
    method: Method,
    control: &Control,
) -> Result<f64, MetaError> {
    let t = tau2(y, vi, x, method, control)?;
    Ok(proj(x, vi, t)?.beta(y)[1])
}

/// A mixed-effects meta-regression `y ~ 1 + x` (metafor `rma.uni(yi, vi, mods = ~ x)` with the
/// z test): coefficients with standard errors from `(XᵀWX)⁻¹`, Wald z tests and CIs, the test
/// of the moderator `QM` (= z² of the slope), the residual heterogeneity `QE` (weights 1/vᵢ)
/// and τ² of the residuals.
#[derive(Clone, Debug, PartialEq)]
pub struct MetaReg {
    pub k: usize,
    pub tau2: f64,
    /// [intercept, slope]
    pub beta: [f64; 2],
    pub se: [f64; 2],
    pub z: [f64; 2],
    pub p: [f64; 2],
    pub ci_lb: [f64; 2],
    pub ci_ub: [f64; 2],
    pub qm: f64,
    pub qm_p: f64,
    pub qe: f64,
    pub qe_p: f64,
}

/// Fit `y ~ 1 + x` by `method` (FE: τ² = 0), at confidence `level`.
pub fn fit(
    y: &[f64],
    vi: &[f64],
    x: &[f64],
    method: Method,
    level: f64,
    control: &Control,
) -> Result<MetaReg, MetaError> {
    let k = y.len();
    if k < 3 {
        return Err(MetaError::NotEstimable(
            "meta-regression needs k >= 3".into(),
        ));
    }
    let t = if method.is_random() {
        tau2(y, vi, x, method, control)?
    } else {
        0.0
    };
    let p = proj(x, vi, t)?;
    let beta = p.beta(y);
    let se = [p.minv[0][0].sqrt(), p.minv[1][1].sqrt()];
    let crit = crate::dist::qnorm_two_sided(level);
    let z = [beta[0] / se[0], beta[1] / se[1]];
    let pv = [crate::dist::p_normal(z[0]), crate::dist::p_normal(z[1])];
    let qe = proj(x, vi, 0.0)?.ypy(y);
    Ok(MetaReg {
        k,
        tau2: t,
        beta,
        se,
        z,
        p: pv,
        ci_lb: [beta[0] - crit * se[0], beta[1] - crit * se[1]],
        ci_ub: [beta[0] + crit * se[0], beta[1] + crit * se[1]],
        qm: z[1] * z[1],
        qm_p: pv[1],
        qe,
        qe_p: crate::dist::pchisq_upper(qe, (k - 2) as f64),
    })
}
