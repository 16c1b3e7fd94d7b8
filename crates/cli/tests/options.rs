//! Every analysis option has one definition (`metapipe_plan::options`): for every measure ×
//! method × test × convention (and a few levels), the review config (`metapipe run`) and
//! `metapipe pool` give the same result, or the same error at the option's own key — for a
//! config error, at the outcome's own line, before any stage runs. (The Python package is held
//! to `metapipe pool` by `crates/py/tests/test_options.py`.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn metapipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metapipe"))
        .args(args)
        .output()
        .unwrap()
}

/// A fixture table: header and rows (study name first).
fn read(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(fixtures().join(name)).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    (
        header,
        r.records()
            .map(|x| x.unwrap().iter().map(String::from).collect())
            .collect(),
    )
}

/// One option set: measure, method, test, convention, level.
#[derive(Clone, Copy)]
struct Opts {
    measure: &'static str,
    method: &'static str,
    test: &'static str,
    convention: &'static str,
    level: f64,
}

impl Opts {
    fn id(&self) -> String {
        format!(
            "{}_{}_{}_{}_{}",
            self.measure, self.method, self.test, self.convention, self.level
        )
        .replace('.', "p")
    }
}

const METHODS: [&str; 12] = [
    "MH", "PETO", "FE", "DL", "REML", "PM", "ML", "SJ", "HE", "EB", "GLMM", "GLMM_FE",
];

fn cases() -> Vec<Opts> {
    let mut out = vec![];
    for measure in [
        "OR", "RR", "RD", "MD", "SMD", "ROM", "GEN", "PR", "PLO", "PAS", "PFT", "IR", "IRR", "IRD",
        "ZCOR", "COR", "OEV",
    ] {
        for method in METHODS {
            for test in ["z", "knha", "knha_adhoc"] {
                for convention in ["metafor", "revman"] {
                    out.push(Opts {
                        measure,
                        method,
                        test,
                        convention,
                        level: 95.0,
                    });
                }
            }
        }
    }
    // levels: as a percentage, as a proportion, and out of range
    for (measure, method, test, level) in [
        ("OR", "DL", "z", 90.0),
        ("MD", "REML", "knha", 0.9),
        ("RR", "MH", "z", 99.0),
        ("OR", "DL", "z", 100.0),
        ("GEN", "FE", "z", 0.0),
    ] {
        out.push(Opts {
            measure,
            method,
            test,
            convention: "metafor",
            level,
        });
    }
    out
}

/// The fixture a measure is pooled from (under `tests/fixtures`), the outcome sheet's columns
/// for it and the fixture's (metafor's) columns they come from.
fn data_of(
    measure: &str,
) -> (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
) {
    match measure {
        "OR" | "RR" | "RD" => (
            "oracle/data/bcg.csv",
            &["events_treat", "n_treat", "events_ctrl", "n_ctrl"],
            &["ai", "n1i", "ci", "n2i"],
        ),
        "MD" | "SMD" | "ROM" => (
            "oracle/data/normand1999.csv",
            &[
                "mean_treat",
                "sd_treat",
                "n_treat",
                "mean_ctrl",
                "sd_ctrl",
                "n_ctrl",
            ],
            &["m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"],
        ),
        "PR" | "PLO" | "PAS" | "PFT" => (
            "measures/data/pritz1997.csv",
            &["events", "n"],
            &["xi", "ni"],
        ),
        "IR" => (
            "measures/data/nielweise2008_ir.csv",
            &["events", "time"],
            &["xi", "ti"],
        ),
        "IRR" | "IRD" => (
            "measures/data/nielweise2008.csv",
            &["events_treat", "time_treat", "events_ctrl", "time_ctrl"],
            &["x1i", "t1i", "x2i", "t2i"],
        ),
        "ZCOR" | "COR" => ("measures/data/molloy2014.csv", &["r", "n"], &["ri", "ni"]),
        "OEV" => (
            "measures/data/bcg_oev.csv",
            &["o_minus_e", "v"],
            &["o_minus_e", "v"],
        ),
        _ => (
            "oracle/data/hackshaw1998.csv",
            &["estimate", "se"],
            &["yi", "vi"],
        ),
    }
}

/// The outcome sheet's cells of one fixture row, by the sheet's column names.
fn sheet_cells(measure: &str, header: &[String], row: &[String]) -> BTreeMap<&'static str, String> {
    let get = |c: &str| row[header.iter().position(|h| h == c).unwrap()].clone();
    let (_, cols, from) = data_of(measure);
    cols.iter()
        .zip(from)
        .map(|(c, f)| {
            // a variance given to pool is a squared SE in the sheet
            let v = if *f == "vi" {
                get(f).parse::<f64>().unwrap().sqrt().to_string()
            } else {
                get(f)
            };
            (*c, v)
        })
        .collect()
}

const SHEET: [&str; 20] = [
    "events_treat",
    "n_treat",
    "events_ctrl",
    "n_ctrl",
    "mean_treat",
    "sd_treat",
    "mean_ctrl",
    "sd_ctrl",
    "estimate",
    "se",
    "ci_lb",
    "ci_ub",
    "events",
    "n",
    "time",
    "time_treat",
    "time_ctrl",
    "r",
    "o_minus_e",
    "v",
];

/// A review of the given outcomes (each with its own analysis keys); returns the config's path
/// and, per outcome, the line of each of its keys.
fn review(
    dir: &Path,
    outcomes: &[Opts],
) -> (PathBuf, BTreeMap<String, BTreeMap<&'static str, usize>>) {
    std::fs::create_dir_all(dir).unwrap();
    let mut studies = BTreeMap::new();
    let mut sheet = format!("study_id,outcome,{},status,source\n", SHEET.join(","));
    for o in outcomes {
        let (file, _, _) = data_of(o.measure);
        let (header, rows) = read(file);
        let stem = file.rsplit('/').next().unwrap().trim_end_matches(".csv");
        for (k, row) in rows.iter().enumerate() {
            let id = format!("{stem}{k}");
            studies.insert(id.clone(), row[0].replace(',', " "));
            let cells = sheet_cells(o.measure, &header, row);
            let vals: Vec<String> = SHEET
                .iter()
                .map(|c| cells.get(c).cloned().unwrap_or_default())
                .collect();
            sheet.push_str(&format!(
                "{id},{},{},reported,fixture\n",
                o.id(),
                vals.join(",")
            ));
        }
    }
    let st: String = studies
        .iter()
        .map(|(id, label)| format!("{id},{label}\n"))
        .collect();
    std::fs::write(dir.join("studies.csv"), format!("study_id,label\n{st}")).unwrap();
    std::fs::write(dir.join("outcomes.csv"), sheet).unwrap();
    let mut toml = String::from("[review]\nname = \"options\"\ntitle = \"options\"\n\n[extraction]\nstudies = \"studies.csv\"\noutcomes = \"outcomes.csv\"\n\n");
    let mut lines = BTreeMap::new();
    for o in outcomes {
        toml.push_str(&format!(
            "[[outcomes]]\nid = \"{}\"\nlabel = \"{}\"\n",
            o.id(),
            o.id()
        ));
        let mut at = BTreeMap::new();
        for (k, v) in [
            ("measure", format!("{:?}", o.measure)),
            ("method", format!("{:?}", o.method)),
            ("test", format!("{:?}", o.test)),
            ("convention", format!("{:?}", o.convention)),
            ("level", format!("{:?}", o.level)),
        ] {
            at.insert(k, toml.lines().count() + 1);
            toml.push_str(&format!("{k} = {v}\n"));
        }
        toml.push('\n');
        lines.insert(o.id(), at);
    }
    let cfg = dir.join("options.toml");
    std::fs::write(&cfg, toml).unwrap();
    (cfg, lines)
}

fn num(s: &str) -> Option<f64> {
    s.parse().ok()
}

#[test]
fn config_pool_agree_on_every_option() {
    let dir = std::env::temp_dir().join(format!("mp-options-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut ok, mut bad) = (vec![], vec![]);
    let mut pooled = BTreeMap::new();
    for o in cases() {
        let (file, _, _) = data_of(o.measure);
        let data = fixtures().join(file);
        let level = o.level.to_string();
        let out = metapipe(&[
            "pool",
            data.to_str().unwrap(),
            "--measure",
            o.measure,
            "--method",
            o.method,
            "--test",
            o.test,
            "--convention",
            o.convention,
            "--level",
            &level,
            "--format",
            "json",
        ]);
        match out.status.code() {
            Some(0) => {
                pooled.insert(
                    o.id(),
                    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(),
                );
                ok.push(o);
            }
            Some(2) => bad.push((o, String::from_utf8_lossy(&out.stderr).trim().to_string())),
            c => panic!(
                "{}: pool exit {c:?}: {}",
                o.id(),
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
    // every accepted option set, as one review with an outcome each
    let (cfg, _) = review(&dir.join("ok"), &ok);
    let out_dir = dir.join("out");
    let run = metapipe(&[
        "run",
        cfg.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut r = csv::Reader::from_path(out_dir.join("options/results.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let col = |row: &csv::StringRecord, c: &str| {
        row[header.iter().position(|h| h == c).unwrap()].to_string()
    };
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let mut compared = 0;
    let mut measures = std::collections::BTreeSet::new();
    for o in &ok {
        let id = o.id();
        let row = rows
            .iter()
            .find(|row| col(row, "outcome") == id && col(row, "subgroup").is_empty())
            .unwrap_or_else(|| panic!("{id}: no results row"));
        let p = &pooled[&id];
        // pool's numbers are on the model's scale; the run's on the natural scale
        let measure = metapipe_meta::Measure::parse(o.measure).unwrap();
        let n_pooled = {
            let (file, _, _) = data_of(o.measure);
            let (header, rows) = read(file);
            let at = header.iter().position(|h| h == "ni");
            let ns: Vec<f64> = rows
                .iter()
                .filter_map(|r| at.map(|i| r[i].parse().unwrap()))
                .collect();
            metapipe_meta::measures::harmonic_mean(&ns)
        };
        // the GLMM's likelihood is maximised numerically and its SE is from a Hessian by
        // central differences: the run (studies in the studies sheet's order) and pool (the
        // file's order) agree to that precision (the GLMM is held to 1e-4 against lme4)
        let tol = if o.method.starts_with("GLMM") {
            1e-5
        } else {
            1e-9
        };
        for (ours, theirs) in [
            ("estimate", "estimate"),
            ("ci_lb", "ci_lb"),
            ("ci_ub", "ci_ub"),
        ] {
            let v = p[theirs]
                .as_f64()
                .unwrap_or_else(|| panic!("{id}: pool gave no {theirs}"));
            let v = measure.back().apply(v, n_pooled);
            let got = num(&col(row, ours))
                .unwrap_or_else(|| panic!("{id}: the run gave no {ours}: {}", col(row, "note")));
            assert!(
                (got - v).abs() <= tol * v.abs().max(1.0),
                "{id} {ours}: run {got} vs pool {v}"
            );
        }
        for (ours, theirs) in [("tau2", "tau2"), ("I2", "I2"), ("Q", "Q")] {
            if let (Some(a), Some(b)) = (num(&col(row, ours)), p[theirs].as_f64()) {
                assert!(
                    (a - b).abs() <= tol * b.abs().max(1.0),
                    "{id} {ours}: run {a} vs pool {b}"
                );
            }
        }
        compared += 1;
        measures.insert(o.measure);
    }
    assert_eq!(measures.len(), 17, "every measure compared: {measures:?}");
    // every refused option set: the same message from the config, at the outcome's own key and
    // line, before any stage (no output directory)
    for (k, (o, pool_err)) in bad.iter().enumerate() {
        let id = o.id();
        let (key, msg) = pool_err
            .strip_prefix("metapipe: error: --")
            .and_then(|e| e.split_once(": "))
            .unwrap_or_else(|| panic!("{id}: {pool_err}"));
        let (cfg, lines) = review(&dir.join(format!("bad{k}")), &[*o]);
        let out_dir = dir.join(format!("bad{k}-out"));
        let run = metapipe(&[
            "run",
            cfg.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{id}: {err}");
        let line = lines[&id]
            .get(key)
            .unwrap_or_else(|| panic!("{id}: pool names {key:?}"));
        let want = format!(
            "{}:{line}: outcomes.{key}: outcome {id}: {msg}",
            cfg.display()
        );
        assert!(
            err.contains(&want),
            "{id}:\n the run said {err}\n expected     {want}"
        );
        assert!(!out_dir.exists(), "{id}: the run wrote outputs");
    }
    assert!(
        compared > 100 && bad.len() > 50,
        "compared {compared}, refused {}",
        bad.len()
    );
    // the pairs the issue names: RevMan 5 with Knapp-Hartung is refused by both
    assert!(bad.iter().any(|(o, _)| o.convention == "revman"
        && o.test == "knha"
        && o.method == "DL"
        && o.measure == "OR"));
    let _ = std::fs::remove_dir_all(&dir);
}
