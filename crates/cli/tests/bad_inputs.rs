//! The bad-input corpus (`tests/bad-inputs/manifest.csv`): every malformed file fails with the
//! stated exit code and an error naming the file (and line and field where the manifest says),
//! prints nothing on stdout, never panics, and leaves no output behind; recoverable inputs warn
//! and give a result.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

#[test]
fn corpus_meets_every_expectation() {
    let dir = repo().join("tests/bad-inputs");
    let mut rdr = csv::Reader::from_path(dir.join("manifest.csv")).unwrap();
    let mut failures = vec![];
    let mut n = 0;
    for row in rdr.records() {
        let row = row.unwrap();
        let (case, args, exit, must) = (&row[0], &row[1], row[2].parse::<i32>().unwrap(), &row[3]);
        n += 1;
        let out = std::env::temp_dir().join(format!("mp-bad-{}-{case}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        let file = format!("tests/bad-inputs/{case}");
        let argv: Vec<String> = args
            .split(' ')
            .map(|a| {
                a.replace("{f}", &file)
                    .replace("{out}", out.to_str().unwrap())
            })
            .collect();
        let o = Command::new(env!("CARGO_BIN_EXE_metapipe"))
            .current_dir(repo())
            .args(&argv)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let mut problems = vec![];
        if o.status.code() != Some(exit) {
            problems.push(format!("exit {:?}, expected {exit}", o.status.code()));
        }
        if err.contains("panicked") {
            problems.push("panicked".into());
        }
        for m in must.split('|').filter(|m| !m.is_empty()) {
            if !err.contains(m) {
                problems.push(format!("stderr lacks {m:?}"));
            }
        }
        let produced: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        if exit != 0 {
            if !o.stdout.is_empty() {
                problems.push("stdout not empty".into());
            }
            if !produced.is_empty() {
                problems.push(format!("output left behind: {produced:?}"));
            }
        } else if produced.is_empty() {
            problems.push("recoverable input produced no output".into());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{case}: {} (stderr: {})",
                problems.join("; "),
                err.trim()
            ));
        }
        let _ = std::fs::remove_dir_all(&out);
    }
    assert!(n >= 40, "corpus has {n} cases");
    assert!(
        failures.is_empty(),
        "{} of {n} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
