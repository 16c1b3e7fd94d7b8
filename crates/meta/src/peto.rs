//! Peto's one-step odds ratio (metafor `rma.peto`; Yusuf et al. 1985).

use crate::dist::{pchisq_upper, qnorm_two_sided};
use crate::effect::Binary;
use crate::mh::check_tables;
use crate::rma::{i2_from_q, sum};
use crate::types::{Fit, MetaError, Method};

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
        return Err(MetaError::NotEstimable(
            "Peto: one of the outcomes never occurred".into(),
        ));
    }
    let so: f64 = o_e.iter().sum();
    let beta = so / sv;
    let se = (1.0 / sv).sqrt();
    let crit = qnorm_two_sided(level);
    let k_yi = tables
        .iter()
        .filter(|t| !t.is_double_zero())
        .filter(|t| {
            let tt = if t.has_zero_cell() { t.plus(0.5) } else { **t };
            let n = tt.n1i + tt.n2i;
            let v = (tt.ai + tt.ci) * (tt.bi() + tt.di()) * (tt.n1i / n) * (tt.n2i / n) / (n - 1.0);
            v > 0.0 && v.is_finite()
        })
        .count();
    let q = (sum(o_e
        .iter()
        .zip(&var)
        .filter(|(_, v)| **v > 0.0)
        .map(|(o, v)| o * o / v))
        - so * so / sv)
        .max(0.0);
    let (q_df, q_p, i2, h2) = if k_yi > 1 {
        let df = (k_yi - 1) as f64;
        (k_yi - 1, pchisq_upper(q, df), i2_from_q(q, df), q / df)
    } else {
        (0, 1.0, 0.0, 1.0)
    };
    Ok(Fit::fixed(
        Method::Peto,
        beta,
        se,
        crit,
        k,
        (q, q_df, q_p, i2, h2),
        var.iter().map(|v| v / sv).collect(),
    ))
}
