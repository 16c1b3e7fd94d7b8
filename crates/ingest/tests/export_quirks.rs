//! Real-world export quirks (issue 13), one fixture each in `tests/fixtures/export-quirks/`
//! (hand-written, SYNTHETIC records).

use metapipe_ingest::parse::{parse_input, Record};
use metapipe_tables::io::Input;
use std::path::PathBuf;

fn parse(name: &str, db: &str) -> (Vec<Record>, Vec<String>) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/export-quirks")
        .join(name);
    parse_input(&Input::read(&p).unwrap(), db).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn titles(r: &[Record]) -> Vec<&str> {
    r.iter().map(|x| x.title.as_deref().unwrap_or("")).collect()
}

#[test]
fn provider_header_and_numbering_are_skipped_and_kept_as_provenance() {
    let (r, w) = parse("provider_header_numbered.ris", "cochrane");
    assert_eq!(titles(&r), ["Synthetic record one", "Synthetic record two"]);
    assert_eq!(r[0].source_line, 6, "line numbers count the preamble");
    let pre = r[0]
        .extra
        .iter()
        .find(|(k, _)| k == "PREAMBLE")
        .map(|(_, v)| v.as_str())
        .unwrap();
    assert!(
        pre.contains("Record #1 of 2") && pre.contains("Provider: Synthetic Platform"),
        "{pre}"
    );
    assert!(r[1]
        .extra
        .contains(&("NUMBER".to_string(), "2.".to_string())));
    assert!(w.iter().any(|w| w.contains("preamble")));
}

#[test]
fn tag_spacing_variants() {
    let (r, _) = parse("tags_without_space.ris", "x");
    assert_eq!(
        (r[0].entry_type.as_deref(), r[0].title.as_deref()),
        (Some("JOUR"), Some("Synthetic tags without a space"))
    );
    assert_eq!(r[0].authors, ["Doe, J", "Roe, R"]);
    assert_eq!(r[0].year, Some(2019));
    let (r, _) = parse("single_space_tags.ris", "x");
    assert_eq!(
        (r[0].title.as_deref(), r[0].year),
        (Some("Synthetic one dash spacing"), Some(2018))
    );
}

#[test]
fn records_separated_by_blank_lines_without_er() {
    let (r, _) = parse("no_er_blank_separated.ris", "x");
    assert_eq!(
        titles(&r),
        [
            "Synthetic record without ER one",
            "Synthetic record without ER two",
            "Synthetic record without ER three"
        ]
    );
    assert_eq!(
        r.iter().map(|x| x.source_line).collect::<Vec<_>>(),
        [1, 5, 9]
    );
    // a single record without ER is still a truncated file
    let e = metapipe_ingest::parse::parse_ris("TY  - JOUR\nTI  - x\n", "f", "db").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("ER"));
}

#[test]
fn header_before_medline() {
    let (r, _) = parse("header_before_medline.nbib", "pubmed");
    assert_eq!(
        (r[0].record_id.as_str(), r[0].source_line),
        ("pubmed:99000001", 3)
    );
}

#[test]
fn registers_and_pubmed_xml() {
    let (r, _) = parse("clinicaltrials_gov.csv", "ctgov");
    assert_eq!(
        (
            r[0].record_id.as_str(),
            r[0].title.as_deref(),
            r[0].year,
            r[0].entry_type.as_deref()
        ),
        (
            "ctgov:NCT99000001",
            Some("Synthetic registered trial of anakinra"),
            Some(2020),
            Some("trial registration")
        )
    );
    let (r, _) = parse("ictrp.xml", "ictrp");
    assert_eq!(r[0].record_id, "ictrp:NCT99000001");
    let (r, _) = parse("pubmed.xml", "pubmed");
    assert_eq!(
        (r[0].record_id.as_str(), r[0].doi.as_deref()),
        ("pubmed:99000001", Some("10.5555/synth.1"))
    );
}

/// EndNote XML line numbers come from one index of the file (`LineIndex`, built once) rather
/// than a recount per record; a large export keeps every record's line right.
#[test]
fn endnote_xml_lines_are_linear() {
    let n = 15_000;
    let mut t = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml><records>\n");
    for i in 0..n {
        t.push_str(&format!("<record><rec-number>{i}</rec-number>\n<titles><title>Synthetic record {i}</title></titles>\n</record>\n"));
    }
    t.push_str("</records></xml>\n");
    let r = metapipe_ingest::parse::parse_endnote_xml(&t, "f", "endnote").unwrap();
    assert_eq!(r.len(), n);
    assert_eq!(r[n - 1].source_line, 3 + 3 * (n - 1));
}

#[test]
fn a_repeated_record_id_is_read_whole() {
    // parse_input reads both records; the round (parse_round) names the second by its file and
    // line, with a warning (tested in the crate)
    let (r, _) = parse("repeated_id.ris", "x");
    assert_eq!(
        titles(&r),
        [
            "Synthetic first record under a repeated id",
            "Synthetic second record under the same id"
        ]
    );
    assert_eq!(r[0].record_id, r[1].record_id);
    assert_eq!(r[1].source_line, 15);
}

#[test]
fn continuation_lines_belong_to_their_field() {
    let (r, _) = parse("continuation_lines.ris", "x");
    assert_eq!(
        r.len(),
        3,
        "a continuation line starting 'ER ' does not end the record"
    );
    assert_eq!(
        r[0].abstract_.as_deref(),
        Some("first line, ER then the second line, indented and the last line, not indented")
    );
    assert_eq!(
        r[1].abstract_.as_deref(),
        Some("first line, ER then a second line that is not indented the last line")
    );
    let notes: Vec<&str> = r[1]
        .extra
        .iter()
        .filter(|(k, _)| k == "N1")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(notes, ["a note second line", "another note second line"]);
}

#[test]
fn endnote_unindented_continuations_empty_tag_and_late_id() {
    let (r, _) = parse("endnote_unindented.ris", "en");
    assert_eq!(r.len(), 1);
    let x = &r[0];
    assert_eq!(x.record_id, "en:123", "the ID tag after the other fields");
    assert_eq!(
        x.title.as_deref(),
        Some("Synthetic EndNote record with unindented continuations")
    );
    assert_eq!(x.authors, ["Doe, Jane A.", "Roe, R."]);
    assert_eq!((x.year, x.issue.as_deref()), (Some(2024), Some("42")));
    assert_eq!(x.pages, None, "an empty SP tag says nothing");
    let (b, _) = parse("bom_blank_lines.ris", "x");
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].doi.as_deref(), Some("10.9999/synthetic-bom"));
}

/// Every RIS fixture here gives the number of records rispy 0.10 (the Python RIS reader, from the
/// venv `make check-venv` installs) reads from it: the count is the peer's, not ours — except
/// where metapipe reads more on purpose, listed with rispy's count.
const RISPY_READS_FEWER: &[(&str, usize, &str)] = &[
    (
        "no_er_blank_separated.ris",
        0,
        "rispy needs an ER line to end a record; some exports separate records by blank lines only",
    ),
    (
        "single_space_tags.ris",
        0,
        "rispy needs two spaces before a tag's dash ('TY  - '); some exports write one",
    ),
];

#[test]
fn record_counts_equal_rispys() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var_os("METAPIPE_RISPY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/rispy-venv/bin/python"));
    assert!(
        python.exists(),
        "{}: no rispy; run `make check-venv` (make test does)",
        python.display()
    );
    let dir = root.join("tests/fixtures/export-quirks");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".ris"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "{files:?}");
    for f in files {
        let out = std::process::Command::new(&python)
            .args([
                "-c",
                "import rispy, sys; print(len(rispy.load(open(sys.argv[1], encoding='utf-8-sig'))))",
            ])
            .arg(dir.join(&f))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let (ours, _) = parse(&f, "x");
        match RISPY_READS_FEWER.iter().find(|(n, _, _)| *n == f) {
            Some((_, n, why)) => {
                assert_eq!(theirs, *n, "{f}: rispy's count changed ({why})");
                assert!(ours.len() > theirs, "{f}: {why}");
            }
            None => assert_eq!(
                ours.len(),
                theirs,
                "{f}: metapipe {} vs rispy {theirs}",
                ours.len()
            ),
        }
    }
}
