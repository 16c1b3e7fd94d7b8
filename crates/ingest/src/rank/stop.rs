//! When screening in order of relevance may stop: the hypergeometric test of Callaghan and
//! Müller-Hansen (2020, "Statistical stopping criteria for automated screening in systematic
//! reviews", Systematic Reviews 9:273). The last n records screened are taken as a sample drawn
//! at random from the N_j records that were left when they were reached; under the null
//! hypothesis that recall is below the target τ, those N_j records held at least
//! K = ⌊r / τ⌋ − r_j + 1 relevant ones (r found in all, r_j before the sample), and the chance of
//! finding as few as the sample did is the hypergeometric P(X ≤ k). Screening may stop when the
//! smallest such p over every sample start is below 1 − confidence. Records ranked by relevance
//! are richer in relevant ones than a random sample, so treating them as random is conservative.

/// ln k! for k = 0..=n.
pub struct LnFact(Vec<f64>);

impl LnFact {
    pub fn new(n: usize) -> LnFact {
        let mut v = vec![0.0; n + 1];
        for k in 1..=n {
            v[k] = v[k - 1] + (k as f64).ln();
        }
        LnFact(v)
    }

    fn choose(&self, n: usize, k: usize) -> f64 {
        self.0[n] - self.0[k] - self.0[n - k]
    }

    /// P(X ≤ k) for X hypergeometric: `draws` from `pop` holding `succ` successes.
    pub fn hyper_cdf(&self, k: usize, pop: usize, succ: usize, draws: usize) -> f64 {
        let lo = draws.saturating_sub(pop - succ);
        let hi = k.min(succ).min(draws);
        if hi < lo {
            return 0.0;
        }
        let total = self.choose(pop, draws);
        (lo..=hi)
            .map(|x| (self.choose(succ, x) + self.choose(pop - succ, draws - x) - total).exp())
            .sum::<f64>()
            .min(1.0)
    }
}

/// The smallest p over every sample start for the screening so far (`seen`: relevant or not, in
/// screening order) out of `n_total` records, recall target `target`.
pub fn stop_p(seen: &[bool], n_total: usize, target: f64, lf: &LnFact) -> f64 {
    let r: usize = seen.iter().filter(|&&x| x).count();
    if r == 0 {
        return 1.0;
    }
    let need = (r as f64 / target).floor() as usize + 1;
    let mut k = 0usize; // relevant in the sample (the last n screened)
    let mut best = 1.0f64;
    for n in 1..=seen.len() {
        let j = seen.len() - n; // records screened before the sample
        if seen[j] {
            k += 1;
        }
        let r_before = r - k;
        let pop = n_total - j;
        let succ = need.saturating_sub(r_before);
        if succ > pop {
            return 0.0; // the null hypothesis is impossible: more relevant than records left
        }
        best = best.min(lf.hyper_cdf(k, pop, succ, n));
    }
    best
}

/// Where title/abstract screening stands by the rule: `p` at the recall target (None when every
/// record is screened), whether screening may stop, and the recall the screening so far
/// achieves with the stated confidence (the largest τ whose null hypothesis "recall < τ" is
/// rejected; 1 when nothing is left).
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub p: Option<f64>,
    pub stop: bool,
    pub recall_lower: f64,
}

/// The rule on the decisions so far (`seen`, relevant or not, in the order they were made) with
/// `awaiting` records left.
pub fn progress(seen: &[bool], awaiting: usize, target: f64, confidence: f64) -> Progress {
    if awaiting == 0 {
        return Progress {
            p: None,
            stop: true,
            recall_lower: 1.0,
        };
    }
    let n = seen.len() + awaiting;
    let lf = LnFact::new(n);
    let alpha = 1.0 - confidence;
    let p = stop_p(seen, n, target, &lf);
    // p rises with τ: bisect for the largest τ still rejected
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..40 {
        let mid = (lo + hi) / 2.0;
        if stop_p(seen, n, mid, &lf) < alpha {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Progress {
        p: Some(p),
        stop: p < alpha,
        recall_lower: lo,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypergeometric_by_hand() {
        let lf = LnFact::new(20);
        // 10 records, 3 successes, 4 draws: P(X = 0) = C(7,4)/C(10,4) = 35/210
        assert!((lf.hyper_cdf(0, 10, 3, 4) - 35.0 / 210.0).abs() < 1e-12);
        // P(X ≤ 1) = (35 + 3·35) / 210
        assert!((lf.hyper_cdf(1, 10, 3, 4) - 140.0 / 210.0).abs() < 1e-12);
        assert!((lf.hyper_cdf(3, 10, 3, 4) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn progress_says_where_screening_stands() {
        let mut seen = vec![true; 20];
        seen.extend(vec![false; 800]);
        let p = progress(&seen, 180, 0.95, 0.95);
        assert!(p.stop && p.p.unwrap() < 0.05);
        // the bound is where the test stops rejecting: just above 0.95, below 1
        assert!(p.recall_lower > 0.95 && p.recall_lower < 1.0, "{p:?}");
        let early = progress(&seen[..100], 900, 0.95, 0.95);
        assert!(!early.stop && early.recall_lower < 0.95);
        assert_eq!(progress(&seen, 0, 0.95, 0.95).recall_lower, 1.0);
    }

    #[test]
    fn a_long_run_without_relevant_records_allows_stopping() {
        let lf = LnFact::new(1000);
        let mut seen = vec![true; 20];
        seen.extend(vec![false; 800]);
        // 20 found, then 800 irrelevant in a row out of 1000: under recall < 95% at least 2
        // relevant were among the 980 left after the 20th; missing both in 800 draws has
        // P = (180 · 179) / (980 · 979) = 0.0336
        let p = stop_p(&seen, 1000, 0.95, &lf);
        assert!((p - 180.0 * 179.0 / (980.0 * 979.0)).abs() < 1e-9, "{p}");
        // 400 irrelevant in a row are not enough: (580 · 579) / (980 · 979) = 0.35
        assert!(stop_p(&seen[..420], 1000, 0.95, &lf) > 0.05);
        // right after the last relevant one, not yet
        assert!(stop_p(&seen[..25], 1000, 0.95, &lf) > 0.05);
    }
}
