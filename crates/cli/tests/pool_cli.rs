//! `metapipe pool`: the CLI contract against metafor's fixtures, batch mode, and bad input.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn pool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metapipe"))
        .arg("pool")
        .args(args)
        .output()
        .unwrap()
}

/// The metafor control the oracle used.
const ORACLE_CONTROL: [&str; 6] = [
    "--tau2-max",
    "10000",
    "--maxiter",
    "1000",
    "--stepadj",
    "0.5",
];

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1e-3)
}

/// `metapipe pool`'s name of a fixture key: the Q-profile limits as results.csv names them.
fn pool_name(k: &str) -> &str {
    match k {
        "tau2_ci_lb" => "tau2_lb",
        "tau2_ci_ub" => "tau2_ub",
        "I2_ci_lb" => "I2_lb",
        "I2_ci_ub" => "I2_ub",
        k => k,
    }
}

#[test]
fn json_output_matches_metafor_keys_and_values() {
    let mut checked = 0;
    let mut failures = vec![];
    for set in ["oracle", "oracle-extra"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join(set).join("metafor"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for path in files {
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            let data = fixtures()
                .join(set)
                .join("data")
                .join(format!("{name}.csv"));
            let exp: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for (measure, analyses) in exp
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| *k != "dataset")
            {
                for (key, e) in analyses.as_object().unwrap() {
                    let (method, extra): (&str, Vec<&str>) = match key.as_str() {
                        "fixed_iv" => ("FE", vec![]),
                        "dl_hksj" => ("DL", vec!["--test", "knha"]),
                        "reml_hksj" => ("REML", vec!["--test", "knha"]),
                        "mh" => ("MH", vec![]),
                        "mh_revman" => ("MH", vec!["--convention", "revman"]),
                        "peto" => ("PETO", vec![]),
                        "studies" | "leave1out_dl" | "egger" => continue,
                        m => (m, vec![]),
                    };
                    if e.is_null() {
                        continue;
                    }
                    let mut args = vec![
                        data.to_str().unwrap(),
                        "--measure",
                        measure,
                        "--method",
                        method,
                        "--format",
                        "json",
                    ];
                    args.extend(extra);
                    args.extend(ORACLE_CONTROL);
                    let o = pool(&args);
                    assert!(
                        o.status.success(),
                        "{name} {measure} {key}: {}",
                        String::from_utf8_lossy(&o.stderr)
                    );
                    let ours: Value = serde_json::from_slice(&o.stdout).unwrap();
                    let (mut ok, mut ek): (Vec<&str>, Vec<&str>) = (
                        ours.as_object()
                            .unwrap()
                            .keys()
                            .map(String::as_str)
                            .collect(),
                        e.as_object()
                            .unwrap()
                            .keys()
                            .map(|k| pool_name(k))
                            .collect(),
                    );
                    ok.sort();
                    ek.sort();
                    assert_eq!(ok, ek, "{name} {measure} {key}: keys");
                    for (k, v) in e.as_object().unwrap() {
                        // rma.mh/rma.peto fixtures: Q_df written as k - 1 by the script; metafor's
                        // own test uses the estimable studies (checked in the meta crate)
                        if k == "Q_df" && (key == "mh" || key == "peto" || key == "mh_revman") {
                            continue;
                        }
                        let (a, b) = (
                            ours[pool_name(k)].as_f64().unwrap_or(f64::NAN),
                            v.as_f64().unwrap_or(f64::NAN),
                        );
                        checked += 1;
                        if !(close(a, b) || (a.is_nan() && b.is_nan())) {
                            failures.push(format!("{name} {measure} {key} {k}: {a} vs {b}"));
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 5000, "{checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn tmp(name: &str, body: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mp-pool-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn group_mode_pools_every_group_as_separate_runs_do() {
    // three binary data sets stacked with a group column
    let mut body = String::from("group,study,ai,n1i,ci,n2i\n");
    let sets = ["bcg", "lau1992", "nielweise2007"];
    for s in sets {
        let text = std::fs::read_to_string(fixtures().join("oracle/data").join(format!("{s}.csv")))
            .unwrap();
        for l in text.lines().skip(1) {
            body.push_str(&format!("{s},{l}\n"));
        }
    }
    let p = tmp("stacked.csv", &body);
    let o = pool(&[
        p.to_str().unwrap(),
        "--measure",
        "OR",
        "--method",
        "DL",
        "--group",
        "group",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let head = rdr.headers().unwrap().clone();
    let at = |name: &str| head.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    for (s, r) in sets.iter().zip(&rows) {
        assert_eq!(&r[at("group")], *s);
        assert_eq!((&r[at("measure")], &r[at("scale")]), ("OR", "log"));
        let exp: Value = serde_json::from_str(
            &std::fs::read_to_string(fixtures().join("oracle/metafor").join(format!("{s}.json")))
                .unwrap(),
        )
        .unwrap();
        for k in ["estimate", "se", "tau2", "I2", "Q"] {
            let v: f64 = r[at(k)].parse().unwrap();
            assert!(
                close(v, exp["OR"]["dl"][k].as_f64().unwrap()),
                "{s} {k}: {v}"
            );
        }
    }
    // JSON when asked for JSON: the same rows
    let o = pool(&[
        p.to_str().unwrap(),
        "--measure",
        "OR",
        "--method",
        "DL",
        "--group",
        "group",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let js: Value = serde_json::from_slice(&o.stdout).unwrap();
    let js = js.as_array().unwrap();
    assert_eq!(js.len(), 3);
    for (s, (j, r)) in sets.iter().zip(js.iter().zip(&rows)) {
        assert_eq!(j["group"], *s);
        assert_eq!(
            j["estimate"].as_f64().unwrap(),
            r[at("estimate")].parse::<f64>().unwrap()
        );
        assert_eq!(j["k"].as_i64().unwrap(), r[at("k")].parse::<i64>().unwrap());
    }
    // Parquet out, then Parquet in
    let pq = p.with_file_name("groups.parquet");
    let o = pool(&[
        p.to_str().unwrap(),
        "--measure",
        "OR",
        "--method",
        "DL",
        "--group",
        "group",
        "--out",
        pq.to_str().unwrap(),
    ]);
    assert!(o.status.success() && o.stdout.is_empty());
    assert!(std::fs::read(&pq).unwrap().starts_with(b"PAR1"));
}

fn assert_bad(name: &str, body: &str, args: &[&str], expect: &[&str]) {
    let p = tmp(name, body);
    let mut a = vec![p.to_str().unwrap()];
    a.extend(args);
    let o = pool(&a);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{name}: {err}");
    assert!(o.stdout.is_empty(), "{name}: stdout must be empty");
    assert!(
        err.contains(p.file_name().unwrap().to_str().unwrap()),
        "{name}: file named: {err}"
    );
    for e in expect {
        assert!(err.contains(e), "{name}: {e:?} not in {err}");
    }
    assert!(!err.contains("panicked"), "{name}: {err}");
}

#[test]
fn bad_input_names_file_row_and_column() {
    let or = ["--measure", "OR", "--method", "DL"];
    assert_bad(
        "events_gt_n.csv",
        "study,ai,n1i,ci,n2i\na,5,10,3,10\nb,12,10,3,10\n",
        &or,
        &[":3:", "ai", "> n1i"],
    );
    assert_bad(
        "negative.csv",
        "study,ai,n1i,ci,n2i\na,5,10,-3,10\n",
        &or,
        &[":2:", "ci", "not a count"],
    );
    assert_bad(
        "fraction.csv",
        "study,ai,n1i,ci,n2i\na,5,10,3,10.5\n",
        &or,
        &[":2:", "n2i", "not a count"],
    );
    assert_bad(
        "text.csv",
        "study,ai,n1i,ci,n2i\na,5,10,three,10\n",
        &or,
        &[":2:", "ci", "not a number"],
    );
    assert_bad(
        "missing_col.csv",
        "study,ai,n1i,n2i\na,5,10,10\n",
        &or,
        &["ci", "missing column"],
    );
    assert_bad("empty.csv", "study,ai,n1i,ci,n2i\n", &or, &["empty table"]);
    let g = ["--measure", "GEN", "--method", "REML"];
    assert_bad(
        "nan.csv",
        "yi,vi\n0.1,0.02\nNaN,0.03\n",
        &g,
        &[":3:", "yi", "not finite"],
    );
    assert_bad(
        "inf.csv",
        "yi,vi\n0.1,inf\n",
        &g,
        &[":2:", "vi", "not finite"],
    );
    assert_bad(
        "negvar.csv",
        "yi,vi\n0.1,0.02\n0.2,-0.01\n",
        &g,
        &[":3:", "vi", "> 0"],
    );
    assert_bad(
        "missing_value.csv",
        "yi,vi\n0.1,\n",
        &g,
        &[":2:", "vi", "missing"],
    );
    assert_bad(
        "sd.csv",
        "m1i,sd1i,n1i,m2i,sd2i,n2i\n1,-1,10,2,1,10\n",
        &["--measure", "MD", "--method", "DL"],
        &[":2:", "sd1i", "negative"],
    );
}

#[test]
fn bad_usage_exits_2() {
    let p = tmp("ok.csv", "yi,vi\n0.1,0.02\n0.3,0.05\n");
    for args in [
        vec!["--measure", "XX"],
        vec!["--method", "nope"],
        vec!["--test", "t"],
        vec!["--format", "xml"],
    ] {
        let mut a = vec![p.to_str().unwrap()];
        a.extend(args.iter());
        let o = pool(&a);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty());
    }
    let o = pool(&[Path::new("/nonexistent/x.csv").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
}

/// The batch kernels of `--group` (allocation-free, escalc fused, all cores) give the same rows
/// as the single-analysis path (`--engine single`), from Parquet and from CSV, for every measure
/// × method they cover.
#[test]
fn batch_kernels_equal_single_analysis_path() {
    let d = std::env::temp_dir().join(format!("mp-batch-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let bin = env!("CARGO_BIN_EXE_metapipe");
    let all = vec!["FE", "DL", "REML", "ML", "EB", "HE", "SJ"];
    let cases = [
        ("generic", "GEN", all.clone()),
        ("binary", "OR", [all.clone(), vec!["MH"]].concat()),
        ("binary", "RR", all.clone()),
        ("binary", "RD", all.clone()),
    ];
    for (kind, measure, methods) in cases {
        let pq = d.join(format!("{kind}.parquet"));
        let cs = d.join(format!("{kind}.csv"));
        for f in [&pq, &cs] {
            let o = Command::new(bin)
                .args([
                    "gen-meta",
                    "--groups",
                    "300",
                    "--k",
                    "7",
                    "--kind",
                    kind,
                    "--seed",
                    "3",
                    "--out",
                    f.to_str().unwrap(),
                ])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        for m in methods {
            let run = |f: &PathBuf, engine: &str| {
                let o = pool(&[
                    f.to_str().unwrap(),
                    "--measure",
                    measure,
                    "--method",
                    m,
                    "--group",
                    "group",
                    "--engine",
                    engine,
                ]);
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                let text = String::from_utf8(o.stdout).unwrap();
                let mut r = csv::Reader::from_reader(text.as_bytes());
                let rows = r
                    .records()
                    .map(|x| x.unwrap().iter().map(String::from).collect::<Vec<_>>())
                    .collect::<Vec<_>>();
                rows
            };
            let (fast, general) = (run(&pq, "auto"), run(&cs, "single"));
            assert_eq!(fast.len(), 300);
            assert_eq!(fast.len(), general.len());
            assert_eq!(run(&cs, "auto"), fast, "CSV and Parquet give the same rows");
            for (a, b) in fast.iter().zip(&general) {
                assert_eq!(a[0], b[0]);
                for (x, y) in a.iter().zip(b).skip(1) {
                    match (x.parse::<f64>(), y.parse::<f64>()) {
                        (Ok(x), Ok(y)) => assert!(
                            (x - y).abs() <= 1e-9 * (1.0 + y.abs()),
                            "{measure} {m} {}: {x} vs {y}",
                            a[0]
                        ),
                        _ => assert_eq!(x, y, "{m} {}", a[0]),
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// Groups need not be contiguous: rows of one group scattered through the file pool as if
/// sorted, and groups come out in order of first appearance.
#[test]
fn scattered_groups_pool_as_contiguous_ones() {
    let sorted = "g,yi,vi\nb,0.1,0.02\nb,0.3,0.05\nb,-0.1,0.04\na,0.5,0.1\na,0.2,0.03\n";
    let scattered = "g,yi,vi\nb,0.1,0.02\na,0.5,0.1\nb,0.3,0.05\na,0.2,0.03\nb,-0.1,0.04\n";
    let (p1, p2) = (tmp("sorted.csv", sorted), tmp("scattered.csv", scattered));
    let run = |p: &PathBuf| {
        let o = pool(&[
            p.to_str().unwrap(),
            "--measure",
            "GEN",
            "--method",
            "REML",
            "--group",
            "g",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let (a, b) = (run(&p1), run(&p2));
    assert_eq!(a, b);
    let lines: Vec<&str> = a.lines().collect();
    assert!(
        lines[1].starts_with("b,GEN,natural,3,") && lines[2].starts_with("a,GEN,natural,2,"),
        "{a}"
    );
}

/// Group keys of every kind come out in order of first appearance, named as in the file: integer
/// keys sorted, contiguous but unsorted, and scattered; text keys with a missing key (the group
/// ""). A group that cannot be pooled keeps its row: its k, no estimate, no Q_df, and why.
#[test]
fn group_keys_of_every_kind_and_a_group_that_fails() {
    let run = |name: &str, body: &str, method: &str| {
        let p = tmp(name, body);
        let o = pool(&[
            p.to_str().unwrap(),
            "--measure",
            "OR",
            "--method",
            method,
            "--group",
            "g",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8(o.stdout).unwrap();
        let mut rdr = csv::Reader::from_reader(out.as_bytes());
        let head = rdr.headers().unwrap().clone();
        let rows: Vec<std::collections::HashMap<String, String>> = rdr
            .records()
            .map(|r| {
                head.iter()
                    .zip(r.unwrap().iter())
                    .map(|(h, v)| (h.to_string(), v.to_string()))
                    .collect()
            })
            .collect();
        rows
    };
    let groups = |rows: &[std::collections::HashMap<String, String>]| {
        rows.iter()
            .map(|r| (r["group"].clone(), r["k"].clone()))
            .collect::<Vec<_>>()
    };
    let g = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    };
    let sorted = run(
        "int_sorted.csv",
        "g,ai,n1i,ci,n2i\n1,4,50,8,50\n1,10,100,12,100\n2,3,30,9,31\n2,5,40,7,40\n10,2,20,6,20\n",
        "DL",
    );
    assert_eq!(groups(&sorted), g(&[("1", "2"), ("2", "2"), ("10", "1")]));
    let unsorted = run("int_unsorted.csv", "g,ai,n1i,ci,n2i\n3,4,50,8,50\n3,10,100,12,100\n1,0,20,0,20\n1,0,30,0,30\n2,3,30,9,31\n2,5,40,7,40\n", "MH");
    assert_eq!(groups(&unsorted), g(&[("3", "2"), ("1", "2"), ("2", "2")]));
    let failed = &unsorted[1];
    assert!(
        failed["estimate"].is_empty()
            && failed["Q_df"].is_empty()
            && failed["error"].contains("not estimable"),
        "{failed:?}"
    );
    for ok in [&unsorted[0], &unsorted[2]] {
        assert!(
            !ok["estimate"].is_empty() && ok["Q_df"] == "1" && ok["error"].is_empty(),
            "{ok:?}"
        );
    }
    let scattered = run(
        "int_scattered.csv",
        "g,ai,n1i,ci,n2i\n7,4,50,8,50\n5,3,30,9,31\n7,10,100,12,100\n5,5,40,7,40\n",
        "DL",
    );
    assert_eq!(groups(&scattered), g(&[("7", "2"), ("5", "2")]));
    assert_eq!(scattered[0]["estimate"], sorted[0]["estimate"]);
    let text = run(
        "text_missing.csv",
        "g,ai,n1i,ci,n2i\nb,4,50,8,50\n,10,100,12,100\n,3,30,9,31\nb,5,40,7,40\n",
        "DL",
    );
    assert_eq!(groups(&text), g(&[("b", "2"), ("", "2")]));
}

/// The pipeline's column names are accepted beside metafor's, and `--level` takes 95 or 0.95.
#[test]
fn pipeline_vocabulary_and_level_as_percent() {
    let metafor = tmp(
        "mf.csv",
        "ai,n1i,ci,n2i\n4,50,8,50\n10,100,12,100\n3,30,9,31\n",
    );
    let ours = tmp(
        "ours.csv",
        "events_treat,n_treat,events_ctrl,n_ctrl\n4,50,8,50\n10,100,12,100\n3,30,9,31\n",
    );
    let nonev = tmp(
        "nonev.csv",
        "ai,bi,ci,di\n4,46,8,42\n10,90,12,88\n3,27,9,22\n",
    );
    let run = |p: &PathBuf, level: &str| {
        let o = pool(&[
            p.to_str().unwrap(),
            "--measure",
            "OR",
            "--method",
            "REML",
            "--format",
            "json",
            "--level",
            level,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let a = run(&metafor, "0.95");
    assert_eq!(a, run(&ours, "95"));
    assert_eq!(a, run(&nonev, "95"));
    let c90 = run(&metafor, "90");
    assert!(c90["ci_ub"].as_f64().unwrap() < a["ci_ub"].as_f64().unwrap());
    assert_eq!(c90["estimate"], a["estimate"]);
    let cont = tmp("cont.csv", "mean_treat,sd_treat,n_treat,mean_ctrl,sd_ctrl,n_ctrl\n10,2,20,9,2.5,22\n12,3,15,10.5,2,14\n");
    let o = pool(&[cont.to_str().unwrap(), "--measure", "SMD", "--method", "DL"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let se = tmp("se.csv", "yi,se\n0.1,0.5\n0.3,0.25\n");
    let vi = tmp("vi.csv", "yi,vi\n0.1,0.25\n0.3,0.0625\n");
    let gen = |p: &PathBuf| {
        pool(&[
            p.to_str().unwrap(),
            "--measure",
            "GEN",
            "--method",
            "FE",
            "--format",
            "json",
        ])
        .stdout
    };
    assert_eq!(gen(&se), gen(&vi));
    let o = pool(&[metafor.to_str().unwrap(), "--level", "120"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Parquet from the writers users have (pandas/pyarrow with every codec, polars, DuckDB), with
/// extra columns of other types (bool, date, timestamp, decimal, categorical, enum, dictionary,
/// string views, lists, structs) and counts as int16/int32/uint32/decimal: each pools to
/// metafor's values, and a categorical/enum column groups (tools/make_foreign_parquet.py).
#[test]
fn parquet_from_pandas_pyarrow_polars_duckdb() {
    let dir = fixtures().join("foreign-parquet");
    let exp: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("oracle/metafor/bcg.json")).unwrap(),
    )
    .unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "{files:?}");
    for f in &files {
        let o = pool(&[
            f.to_str().unwrap(),
            "--measure",
            "OR",
            "--method",
            "DL",
            "--format",
            "json",
        ]);
        assert!(
            o.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        let ours: Value = serde_json::from_slice(&o.stdout).unwrap();
        for k in ["estimate", "se", "tau2", "Q", "I2", "ci_lb", "ci_ub"] {
            let (a, b) = (
                ours[k].as_f64().unwrap(),
                exp["OR"]["dl"][k].as_f64().unwrap(),
            );
            assert!(close(a, b), "{} {k}: {a} vs {b}", f.display());
        }
        let o = pool(&[
            f.to_str().unwrap(),
            "--measure",
            "OR",
            "--method",
            "REML",
            "--group",
            "analysis",
            "--format",
            "json",
        ]);
        assert!(
            o.status.success(),
            "{}: {}",
            f.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
        let groups: Vec<(&str, i64)> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["group"].as_str().unwrap(), r["k"].as_i64().unwrap()))
            .collect();
        assert_eq!(groups, vec![("early", 7), ("late", 6)], "{}", f.display());
    }
}

/// The streaming path (Parquet larger than one chunk, `--group`, `--out`): chunk by chunk with the
/// open group carried across chunk ends, it writes the same rows as the in-memory path; a group
/// seen again after others is an error naming its row; a bad cell in a later chunk is named by its
/// row in the file; nothing is left at `--out` after an error.
#[test]
fn streaming_equals_in_memory() {
    let d = std::env::temp_dir().join(format!("mp-stream-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let bin = env!("CARGO_BIN_EXE_metapipe");
    let pq = d.join("input.parquet");
    let o = Command::new(bin)
        .args([
            "gen-meta",
            "--groups",
            "1500",
            "--k",
            "7",
            "--kind",
            "binary",
            "--seed",
            "5",
            "--out",
            pq.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    for (method, format, ext) in [
        ("REML", "csv", "csv"),
        ("MH", "csv", "csv"),
        ("DL", "json", "json"),
        ("DL", "csv", "parquet"),
    ] {
        let run = |chunk: &str, out: &PathBuf| {
            let o = Command::new(bin)
                .env("METAPIPE_STREAM_CHUNK", chunk)
                .args([
                    "pool",
                    pq.to_str().unwrap(),
                    "--measure",
                    "OR",
                    "--method",
                    method,
                    "--group",
                    "group",
                    "--format",
                    format,
                    "--out",
                    out.to_str().unwrap(),
                ])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            std::fs::read(out).unwrap()
        };
        let (a, b) = (d.join(format!("a.{ext}")), d.join(format!("b.{ext}")));
        // 10,500 rows: chunks of 1,000 split groups of 7; one chunk is the in-memory path
        let streamed = run("1000", &a);
        let whole = run("100000", &b);
        if ext == "parquet" {
            use polars::prelude::{ParquetReader, SerReader};
            let read = |p: &PathBuf| {
                ParquetReader::new(std::fs::File::open(p).unwrap())
                    .finish()
                    .unwrap()
            };
            let (x, y) = (read(&a), read(&b));
            assert_eq!(x.height(), 1500);
            assert!(x.equals_missing(&y), "streamed Parquet differs");
        } else {
            assert_eq!(
                String::from_utf8_lossy(&streamed),
                String::from_utf8_lossy(&whole),
                "{method} {format}"
            );
        }
    }
    // groups that are not contiguous cannot stream: arm sizes repeat across analyses
    let out = d.join("bad.csv");
    std::fs::write(&out, "old").unwrap();
    let o = Command::new(bin)
        .env("METAPIPE_STREAM_CHUNK", "1000")
        .args([
            "pool",
            pq.to_str().unwrap(),
            "--measure",
            "OR",
            "--method",
            "PETO",
            "--group",
            "n1i",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("appears again") && err.contains("n1i"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        b"old",
        "target untouched after an error"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".tmp-")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = std::fs::remove_dir_all(&d);
}

/// Study columns are read where the table holds them, chunk by chunk: a Parquet file of many row
/// groups (groups of 7 rows straddling them), with counts stored as i64, i32 or f64 and generic
/// effects as f64, pools exactly as the same rows read from CSV (text converted); a bad cell past
/// the first block of rows checked (4,096) is named by its own row, in either format.
#[test]
fn study_columns_across_row_groups_and_types() {
    use polars::prelude::*;
    let d = std::env::temp_dir().join(format!("mp-chunks-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let bin = env!("CARGO_BIN_EXE_metapipe");
    let pool_csv = |file: &PathBuf, measure: &str| {
        let o = Command::new(bin)
            .args([
                "pool",
                file.to_str().unwrap(),
                "--measure",
                measure,
                "--method",
                "REML",
                "--group",
                "group",
            ])
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).to_string(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let write_pq = |df: &mut DataFrame, name: &str| {
        let p = d.join(name);
        ParquetWriter::new(std::fs::File::create(&p).unwrap())
            .with_row_group_size(Some(1000))
            .finish(df)
            .unwrap();
        let back = ParquetReader::new(std::fs::File::open(&p).unwrap())
            .finish()
            .unwrap();
        assert!(
            back.columns()[2].n_chunks() > 1,
            "{name}: one chunk; the test needs several"
        );
        p
    };
    for (kind, measure, cols) in [
        ("binary", "OR", vec!["ai", "n1i", "ci", "n2i"]),
        ("generic", "GEN", vec!["yi", "vi"]),
    ] {
        let csv = d.join(format!("{kind}.csv"));
        let o = Command::new(bin)
            .args([
                "gen-meta",
                "--groups",
                "700",
                "--k",
                "7",
                "--kind",
                kind,
                "--seed",
                "3",
                "--out",
                csv.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(o.status.success());
        let (code, expected, err) = pool_csv(&csv, measure);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(expected.lines().count(), 701);
        let df = CsvReadOptions::default()
            .try_into_reader_with_file_path(Some(csv.clone()))
            .unwrap()
            .finish()
            .unwrap();
        let types: &[DataType] = if kind == "binary" {
            &[DataType::Int64, DataType::Int32, DataType::Float64]
        } else {
            &[DataType::Float64]
        };
        for ty in types {
            let mut df = df.clone();
            for c in &cols {
                let cast = df.column(c).unwrap().cast(ty).unwrap();
                df.with_column(cast).unwrap();
            }
            let p = write_pq(&mut df, &format!("{kind}-{ty}.parquet"));
            let (code, got, err) = pool_csv(&p, measure);
            assert_eq!(code, Some(0), "{err}");
            assert_eq!(got, expected, "{kind} as {ty}");
            // a bad cell at row 4,500 (0-based 4,499): line 4,501 of the CSV, row 4,500 of the Parquet
            let bad = if kind == "binary" { -1.0 } else { f64::NAN };
            let col = cols[0];
            let mut vals: Vec<f64> = df
                .column(col)
                .unwrap()
                .cast(&DataType::Float64)
                .unwrap()
                .f64()
                .unwrap()
                .into_no_null_iter()
                .collect();
            vals[4499] = bad;
            let mut broken = df.clone();
            broken
                .with_column(Column::new(col.into(), vals).cast(ty).unwrap())
                .unwrap();
            let p = write_pq(&mut broken, &format!("{kind}-{ty}-bad.parquet"));
            let (code, out, err) = pool_csv(&p, measure);
            assert_eq!(code, Some(1), "{err}");
            assert!(out.is_empty());
            assert!(
                err.contains("4500") && err.contains(col),
                "{kind} {ty}: {err}"
            );
        }
        // the same bad cell in the CSV
        let text = std::fs::read_to_string(&csv).unwrap();
        let head: Vec<&str> = text.lines().next().unwrap().split(',').collect();
        let at = head.iter().position(|h| *h == cols[0]).unwrap();
        let lines: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i == 4500 {
                    let mut f: Vec<&str> = l.split(',').collect();
                    f[at] = if kind == "binary" { "-1" } else { "NaN" };
                    f.join(",")
                } else {
                    l.to_string()
                }
            })
            .collect();
        let bad_csv = d.join(format!("{kind}-bad.csv"));
        std::fs::write(&bad_csv, lines.join("\n") + "\n").unwrap();
        let (code, _, err) = pool_csv(&bad_csv, measure);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains("4501") && err.contains(cols[0]),
            "{kind} CSV: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}
