//! Allocation-free kernels for pooling many meta-analyses (simulation studies, `pool --group`).
//!
//! Each kernel computes exactly what [`crate::model::rma_uni`] / [`crate::model::mantel_haenszel`]
//! compute for the same options (the tests check equality to 1e-12), but over slices and without
//! heap allocation, and without the Q-profile confidence interval for τ² (a root search per
//! analysis; use the single-analysis path when it is wanted).

use crate::dist::{p_normal, pchisq_upper, qnorm_two_sided};
use crate::effect::{binary_effect, continuous_effect, Binary, Continuous, Measure};
use crate::mh::{mh_or_terms, mh_or_var};
use crate::rma::i2_from_q;
use crate::types::{Control, MetaError, Method};

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

/// Inverse-variance model with τ² by `method` (FE or any τ² estimator of [`crate::tau2`]) on
/// `yi`, `vi`; `crit` = the normal critical value for the confidence level.
pub fn iv(
    yi: &[f64],
    vi: &[f64],
    method: Method,
    control: &Control,
    crit: f64,
) -> Result<Row, MetaError> {
    let k = yi.len();
    if k == 0 {
        return Err(MetaError::NoStudies);
    }
    let kf = k as f64;
    let (sw, sw2, q) = fe_sums(yi, vi);
    let trp = sw - sw2 / sw;
    let tau2 = match method {
        Method::MH | Method::Peto => {
            return Err(MetaError::BadInput(format!(
                "{} needs 2x2 counts",
                method.name()
            )))
        }
        // DL from the fixed-effect sums already at hand (the same formula as `tau2::estimate`)
        Method::DL if k > 1 => crate::tau2::dl_from_sums(q, k, sw, sw2).max(0.0),
        m => crate::tau2::estimate(yi, vi, m, control)?,
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
        let (i2, h2) = if method == Method::FE {
            (i2_from_q(q, df), q / df)
        } else {
            (100.0 * tau2 / (vt + tau2), tau2 / vt + 1.0)
        };
        (pchisq_upper(q, df), i2, h2)
    } else {
        (1.0, 0.0, 1.0)
    };
    // prediction interval for random-effects models only (as `rma_uni`)
    let half_pi = if method == Method::FE {
        f64::NAN
    } else {
        crit * (se * se + tau2).sqrt()
    };
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

/// The fixed-effect sums: Σw, Σw² and Cochran's Q (w = 1/v).
#[inline]
fn fe_sums(yi: &[f64], vi: &[f64]) -> (f64, f64, f64) {
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
    (sw, sw2, q)
}

/// Mantel-Haenszel odds ratio (Robins-Breslow-Greenland variance) with metafor's heterogeneity
/// statistic, on parallel slices of counts.
pub fn mh_or(
    ai: &[f64],
    n1i: &[f64],
    ci: &[f64],
    n2i: &[f64],
    crit: f64,
) -> Result<Row, MetaError> {
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
        return Err(MetaError::NotEstimable(
            "MH odds ratio: no events (or no non-events) in one arm".into(),
        ));
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

/// Reusable per-worker buffers for the fused kernels (the effects of one group): after the
/// first groups have grown them, pooling allocates nothing.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    yi: Vec<f64>,
    vi: Vec<f64>,
}

/// `escalc()` (metafor's defaults: 1/2 added to every cell of a study with a zero cell; studies
/// whose effect is not estimable dropped) fused with [`iv`]: one group of 2×2 counts to one row.
pub fn binary_iv(
    measure: Measure,
    ai: &[f64],
    n1i: &[f64],
    ci: &[f64],
    n2i: &[f64],
    method: Method,
    control: &Control,
    crit: f64,
    s: &mut Scratch,
) -> Result<Row, MetaError> {
    s.yi.clear();
    s.vi.clear();
    for j in 0..ai.len() {
        let t = Binary::new(ai[j], n1i[j], ci[j], n2i[j]);
        let t = if t.has_zero_cell() { t.plus(0.5) } else { t };
        if let Some(e) = binary_effect(measure, &t) {
            s.yi.push(e.yi);
            s.vi.push(e.vi);
        }
    }
    iv(&s.yi, &s.vi, method, control, crit)
}

/// `escalc()` for arm-level means (MD, SMD, ROM) fused with [`iv`].
pub fn continuous_iv(
    measure: Measure,
    cols: [&[f64]; 6],
    method: Method,
    control: &Control,
    crit: f64,
    s: &mut Scratch,
) -> Result<Row, MetaError> {
    s.yi.clear();
    s.vi.clear();
    let [m1i, sd1i, n1i, m2i, sd2i, n2i] = cols;
    for j in 0..m1i.len() {
        let c = Continuous {
            m1i: m1i[j],
            sd1i: sd1i[j],
            n1i: n1i[j],
            m2i: m2i[j],
            sd2i: sd2i[j],
            n2i: n2i[j],
        };
        if let Some(e) = continuous_effect(measure, &c) {
            s.yi.push(e.yi);
            s.vi.push(e.vi);
        }
    }
    iv(&s.yi, &s.vi, method, control, crit)
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
        let opts = Options {
            extras: true,
            ..Options::default()
        };
        let c = crit(0.95);
        for m in [
            Method::FE,
            Method::DL,
            Method::REML,
            Method::ML,
            Method::EB,
            Method::HE,
            Method::SJ,
        ] {
            let a = iv(&yi, &vi, m, &opts.control, c).unwrap();
            let b = rma_uni(&yi, &vi, m, &opts).unwrap();
            for (x, y, name) in [
                (a.estimate, b.estimate, "est"),
                (a.se, b.se, "se"),
                (a.tau2, b.tau2, "tau2"),
                (a.q, b.q, "Q"),
                (a.q_p, b.q_p, "Qp"),
                (a.i2, b.i2, "I2"),
                (a.h2, b.h2, "H2"),
                (a.p, b.p, "p"),
                (a.ci_lb, b.ci_lb, "lb"),
            ] {
                assert!(close(x, y), "{m:?} {name}: {x} vs {y}");
            }
            if m != Method::FE {
                assert!(close(a.pi_lb, b.pi_lb.unwrap()), "{m:?} pi");
            }
        }
        let t = [
            Binary::new(4., 50., 8., 50.),
            Binary::new(0., 30., 3., 31.),
            Binary::new(10., 100., 12., 100.),
            Binary::new(0., 20., 0., 20.),
        ];
        let b = mantel_haenszel(&t, Measure::OR, 0.95).unwrap();
        let (ai, n1, ci, n2): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (
            t.iter().map(|x| x.ai).collect(),
            t.iter().map(|x| x.n1i).collect(),
            t.iter().map(|x| x.ci).collect(),
            t.iter().map(|x| x.n2i).collect(),
        );
        let a = mh_or(&ai, &n1, &ci, &n2, c).unwrap();
        for (x, y) in [
            (a.estimate, b.estimate),
            (a.se, b.se),
            (a.q, b.q),
            (a.q_p, b.q_p),
            (a.i2, b.i2),
            (a.h2, b.h2),
        ] {
            assert!(close(x, y), "MH {x} vs {y}");
        }
        assert_eq!(a.q_df, b.q_df);
    }

    #[test]
    fn fused_binary_kernels_equal_escalc_then_rma() {
        use crate::effect::{escalc_binary, ZeroCell};
        let opts = Options {
            extras: true,
            ..Options::default()
        };
        let c = crit(0.95);
        let t = [
            Binary::new(4., 50., 8., 50.),
            Binary::new(0., 30., 3., 31.),
            Binary::new(10., 100., 12., 100.),
            Binary::new(0., 20., 0., 20.),
            Binary::new(7., 40., 2., 45.),
        ];
        let cols: [Vec<f64>; 4] = [
            t.iter().map(|x| x.ai).collect(),
            t.iter().map(|x| x.n1i).collect(),
            t.iter().map(|x| x.ci).collect(),
            t.iter().map(|x| x.n2i).collect(),
        ];
        let mut s = Scratch::default();
        for measure in [Measure::OR, Measure::RR, Measure::RD] {
            let (yi, vi): (Vec<f64>, Vec<f64>) = escalc_binary(measure, &t, ZeroCell::ESCALC)
                .iter()
                .flatten()
                .map(|e| (e.yi, e.vi))
                .unzip();
            for m in [Method::FE, Method::DL, Method::REML, Method::HE, Method::SJ] {
                let a = binary_iv(
                    measure,
                    &cols[0],
                    &cols[1],
                    &cols[2],
                    &cols[3],
                    m,
                    &opts.control,
                    c,
                    &mut s,
                )
                .unwrap();
                let b = rma_uni(&yi, &vi, m, &opts).unwrap();
                assert_eq!(a.k, b.k, "{measure:?} {m:?} k");
                for (x, y) in [
                    (a.estimate, b.estimate),
                    (a.se, b.se),
                    (a.tau2, b.tau2),
                    (a.q, b.q),
                    (a.i2, b.i2),
                ] {
                    assert!(close(x, y), "{measure:?} {m:?}: {x} vs {y}");
                }
            }
        }
    }

    #[test]
    fn fused_continuous_kernels_equal_escalc_then_rma() {
        use crate::effect::escalc_continuous;
        let opts = Options {
            extras: true,
            ..Options::default()
        };
        let c = crit(0.95);
        let mut s = Scratch::default();
        let rows = [
            crate::Continuous {
                m1i: 10.0,
                sd1i: 2.0,
                n1i: 20.0,
                m2i: 9.0,
                sd2i: 2.5,
                n2i: 22.0,
            },
            crate::Continuous {
                m1i: 12.0,
                sd1i: 3.0,
                n1i: 15.0,
                m2i: 10.5,
                sd2i: 2.0,
                n2i: 14.0,
            },
            crate::Continuous {
                m1i: 11.0,
                sd1i: 1.5,
                n1i: 30.0,
                m2i: 11.2,
                sd2i: 1.8,
                n2i: 28.0,
            },
        ];
        let get = |f: fn(&crate::Continuous) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
        let cc = [
            get(|r| r.m1i),
            get(|r| r.sd1i),
            get(|r| r.n1i),
            get(|r| r.m2i),
            get(|r| r.sd2i),
            get(|r| r.n2i),
        ];
        for measure in [Measure::MD, Measure::SMD, Measure::ROM] {
            let (yi, vi): (Vec<f64>, Vec<f64>) = escalc_continuous(measure, &rows)
                .iter()
                .flatten()
                .map(|e| (e.yi, e.vi))
                .unzip();
            let a = continuous_iv(
                measure,
                [&cc[0], &cc[1], &cc[2], &cc[3], &cc[4], &cc[5]],
                Method::REML,
                &opts.control,
                c,
                &mut s,
            )
            .unwrap();
            let b = rma_uni(&yi, &vi, Method::REML, &opts).unwrap();
            assert!(
                close(a.estimate, b.estimate) && close(a.se, b.se) && close(a.tau2, b.tau2),
                "{measure:?}"
            );
        }
    }
}
