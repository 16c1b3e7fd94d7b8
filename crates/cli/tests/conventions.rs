//! The Cochrane convention (RevMan since 2025), the prediction intervals, Knapp-Hartung's ad hoc
//! variant and double-zero studies,
//! through `metapipe pool`, against metafor 3.8 (`tests/fixtures/cochrane/cochrane.json`, written
//! by `cochrane.R` from the oracle datasets).

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1e-3)
}

/// `metapipe pool` as JSON.
fn pool(data: &PathBuf, args: &[&str]) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_metapipe"))
        .arg("pool")
        .arg(data)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The data file of a fixture dataset.
fn data_of(name: &str) -> PathBuf {
    ["oracle", "oracle-extra"]
        .iter()
        .map(|s| fixtures().join(s).join("data").join(format!("{name}.csv")))
        .find(|p| p.exists())
        .unwrap()
}

/// Our key for each of the fixture's: `metapipe pool` names the Q-profile limits as the
/// fixture (and results.csv) do.
fn ours(key: &str) -> &str {
    key
}

/// Every number of `want` equals ours; a prediction interval metafor gives below our fewest
/// studies must be absent from ours.
fn compare(what: &str, got: &Value, want: &Value, failures: &mut Vec<String>) -> usize {
    let mut n = 0;
    for (k, v) in want.as_object().unwrap() {
        let Some(v) = v.as_f64() else { continue };
        match got.get(ours(k)).and_then(Value::as_f64) {
            Some(g) if close(g, v) => n += 1,
            g => failures.push(format!("{what} {k}: ours {g:?}, metafor {v}")),
        }
    }
    n
}

#[test]
fn cochrane_prediction_and_double_zeros_equal_metafor() {
    let fx: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("cochrane/cochrane.json")).unwrap(),
    )
    .unwrap();
    let (mut checked, mut failures, mut below3) = (0, vec![], 0);
    for (name, measures) in fx.as_object().unwrap() {
        let data = data_of(name);
        for (measure, e) in measures.as_object().unwrap() {
            // rma(method = "REML", test = "knha", drop00 for OR/RR) + confint + the t(k - 2) interval
            let c = pool(&data, &["--measure", measure, "--convention", "cochrane"]);
            let want = &e["cochrane"];
            let k = want["k"].as_f64().unwrap() as usize;
            checked += compare(
                &format!("{name} {measure} cochrane"),
                &c,
                want,
                &mut failures,
            );
            if k < 3 {
                below3 += 1;
                assert!(
                    c.get("pi_lb").is_none(),
                    "{name} {measure}: no t(k - 2) interval at k = {k}"
                );
            }
            // z and HKSJ-based intervals (the latter needs no Knapp-Hartung test of the mean)
            for (kind, key, test) in [("z", "pi_z", "z"), ("hksj", "pi_hksj", "z")] {
                let p = pool(
                    &data,
                    &[
                        "--measure",
                        measure,
                        "--convention",
                        "cochrane",
                        "--test",
                        test,
                        "--prediction",
                        kind,
                    ],
                );
                let what = format!("{name} {measure} {key}");
                if k >= 3 {
                    checked += compare(&what, &p, &e[key], &mut failures);
                } else {
                    assert!(p.get("pi_lb").is_none(), "{what}: none at k = {k}");
                }
            }
            // Knapp-Hartung with the ad hoc correction (metafor test = "adhoc")
            if let Some(want) = e.get("adhoc") {
                let a = pool(
                    &data,
                    &[
                        "--measure",
                        measure,
                        "--convention",
                        "cochrane",
                        "--test",
                        "knha_adhoc",
                    ],
                );
                checked += compare(&format!("{name} {measure} adhoc"), &a, want, &mut failures);
            }
            // double-zero studies out of OR and RR (drop00 = TRUE), DerSimonian-Laird
            if let Some(want) = e.get("drop00_dl") {
                let d = pool(
                    &data,
                    &[
                        "--measure",
                        measure,
                        "--method",
                        "DL",
                        "--convention",
                        "cochrane",
                        "--test",
                        "z",
                    ],
                );
                checked += compare(
                    &format!("{name} {measure} drop00_dl"),
                    &d,
                    want,
                    &mut failures,
                );
            }
        }
    }
    assert!(
        checked > 500 && below3 > 0,
        "checked {checked}, k < 3: {below3}"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures[..failures.len().min(40)].join("\n")
    );
}
