//! Parsers for bibliographic search exports: RIS (Embase, Ovid, Cochrane, EndNote, Scopus
//! flavours), PubMed MEDLINE (.nbib/.txt), Web of Science tagged plain text, and CSV (including
//! the bib-dedupe benchmark layout). The format is detected from the content. Every record keeps
//! its source file, line and database; tags the model does not map are kept in `extra`.
//!
//! `biblib` (crates.io) was considered first; it does not report the source line of a record or
//! of a malformed field, which our error contract needs, so these line-oriented formats are
//! parsed here (each is a few dozen lines).

//! One file per format below this module; the record and its shared helpers in `record`. This
//! module decodes bytes, detects the format from the content and dispatches.

mod bibtex;
mod endnote;
mod medline;
mod record;
mod ris;
mod table;
mod wos;
mod xml;

pub use bibtex::{delatex, parse_bibtex};
pub use endnote::{parse_endnote_xml, parse_enw};
pub use medline::parse_medline;
pub use record::Record;
pub use ris::parse_ris;
pub use table::parse_csv;
pub use wos::parse_wos;
pub use xml::{parse_ictrp_xml, parse_pubmed_xml};

use metapipe_tables::io::Input;
use metapipe_tables::{Error, Result};
use ris::is_ris_tag;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Ris,
    Medline,
    WosTagged,
    Csv,
    Bibtex,
    EndnoteXml,
    EndnoteTagged,
    PubmedXml,
    IctrpXml,
}

/// Decode bytes: UTF-8 (BOM stripped); UTF-16 with BOM; otherwise Latin-1 with a warning.
pub fn decode(bytes: &[u8], path: &Path) -> Result<(String, Option<String>)> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let le = bytes[0] == 0xFF;
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        let s = String::from_utf16(&units).map_err(|_| Error::data("invalid UTF-16").file(path))?;
        return Ok((s, Some("decoded as UTF-16".into())));
    }
    let b = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    if b.contains(&0) {
        return Err(Error::data("binary data (NUL bytes): not a bibliographic export").file(path));
    }
    match std::str::from_utf8(b) {
        Ok(s) => Ok((s.to_string(), None)),
        Err(e) => {
            let line = b[..e.valid_up_to()].iter().filter(|&&c| c == b'\n').count() + 1;
            Ok((
                b.iter().map(|&c| c as char).collect(),
                Some(format!("line {line}: not valid UTF-8; decoded as Latin-1")),
            ))
        }
    }
}

/// Lines a provider writes before the first record (a header such as "Provider: …",
/// "Content: …", record numbering "1."), within the first 40 lines: their count and text.
pub fn preamble(text: &str) -> (usize, Vec<&str>) {
    let mut n = 0;
    let mut kept = vec![];
    for l in text.lines().take(40) {
        let l = l.trim_end_matches('\r').trim_start_matches('\u{feff}');
        if l.trim().is_empty() {
            n += 1;
        } else if record::preamble_line(l) {
            n += 1;
            kept.push(l.trim());
        } else {
            return (n, kept);
        }
    }
    (0, vec![])
}

/// Detect the export format from the first line after any preamble.
pub fn detect(text: &str) -> Option<Format> {
    let (skip, _) = preamble(text);
    let first = text
        .lines()
        .skip(skip)
        .map(|l| l.trim_end())
        .find(|l| !l.trim().is_empty())?;
    let t = first.trim_start();
    if t.starts_with('@') || t.starts_with('%') && t.len() > 2 && t.as_bytes()[1] == b' ' {
        return Some(if t.starts_with('@') {
            Format::Bibtex
        } else {
            Format::EndnoteTagged
        });
    }
    if t.starts_with("%0 ") || t.starts_with("%A ") || t.starts_with("%T ") {
        return Some(Format::EndnoteTagged);
    }
    if t.starts_with("<?xml")
        || t.starts_with("<xml")
        || t.starts_with("<records")
        || t.starts_with("<!DOCTYPE")
        || t.starts_with("<PubmedArticleSet")
        || t.starts_with("<Trials")
    {
        // the root element, within the first few KB
        let head: String = text.chars().take(4096).collect();
        return Some(
            if head.contains("<PubmedArticleSet") || head.contains("<PubmedArticle>") {
                Format::PubmedXml
            } else if head.contains("<Trials_downloaded_from_ICTRP") || head.contains("<Trial>") {
                Format::IctrpXml
            } else {
                Format::EndnoteXml
            },
        );
    }
    if first.starts_with("PMID-") {
        Some(Format::Medline)
    } else if is_ris_tag(first) {
        Some(Format::Ris)
    } else if first.starts_with("FN ") || first.starts_with("PT ") {
        Some(Format::WosTagged)
    } else if first.contains(',') {
        Some(Format::Csv)
    } else {
        None
    }
}

/// Parse one export file. `database` names the source (e.g. `pubmed`).
pub fn parse_input(input: &Input, database: &str) -> Result<(Vec<Record>, Vec<String>)> {
    let (path, bytes) = (input.path.as_path(), &input.bytes);
    if bytes.is_empty() {
        return Err(Error::data("empty file: no records").file(path));
    }
    let (text, warning) = decode(bytes, path)?;
    // a provider's preamble: blanked (line numbers stay), kept as the first record's provenance
    let (skip, pre) = preamble(&text);
    let pre: Vec<String> = pre.into_iter().map(String::from).collect();
    let text = if pre.is_empty() {
        text
    } else {
        text.split_inclusive('\n')
            .enumerate()
            .map(|(i, l)| {
                if i < skip {
                    if l.ends_with('\n') {
                        "\n"
                    } else {
                        ""
                    }
                } else {
                    l
                }
            })
            .collect::<String>()
    };
    let fmt = detect(&text).ok_or_else(|| {
        Error::data("unrecognised export format (expected RIS, MEDLINE, PubMed XML, Web of Science tagged, BibTeX, EndNote XML/tagged, ICTRP XML or CSV, including ClinicalTrials.gov's)")
            .file(path)
            .line(1)
    })?;
    let name = path.display().to_string();
    let recs = match fmt {
        Format::Ris => parse_ris(&text, &name, database),
        Format::Medline => parse_medline(&text, &name, database),
        Format::WosTagged => parse_wos(&text, &name, database),
        Format::Csv => parse_csv(&text, &name, database),
        Format::Bibtex => parse_bibtex(&text, &name, database),
        Format::EndnoteXml => parse_endnote_xml(&text, &name, database),
        Format::EndnoteTagged => parse_enw(&text, &name, database),
        Format::PubmedXml => parse_pubmed_xml(&text, &name, database),
        Format::IctrpXml => parse_ictrp_xml(&text, &name, database),
    }
    .map_err(|e| e.file(path))?;
    if recs.is_empty() {
        return Err(Error::data("no records found").file(path));
    }
    let mut recs = recs;
    let mut warnings: Vec<String> = warning
        .into_iter()
        .map(|w| format!("{name}: {w}"))
        .collect();
    if !pre.is_empty() {
        warnings.push(format!("{name}: skipped a {}-line preamble before the first record (kept in that record's extra as PREAMBLE)", pre.len()));
        recs[0]
            .extra
            .insert(0, ("PREAMBLE".into(), pre.join(" | ")));
    }
    Ok((recs, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ris_with_continuation_and_crlf() {
        let t = "TY  - JOUR\r\nID  - 7\r\nTI  - A title\r\n  continued\r\nAU  - Doe, J\r\nAU  - Roe, R\r\nPY  - 2021//\r\nSP  - 10\r\nEP  - 12\r\nXX  - kept\r\nER  - \r\n";
        let r = parse_ris(t, "f", "embase").unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].record_id, "embase:7");
        assert_eq!(r[0].title.as_deref(), Some("A title continued"));
        assert_eq!(r[0].authors, vec!["Doe, J", "Roe, R"]);
        assert_eq!(r[0].year, Some(2021));
        assert_eq!(r[0].pages.as_deref(), Some("10-12"));
        assert_eq!(r[0].extra, vec![("XX".to_string(), "kept".to_string())]);
    }

    #[test]
    fn ris_truncated_is_an_error_with_line() {
        let e = parse_ris("TY  - JOUR\nTI  - x\n", "f", "db").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert_eq!(e.field.as_deref(), Some("ER"));
    }

    #[test]
    fn medline_record() {
        let t = "PMID- 123\nTI  - Long title\n      goes on.\nAU  - Doe J\nDP  - 2021 Dec\nLID - 10.1/x [doi]\nPG  - 1427-38\n\nPMID- 124\nTI  - Other\n";
        let r = parse_medline(t, "f", "pubmed").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].title.as_deref(), Some("Long title goes on."));
        assert_eq!(r[0].doi.as_deref(), Some("10.1/x"));
        assert_eq!(r[1].source_line, 9);
    }

    #[test]
    fn wos_record_parsed() {
        let t = "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Doe, J\n   Roe, R\nTI A TITLE\n   CONTINUED\nPY 2021\nBP 5\nEP 9\nUT WOS:0001\nER\n\nEF\n";
        let r = parse_wos(t, "f", "wos").unwrap();
        assert_eq!(r[0].authors, vec!["Doe, J", "Roe, R"]);
        assert_eq!(r[0].title.as_deref(), Some("A TITLE CONTINUED"));
        assert_eq!(r[0].record_id, "wos:WOS:0001");
        assert_eq!(r[0].pages.as_deref(), Some("5-9"));
    }

    #[test]
    fn detects_formats() {
        assert_eq!(detect("\nPMID- 1\n"), Some(Format::Medline));
        assert_eq!(detect("TY  - JOUR\n"), Some(Format::Ris));
        assert_eq!(detect("FN Clarivate\n"), Some(Format::WosTagged));
        assert_eq!(detect("ID,title\n"), Some(Format::Csv));
        assert_eq!(detect("hello\n"), None);
        assert_eq!(detect("@article{x,\n"), Some(Format::Bibtex));
        assert_eq!(
            detect("<?xml version=\"1.0\"?><xml>"),
            Some(Format::EndnoteXml)
        );
        assert_eq!(detect("%0 Journal Article\n"), Some(Format::EndnoteTagged));
    }

    #[test]
    fn latin1_recovered_with_warning() {
        let (s, w) = decode(b"TY  - JOUR\nTI  - Caf\xe9\n", Path::new("x")).unwrap();
        assert!(s.contains("Café"));
        assert!(w.unwrap().contains("Latin-1"));
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;

    #[test]
    fn csv_records_keep_the_line_they_start_on() {
        let t = "ID,title,abstract,year\n1,First,\"an abstract\nover two lines\",2020\n2,Second,,2021\n3,Third,x,21x\n";
        let e = parse_csv(t, "f.csv", "db").unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
        let t = "ID,title,abstract,year\n1,First,\"an abstract\nover two lines\",2020\n2,Second,,2021\n";
        let r = parse_csv(t, "f.csv", "db").unwrap();
        let lines: Vec<usize> = r.iter().map(|r| r.source_line).collect();
        assert_eq!(lines, [2, 4]);
    }

    #[test]
    fn bibtex_entry() {
        let t = "@article{decl2021,\n  title = {Effect of {Anti-Interleukin} drugs (\\'{e}t\\'e)},\n  author = {Declercq, J. and Van Damme, K. F.},\n  journal = \"Lancet Respir Med\",\n  year = 2021, volume = {9}, pages = {1427--1438},\n  keywords = {x}\n}\n";
        let r = parse_bibtex(t, "f", "wos").unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].record_id, "wos:decl2021");
        assert_eq!(
            r[0].title.as_deref(),
            Some("Effect of Anti-Interleukin drugs (été)")
        );
        assert_eq!(r[0].authors.len(), 2);
        assert_eq!(r[0].year, Some(2021));
        assert_eq!(r[0].pages.as_deref(), Some("1427-1438"));
        assert_eq!(r[0].extra, vec![("keywords".to_string(), "x".to_string())]);
    }

    #[test]
    fn bibtex_unbalanced_names_the_entry_line() {
        let t = "@article{a, title={ok}}\n\n@article{b,\n title = {never closed,\n year = 2020\n";
        let e = parse_bibtex(t, "f", "db").unwrap_err();
        assert_eq!(e.line, Some(3));
    }

    #[test]
    fn enw_records() {
        let t = "%0 Journal Article\n%A Doe, J\n%A Roe, R\n%T A title\n%J J Med\n%D 2020\n%P 1-9\n%M 42\n\n%0 Journal Article\n%T Other\n";
        let r = parse_enw(t, "f", "endnote").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].record_id, "endnote:42");
        assert_eq!(r[0].authors, vec!["Doe, J", "Roe, R"]);
        assert_eq!(r[1].source_line, 10);
    }

    #[test]
    fn endnote_xml_records_and_errors() {
        let t = "<?xml version=\"1.0\"?>\n<xml><records>\n<record><rec-number>7</rec-number><contributors><authors><author><style>Doe, J</style></author></authors></contributors>\n<titles><title><style>A &amp; B</style></title><secondary-title>J Med</secondary-title></titles>\n<dates><year>2021</year></dates><pages>3-9</pages></record>\n</records></xml>\n";
        let r = parse_endnote_xml(t, "f", "en").unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].record_id, "en:7");
        assert_eq!(r[0].title.as_deref(), Some("A & B"));
        assert_eq!(r[0].authors, vec!["Doe, J"]);
        assert_eq!(r[0].journal.as_deref(), Some("J Med"));
        assert_eq!(r[0].year, Some(2021));
        assert!(parse_endnote_xml(
            "<xml><records><record><title>x</record></records></xml>",
            "f",
            "en"
        )
        .is_err());
        assert!(parse_endnote_xml("<xml><records><record>", "f", "en").is_err());
    }
}
