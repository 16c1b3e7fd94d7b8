//! Generalized linear mixed models for binary data and proportions, as metafor's `rma.glmm`
//! (lme4's `glmer` underneath) with its defaults: the exact binomial likelihood, integrated over
//! the random effect by adaptive Gauss-Hermite quadrature with 7 nodes (`nAGQ = 7`).
//!
//! - Odds ratios, `model = "UM.FS"` (unconditional model, fixed study effects): study i's arms
//!   have logits αᵢ + θ + τuᵢ/2 (treatment) and αᵢ − τuᵢ/2 (control), uᵢ ~ N(0, 1): θ is the
//!   pooled log odds ratio, τ² its between-study variance (Turner et al. 2000; Stijnen, Hamza
//!   & Özdemir 2010). `EE`: τ = 0 (the logistic regression with study and treatment effects).
//!   Studies without events, or with only events, in both arms are left out (`drop00 = TRUE`).
//! - Proportions (PLO): logit pᵢ = μ + τuᵢ (`EE`: τ = 0, one logistic regression).
//!
//! The maximum-likelihood estimates are found by nested one-dimensional searches (each study's
//! αᵢ for given θ and τ, θ for given τ, then τ over [0, ∞)); the standard error of θ is the
//! inverse of the observed information of the quadrature likelihood over (τ, θ, α) — lme4's
//! `vcov(use.hessian = TRUE)` — by central differences. I² as `rma.glmm`: τ²/(τ² + ṽ) with the
//! typical within-study variance ṽ of escalc's effects (1/2 added to studies with a zero cell).

use crate::dist::{p_normal, qnorm_two_sided};
use crate::effect::{escalc_binary, Binary, Measure, ZeroCell};
use crate::types::MetaError;

/// lme4's `GHrule(7)`: nodes and weights for the standard normal (weights sum to 1).
#[allow(clippy::excessive_precision)] // R's printed digits, as lme4 has them
const GH7: [(f64, f64); 7] = [
    (-3.750_439_717_725_743_8, 0.000_548_268_855_972_217_24),
    (-2.366_759_410_734_541_5, 0.030_757_123_967_586_515),
    (-1.154_405_394_739_968_2, 0.240_123_178_605_012_78),
    (0.0, 0.457_142_857_142_857_13),
    (1.154_405_394_739_967_7, 0.240_123_178_605_012_67),
    (2.366_759_410_734_541_5, 0.030_757_123_967_586_477),
    (3.750_439_717_725_743_8, 0.000_548_268_855_972_217_89),
];

/// One binomial observation of a cluster: `x` events of `n`, linear predictor
/// `a·α + b·θ + c·τu` (α the cluster's own intercept, θ the shared effect).
#[derive(Clone, Copy, Debug)]
struct Obs {
    x: f64,
    n: f64,
    a: f64,
    b: f64,
    c: f64,
}

/// log f(x | η) without the binomial coefficient.
fn loglik(o: &Obs, eta: f64) -> f64 {
    // log(1 + e^η) without overflow
    let l1p = if eta > 0.0 {
        eta + (-eta).exp().ln_1p()
    } else {
        eta.exp().ln_1p()
    };
    o.x * eta - o.n * l1p
}

/// The log marginal likelihood of one cluster at (τ, θ, α) by 7-node adaptive quadrature
/// around the conditional mode of u (exact when τ = 0).
fn cluster_ll(obs: &[Obs], tau: f64, theta: f64, alpha: f64) -> f64 {
    let fixed: Vec<f64> = obs.iter().map(|o| o.a * alpha + o.b * theta).collect();
    let h = |u: f64| -> (f64, f64, f64) {
        let (mut v, mut d1, mut d2) = (-0.5 * u * u, -u, -1.0);
        for (o, f) in obs.iter().zip(&fixed) {
            let ct = o.c * tau;
            let eta = f + ct * u;
            let p = 1.0 / (1.0 + (-eta).exp());
            v += loglik(o, eta);
            d1 += ct * (o.x - o.n * p);
            d2 -= ct * ct * o.n * p * (1.0 - p);
        }
        (v, d1, d2)
    };
    if tau == 0.0 {
        return h(0.0).0;
    }
    // the mode: Newton on a concave function
    let mut u = 0.0;
    for _ in 0..100 {
        let (_, d1, d2) = h(u);
        let step = d1 / d2;
        u -= step;
        if step.abs() < 1e-12 * (1.0 + u.abs()) {
            break;
        }
    }
    let sigma = 1.0 / (-h(u).2).sqrt();
    let terms: Vec<f64> = GH7
        .iter()
        .map(|(z, w)| w.ln() + h(u + sigma * z).0 + 0.5 * z * z)
        .collect();
    let m = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    sigma.ln() + m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln()
}

/// Maximize a smooth unimodal function of one variable by Newton's method on central
/// differences, from `x0`, with a bracketing fallback (Brent's method on [x0 − 50, x0 + 50]).
fn argmax_1d(f: impl Fn(f64) -> f64, x0: f64) -> f64 {
    let mut x = x0;
    for _ in 0..200 {
        let h = 1e-4 * (1.0 + x.abs());
        let (fm, f0, fp) = (f(x - h), f(x), f(x + h));
        let d1 = (fp - fm) / (2.0 * h);
        let d2 = (fp - 2.0 * f0 + fm) / (h * h);
        if d2.is_nan() || d2 >= 0.0 || !d1.is_finite() {
            return brent_max(&f, x - 50.0, x + 50.0, 1e-12);
        }
        let mut step = -d1 / d2;
        // keep Newton from overshooting far
        step = step.clamp(-5.0, 5.0);
        let mut nx = x + step;
        let mut tries = 0;
        while f(nx) < f0 - 1e-12 && tries < 30 {
            step /= 2.0;
            nx = x + step;
            tries += 1;
        }
        x = nx;
        if step.abs() < 1e-11 * (1.0 + x.abs()) {
            break;
        }
    }
    x
}

/// The maximum of `f` on [lo, hi] by Brent's method (golden sections with parabolic steps; R's
/// `optimize`), to `tol` relative.
fn brent_max(f: &impl Fn(f64) -> f64, lo: f64, hi: f64, tol: f64) -> f64 {
    let c = (3.0 - 5f64.sqrt()) / 2.0;
    let (mut a, mut b) = (lo, hi);
    let mut x = a + c * (b - a);
    let (mut w, mut v) = (x, x);
    let mut fx = -f(x);
    let (mut fw, mut fv) = (fx, fx);
    let (mut d, mut e) = (0.0f64, 0.0f64);
    for _ in 0..500 {
        let m = 0.5 * (a + b);
        let tol1 = tol * x.abs() + 1e-12;
        let tol2 = 2.0 * tol1;
        if (x - m).abs() <= tol2 - 0.5 * (b - a) {
            break;
        }
        let mut golden_step = true;
        if e.abs() > tol1 {
            // a parabola through x, w, v
            let r = (x - w) * (fx - fv);
            let mut q = (x - v) * (fx - fw);
            let mut p = (x - v) * q - (x - w) * r;
            q = 2.0 * (q - r);
            if q > 0.0 {
                p = -p;
            }
            q = q.abs();
            if p.abs() < (0.5 * q * e).abs() && p > q * (a - x) && p < q * (b - x) {
                e = d;
                d = p / q;
                let u = x + d;
                if u - a < tol2 || b - u < tol2 {
                    d = if x < m { tol1 } else { -tol1 };
                }
                golden_step = false;
            }
        }
        if golden_step {
            e = if x < m { b - x } else { a - x };
            d = c * e;
        }
        let u = if d.abs() >= tol1 {
            x + d
        } else if d > 0.0 {
            x + tol1
        } else {
            x - tol1
        };
        let fu = -f(u);
        if fu <= fx {
            if u < x {
                b = x;
            } else {
                a = x;
            }
            (v, fv, w, fw, x, fx) = (w, fw, x, fx, u, fu);
        } else {
            if u < x {
                a = u;
            } else {
                b = u;
            }
            if fu <= fw || w == x {
                (v, fv, w, fw) = (w, fw, u, fu);
            } else if fu <= fv || v == x || v == w {
                (v, fv) = (u, fu);
            }
        }
    }
    x
}

/// The model: clusters of observations, whether each has its own intercept α; the last
/// solution found (warm starts for the nested searches).
struct Model {
    clusters: Vec<Vec<Obs>>,
    alphas: bool,
    last: std::cell::RefCell<(f64, Vec<f64>)>,
}

impl Model {
    fn new(clusters: Vec<Vec<Obs>>, alphas: bool) -> Model {
        Model {
            last: std::cell::RefCell::new((0.0, vec![0.0; clusters.len()])),
            clusters,
            alphas,
        }
    }
    /// Each cluster's α maximizing its likelihood at (τ, θ) (0 when the model has none).
    fn alphas(&self, tau: f64, theta: f64, start: &[f64]) -> Vec<f64> {
        self.clusters
            .iter()
            .zip(start)
            .map(|(c, a0)| {
                if self.alphas {
                    argmax_1d(|a| cluster_ll(c, tau, theta, a), *a0)
                } else {
                    0.0
                }
            })
            .collect()
    }
    /// The log-likelihood at (τ, θ) and the clusters' α's.
    fn ll(&self, tau: f64, theta: f64, al: &[f64]) -> f64 {
        self.clusters
            .iter()
            .zip(al)
            .map(|(c, a)| cluster_ll(c, tau, theta, *a))
            .sum()
    }
    /// The log-likelihood profiled over the α's.
    fn profile(&self, tau: f64, theta: f64, start: &[f64]) -> f64 {
        self.ll(tau, theta, &self.alphas(tau, theta, start))
    }
    /// (θ̂, α̂) at τ.
    fn fit_at(&self, tau: f64, theta0: f64, start: &[f64]) -> (f64, Vec<f64>, f64) {
        let theta = argmax_1d(|t| self.profile(tau, t, start), theta0);
        let al = self.alphas(tau, theta, start);
        let ll = self.ll(tau, theta, &al);
        (theta, al, ll)
    }
    /// The observed information's inverse for θ: −∂²ℓ over (τ, θ, α₁..αₖ) by central
    /// differences, the α's eliminated per cluster (a Schur complement), τ left out when it is
    /// not estimated (EE) or at its bound 0.
    fn var_theta(&self, tau: f64, theta: f64, al: &[f64], with_tau: bool) -> f64 {
        let dims = if with_tau { 2 } else { 1 };
        let mut s = [[0.0; 2]; 2];
        for (c, a) in self.clusters.iter().zip(al) {
            // parameters of this cluster: [θ, τ?, α?]
            let mut p = vec![theta];
            if with_tau {
                p.push(tau);
            }
            if self.alphas {
                p.push(*a);
            }
            let f = |q: &[f64]| {
                let (t, ta) = (q[0], if with_tau { q[1] } else { tau });
                let aa = if self.alphas { q[q.len() - 1] } else { 0.0 };
                cluster_ll(c, ta, t, aa)
            };
            let hm = hessian(&f, &p);
            let d = p.len();
            for i in 0..dims {
                for j in 0..dims {
                    let mut v = -hm[i][j];
                    if self.alphas {
                        let last = d - 1;
                        v -= hm[i][last] * hm[last][j] / -hm[last][last];
                    }
                    s[i][j] += v;
                }
            }
        }
        if dims == 1 {
            1.0 / s[0][0]
        } else {
            let det = s[0][0] * s[1][1] - s[0][1] * s[1][0];
            s[1][1] / det
        }
    }
}

/// The Hessian of `f` at `p` by central differences.
fn hessian(f: &impl Fn(&[f64]) -> f64, p: &[f64]) -> Vec<Vec<f64>> {
    let d = p.len();
    let h: Vec<f64> = p.iter().map(|x| 1e-4 * (1.0 + x.abs())).collect();
    let at = |di: &[(usize, f64)]| {
        let mut q = p.to_vec();
        for (i, s) in di {
            q[*i] += s;
        }
        f(&q)
    };
    let mut out = vec![vec![0.0; d]; d];
    let f0 = f(p);
    for i in 0..d {
        out[i][i] = (at(&[(i, h[i])]) - 2.0 * f0 + at(&[(i, -h[i])])) / (h[i] * h[i]);
        for j in 0..i {
            let v = (at(&[(i, h[i]), (j, h[j])])
                - at(&[(i, h[i]), (j, -h[j])])
                - at(&[(i, -h[i]), (j, h[j])])
                + at(&[(i, -h[i]), (j, -h[j])]))
                / (4.0 * h[i] * h[j]);
            out[i][j] = v;
            out[j][i] = v;
        }
    }
    out
}

/// A fitted GLMM, named as `rma.glmm`'s results.
#[derive(Clone, Debug, PartialEq)]
pub struct GlmmFit {
    /// studies in the model (after leaving out double zeros)
    pub k: usize,
    pub estimate: f64,
    pub se: f64,
    pub z: f64,
    pub p: f64,
    pub ci_lb: f64,
    pub ci_ub: f64,
    pub tau2: f64,
    pub i2: f64,
    /// the maximized log-likelihood by the quadrature, relative to the saturated binomial model
    /// (−deviance/2: what lme4's `logLik` reports for a binomial GLMM)
    pub loglik: f64,
}

/// Maximum-likelihood fit of `m` (random effects when `random`), with the typical within-study
/// variances `vi` for I².
fn fit(m: &Model, random: bool, vi: &[f64], level: f64) -> Result<GlmmFit, MetaError> {
    let fit_at = |tau: f64| {
        let (t0, a0) = m.last.borrow().clone();
        let r = m.fit_at(tau, t0, &a0);
        if r.0.is_finite() && r.1.iter().all(|a| a.is_finite()) {
            *m.last.borrow_mut() = (r.0, r.1.clone());
        }
        r
    };
    let k = m.clusters.len();
    let (tau, theta, al) = if random {
        // the fixed-effect solution starts the searches
        fit_at(0.0);
        let q = |tau: f64| fit_at(tau).2;
        // τ on [0, 10] (a between-study SD of 10 logits is beyond any data); the likelihood is
        // unimodal in τ for these models
        let tau = brent_max(&q, 0.0, 10.0, 1e-10);
        let tau = if q(0.0) >= q(tau) { 0.0 } else { tau };
        let (theta, al, _) = fit_at(tau);
        (tau, theta, al)
    } else {
        let (theta, al, _) = fit_at(0.0);
        (0.0, theta, al)
    };
    // a likelihood without a finite maximum (separation: no events, or only events, in every
    // arm that informs the effect) runs off towards infinity; a logit or log odds ratio beyond
    // ±25 (odds of 1 in 7·10^10) is that, not an estimate
    if !theta.is_finite() || theta.abs() > 25.0 {
        return Err(MetaError::NotEstimable(
            "GLMM: the likelihood has no finite maximum (no events, or only events, in every study's group that informs the effect)".into(),
        ));
    }
    let var = m.var_theta(tau, theta, &al, random && tau > 0.0);
    // the saturated model's log-likelihood (without the binomial coefficients, as ours)
    let saturated = |o: &Obs| {
        let t = |a: f64, b: f64| if a > 0.0 { a * (a / b).ln() } else { 0.0 };
        t(o.x, o.n) + t(o.n - o.x, o.n)
    };
    let loglik = m.ll(tau, theta, &al) - m.clusters.iter().flatten().map(saturated).sum::<f64>();
    if var.is_nan() || var <= 0.0 || var.is_infinite() {
        return Err(MetaError::NotEstimable(
            "GLMM: the information about the effect is not positive".into(),
        ));
    }
    let se = var.sqrt();
    let z = theta / se;
    let crit = qnorm_two_sided(level);
    let tau2 = tau * tau;
    let vt = crate::rma::typical_variance(vi);
    Ok(GlmmFit {
        k,
        estimate: theta,
        se,
        z,
        p: p_normal(z),
        ci_lb: theta - crit * se,
        ci_ub: theta + crit * se,
        tau2,
        i2: 100.0 * tau2 / (vt + tau2),
        loglik,
    })
}

/// The odds-ratio GLMM (`rma.glmm(measure = "OR", model = "UM.FS")`) of 2×2 tables; `random`:
/// `method = "ML"`, else `"EE"`.
pub fn glmm_or(tables: &[Binary], random: bool, level: f64) -> Result<GlmmFit, MetaError> {
    let kept: Vec<&Binary> = tables.iter().filter(|t| !t.is_double_zero()).collect();
    if kept.is_empty() {
        return Err(MetaError::NoStudies);
    }
    let clusters: Vec<Vec<Obs>> = kept
        .iter()
        .map(|t| {
            vec![
                Obs {
                    x: t.ai,
                    n: t.n1i,
                    a: 1.0,
                    b: 1.0,
                    c: 0.5,
                },
                Obs {
                    x: t.ci,
                    n: t.n2i,
                    a: 1.0,
                    b: 0.0,
                    c: -0.5,
                },
            ]
        })
        .collect();
    let owned: Vec<Binary> = kept.iter().map(|t| **t).collect();
    let vi: Vec<f64> = escalc_binary(Measure::OR, &owned, ZeroCell::ESCALC_DROP00)
        .into_iter()
        .flatten()
        .map(|e| e.vi)
        .collect();
    fit(&Model::new(clusters, true), random, &vi, level)
}

/// The logit-proportion GLMM (`rma.glmm(measure = "PLO")`) of `(xi, ni)` pairs; `random`:
/// `method = "ML"`, else `"EE"`.
pub fn glmm_plo(rows: &[(f64, f64)], random: bool, level: f64) -> Result<GlmmFit, MetaError> {
    if rows.is_empty() {
        return Err(MetaError::NoStudies);
    }
    let clusters: Vec<Vec<Obs>> = rows
        .iter()
        .map(|(x, n)| {
            vec![Obs {
                x: *x,
                n: *n,
                a: 0.0,
                b: 1.0,
                c: 1.0,
            }]
        })
        .collect();
    let vi: Vec<f64> = rows
        .iter()
        .filter_map(|(x, n)| crate::measures::proportion(Measure::PLO, *x, *n, 0.5))
        .map(|e| e.vi)
        .collect();
    fit(&Model::new(clusters, false), random, &vi, level)
}

/// A GLMM fit as a [`crate::types::Fit`] (the pipeline's and `metapipe pool`'s dispatcher,
/// `analysis::fit`). Q is Cochran's on the studies' `effects` (escalc's, under the analysis's
/// zero-cell rule; rma.glmm's Wald and likelihood-ratio tests of heterogeneity are not
/// computed); the studies' weights are the inverse-variance ones of those effects with the
/// GLMM's τ² (a GLMM has no study weights: they are shown as an approximation); the prediction
/// interval is metafor's `predict()`: θ̂ ± z·√(SE² + τ̂²).
pub fn to_fit(
    g: &GlmmFit,
    method: crate::types::Method,
    effects: &[Option<(f64, f64)>],
    opts: &crate::types::Options,
) -> crate::types::Fit {
    let random = method == crate::types::Method::Glmm;
    let (yi, vi): (Vec<f64>, Vec<f64>) = effects.iter().flatten().copied().unzip();
    let q = if yi.len() > 1 {
        crate::rma::cochran_q(&yi, &vi)
    } else {
        0.0
    };
    let q_df = yi.len().saturating_sub(1);
    let w: Vec<f64> = effects
        .iter()
        .map(|e| e.map_or(0.0, |(_, v)| 1.0 / (v + g.tau2)))
        .collect();
    let sw: f64 = w.iter().sum();
    let mut fit = crate::types::Fit {
        method,
        estimate: g.estimate,
        se: g.se,
        ci_lb: g.ci_lb,
        ci_ub: g.ci_ub,
        z: g.z,
        p: g.p,
        k: g.k,
        q,
        q_df,
        q_p: if q_df > 0 {
            crate::dist::pchisq_upper(q, q_df as f64)
        } else {
            1.0
        },
        i2: if random {
            g.i2
        } else {
            crate::rma::i2_from_q(q, q_df as f64)
        },
        i2_from_tau2: random,
        h2: if random {
            100.0 / (100.0 - g.i2)
        } else if q_df > 0 {
            q / q_df as f64
        } else {
            1.0
        },
        tau2: g.tau2,
        df: None,
        pi_lb: None,
        pi_ub: None,
        tau2_ci: None,
        i2_ci: None,
        weights: w.iter().map(|x| x / sw).collect(),
    };
    if random && opts.extras {
        let z = crate::types::Options {
            test: crate::types::Test::Z,
            ..*opts
        };
        let se2 = g.se * g.se;
        if let Some((lb, ub)) =
            crate::rma::prediction_interval(g.estimate, g.tau2, g.k, se2, se2, None, &z)
        {
            (fit.pi_lb, fit.pi_ub) = (Some(lb), Some(ub));
        }
    }
    fit
}
