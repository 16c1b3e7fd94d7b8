//! Effect sizes of one-group proportions and incidence rates, two-group incidence rates,
//! correlations and O − E with its variance, as metafor's `escalc()` computes them (defaults:
//! `add = 1/2`, `to = "only0"`), and the back-transforms that show them on their natural scale
//! (metafor's `transf.ilogit`, `transf.iarcsin`, `transf.ipft` / `transf.ipft.hm`,
//! `transf.ztor`, `exp`).
//!
//! Sources: metafor's `escalc` documentation (Viechtbauer 2010); Freeman & Tukey (1950) and
//! Miller (1978) for the double arcsine and its inverse; Fisher (1921) for z; RevMan's "O-E and
//! Variance" data type (Cochrane Handbook chapter 6, time-to-event data: log HR = (O − E)/V,
//! SE = 1/√V).

use crate::effect::{finite, Effect, Family, Measure};

/// A one-group proportion's effect (PR, PLO, PAS, PFT) from `xi` events of `ni`; `add` is
/// added to the events and non-events of a study with none of either (PR, PLO; escalc's
/// default 1/2, 0 for none). `None` where escalc gives NA.
pub fn proportion(measure: Measure, xi: f64, ni: f64, add: f64) -> Option<Effect> {
    if !(ni > 0.0 && xi >= 0.0 && xi <= ni) {
        return None;
    }
    let corrected = |x: f64, n: f64| {
        if x == 0.0 || x == n {
            (x + add, n + 2.0 * add)
        } else {
            (x, n)
        }
    };
    let e = match measure {
        Measure::PR => {
            let (x, n) = corrected(xi, ni);
            let p = x / n;
            Effect {
                yi: p,
                vi: p * (1.0 - p) / n,
            }
        }
        Measure::PLO => {
            let (x, n) = corrected(xi, ni);
            Effect {
                yi: (x / (n - x)).ln(),
                vi: 1.0 / x + 1.0 / (n - x),
            }
        }
        Measure::PAS => Effect {
            yi: (xi / ni).sqrt().asin(),
            vi: 1.0 / (4.0 * ni),
        },
        Measure::PFT => Effect {
            yi: pft(xi, ni),
            vi: 1.0 / (4.0 * ni + 2.0),
        },
        _ => return None,
    };
    finite(e)
}

/// The Freeman-Tukey double arcsine of `x` events of `n`.
fn pft(x: f64, n: f64) -> f64 {
    0.5 * ((x / (n + 1.0)).sqrt().asin() + ((x + 1.0) / (n + 1.0)).sqrt().asin())
}

/// A one-group incidence rate (IR): `xi` events in `ti` person-time; `add` added to the events
/// of a study with none.
pub fn rate(xi: f64, ti: f64, add: f64) -> Option<Effect> {
    if !(ti > 0.0 && xi >= 0.0) {
        return None;
    }
    let x = if xi == 0.0 { xi + add } else { xi };
    finite(Effect {
        yi: x / ti,
        vi: x / (ti * ti),
    })
}

/// Two groups' incidence rates (IRR, IRD): `x1i` events in `t1i`, `x2i` in `t2i`; `add` added
/// to both groups' events when either has none; `drop00`: a study without events in either
/// group is not estimable (for IRR).
pub fn rate_pair(
    measure: Measure,
    x1i: f64,
    t1i: f64,
    x2i: f64,
    t2i: f64,
    add: f64,
    drop00: bool,
) -> Option<Effect> {
    if !(t1i > 0.0 && t2i > 0.0 && x1i >= 0.0 && x2i >= 0.0) {
        return None;
    }
    if drop00 && x1i == 0.0 && x2i == 0.0 {
        return None;
    }
    let (x1, x2) = if x1i == 0.0 || x2i == 0.0 {
        (x1i + add, x2i + add)
    } else {
        (x1i, x2i)
    };
    let e = match measure {
        Measure::IRR => Effect {
            yi: (x1 / t1i).ln() - (x2 / t2i).ln(),
            vi: 1.0 / x1 + 1.0 / x2,
        },
        Measure::IRD => Effect {
            yi: x1 / t1i - x2 / t2i,
            vi: x1 / (t1i * t1i) + x2 / (t2i * t2i),
        },
        _ => return None,
    };
    finite(e)
}

/// A correlation `ri` from `ni` participants (ZCOR: Fisher's z, variance 1/(n − 3); COR: r with
/// the large-sample variance (1 − r²)²/(n − 1)).
pub fn correlation(measure: Measure, ri: f64, ni: f64) -> Option<Effect> {
    if !(ri > -1.0 && ri < 1.0) {
        return None;
    }
    let e = match measure {
        Measure::ZCOR if ni > 3.0 => Effect {
            yi: ri.atanh(),
            vi: 1.0 / (ni - 3.0),
        },
        Measure::COR if ni > 1.0 => Effect {
            yi: ri,
            vi: (1.0 - ri * ri).powi(2) / (ni - 1.0),
        },
        _ => return None,
    };
    finite(e)
}

/// The log hazard ratio from O − E and V: (O − E)/V with variance 1/V (V > 0).
pub fn o_minus_e(oe: f64, v: f64) -> Option<Effect> {
    if v.is_nan() || v <= 0.0 {
        return None;
    }
    finite(Effect {
        yi: oe / v,
        vi: 1.0 / v,
    })
}

impl Measure {
    /// How an estimate on the analysis scale is shown ([`Back`]).
    pub fn back(self) -> Back {
        match self {
            m if m.is_ratio() => Back::Exp,
            Measure::PLO => Back::Expit,
            Measure::PAS => Back::SinSquare,
            Measure::PFT => Back::Ipft,
            Measure::ZCOR => Back::Tanh,
            _ => Back::Identity,
        }
    }
}

/// How an estimate on a measure's analysis scale is shown on its natural scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Back {
    Identity,
    /// ratios on the log scale
    Exp,
    /// logits to proportions (`transf.ilogit`)
    Expit,
    /// arcsine square-roots to proportions (`transf.iarcsin`)
    SinSquare,
    /// Freeman-Tukey double arcsines to proportions (Miller 1978; `transf.ipft` with the study's
    /// n, `transf.ipft.hm` with the harmonic mean of the studies' n for a pooled estimate)
    Ipft,
    /// Fisher's z to correlations (`transf.ztor`)
    Tanh,
}

impl Back {
    /// `x` on the natural scale; `n` is the sample size the double arcsine's inverse needs (the
    /// study's own, or the harmonic mean of the pooled studies'; see [`harmonic_mean`]).
    pub fn apply(self, x: f64, n: f64) -> f64 {
        match self {
            Back::Identity => x,
            Back::Exp => x.exp(),
            Back::Expit => 1.0 / (1.0 + (-x).exp()),
            Back::SinSquare => {
                if x < 0.0 {
                    0.0
                } else if x > 1f64.asin() {
                    1.0
                } else {
                    x.sin().powi(2)
                }
            }
            Back::Ipft => ipft(x, n),
            Back::Tanh => x.tanh(),
        }
    }
    /// Whether the shown value needs a sample size (the double arcsine).
    pub fn needs_n(self) -> bool {
        self == Back::Ipft
    }
}

/// Miller's inverse of the double arcsine for sample size `n` (metafor's `transf.ipft`),
/// clamped to [0, 1] beyond the transforms of 0 and 1.
fn ipft(x: f64, n: f64) -> f64 {
    if x > pft(n, n) {
        return 1.0;
    }
    if x < pft(0.0, n) {
        return 0.0;
    }
    let s = (2.0 * x).sin();
    let c = (2.0 * x).cos();
    // R's sign(): 0 at 0
    let sign = if c > 0.0 {
        1.0
    } else if c < 0.0 {
        -1.0
    } else {
        0.0
    };
    let z = 0.5 * (1.0 - sign * (1.0 - (s + (s - 1.0 / s) / n).powi(2)).sqrt());
    if z.is_nan() {
        f64::NAN
    } else {
        z
    }
}

/// The harmonic mean of the sample sizes `ns` (metafor's `transf.ipft.hm`).
pub fn harmonic_mean(ns: &[f64]) -> f64 {
    ns.len() as f64 / ns.iter().map(|n| 1.0 / n).sum::<f64>()
}

/// The effect of one study of a measure of these families from its row: `[xi, ni]`
/// (proportions), `[xi, ti]` (IR), `[x1i, t1i, x2i, t2i]` (IRR, IRD), `[ri, ni]` (correlations)
/// or `[o_minus_e, v]` (OEV); escalc's 1/2 added where a count is zero, and a study without
/// events in either group not estimable for IRR when `drop00`.
pub fn effect_of_row(measure: Measure, row: &[f64], drop00: bool) -> Option<Effect> {
    let at = |i: usize| row.get(i).copied().unwrap_or(f64::NAN);
    match measure.family() {
        Family::Proportion => proportion(measure, at(0), at(1), 0.5),
        Family::Rate => rate(at(0), at(1), 0.5),
        Family::RatePair => rate_pair(
            measure,
            at(0),
            at(1),
            at(2),
            at(3),
            0.5,
            drop00 && measure == Measure::IRR,
        ),
        Family::Correlation => correlation(measure, at(0), at(1)),
        Family::OMinusE => o_minus_e(at(0), at(1)),
        _ => None,
    }
}
