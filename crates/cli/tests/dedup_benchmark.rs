//! Dedup accuracy on the labelled benchmark sets (`tests/fixtures/dedup-benchmark`, copied from
//! `shared/dedup-benchmark`), scored record by record as `eval_dedup.py` (and the bib-dedupe
//! benchmark) counts. Fails if a false positive appears or sensitivity drops below the floor.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

fn bench() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/dedup-benchmark")
}

fn clusters(path: &std::path::Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|x| {
            x.unwrap()[0]
                .split(';')
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|c: &Vec<String>| c.len() > 1)
        .collect()
}

/// (TP, FP, FN, TN) as eval_dedup.py counts them.
fn score(
    ids: &[String],
    truth: &[Vec<String>],
    pred: &[Vec<String>],
) -> (usize, usize, usize, usize) {
    let mut removed = BTreeSet::new();
    for c in pred {
        let mut s = c.clone();
        s.sort();
        removed.extend(s.into_iter().skip(1));
    }
    let kept: BTreeSet<&String> = ids.iter().filter(|i| !removed.contains(*i)).collect();
    let in_true: BTreeSet<&String> = truth.iter().flatten().collect();
    let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
    for i in ids {
        if !in_true.contains(i) {
            if kept.contains(i) {
                tn += 1
            } else {
                fp += 1
            }
        }
    }
    for c in truth {
        let n_in = c.iter().filter(|i| kept.contains(i)).count();
        if n_in == 0 {
            fp += 1;
            tp += c.len() - 1;
        } else {
            tn += 1;
            fn_ += n_in - 1;
            tp += c.len() - n_in;
        }
    }
    (tp, fp, fn_, tn)
}

#[test]
fn zero_false_positives_and_sensitivity_floors() {
    // floors: bib-dedupe 0.11's sensitivity as measured on this kind of machine
    let floors: BTreeMap<&str, f64> = [
        ("stroke", 0.9936),
        ("haematology", 0.8889),
        ("cytology_screening", 0.9922),
        ("special_cases", 0.3333),
    ]
    .into_iter()
    .collect();
    let out = std::env::temp_dir().join(format!("mp-dedup-bench-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let mut report = vec![];
    for (set, floor) in &floors {
        let recs = bench().join(set).join("records_pre_merged.csv");
        let pred_path = out.join(format!("{set}.csv"));
        let o = Command::new(env!("CARGO_BIN_EXE_metapipe"))
            .args([
                "dedup",
                recs.to_str().unwrap(),
                "--out",
                pred_path.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{set}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let mut r = csv::Reader::from_path(&recs).unwrap();
        let k = r.headers().unwrap().iter().position(|h| h == "ID").unwrap();
        let ids: Vec<String> = r.records().map(|x| x.unwrap()[k].to_string()).collect();
        let truth = clusters(&bench().join(set).join("merged_record_ids.csv"));
        let pred = clusters(&pred_path);
        let (tp, fp, fn_, _tn) = score(&ids, &truth, &pred);
        let sens = tp as f64 / (tp + fn_) as f64;
        report.push(format!(
            "{set}: FP {fp}, sensitivity {sens:.4} (floor {floor})"
        ));
        assert_eq!(fp, 0, "{set}: false positives");
        assert!(sens >= *floor, "{set}: sensitivity {sens:.4} < {floor}");
    }
    eprintln!("{}", report.join("\n"));
    let _ = std::fs::remove_dir_all(&out);
}

/// The seeded synthetic generator at 10^4 records: no false positive, nearly every duplicate.
#[test]
fn synthetic_ten_thousand() {
    let out = std::env::temp_dir().join(format!("mp-dedup-synth-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let (recs, truth, pred) = (out.join("r.csv"), out.join("t.csv"), out.join("p.csv"));
    let bin = env!("CARGO_BIN_EXE_metapipe");
    let o = Command::new(bin)
        .args([
            "gen-records",
            "--n",
            "10000",
            "--seed",
            "42",
            "--out",
            recs.to_str().unwrap(),
            "--truth",
            truth.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new(bin)
        .args([
            "dedup",
            recs.to_str().unwrap(),
            "--out",
            pred.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut r = csv::Reader::from_path(&recs).unwrap();
    let ids: Vec<String> = r.records().map(|x| x.unwrap()[0].to_string()).collect();
    assert_eq!(ids.len(), 10000);
    let (tp, fp, fn_, _) = score(&ids, &clusters(&truth), &clusters(&pred));
    let sens = tp as f64 / (tp + fn_) as f64;
    eprintln!("synthetic 10^4: FP {fp}, sensitivity {sens:.4}");
    assert_eq!(fp, 0);
    assert!(sens >= 0.995, "sensitivity {sens}");
    // the hard classes of issue 13, each clustered exactly as the truth says
    let mut r = csv::Reader::from_path(&recs).unwrap();
    let class_of = |title: &str, kind: &str| -> &'static str {
        if title.contains("editor's comments") {
            "serial items (distinct)"
        } else if title.starts_with("Erratum") {
            "erratum after the article (distinct)"
        } else if kind == "inproceedings" {
            "conference and journal versions"
        } else if title.starts_with("Synthetische") {
            "translated title"
        } else if title.starts_with("Синтетическая") {
            "Cyrillic title, same DOI"
        } else if title.contains(": a ") {
            "title cut at the subtitle"
        } else {
            "plain"
        }
    };
    let class: std::collections::HashMap<String, &str> = r
        .records()
        .map(|x| x.unwrap())
        .map(|x| (x[0].to_string(), class_of(&x[1], &x[7])))
        .collect();
    let group = |cl: &[Vec<String>]| -> std::collections::HashMap<String, Vec<String>> {
        let mut m = std::collections::HashMap::new();
        for c in cl {
            let mut s = c.clone();
            s.sort();
            for id in c {
                m.insert(id.clone(), s.clone());
            }
        }
        m
    };
    let (t, p) = (group(&clusters(&truth)), group(&clusters(&pred)));
    let mut seen: std::collections::BTreeMap<&str, usize> = Default::default();
    for (id, c) in &class {
        if *c == "plain" {
            continue;
        }
        *seen.entry(c).or_default() += 1;
        assert_eq!(
            t.get(id),
            p.get(id),
            "{c}: {id} clustered against the truth"
        );
    }
    assert_eq!(seen.len(), 6, "every hard class generated: {seen:?}");
    let _ = std::fs::remove_dir_all(&out);
}
