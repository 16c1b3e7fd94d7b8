//! The conversions of reported statistics against the reference values of
//! `tests/fixtures/conversions/conversions.R` (the formulas written out in R), to 1e-9 relative:
//! means and SDs from medians (every method × scenario × n across the methods' thresholds), SDs
//! from SEs and CIs, a mean difference's SE from its CI, t or p, events from percentages.

use metapipe_meta::conversions::*;
use serde_json::Value;

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        "{what}: {a} vs R {b}"
    );
}

fn fixture() -> Value {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/conversions/conversions.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn means_and_sds_from_medians_equal_the_formulas() {
    let fx = fixture();
    let mut checked = 0;
    for c in fx["median"].as_array().unwrap() {
        let g = |k: &str| c.get(k).and_then(Value::as_f64);
        let s = FiveNum {
            n: g("n").unwrap(),
            min: g("a"),
            q1: g("q1"),
            median: g("m").unwrap(),
            q3: g("q3"),
            max: g("b"),
        };
        let at = format!("{} n={} {:?}", c["scenario"], s.n, s);
        for m in [
            MeanMethod::Luo2018,
            MeanMethod::Wan2014,
            MeanMethod::Hozo2005,
        ] {
            match (s.mean(m), g(&format!("mean_{}", m.name()))) {
                (Ok(v), Some(r)) => close(v, r, &format!("{at} mean {}", m.name())),
                (Err(_), None) => {}
                (ours, r) => panic!("{at} mean {}: {ours:?} vs R {r:?}", m.name()),
            }
            checked += 1;
        }
        for m in SdMethod::ALL {
            match (s.sd(m), g(&format!("sd_{}", m.name()))) {
                (Ok(v), Some(r)) => close(v, r, &format!("{at} sd {}", m.name())),
                (Err(_), None) => {}
                (ours, r) => panic!("{at} sd {}: {ours:?} vs R {r:?}", m.name()),
            }
            checked += 1;
        }
    }
    assert!(checked >= 700, "{checked}");
}

#[test]
fn sds_from_ses_and_cis_and_md_ses_equal_the_handbook_formulas() {
    let fx = fixture();
    for c in fx["arm"].as_array().unwrap() {
        let g = |k: &str| c[k].as_f64().unwrap();
        close(
            sd_from_se(g("se"), g("n")).unwrap(),
            g("sd_from_se"),
            "sd from se",
        );
        let sd = sd_from_ci(None, g("ci_lb"), g("ci_ub"), g("n"), g("level")).unwrap();
        close(sd, g("sd_from_ci"), &format!("sd from ci n={}", g("n")));
    }
    for c in fx["md"].as_array().unwrap() {
        let g = |k: &str| c[k].as_f64().unwrap();
        let (md, n1, n2) = (g("md"), g("n1"), g("n2"));
        let ci = MdStat::Ci {
            lb: g("ci_lb"),
            ub: g("ci_ub"),
            level: g("level"),
        };
        close(
            md_se(md, n1, n2, ci).unwrap(),
            g("se_from_ci"),
            "md se from ci",
        );
        close(
            md_se(md, n1, n2, MdStat::T(g("t"))).unwrap(),
            g("se_from_t"),
            "md se from t",
        );
        close(
            md_se(md, n1, n2, MdStat::P(g("p"))).unwrap(),
            g("se_from_p"),
            "md se from p",
        );
    }
    for c in fx["pct"].as_array().unwrap() {
        let g = |k: &str| c[k].as_f64().unwrap();
        assert_eq!(events_from_percent(g("pct"), g("n")).unwrap(), g("events"));
    }
}

#[test]
fn impossible_summaries_are_refused_with_the_reason() {
    let base = FiveNum {
        n: 30.0,
        min: None,
        q1: Some(2.0),
        median: 3.0,
        q3: Some(5.0),
        max: None,
    };
    let err = |s: FiveNum| s.mean(MeanMethod::Luo2018).unwrap_err();
    assert!(err(FiveNum {
        q1: Some(4.0),
        ..base
    })
    .contains("does not surround the median"));
    assert!(err(FiveNum { q3: None, ..base }).contains("needs its quartiles"));
    assert!(err(FiveNum { n: 0.0, ..base }).contains("group size"));
    let five = FiveNum {
        min: Some(2.5),
        max: Some(9.0),
        ..base
    };
    assert!(err(five).contains("does not contain the quartiles"));
    assert!(base.sd(SdMethod::Hozo2005).unwrap_err().contains("range"));
    assert!(sd_from_ci(Some(9.0), 1.0, 3.0, 20.0, 0.95)
        .unwrap_err()
        .contains("does not contain the mean"));
    assert!(sd_from_ci(None, 3.0, 1.0, 20.0, 0.95)
        .unwrap_err()
        .contains("no width"));
    assert!(md_se(1.0, 10.0, 10.0, MdStat::P(0.0)).is_err());
    assert!(events_from_percent(120.0, 10.0).is_err());
}

/// The Cochrane Handbook's worked examples (version 5.1, section 7.7.3, archived at
/// handbook-5-1.cochrane.org; the same methods are 6.5.2.2–6.5.2.3 in version 6), to the digits
/// the Handbook prints: a mean difference of 3.8 with P = 0.008 between groups of 25 and 22 has
/// t = 2.78 on 45 degrees of freedom ("tinv(0.008, 45)") and SE 3.8 / 2.78 = 1.37; a 95% CI of
/// the mean of a group of 25 is 2 × 2.0639 = 4.128 SEs wide ("tinv(1-0.95, 25-1)"), not 3.92.
#[test]
fn handbook_worked_examples() {
    let se = md_se(3.8, 25.0, 22.0, MdStat::P(0.008)).unwrap();
    assert_eq!(format!("{:.2}", 3.8 / se), "2.78");
    assert_eq!(format!("{se:.2}"), "1.37");
    // SD from the CI of a mean of 25: sqrt(25) × width / 4.128 (the t divisor to 4 digits)
    let (lb, ub) = (10.0, 14.128);
    let sd = sd_from_ci(Some(12.0), lb, ub, 25.0, 0.95).unwrap();
    assert!((sd - 5.0).abs() < 5e-4, "{sd}");
    // from 60 participants on, the normal divisor 3.92 (Handbook: "3.92 = 2 × 1.96")
    let sd = sd_from_ci(None, 0.0, 3.92, 100.0, 0.95).unwrap();
    assert!((sd - 10.0).abs() < 1e-3, "{sd}");
}
