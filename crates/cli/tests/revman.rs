//! RevMan in (issue 25): the three files RevMan wrote for one small review (`../shared/revman/`:
//! a RevMan 5 `.rm5`, RevMan 5's CSV export and a RevMan Web data package) imported with
//! `metapipe import revman` and run: every figure RevMan stored — each analysis's estimate, CI,
//! Chi², df, P, I², Z and P, each study's estimate, CI, SE and weight — equals metapipe's, by the
//! run's own audit (1e-6 relative, or the printed digits where RevMan printed fewer).

mod common;
use common::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn shared() -> PathBuf {
    let p = repo().join("../shared/revman");
    assert!(
        p.is_dir(),
        "{}: the RevMan files (../shared beside the repository) are missing",
        p.display()
    );
    p
}

/// Import `file` as `name` into `dir` and run it; the audit rows.
fn import_and_run(dir: &Path, file: &str, name: &str) -> Vec<BTreeMap<String, String>> {
    let src = shared().join(file);
    ok(&metapipe(
        dir,
        &["import", "revman", src.to_str().unwrap(), "--name", name],
    ));
    ok(&metapipe(
        dir,
        &["run", &format!("pipelines/{name}.toml"), "--out", "out"],
    ));
    csv_rows(&dir.join("out").join(name).join("audit.csv"))
}

/// Every RevMan figure matched; `expect` figures in all, among them `must` (item suffixes).
fn all_match(audit: &[BTreeMap<String, String>], expect: usize, must: &[&str]) {
    assert_eq!(audit.len(), expect, "{audit:#?}");
    for r in audit {
        assert_eq!(r["status"], "match", "{r:?}");
    }
    for m in must {
        assert!(
            audit.iter().any(|r| r["item"].ends_with(m)),
            "no figure {m}"
        );
    }
}

#[test]
fn rm5_results_equal_revman_to_1e_6() {
    let d = tmpdir("mp-revman", "rm5");
    let audit = import_and_run(&d, "Fleiss1993.rm5", "fleiss_rm5");
    // 1.1 (MH OR, fixed): 9 figures + 7 studies x 5; 1.2 (SMD): RevMan stored only its df
    all_match(
        &audit,
        45,
        &[
            "Infarction Q_p",
            "Infarction z",
            "Infarction I2",
            "ISIS-2 weight",
            "MRC-1 se",
        ],
    );
    let cfg = std::fs::read_to_string(d.join("pipelines/fleiss_rm5.toml")).unwrap();
    assert!(
        cfg.contains("measure = \"OR\"\nconvention = \"revman\"\nmethod = \"MH\""),
        "{cfg}"
    );
    assert!(cfg.contains("measure = \"SMD\""), "{cfg}");
    // analysis 1.2 compares other groups than 1.1: its own labels, on its forest plot
    assert!(
        cfg.contains("treat_label = \"Mental Health Treatment\""),
        "{cfg}"
    );
    let svg =
        std::fs::read_to_string(d.join("out/fleiss_rm5/report/forest_analysis_1_2.svg")).unwrap();
    assert!(svg.contains("Mental Health Treatment vs control"), "{svg}");
    let svg =
        std::fs::read_to_string(d.join("out/fleiss_rm5/report/forest_analysis_1_1.svg")).unwrap();
    assert!(svg.contains("Aspirin vs control"));
    let readme = std::fs::read_to_string(d.join("data/fleiss_rm5/README.md")).unwrap();
    assert!(
        readme.contains(
            "1.2 (Mental Health Treatment versus Control): the file stores no computed results"
        ),
        "{readme}"
    );
}

#[test]
fn csv_export_results_equal_revman_to_its_printed_digits() {
    let d = tmpdir("mp-revman", "csv");
    let audit = import_and_run(&d, "Fleiss1993_CR.csv", "fleiss_csv");
    // the export is an MD analysis with results: 2 analyses x 9 + 12 studies x 5
    all_match(
        &audit,
        78,
        &["Control Q_p", "Control z", "Wilson weight", "Davis se"],
    );
}

#[test]
fn data_package_results_equal_revman_and_its_zeros_are_not_figures() {
    let d = tmpdir("mp-revman", "zip");
    let audit = import_and_run(&d, "Fleiss1993.zip", "fleiss_zip");
    // 1.1: 9 figures + 7 studies x 4 (no SE in a package); 1.2's printed zeros are dropped
    all_match(&audit, 37, &["Infarction Q_p", "AMIS weight"]);
    assert!(
        !audit.iter().any(|r| r["item"].starts_with("1.2")),
        "{audit:?}"
    );
    let readme = std::fs::read_to_string(d.join("data/fleiss_zip/README.md")).unwrap();
    assert!(readme.contains("all printed as 0"), "{readme}");
    // the data rows themselves are imported
    let od = csv_rows(&d.join("data/fleiss_zip/outcome_data.csv"));
    let davis = od.iter().find(|r| r["study_id"] == "Davis").unwrap();
    assert_eq!(
        (davis["mean_treat"].as_str(), davis["sd_ctrl"].as_str()),
        ("5", "3.8")
    );
}

#[test]
fn a_figure_off_by_more_than_1e_6_is_a_mismatch() {
    let d = tmpdir("mp-revman", "off");
    import_and_run(&d, "Fleiss1993.rm5", "off");
    let p = d.join("data/off/published.csv");
    let text = std::fs::read_to_string(&p).unwrap();
    // RevMan's P for heterogeneity, moved by 2e-6 relative
    let changed = text.replace("0.1269422521561745", "0.1269425");
    assert_ne!(text, changed);
    std::fs::write(&p, changed).unwrap();
    ok(&metapipe(
        &d,
        &["run", "pipelines/off.toml", "--out", "out2"],
    ));
    let audit = csv_rows(&d.join("out2/off/audit.csv"));
    let bad: Vec<_> = audit.iter().filter(|r| r["status"] != "match").collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0]["item"].ends_with("Q_p"));
}

/// Bad files: an error naming the file, line and field; exit non-zero; nothing written.
#[test]
fn bad_revman_files_are_clear_errors_and_write_nothing() {
    let d = tmpdir("mp-revman", "bad");
    let rm5 = std::fs::read(shared().join("Fleiss1993.rm5")).unwrap();
    let text: String = rm5.iter().map(|&b| b as char).collect();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "trunc.rm5",
            text[..text.find("</ANALYSES_AND_DATA>").unwrap()].to_string(),
            "is not closed",
        ),
        (
            "cut.rm5",
            text[..text.len() - 200].to_string(),
            "malformed XML",
        ),
        (
            "num.rm5",
            text.replace("EVENTS_1=\"49\"", "EVENTS_1=\"4x9\""),
            "EVENTS_1: \"4x9\" is not a number",
        ),
        (
            "type.rm5",
            text.replace("<CONT_OUTCOME ", "<IV_OUTCOME ")
                .replace("</CONT_OUTCOME>", "</IV_OUTCOME>"),
            "IV_OUTCOME: RevMan data type <IV_OUTCOME> is not imported",
        ),
        (
            "study.rm5",
            text.replace("STUDY_ID=\"STD-CDP\"", "STUDY_ID=\"STD-XYZ\""),
            "STUDY_ID: STD-XYZ: not an included study",
        ),
    ];
    for (file, body, says) in cases {
        let p = d.join(file);
        std::fs::write(&p, body.chars().map(|c| c as u8).collect::<Vec<u8>>()).unwrap();
        let o = metapipe(
            &d,
            &["import", "revman", p.to_str().unwrap(), "--name", "x"],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{file}");
        assert!(
            err.contains(&format!("{}:", p.display())) && err.contains(says),
            "{file}: {err}"
        );
        assert!(
            !d.join("pipelines/x.toml").exists() && !d.join("data/x").exists(),
            "{file}"
        );
    }
    // a line and column of the CSV export
    let csv = std::fs::read_to_string(shared().join("Fleiss1993_CR.csv")).unwrap();
    let p = d.join("bad.csv");
    std::fs::write(&p, csv.replace(",49,0,0,615,", ",49,0,0,6l5,")).unwrap();
    let o = metapipe(
        &d,
        &["import", "revman", p.to_str().unwrap(), "--name", "x"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "{}:4: Total 1: \"6l5\" is not a number",
            p.display()
        )),
        "{err}"
    );
    // never overwrites
    let src = shared().join("Fleiss1993.rm5");
    ok(&metapipe(
        &d,
        &["import", "revman", src.to_str().unwrap(), "--name", "y"],
    ));
    let o = metapipe(
        &d,
        &["import", "revman", src.to_str().unwrap(), "--name", "y"],
    );
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("never overwrites"));
}

/// `pipelines/fleiss1993.toml` and `data/fleiss1993/` are what `metapipe import revman` writes
/// from `../shared/revman/Fleiss1993.rm5`, byte for byte.
#[test]
fn the_committed_fleiss_review_is_a_fresh_import() {
    let d = tmpdir("mp-revman", "fresh");
    let src = shared().join("Fleiss1993.rm5");
    ok(&metapipe(
        &d,
        &[
            "import",
            "revman",
            src.to_str().unwrap(),
            "--name",
            "fleiss1993",
        ],
    ));
    let repo = repo();
    for f in [
        "pipelines/fleiss1993.toml",
        "data/fleiss1993/studies.csv",
        "data/fleiss1993/outcome_data.csv",
        "data/fleiss1993/published.csv",
        "data/fleiss1993/README.md",
    ] {
        let a = std::fs::read(d.join(f)).unwrap();
        let b = std::fs::read(repo.join(f)).unwrap();
        assert!(a == b, "{f} differs from a fresh import");
    }
}

/// RevMan out: `metapipe export revman` → `metapipe import revman` gives the same studies and
/// outcome data (byte-identical sheets) and the same results (byte-identical `results.csv` and
/// `per_study_effects.csv`); the re-imported review's published figures are metapipe's own and
/// all match; exporting the re-imported review gives the same file (a fixed point). Its
/// `published.csv` and README differ from the first import by design: they hold the exporting
/// tool's figures and the file's origin.
#[test]
fn export_then_import_is_the_same_review() {
    let d = tmpdir("mp-revman", "roundtrip");
    for sub in ["a", "b", "x", "y"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    let (a, b) = (d.join("a"), d.join("b"));
    import_and_run(&a, "Fleiss1993.rm5", "fl");
    let x = d.join("x/Fleiss1993.rm5");
    ok(&metapipe(
        &a,
        &[
            "export",
            "revman",
            "pipelines/fl.toml",
            "--out",
            x.to_str().unwrap(),
        ],
    ));
    ok(&metapipe(
        &b,
        &["import", "revman", x.to_str().unwrap(), "--name", "fl"],
    ));
    ok(&metapipe(&b, &["run", "pipelines/fl.toml", "--out", "out"]));
    for f in [
        "data/fl/studies.csv",
        "data/fl/outcome_data.csv",
        "out/fl/results.csv",
        "out/fl/per_study_effects.csv",
    ] {
        let (ra, rb) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(ra == rb, "{f} differs after export and import");
    }
    let audit = csv_rows(&b.join("out/fl/audit.csv"));
    // both analyses now carry results: 2 x 9 + 12 studies x 5
    all_match(&audit, 78, &["Control Q_p", "Wilson weight"]);
    let y = d.join("y/Fleiss1993.rm5");
    ok(&metapipe(
        &b,
        &[
            "export",
            "revman",
            "pipelines/fl.toml",
            "--out",
            y.to_str().unwrap(),
        ],
    ));
    assert!(
        std::fs::read(&x).unwrap() == std::fs::read(&y).unwrap(),
        "a second export differs"
    );
}

#[test]
fn export_refuses_what_revman_5_cannot_hold() {
    let d = tmpdir("mp-revman", "exp-bad");
    let repo = repo();
    let cfg = repo.join("pipelines/ets-lung-cancer.toml");
    let out = d.join("x.rm5");
    // not run yet
    let o = metapipe(
        &d,
        &[
            "export",
            "revman",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("run the review first")
    );
    ok(&metapipe(
        &d,
        &["run", cfg.to_str().unwrap(), "--out", "out"],
    ));
    let o = metapipe(
        &d,
        &[
            "export",
            "revman",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("outcome lung_cancer: measure GEN"),
        "{err}"
    );
    assert!(!out.exists());
}

/// A review with subgroups (the BCG trials by allocation, RR by DerSimonian-Laird under RevMan
/// 5's rules) exported and imported back: RevMan's subgroups become a studies column, and every
/// overall, subgroup and study figure of the export equals the re-imported review's run.
#[test]
fn subgroups_survive_export_and_import() {
    let d = tmpdir("mp-revman", "subgroups");
    let repo = repo();
    let data = repo.join("data/bcg-tb");
    // the tb outcome's rows alone
    let od = std::fs::read_to_string(data.join("outcome_data.csv")).unwrap();
    let tb: String = od
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.contains("\"tb\","))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(d.join("od.csv"), tb).unwrap();
    let cfg = format!(
        "[review]\nname = \"bcg\"\ntitle = \"BCG by allocation\"\ntreat_label = \"BCG\"\nctrl_label = \"No vaccine\"\n\n[extraction]\nstudies = \"{}\"\noutcomes = \"{}\"\n\n[extraction.covariates]\nyear = \"number\"\nalloc = \"text\"\n\n[[outcomes]]\nid = \"tb\"\nlabel = \"Tuberculosis\"\nmeasure = \"RR\"\nconvention = \"revman\"\nmethod = \"DL\"\nsubgroup_by = \"alloc\"\n",
        data.join("studies.csv").display(),
        d.join("od.csv").display()
    );
    std::fs::write(d.join("bcg.toml"), cfg).unwrap();
    ok(&metapipe(&d, &["run", "bcg.toml", "--out", "out"]));
    let x = d.join("bcg.rm5");
    ok(&metapipe(
        &d,
        &["export", "revman", "bcg.toml", "--out", x.to_str().unwrap()],
    ));
    let text = std::fs::read_to_string(&x).unwrap();
    assert_eq!(text.matches("<DICH_SUBGROUP ").count(), 3, "{text}");
    ok(&metapipe(
        &d,
        &["import", "revman", x.to_str().unwrap(), "--name", "back"],
    ));
    let cfg2 = std::fs::read_to_string(d.join("pipelines/back.toml")).unwrap();
    assert!(
        cfg2.contains("subgroup_by = \"subgroup_1_1\"") && cfg2.contains("method = \"DL\""),
        "{cfg2}"
    );
    ok(&metapipe(
        &d,
        &["run", "pipelines/back.toml", "--out", "out"],
    ));
    let audit = csv_rows(&d.join("out/back/audit.csv"));
    // overall 10 figures (tau2 too) + 3 subgroups x 10 + 13 studies x 5
    all_match(
        &audit,
        10 + 30 + 65,
        &["random tau2", "systematic I2", "alternate z"],
    );
}
