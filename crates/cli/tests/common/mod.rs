//! Helpers the command-line tests share: the repository, a fresh temporary directory, the
//! binary run in a directory, and CSV outputs read as rows. (Each test file uses some of them.)
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// An empty directory of its own for a test (`prefix`, `tag` and the process).
pub fn tmpdir(prefix: &str, tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("{prefix}-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `metapipe ARGS` run in `dir`.
pub fn metapipe(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metapipe"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

pub fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A run that stops on bad input: exit 1, every one of `says` in its error, and no output for
/// the review under `out` (nothing written in part).
pub fn fails(o: &Output, says: &[&str], out: &Path) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    for s in says {
        assert!(err.contains(s), "{s}\n{err}");
    }
    assert!(!out.exists(), "{} exists", out.display());
}

/// A CSV file's rows, each by column name.
pub fn csv_rows(p: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|x| {
            h.iter()
                .cloned()
                .zip(x.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// The python of `make check-venv` (`target/check-venv/bin/python`), or the one the variable
/// `env` names, which holds `tool`: the independent program a test checks against.
pub fn check_python(env: &str, tool: &str) -> PathBuf {
    let p = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/check-venv/bin/python"));
    assert!(
        p.exists(),
        "{}: no {tool}; run `make check-venv` (make test does)",
        p.display()
    );
    p
}
