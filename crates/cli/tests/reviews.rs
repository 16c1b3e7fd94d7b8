//! Any review by config (issue 12): the two metadat reviews reproduce metafor and their
//! published results; a review started with `metapipe init` from extraction sheets alone runs
//! binary, continuous and generic outcomes with covariate subgroups, and every pooled number
//! equals `metapipe pool` on the same study-level data.

mod common;
use common::{csv_rows, metapipe, ok, repo};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn tmpdir(tag: &str) -> PathBuf {
    common::tmpdir("mp-rev", tag)
}

fn num(r: &BTreeMap<String, String>, k: &str) -> f64 {
    r[k].parse().unwrap_or_else(|_| panic!("{k} = {:?}", r[k]))
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1.0),
        "{what}: {a} vs {b}"
    );
}

fn fixture() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/fixtures/reviews/metadat_reviews.json"))
            .unwrap(),
    )
    .unwrap()
}

/// A results row against a metafor fit in the fixture (1e-6, relative where large).
fn same_fit(r: &BTreeMap<String, String>, m: &serde_json::Value, what: &str) {
    for (ours, theirs) in [
        ("estimate", "estimate"),
        ("ci_lb", "ci_lb"),
        ("ci_ub", "ci_ub"),
        ("p", "p"),
        ("Q", "Q"),
        ("Q_p", "Q_p"),
        ("I2", "I2"),
        ("tau2", "tau2"),
    ] {
        let (Some(t), true) = (m[theirs].as_f64(), r.contains_key(ours)) else {
            continue;
        };
        close(num(r, ours), t, 1e-6, &format!("{what} {ours}"));
    }
    assert_eq!(r["k"], m["k"].to_string(), "{what} k");
}

fn run_review(name: &str) -> PathBuf {
    let out = tmpdir(name);
    ok(&metapipe(
        &repo(),
        &[
            "run",
            &format!("pipelines/{name}.toml"),
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    out.join(name)
}

#[test]
fn bcg_review_reproduces_metafor_and_colditz() {
    let dir = run_review("bcg-tb");
    let fx = &fixture()["bcg_tb"];
    let res = csv_rows(&dir.join("results.csv"));
    let overall: Vec<_> = res
        .iter()
        .filter(|r| r["outcome"] == "tb" && r["subgroup"].is_empty())
        .collect();
    assert_eq!(overall.len(), 2, "model = both: a fixed and a random row");
    assert_eq!(
        (
            overall[0]["model_type"].as_str(),
            overall[1]["model_type"].as_str()
        ),
        ("fixed", "random")
    );
    assert_eq!(overall[1]["model"], "random effects: DerSimonian-Laird");
    same_fit(overall[1], &fx["overall_dl"], "DL");
    close(
        num(overall[1], "pi_lb"),
        fx["overall_dl"]["pi_lb"].as_f64().unwrap(),
        1e-6,
        "PI lower",
    );
    close(
        num(overall[1], "pi_ub"),
        fx["overall_dl"]["pi_ub"].as_f64().unwrap(),
        1e-6,
        "PI upper",
    );
    for k in ["estimate", "ci_lb", "ci_ub", "Q"] {
        close(
            num(overall[0], k),
            fx["overall_mh"][k].as_f64().unwrap(),
            1e-6,
            &format!("MH {k}"),
        );
    }
    // subgroups by allocation (a text covariate), each equal to metafor on that subset
    for (level, m) in fx["subgroups"].as_object().unwrap() {
        let r = res
            .iter()
            .find(|r| r["subgroup"] == *level && r["model_type"] == "random")
            .unwrap_or_else(|| panic!("no subgroup {level}"));
        assert_eq!(r["subgroup_by"], "alloc");
        same_fit(r, m, level);
    }
    // the test for subgroup differences on the random-effects overall row
    let qb = &fx["q_between"];
    close(
        num(overall[1], "Q_between"),
        qb["Q"].as_f64().unwrap(),
        1e-6,
        "Q between",
    );
    assert_eq!(overall[1]["Q_between_df"], qb["df"].to_string());
    close(
        num(overall[1], "Q_between_p"),
        qb["p"].as_f64().unwrap(),
        1e-6,
        "Q between p",
    );
    let forest = std::fs::read_to_string(dir.join("report/forest_tb.svg")).unwrap();
    assert!(
        forest.contains("Test for subgroup differences: Chi² = "),
        "the forest plot shows the test"
    );
    assert!(forest.contains("Risk Ratio") && forest.contains("Favours BCG"));
    // as RevMan draws subgroups: every study's weight is its weight in the overall analysis, each
    // subtotal the subgroup's share, the shares adding to the total's 100%
    let weights: Vec<f64> = forest
        .split('>')
        .filter_map(|t| t.split_once("%<"))
        .filter_map(|(w, _)| w.parse().ok())
        .collect();
    let overall_w: Vec<f64> = csv_rows(&dir.join("per_study_effects.csv"))
        .iter()
        .filter(|r| r["outcome"] == "tb" && r["subgroup"].is_empty())
        .map(|r| 100.0 * num(r, "weight"))
        .collect();
    assert_eq!(
        weights.len(),
        13 + 3 + 1,
        "13 studies, 3 subtotals, the total: {weights:?}"
    );
    assert_eq!(*weights.last().unwrap(), 100.0);
    let (mut studies, mut subtotals) = (vec![], vec![]);
    let mut at = 0;
    for n in [7, 2, 4] {
        // the sections in the order of the results (random, alternate, systematic allocation)
        studies.extend_from_slice(&weights[at..at + n]);
        let sum: f64 = weights[at..at + n].iter().sum();
        assert!(
            (sum - weights[at + n]).abs() <= 0.051 * n as f64,
            "subtotal {} vs its studies' {sum}",
            weights[at + n]
        );
        subtotals.push(weights[at + n]);
        at += n + 1;
    }
    assert!(
        (subtotals.iter().sum::<f64>() - 100.0).abs() < 0.15,
        "{subtotals:?}"
    );
    let mut shown = studies.clone();
    let mut want: Vec<f64> = overall_w
        .iter()
        .map(|w| (w * 10.0).round() / 10.0)
        .collect();
    shown.sort_by(f64::total_cmp);
    want.sort_by(f64::total_cmp);
    assert_eq!(shown, want, "study weights are the overall analysis's");
    // sensitivity and small-study analyses of the DL model, each equal to metafor
    let sens = csv_rows(&dir.join("sensitivity.csv"));
    let of = |kind: &str| {
        sens.iter()
            .filter(|r| r["analysis"] == kind)
            .collect::<Vec<_>>()
    };
    for (kind, key) in [("leave_one_out", "leave1out"), ("cumulative", "cumulative")] {
        let rows = of(kind);
        assert_eq!(rows.len(), 13, "{kind}");
        for (i, r) in rows.iter().enumerate() {
            for k in ["estimate", "ci_lb", "ci_ub", "I2", "tau2"] {
                close(
                    num(r, k),
                    fx[key][k][i].as_f64().unwrap(),
                    1e-6,
                    &format!("{kind} {i} {k}"),
                );
            }
        }
    }
    assert_eq!(of("cumulative")[0]["step"], "adding trial01 (year = 1948)");
    let eg = of("egger")[0];
    close(
        num(eg, "p"),
        fx["egger"]["p"].as_f64().unwrap(),
        1e-6,
        "Egger p",
    );
    close(
        num(eg, "estimate"),
        fx["egger"]["limit"].as_f64().unwrap(),
        1e-6,
        "Egger limit estimate",
    );
    let tf = of("trimfill")[0];
    assert_eq!(
        tf["step"],
        format!(
            "{} studies filled on the {} side",
            fx["trimfill"]["k0"],
            fx["trimfill"]["side"].as_str().unwrap()
        )
    );
    same_fit(tf, &fx["trimfill"], "trim-and-fill");
    for (r, cov) in of("metaregression").iter().zip(["ablat", "year"]) {
        let m = &fx["metareg"][cov];
        for (ours, theirs) in [
            ("estimate", "slope"),
            ("ci_lb", "ci_lb"),
            ("ci_ub", "ci_ub"),
            ("p", "p"),
            ("tau2", "tau2"),
        ] {
            close(
                num(r, ours),
                m[theirs].as_f64().unwrap(),
                1e-6,
                &format!("metareg {cov} {ours}"),
            );
        }
        assert_eq!(r["scale"], "log");
    }
    // the published result, to its printed precision
    let audit = csv_rows(&dir.join("audit.csv"));
    let a = audit
        .iter()
        .find(|a| a["item"] == "tb RR (random effects)")
        .unwrap();
    assert_eq!(
        (a["status"].as_str(), a["recomputed"].as_str()),
        ("match", "0.49 (0.34-0.70)"),
        "{a:?}"
    );
    // an analysis-only review: no search, screening or RoB outputs, and no empty report sections
    for absent in [
        "prisma.csv",
        "clusters.csv",
        "rob_judgments.csv",
        "consistency.csv",
        "report/prisma.svg",
    ] {
        assert!(
            !dir.join(absent).exists(),
            "{absent} written for a review without that stage"
        );
    }
    let index = std::fs::read_to_string(dir.join("report/index.html")).unwrap();
    // no section of a stage the review does not have (the PRISMA checklist names every topic)
    assert!(
        !index.contains("<h2>Study selection")
            && !index.contains("<h2>Risk of bias")
            && !index.contains("consistent with the sourced data")
    );
}

/// The same trials under Cochrane's random-effects methods (`convention = "cochrane"`): equal to
/// metafor's `rma(method = "REML", test = "knha")` with `confint()` and the t(k - 2) prediction
/// interval (`tests/fixtures/cochrane/cochrane.json`), drawn on the forest plot.
#[test]
fn bcg_review_under_cochrane_methods_equals_metafor() {
    let dir = run_review("bcg-tb");
    let fx: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/fixtures/cochrane/cochrane.json")).unwrap(),
    )
    .unwrap();
    let m = &fx["bcg"]["RR"]["cochrane"];
    let res = csv_rows(&dir.join("results.csv"));
    let r = res
        .iter()
        .find(|r| r["outcome"] == "tb_cochrane" && r["subgroup"].is_empty())
        .expect("the Cochrane-methods outcome");
    assert_eq!(r["model_type"], "random");
    assert!(
        r["model"].contains("REML")
            && r["model"].contains("Knapp-Hartung")
            && r["model"].contains("Cochrane"),
        "{}",
        r["model"]
    );
    for (ours, theirs, log) in [
        ("estimate", "estimate", true),
        ("ci_lb", "ci_lb", true),
        ("ci_ub", "ci_ub", true),
        ("pi_lb", "pi_lb", true),
        ("pi_ub", "pi_ub", true),
        ("p", "p", false),
        ("Q", "Q", false),
        ("I2", "I2", false),
        ("tau2", "tau2", false),
        ("tau2_lb", "tau2_lb", false),
        ("tau2_ub", "tau2_ub", false),
        ("I2_lb", "I2_lb", false),
        ("I2_ub", "I2_ub", false),
    ] {
        let t = m[theirs].as_f64().unwrap();
        close(
            num(r, ours),
            if log { t.exp() } else { t },
            1e-6,
            &format!("cochrane {ours}"),
        );
    }
    assert_eq!(r["I2_from"], "tau2");
    let forest = std::fs::read_to_string(dir.join("report/forest_tb_cochrane.svg")).unwrap();
    assert!(
        forest.contains("Prediction interval"),
        "the interval is drawn"
    );
    assert!(
        forest.contains("(from Tau²)"),
        "the I² printed says which it is"
    );
    // the outcome's small-study test: metafor's regtest(model = "rma") of the REML Knapp-Hartung
    // fit (regtest takes the model's test: t on k - 2 df)
    let ss: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/fixtures/smallstudy/smallstudy.json")).unwrap(),
    )
    .unwrap();
    let e = &ss["bcg"]["RR"]["egger_rma_knha"];
    let sens = csv_rows(&dir.join("sensitivity.csv"));
    let row = sens
        .iter()
        .find(|r| r["outcome"] == "tb_cochrane" && r["analysis"] == "egger_rma")
        .expect("the tau2-based Egger test of tb_cochrane");
    close(num(row, "p"), e["p"].as_f64().unwrap(), 1e-6, "egger_rma p");
    close(
        num(row, "estimate"),
        e["limit"].as_f64().unwrap().exp(),
        1e-6,
        "egger_rma limit estimate",
    );
    assert!(
        row["note"].contains(&format!("t = {:.4}, df = 11", e["stat"].as_f64().unwrap())),
        "{}",
        row["note"]
    );
    cochrane_subgroups_and_metaregression(&res, &sens);
}

/// tb_cochrane's subgroups by allocation with a common tau2 and its meta-regressions under
/// Knapp-Hartung, against metafor (`tests/fixtures/metareg/metareg.json`, default control).
fn cochrane_subgroups_and_metaregression(
    res: &[BTreeMap<String, String>],
    sens: &[BTreeMap<String, String>],
) {
    let fx: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/fixtures/metareg/metareg.json")).unwrap(),
    )
    .unwrap();
    let c = &fx["common_tau2"]["bcg_alloc"]["REML"];
    let overall = res
        .iter()
        .find(|r| r["outcome"] == "tb_cochrane" && r["subgroup"].is_empty())
        .unwrap();
    close(
        num(overall, "Q_between"),
        c["QM"].as_f64().unwrap(),
        1e-6,
        "common-tau2 QM",
    );
    close(
        num(overall, "Q_between_p"),
        c["QMp"].as_f64().unwrap(),
        1e-6,
        "common-tau2 QMp",
    );
    assert_eq!(overall["Q_between_df"], "2");
    assert!(
        overall["note"].contains("common tau2"),
        "{}",
        overall["note"]
    );
    for lv in c["levels"].as_array().unwrap() {
        let l = lv["level"].as_str().unwrap();
        let r = res
            .iter()
            .find(|r| r["outcome"] == "tb_cochrane" && r["subgroup"] == l)
            .unwrap_or_else(|| panic!("subgroup {l}"));
        close(
            num(r, "tau2"),
            c["tau2"].as_f64().unwrap(),
            1e-6,
            &format!("{l} tau2"),
        );
        close(
            num(r, "estimate"),
            lv["estimate"].as_f64().unwrap().exp(),
            1e-6,
            &format!("{l} estimate"),
        );
    }
    let rows = |step: &str| {
        sens.iter()
            .find(|r| {
                r["outcome"] == "tb_cochrane"
                    && r["analysis"] == "metaregression"
                    && r["step"] == step
            })
            .unwrap_or_else(|| panic!("no row {step:?}"))
    };
    for (model, steps) in [
        (
            "ablat + year",
            vec![
                "slope per unit of ablat in ablat + year",
                "slope per unit of year in ablat + year",
            ],
        ),
        (
            "alloc",
            vec![
                "alloc = random (vs alternate)",
                "alloc = systematic (vs alternate)",
            ],
        ),
    ] {
        let m = &fx["bcg_review"][model];
        let t = rows(&format!("test of moderators {model}"));
        close(
            num(t, "p"),
            m["QMp"].as_f64().unwrap(),
            1e-6,
            &format!("{model} QMp"),
        );
        close(
            num(t, "I2"),
            m["I2"].as_f64().unwrap(),
            1e-6,
            &format!("{model} I2"),
        );
        assert!(
            t["note"].contains(&format!("F(2, 10) = {:.4}", m["QM"].as_f64().unwrap())),
            "{}",
            t["note"]
        );
        for (j, step) in steps.iter().enumerate() {
            let r = rows(step);
            for (ours, theirs) in [
                ("estimate", "beta"),
                ("ci_lb", "ci_lb"),
                ("ci_ub", "ci_ub"),
                ("p", "pval"),
            ] {
                close(
                    num(r, ours),
                    m[theirs][j + 1].as_f64().unwrap(),
                    1e-6,
                    &format!("{step} {ours}"),
                );
            }
            close(
                num(r, "tau2"),
                m["tau2"].as_f64().unwrap(),
                1e-6,
                &format!("{step} tau2"),
            );
        }
    }
}

/// A review of proportions (14 single-arm studies, metadat's dat.pritz1997): the double arcsine
/// by REML shown as proportions (metafor's predict with transf.ipft.hm, each study by
/// transf.ipft) and the binomial-normal GLMM (rma.glmm), against
/// `tests/fixtures/reviews/pritz_vasospasm.json` (tools/make_proportion_review.R).
#[test]
fn proportion_review_equals_metafor() {
    let dir = run_review("pritz-vasospasm");
    let fx: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/fixtures/reviews/pritz_vasospasm.json"))
            .unwrap(),
    )
    .unwrap();
    let res = csv_rows(&dir.join("results.csv"));
    let row = |o: &str| res.iter().find(|r| r["outcome"] == o).unwrap();
    let (pft, glmm) = (row("improved"), row("improved_glmm"));
    for k in [
        "estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub", "tau2", "I2", "Q",
    ] {
        close(
            num(pft, k),
            fx["pft"][k].as_f64().unwrap(),
            1e-6,
            &format!("PFT {k}"),
        );
    }
    assert_eq!(pft["k"], "14");
    // the GLMM: lme4's quadrature likelihood, maximised numerically (1e-4, as the meta crate)
    for k in ["estimate", "ci_lb", "ci_ub", "tau2", "I2"] {
        close(
            num(glmm, k),
            fx["glmm"][k].as_f64().unwrap(),
            1e-4,
            &format!("GLMM {k}"),
        );
    }
    assert!(glmm["model"].contains("GLMM"), "{}", glmm["model"]);
    let eff = csv_rows(&dir.join("per_study_effects.csv"));
    let studies: Vec<_> = eff.iter().filter(|r| r["outcome"] == "improved").collect();
    assert_eq!(studies.len(), 14);
    for (r, want) in studies.iter().zip(fx["pft"]["study"].as_array().unwrap()) {
        close(
            num(r, "estimate"),
            want.as_f64().unwrap(),
            1e-6,
            "study proportion",
        );
    }
    // one group: no comparison in the forest plot's title, nothing favoured
    let forest = std::fs::read_to_string(dir.join("report/forest_improved.svg")).unwrap();
    assert!(!forest.contains(" vs ") && !forest.contains("Favours"));
    assert!(forest.contains("Proportion improved"));
}

#[test]
fn ets_review_reproduces_metafor_and_hackshaw() {
    let dir = run_review("ets-lung-cancer");
    let fx = &fixture()["ets_lung_cancer"];
    let res = csv_rows(&dir.join("results.csv"));
    let overall = res.iter().find(|r| r["subgroup"].is_empty()).unwrap();
    assert_eq!(
        (overall["measure"].as_str(), overall["model"].as_str()),
        ("GEN", "random effects: DerSimonian-Laird")
    );
    same_fit(overall, &fx["overall_dl"], "DL");
    for (level, m) in fx["subgroups"].as_object().unwrap() {
        same_fit(
            res.iter().find(|r| r["subgroup"] == *level).unwrap(),
            m,
            level,
        );
    }
    let audit = csv_rows(&dir.join("audit.csv"));
    for a in &audit {
        assert_eq!(a["status"], "match", "{a:?}");
    }
    assert_eq!(audit.len(), 2, "pooled + k: {audit:?}");
}

/// SYNTHETIC study data (made up for this test): three outcomes of three types.
const STUDIES: &str =
    "study_id,label,year,blinded,region\na,Alpha 2001,2001,yes,north\nb,Beta 2004,2004,no,south\nc,Gamma 2009,2009,yes,north\nd,Delta 2015,2015,no,south\ne,Epsilon 2020,2020,yes,south\n";
const OUTCOMES: &str = "study_id,outcome,events_treat,n_treat,events_ctrl,n_ctrl,mean_treat,sd_treat,mean_ctrl,sd_ctrl,estimate,se,ci_lb,ci_ub\n\
a,death,4,50,9,51,,,,,,,,\n\
b,death,10,120,15,118,,,,,,,,\n\
c,death,0,30,3,29,,,,,,,,\n\
d,death,22,200,30,210,,,,,,,,\n\
e,death,7,80,6,75,,,,,,,,\n\
a,los,,40,,41,8.1,2.5,9.0,2.9,,,,\n\
b,los,,60,,58,7.4,3.1,8.8,3.0,,,,\n\
c,los,,25,,27,10.2,4.0,10.0,3.5,,,,\n\
d,los,,90,,95,6.9,2.2,7.5,2.4,,,,\n\
a,hr,,,,,,,,,0.80,,0.60,1.07\n\
b,hr,,,,,,,,,0.65,0.15,,\n\
c,hr,,,,,,,,,0.95,,0.70,1.29\n\
e,hr,,,,,,,,,0.72,,0.55,0.94\n";

fn fill_demo(root: &Path) {
    let data = root.join("data/demo");
    std::fs::write(data.join("studies.csv"), STUDIES).unwrap();
    std::fs::write(data.join("outcome_data.csv"), OUTCOMES).unwrap();
    let cfg = root.join("pipelines/demo.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text.replace(
        "# year = \"number\"",
        "year = \"number\"\nblinded = \"yes/no\"\nregion = \"text\"",
    );
    let i = text.find("\n[[outcomes]]").unwrap() + 1;
    let outcomes = r#"[[outcomes]]
id = "death"
label = "Death"
measure = "OR"
method = "REML"
subgroup_by = "region"
subgroups = ["blinded"]

[[outcomes]]
id = "los"
label = "Length of stay"
measure = "SMD"
model = "both"
random = "DL"
test = "knha"

[[outcomes]]
id = "hr"
label = "Time to death"
measure = "GEN"
scale = "log"
method = "PM"
prediction = true
"#;
    std::fs::write(&cfg, format!("{}{outcomes}", &text[..i])).unwrap();
}

/// `metapipe pool` on `rows` (CSV text) with `args`: the JSON line of the single group.
fn pool(dir: &Path, name: &str, csv_text: &str, args: &[&str]) -> serde_json::Value {
    let p = dir.join(name);
    std::fs::write(&p, csv_text).unwrap();
    let mut a = vec!["pool", p.to_str().unwrap(), "--format", "json"];
    a.extend_from_slice(args);
    let o = metapipe(dir, &a);
    ok(&o);
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn init_then_extraction_alone_runs_every_outcome_type() {
    let root = tmpdir("init");
    ok(&metapipe(&root, &["init", "demo"]));
    assert!(
        root.join("pipelines/demo.toml").is_file() && root.join("data/demo/studies.csv").is_file()
    );
    let again = metapipe(&root, &["init", "demo"]);
    assert_eq!(again.status.code(), Some(2), "init never overwrites");
    fill_demo(&root);
    let o = metapipe(&root, &["run", "pipelines/demo.toml", "--out", "out"]);
    ok(&o);
    let dir = root.join("out/demo");
    let res = csv_rows(&dir.join("results.csv"));
    let row = |o: &str, sg: &str, kind: &str| {
        res.iter()
            .find(|r| r["outcome"] == o && r["subgroup"] == sg && r["model_type"] == kind)
            .unwrap_or_else(|| panic!("no {o}/{sg}/{kind} in {res:?}"))
    };

    // binary OR, REML: equals `metapipe pool` (metafor's escalc + rma) on the same counts
    let death: Vec<&str> = OUTCOMES.lines().filter(|l| l.contains(",death,")).collect();
    let bin_csv = |ids: &[&str]| {
        let mut s = String::from("ai,n1i,ci,n2i\n");
        for l in death
            .iter()
            .filter(|l| ids.iter().any(|id| l.starts_with(&format!("{id},"))))
        {
            let c: Vec<&str> = l.split(',').collect();
            s.push_str(&format!("{},{},{},{}\n", c[2], c[3], c[4], c[5]));
        }
        s
    };
    let check = |r: &BTreeMap<String, String>, p: &serde_json::Value, ratio: bool, what: &str| {
        let t = |x: f64| if ratio { x.exp() } else { x };
        for (ours, theirs) in [
            ("estimate", "estimate"),
            ("ci_lb", "ci_lb"),
            ("ci_ub", "ci_ub"),
        ] {
            close(
                num(r, ours),
                t(p[theirs].as_f64().unwrap()),
                1e-9,
                &format!("{what} {ours}"),
            );
        }
        for k in ["p", "Q", "I2", "tau2"] {
            close(
                num(r, k),
                p[k].as_f64().unwrap(),
                1e-9,
                &format!("{what} {k}"),
            );
        }
    };
    check(
        row("death", "", "random"),
        &pool(
            &root,
            "d_all.csv",
            &bin_csv(&["a", "b", "c", "d", "e"]),
            &["--measure", "OR", "--method", "REML"],
        ),
        true,
        "death",
    );
    check(
        row("death", "south", "random"),
        &pool(
            &root,
            "d_south.csv",
            &bin_csv(&["b", "d", "e"]),
            &["--measure", "OR", "--method", "REML"],
        ),
        true,
        "death south",
    );
    check(
        row("death", "blinded", "random"),
        &pool(
            &root,
            "d_blind.csv",
            &bin_csv(&["a", "c", "e"]),
            &["--measure", "OR", "--method", "REML"],
        ),
        true,
        "death blinded",
    );
    assert_eq!(row("death", "north", "random")["subgroup_by"], "region");
    assert_eq!(
        row("death", "blinded", "random")["subgroup_by"],
        "",
        "a further subgroup is not a level of subgroup_by"
    );
    assert!(
        !row("death", "", "random")["Q_between"].is_empty(),
        "test for subgroup differences"
    );

    // continuous SMD, both models, Knapp-Hartung for the random one
    let mut cont = String::from("m1i,sd1i,n1i,m2i,sd2i,n2i\n");
    for l in OUTCOMES.lines().filter(|l| l.contains(",los,")) {
        let c: Vec<&str> = l.split(',').collect();
        cont.push_str(&format!(
            "{},{},{},{},{},{}\n",
            c[6], c[7], c[3], c[8], c[9], c[5]
        ));
    }
    check(
        row("los", "", "fixed"),
        &pool(
            &root,
            "los.csv",
            &cont,
            &["--measure", "SMD", "--method", "FE"],
        ),
        false,
        "los FE",
    );
    check(
        row("los", "", "random"),
        &pool(
            &root,
            "los.csv",
            &cont,
            &["--measure", "SMD", "--method", "DL", "--test", "knha"],
        ),
        false,
        "los DL knha",
    );
    assert_eq!(
        row("los", "", "random")["n_treat"],
        "215",
        "totals over the pooled studies"
    );

    // generic log hazard ratios from SEs and from 95% CIs, Paule-Mandel, prediction interval
    let z = 1.959963984540054;
    let mut gen = String::from("yi,vi\n");
    for l in OUTCOMES.lines().filter(|l| l.contains(",hr,")) {
        let c: Vec<&str> = l.split(',').collect();
        let est: f64 = c[10].parse().unwrap();
        let se: f64 = if c[11].is_empty() {
            (c[13].parse::<f64>().unwrap().ln() - c[12].parse::<f64>().unwrap().ln()) / (2.0 * z)
        } else {
            c[11].parse().unwrap()
        };
        gen.push_str(&format!("{},{}\n", est.ln(), se * se));
    }
    let p = pool(
        &root,
        "hr.csv",
        &gen,
        &["--measure", "GEN", "--method", "PM"],
    );
    let r = row("hr", "", "random");
    check(r, &p, true, "hr PM");
    close(
        num(r, "pi_lb"),
        p["pi_lb"].as_f64().unwrap().exp(),
        1e-9,
        "hr PI",
    );

    // every optional stage absent: no PRISMA, RoB, consistency or audit outputs or sections
    for absent in [
        "prisma.csv",
        "rob_judgments.csv",
        "consistency.csv",
        "audit.csv",
    ] {
        assert!(!dir.join(absent).exists(), "{absent}");
    }
    let index = std::fs::read_to_string(dir.join("report/index.html")).unwrap();
    for section in ["Study selection", "Risk of bias", "Audit"] {
        assert!(
            !index.contains(&format!("<h2>{section}")),
            "empty section {section}"
        );
    }
    for f in [
        "forest_death.svg",
        "forest_death_blinded.svg",
        "forest_los.svg",
        "forest_hr.svg",
    ] {
        assert!(dir.join("report").join(f).is_file(), "{f}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn config_errors_name_file_line_and_key() {
    let root = tmpdir("cfgerr");
    ok(&metapipe(&root, &["init", "demo"]));
    fill_demo(&root);
    let cfg = root.join("pipelines/demo.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    for (from, to, key) in [
        (
            "method = \"REML\"\nsubgroup_by",
            "method = \"REMX\"\nsubgroup_by",
            "outcomes.method",
        ),
        (
            "measure = \"SMD\"",
            "measure = \"SMD\"\nfixed = \"MH\"",
            "outcomes.fixed",
        ),
        (
            "region = \"text\"",
            "region = \"words\"",
            "extraction.covariates.region",
        ),
    ] {
        std::fs::write(&cfg, text.replacen(from, to, 1)).unwrap();
        let o = metapipe(&root, &["run", "pipelines/demo.toml", "--out", "out"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains("demo.toml:") && err.contains(key),
            "{key}: {err}"
        );
    }
    // a subgroup column the studies table does not have
    std::fs::write(
        &cfg,
        text.replacen("subgroup_by = \"region\"", "subgroup_by = \"continent\"", 1),
    )
    .unwrap();
    let o = metapipe(&root, &["run", "pipelines/demo.toml", "--out", "out"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("continent"));
    assert!(!root.join("out/demo").exists(), "no output on failure");
    let _ = std::fs::remove_dir_all(&root);
}

/// PRISMA counts typed into the config (as the PRISMA2020 tools take them) when there are no
/// record-level search data; counts that do not conserve are refused.
#[test]
fn typed_prisma_counts() {
    let root = tmpdir("prisma");
    ok(&metapipe(&root, &["init", "demo"]));
    fill_demo(&root);
    let cfg = root.join("pipelines/demo.toml");
    let base = std::fs::read_to_string(&cfg).unwrap();
    let counts =
        "\n[prisma]\nrecords_identified = 120\nduplicates_removed = 20\nrecords_screened = 100\nexcluded_title_abstract = 80\nfull_text_assessed = 20\nexcluded_full_text = 15\nstudies_included = 5\n";
    std::fs::write(&cfg, format!("{base}{counts}")).unwrap();
    ok(&metapipe(
        &root,
        &["run", "pipelines/demo.toml", "--out", "out"],
    ));
    let flow: Vec<(String, String)> = csv_rows(&root.join("out/demo/prisma.csv"))
        .into_iter()
        .map(|r| (r["stage"].clone(), r["count"].clone()))
        .collect();
    assert_eq!(flow.len(), 7);
    assert_eq!(flow[2], ("records_screened".to_string(), "100".to_string()));
    let svg = std::fs::read_to_string(root.join("out/demo/report/prisma.svg")).unwrap();
    assert!(svg.contains("(n = 120)") && svg.contains("(n = 5)"));
    std::fs::write(
        &cfg,
        format!(
            "{base}{}",
            counts.replace("records_screened = 100", "records_screened = 99")
        ),
    )
    .unwrap();
    let o = metapipe(&root, &["run", "pipelines/demo.toml", "--out", "out2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("prisma.records_screened"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&root);
}
