//! Absolute effects for a Summary of findings table: the risk with the intervention that
//! corresponds to an assumed risk without it, given a relative effect; and GRADE's optimal
//! information size.
//!
//! Sources: the Cochrane Handbook's "Statistical considerations in 'Summary of findings' tables"
//! (v5.1 section 11.5.5; chapter 14 in v6 — the v6 section number was not checked here): for a
//! risk ratio, CR = ACR × RR; for an odds ratio, CR = OR × ACR / (1 − ACR + OR × ACR); a risk
//! difference is added to the assumed risk. For a hazard ratio (the event occurring by a time
//! point), CR = 1 − exp(HR × ln(1 − ACR)): proportional hazards, survival S₁ = S₀^HR. A confidence interval of the relative effect is carried through the
//! same formula (each limit in turn), as GRADEpro does. The optimal information size follows
//! Guyatt et al. 2011 (GRADE guidelines 6, J Clin Epidemiol 64:1283–93): the total sample size
//! of one adequately powered trial (two-sided α, power 1 − β) to detect a relative risk
//! reduction of the given size from the control risk.

use crate::dist::qnorm_two_sided;

/// The scale a relative effect is on, for the corresponding-risk formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relative {
    /// risk ratio
    Rr,
    /// odds ratio (also Peto's)
    Or,
    /// hazard ratio
    Hr,
    /// risk difference (an absolute effect already)
    Rd,
}

/// The risk with the intervention corresponding to the assumed risk `acr` (a proportion in
/// [0, 1]) under the relative effect `effect` (a ratio on the natural scale, or a risk
/// difference). Not clamped: a risk difference may give a risk outside [0, 1], which the caller
/// reports as it is.
pub fn corresponding_risk(kind: Relative, acr: f64, effect: f64) -> f64 {
    match kind {
        Relative::Rr => acr * effect,
        Relative::Or => effect * acr / (1.0 - acr + effect * acr),
        Relative::Hr => 1.0 - (effect * (1.0 - acr).ln()).exp(),
        Relative::Rd => acr + effect,
    }
}

/// GRADE's optimal information size for a binary outcome: the total number of participants
/// (both groups) one trial needs to detect the relative risk reduction `rrr` (e.g. 0.25) from
/// the control risk `p0`, two-sided `alpha`, power `1 − beta`:
/// n per group = (z₁₋α/₂ + z₁₋β)² (p₀(1 − p₀) + p₁(1 − p₁)) / (p₀ − p₁)², p₁ = p₀(1 − rrr).
/// None where it is undefined (p₀ not in (0, 1), no reduction).
pub fn optimal_information_size(p0: f64, rrr: f64, alpha: f64, beta: f64) -> Option<f64> {
    let p1 = p0 * (1.0 - rrr);
    if !(p0 > 0.0 && p0 < 1.0) || p0 == p1 || !(alpha > 0.0 && beta > 0.0) {
        return None;
    }
    let za = qnorm_two_sided(1.0 - alpha);
    let zb = qnorm_two_sided(1.0 - 2.0 * beta);
    let per_group = (za + zb).powi(2) * (p0 * (1.0 - p0) + p1 * (1.0 - p1)) / (p0 - p1).powi(2);
    Some(2.0 * per_group.ceil())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corresponding_risks_by_hand() {
        // RR 0.5 at 10%: 5%
        assert!((corresponding_risk(Relative::Rr, 0.1, 0.5) - 0.05).abs() < 1e-15);
        // OR 0.5 at 20%: odds 0.25 → 0.125 → risk 0.125 / 1.125
        let or = corresponding_risk(Relative::Or, 0.2, 0.5);
        assert!((or - 0.125 / 1.125).abs() < 1e-15);
        // HR 2 at 10%: survival 0.9² = 0.81 → 19%
        assert!((corresponding_risk(Relative::Hr, 0.1, 2.0) - 0.19).abs() < 1e-15);
        assert!((corresponding_risk(Relative::Rd, 0.1, -0.03) - 0.07).abs() < 1e-15);
        // no effect: the assumed risk, whatever the scale
        for k in [Relative::Rr, Relative::Or, Relative::Hr] {
            assert!((corresponding_risk(k, 0.37, 1.0) - 0.37).abs() < 1e-15);
        }
    }

    #[test]
    fn information_size_as_published() {
        // control risk 20%, RRR 25% (p1 = 15%), α 0.05, power 80%:
        // (1.959964 + 0.841621)² (0.16 + 0.1275) / 0.05² = 902.62 → 903 per group
        let n = optimal_information_size(0.2, 0.25, 0.05, 0.2).unwrap();
        assert_eq!(n, 1806.0);
        assert!(optimal_information_size(0.0, 0.25, 0.05, 0.2).is_none());
        assert!(optimal_information_size(0.2, 0.0, 0.05, 0.2).is_none());
    }
}
