//! The Word report (`report/review.docx`), read by an independent reader (python-docx, from
//! `make check-venv`; `tools/read_docx.py`): its Summary of findings and results tables hold the
//! numbers of `sof.csv` and `results.csv` as printed, every figure is in it, and a rerun writes
//! the same bytes.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

type Row = BTreeMap<String, String>;

/// What python-docx reads in a document.
fn read_docx(p: &Path) -> Value {
    let o = std::process::Command::new(check_python("METAPIPE_DOCX_PYTHON", "python-docx"))
        .arg(repo().join("tools/read_docx.py"))
        .arg(p)
        .output()
        .unwrap();
    ok(&o);
    serde_json::from_slice(&o.stdout).unwrap()
}

fn run(name: &str, out: &str) -> PathBuf {
    let dir = tmpdir("metapipe-word", &format!("{name}-{out}"));
    let cfg = repo().join(format!("pipelines/{name}.toml"));
    ok(&metapipe(
        &dir,
        &["run", cfg.to_str().unwrap(), "--out", "out"],
    ));
    dir.join("out").join(name)
}

/// The table whose header row starts with the cells `head`.
fn table(doc: &Value, head: &[&str]) -> Vec<Vec<String>> {
    let t = doc["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| head.iter().enumerate().all(|(i, h)| t[0][i] == *h))
        .unwrap_or_else(|| panic!("no table headed {head:?}"));
    t.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

/// A printed number agrees with the full-precision one: within half a unit of its last digit.
fn printed(text: &str, full: &str, what: &str) {
    let v: f64 = full.parse().unwrap_or_else(|_| panic!("{what}: {full:?}"));
    let t = text.trim().replace(',', "");
    if let Some(bound) = t.strip_prefix("< ") {
        assert!(
            v < bound.parse::<f64>().unwrap(),
            "{what}: {v} printed {text}"
        );
        return;
    }
    let p: f64 = t.parse().unwrap_or_else(|_| panic!("{what}: {text:?}"));
    let decimals = t.split('.').nth(1).map_or(0, str::len) as i32;
    let half = 0.5 * 10f64.powi(-decimals) * (1.0 + 1e-9);
    assert!((p - v).abs() <= half, "{what}: printed {text}, full {v}");
}

/// The numbers in a cell, in order ("16 per 1,000 (5 to 11)" → 16, 1000, 5, 11).
fn numbers(cell: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    for ch in cell.chars().chain([' ']) {
        if ch.is_ascii_digit()
            || ch == '.'
            || (ch == '-' && cur.is_empty())
            || (ch == ',' && !cur.is_empty())
        {
            cur.push(ch);
        } else {
            let n = cur.trim_end_matches(['.', ',']).replace(',', "");
            if n.chars().any(|c| c.is_ascii_digit()) {
                out.push(n);
            }
            cur.clear();
        }
    }
    out
}

#[test]
fn the_word_report_holds_the_summary_of_findings_and_results_as_computed() {
    let out = run("bcg-tb", "a");
    let doc = read_docx(&out.join("report/review.docx"));
    assert_eq!(doc["landscape"], true);
    let heads: Vec<String> = doc["headings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h[1].as_str().unwrap().to_string())
        .collect();
    for h in [
        "Characteristics of included studies",
        "Summary of findings",
        "Results",
        "Forest plots",
        "Funnel plots",
    ] {
        assert!(heads.contains(&h.to_string()), "{h} in {heads:?}");
    }
    // every figure of the HTML report's forest and funnel plots is a picture in the document
    let svgs = std::fs::read_dir(out.join("report"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "svg")
        })
        .count();
    assert_eq!(doc["pictures"].as_u64().unwrap() as usize, svgs);
    // the Summary of findings: one row per sof.csv row, its numbers as sof.csv has them
    let sof: Vec<Row> = csv_rows(&out.join("sof.csv"));
    let t = table(&doc, &["Outcome", "Risk without (assumed)"]);
    assert_eq!(t.len() - 1, sof.len());
    for (cells, row) in t[1..].iter().zip(&sof) {
        assert_eq!(cells[0], row["label"]);
        let without = numbers(&cells[1]);
        printed(&without[0], &row["assumed_per_1000"], "assumed risk");
        let with = numbers(&cells[2]);
        for (i, c) in [
            "corresponding_per_1000",
            "corresponding_ci_lb",
            "corresponding_ci_ub",
        ]
        .iter()
        .enumerate()
        {
            // "8 per 1,000 (5 to 11)": the figures before and after "per 1,000"
            let at = if i == 0 { 0 } else { i + 1 };
            printed(&with[at], &row[*c], c);
        }
        let rel = numbers(&cells[3]);
        for (i, c) in ["relative", "relative_ci_lb", "relative_ci_ub"]
            .iter()
            .enumerate()
        {
            printed(&rel[i], &row[*c], c);
        }
        assert_eq!(numbers(&cells[4])[0], row["participants"]);
        assert_eq!(numbers(&cells[4])[1], row["studies"]);
        let certainty = if row["certainty"].is_empty() {
            "not judged".to_string()
        } else {
            row["certainty"].clone()
        };
        assert!(cells[5].to_lowercase().ends_with(&certainty), "{cells:?}");
        assert!(cells[6]
            .to_lowercase()
            .ends_with(&row["suggested_certainty"]));
    }
    // the results table: every row of results.csv, its figures as printed
    let res: Vec<Row> = csv_rows(&out.join("results.csv"));
    let t = table(&doc, &["Outcome", "Subgroup"]);
    assert_eq!(t.len() - 1, res.len());
    for (cells, row) in t[1..].iter().zip(&res) {
        assert_eq!(cells[0], row["outcome"]);
        assert_eq!(cells[2], row["k"]);
        for (i, c) in [
            (5, "estimate"),
            (6, "ci_lb"),
            (7, "ci_ub"),
            (8, "p"),
            (9, "I2"),
            (10, "tau2"),
        ] {
            if row[c].is_empty() {
                assert_eq!(cells[i], "", "{c}");
            } else {
                printed(&cells[i], &row[c], c);
            }
        }
    }
    // a rerun into another directory writes the same document
    let again = run("bcg-tb", "b");
    assert!(
        std::fs::read(out.join("report/review.docx")).unwrap()
            == std::fs::read(again.join("report/review.docx")).unwrap(),
        "review.docx differs between two runs"
    );
}

#[test]
fn a_review_with_risk_of_bias_and_prisma_has_their_tables() {
    let out = run("il1-covid19", "a");
    let doc = read_docx(&out.join("report/review.docx"));
    let prisma = table(&doc, &["Stage"]);
    let flow = csv_rows(&out.join("prisma.csv"));
    assert_eq!(prisma.len() - 1, flow.len());
    for (cells, row) in prisma[1..].iter().zip(&flow) {
        assert_eq!(cells[0], row["stage"].replace('_', " "));
        assert_eq!(cells[1], row["count"]);
    }
    let rob = table(&doc, &["Study", "Result"]);
    let overall: Vec<Row> = csv_rows(&out.join("rob_judgments.csv"))
        .into_iter()
        .filter(|r| r["domain"] == "overall")
        .collect();
    assert_eq!(rob.len() - 1, overall.len());
    for (cells, row) in rob[1..].iter().zip(&overall) {
        assert_eq!(cells[7], row["judgment"]);
    }
}
