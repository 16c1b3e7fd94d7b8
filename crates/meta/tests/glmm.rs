//! GLMMs against metafor 3.8's `rma.glmm` with lme4 1.1 (`tests/fixtures/glmm/`, written by
//! `glmm.R`): odds ratios by the unconditional model with fixed study effects (`UM.FS`) and
//! logit proportions, each by `EE` and `ML` with 7-node adaptive quadrature, to 1e-4 relative —
//! where lme4 converged. Where rma.glmm's default optimizer stopped short (lme4's "failed to
//! converge"), the same model fitted by lme4 with bobyqa is the reference, and every ML fit
//! must reach at least bobyqa's log-likelihood.

use metapipe_meta::effect::Binary;
use metapipe_meta::glmm::{glmm_or, glmm_plo, GlmmFit};
use serde_json::Value;

fn close(a: f64, b: f64, tol: f64, what: &str) -> Option<String> {
    let t = tol * b.abs().max(1e-2);
    ((a - b).abs() > t).then(|| format!("{what}: {a} vs metafor {b}"))
}

#[test]
fn glmms_equal_metafor_and_lme4() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/glmm/glmm.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (mut fails, mut fits, mut unconverged) = (vec![], 0, 0);
    for (name, d) in all.as_object().unwrap() {
        let Some(rows) = d.get("rows").and_then(Value::as_array) else {
            continue;
        };
        let rows: Vec<Vec<f64>> = rows
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .collect()
            })
            .collect();
        for m in ["EE", "ML"] {
            let Some(fx) = d.get(m) else { continue };
            let random = m == "ML";
            let f: GlmmFit = if d["measure"] == "OR" {
                let t: Vec<Binary> = rows
                    .iter()
                    .map(|r| Binary::new(r[0], r[1], r[2], r[3]))
                    .collect();
                glmm_or(&t, random, 0.95)
            } else {
                let t: Vec<(f64, f64)> = rows.iter().map(|r| (r[0], r[1])).collect();
                glmm_plo(&t, random, 0.95)
            }
            .unwrap_or_else(|e| panic!("{name} {m}: {e}"));
            fits += 1;
            let at = format!("{name} {m}");
            if random {
                let b = &d["ML_bobyqa"];
                for (k, v) in [("beta", f.estimate), ("se", f.se), ("tau2", f.tau2)] {
                    fails.extend(close(
                        v,
                        b[k].as_f64().unwrap(),
                        1e-4,
                        &format!("{at} bobyqa {k}"),
                    ));
                }
                let ll = b["logLik"].as_f64().unwrap();
                if f.loglik < ll - 1e-6 {
                    fails.push(format!(
                        "{at}: log-likelihood {} below lme4's {ll}",
                        f.loglik
                    ));
                }
            }
            if fx["converged"] == false {
                // metafor's figure is where lme4 stopped: the bobyqa fit above is the reference
                unconverged += 1;
                continue;
            }
            assert_eq!(f.k as f64, fx["k"].as_f64().unwrap(), "{at} k");
            for (k, v) in [
                ("beta", f.estimate),
                ("se", f.se),
                ("zval", f.z),
                ("ci_lb", f.ci_lb),
                ("ci_ub", f.ci_ub),
                ("tau2", f.tau2),
                ("I2", f.i2),
            ] {
                fails.extend(close(
                    v,
                    fx[k].as_f64().unwrap(),
                    1e-4,
                    &format!("{at} {k}"),
                ));
            }
            fails.extend(close(
                f.p,
                fx["pval"].as_f64().unwrap(),
                1e-3,
                &format!("{at} pval"),
            ));
        }
    }
    assert!(fits >= 14, "{fits}");
    assert!(
        unconverged <= 3,
        "{unconverged} of metafor's fits unconverged"
    );
    assert!(fails.is_empty(), "{}", fails.join("\n"));
}

/// Data whose likelihood has no finite maximum (no events in any study, only events, no events
/// in any treatment arm) are not estimable, with the reason, rather than a number off towards
/// infinity.
#[test]
fn separated_data_are_not_estimable() {
    for random in [false, true] {
        for rows in [
            vec![(0.0, 10.0), (0.0, 12.0), (0.0, 8.0)],
            vec![(10.0, 10.0), (5.0, 5.0)],
        ] {
            let e = glmm_plo(&rows, random, 0.95).unwrap_err().to_string();
            assert!(e.contains("no finite maximum"), "{rows:?}: {e}");
        }
        let t = [
            Binary::new(0.0, 10.0, 3.0, 10.0),
            Binary::new(0.0, 20.0, 4.0, 20.0),
        ];
        let e = glmm_or(&t, random, 0.95).unwrap_err().to_string();
        assert!(e.contains("no finite maximum"), "{e}");
    }
}
