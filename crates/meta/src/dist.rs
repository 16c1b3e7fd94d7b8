//! Distribution helpers (statrs underneath), named as R names them.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal, StudentsT};
use statrs::function::gamma::ln_gamma;

fn std_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("standard normal")
}

/// Two-sided normal critical value for a confidence `level` (e.g. 0.95): R `qnorm(1 - (1-level)/2)`.
pub fn qnorm_two_sided(level: f64) -> f64 {
    std_normal().inverse_cdf(1.0 - (1.0 - level) / 2.0)
}

/// Two-sided p-value of a z statistic: R `2 * pnorm(abs(z), lower.tail = FALSE)`.
pub fn p_normal(z: f64) -> f64 {
    2.0 * std_normal().sf(z.abs())
}

/// Upper tail of the chi-square distribution: R `pchisq(q, df, lower.tail = FALSE)`.
pub fn pchisq_upper(q: f64, df: f64) -> f64 {
    if df <= 0.0 {
        return f64::NAN;
    }
    if q <= 0.0 {
        return 1.0;
    }
    ChiSquared::new(df).expect("df > 0").sf(q)
}

/// Chi-square quantile: R `qchisq(p, df)`.
pub fn qchisq(p: f64, df: f64) -> f64 {
    ChiSquared::new(df).expect("df > 0").inverse_cdf(p)
}

/// Two-sided t critical value: R `qt(1 - (1-level)/2, df)`.
pub fn qt_two_sided(level: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).expect("df > 0").inverse_cdf(1.0 - (1.0 - level) / 2.0)
}

/// Two-sided p-value of a t statistic: R `2 * pt(abs(t), df, lower.tail = FALSE)`.
pub fn p_t(t: f64, df: f64) -> f64 {
    2.0 * StudentsT::new(0.0, 1.0, df).expect("df > 0").sf(t.abs())
}

/// log Gamma, as R `lgamma`.
pub fn lgamma(x: f64) -> f64 {
    ln_gamma(x)
}
