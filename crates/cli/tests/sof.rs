//! The Summary of findings (`sof.csv`): the absolute effects against GRADE's formulas computed
//! here from `results.csv` and `outcome_data.csv` (RR and OR, several baseline risks, CIs; a
//! continuous outcome's MD or SMD), the team's judgment beside the suggestion with its flags,
//! and `[[grade]]` errors at their line.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;

type Row = BTreeMap<String, String>;

fn num(r: &Row, c: &str) -> f64 {
    r[c].parse()
        .unwrap_or_else(|_| panic!("{c} = {:?} is not a number", r[c]))
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        "{what}: {a} vs {b}"
    );
}

/// Run a review of the repository into a fresh directory of the test's own (`tag`); its output
/// folder.
fn run(name: &str, tag: &str) -> std::path::PathBuf {
    let dir = tmpdir("metapipe-sof", &format!("{name}-{tag}"));
    let cfg = repo().join(format!("pipelines/{name}.toml"));
    let out = dir.join("out");
    ok(&metapipe(
        &dir,
        &["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()],
    ));
    out.join(name)
}

/// The overall pooled row of an outcome for a model type.
fn pooled<'a>(results: &'a [Row], outcome: &str, model: &str) -> &'a Row {
    results
        .iter()
        .find(|r| r["outcome"] == outcome && r["subgroup"].is_empty() && r["model_type"] == model)
        .unwrap_or_else(|| panic!("no {model} row of {outcome}"))
}

/// The median of the control-group risks of the outcome's studies, from the outcome sheet.
fn median_control_risk(dir: &Path, outcome: &str) -> f64 {
    let mut v: Vec<f64> = csv_rows(&dir.join("outcome_data.csv"))
        .iter()
        .filter(|r| {
            r["outcome"] == outcome && !r["n_ctrl"].is_empty() && !r["events_ctrl"].is_empty()
        })
        .map(|r| num(r, "events_ctrl") / num(r, "n_ctrl"))
        .collect();
    v.sort_by(f64::total_cmp);
    let m = v.len();
    if m % 2 == 1 {
        v[m / 2]
    } else {
        (v[m / 2 - 1] + v[m / 2]) / 2.0
    }
}

/// The corresponding risk per 1,000 by the Handbook's formulas, written out here.
fn corresponding(measure: &str, acr: f64, effect: f64) -> f64 {
    1000.0
        * match measure {
            "RR" => acr * effect,
            "OR" => effect * acr / (1.0 - acr + effect * acr),
            m => panic!("{m}"),
        }
}

/// Every absolute figure of a binary row against the formula at its assumed risk.
fn check_binary_row(row: &Row, pooled: &Row, acr: f64) {
    let m = row["measure"].as_str();
    close(num(row, "relative"), num(pooled, "estimate"), "relative");
    close(num(row, "assumed_per_1000"), acr * 1000.0, "assumed");
    for (col, from) in [
        ("corresponding_per_1000", "estimate"),
        ("corresponding_ci_lb", "ci_lb"),
        ("corresponding_ci_ub", "ci_ub"),
    ] {
        let want = corresponding(m, acr, num(pooled, from));
        close(num(row, col), want, col);
    }
    for (col, from) in [
        ("difference", "corresponding_per_1000"),
        ("difference_ci_lb", "corresponding_ci_lb"),
        ("difference_ci_ub", "corresponding_ci_ub"),
    ] {
        close(num(row, col), num(row, from) - acr * 1000.0, col);
    }
}

#[test]
fn risk_ratios_at_several_baselines_and_the_teams_judgment_beside_the_suggestion() {
    let out = run("bcg-tb", "rr");
    let sof = csv_rows(&out.join("sof.csv"));
    let results = csv_rows(&out.join("results.csv"));
    let tb: Vec<&Row> = sof.iter().filter(|r| r["outcome"] == "tb").collect();
    assert_eq!(tb.len(), 3, "median control risk and two given risks");
    let random = pooled(&results, "tb", "random");
    let acrs = [median_control_risk(&out, "tb"), 0.001, 0.01];
    for (row, acr) in tb.iter().zip(acrs) {
        assert_eq!(row["measure"], "RR");
        assert_eq!(row["studies"], "13");
        check_binary_row(row, random, acr);
    }
    assert_eq!(tb[1]["baseline"], "low incidence (0.001)");
    // the team judged every domain: low (−1 risk of bias, −1 inconsistency); the rules
    // suggest −2 for inconsistency (I² 92%, prediction interval across 1) and say so
    assert_eq!(tb[0]["certainty"], "low");
    assert_eq!(tb[0]["downgrades"], "risk of bias −1; inconsistency −1");
    assert_eq!(tb[0]["flags"], "inconsistency: judged −1, suggested −2");
    assert!(tb[0]["suggested_downgrades"].contains("inconsistency −2 (I² = 92%"));
    assert!(tb[0]["footnotes"].starts_with("a. Downgraded 1 for risk of bias: 6 of the 13"));
    // tb_cochrane has no [[grade]]: not judged, the suggestion shown, nothing flagged
    let cochrane = sof.iter().find(|r| r["outcome"] == "tb_cochrane").unwrap();
    assert_eq!(cochrane["certainty"], "");
    assert_eq!(cochrane["suggested_certainty"], "low");
    assert_eq!(cochrane["flags"], "");
    assert!(cochrane["footnotes"].contains("Certainty not judged"));
    let reml = pooled(&results, "tb_cochrane", "random");
    check_binary_row(cochrane, reml, median_control_risk(&out, "tb_cochrane"));
    // the report shows the table
    let html = std::fs::read_to_string(out.join("report/index.html")).unwrap();
    assert!(html.contains("<h2>Summary of findings</h2>"));
    assert!(html.contains("⊕⊕◯◯ Low"));
}

#[test]
fn odds_ratios_and_a_continuous_outcome_from_revmans_review() {
    let out = run("fleiss1993", "or");
    let sof = csv_rows(&out.join("sof.csv"));
    let results = csv_rows(&out.join("results.csv"));
    let or = sof.iter().find(|r| r["outcome"] == "analysis_1_1").unwrap();
    assert_eq!(or["measure"], "OR");
    let fixed = pooled(&results, "analysis_1_1", "fixed");
    check_binary_row(or, fixed, median_control_risk(&out, "analysis_1_1"));
    assert_eq!(or["participants"], "28003");
    // SMD: no relative effect, no risks; the difference is the pooled SMD
    let smd = sof.iter().find(|r| r["outcome"] == "analysis_1_2").unwrap();
    assert_eq!(smd["relative"], "");
    assert_eq!(smd["assumed_per_1000"], "");
    let fixed = pooled(&results, "analysis_1_2", "fixed");
    for (a, b) in [
        ("difference", "estimate"),
        ("difference_ci_lb", "ci_lb"),
        ("difference_ci_ub", "ci_ub"),
    ] {
        close(num(smd, a), num(fixed, b), a);
    }
    let mut means: Vec<f64> = csv_rows(&out.join("outcome_data.csv"))
        .iter()
        .filter(|r| r["outcome"] == "analysis_1_2")
        .map(|r| num(r, "mean_ctrl"))
        .collect();
    means.sort_by(f64::total_cmp);
    close(
        num(smd, "control_mean"),
        means[means.len() / 2],
        "control mean",
    );
    // 232 participants: below GRADE's 400 for a continuous outcome
    assert!(smd["suggested_downgrades"].contains("imprecision −1"));
}

#[test]
fn an_outcome_not_pooled_says_so_and_suggests_nothing() {
    let out = run("il1-covid19", "not-pooled");
    let sof = csv_rows(&out.join("sof.csv"));
    let m = sof.iter().find(|r| r["outcome"] == "mortality").unwrap();
    assert_eq!(m["studies"], "7");
    assert_eq!(m["relative"], "");
    assert_eq!(m["suggested_certainty"], "");
    assert!(m["suggested_downgrades"].starts_with("not pooled"), "{m:?}");
    // the assumed risk is the studies' own even so
    close(
        num(m, "assumed_per_1000"),
        1000.0 * median_control_risk(&out, "mortality"),
        "assumed",
    );
}

#[test]
fn grade_errors_name_the_line() {
    let dir = tmpdir("metapipe-sof", "errors");
    let base = std::fs::read_to_string(repo().join("pipelines/bcg-tb.toml")).unwrap();
    let base = base.replace("../data/", &format!("{}/data/", repo().display()));
    // (text, its replacement, the key the error is at, the message)
    let cases = [
        (
            "imprecision = 0",
            "imprecision = 1",
            "imprecision",
            "imprecision = 1 needs its reason",
        ),
        (
            "risk_of_bias = 1",
            "risk_of_bias = 3",
            "risk_of_bias",
            "3: expected 0, 1 or 2 levels",
        ),
        (
            "outcome = \"tb\"\nmodel",
            "outcome = \"tbx\"\nmodel",
            "outcome",
            "\"tbx\" is not an outcome id",
        ),
        (
            "0.001, 0.01]",
            "0.001, 1.5]",
            "baseline",
            "1.5: a risk is a proportion between 0 and 1",
        ),
        (
            "\"low incidence\", ",
            "",
            "baseline_labels",
            "1 labels for 2 given risks",
        ),
    ];
    for (from, to, key, msg) in cases {
        assert!(base.contains(from), "{from}");
        let text = base.replacen(from, to, 1);
        let cfg = dir.join("bad.toml");
        std::fs::write(&cfg, &text).unwrap();
        let o = metapipe(&dir, &["run", cfg.to_str().unwrap(), "--out", "out"]);
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(msg), "{msg}: {err}");
        // file:line of the key
        let line = text
            .lines()
            .collect::<Vec<_>>()
            .iter()
            .rposition(|l| {
                let rest = l.trim_start().strip_prefix(key);
                rest.is_some_and(|r| r.trim_start().starts_with('='))
            })
            .map(|i| i + 1)
            .unwrap();
        assert!(
            err.contains(&format!("bad.toml:{line}")),
            "{key} at {line}: {err}"
        );
        assert!(!dir.join("out").exists(), "no output on error");
    }
}

#[test]
fn the_prisma_checklist_fills_what_the_run_knows_and_leaves_the_rest() {
    let out = run("il1-covid19", "checklist");
    let items = csv_rows(&out.join("prisma_checklist.csv"));
    assert_eq!(
        items.len(),
        42,
        "PRISMA 2020: 27 items, 42 with their parts"
    );
    let item = |n: &str| items.iter().find(|r| r["item"] == n).unwrap();
    // information sources: every [[sources]] database with its search date
    let cfg = std::fs::read_to_string(repo().join("pipelines/il1-covid19.toml")).unwrap();
    let six = &item("6")["answer"];
    for line in cfg
        .lines()
        .filter(|l| l.trim_start().starts_with("database"))
    {
        let db = line.split('"').nth(1).unwrap();
        assert!(six.contains(&format!("{db} (searched ")), "{db}: {six}");
    }
    // the flow's counts and the reviewers' κ, as the stage tables have them
    for r in csv_rows(&out.join("prisma.csv")) {
        let entry = format!("{} {}", r["stage"].replace('_', " "), r["count"]);
        assert!(item("16a")["answer"].contains(&entry), "{entry}");
    }
    let kappa: f64 = csv_rows(&out.join("screening_agreement.csv"))[0]["kappa"]
        .parse()
        .unwrap();
    assert!(item("8")["answer"].contains(&format!("κ = {kappa:.2}")));
    assert_eq!(
        item("15")["status"],
        "for the team",
        "IL-1 has no [[grade]]"
    );
    assert_eq!(item("23a")["status"], "for the team");
    assert!(item("23a")["answer"].is_empty());
    // bcg-tb: no search in the config, a GRADE judgment
    let bcg = csv_rows(&run("bcg-tb", "checklist").join("prisma_checklist.csv"));
    let b = |n: &str| bcg.iter().find(|r| r["item"] == n).unwrap();
    assert_eq!(b("6")["status"], "for the team");
    assert_eq!(b("15")["location"], "sof.csv");
    assert_eq!(b("14")["status"], "filled");
}

#[test]
fn a_generic_ratio_says_why_it_has_no_absolute_effects() {
    let out = run("ets-lung-cancer", "generic");
    let sof = csv_rows(&out.join("sof.csv"));
    let r = &sof[0];
    assert_eq!(r["measure"], "effect");
    assert!(!r["relative"].is_empty() && r["assumed_per_1000"].is_empty());
    assert!(r["footnotes"].contains("No absolute effects"), "{r:?}");
}
