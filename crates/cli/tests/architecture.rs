//! The invariants ARCHITECTURE.md states about the code's shape, checked on the source:
//! - only the IO shells touch the filesystem — the CLI (`crates/cli`), the run (`crates/run`:
//!   reading a review's inputs, the staging directory) and the table IO (`crates/tables`): the
//!   stage crates and the pooling engine are functions of what the shell read;
//! - no crate but the binary's depends on `metapipe-cli` (the Python package and the pooling
//!   engine are libraries over the library crates), and the binary's crate stays small (clap and
//!   dispatch, at most 600 lines);
//! - `metapipe-meta` has no polars (and no IO);
//! - no crate's modules import each other in a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn crates_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`, with its module path (`lib`, `parse`, `parse::ris`, …).
fn modules(src: &Path) -> Vec<(String, PathBuf)> {
    let mut out = vec![];
    let mut stack = vec![src.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(src).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .iter()
                    .map(|c| c.to_string_lossy().to_string())
                    .collect();
                if parts.last().is_some_and(|l| l == "mod") {
                    parts.pop();
                }
                let name = if parts == ["lib"] || parts == ["main"] {
                    "lib".to_string()
                } else {
                    parts.join("::")
                };
                out.push((name, p));
            }
        }
    }
    out.sort();
    out
}

/// The code of a file before its test module, comments (and so doc links) left out; nothing of
/// a test module kept in a file of its own (`tests.rs`).
fn non_test_code(p: &Path) -> String {
    if p.file_name().is_some_and(|n| n == "tests.rs") {
        return String::new();
    }
    let text = std::fs::read_to_string(p).unwrap();
    let code = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text,
    };
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn only_the_io_shells_touch_the_filesystem() {
    let mut offenders = vec![];
    let mut checked = 0;
    for e in std::fs::read_dir(crates_dir()).unwrap() {
        let dir = e.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if matches!(name.as_str(), "cli" | "run" | "tables") || !dir.join("src").is_dir() {
            continue;
        }
        checked += 1;
        let src = dir.join("src");
        for (_, p) in modules(&src) {
            let code = non_test_code(&p);
            for pat in [
                "std::fs",
                "fs::read",
                "File::open",
                "File::create",
                "read_dir",
                "OpenOptions",
            ] {
                if code.contains(pat) {
                    offenders.push(format!("{}: {pat}", p.display()));
                }
            }
        }
    }
    assert!(checked >= 6, "stage crates found: {checked}");
    assert!(
        offenders.is_empty(),
        "filesystem access outside cli, run and tables:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn only_the_binary_is_the_cli_crate() {
    let mut dependents = vec![];
    for e in std::fs::read_dir(crates_dir()).unwrap() {
        let dir = e.unwrap().path();
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        if dir.file_name().unwrap() != "cli" && manifest.contains("metapipe-cli") {
            dependents.push(dir.display().to_string());
        }
    }
    assert!(
        dependents.is_empty(),
        "crates depending on the CLI crate: {dependents:?}"
    );
    let cli = std::fs::read_to_string(crates_dir().join("cli/Cargo.toml")).unwrap();
    assert!(
        !cli.contains("[lib]") && !crates_dir().join("cli/src/lib.rs").exists(),
        "crates/cli is the binary only"
    );
    // clap and dispatch: a newcomer reads it in one sitting
    let lines: usize = modules(&crates_dir().join("cli/src"))
        .iter()
        .map(|(_, p)| std::fs::read_to_string(p).unwrap().lines().count())
        .sum();
    assert!(lines <= 600, "crates/cli/src has {lines} lines (at most 600: library code belongs in the library crates)");
}

#[test]
fn numeric_crate_has_no_polars() {
    let manifest = std::fs::read_to_string(crates_dir().join("meta/Cargo.toml")).unwrap();
    assert!(
        !manifest.contains("polars") && !manifest.contains("metapipe-tables"),
        "metapipe-meta depends on polars or the table layer"
    );
    for (_, p) in modules(&crates_dir().join("meta/src")) {
        assert!(
            !std::fs::read_to_string(&p).unwrap().contains("polars"),
            "{}",
            p.display()
        );
    }
}

/// The modules a file refers to through `crate::…` and `super::…` paths.
fn references(module: &str, code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let parent: Vec<&str> = if module == "lib" {
        vec![]
    } else {
        module.split("::").collect::<Vec<_>>()[..module.split("::").count() - 1].to_vec()
    };
    let resolve = |path: Vec<String>| -> String {
        // the longest prefix that is a module; otherwise the crate root (an item it re-exports)
        for n in (1..=path.len()).rev() {
            let cand = path[..n].join("::");
            if known.contains(&cand) {
                return cand;
            }
        }
        "lib".to_string()
    };
    for (prefix, base) in [
        ("crate::", vec![]),
        (
            "super::",
            parent.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        ),
    ] {
        let mut rest = code;
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().last();
            rest = &rest[i + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let ident: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut path = base.clone();
            path.extend(
                ident
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(String::from),
            );
            // `use super::{a, b}` / `use crate::{a, b}`: each name is its own path
            if ident.is_empty() || ident.ends_with("::") {
                if let Some(body) = rest
                    .strip_prefix(ident.as_str())
                    .and_then(|r| r.strip_prefix('{'))
                    .and_then(|r| r.split('}').next())
                {
                    for item in body.split(',') {
                        let mut p = path.clone();
                        p.extend(
                            item.trim()
                                .split(" as ")
                                .next()
                                .unwrap_or("")
                                .split("::")
                                .filter(|s| !s.is_empty())
                                .map(String::from),
                        );
                        out.insert(resolve(p));
                    }
                    continue;
                }
            }
            out.insert(resolve(path));
        }
    }
    out.remove(module);
    out
}

#[test]
fn no_module_import_circles() {
    let mut circles = vec![];
    for e in std::fs::read_dir(crates_dir()).unwrap() {
        let src = e.unwrap().path().join("src");
        if !src.is_dir() {
            continue;
        }
        let mods = modules(&src);
        let known: BTreeSet<String> = mods.iter().map(|(m, _)| m.clone()).collect();
        let graph: BTreeMap<String, BTreeSet<String>> = mods
            .iter()
            .map(|(m, p)| (m.clone(), references(m, &non_test_code(p), &known)))
            .collect();
        // a path from a module back to itself is a circle
        for start in graph.keys() {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<(String, Vec<String>)> = graph[start]
                .iter()
                .map(|n| (n.clone(), vec![start.clone(), n.clone()]))
                .collect();
            while let Some((node, path)) = stack.pop() {
                if &node == start {
                    circles.push(format!("{}: {}", src.display(), path.join(" -> ")));
                    break;
                }
                if !seen.insert(node.clone()) {
                    continue;
                }
                for n in graph.get(&node).into_iter().flatten() {
                    let mut p = path.clone();
                    p.push(n.clone());
                    stack.push((n.clone(), p));
                }
            }
        }
    }
    assert!(
        circles.is_empty(),
        "module import circles:\n{}",
        circles.join("\n")
    );
}

/// The checker itself: it sees a circle when there is one.
#[test]
fn circle_checker_finds_a_circle() {
    let known: BTreeSet<String> = ["lib", "a", "b"].iter().map(|s| s.to_string()).collect();
    let a = references("a", "use crate::b::f;\nfn x() { f() }", &known);
    let b = references("b", "use crate::{a::g, lib_item};", &known);
    assert!(
        a.contains("b") && b.contains("a") && b.contains("lib"),
        "{a:?} {b:?}"
    );
    let child = references(
        "parse::ris",
        "use super::record::Record;",
        &["parse", "parse::record", "parse::ris"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    );
    assert_eq!(
        child.into_iter().collect::<Vec<_>>(),
        vec!["parse::record".to_string()]
    );
}

/// Issue #23's bounds, at rustfmt's default width: no file in `crates/*/src` over 600 lines,
/// no function over 80 (`tools/size_report.py`, which names the offenders).
#[test]
fn files_and_functions_stay_small() {
    let root = crates_dir().join("..");
    let out = std::process::Command::new("python3")
        .arg(root.join("tools/size_report.py"))
        .output()
        .expect("python3 runs tools/size_report.py");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
