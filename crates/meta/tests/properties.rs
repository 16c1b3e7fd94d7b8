//! Property tests of the pooling engine.

use metapipe_meta::effect::{binary_effect, escalc_binary, Binary, Measure, ZeroCell};
use metapipe_meta::model::{mantel_haenszel, rma_uni, Method, Options};
use proptest::prelude::*;

fn table() -> impl Strategy<Value = Binary> {
    (1u32..200, 1u32..200)
        .prop_flat_map(|(n1, n2)| (0..=n1, Just(n1), 0..=n2, Just(n2)))
        .prop_map(|(a, n1, c, n2)| Binary::new(a as f64, n1 as f64, c as f64, n2 as f64))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Swapping the arms negates the log odds ratio and keeps its variance.
    #[test]
    fn swapping_arms_negates_log_or(t in table()) {
        let e = escalc_binary(Measure::OR, &[t], ZeroCell::ESCALC)[0];
        let s = escalc_binary(Measure::OR, &[t.swapped()], ZeroCell::ESCALC)[0];
        match (e, s) {
            (Some(e), Some(s)) => { prop_assert!(close(e.yi, -s.yi)); prop_assert!(close(e.vi, s.vi)); }
            (None, None) => {}
            _ => prop_assert!(false, "one side NA"),
        }
    }

    /// Study order does not matter (MH, DL, REML).
    #[test]
    fn study_order_does_not_matter(ts in prop::collection::vec(table(), 2..12), seed in any::<u64>()) {
        let mut shuffled = ts.clone();
        let n = shuffled.len();
        let mut x = seed;
        for i in (1..n).rev() {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (x >> 33) as usize % (i + 1));
        }
        if let (Ok(a), Ok(b)) = (mantel_haenszel(&ts, Measure::OR, 0.95), mantel_haenszel(&shuffled, Measure::OR, 0.95)) {
            prop_assert!(close(a.estimate, b.estimate) && close(a.se, b.se) && close(a.q, b.q));
        }
        let split = |v: &[Binary]| -> (Vec<f64>, Vec<f64>) { escalc_binary(Measure::OR, v, ZeroCell::ESCALC).into_iter().flatten().map(|e| (e.yi, e.vi)).unzip() };
        let ((y1, v1), (y2, v2)) = (split(&ts), split(&shuffled));
        for m in [Method::DL, Method::REML] {
            if let (Ok(a), Ok(b)) = (rma_uni(&y1, &v1, m, &Options::default()), rma_uni(&y2, &v2, m, &Options::default())) {
                // REML iterates to metafor's 1e-5 threshold; summation order may shift the last step
                let tol = if m == Method::REML { 1e-6 } else { 1e-9 };
                prop_assert!((a.estimate - b.estimate).abs() <= tol * (1.0 + a.estimate.abs()), "{:?}: {} vs {}", m, a.estimate, b.estimate);
                prop_assert!((a.tau2 - b.tau2).abs() <= tol * (1.0 + a.tau2), "{:?} tau2", m);
            }
        }
    }

    /// The MH odds ratio is invariant to multiplying every count by the same factor.
    #[test]
    fn mh_or_scale_invariant(ts in prop::collection::vec(table(), 1..10), f in 2u32..20) {
        let scaled: Vec<Binary> = ts.iter().map(|t| Binary::new(t.ai * f as f64, t.n1i * f as f64, t.ci * f as f64, t.n2i * f as f64)).collect();
        if let (Ok(a), Ok(b)) = (mantel_haenszel(&ts, Measure::OR, 0.95), mantel_haenszel(&scaled, Measure::OR, 0.95)) {
            prop_assert!(close(a.estimate, b.estimate), "{} vs {}", a.estimate, b.estimate);
            // and the variance shrinks by the factor
            prop_assert!(close(a.se * a.se / f as f64, b.se * b.se));
        }
    }

    /// A single 2x2 table pooled by inverse variance reproduces its own effect.
    #[test]
    fn single_study_is_itself(t in table()) {
        if let Some(e) = binary_effect(Measure::OR, &t) {
            let f = rma_uni(&[e.yi], &[e.vi], Method::DL, &Options::default()).unwrap();
            prop_assert!(close(f.estimate, e.yi) && f.tau2 == 0.0 && f.k == 1);
        }
    }
}
