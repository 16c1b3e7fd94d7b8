//! The tests for funnel-plot asymmetry against metafor 3.8 (`tests/fixtures/smallstudy/`,
//! written by `smallstudy.R` from the oracle datasets): Egger's classical test
//! (`regtest(model = "lm")`), the τ²-based one (`regtest(model = "rma")`, REML, z and
//! Knapp-Hartung), the 1/n test
//! (`regtest(predictor = "ninv")`) and Harbord's test (its formula in R), to 1e-6 relative.

use metapipe_meta::extras::{egger, harbord, regtest_lm};
use metapipe_meta::*;
use serde_json::Value;

fn close(a: f64, b: f64, what: &str) {
    let tol = 1e-6 * b.abs().max(1e-3);
    assert!((a - b).abs() <= tol, "{what}: {a} vs metafor {b}");
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn check(what: &str, fx: &Value, stat: f64, p: f64, limit: f64) {
    close(
        stat,
        fx["stat"].as_f64().unwrap(),
        &format!("{what} statistic"),
    );
    close(p, fx["p"].as_f64().unwrap(), &format!("{what} p"));
    close(
        limit,
        fx["limit"].as_f64().unwrap(),
        &format!("{what} limit"),
    );
}

#[test]
fn small_study_tests_equal_metafor() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/smallstudy/smallstudy.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut checked = [0usize; 5];
    for (name, measures) in all.as_object().unwrap() {
        // a dataset none of whose measures has 3 studies is an empty list
        let Some(measures) = measures.as_object() else {
            continue;
        };
        for (m, fx) in measures {
            let at = format!("{name} {m}");
            let (yi, vi) = (nums(&fx["yi"]), nums(&fx["vi"]));
            if let Some(e) = fx.get("egger_lm") {
                let r = egger(&yi, &vi).expect("Egger's test");
                check(&format!("{at} egger"), e, r.z, r.p, r.intercept);
                checked[0] += 1;
            }
            let sei: Vec<f64> = vi.iter().map(|v| v.sqrt()).collect();
            let x = metareg::Design::with_intercept(&[sei], vec!["sei".into()]).unwrap();
            for (key, test) in [("egger_rma", Test::Z), ("egger_rma_knha", Test::Knha)] {
                if let Some(e) = fx.get(key) {
                    let opts = Options {
                        test,
                        ..Options::default()
                    };
                    let r = metareg::fit(&yi, &vi, &x, Method::REML, &opts)
                        .expect("the tau2-based test");
                    check(&format!("{at} {key}"), e, r.z[1], r.p[1], r.beta[0]);
                    assert_eq!(r.df, e["df"].as_f64(), "{at} {key} df");
                    checked[if test == Test::Z { 1 } else { 4 }] += 1;
                }
            }
            if let Some(e) = fx.get("peters") {
                let ninv: Vec<f64> = nums(&fx["ni"]).iter().map(|n| 1.0 / n).collect();
                let r = regtest_lm(&yi, &vi, &ninv).expect("the 1/n test");
                check(&format!("{at} peters"), e, r.z, r.p, r.intercept);
                checked[2] += 1;
            }
            if let Some(e) = fx.get("harbord") {
                let c = &fx["counts"];
                let (a, n1, cc, n2) = (
                    nums(&c["ai"]),
                    nums(&c["n1i"]),
                    nums(&c["ci"]),
                    nums(&c["n2i"]),
                );
                let tables: Vec<Binary> = (0..a.len())
                    .map(|i| Binary::new(a[i], n1[i], cc[i], n2[i]))
                    .collect();
                let r = harbord(&tables).expect("Harbord's test");
                check(&format!("{at} harbord"), e, r.z, r.p, r.intercept);
                assert_eq!(r.df as f64, e["df"].as_f64().unwrap(), "{at} harbord df");
                checked[3] += 1;
            }
        }
    }
    // every test was checked on several datasets
    assert!(checked.iter().all(|&n| n >= 5), "checked {checked:?}");
}
