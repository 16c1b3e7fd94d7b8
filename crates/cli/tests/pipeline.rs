//! End-to-end tests of `metapipe run` on the IL-1 review (issue 2) and its failure modes.

mod common;
use common::{csv_rows, fails, repo};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tmpdir(tag: &str) -> PathBuf {
    common::tmpdir("mp-it", tag)
}

fn metapipe(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_metapipe"));
    c.current_dir(repo()).args(args);
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn run_into(out: &Path, config: &Path) -> Output {
    metapipe(
        &[
            "run",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    )
}

/// Every file below `dir` (relative path → bytes).
fn all_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(base, &e.path(), out);
            } else {
                out.insert(
                    e.path()
                        .strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .to_string(),
                    std::fs::read(e.path()).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

fn il1() -> PathBuf {
    repo().join("pipelines/il1-covid19.toml")
}

/// Published "0.83 (0.57-1.22) I2 18%".
fn parse_or(v: &str) -> (f64, f64, f64, f64) {
    let (or, rest) = v.split_once('(').unwrap();
    let (ci, rest) = rest.split_once(')').unwrap();
    let (lb, ub) = ci.split_once('-').unwrap();
    let i2 = rest
        .trim()
        .trim_start_matches("I2")
        .trim()
        .trim_end_matches('%');
    (
        or.trim().parse().unwrap(),
        lb.parse().unwrap(),
        ub.parse().unwrap(),
        i2.trim().parse().unwrap(),
    )
}

/// Compare every pooled (complete) results row with the published figure. Returns how many rows
/// were compared.
fn check_against_published(results: &Path, published: &Path) -> usize {
    let pubs = csv_rows(published);
    let mut compared = 0;
    for r in csv_rows(results) {
        let sg = &r["subgroup"];
        let key = if sg.is_empty() {
            format!("{} OR", r["outcome"])
        } else if sg == "hyperinflammation" {
            format!("{} {sg} subgroup OR", r["outcome"])
        } else {
            format!("{} {sg} OR", r["outcome"])
        };
        if r["estimate"].is_empty() {
            // never pooled from a silent subset: the row says why
            assert!(!r["note"].is_empty(), "{key}: no estimate and no note");
            continue;
        }
        let p = pubs
            .iter()
            .find(|p| p["item"] == key)
            .unwrap_or_else(|| panic!("no published figure for {key}"));
        let (or, lb, ub, i2) = parse_or(&p["value"]);
        let f = |k: &str| r[k].parse::<f64>().unwrap();
        assert!(
            (f("estimate") - or).abs() <= 0.005,
            "{key}: OR {} vs published {or}",
            f("estimate")
        );
        assert!(
            (f("ci_lb") - lb).abs() <= 0.005,
            "{key}: lb {} vs {lb}",
            f("ci_lb")
        );
        assert!(
            (f("ci_ub") - ub).abs() <= 0.005,
            "{key}: ub {} vs {ub}",
            f("ci_ub")
        );
        assert!((f("I2") - i2).abs() <= 0.5, "{key}: I2 {} vs {i2}", f("I2"));
        compared += 1;
    }
    compared
}

#[test]
fn il1_pipeline_end_to_end() {
    let out = tmpdir("e2e");
    let o = run_into(&out, &il1());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty(), "run prints nothing on stdout");
    let dir = out.join("il1-covid19");

    // PRISMA: 416 → 140 duplicates → 276 screened → 265 excluded → 11 → 4 → 7
    let prisma: Vec<(String, String)> = csv_rows(&dir.join("prisma.csv"))
        .into_iter()
        .map(|r| (r["stage"].clone(), r["count"].clone()))
        .collect();
    let expected = [
        ("records_identified", "416"),
        ("duplicates_removed", "140"),
        ("records_screened", "276"),
        ("excluded_title_abstract", "265"),
        ("reports_sought", "11"),
        ("reports_not_retrieved", "0"),
        ("full_text_assessed", "11"),
        ("excluded_full_text", "4"),
        ("studies_included", "7"),
    ];
    assert_eq!(
        prisma,
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    );

    // reviewer agreement: Cohen's kappa at title/abstract, from the two reviewers' columns
    let ag = csv_rows(&dir.join("screening_agreement.csv"));
    let ta = ag.iter().find(|r| r["stage"] == "title_abstract").unwrap();
    assert_eq!(ta["records"], "276");
    let (n, conflicts): (i64, i64) = (276, ta["conflicts"].parse().unwrap());
    assert!(conflicts > 0 && ta["agreed"].parse::<i64>().unwrap() + conflicts == n);
    let kappa: f64 = ta["kappa"].parse().unwrap();
    assert!(kappa > 0.0 && kappa < 1.0, "{kappa}");

    // results: one row per outcome (and mortality subgroups), the columns first
    let results = csv_rows(&dir.join("results.csv"));
    let header: Vec<String> = csv::Reader::from_path(dir.join("results.csv"))
        .unwrap()
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect();
    let want = "outcome,subgroup,k,events_treat,n_treat,events_ctrl,n_ctrl,model,estimate,ci_lb,ci_ub,p,Q,Q_df,Q_p,I2,tau2,note";
    assert!(header.join(",").starts_with(want), "{header:?}");
    let outcomes: Vec<&str> = results
        .iter()
        .filter(|r| r["subgroup"].is_empty())
        .map(|r| r["outcome"].as_str())
        .collect();
    assert_eq!(
        outcomes,
        [
            "mortality",
            "mechanical_ventilation",
            "niv_hfnc",
            "survival_to_discharge",
            "clinical_recovery",
            "adverse_events",
            "serious_adverse_events",
            "clots",
            "thromboembolism",
            "acute_kidney_injury",
            "infection"
        ]
    );
    let subgroups: Vec<&str> = results
        .iter()
        .filter(|r| r["outcome"] == "mortality" && !r["subgroup"].is_empty())
        .map(|r| r["subgroup"].as_str())
        .collect();
    assert_eq!(subgroups, ["anakinra", "canakinumab", "hyperinflammation"]);

    // incomplete outcomes name the studies that lack data
    let mort = results
        .iter()
        .find(|r| r["outcome"] == "mortality" && r["subgroup"].is_empty())
        .unwrap();
    assert!(mort["estimate"].is_empty());
    for s in ["corimuno_ana1", "cov_aid", "kharazmi", "can_covid"] {
        assert!(
            mort["note"].contains(s),
            "mortality note names {s}: {}",
            mort["note"]
        );
    }

    // complete outcomes match the published figures (none is complete yet; this starts checking
    // the moment data is added)
    let _ = check_against_published(
        &dir.join("results.csv"),
        &repo().join("data/il1-covid19/published.csv"),
    );

    // outcome_data: the columns, events <= n in every row
    let od = csv_rows(&dir.join("outcome_data.csv"));
    assert!(!od.is_empty());
    for r in &od {
        for (e, n) in [("events_treat", "n_treat"), ("events_ctrl", "n_ctrl")] {
            if !r[e].is_empty() {
                assert!(r[e].parse::<i64>().unwrap() <= r[n].parse::<i64>().unwrap());
            }
        }
        assert!(["reported", "derived", "missing"].contains(&r["status"].as_str()));
    }
    // COV-AID comes from its arms: 112 vs 230
    let cov = od
        .iter()
        .find(|r| r["study_id"] == "cov_aid" && r["outcome"] == "mortality")
        .unwrap();
    assert_eq!(
        (cov["n_treat"].as_str(), cov["n_ctrl"].as_str()),
        ("112", "230")
    );

    // the audit carries the seed's own inconsistencies
    let audit = csv_rows(&dir.join("audit.csv"));
    let status = |item: &str| {
        audit
            .iter()
            .find(|r| r["item"] == item)
            .map(|r| r["status"].clone())
            .unwrap_or_else(|| panic!("audit row {item}"))
    };
    assert_eq!(status("patients_control"), "mismatch");
    assert_eq!(status("mortality_rcts_key_messages"), "mismatch");
    assert_eq!(status("mortality_anakinra_rcts_text"), "mismatch");
    assert_eq!(status("clinical_recovery OR: CI log-symmetry"), "mismatch");
    assert_eq!(status("mortality OR: CI log-symmetry"), "match");
    assert_eq!(status("cov_aid_il1_vs_no_il1"), "match");
    assert_eq!(status("cov_aid_il6_vs_no_il6"), "match");
    assert_eq!(status("records_identified"), "match");

    // consistency of the published mortality results with the sourced data (searched, RevMan rules)
    let cons = csv_rows(&dir.join("consistency.csv"));
    assert_eq!(
        cons.len(),
        8,
        "overall, five four-of-five readings of the anakinra set, the five cited, canakinumab"
    );
    // "four RCTs" citing five: each reading its own row; dropping a study without sourced deaths
    // leaves too few free cells to reproduce the printed figures
    let readings: Vec<(&str, &str)> = cons
        .iter()
        .filter(|r| r["note"].contains("reading "))
        .map(|r| {
            (
                r["note"].split("without ").last().unwrap(),
                r["status"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        readings,
        [
            ("anaconda", "consistent"),
            ("save_more", "consistent"),
            ("kharazmi", "inconsistent"),
            ("cov_aid", "inconsistent"),
            ("corimuno_ana1", "inconsistent")
        ]
    );
    let can = cons
        .iter()
        .find(|r| r["subgroup"] == "canakinumab")
        .unwrap();
    assert_eq!(
        (can["status"].as_str(), can["missing_cells"].as_str()),
        ("consistent", "2")
    );
    assert!(
        !can["note"].contains("at least"),
        "the canakinumab search is exhaustive: {}",
        can["note"]
    );
    for r in &cons {
        assert!(["consistent", "inconsistent", "not checked"].contains(&r["status"].as_str()));
        assert!(r["note"].contains("Study set:"), "{}", r["note"]);
    }
    assert!(audit
        .iter()
        .any(|a| a["item"]
            .starts_with("mortality canakinumab OR: consistent with the sourced data?")));
    assert!(std::fs::read_to_string(dir.join("report/index.html"))
        .unwrap()
        .contains("consistent with the sourced data"));

    // RoB 2: the review's flagged domains, derived by the algorithm
    let rob = csv_rows(&dir.join("rob_judgments.csv"));
    let j = |s: &str, d: &str| {
        rob.iter()
            .find(|r| r["study_id"] == s && r["domain"] == d)
            .unwrap()["judgment"]
            .clone()
    };
    for s in ["corimuno_ana1", "cov_aid", "kharazmi"] {
        assert_eq!(j(s, "D2"), "some concerns", "{s}");
    }
    for s in ["kharazmi", "three_c"] {
        assert_eq!(j(s, "D1"), "some concerns", "{s}");
    }
    assert_eq!(j("save_more", "overall"), "low");
    assert_eq!(j("can_covid", "overall"), "low");
    assert_eq!(j("anaconda", "overall"), "low");

    // dedup found exactly the true duplicate clusters of the (partly synthetic) exports
    let truth: std::collections::BTreeSet<Vec<String>> =
        csv_rows(&repo().join("data/il1-covid19/search/TRUE_CLUSTERS.csv"))
            .into_iter()
            .map(|r| {
                let mut v: Vec<String> = r["merged_ids"].split(';').map(String::from).collect();
                v.sort();
                v
            })
            .filter(|v| v.len() > 1)
            .collect();
    let ours: std::collections::BTreeSet<Vec<String>> = csv_rows(&dir.join("clusters.csv"))
        .into_iter()
        .map(|r| r["merged_ids"].split(';').map(String::from).collect())
        .collect();
    assert_eq!(ours, truth);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn rerun_is_byte_identical() {
    let (a, b) = (tmpdir("det-a"), tmpdir("det-b"));
    assert!(run_into(&a, &il1()).status.success());
    assert!(run_into(&b, &il1()).status.success());
    let (fa, fb) = (
        all_files(&a.join("il1-covid19")),
        all_files(&b.join("il1-covid19")),
    );
    assert!(fa.len() >= 20, "{:?}", fa.keys());
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (k, v) in &fa {
        assert!(v == &fb[k], "{k} differs between two runs");
    }
    // and rerunning into the same directory replaces it with identical bytes
    assert!(run_into(&a, &il1()).status.success());
    assert_eq!(all_files(&a.join("il1-covid19")), fa);
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn failure_mid_run_leaves_previous_outputs_intact() {
    let out = tmpdir("atomic");
    assert!(run_into(&out, &il1()).status.success());
    let before = all_files(&out.join("il1-covid19"));
    for stage in ["ingest", "extract", "rob", "pool", "report"] {
        let o = metapipe(
            &[
                "run",
                il1().to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            &[("METAPIPE_FAIL_AFTER", stage)],
        );
        assert_eq!(o.status.code(), Some(1), "{stage}");
        assert!(o.stdout.is_empty());
        assert!(String::from_utf8_lossy(&o.stderr).contains("injected failure"));
        assert_eq!(
            all_files(&out.join("il1-covid19")),
            before,
            "outputs changed by a failed run ({stage})"
        );
        let leftovers: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| {
                n.to_string_lossy().starts_with('.')
                    && !n.to_string_lossy().ends_with(".stages.json")
            })
            .collect();
        assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// Parse a document as XML (the SVGs and the XHTML-compatible report must be well-formed).
fn assert_well_formed(name: &str, text: &str) {
    let mut r = quick_xml::Reader::from_str(text);
    let mut depth: i64 = 0;
    loop {
        match r.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{name}: not well-formed at {}: {e}", r.error_position()),
        }
    }
    assert_eq!(depth, 0, "{name}: unbalanced elements");
}

/// The report: every figure kind, well-formed, carrying the numbers of the stage tables.
#[test]
fn report_figures_carry_the_computed_numbers() {
    let out = tmpdir("report");
    assert!(run_into(&out, &il1()).status.success());
    let dir = out.join("il1-covid19");
    let rep = dir.join("report");
    let read = |n: &str| {
        std::fs::read_to_string(rep.join(n)).unwrap_or_else(|_| panic!("report/{n} missing"))
    };
    let names: Vec<String> = std::fs::read_dir(&rep)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    for kind in [
        "prisma.svg",
        "forest_mortality.svg",
        "funnel_mortality.svg",
        "rob_traffic_light.svg",
        "rob_summary.svg",
        "index.html",
    ] {
        assert!(
            names.iter().any(|n| n == kind),
            "{kind} missing from {names:?}"
        );
    }
    let index = read("index.html");
    // (the Word report is a zip: tests/word.rs reads it)
    for n in names.iter().filter(|n| !n.ends_with(".docx")) {
        let text = read(n);
        assert_well_formed(n, &text);
        if n.ends_with(".svg") {
            // inlined, byte for byte, in the self-contained report
            assert!(
                index.contains(text.trim_end()),
                "index.html does not inline {n}"
            );
        }
    }
    // PRISMA diagram: the counts of prisma.csv (and the per-database rows of prisma.parquet)
    let prisma = read("prisma.svg");
    for r in csv_rows(&dir.join("prisma.csv")) {
        let n = &r["count"];
        assert!(
            prisma.contains(&format!("(n = {n})")),
            "prisma.svg lacks {} = {n}",
            r["stage"]
        );
    }
    for (db, n) in [
        ("pubmed", 102),
        ("wos", 94),
        ("ovid_medline", 95),
        ("embase", 88),
        ("cochrane", 37),
    ] {
        assert!(
            prisma.contains(&format!("{db} (n = {n})")),
            "prisma.svg lacks {db}"
        );
    }
    // mortality forest: what results.csv says (not pooled, with its note), every study's counts
    let forest = read("forest_mortality.svg");
    let res = csv_rows(&dir.join("results.csv"));
    let mort = res
        .iter()
        .find(|r| r["outcome"] == "mortality" && r["subgroup"].is_empty())
        .unwrap();
    assert!(mort["estimate"].is_empty());
    assert!(forest.contains("not pooled"));
    assert!(
        forest.contains(
            &mort["note"]
                .split(';')
                .next()
                .unwrap()
                .replace('&', "&amp;")[..40]
        ),
        "forest shows the results note"
    );
    for r in csv_rows(&dir.join("outcome_data.csv"))
        .iter()
        .filter(|r| r["outcome"] == "mortality" && !r["events_treat"].is_empty())
    {
        assert!(
            forest.contains(&format!(">{}</text>", r["events_treat"]))
                && forest.contains(&format!(">{}</text>", r["n_ctrl"])),
            "forest lacks the counts of {}",
            r["study_id"]
        );
    }
    // RoB traffic light: one circle per study and column, judgments from rob_judgments.csv
    let rob = read("rob_traffic_light.svg");
    let judgments = csv_rows(&dir.join("rob_judgments.csv"));
    assert_eq!(
        rob.matches("<circle").count(),
        judgments.len() + 3,
        "7 studies x 6 columns + 3 legend circles"
    );
    assert_eq!(
        rob.matches(": some concerns</title>").count(),
        judgments
            .iter()
            .filter(|r| r["judgment"] == "some concerns")
            .count()
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// Kill -9 a run at many points (stages slowed by a test hook): the output directory is always
/// the complete previous one (reruns are byte-identical, so old and new compare equal), and the
/// next run cleans up whatever the killed one left.
#[test]
fn killed_runs_never_leave_partial_outputs() {
    let out = tmpdir("kill");
    assert!(run_into(&out, &il1()).status.success());
    let before = all_files(&out.join("il1-covid19"));
    for delay in [0u64, 15, 40, 70, 100, 130, 160, 190, 220, 260] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_metapipe"))
            .current_dir(repo())
            .args([
                "run",
                il1().to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .env("METAPIPE_STAGE_DELAY_MS", "40")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(
            all_files(&out.join("il1-covid19")),
            before,
            "outputs damaged by a run killed after {delay} ms"
        );
    }
    assert!(run_into(&out, &il1()).status.success());
    assert_eq!(all_files(&out.join("il1-covid19")), before);
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| {
            n.to_string_lossy().starts_with('.') && !n.to_string_lossy().ends_with(".stages.json")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = std::fs::remove_dir_all(&out);
}

/// A copy of the IL-1 pipeline whose files can be altered, in a temp dir.
fn pipeline_copy(tag: &str, edit: impl Fn(&Path)) -> (PathBuf, PathBuf) {
    let d = tmpdir(tag);
    let data = d.join("data");
    copy_dir(&repo().join("data/il1-covid19"), &data);
    let cfg = std::fs::read_to_string(il1())
        .unwrap()
        .replace("../data/il1-covid19", data.to_str().unwrap());
    let cfg_path = d.join("pipeline.toml");
    std::fs::write(&cfg_path, cfg).unwrap();
    edit(&data);
    (d, cfg_path)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn replace_in(p: &Path, from: &str, to: &str) {
    let s = std::fs::read_to_string(p).unwrap();
    assert!(s.contains(from), "{from:?} not in {}", p.display());
    std::fs::write(p, s.replacen(from, to, 1)).unwrap();
}

fn assert_fails_cleanly(tag: &str, edit: impl Fn(&Path), expect: &[&str]) {
    let (d, cfg) = pipeline_copy(tag, edit);
    let out = d.join("out");
    let o = run_into(&out, &cfg);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{tag}: {err}");
    assert!(o.stdout.is_empty());
    for e in expect {
        assert!(err.contains(e), "{tag}: {e:?} not in {err}");
    }
    assert!(
        !out.join("il1-covid19").exists(),
        "{tag}: no output on failure"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn broken_inputs_fail_with_location_and_no_output() {
    // events > n in the extraction sheet
    assert_fails_cleanly(
        "ev",
        |d| {
            replace_in(
                &d.join("extraction/outcome_data.csv"),
                "save_more,mortality,day 28,13,405",
                "save_more,mortality,day 28,413,405",
            )
        },
        &["outcome_data.csv:2", "events_treat", "> n_treat"],
    );
    // a screening log naming a record that no export contains
    assert_fails_cleanly(
        "ta",
        |d| {
            replace_in(
                &d.join("screening/title_abstract.csv"),
                "record_id,reviewer_1,reviewer_2,adjudicated\n",
                "record_id,reviewer_1,reviewer_2,adjudicated\npubmed:1,exclude,exclude,\n",
            )
        },
        &["title_abstract.csv:2", "record_id", "unknown record"],
    );
    // a RoB answer outside Y/PY/PN/N/NI/NA
    assert_fails_cleanly(
        "rob",
        |d| {
            replace_in(
                &d.join("rob/rob2_answers.csv"),
                "corimuno_ana1,D1,1.1,Y",
                "corimuno_ana1,D1,1.1,maybe",
            )
        },
        &["rob2_answers.csv:2", "answer"],
    );
    // a RoB answer for an outcome the config does not have
    assert_fails_cleanly(
        "rob-outcome",
        |d| {
            let p = d.join("rob/rob2_answers.csv");
            let text = std::fs::read_to_string(&p).unwrap();
            let mut lines = text.lines();
            let mut out = format!("{},outcome\n", lines.next().unwrap());
            for (n, l) in lines.enumerate() {
                out.push_str(&format!("{l},{}\n", if n == 2 { "mortalty" } else { "" }));
            }
            std::fs::write(&p, out).unwrap();
        },
        &[
            "rob2_answers.csv:4",
            "outcome",
            "unknown outcome \"mortalty\"",
        ],
    );
    // a truncated export
    assert_fails_cleanly(
        "ris",
        |d| {
            let p = d.join("search/cochrane_central_2022-09-25.ris");
            let s = std::fs::read_to_string(&p).unwrap();
            let cut = s.trim_end().rfind("ER  -").unwrap();
            std::fs::write(&p, &s[..cut]).unwrap();
        },
        &["cochrane_central_2022-09-25.ris", "ER"],
    );
    // a conflict without adjudication
    assert_fails_cleanly(
        "adj",
        |d| {
            let p = d.join("screening/title_abstract.csv");
            let s = std::fs::read_to_string(&p).unwrap();
            let line = s
                .lines()
                .find(|l| l.ends_with(",exclude") && l.contains("include,exclude"))
                .unwrap()
                .to_string();
            std::fs::write(&p, s.replace(&line, line.trim_end_matches("exclude"))).unwrap();
        },
        &["title_abstract.csv", "adjudicated"],
    );
}

#[test]
fn config_with_unknown_key_is_rejected() {
    let d = tmpdir("cfg");
    let cfg = d.join("p.toml");
    std::fs::write(
        &cfg,
        std::fs::read_to_string(il1())
            .unwrap()
            .replace("[analysis]\n", "[analysis]\nmodle = \"x\"\n"),
    )
    .unwrap();
    let o = run_into(&d.join("out"), &cfg);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("p.toml") && err.contains("modle"), "{err}");
    let o = metapipe(&["run"], &[]);
    assert_eq!(o.status.code(), Some(2), "missing argument is bad usage");
    let _ = std::fs::remove_dir_all(&d);
}

/// A published result no completion can reproduce is reported inconsistent (here a CI far too
/// narrow for two trials of 45 and 454 patients; a test copy, not the review's figure).
#[test]
fn impossible_published_result_is_inconsistent() {
    let (d, cfg) = pipeline_copy("inconsistent", |d| {
        replace_in(
            &d.join("published.csv"),
            "mortality/canakinumab,0.73 (0.36-1.47) I2 0%",
            "mortality/canakinumab,0.73 (0.72-0.74) I2 0%",
        );
    });
    let out = d.join("out");
    let o = run_into(&out, &cfg);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cons = csv_rows(&out.join("il1-covid19/consistency.csv"));
    let can = cons
        .iter()
        .find(|r| r["subgroup"] == "canakinumab")
        .unwrap();
    assert_eq!(can["status"], "inconsistent", "{}", can["note"]);
    assert_eq!(can["consistent_completions"], "0");
    let audit = csv_rows(&out.join("il1-covid19/audit.csv"));
    assert_eq!(
        audit
            .iter()
            .find(|a| a["item"].starts_with("mortality canakinumab OR: consistent"))
            .unwrap()["status"],
        "mismatch"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// The comparison with published figures fires as soon as an outcome's inputs are complete.
/// SYNTHETIC test data (not the review's): complete counts for the five mechanical-ventilation
/// studies, and a "published" figure computed for them independently (RevMan 5 MH in Python:
/// OR 0.49 (0.35-0.70), I2 33%).
#[test]
fn complete_outcome_is_pooled_and_compared() {
    let (d, cfg) = pipeline_copy("complete", |d| {
        let p = d.join("extraction/outcome_data.csv");
        let mut s = std::fs::read_to_string(&p).unwrap();
        let synthetic = [
            ("corimuno_ana1", 10, 59, 15, 55),
            ("kharazmi", 3, 15, 10, 15),
            ("save_more", 20, 405, 25, 189),
            ("can_covid", 25, 227, 33, 227),
            ("anaconda", 4, 37, 6, 34),
        ];
        s = s
            .lines()
            .filter(|l| !l.contains(",mechanical_ventilation,"))
            .map(|l| format!("{l}\n"))
            .collect();
        for (id, a, n1, c, n2) in synthetic {
            s.push_str(&format!("{id},mechanical_ventilation,day 28,{a},{n1},{c},{n2},reported,synthetic://test,SYNTHETIC test counts\n"));
        }
        std::fs::write(&p, s).unwrap();
        let pp = d.join("published.csv");
        let s = std::fs::read_to_string(&pp).unwrap().replace(
            "mechanical_ventilation,0.53 (0.32-0.86) I2 24%",
            "mechanical_ventilation,0.49 (0.35-0.70) I2 33%",
        );
        std::fs::write(&pp, s).unwrap();
    });
    let out = d.join("out");
    let o = run_into(&out, &cfg);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = out.join("il1-covid19");
    let compared = check_against_published(&dir.join("results.csv"), &d.join("data/published.csv"));
    assert_eq!(compared, 1);
    let r = csv_rows(&dir.join("results.csv"))
        .into_iter()
        .find(|r| r["outcome"] == "mechanical_ventilation")
        .unwrap();
    assert_eq!(r["model"], "fixed effect: Mantel-Haenszel (RevMan 5)");
    assert_eq!(
        (
            r["events_treat"].as_str(),
            r["n_treat"].as_str(),
            r["events_ctrl"].as_str(),
            r["n_ctrl"].as_str()
        ),
        ("62", "743", "89", "520")
    );
    let audit = csv_rows(&dir.join("audit.csv"));
    assert_eq!(
        audit
            .iter()
            .find(|a| a["item"] == "mechanical_ventilation OR")
            .unwrap()["status"],
        "match"
    );
    // the forest plot draws the pooled result of results.csv, and the per-study weights
    let forest =
        std::fs::read_to_string(dir.join("report/forest_mechanical_ventilation.svg")).unwrap();
    let f = |k: &str| r[k].parse::<f64>().unwrap();
    let pooled = format!(
        "{:.2} [{:.2}, {:.2}]",
        f("estimate"),
        f("ci_lb"),
        f("ci_ub")
    );
    assert!(forest.contains(&pooled), "forest lacks the pooled {pooled}");
    assert!(forest.contains("<polygon"), "pooled diamond drawn");
    let weights: f64 = csv_rows(&dir.join("per_study_effects.csv"))
        .iter()
        .filter(|e| e["outcome"] == "mechanical_ventilation" && e["subgroup"].is_empty())
        .map(|e| e["weight"].parse::<f64>().unwrap())
        .sum();
    assert!((weights - 1.0).abs() < 1e-9, "weights sum to 1: {weights}");
    let funnel =
        std::fs::read_to_string(dir.join("report/funnel_mechanical_ventilation.svg")).unwrap();
    assert_eq!(funnel.matches("<circle").count(), 5, "one point per study");
    assert!(
        funnel.contains("stroke-dasharray=\"4,3\""),
        "pooled line with pseudo confidence limits"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// RoB judgments join to the studies: the overall judgment is a column subgroups split on.
#[test]
fn subgroups_split_on_the_overall_risk_of_bias() {
    let (d, cfg) = pipeline_copy("robsub", |_| {});
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text.replacen(
        "id = \"mechanical_ventilation\"\n",
        "id = \"mechanical_ventilation\"\nsubgroup_by = \"rob_overall\"\n",
        1,
    );
    std::fs::write(&cfg, text).unwrap();
    let out = d.join("out");
    let o = run_into(&out, &cfg);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = out.join("il1-covid19");
    let overall: BTreeMap<String, String> = csv_rows(&dir.join("rob_judgments.csv"))
        .into_iter()
        .filter(|r| r["domain"] == "overall")
        .map(|r| (r["study_id"].clone(), r["judgment"].clone()))
        .collect();
    let res = csv_rows(&dir.join("results.csv"));
    let subs: Vec<_> = res
        .iter()
        .filter(|r| r["outcome"] == "mechanical_ventilation" && !r["subgroup"].is_empty())
        .collect();
    assert!(!subs.is_empty());
    let mut seen = 0;
    for r in &subs {
        assert_eq!(r["subgroup_by"], "rob_overall");
        for s in r["studies"].split(';') {
            assert_eq!(
                overall[s], r["subgroup"],
                "{s} in the {} subgroup",
                r["subgroup"]
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 5, "every study of the outcome in exactly one level");
    let _ = std::fs::remove_dir_all(&d);
}

/// RoB 2 judges a result: answers with an `outcome` complete or override the study's answers
/// for that outcome alone. SYNTHETIC: save_more's missing-outcome-data answers for mechanical
/// ventilation (high risk) are made up for the test; its study-level answers (low) stay.
#[test]
fn rob_is_judged_per_result() {
    let (d, cfg) = pipeline_copy("robres", |d| {
        let p = d.join("rob/rob2_answers.csv");
        let text = std::fs::read_to_string(&p).unwrap();
        let mut lines = text.lines();
        let mut out = format!("{},outcome\n", lines.next().unwrap());
        for l in lines {
            out.push_str(&format!("{l},\n"));
        }
        for (q, a) in [("3.1", "N"), ("3.2", "N"), ("3.3", "Y"), ("3.4", "Y")] {
            out.push_str(&format!(
                "save_more,D3,{q},{a},SYNTHETIC (test),mortality\n"
            ));
        }
        std::fs::write(&p, out).unwrap();
    });
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text
        .replacen(
            "id = \"mechanical_ventilation\"\n",
            "id = \"mechanical_ventilation\"\nsubgroups = [\"rob_overall:low\"]\n",
            1,
        )
        .replacen(
            "subgroups = [\"hyperinflammation\"]\n",
            "subgroups = [\"hyperinflammation\", \"rob_overall:high\"]\npool_available = true\nexclude_high_rob = true\n",
            1,
        );
    std::fs::write(&cfg, text).unwrap();
    let out = d.join("out");
    let o = run_into(&out, &cfg);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = out.join("il1-covid19");
    let overall: BTreeMap<(String, String), String> = csv_rows(&dir.join("rob_judgments.csv"))
        .into_iter()
        .filter(|r| r["domain"] == "overall")
        .map(|r| {
            (
                (r["study_id"].clone(), r["outcome"].clone()),
                r["judgment"].clone(),
            )
        })
        .collect();
    let key = |s: &str, o: &str| (s.to_string(), o.to_string());
    assert_eq!(
        overall[&key("save_more", "")],
        "low",
        "the study's own answers"
    );
    assert_eq!(overall[&key("save_more", "mortality")], "high");
    let res = csv_rows(&dir.join("results.csv"));
    let sub = |o: &str, g: &str| {
        res.iter()
            .find(|r| r["outcome"] == o && r["subgroup"] == g)
            .unwrap_or_else(|| panic!("{o} {g}"))["studies"]
            .clone()
    };
    assert_eq!(
        sub("mortality", "high"),
        "save_more",
        "the mortality result's judgment"
    );
    assert!(
        sub("mechanical_ventilation", "low").contains("save_more"),
        "the study's judgment for its other results"
    );
    let sens = csv_rows(&dir.join("sensitivity.csv"));
    let excl = sens
        .iter()
        .find(|r| r["outcome"] == "mortality" && r["analysis"] == "exclude_high_rob")
        .expect("exclude_high_rob of mortality");
    assert_eq!(excl["step"], "excluding save_more", "{excl:?}");
    // the RoB figure has the result's own row
    let svg = std::fs::read_to_string(dir.join("report/rob_traffic_light.svg")).unwrap();
    assert!(svg.contains("(mortality)"));
    let _ = std::fs::remove_dir_all(&d);
}

/// Dual extraction: two extractors' outcome sheets with three seeded disagreements (a count, a
/// denominator written differently but equal — not a conflict —, a timepoint, and a row one
/// extractor missed) give exactly those three conflicts; with `outcomes` one of their own sheets
/// the run stops listing them, with a consensus sheet it runs and writes them.
/// SYNTHETIC: the extractors' sheets are the IL-1 sheet with the seeded edits.
#[test]
fn two_extractors_give_their_conflicts() {
    let (d, cfg) = pipeline_copy("dual", |d| {
        let sheet = std::fs::read_to_string(d.join("extraction/outcome_data.csv")).unwrap();
        let a = sheet.replacen(
            "save_more,mortality,day 28,13,405",
            "save_more,mortality,day 28,13,405.0",
            1,
        );
        let b = sheet
            .replacen(
                "save_more,mortality,day 28,13,405",
                "save_more,mortality,day 28,14,405",
                1,
            )
            .replacen(
                "anaconda,mortality,day 28,9,37",
                "anaconda,mortality,day 30,9,37",
                1,
            );
        // B misses a row A has
        let lines: Vec<&str> = b.lines().collect();
        let b = lines[..lines.len() - 1].join("\n") + "\n";
        std::fs::write(d.join("extraction/outcomes_A.csv"), a).unwrap();
        std::fs::write(d.join("extraction/outcomes_B.csv"), b).unwrap();
    });
    let text = std::fs::read_to_string(&cfg).unwrap();
    let data = cfg.parent().unwrap().join("data/extraction");
    let extractors = format!(
        "outcomes_extractors = [\"{}\", \"{}\"]\n",
        data.join("outcomes_A.csv").display(),
        data.join("outcomes_B.csv").display()
    );
    let consensus = text.replacen("[extraction]\n", &format!("[extraction]\n{extractors}"), 1);
    // outcomes = extractor A's sheet: refused, with the list
    let own = consensus.replacen(
        "extraction/outcome_data.csv",
        "extraction/outcomes_A.csv",
        1,
    );
    std::fs::write(&cfg, &own).unwrap();
    let out = d.join("out");
    let o = run_into(&out, &cfg);
    let says = ["disagree in 3 cells", "events_treat: \"13\" vs \"14\""];
    fails(&o, &says, &out.join("il1-covid19"));
    // with the consensus sheet: the run goes on and lists them
    std::fs::write(&cfg, &consensus).unwrap();
    let o = run_into(&out, &cfg);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = out.join("il1-covid19");
    let c = csv_rows(&dir.join("extraction_conflicts.csv"));
    let got: Vec<(String, String, String, String)> = c
        .iter()
        .map(|r| {
            (
                r["study_id"].clone(),
                r["column"].clone(),
                r["value_a"].clone(),
                r["value_b"].clone(),
            )
        })
        .collect();
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.contains(&(
        "save_more".into(),
        "events_treat".into(),
        "13".into(),
        "14".into()
    )));
    assert!(got.contains(&(
        "anaconda".into(),
        "timepoint".into(),
        "day 28".into(),
        "day 30".into()
    )));
    assert!(got
        .iter()
        .any(|g| g.1 == "(row)" && g.2 == "present" && g.3.is_empty()));
    let agreement = csv_rows(&dir.join("extraction_agreement.csv"));
    let n_treat = agreement.iter().find(|r| r["column"] == "n_treat").unwrap();
    assert_eq!(
        n_treat["agreement"].parse::<f64>().unwrap(),
        1.0,
        "405 and 405.0 agree"
    );
    let ev = agreement
        .iter()
        .find(|r| r["column"] == "events_treat")
        .unwrap();
    assert!(ev["agreeing"].parse::<i64>().unwrap() + 1 == ev["cells"].parse::<i64>().unwrap());
    let html = std::fs::read_to_string(dir.join("report/index.html")).unwrap();
    assert!(html.contains("<h2>Dual extraction</h2>") && html.contains("3 cells disagree"));
    let _ = std::fs::remove_dir_all(&d);
}

/// Dual extraction of the studies sheet: extractor A's sheet with two seeded disagreements (an
/// arm size and a design label) against B's (the IL-1 sheet) give exactly those two conflicts,
/// marked `studies`; the sheets are named relative to the config's directory; with `studies` one
/// of their own sheets the run stops listing them. SYNTHETIC: the edits are seeded.
#[test]
fn two_extractors_of_the_studies_sheet() {
    let (d, cfg) = pipeline_copy("dual-studies", |d| {
        let sheet = std::fs::read_to_string(d.join("extraction/studies.csv")).unwrap();
        let a = sheet.replacen("yes,15,15,", "yes,16,15,", 1);
        let a = a.replacen(",double-blind RCT,no,405,", ",double blind RCT,no,405,", 1);
        assert_ne!(a, sheet);
        std::fs::write(d.join("extraction/studies_A.csv"), a).unwrap();
        std::fs::write(d.join("extraction/studies_B.csv"), &sheet).unwrap();
    });
    let text = std::fs::read_to_string(&cfg).unwrap();
    let extractors = "studies_extractors = [\"data/extraction/studies_A.csv\", \"data/extraction/studies_B.csv\"]\n";
    let consensus = text.replacen("[extraction]\n", &format!("[extraction]\n{extractors}"), 1);
    std::fs::write(&cfg, &consensus).unwrap();
    let out = d.join("out");
    let o = run_into(&out, &cfg);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = out.join("il1-covid19");
    let c = csv_rows(&dir.join("extraction_conflicts.csv"));
    let got: Vec<(&str, &str, &str, &str, &str)> = c
        .iter()
        .map(|r| {
            (
                r["sheet"].as_str(),
                r["study_id"].as_str(),
                r["column"].as_str(),
                r["value_a"].as_str(),
                r["value_b"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("studies", "kharazmi", "n_treat", "16", "15"),
            (
                "studies",
                "save_more",
                "design",
                "double blind RCT",
                "double-blind RCT"
            ),
        ]
    );
    let agreement = csv_rows(&dir.join("extraction_agreement.csv"));
    assert!(agreement.iter().all(|r| r["sheet"] == "studies"));
    // `studies` = extractor A's own sheet: refused, with the list, and nothing written
    let own = consensus.replacen("extraction/studies.csv", "extraction/studies_A.csv", 1);
    std::fs::write(&cfg, own).unwrap();
    let out2 = d.join("out2");
    let o = run_into(&out2, &cfg);
    let says = [
        "disagree in 2 cells and `studies`",
        "n_treat: \"16\" vs \"15\"",
    ];
    fails(&o, &says, &out2.join("il1-covid19"));
    let _ = std::fs::remove_dir_all(&d);
}

/// A living review (issue 14): a new search round with already-seen and new records; the run
/// succeeds with the new records awaiting screening; after decisions and extraction for one new
/// trial, changes.csv shows it and the moved estimate. SYNTHETIC: the new round's records and
/// the trial's counts (and the complete mechanical-ventilation counts, as in
/// `complete_outcome_is_pooled_and_compared`).
#[test]
fn living_review_new_round_then_new_trial() {
    let (d, cfg) = pipeline_copy("living", |d| {
        let p = d.join("extraction/outcome_data.csv");
        let mut s: String = std::fs::read_to_string(&p)
            .unwrap()
            .lines()
            .filter(|l| !l.contains(",mechanical_ventilation,"))
            .map(|l| format!("{l}\n"))
            .collect();
        for (id, a, n1, c, n2) in [
            ("corimuno_ana1", 10, 59, 15, 55),
            ("kharazmi", 3, 15, 10, 15),
            ("save_more", 20, 405, 25, 189),
            ("can_covid", 25, 227, 33, 227),
            ("anaconda", 4, 37, 6, 34),
        ] {
            s.push_str(&format!("{id},mechanical_ventilation,day 28,{a},{n1},{c},{n2},reported,synthetic://test,SYNTHETIC test counts\n"));
        }
        std::fs::write(&p, s).unwrap();
    });
    let out = d.join("out");
    assert!(run_into(&out, &cfg).status.success());
    let dir = out.join("il1-covid19");
    assert!(!dir.join("to_screen.csv").exists() && !dir.join("changes.csv").exists());
    // round 2: one record re-exported under its id, one duplicate under a new id, two new records
    let round2 = "TY  - JOUR\nID  - 99000010\nTI  - Early treatment of COVID-19 with anakinra guided by soluble urokinase plasminogen receptor plasma levels: a double-blind, randomized controlled phase 3 trial.\nAU  - Kyriazopoulou, E\nPY  - 2021\nER  - \n\
TY  - JOUR\nID  - 99100001\nTI  - Early treatment of COVID-19 with anakinra guided by soluble urokinase plasminogen receptor plasma levels: a double-blind, randomized controlled phase 3 trial\nAU  - Kyriazopoulou, Evdoxia\nAU  - Poulakou, Garyfallia\nPY  - 2021\nJO  - Nature Medicine\nVL  - 27\nIS  - 10\nSP  - 1752\nEP  - 1760\nDO  - 10.1038/s41591-021-01499-z\nER  - \n\
TY  - JOUR\nID  - 99100003\nTI  - Synthetic new-round cohort study of something else\nAU  - Synthetic, B.\nPY  - 2023\nJO  - Synthetic Journal\nER  - \n\
TY  - JOUR\nID  - 99100002\nTI  - Synthetic new-round trial of anakinra in severe COVID-19\nAU  - Synthetic, A.\nPY  - 2023\nJO  - Synthetic Journal\nER  - \n";
    std::fs::write(d.join("data/search/pubmed_2023-03-01.ris"), round2).unwrap();
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text.replacen("[dedup]", &format!("[[sources]]\ndatabase = \"pubmed\"\nfile = \"{}\"\nsearched = \"2023-03-01\"\n\n[dedup]", d.join("data/search/pubmed_2023-03-01.ris").display()), 1);
    std::fs::write(&cfg, text).unwrap();
    let o = run_into(&out, &cfg);
    let log = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{log}");
    // the new round reruns alone: round 1 is taken as it was, round 2 is deduplicated against it
    assert!(
        log.contains("outputs taken from the previous run stage=\"round 1\""),
        "{log}"
    );
    assert!(
        log.contains("ran: first run (no record of a previous one) stage=\"round 2\""),
        "{log}"
    );
    assert!(
        dir.join("records/round-002.parquet").exists()
            && dir.join("to_screen/round-002.csv").exists()
    );
    // the same bytes as a full run of both rounds
    let fresh = d.join("fresh");
    assert!(run_into(&fresh, &cfg).status.success());
    assert_eq!(all_files(&dir), all_files(&fresh.join("il1-covid19")));
    let ts = csv_rows(&dir.join("to_screen.csv"));
    assert_eq!(
        ts.iter()
            .map(|r| r["record_id"].as_str())
            .collect::<Vec<_>>(),
        ["pubmed:99100002", "pubmed:99100003"],
        "only the new unique records, the trial first though the export lists it last"
    );
    assert!(ts
        .iter()
        .all(|r| r["stage"] == "title_abstract" && r["round"] == "2"));
    // ranked by the relevance model trained on the review's 276 title/abstract decisions: the
    // anakinra trial above the unrelated cohort study listed before it
    assert_eq!(ts[0]["rank"], "1");
    assert_eq!(ts[1]["rank"], "2");
    let score = |r: &BTreeMap<String, String>| r["score"].parse::<f64>().unwrap();
    assert!(score(&ts[0]) > score(&ts[1]), "{ts:?}");
    // the stopping rule on the 276 decisions in the log's order, 2 records left
    let prog = &csv_rows(&dir.join("screening_progress.csv"))[0];
    assert_eq!(
        (
            prog["records"].as_str(),
            prog["screened"].as_str(),
            prog["awaiting"].as_str()
        ),
        ("278", "276", "2")
    );
    // 276 of 278 screened, 11 included: under "recall < 95%" a 12th relevant record is among
    // the 2 left — unlikely if the log's order were a random sample (p < 0.05)
    assert_eq!(prog["may_stop"], "yes");
    assert!(prog["p"].parse::<f64>().unwrap() < 0.05);
    assert!(prog["note"].contains("2 records would not be screened"));
    let html = std::fs::read_to_string(dir.join("report/index.html")).unwrap();
    assert!(html.contains(
        "When to stop (Callaghan &amp; Müller-Hansen 2020):</b> 276 of 278 records screened"
    ));
    let ris = std::fs::read_to_string(dir.join("to_screen.ris")).unwrap();
    assert_eq!(ris.matches("TY  - JOUR").count(), 2);
    let prisma: BTreeMap<String, String> = csv_rows(&dir.join("prisma.csv"))
        .into_iter()
        .map(|r| (r["stage"].clone(), r["count"].clone()))
        .collect();
    assert_eq!(prisma["records_awaiting_screening"], "2");
    assert_eq!(prisma["studies_included"], "7");
    // a rerun with nothing new: byte-identical
    let before = all_files(&dir);
    assert!(run_into(&out, &cfg).status.success());
    assert_eq!(all_files(&dir), before);
    // decisions for the new records, one new trial extracted
    let dd = d.join("data");
    let ta = std::fs::read_to_string(dd.join("screening/title_abstract.csv")).unwrap();
    std::fs::write(
        dd.join("screening/title_abstract.csv"),
        format!("{ta}pubmed:99100002,include,include,\npubmed:99100003,exclude,exclude,\n"),
    )
    .unwrap();
    let ft = std::fs::read_to_string(dd.join("screening/full_text.csv")).unwrap();
    std::fs::write(
        dd.join("screening/full_text.csv"),
        format!("{ft}pubmed:99100002,include,,new_trial\n"),
    )
    .unwrap();
    let st = std::fs::read_to_string(dd.join("extraction/studies.csv")).unwrap();
    let header: Vec<&str> = st.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = header
        .iter()
        .map(|h| match *h {
            "study_id" => "new_trial",
            "label" => "Synthetic 2023 (new trial)",
            "drug" => "anakinra",
            "hyperinflammation" => "no",
            "n_treat" => "100",
            "n_ctrl" => "100",
            _ => "",
        })
        .collect();
    std::fs::write(
        dd.join("extraction/studies.csv"),
        format!("{st}{}\n", row.join(",")),
    )
    .unwrap();
    let od = std::fs::read_to_string(dd.join("extraction/outcome_data.csv")).unwrap();
    std::fs::write(dd.join("extraction/outcome_data.csv"), format!("{od}new_trial,mechanical_ventilation,day 28,5,100,20,100,reported,synthetic://test,SYNTHETIC test counts\n")).unwrap();
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text.replacen(
        "studies = [\"corimuno_ana1\", \"kharazmi\", \"save_more\", \"can_covid\", \"anaconda\"]",
        "studies = [\"corimuno_ana1\", \"kharazmi\", \"save_more\", \"can_covid\", \"anaconda\", \"new_trial\"]",
        1,
    );
    std::fs::write(&cfg, text).unwrap();
    let o = run_into(&out, &cfg);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !dir.join("to_screen.csv").exists(),
        "nothing awaits screening now"
    );
    // PRISMA 2020 for an updated review: the previous version's studies, the new round, the total
    let prisma: BTreeMap<String, String> = csv_rows(&dir.join("prisma.csv"))
        .into_iter()
        .map(|r| (r["stage"].clone(), r["count"].clone()))
        .collect();
    for (k, v) in [
        ("update_previous_studies", "7"),
        ("update_records_identified", "4"),
        ("update_duplicates_removed", "2"),
        ("update_records_screened", "2"),
        ("update_new_studies_included", "1"),
        ("update_total_studies_included", "8"),
    ] {
        assert_eq!(prisma[k], v, "{k}");
    }
    let svg = std::fs::read_to_string(dir.join("report/prisma.svg")).unwrap();
    assert!(
        svg.contains("for updated systematic reviews")
            && svg.contains("version of review (n = 7)")
            && svg.contains("Total studies included in review (n = 8)"),
        "{svg}"
    );
    let ch = csv_rows(&dir.join("changes.csv"));
    let mv = ch
        .iter()
        .find(|r| r["outcome"] == "mechanical_ventilation" && r["subgroup"].is_empty())
        .unwrap();
    assert_eq!(
        (mv["change"].as_str(), mv["studies_added"].as_str()),
        ("updated", "new_trial")
    );
    assert_ne!(mv["estimate_before"], mv["estimate_after"]);
    let res = csv_rows(&dir.join("results.csv"));
    let now = res
        .iter()
        .find(|r| r["outcome"] == "mechanical_ventilation" && r["subgroup"].is_empty())
        .unwrap();
    assert_eq!(mv["estimate_after"], now["estimate"]);
    assert!(
        ch.iter()
            .filter(|r| r["outcome"] != "mechanical_ventilation")
            .all(|r| r["change"] == "unchanged"),
        "nothing else moved"
    );
    // a rerun keeps the comparison with the previous version (byte-identical)
    let before = all_files(&dir);
    assert!(run_into(&out, &cfg).status.success());
    assert_eq!(all_files(&dir), before);
    let _ = std::fs::remove_dir_all(&d);
}

/// Incremental reruns (issue 14): a rerun with no change runs no stage; a change reruns the
/// stages downstream of it only; the outputs equal a full run's byte for byte.
#[test]
fn incremental_reruns_skip_unchanged_stages_and_match_a_full_run() {
    let (d, cfg) = pipeline_copy("incr", |_| {});
    let out = d.join("out");
    assert!(run_into(&out, &cfg).status.success());
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).to_string();
    let o = run_into(&out, &cfg);
    let log = stderr(&o);
    // round 1, screening, extract, rob, pool, changes, report
    assert_eq!(log.matches("skipped: inputs unchanged").count(), 7, "{log}");
    assert!(!log.contains(" ran: "), "{log}");
    // a changed published figure: only the report reruns, and says why
    replace_in(
        &d.join("data/published.csv"),
        "mortality/canakinumab,0.73 (0.36-1.47)",
        "mortality/canakinumab,0.74 (0.36-1.47)",
    );
    let o = run_into(&out, &cfg);
    let log = stderr(&o);
    assert!(o.status.success(), "{log}");
    assert_eq!(log.matches("skipped: inputs unchanged").count(), 6, "{log}");
    assert!(log.contains("ran: changed: published figures"), "{log}");
    // a changed extraction sheet: extract and everything after it rerun, ingest does not
    replace_in(
        &d.join("data/extraction/outcome_data.csv"),
        "save_more,mortality,day 28,13,405",
        "save_more,mortality,day 28,14,405",
    );
    let log = stderr(&run_into(&out, &cfg));
    for stage in ["round 1", "screening"] {
        assert!(
            log.contains(&format!(
                "skipped: inputs unchanged; outputs taken from the previous run stage=\"{stage}\""
            )),
            "{log}"
        );
    }
    assert!(
        log.contains("ran: changed: outcome sheet stage=\"extract\""),
        "{log}"
    );
    // byte-identical to a full run of the same inputs
    let fresh = d.join("fresh");
    assert!(run_into(&fresh, &cfg).status.success());
    assert_eq!(
        all_files(&out.join("il1-covid19")),
        all_files(&fresh.join("il1-covid19"))
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// The stage keys hash what each stage reads: a key only the report reads (an outcome's label)
/// reruns only the report; the dedup thresholds rerun the search rounds (and what follows).
#[test]
fn stage_keys_follow_what_each_stage_reads() {
    let (d, cfg) = pipeline_copy("keys", |_| {});
    let out = d.join("out");
    assert!(run_into(&out, &cfg).status.success());
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).to_string();
    replace_in(
        &cfg,
        "label = \"All-cause mortality\"",
        "label = \"Death from any cause\"",
    );
    let o = run_into(&out, &cfg);
    let log = stderr(&o);
    assert!(o.status.success(), "{log}");
    assert_eq!(log.matches("skipped: inputs unchanged").count(), 6, "{log}");
    assert!(
        log.contains("ran: changed: the config stage=\"report\""),
        "{log}"
    );
    let results = std::fs::read_to_string(out.join("il1-covid19/results.csv")).unwrap();
    // a threshold of the dedup rules: the round reruns, says why
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("{text}\n[dedup.thresholds]\nnear = 0.97\n")).unwrap();
    let o = run_into(&out, &cfg);
    let log = stderr(&o);
    assert!(o.status.success(), "{log}");
    assert!(
        log.contains("ran: changed: [dedup.thresholds] stage=\"round 1\""),
        "{log}"
    );
    // the IL-1 exports have no pair these thresholds decide differently: the same results
    assert_eq!(
        std::fs::read_to_string(out.join("il1-covid19/results.csv")).unwrap(),
        results
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// Every config error is reported before any stage runs, at the offending key's own line in the
/// config, with the outcome it belongs to: an undeclared or misspelt covariate, a meta-regression
/// model that is not one, MH on a continuous outcome, a bad value inside an `[[outcomes]]` entry.
#[test]
fn config_errors_name_their_own_line_before_any_stage() {
    // (edit of the config: replace `from` by `to`; the line holding `at` after the edit; what the
    // error says after `pipeline.toml:LINE: `)
    let cases: Vec<(&str, &str, &str, &str, &str)> = vec![
        ("undeclared", "drug = \"text\"\n", "", "subgroup_by = \"drug\"", "outcomes.subgroup_by: outcome mortality: \"drug\" is a column of"),
        ("misspelt", "subgroup_by = \"drug\"", "subgroup_by = \"drugs\"", "subgroup_by = \"drugs\"", "outcomes.subgroup_by: outcome mortality: \"drugs\" is not a column of the studies table"),
        (
            "common-tau2-revman",
            "subgroup_by = \"drug\"",
            "subgroup_by = \"drug\"\nsubgroup_tau2 = \"common\"",
            "subgroup_tau2 = \"common\"",
            "outcomes.subgroup_tau2: outcome mortality: \"common\" is not RevMan 5's",
        ),
        (
            "subgroup-tau2-value",
            "subgroup_by = \"drug\"",
            "subgroup_by = \"drug\"\nsubgroup_tau2 = \"shared\"",
            "subgroup_tau2 = \"shared\"",
            "outcomes.subgroup_tau2: outcome mortality: \"shared\": expected \"separate\" or \"common\"",
        ),
        (
            "metareg-model",
            "subgroups = [\"hyperinflammation\"]",
            "subgroups = [\"hyperinflammation\"]\nmetaregression = [\"drug + \"]",
            "metaregression = [\"drug + \"]",
            "outcomes.metaregression: outcome mortality: \"drug + \": a model is covariates joined by +",
        ),
        (
            "mh-continuous",
            "[[outcomes]]\nid = \"mechanical_ventilation\"",
            "[[outcomes]]\nid = \"los\"\nlabel = \"Length of stay\"\nmeasure = \"MD\"\nmethod = \"MH\"\n\n[[outcomes]]\nid = \"mechanical_ventilation\"",
            "method = \"MH\"",
            "outcomes.method: outcome los: MH needs binary data (OR, RR, RD); use FE for MD",
        ),
        (
            "outcome-level",
            "subgroups = [\"hyperinflammation\"]",
            "subgroups = [\"hyperinflammation\"]\nlevel = 120.0",
            "level = 120.0",
            "outcomes.level: outcome mortality: 120: expected a confidence level such as 95 or 0.95",
        ),
        (
            "small-study-test",
            "subgroups = [\"hyperinflammation\"]",
            "subgroups = [\"hyperinflammation\"]\nsmall_study_test = \"begg\"",
            "small_study_test = \"begg\"",
            "outcomes.small_study_test: outcome mortality: \"begg\": expected egger, egger_rma, peters or harbord",
        ),
        (
            "consistency-choose",
            "choose = 4",
            "choose = 6",
            "choose = 6",
            "consistency.choose: choose = 6: expected 1 to 5 (the studies listed)",
        ),
        (
            "consistency-outcome",
            "outcome = \"mortality\"\nsubgroup = \"canakinumab\"",
            "outcome = \"mortalty\"\nsubgroup = \"canakinumab\"",
            "outcome = \"mortalty\"",
            "consistency.outcome: \"mortalty\" is not an outcome of this review",
        ),
    ];
    for (tag, from, to, at, says) in cases {
        let (d, cfg) = pipeline_copy(tag, |_| {});
        replace_in(&cfg, from, to);
        let text = std::fs::read_to_string(&cfg).unwrap();
        let line = text
            .lines()
            .position(|l| l.starts_with(at))
            .unwrap_or_else(|| panic!("{tag}: {at:?}"))
            + 1;
        let out = d.join("out");
        let o = run_into(&out, &cfg);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{tag}: {err}");
        let want = format!("pipeline.toml:{line}: {says}");
        assert!(err.contains(&want), "{tag}: {want:?} not in {err}");
        assert!(
            !err.contains("stage="),
            "{tag}: a stage ran before the error: {err}"
        );
        assert!(!out.join("il1-covid19").exists(), "{tag}: outputs written");
        let _ = std::fs::remove_dir_all(&d);
    }
}

/// A full text sought but not obtained (`not retrieved` in the full-text log) is counted in
/// PRISMA's "reports sought" and "reports not retrieved", not as assessed or excluded.
#[test]
fn a_report_not_retrieved_is_counted_as_prisma_counts_it() {
    let (d, cfg) = pipeline_copy("not-retrieved", |data| {
        replace_in(
            &data.join("screening/full_text.csv"),
            "pubmed:99000027,exclude,\"preprint of a platform trial without a separately reported eligible comparison (candidate, unconfirmed)\",",
            "pubmed:99000027,not retrieved,,",
        );
    });
    let out = d.join("out");
    let o = run_into(&out, &cfg);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = out.join("il1-covid19");
    let counts: BTreeMap<String, String> = csv_rows(&dir.join("prisma.csv"))
        .into_iter()
        .map(|r| (r["stage"].clone(), r["count"].clone()))
        .collect();
    for (stage, n) in [
        ("records_screened", "276"),
        ("excluded_title_abstract", "265"),
        ("reports_sought", "11"),
        ("reports_not_retrieved", "1"),
        ("full_text_assessed", "10"),
        ("excluded_full_text", "3"),
        ("studies_included", "7"),
    ] {
        assert_eq!(counts[stage], n, "{stage}");
    }
    let svg = std::fs::read_to_string(dir.join("report/prisma.svg")).unwrap();
    assert!(
        svg.contains("Reports sought for retrieval (n = 11)"),
        "sought box"
    );
    assert!(
        svg.contains("Reports not retrieved (n = 1)"),
        "not retrieved box"
    );
    assert!(
        svg.contains("Reports assessed for eligibility (n = 10)"),
        "assessed box"
    );
    let _ = std::fs::remove_dir_all(&d);
}
