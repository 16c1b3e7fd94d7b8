//! Proportions, incidence rates, correlations and O − E / V against metafor 3.8
//! (`tests/fixtures/measures/`, written by `measures.R` from metadat datasets): escalc's effects,
//! rma fits (FE, DL, REML; z and Knapp-Hartung), and the back-transformed estimate and CI as
//! predict(transf = …) gives them, to 1e-6 relative.

use metapipe_meta::analysis::{effects, Studies, Zeros};
use metapipe_meta::effect::Measure;
use metapipe_meta::measures::harmonic_mean;
use metapipe_meta::*;
use serde_json::Value;

fn close(a: f64, b: f64, what: &str) {
    let tol = 1e-6 * b.abs().max(1e-3);
    assert!((a - b).abs() <= tol, "{what}: {a} vs metafor {b}");
}

fn nums(v: &Value) -> Vec<Option<f64>> {
    v.as_array().unwrap().iter().map(Value::as_f64).collect()
}

#[test]
fn new_measures_equal_metafor() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/measures/measures.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut checked = 0;
    let mut measures = std::collections::BTreeSet::new();
    for (name, d) in all.as_object().unwrap() {
        let measure = Measure::parse(d["measure"].as_str().unwrap()).unwrap();
        measures.insert(measure.name());
        let rows: Vec<Vec<f64>> = d["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| nums(r).into_iter().map(Option::unwrap).collect())
            .collect();
        let eff = effects(measure, Studies::Rows(&rows), Zeros::Escalc);
        for (i, (e, (y, v))) in eff
            .iter()
            .zip(nums(&d["yi"]).into_iter().zip(nums(&d["vi"])))
            .enumerate()
        {
            match (e, y, v) {
                (Some((a, b)), Some(y), Some(v)) => {
                    close(*a, y, &format!("{name} yi[{i}]"));
                    close(*b, v, &format!("{name} vi[{i}]"));
                    checked += 2;
                }
                (None, None, _) => {}
                (ours, y, v) => panic!("{name} study {i}: {ours:?} vs metafor {y:?} {v:?}"),
            }
        }
        let (yi, vi): (Vec<f64>, Vec<f64>) = eff.iter().flatten().copied().unzip();
        let ns: Vec<f64> = rows.iter().map(|r| r[1]).collect();
        let back = measure.back();
        let n_pooled = harmonic_mean(&ns);
        if let Some(sb) = d.get("study_back") {
            for (i, b) in nums(sb).into_iter().enumerate() {
                close(
                    back.apply(yi[i], ns[i]),
                    b.unwrap(),
                    &format!("{name} study back {i}"),
                );
                checked += 1;
            }
        }
        for (key, fx) in d["fits"].as_object().unwrap() {
            let (m, t) = key.split_once('_').unwrap();
            let opts = Options {
                test: if t == "knha" { Test::Knha } else { Test::Z },
                ..Options::default()
            };
            let f = rma_uni(&yi, &vi, Method::parse(m).unwrap(), &opts).unwrap();
            let at = format!("{name} {key}");
            for (k, v) in [
                ("estimate", f.estimate),
                ("se", f.se),
                ("ci_lb", f.ci_lb),
                ("ci_ub", f.ci_ub),
                ("tau2", f.tau2),
                ("Q", f.q),
                ("I2", f.i2),
                ("k", f.k as f64),
                ("pred", back.apply(f.estimate, n_pooled)),
                ("pred_lb", back.apply(f.ci_lb, n_pooled)),
                ("pred_ub", back.apply(f.ci_ub, n_pooled)),
            ] {
                close(v, fx[k].as_f64().unwrap(), &format!("{at} {k}"));
                checked += 1;
            }
        }
        if let Some(p) = d.get("peto") {
            // O - E and V pooled by inverse variance equal Peto's one-step odds ratio
            let f = rma_uni(&yi, &vi, Method::FE, &Options::default()).unwrap();
            close(
                f.estimate,
                p["estimate"].as_f64().unwrap(),
                "OEV = Peto estimate",
            );
            close(f.se, p["se"].as_f64().unwrap(), "OEV = Peto SE");
        }
    }
    let want = [
        "COR", "IR", "IRD", "IRR", "OEV", "PAS", "PFT", "PLO", "PR", "ZCOR",
    ];
    assert_eq!(measures.into_iter().collect::<Vec<_>>(), want);
    assert!(checked > 1500, "{checked}");
}

#[test]
fn double_zero_rates_are_dropped_for_irr_when_asked() {
    let rows = vec![vec![0.0, 100.0, 0.0, 90.0], vec![2.0, 100.0, 0.0, 90.0]];
    let keep = effects(Measure::IRR, Studies::Rows(&rows), Zeros::Escalc);
    // escalc: 1/2 added to both groups' events
    assert!((keep[0].unwrap().0 - ((0.5f64 / 100.0).ln() - (0.5f64 / 90.0).ln())).abs() < 1e-12);
    let drop = effects(Measure::IRR, Studies::Rows(&rows), Zeros::Drop00);
    assert!(drop[0].is_none() && drop[1].is_some());
    // the difference keeps them, as RD does
    let ird = effects(Measure::IRD, Studies::Rows(&rows), Zeros::Drop00);
    assert!(ird[0].is_some());
}
