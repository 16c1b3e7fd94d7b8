//! Meta-regression with several moderators against metafor 3.8 (`tests/fixtures/metareg/`,
//! written by `metareg.R` from metadat datasets): every τ² estimator under the z test,
//! Knapp-Hartung and its ad hoc variant; coefficients, SEs, tests, CIs, QM (χ² or F), QE, I², H²,
//! R², to 1e-6 relative; and the common-τ² subgroup model (τ², QM, each level's estimate).

use metapipe_meta::metareg::{self, Design};
use metapipe_meta::*;
use serde_json::Value;

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

struct Check {
    checked: usize,
    failures: Vec<String>,
}

impl Check {
    fn one(&mut self, at: &str, what: &str, ours: f64, theirs: f64) {
        self.checked += 1;
        let tol = 1e-6 * theirs.abs().max(1e-3);
        if !((ours - theirs).abs() <= tol || (ours.is_nan() && theirs.is_nan())) {
            self.failures
                .push(format!("{at} {what}: {ours} vs metafor {theirs}"));
        }
    }
    fn all(&mut self, at: &str, what: &str, ours: &[f64], theirs: &Value) {
        let t = nums(theirs);
        assert_eq!(ours.len(), t.len(), "{at} {what}: lengths");
        for (j, (a, b)) in ours.iter().zip(&t).enumerate() {
            self.one(at, &format!("{what}[{j}]"), *a, *b);
        }
    }
}

fn fixture() -> Value {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/metareg/metareg.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn control() -> Control {
    Control {
        maxiter: 1000,
        stepadj: 0.5,
        tau2_max: Some(1e4),
        ..Control::default()
    }
}

#[test]
fn metaregression_equals_metafor() {
    let all = fixture();
    let mut c = Check {
        checked: 0,
        failures: vec![],
    };
    let mut fits = 0;
    for (name, d) in all.as_object().unwrap() {
        if name == "common_tau2" || name == "bcg_review" {
            continue;
        }
        let (yi, vi) = (nums(&d["yi"]), nums(&d["vi"]));
        let rows: Vec<Vec<f64>> = d["X"].as_array().unwrap().iter().map(nums).collect();
        let names = d["coef"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let x = Design::from_rows(&rows, names).unwrap();
        for (key, e) in d["fits"].as_object().unwrap() {
            let (m, t) = key.split_once('_').unwrap();
            let test = match t {
                "z" => Test::Z,
                "knha" => Test::Knha,
                _ => Test::Adhoc,
            };
            let opts = Options {
                test,
                control: control(),
                ..Options::default()
            };
            let at = format!("{name} {key}");
            let r = metareg::fit(&yi, &vi, &x, Method::parse(m).unwrap(), &opts)
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            fits += 1;
            c.one(&at, "tau2", r.tau2, e["tau2"].as_f64().unwrap());
            c.all(&at, "beta", &r.beta, &e["beta"]);
            c.all(&at, "se", &r.se, &e["se"]);
            c.all(&at, "zval", &r.z, &e["zval"]);
            c.all(&at, "pval", &r.p, &e["pval"]);
            c.all(&at, "ci_lb", &r.ci_lb, &e["ci_lb"]);
            c.all(&at, "ci_ub", &r.ci_ub, &e["ci_ub"]);
            for (k, v) in [
                ("QM", r.qm),
                ("QMp", r.qm_p),
                ("QE", r.qe),
                ("QEp", r.qe_p),
                ("I2", r.i2),
                ("H2", r.h2),
            ] {
                c.one(&at, k, v, e[k].as_f64().unwrap());
            }
            // QMdf is (m, NA) under z: jsonlite writes the NA as "NA"
            assert_eq!(Some(r.qm_df.0 as f64), e["QMdf"][0].as_f64(), "{at} QMdf");
            match (r.qm_df.1, &e["dfs"]) {
                (Some(d2), Value::Number(n)) => {
                    assert_eq!(d2 as f64, n.as_f64().unwrap(), "{at} df");
                    assert_eq!(Some(d2 as f64), r.df, "{at} df");
                }
                (None, Value::Null) => assert!(r.df.is_none(), "{at}: no t df under z"),
                (ours, theirs) => panic!("{at}: df {ours:?} vs metafor {theirs}"),
            }
            c.one(&at, "R2", r.r2, e["R2"].as_f64().expect("R2 for every fit"));
        }
    }
    eprintln!("metareg: {fits} fits, {} values checked", c.checked);
    assert!(fits >= 160, "{fits} fits");
    assert!(
        c.failures.is_empty(),
        "{} of {} differ:\n{}",
        c.failures.len(),
        c.checked,
        c.failures.join("\n")
    );
}

#[test]
fn collinear_moderators_are_not_estimable() {
    let x = Design::with_intercept(
        &[vec![1.0, 2.0, 3.0, 4.0], vec![2.0, 4.0, 6.0, 8.0]],
        vec!["a".into(), "b".into()],
    )
    .unwrap();
    let e = metareg::fit(
        &[0.1, 0.3, 0.2, 0.5],
        &[0.1, 0.1, 0.2, 0.1],
        &x,
        Method::REML,
        &Options::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("collinear"), "{e}");
}

/// The subgroup model with a common τ²: τ² and QM of `rma(mods = ~ factor(g))`, and each
/// subgroup's estimate with that τ² fixed (meta's `tau.common = TRUE`); metafor's default control.
#[test]
fn common_tau2_subgroups_equal_metafor() {
    let all = fixture();
    let mut c = Check {
        checked: 0,
        failures: vec![],
    };
    for (name, d) in all["common_tau2"].as_object().unwrap() {
        let (yi, vi) = (nums(&d["yi"]), nums(&d["vi"]));
        let group: Vec<&str> = d["group"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap())
            .collect();
        let x = Design::factor(&group).unwrap();
        for m in ["DL", "REML"] {
            let e = &d[m];
            let at = format!("{name} {m}");
            // metafor's default control, as the pipeline's
            let opts = Options::default();
            let method = Method::parse(m).unwrap();
            let r = metareg::fit(&yi, &vi, &x, method, &opts).unwrap();
            c.one(&at, "tau2", r.tau2, e["tau2"].as_f64().unwrap());
            c.one(&at, "QM", r.qm, e["QM"].as_f64().unwrap());
            c.one(&at, "QMp", r.qm_p, e["QMp"].as_f64().unwrap());
            for lv in e["levels"].as_array().unwrap() {
                let l = lv["level"].as_str().unwrap();
                let (y, v): (Vec<f64>, Vec<f64>) = (0..yi.len())
                    .filter(|&i| group[i] == l)
                    .map(|i| (yi[i], vi[i]))
                    .unzip();
                let f = metapipe_meta::rma::fit_with_tau2(&y, &v, method, r.tau2, &opts);
                c.one(
                    &at,
                    &format!("{l} estimate"),
                    f.estimate,
                    lv["estimate"].as_f64().unwrap(),
                );
                c.one(&at, &format!("{l} se"), f.se, lv["se"].as_f64().unwrap());
            }
        }
    }
    assert!(c.checked >= 30, "{}", c.checked);
    assert!(c.failures.is_empty(), "{}", c.failures.join("\n"));
}
