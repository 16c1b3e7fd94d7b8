//! Excel sheets (issue 25): an extraction sheet may be a workbook's worksheet
//! (`book.xlsx#Sheet`, or the first sheet of `book.xlsx`). The BCG review read from
//! `tests/fixtures/xlsx/bcg-tb.xlsx` (its two CSV sheets written into one workbook by
//! `tools/make_xlsx_fixture.py` with openpyxl — a table placed at B3, an empty row inside)
//! gives the same run as from its CSV sheets, file for file; a bad cell is named
//! `book.xlsx:Sheet!F5`; a malformed workbook or a missing sheet is a clear error and no output.

mod common;
use common::*;

use std::path::{Path, PathBuf};

/// A BCG review config (`file`.toml, review `name`) reading `studies` and `outcomes`.
fn config(dir: &Path, file: &str, name: &str, studies: &str, outcomes: &str) -> String {
    let cfg = format!(
        "[review]\nname = \"{name}\"\ntitle = \"BCG\"\ntreat_label = \"BCG\"\nctrl_label = \"No vaccine\"\n\n[extraction]\nstudies = \"{studies}\"\noutcomes = \"{outcomes}\"\n\n[extraction.covariates]\nyear = \"number\"\nablat = \"number\"\nalloc = \"text\"\n\n[analysis]\nmeasure = \"RR\"\n\n[[outcomes]]\nid = \"tb\"\nlabel = \"Tuberculosis\"\nmodel = \"both\"\nsubgroup_by = \"alloc\"\n\n[[outcomes]]\nid = \"tb_cochrane\"\nlabel = \"Tuberculosis (Cochrane)\"\nconvention = \"cochrane\"\n"
    );
    let p = dir.join(format!("{file}.toml"));
    std::fs::write(&p, cfg).unwrap();
    p.to_string_lossy().into_owned()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn a_workbook_gives_the_same_run_as_its_csv_twin() {
    let d = tmpdir("mp-xlsx", "same");
    let (data, x) = (
        repo().join("data/bcg-tb"),
        repo().join("tests/fixtures/xlsx/bcg-tb.xlsx"),
    );
    let s_csv = data.join("studies.csv").to_string_lossy().into_owned();
    let o_csv = data.join("outcome_data.csv").to_string_lossy().into_owned();
    let csv = config(&d, "csv", "r", &s_csv, &o_csv);
    let xl_cfg = config(
        &d,
        "xl",
        "r",
        &format!("{}#studies", x.display()),
        &format!("{}#outcomes", x.display()),
    );
    let o = metapipe(&d, &["run", &csv, "--out", "a"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = metapipe(&d, &["run", &xl_cfg, "--out", "b"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (fa, fb) = (files(&d.join("a/r")), files(&d.join("b/r")));
    assert!(fa.len() > 10);
    assert_eq!(fa.len(), fb.len());
    for (a, b) in fa.iter().zip(&fb) {
        assert_eq!(a.file_name(), b.file_name());
        assert!(
            std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
            "{} differs",
            a.display()
        );
    }
}

#[test]
fn workbook_errors_name_the_cell_and_write_nothing() {
    let d = tmpdir("mp-xlsx", "bad");
    let (data, fx) = (
        repo().join("data/bcg-tb"),
        repo().join("tests/fixtures/xlsx"),
    );
    let studies = data.join("studies.csv").to_string_lossy().into_owned();
    let trunc = d.join("trunc.xlsx");
    let bytes = std::fs::read(fx.join("bcg-tb.xlsx")).unwrap();
    std::fs::write(&trunc, &bytes[..bytes.len() / 2]).unwrap();
    let cases = [
        (
            format!("{}#outcomes", fx.join("bad.xlsx").display()),
            format!(
                "{}:outcomes!D4: n_treat: \"12O\" is not a whole number",
                fx.join("bad.xlsx").display()
            ),
        ),
        (
            format!("{}#Outcome", fx.join("bcg-tb.xlsx").display()),
            "no worksheet \"Outcome\" (the workbook has: studies, outcomes)".to_string(),
        ),
        (
            trunc.to_string_lossy().into_owned(),
            format!("{}: not a readable .xlsx workbook", trunc.display()),
        ),
        (
            format!("{}#outcomes", d.join("none.xlsx").display()),
            "file not found".to_string(),
        ),
    ];
    for (i, (outcomes, says)) in cases.iter().enumerate() {
        let cfg = config(&d, &format!("r{i}"), &format!("r{i}"), &studies, outcomes);
        let o = metapipe(&d, &["run", &cfg, "--out", "out"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains(says.as_str()), "{says}\n{err}");
        assert!(
            !d.join(format!("out/r{i}")).exists(),
            "partial output for case {i}"
        );
    }
}
