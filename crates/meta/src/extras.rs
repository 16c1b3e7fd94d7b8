//! Analyses built on the models: leave-one-out, cumulative meta-analysis, the test for subgroup
//! differences, Egger's regression test and trim-and-fill.
//!
//! Sources: metafor `leave1out()`, `cumul()`; Borenstein et al. (2009) ch. 19 and RevMan 5's
//! "test for subgroup differences" (Q between subgroup estimates with inverse-variance weights);
//! Egger et al. (1997) in the weighted-regression form of metafor `regtest(model = "lm")`
//! (Sterne & Egger 2005); Duval & Tweedie (2000) trim-and-fill with the L0 estimator, as metafor
//! `trimfill()`.

use crate::dist::{p_t, pchisq_upper};
use crate::rma::rma_uni;
use crate::types::{Fit, MetaError, Method, Options};

/// Leave each study out in turn and refit (metafor `leave1out`).
pub fn leave1out(
    yi: &[f64],
    vi: &[f64],
    method: Method,
    opts: &Options,
) -> Vec<Result<Fit, MetaError>> {
    let no_extras = Options {
        extras: false,
        ..*opts
    };
    (0..yi.len())
        .map(|i| {
            let y: Vec<f64> = yi
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, v)| *v)
                .collect();
            let v: Vec<f64> = vi
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, v)| *v)
                .collect();
            rma_uni(&y, &v, method, &no_extras)
        })
        .collect()
}

/// Cumulative meta-analysis in the given order (metafor `cumul`).
pub fn cumulative(
    yi: &[f64],
    vi: &[f64],
    method: Method,
    opts: &Options,
) -> Vec<Result<Fit, MetaError>> {
    let no_extras = Options {
        extras: false,
        ..*opts
    };
    (1..=yi.len())
        .map(|n| rma_uni(&yi[..n], &vi[..n], method, &no_extras))
        .collect()
}

/// Test for subgroup differences.
#[derive(Clone, Debug, PartialEq)]
pub struct SubgroupTest {
    pub q: f64,
    pub df: usize,
    pub p: f64,
    pub i2: f64,
}

/// Q between subgroup estimates (inverse-variance weights 1/SE²), as RevMan 5 reports it.
pub fn subgroup_difference(estimates: &[(f64, f64)]) -> Option<SubgroupTest> {
    if estimates.len() < 2 {
        return None;
    }
    let w: Vec<f64> = estimates.iter().map(|(_, se)| 1.0 / (se * se)).collect();
    let sw: f64 = w.iter().sum();
    let mean = estimates
        .iter()
        .zip(&w)
        .map(|((e, _), w)| e * w)
        .sum::<f64>()
        / sw;
    let q = estimates
        .iter()
        .zip(&w)
        .map(|((e, _), w)| w * (e - mean).powi(2))
        .sum::<f64>();
    let df = estimates.len() - 1;
    Some(SubgroupTest {
        q,
        df,
        p: pchisq_upper(q, df as f64),
        i2: crate::rma::i2_from_q(q, df as f64),
    })
}

/// Egger's regression test: weighted least squares of `yi` on `√vi` with weights `1/vi`; the
/// test is on the slope (metafor `regtest(model = "lm", predictor = "sei")`).
#[derive(Clone, Debug, PartialEq)]
pub struct Egger {
    /// t statistic
    pub z: f64,
    pub p: f64,
    pub df: usize,
    /// the limit estimate (intercept: effect as SE → 0)
    pub intercept: f64,
    pub slope: f64,
}

pub fn egger(yi: &[f64], vi: &[f64]) -> Option<Egger> {
    let sei: Vec<f64> = vi.iter().map(|v| v.sqrt()).collect();
    regtest_lm(yi, vi, &sei)
}

/// A regression test for funnel-plot asymmetry with a multiplicative dispersion (metafor
/// `regtest(model = "lm", predictor = …)`): weighted least squares of `yi` on `x` with weights
/// `1/vi`; the test is on the slope (t, k − 2 df), the intercept is the limit estimate. Egger's
/// test is `x = √vi`; metafor's `predictor = "ninv"` (a Peters-type test) is `x = 1/nᵢ`.
pub fn regtest_lm(yi: &[f64], vi: &[f64], x: &[f64]) -> Option<Egger> {
    let f = wls(yi, vi, x)?;
    Some(f.tested(f.b1 / f.se1))
}

/// Harbord's test for odds ratios (Harbord, Egger & Sterne 2006; meta's `metabias(method.bias =
/// "Harbord")`): per study the efficient score Z = a − (a+b)(a+c)/N and its variance
/// V = (a+b)(c+d)(a+c)(b+d) / (N²(N − 1)); ordinary least squares of Z/√V on √V; the test is on
/// the intercept (t, k − 2 df), returned in `z`/`p` with the intercept as `intercept`. Studies
/// with V = 0 (no events, or only events, in both arms) are left out.
pub fn harbord(tables: &[crate::Binary]) -> Option<Egger> {
    let (mut y, mut x) = (vec![], vec![]);
    for t in tables {
        let (a, c) = (t.ai, t.ci);
        let (b, d) = (t.n1i - a, t.n2i - c);
        let n = t.n1i + t.n2i;
        let v = (a + b) * (c + d) * (a + c) * (b + d) / (n * n * (n - 1.0));
        if v > 0.0 {
            let z = a - (a + b) * (a + c) / n;
            y.push(z / v.sqrt());
            x.push(v.sqrt());
        }
    }
    let f = wls(&y, &vec![1.0; y.len()], &x)?;
    Some(f.tested(f.b0 / f.se0))
}

/// A weighted least-squares line `y = b0 + b1·x` (weights `1/vi`) with standard errors from
/// the residual dispersion (k − 2 df).
struct Wls {
    b0: f64,
    b1: f64,
    se0: f64,
    se1: f64,
    df: usize,
}

impl Wls {
    /// The test of one coefficient, `t` its statistic (k − 2 df).
    fn tested(&self, t: f64) -> Egger {
        Egger {
            z: t,
            p: p_t(t, self.df as f64),
            df: self.df,
            intercept: self.b0,
            slope: self.b1,
        }
    }
}

fn wls(yi: &[f64], vi: &[f64], x: &[f64]) -> Option<Wls> {
    let k = yi.len();
    if k < 3 {
        return None;
    }
    // normal equations for weights w, design [1, x]
    let (mut sw, mut sws, mut swss, mut swy, mut swsy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for ((y, v), s) in yi.iter().zip(vi).zip(x) {
        let w = 1.0 / v;
        sw += w;
        sws += w * s;
        swss += w * s * s;
        swy += w * y;
        swsy += w * s * y;
    }
    let det = sw * swss - sws * sws;
    if det.abs() < f64::MIN_POSITIVE {
        return None;
    }
    let b1 = (sw * swsy - sws * swy) / det;
    let b0 = (swy - b1 * sws) / sw;
    let rss: f64 = yi
        .iter()
        .zip(vi)
        .zip(x)
        .map(|((y, v), s)| (y - b0 - b1 * s).powi(2) / v)
        .sum();
    let df = k - 2;
    let s2 = rss / df as f64;
    Some(Wls {
        b0,
        b1,
        se0: (s2 * swss / det).sqrt(),
        se1: (s2 * sw / det).sqrt(),
        df,
    })
}

/// Result of trim-and-fill.
#[derive(Clone, Debug, PartialEq)]
pub struct TrimFill {
    /// number of studies imputed
    pub k0: usize,
    /// side on which studies were imputed ("left" or "right")
    pub side: &'static str,
    /// the model refitted with the imputed studies (the original fit when k0 = 0)
    pub fit: Fit,
    /// the imputed (yi, vi)
    pub filled: Vec<(f64, f64)>,
}

/// Duval & Tweedie trim-and-fill with the L0 estimator, as metafor's `trimfill()`: the side is
/// chosen from the sign of the slope of `yi` on `√vi` in a meta-regression with the same τ²
/// method; ranks of |yᵢ − β̂| break ties by order; the filled studies mirror the trimmed ones
/// about the trimmed estimate. Internal refits use `opts` (metafor uses its default control).
pub fn trimfill(
    yi: &[f64],
    vi: &[f64],
    method: Method,
    opts: &Options,
) -> Result<TrimFill, MetaError> {
    let k = yi.len();
    if k < 2 {
        return Err(MetaError::NotEstimable("trim-and-fill needs k >= 2".into()));
    }
    let plain = Options {
        extras: false,
        ..*opts
    };
    let x: Vec<f64> = vi.iter().map(|v| v.sqrt()).collect();
    let slope = crate::metareg::slope(yi, vi, &x, method, &opts.control)?;
    let side_left = slope >= 0.0;
    let sign = if side_left { 1.0 } else { -1.0 };
    let y: Vec<f64> = yi.iter().map(|v| v * sign).collect();
    let mut idx: Vec<usize> = (0..k).collect();
    idx.sort_by(|&a, &b| y[a].total_cmp(&y[b]));
    let ys: Vec<f64> = idx.iter().map(|&i| y[i]).collect();
    let vs: Vec<f64> = idx.iter().map(|&i| vi[i]).collect();
    let mut k0: usize = 0;
    let mut prev: Option<usize> = None;
    let mut beta = 0.0;
    let mut iter = 0;
    while prev != Some(k0) {
        prev = Some(k0);
        iter += 1;
        if iter > 100 {
            return Err(MetaError::NoConvergence("trim-and-fill".into()));
        }
        let keep = k - k0;
        beta = rma_uni(&ys[..keep], &vs[..keep], method, &plain)?.estimate;
        let dev: Vec<f64> = ys.iter().map(|v| v - beta).collect();
        // rank(abs(dev), ties.method = "first")
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| dev[a].abs().total_cmp(&dev[b].abs()).then(a.cmp(&b)));
        let mut rank = vec![0.0; k];
        for (r, &o) in order.iter().enumerate() {
            rank[o] = (r + 1) as f64;
        }
        let sr: f64 = (0..k).filter(|&i| dev[i] > 0.0).map(|i| rank[i]).sum();
        let kf = k as f64;
        let l0 = (4.0 * sr - kf * (kf + 1.0)) / (2.0 * kf - 1.0);
        k0 = (l0.round().max(0.0) as usize).min(k - 1);
    }
    if k0 == 0 {
        let fit = rma_uni(yi, vi, method, opts)?;
        return Ok(TrimFill {
            k0,
            side: if side_left { "left" } else { "right" },
            fit,
            filled: vec![],
        });
    }
    let mut yall: Vec<f64> = yi.to_vec();
    let mut vall: Vec<f64> = vi.to_vec();
    let mut filled = Vec::new();
    for i in k - k0..k {
        let yf = (2.0 * beta - ys[i]) * sign;
        filled.push((yf, vs[i]));
        yall.push(yf);
        vall.push(vs[i]);
    }
    let fit = rma_uni(&yall, &vall, method, opts)?;
    Ok(TrimFill {
        k0,
        side: if side_left { "left" } else { "right" },
        fit,
        filled,
    })
}
