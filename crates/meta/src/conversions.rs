//! Conversions of the statistics trials report into what a meta-analysis needs (Cochrane
//! Handbook 6.5.2): a mean and SD from a median with its quartiles and/or range, an SD from an
//! SE or a CI of a mean, the SE of a mean difference from its CI, t or p, events from a
//! percentage. Formulas as metafor 4's `conv.fivenum` states them for normal data (Luo et al.
//! 2018, Wan et al. 2014, Shi et al. 2020, Hozo et al. 2005); checked against
//! `tests/fixtures/conversions/conversions.R`.

use crate::dist::{qnorm_two_sided, qt_two_sided};
use statrs::distribution::{ContinuousCDF, Normal};

/// How a mean is estimated from a median (`mean_from_median`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MeanMethod {
    /// Luo et al. (2018): weights optimal under normality
    #[default]
    Luo2018,
    /// Wan et al. (2014)
    Wan2014,
    /// Hozo et al. (2005): from the range only
    Hozo2005,
}

/// How an SD is estimated from a median's quartiles and/or range (`sd_from_median`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SdMethod {
    /// Shi et al. (2020): Wan's for the range or the IQR alone, an optimal weighting of both
    #[default]
    Shi2020,
    /// Wan et al. (2014), ξ(n) and η(n) by Blom's formula for every n (as metafor's
    /// `conv.fivenum`)
    Wan2014,
    /// Wan et al. (2014) as the paper tabulates ξ(n) and η(n) for small samples (its Tables 1
    /// and 2: n ≤ 50 for the range, n ≤ 201 for the IQR), Blom's formula beyond — as R's meta
    /// package computes it
    Wan2014Tables,
    /// Hozo et al. (2005): from the range only
    Hozo2005,
}

impl MeanMethod {
    pub const NAMES: &'static str = "luo2018, wan2014 or hozo2005";
    pub fn parse(s: &str) -> Option<MeanMethod> {
        Some(match s {
            "luo2018" => MeanMethod::Luo2018,
            "wan2014" => MeanMethod::Wan2014,
            "hozo2005" => MeanMethod::Hozo2005,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            MeanMethod::Luo2018 => "luo2018",
            MeanMethod::Wan2014 => "wan2014",
            MeanMethod::Hozo2005 => "hozo2005",
        }
    }
}

impl SdMethod {
    pub const NAMES: &'static str = "shi2020, wan2014, wan2014_tables or hozo2005";
    pub const ALL: [SdMethod; 4] = [
        SdMethod::Shi2020,
        SdMethod::Wan2014,
        SdMethod::Wan2014Tables,
        SdMethod::Hozo2005,
    ];
    pub fn parse(s: &str) -> Option<SdMethod> {
        Some(match s {
            "shi2020" => SdMethod::Shi2020,
            "wan2014" => SdMethod::Wan2014,
            "wan2014_tables" => SdMethod::Wan2014Tables,
            "hozo2005" => SdMethod::Hozo2005,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            SdMethod::Shi2020 => "shi2020",
            SdMethod::Wan2014 => "wan2014",
            SdMethod::Wan2014Tables => "wan2014_tables",
            SdMethod::Hozo2005 => "hozo2005",
        }
    }
}

/// A median with its quartiles and/or range, from `n` participants.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FiveNum {
    pub n: f64,
    pub min: Option<f64>,
    pub q1: Option<f64>,
    pub median: f64,
    pub q3: Option<f64>,
    pub max: Option<f64>,
}

/// Which of the summaries is given: S1 the range, S2 the quartiles, S3 both.
enum Scenario {
    S1 { a: f64, b: f64 },
    S2 { q1: f64, q3: f64 },
    S3 { a: f64, q1: f64, q3: f64, b: f64 },
}

fn qnorm(p: f64) -> f64 {
    Normal::new(0.0, 1.0)
        .expect("standard normal")
        .inverse_cdf(p)
}

/// Wan et al.'s ξ(n) = 2Φ⁻¹((n − 0.375)/(n + 0.25)): the expected range of n standard normals.
fn xi(n: f64) -> f64 {
    2.0 * qnorm((n - 0.375) / (n + 0.25))
}

/// η(n) = 2Φ⁻¹((0.75n − 0.125)/(n + 0.25)): the expected IQR of n standard normals.
fn eta(n: f64) -> f64 {
    2.0 * qnorm((0.75 * n - 0.125) / (n + 0.25))
}

/// Wan et al. (2014), Table 1: ξ(n) for n = 1..50 — the expected range of n standard normals
/// to three decimals (checked by numerical integration in `conversions.R`).
const WAN_TABLE1: [f64; 50] = [
    0.000, 1.128, 1.693, 2.059, 2.326, 2.534, 2.704, 2.847, 2.970, 3.078, 3.173, 3.259, 3.336,
    3.407, 3.472, 3.532, 3.588, 3.640, 3.689, 3.735, 3.778, 3.819, 3.858, 3.895, 3.931, 3.964,
    3.997, 4.027, 4.057, 4.086, 4.113, 4.139, 4.165, 4.189, 4.213, 4.236, 4.259, 4.280, 4.301,
    4.322, 4.341, 4.361, 4.379, 4.398, 4.415, 4.433, 4.450, 4.466, 4.482, 4.498,
];

/// Wan et al. (2014), Table 2: η(n) for n = 4Q + 1, Q = 1..50 — the expected IQR of n standard
/// normals to three decimals (checked likewise).
const WAN_TABLE2: [f64; 50] = [
    0.990, 1.144, 1.206, 1.239, 1.260, 1.274, 1.284, 1.292, 1.298, 1.303, 1.307, 1.311, 1.313,
    1.316, 1.318, 1.320, 1.322, 1.323, 1.324, 1.326, 1.327, 1.328, 1.329, 1.330, 1.330, 1.331,
    1.332, 1.332, 1.333, 1.333, 1.334, 1.334, 1.335, 1.335, 1.336, 1.336, 1.336, 1.337, 1.337,
    1.337, 1.338, 1.338, 1.338, 1.338, 1.339, 1.339, 1.339, 1.339, 1.339, 1.340,
];

/// ξ(n) from Table 1 for n ≤ 50 (indexed as R indexes, by the whole part of n), else Blom's.
fn xi_tables(n: f64) -> f64 {
    if n <= 50.0 {
        WAN_TABLE1[n as usize - 1]
    } else {
        xi(n)
    }
}

/// η(n) from Table 2 for n ≤ 201 (Q = ⌈(n − 1)/4⌉, as R's meta reads the table), else Blom's.
fn eta_tables(n: f64) -> f64 {
    if n <= 201.0 {
        WAN_TABLE2[(0.25 * (n - 1.0)).ceil() as usize - 1]
    } else {
        eta(n)
    }
}

impl FiveNum {
    /// The scenario, or why the summary cannot be used: a range and/or quartiles around the
    /// median, in order.
    fn scenario(&self) -> Result<Scenario, String> {
        if self.n.is_nan() || self.n < 1.0 {
            return Err(format!("{}: a median needs its group size n >= 1", self.n));
        }
        let m = self.median;
        let ordered = |lo: f64, hi: f64, what: &str| {
            if lo <= m && m <= hi && lo < hi {
                Ok(())
            } else {
                Err(format!(
                    "the {what} {lo} to {hi} does not surround the median {m} (or is empty)"
                ))
            }
        };
        match (self.min, self.q1, self.q3, self.max) {
            (Some(a), Some(q1), Some(q3), Some(b)) => {
                ordered(q1, q3, "interquartile range")?;
                ordered(a, b, "range")?;
                if a > q1 || q3 > b {
                    return Err(format!(
                        "the range {a} to {b} does not contain the quartiles {q1} to {q3}"
                    ));
                }
                Ok(Scenario::S3 { a, q1, q3, b })
            }
            (Some(a), None, None, Some(b)) => {
                ordered(a, b, "range")?;
                Ok(Scenario::S1 { a, b })
            }
            (None, Some(q1), Some(q3), None) => {
                ordered(q1, q3, "interquartile range")?;
                Ok(Scenario::S2 { q1, q3 })
            }
            _ => Err(
                "a median needs its quartiles (q1 and q3), its range (min and max), or both".into(),
            ),
        }
    }

    /// The estimated mean.
    pub fn mean(&self, method: MeanMethod) -> Result<f64, String> {
        let (n, m) = (self.n, self.median);
        Ok(match (method, self.scenario()?) {
            (MeanMethod::Luo2018, Scenario::S1 { a, b }) => {
                let w = 4.0 / (4.0 + n.powf(0.75));
                w * (a + b) / 2.0 + (1.0 - w) * m
            }
            (MeanMethod::Luo2018, Scenario::S2 { q1, q3 }) => {
                let w = 0.7 + 0.39 / n;
                w * (q1 + q3) / 2.0 + (1.0 - w) * m
            }
            (MeanMethod::Luo2018, Scenario::S3 { a, q1, q3, b }) => {
                let w1 = 2.2 / (2.2 + n.powf(0.75));
                let w2 = 0.7 - 0.72 / n.powf(0.55);
                w1 * (a + b) / 2.0 + w2 * (q1 + q3) / 2.0 + (1.0 - w1 - w2) * m
            }
            (MeanMethod::Wan2014, Scenario::S1 { a, b }) => (a + 2.0 * m + b) / 4.0,
            (MeanMethod::Wan2014, Scenario::S2 { q1, q3 }) => (q1 + m + q3) / 3.0,
            (MeanMethod::Wan2014, Scenario::S3 { a, q1, q3, b }) => {
                (a + 2.0 * q1 + 2.0 * m + 2.0 * q3 + b) / 8.0
            }
            (MeanMethod::Hozo2005, Scenario::S2 { .. }) => {
                return Err("hozo2005 estimates a mean from the range (min and max)".into())
            }
            (MeanMethod::Hozo2005, Scenario::S1 { a, b } | Scenario::S3 { a, b, .. }) => {
                if n <= 25.0 {
                    (a + 2.0 * m + b) / 4.0
                } else {
                    m
                }
            }
        })
    }

    /// The estimated SD.
    pub fn sd(&self, method: SdMethod) -> Result<f64, String> {
        let (n, m) = (self.n, self.median);
        let s = self.scenario()?;
        if n < 2.0 && method != SdMethod::Hozo2005 {
            return Err(format!("{n}: an SD from a median needs n >= 2"));
        }
        Ok(match (method, s) {
            (SdMethod::Hozo2005, Scenario::S2 { .. }) => {
                return Err("hozo2005 estimates an SD from the range (min and max)".into())
            }
            (SdMethod::Hozo2005, Scenario::S1 { a, b } | Scenario::S3 { a, b, .. }) => {
                if n <= 15.0 {
                    (((a - 2.0 * m + b).powi(2) / 4.0 + (b - a).powi(2)) / 12.0).sqrt()
                } else if n <= 70.0 {
                    (b - a) / 4.0
                } else {
                    (b - a) / 6.0
                }
            }
            (SdMethod::Wan2014Tables, Scenario::S1 { a, b }) => (b - a) / xi_tables(n),
            (SdMethod::Wan2014Tables, Scenario::S2 { q1, q3 }) => (q3 - q1) / eta_tables(n),
            (SdMethod::Wan2014Tables, Scenario::S3 { a, q1, q3, b }) => {
                ((b - a) / xi_tables(n) + (q3 - q1) / eta_tables(n)) / 2.0
            }
            (_, Scenario::S1 { a, b }) => (b - a) / xi(n),
            (_, Scenario::S2 { q1, q3 }) => (q3 - q1) / eta(n),
            (SdMethod::Shi2020, Scenario::S3 { a, q1, q3, b }) => {
                let w = 1.0 / (1.0 + 0.07 * n.powf(0.6));
                w * (b - a) / xi(n) + (1.0 - w) * (q3 - q1) / eta(n)
            }
            (SdMethod::Wan2014, Scenario::S3 { a, q1, q3, b }) => {
                ((b - a) / xi(n) + (q3 - q1) / eta(n)) / 2.0
            }
        })
    }
}

/// The critical value of a reported CI at `level` from `n` participants with `df` degrees of
/// freedom: t for samples under 60 (Handbook 6.5.2.2), else normal.
fn crit(level: f64, n: f64, df: f64) -> f64 {
    if n < 60.0 {
        qt_two_sided(level, df)
    } else {
        qnorm_two_sided(level)
    }
}

/// An SD from the standard error of a mean of `n`.
pub fn sd_from_se(se: f64, n: f64) -> Result<f64, String> {
    if se.is_nan() || se <= 0.0 || n.is_nan() || n < 1.0 {
        return Err(format!("{se}: an SE must be > 0 (with n >= 1)"));
    }
    Ok(se * n.sqrt())
}

/// An SD from a CI (at `level`) of a mean of `n` (Handbook 6.5.2.2).
pub fn sd_from_ci(mean: Option<f64>, lb: f64, ub: f64, n: f64, level: f64) -> Result<f64, String> {
    if ub.is_nan() || lb.is_nan() || ub <= lb {
        return Err(format!("the interval {lb} to {ub} has no width"));
    }
    if let Some(m) = mean.filter(|m| *m < lb || *m > ub) {
        return Err(format!(
            "the interval {lb} to {ub} does not contain the mean {m}"
        ));
    }
    if n.is_nan() || n < 2.0 {
        return Err(format!("{n}: an SD from a CI needs n >= 2"));
    }
    Ok(n.sqrt() * (ub - lb) / (2.0 * crit(level, n, n - 1.0)))
}

/// What a mean difference's SE is derived from (Handbook 6.5.2.3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MdStat {
    /// its CI at a level
    Ci { lb: f64, ub: f64, level: f64 },
    /// its t statistic
    T(f64),
    /// its two-sided p-value
    P(f64),
}

/// The SE of a mean difference `md` between groups of `n1` and `n2`.
pub fn md_se(md: f64, n1: f64, n2: f64, stat: MdStat) -> Result<f64, String> {
    let df = n1 + n2 - 2.0;
    if df.is_nan() || df < 1.0 {
        return Err(format!(
            "groups of {n1} and {n2}: too few for a t distribution"
        ));
    }
    match stat {
        MdStat::Ci { lb, ub, level } => {
            if ub.is_nan() || lb.is_nan() || ub <= lb {
                return Err(format!("the interval {lb} to {ub} has no width"));
            }
            if md < lb || md > ub {
                return Err(format!(
                    "the interval {lb} to {ub} does not contain the difference {md}"
                ));
            }
            Ok((ub - lb) / (2.0 * crit(level, n1 + n2, df)))
        }
        MdStat::T(t) if t != 0.0 && t.is_finite() => Ok((md / t).abs()),
        MdStat::T(t) => Err(format!("{t}: a t statistic must be finite and not 0")),
        MdStat::P(p) if p > 0.0 && p < 1.0 && md != 0.0 => Ok(md.abs() / qt_two_sided(1.0 - p, df)),
        MdStat::P(p) => Err(format!(
            "{p}: a p-value gives an SE when 0 < p < 1 and the difference is not 0"
        )),
    }
}

/// Events from a percentage of `n` (rounded half to even, as R's `round`).
pub fn events_from_percent(pct: f64, n: f64) -> Result<f64, String> {
    if !(0.0..=100.0).contains(&pct) {
        return Err(format!("{pct}: a percentage must be within 0 to 100"));
    }
    Ok((pct * n / 100.0).round_ties_even())
}
