//! Screening decisions from the tools teams screen in (issue 25): the IL-1 review's
//! title/abstract decisions written as a Rayyan export (hand-made here from Rayyan's documented
//! notes syntax: SYNTHETIC as a file, the decisions are the review's own), as Covidence's stage
//! exports (SYNTHETIC files, in the format public scripts that parse real exports read) and as
//! an ASReview LAB
//! export made by ASReview 3 itself (`tools/asreview_export.py` through ASReview's web API, in
//! the venv `make check-venv` makes), each run in place of the review's own log: the same
//! PRISMA counts; κ over the two reviewers' final votes (Rayyan) or none (one reviewer,
//! ASReview); an unmatched, a twice-matched or a conflicting decision is an error naming the
//! file and line, with no output.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The IL-1 config with absolute paths, its title/abstract log replaced when `ta` is given.
fn config(dir: &Path, name: &str, ta: Option<(&Path, &str)>) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("pipelines/il1-covid19.toml")).unwrap();
    let mut text = text.replace("\"../data/", &format!("\"{}/data/", repo().display()));
    if let Some((p, format)) = ta {
        let old = format!(
            "title_abstract = \"{}/data/il1-covid19/screening/title_abstract.csv\"",
            repo().display()
        );
        assert!(text.contains(&old));
        text = text.replace(
            &old,
            &format!(
                "title_abstract = \"{}\"\ntitle_abstract_format = \"{format}\"",
                p.display()
            ),
        );
    }
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

fn run(dir: &Path, cfg: &Path, out: &str) -> Output {
    metapipe(dir, &["run", cfg.to_str().unwrap(), "--out", out])
}

/// The review's search records by pipeline record id: (title, doi, abstract).
fn records(dir: &Path) -> BTreeMap<String, (String, String, String)> {
    let cfg = std::fs::read_to_string(repo().join("pipelines/il1-covid19.toml")).unwrap();
    let mut db_of_stem = vec![];
    let mut db = String::new();
    for l in cfg.lines() {
        if let Some(v) = l.strip_prefix("database = ") {
            db = v.trim_matches('"').to_string();
        }
        if let Some(v) = l.strip_prefix("file = ").filter(|_| !db.is_empty()) {
            let f = repo().join("pipelines").join(v.trim_matches('"'));
            db_of_stem.push((
                f.file_stem().unwrap().to_string_lossy().into_owned(),
                db.clone(),
                f,
            ));
            db.clear();
        }
    }
    let mut args = vec!["parse".to_string()];
    args.extend(
        db_of_stem
            .iter()
            .map(|(_, _, f)| f.to_string_lossy().into_owned()),
    );
    args.extend(["--out".into(), "recs.csv".into()]);
    let o = metapipe(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut out = BTreeMap::new();
    for r in csv_rows(&dir.join("recs.csv")) {
        let (stem, acc) = r["record_id"].split_once(':').unwrap();
        let db = &db_of_stem.iter().find(|(s, _, _)| s == stem).unwrap().1;
        out.insert(
            format!("{db}:{acc}"),
            (r["title"].clone(), r["doi"].clone(), r["abstract"].clone()),
        );
    }
    out
}

/// The review's own title/abstract log: (record id, final decision, reviewers disagreed).
fn native_log() -> Vec<(String, String, bool)> {
    csv_rows(&repo().join("data/il1-covid19/screening/title_abstract.csv"))
        .into_iter()
        .map(|r| {
            let conflict = r["reviewer_1"] != r["reviewer_2"];
            let fin = if conflict {
                r["adjudicated"].clone()
            } else {
                r["reviewer_1"].clone()
            };
            (r["record_id"].clone(), fin, conflict)
        })
        .collect()
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A Rayyan export of the decisions: both reviewers' final votes (a conflict resolved in Rayyan
/// leaves them equal), exclusion reasons and labels on some; `extra` rows appended.
fn rayyan(recs: &BTreeMap<String, (String, String, String)>, extra: &[String]) -> String {
    let mut t = String::from("key,title,authors,journal,year,doi,abstract,notes\n");
    for (k, (id, fin, _)) in native_log().iter().enumerate() {
        let (title, doi, abs) = &recs[id];
        let word = if fin == "include" {
            "Included"
        } else {
            "Excluded"
        };
        let mut notes =
            format!("RAYYAN-INCLUSION: {{\"Reviewer A\"=>\"{word}\", \"Reviewer B\"=>\"{word}\"}}");
        if fin == "exclude" && k % 3 == 0 {
            notes.push_str(" | RAYYAN-EXCLUSION-REASONS: wrong population,wrong design");
        }
        if k % 7 == 0 {
            notes.push_str(" | RAYYAN-LABELS: covid,il-1");
        }
        t.push_str(&format!(
            "{},{},,,,{},{},{}\n",
            1000 + k,
            quote(title),
            quote(doi),
            quote(abs),
            quote(&notes)
        ));
    }
    for e in extra {
        t.push_str(e);
    }
    t
}

/// The same decisions as Rayyan's RIS export (the notes in `N1`, one line per part).
fn rayyan_ris(recs: &BTreeMap<String, (String, String, String)>) -> String {
    let mut t = String::new();
    for (k, (id, fin, _)) in native_log().iter().enumerate() {
        let (title, doi, abs) = &recs[id];
        let word = if fin == "include" {
            "Included"
        } else {
            "Excluded"
        };
        t.push_str(&format!("TY  - JOUR\nTI  - {title}\nAB  - {abs}\n"));
        if !doi.is_empty() {
            t.push_str(&format!("DO  - {doi}\n"));
        }
        t.push_str(&format!(
            "N1  - RAYYAN-INCLUSION: {{\"Reviewer A\"=>\"{word}\", \"Reviewer B\"=>\"{word}\"}}\n"
        ));
        if k % 7 == 0 {
            t.push_str("N1  - RAYYAN-LABELS: covid,il-1\n");
        }
        t.push_str("ER  - \n\n");
    }
    t
}

/// The title/abstract rows' `reason` cells of a run's screening table.
fn screening_reasons(p: &Path) -> Vec<String> {
    use polars::prelude::*;
    let df = ParquetReader::new(std::fs::File::open(p).unwrap())
        .finish()
        .unwrap();
    let stage = df.column("stage").unwrap().str().unwrap().clone();
    let reason = df.column("reason").unwrap().str().unwrap().clone();
    (0..df.height())
        .filter(|&k| stage.get(k) == Some("title_abstract"))
        .filter_map(|k| reason.get(k).map(String::from))
        .collect()
}

/// The PRISMA counts and the title/abstract agreement row of a run.
fn outcome(out: &Path) -> (String, BTreeMap<String, String>) {
    let prisma = std::fs::read_to_string(out.join("prisma.csv")).unwrap();
    let agree = csv_rows(&out.join("screening_agreement.csv"))
        .into_iter()
        .find(|r| r["stage"] == "title_abstract")
        .unwrap();
    (prisma, agree)
}

#[test]
fn rayyan_decisions_give_the_reviews_prisma_counts() {
    let d = tmpdir("mp-tools", "rayyan");
    let native = config(&d, "native", None);
    assert!(run(&d, &native, "a").status.success());
    let (prisma, agree) = outcome(&d.join("a/il1-covid19"));
    assert_eq!(agree["records"], "276");
    let recs = records(&d);
    let p = d.join("rayyan.csv");
    std::fs::write(&p, rayyan(&recs, &[])).unwrap();
    let cfg = config(&d, "rayyan", Some((&p, "rayyan")));
    let o = run(&d, &cfg, "b");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (prisma_r, agree_r) = outcome(&d.join("b/il1-covid19"));
    assert_eq!(prisma, prisma_r, "PRISMA from Rayyan's decisions");
    // κ over the final votes: conflicts resolved in Rayyan leave the reviewers agreeing
    assert_eq!(
        (
            agree_r["records"].as_str(),
            agree_r["agreed"].as_str(),
            agree_r["conflicts"].as_str()
        ),
        ("276", "276", "0")
    );
    assert_eq!(agree_r["kappa"].parse::<f64>().unwrap(), 1.0);
    // Rayyan's exclusion reasons and labels are kept in the screening table
    let reasons = screening_reasons(&d.join("b/il1-covid19/screening.parquet"));
    let expect_reason = native_log()
        .iter()
        .enumerate()
        .filter(|(k, x)| x.1 == "exclude" && k % 3 == 0)
        .count();
    assert_eq!(
        reasons
            .iter()
            .filter(|r| r.starts_with("wrong population, wrong design"))
            .count(),
        expect_reason
    );
    assert_eq!(
        reasons
            .iter()
            .filter(|r| r.contains("labels: covid, il-1"))
            .count(),
        native_log().len().div_ceil(7)
    );
    let conflicts = native_log().iter().filter(|x| x.2).count();
    assert!(conflicts > 0 && agree["conflicts"] == conflicts.to_string());
    // a "Maybe" leaves a record awaiting a decision: one fewer screened
    let mut text = rayyan(&recs, &[]);
    let first = text.lines().nth(1).unwrap().to_string();
    let maybe = first.replace(
        "\"\"Reviewer B\"\"=>\"\"Excluded\"\"",
        "\"\"Reviewer B\"\"=>\"\"Maybe\"\"",
    );
    assert_ne!(first, maybe);
    text = text.replace(&first, &maybe);
    std::fs::write(&p, &text).unwrap();
    assert!(run(&d, &cfg, "c").status.success());
    let (prisma_m, _) = outcome(&d.join("c/il1-covid19"));
    assert!(prisma_m.contains("records_screened,275\n"), "{prisma_m}");
    // Rayyan's RIS export of the same decisions
    let ris = d.join("rayyan.ris");
    std::fs::write(&ris, rayyan_ris(&recs)).unwrap();
    let cfg = config(&d, "rayyan_ris", Some((&ris, "rayyan")));
    let o = run(&d, &cfg, "r");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        prisma,
        outcome(&d.join("r/il1-covid19")).0,
        "PRISMA from Rayyan's RIS"
    );
    // an unclosed record is named at its TY line
    let text = rayyan_ris(&recs);
    let cut = text.trim_end().rfind("ER  -").unwrap();
    std::fs::write(&ris, &text[..cut]).unwrap();
    let o = run(&d, &cfg, "r2");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success()
            && err.contains("rayyan.ris:")
            && err.contains("ER: the record is not closed"),
        "{err}"
    );
    assert!(!d.join("r2/il1-covid19").exists());
}

#[test]
fn tool_decisions_that_cannot_be_placed_are_errors() {
    let d = tmpdir("mp-tools", "bad");
    let recs = records(&d);
    let p = d.join("rayyan.csv");
    let cfg = config(&d, "bad", Some((&p, "rayyan")));
    let n = native_log().len();
    let first = rayyan(&recs, &[]).lines().nth(1).unwrap().to_string();
    let cases = [
        (
            rayyan(&recs, &["9999,\"A title no search found\",,,,,,\"RAYYAN-INCLUSION: {\"\"Reviewer A\"\"=>\"\"Excluded\"\"}\"\n".into()]),
            format!("rayyan.csv:{}: title: no search record has its DOI, PMID or title", n + 2),
        ),
        (rayyan(&recs, &[format!("{first}\n")]), format!("rayyan.csv:{}: title: the same record as line 2", n + 2)),
        (
            rayyan(&recs, &[]).replacen("\"\"Reviewer B\"\"=>\"\"Excluded\"\"", "\"\"Reviewer B\"\"=>\"\"Included\"\"", 1),
            "notes: reviewers disagree (Reviewer A: Exclude, Reviewer B: Include)".into(),
        ),
    ];
    for (i, (text, says)) in cases.iter().enumerate() {
        std::fs::write(&p, text).unwrap();
        let o = run(&d, &cfg, &format!("o{i}"));
        fails(&o, &[says], &d.join(format!("o{i}/il1-covid19")));
    }
}

#[test]
fn an_asreview_export_made_by_asreview_gives_the_reviews_prisma_counts() {
    let d = tmpdir("mp-tools", "asreview");
    let native = config(&d, "native", None);
    assert!(run(&d, &native, "a").status.success());
    let (prisma, _) = outcome(&d.join("a/il1-covid19"));
    let recs = records(&d);
    // the deduplicated records the team screened, and their decisions
    let mut input = String::from("title,abstract,doi\n");
    let mut labels = String::from("row,label\n");
    for (k, (id, fin, _)) in native_log().iter().enumerate() {
        let (title, doi, abs) = &recs[id];
        input.push_str(&format!("{},{},{}\n", quote(title), quote(abs), quote(doi)));
        labels.push_str(&format!("{k},{}\n", u8::from(fin == "include")));
    }
    std::fs::write(d.join("records.csv"), input).unwrap();
    std::fs::write(d.join("labels.csv"), labels).unwrap();
    let export = d.join("asreview_export.csv");
    // ASReview writes a cache into its working directory: the test's own
    let o = Command::new(check_python("METAPIPE_ASREVIEW_PYTHON", "ASReview"))
        .current_dir(&d)
        .args([
            repo().join("tools/asreview_export.py"),
            d.join("records.csv"),
            d.join("labels.csv"),
            export.clone(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let head = std::fs::read_to_string(&export).unwrap();
    assert!(
        head.lines().next().unwrap().contains("asreview_label"),
        "{head}"
    );
    let cfg = config(&d, "asr", Some((&export, "asreview")));
    let o = run(&d, &cfg, "b");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (prisma_a, agree) = outcome(&d.join("b/il1-covid19"));
    assert_eq!(prisma, prisma_a, "PRISMA from ASReview's labels");
    // one reviewer: no agreement to measure
    assert_eq!(
        (agree["records"].as_str(), agree["kappa"].as_str()),
        ("276", "")
    );
    assert!(
        agree["note"].contains("276 records screened by one reviewer"),
        "{agree:?}"
    );
}

/// Covidence's stage exports of the decisions (SYNTHETIC files, written here in the format
/// public scripts that parse real Covidence exports read: the reference-export columns, the
/// stage in the file name, `Exclusion reason: …` in the excluded export's Notes): the
/// title/abstract exclusions in `irrelevant`; the inclusions by the review's full-text log in
/// `included` (its study in `Study`) or `excluded` (its reason), or `select` when not assessed;
/// and an empty `screen` export (nothing awaits).
fn covidence(dir: &Path, recs: &BTreeMap<String, (String, String, String)>) {
    std::fs::create_dir_all(dir).unwrap();
    let head = "Title,Authors,Abstract,Published Year,Published Month,Journal,Volume,Issue,Pages,Accession Number,DOI,Ref,Covidence #,Study,Notes,Tags\n";
    let mut files: BTreeMap<&str, String> =
        ["irrelevant", "select", "included", "excluded", "screen"]
            .into_iter()
            .map(|s| (s, head.to_string()))
            .collect();
    let ft: BTreeMap<String, (String, String, String)> =
        csv_rows(&repo().join("data/il1-covid19/screening/full_text.csv"))
            .into_iter()
            .map(|r| {
                let v = (
                    r["decision"].clone(),
                    r["reason"].clone(),
                    r["study_id"].clone(),
                );
                (r["record_id"].clone(), v)
            })
            .collect();
    for (k, (id, fin, _)) in native_log().iter().enumerate() {
        let (title, doi, abs) = &recs[id];
        let (stage, study, notes) = match (fin.as_str(), ft.get(id)) {
            ("exclude", _) => ("irrelevant", String::new(), String::new()),
            (_, Some((d, _, study))) if d == "include" => {
                ("included", study.clone(), String::new())
            }
            (_, Some((_, reason, _))) => (
                "excluded",
                String::new(),
                format!("Exclusion reason: {reason}; "),
            ),
            (_, None) => ("select", String::new(), String::new()),
        };
        // a PubMed record's accession number is its PMID (left out where another database's
        // record, not a duplicate in this review's data, has the same number)
        let acc = id
            .strip_prefix("pubmed:")
            .filter(|a| {
                recs.keys()
                    .filter(|k| k.ends_with(&format!(":{a}")))
                    .count()
                    == 1
            })
            .unwrap_or("");
        files.get_mut(stage).unwrap().push_str(&format!(
            "{},,{},2021,,,,,,{acc},{},,#{},{},{},\n",
            quote(title),
            quote(abs),
            quote(doi),
            100 + k,
            quote(&study),
            quote(&notes)
        ));
    }
    for (stage, text) in files {
        std::fs::write(
            dir.join(format!("review_4242_{stage}_csv_20220925.csv")),
            text,
        )
        .unwrap();
    }
}

#[test]
fn covidence_exports_give_the_reviews_prisma_counts() {
    let d = tmpdir("mp-tools", "covidence");
    let native = config(&d, "native", None);
    assert!(run(&d, &native, "a").status.success());
    let (prisma, _) = outcome(&d.join("a/il1-covid19"));
    let recs = records(&d);
    let exports = d.join("covidence");
    covidence(&exports, &recs);
    let cfg = config(&d, "covidence", Some((&exports, "covidence")));
    let o = run(&d, &cfg, "b");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (prisma_c, agree) = outcome(&d.join("b/il1-covid19"));
    assert_eq!(prisma, prisma_c, "PRISMA from Covidence's stages");
    // the stages are the team's consensus: one vote a record, no κ
    assert_eq!(
        (agree["records"].as_str(), agree["kappa"].as_str()),
        ("276", "")
    );
    let reasons = screening_reasons(&d.join("b/il1-covid19/screening.parquet"));
    assert_eq!(
        reasons
            .iter()
            .filter(|r| r.contains("excluded at full text: "))
            .count(),
        4
    );
    // the full-text decisions from the same exports: the same PRISMA counts and results
    let text = std::fs::read_to_string(&cfg).unwrap();
    let old = format!(
        "full_text = \"{}/data/il1-covid19/screening/full_text.csv\"",
        repo().display()
    );
    assert!(text.contains(&old));
    let both = d.join("covidence_ft.toml");
    let new = format!(
        "full_text = \"{}\"\nfull_text_format = \"covidence\"",
        exports.display()
    );
    std::fs::write(&both, text.replace(&old, &new)).unwrap();
    let o = run(&d, &both, "ft");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(prisma, outcome(&d.join("ft/il1-covid19")).0);
    let results = |o: &str| std::fs::read(d.join(o).join("il1-covid19/results.csv")).unwrap();
    assert_eq!(results("a"), results("ft"));
    // a full-text exclusion without its reason, an inclusion without its study
    let excluded = exports.join("review_4242_excluded_csv_20220925.csv");
    let included = exports.join("review_4242_included_csv_20220925.csv");
    for (file, from, to, says) in [
        (
            &excluded,
            "Exclusion reason: ",
            "",
            "excluded_csv_20220925.csv:2: Notes: an exclusion needs a reason",
        ),
        (
            &included,
            ",#",
            ",#",
            "included_csv_20220925.csv:2: Study: an included report needs its study",
        ),
    ] {
        let good = std::fs::read_to_string(file).unwrap();
        let mut lines: Vec<String> = good.lines().map(String::from).collect();
        if from == to {
            // empty the first row's Study cell (the field after Covidence #)
            let row = &lines[1];
            let at = row.find(",#").unwrap();
            let study_start = at + row[at + 1..].find(',').unwrap() + 2;
            let study_end = study_start + row[study_start..].find(",\"").unwrap();
            lines[1] = format!("{}{}", &row[..study_start], &row[study_end..]);
        } else {
            lines[1] = lines[1].replacen(from, to, 1).replace("\"; \"", "\"\"");
        }
        std::fs::write(file, lines.join("\n") + "\n").unwrap();
        let o = run(&d, &both, "bad_ft");
        fails(&o, &[says], &d.join("bad_ft/il1-covid19"));
        std::fs::write(file, good).unwrap();
    }
    // a record in two stages' exports, named at both; a file that names no stage
    let text = std::fs::read_to_string(&included).unwrap();
    let row = text.lines().nth(1).unwrap().to_string();
    let irrelevant = exports.join("review_4242_irrelevant_csv_20220925.csv");
    let mut irr = std::fs::read_to_string(&irrelevant).unwrap();
    let n_irr = irr.lines().count();
    irr.push_str(&format!("{row}\n"));
    std::fs::write(&irrelevant, &irr).unwrap();
    let o = run(&d, &cfg, "c");
    // the stages' files are read in name order: `included` before `irrelevant`
    let says = format!(
        "review_4242_irrelevant_csv_20220925.csv:{}: title: the same record as {}:2",
        n_irr + 1,
        included.display()
    );
    fails(&o, &[&says], &d.join("c/il1-covid19"));
    std::fs::write(&irrelevant, irr.replace(&format!("{row}\n"), "")).unwrap();
    std::fs::write(exports.join("references.csv"), "Title,Covidence #\n").unwrap();
    let o = run(&d, &cfg, "e");
    let says = ["references.csv", "must name one Covidence stage"];
    fails(&o, &says, &d.join("e/il1-covid19"));
    // the Covidence format wants the directory of exports
    let file_cfg = config(&d, "cov_file", Some((&included, "covidence")));
    let o = run(&d, &file_cfg, "f");
    fails(&o, &["directory not found"], &d.join("f/il1-covid19"));
}
