//! Per-study effect sizes, as metafor's `escalc()` computes them.
//!
//! Sources: metafor documentation of `escalc` (Viechtbauer 2010, J Stat Softw 36(3)); the log odds
//! ratio and its variance (Woolf 1955); log risk ratio (Katz et al. 1978); risk difference with the
//! large-sample variance; standardized mean difference with Hedges' exact bias correction
//! `c(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2))` (Hedges 1981) and metafor's default large-sample variance
//! `1/n1 + 1/n2 + g²/(2(n1+n2))`; log ratio of means (Hedges, Gurevitch & Curtis 1999).

use crate::dist::lgamma;

/// Outcome measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measure {
    /// log odds ratio
    OR,
    /// log risk ratio
    RR,
    /// risk difference
    RD,
    /// mean difference
    MD,
    /// standardized mean difference (Hedges' g)
    SMD,
    /// log ratio of means
    ROM,
    /// generic: yi and vi supplied
    GEN,
    /// raw proportion (one group: `xi` events of `ni`)
    PR,
    /// logit of a proportion
    PLO,
    /// arcsine square-root of a proportion
    PAS,
    /// Freeman-Tukey double arcsine of a proportion
    PFT,
    /// incidence rate (one group: `xi` events in `ti` person-time)
    IR,
    /// log incidence rate ratio (`x1i, t1i, x2i, t2i`)
    IRR,
    /// incidence rate difference
    IRD,
    /// Fisher's z of a correlation (`ri, ni`)
    ZCOR,
    /// raw correlation
    COR,
    /// log hazard ratio from O − E and its variance V (RevMan's "O-E and Variance", Peto's
    /// method): yi = (O − E)/V, vi = 1/V
    OEV,
}

/// The study data a measure is computed from (its family).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// 2×2 tables
    Binary,
    /// means, SDs and sizes per arm
    Continuous,
    /// a reported estimate with its SE or CI
    Generic,
    /// events of a total, one group
    Proportion,
    /// events in person-time, one group
    Rate,
    /// events in person-time per arm
    RatePair,
    /// a correlation with its sample size
    Correlation,
    /// O − E and V
    OMinusE,
}

impl Measure {
    pub fn parse(s: &str) -> Option<Measure> {
        Some(match s.to_ascii_uppercase().as_str() {
            "OR" => Measure::OR,
            "RR" => Measure::RR,
            "RD" => Measure::RD,
            "MD" => Measure::MD,
            "SMD" => Measure::SMD,
            "ROM" => Measure::ROM,
            "GEN" => Measure::GEN,
            "PR" => Measure::PR,
            "PLO" => Measure::PLO,
            "PAS" => Measure::PAS,
            "PFT" => Measure::PFT,
            "IR" => Measure::IR,
            "IRR" => Measure::IRR,
            "IRD" => Measure::IRD,
            "ZCOR" => Measure::ZCOR,
            "COR" => Measure::COR,
            "OEV" => Measure::OEV,
            _ => return None,
        })
    }
    /// Every measure, in the order above.
    pub const ALL: [Measure; 17] = [
        Measure::OR,
        Measure::RR,
        Measure::RD,
        Measure::MD,
        Measure::SMD,
        Measure::ROM,
        Measure::GEN,
        Measure::PR,
        Measure::PLO,
        Measure::PAS,
        Measure::PFT,
        Measure::IR,
        Measure::IRR,
        Measure::IRD,
        Measure::ZCOR,
        Measure::COR,
        Measure::OEV,
    ];
    /// The study data the measure is computed from.
    pub fn family(self) -> Family {
        match self {
            Measure::OR | Measure::RR | Measure::RD => Family::Binary,
            Measure::MD | Measure::SMD | Measure::ROM => Family::Continuous,
            Measure::GEN => Family::Generic,
            Measure::PR | Measure::PLO | Measure::PAS | Measure::PFT => Family::Proportion,
            Measure::IR => Family::Rate,
            Measure::IRR | Measure::IRD => Family::RatePair,
            Measure::ZCOR | Measure::COR => Family::Correlation,
            Measure::OEV => Family::OMinusE,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Measure::OR => "OR",
            Measure::RR => "RR",
            Measure::RD => "RD",
            Measure::MD => "MD",
            Measure::SMD => "SMD",
            Measure::ROM => "ROM",
            Measure::GEN => "GEN",
            Measure::PR => "PR",
            Measure::PLO => "PLO",
            Measure::PAS => "PAS",
            Measure::PFT => "PFT",
            Measure::IR => "IR",
            Measure::IRR => "IRR",
            Measure::IRD => "IRD",
            Measure::ZCOR => "ZCOR",
            Measure::COR => "COR",
            Measure::OEV => "OEV",
        }
    }
    pub fn is_binary(self) -> bool {
        self.family() == Family::Binary
    }
    pub fn is_continuous(self) -> bool {
        self.family() == Family::Continuous
    }
    /// Ratio measures are analysed on the log scale and reported exponentiated.
    pub fn is_ratio(self) -> bool {
        matches!(
            self,
            Measure::OR | Measure::RR | Measure::ROM | Measure::IRR | Measure::OEV
        )
    }
}

/// A 2×2 table: `ai` events of `n1i` in the treatment arm, `ci` events of `n2i` in the control arm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Binary {
    pub ai: f64,
    pub n1i: f64,
    pub ci: f64,
    pub n2i: f64,
}

impl Binary {
    pub fn new(ai: f64, n1i: f64, ci: f64, n2i: f64) -> Self {
        Binary { ai, n1i, ci, n2i }
    }
    pub fn bi(&self) -> f64 {
        self.n1i - self.ai
    }
    pub fn di(&self) -> f64 {
        self.n2i - self.ci
    }
    /// No events in either arm, or only events in both arms.
    pub fn is_double_zero(&self) -> bool {
        (self.ai == 0.0 && self.ci == 0.0) || (self.bi() == 0.0 && self.di() == 0.0)
    }
    pub fn has_zero_cell(&self) -> bool {
        self.ai == 0.0 || self.ci == 0.0 || self.bi() == 0.0 || self.di() == 0.0
    }
    /// The table with `add` added to each of its four cells.
    pub fn plus(&self, add: f64) -> Binary {
        Binary {
            ai: self.ai + add,
            n1i: self.n1i + 2.0 * add,
            ci: self.ci + add,
            n2i: self.n2i + 2.0 * add,
        }
    }
    /// Swap the arms.
    pub fn swapped(&self) -> Binary {
        Binary {
            ai: self.ci,
            n1i: self.n2i,
            ci: self.ai,
            n2i: self.n1i,
        }
    }
}

/// Arm-level means for continuous outcomes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Continuous {
    pub m1i: f64,
    pub sd1i: f64,
    pub n1i: f64,
    pub m2i: f64,
    pub sd2i: f64,
    pub n2i: f64,
}

/// An observed effect and its sampling variance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Effect {
    pub yi: f64,
    pub vi: f64,
}

/// Where `escalc` adds its continuity correction (metafor's `to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddTo {
    /// every cell of every study
    All,
    /// every cell of studies with a zero cell (metafor's default)
    OnlyZero,
    /// every cell of every study if any study has a zero cell
    IfZeroAll,
    /// nowhere
    None,
}

/// Continuity-correction settings of `escalc` for 2×2 data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ZeroCell {
    pub add: f64,
    pub to: AddTo,
    /// Treat double-zero studies as missing (metafor `drop00`).
    pub drop00: bool,
}

impl ZeroCell {
    /// `escalc()` defaults: add 1/2 to studies with a zero cell, keep double zeros.
    pub const ESCALC: ZeroCell = ZeroCell {
        add: 0.5,
        to: AddTo::OnlyZero,
        drop00: false,
    };
    /// `escalc(drop00 = TRUE)`: as `ESCALC`, with studies without events (or with only events)
    /// in both arms not estimable.
    pub const ESCALC_DROP00: ZeroCell = ZeroCell {
        add: 0.5,
        to: AddTo::OnlyZero,
        drop00: true,
    };
    /// What `rma.mh()` and `rma.peto()` use for their heterogeneity statistics.
    pub const MH_Q: ZeroCell = ZeroCell::ESCALC_DROP00;
    /// Raw counts.
    pub const NONE: ZeroCell = ZeroCell {
        add: 0.0,
        to: AddTo::None,
        drop00: false,
    };
}

/// The effect where escalc gives one (a finite yi and vi).
pub(crate) fn finite(e: Effect) -> Option<Effect> {
    if e.yi.is_finite() && e.vi.is_finite() {
        Some(e)
    } else {
        None
    }
}

/// Effect sizes of 2×2 tables (OR, RR, RD) as `escalc()`; `None` where metafor gives NA.
pub fn escalc_binary(measure: Measure, tables: &[Binary], zc: ZeroCell) -> Vec<Option<Effect>> {
    let any_zero = tables
        .iter()
        .any(|t| !(zc.drop00 && t.is_double_zero()) && t.has_zero_cell());
    tables
        .iter()
        .map(|t| {
            if zc.drop00 && t.is_double_zero() {
                return None;
            }
            let add = match zc.to {
                AddTo::All => zc.add,
                AddTo::OnlyZero if t.has_zero_cell() => zc.add,
                AddTo::IfZeroAll if any_zero => zc.add,
                _ => 0.0,
            };
            binary_effect(measure, &t.plus(add))
        })
        .collect()
}

/// The effect of one (already corrected) 2×2 table.
pub fn binary_effect(measure: Measure, t: &Binary) -> Option<Effect> {
    let (a, b, c, d) = (t.ai, t.bi(), t.ci, t.di());
    let (n1, n2) = (t.n1i, t.n2i);
    let e = match measure {
        Measure::OR => Effect {
            yi: ((a / n1) / (1.0 - a / n1)).ln() - ((c / n2) / (1.0 - c / n2)).ln(),
            vi: 1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d,
        },
        Measure::RR => Effect {
            yi: (a / n1).ln() - (c / n2).ln(),
            vi: 1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n2,
        },
        Measure::RD => {
            let (p1, p2) = (a / n1, c / n2);
            Effect {
                yi: p1 - p2,
                vi: p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2,
            }
        }
        _ => return None,
    };
    finite(e)
}

/// Hedges' exact small-sample correction factor (metafor `.cmicalc`).
pub fn hedges_c(m: f64) -> f64 {
    if m <= 1.0 {
        return f64::NAN;
    }
    (lgamma(m / 2.0) - (m / 2.0).sqrt().ln() - lgamma((m - 1.0) / 2.0)).exp()
}

/// Effect of one arm-level continuous comparison (MD, SMD, ROM) as `escalc()` with its default
/// `vtype = "LS"`.
pub fn continuous_effect(measure: Measure, s: &Continuous) -> Option<Effect> {
    let Continuous {
        m1i,
        sd1i,
        n1i,
        m2i,
        sd2i,
        n2i,
    } = *s;
    let e = match measure {
        Measure::MD => Effect {
            yi: m1i - m2i,
            vi: sd1i * sd1i / n1i + sd2i * sd2i / n2i,
        },
        Measure::SMD => {
            let m = n1i + n2i - 2.0;
            let sdp = (((n1i - 1.0) * sd1i * sd1i + (n2i - 1.0) * sd2i * sd2i) / m).sqrt();
            let g = hedges_c(m) * (m1i - m2i) / sdp;
            Effect {
                yi: g,
                vi: 1.0 / n1i + 1.0 / n2i + g * g / (2.0 * (n1i + n2i)),
            }
        }
        Measure::ROM => Effect {
            yi: (m1i / m2i).ln(),
            vi: sd1i * sd1i / (n1i * m1i * m1i) + sd2i * sd2i / (n2i * m2i * m2i),
        },
        _ => return None,
    };
    finite(e)
}

/// Continuous effects for a whole table.
pub fn escalc_continuous(measure: Measure, rows: &[Continuous]) -> Vec<Option<Effect>> {
    rows.iter().map(|r| continuous_effect(measure, r)).collect()
}
