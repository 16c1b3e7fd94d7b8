//! Parsers for bibliographic search exports: RIS (Embase, Ovid, Cochrane, EndNote, Scopus
//! flavours), PubMed MEDLINE (.nbib/.txt), Web of Science tagged plain text, and CSV (including
//! the bib-dedupe benchmark layout). The format is detected from the content. Every record keeps
//! its source file, line and database; tags the model does not map are kept in `extra`.
//!
//! `biblib` (crates.io) was considered first; it does not report the source line of a record or
//! of a malformed field, which our error contract needs, so these line-oriented formats are
//! parsed here (each is a few dozen lines).

use metapipe_tables::{Error, Result};
use std::path::Path;

/// One bibliographic record as exported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    /// `<database>:<accession>` (or `<database>:L<line>` when the export gives no id)
    pub record_id: String,
    pub database: String,
    pub source_file: String,
    /// 1-based line where the record starts
    pub source_line: usize,
    pub entry_type: Option<String>,
    pub title: Option<String>,
    pub authors: Vec<String>,
    pub year: Option<i64>,
    pub journal: Option<String>,
    pub journal_abbrev: Option<String>,
    pub volume: Option<String>,
    pub issue: Option<String>,
    pub pages: Option<String>,
    pub doi: Option<String>,
    pub abstract_: Option<String>,
    /// unmapped tags, in order
    pub extra: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Ris,
    Medline,
    WosTagged,
    Csv,
    Bibtex,
    EndnoteXml,
    EndnoteTagged,
}

/// Decode bytes: UTF-8 (BOM stripped); UTF-16 with BOM; otherwise Latin-1 with a warning.
pub fn decode(bytes: &[u8], path: &Path) -> Result<(String, Option<String>)> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let le = bytes[0] == 0xFF;
        let units: Vec<u16> = bytes[2..].chunks(2).filter(|c| c.len() == 2).map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) }).collect();
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
            Ok((b.iter().map(|&c| c as char).collect(), Some(format!("line {line}: not valid UTF-8; decoded as Latin-1"))))
        }
    }
}

/// Detect the export format from the first non-blank line.
pub fn detect(text: &str) -> Option<Format> {
    let first = text.lines().map(|l| l.trim_end()).find(|l| !l.trim().is_empty())?;
    let t = first.trim_start();
    if t.starts_with('@') || t.starts_with('%') && t.len() > 2 && t.as_bytes()[1] == b' ' {
        return Some(if t.starts_with('@') { Format::Bibtex } else { Format::EndnoteTagged });
    }
    if t.starts_with("%0 ") || t.starts_with("%A ") || t.starts_with("%T ") {
        return Some(Format::EndnoteTagged);
    }
    if t.starts_with("<?xml") || t.starts_with("<xml") || t.starts_with("<records") {
        return Some(Format::EndnoteXml);
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

fn is_ris_tag(l: &str) -> bool {
    let b = l.as_bytes();
    b.len() >= 5 && b[0].is_ascii_uppercase() && (b[1].is_ascii_uppercase() || b[1].is_ascii_digit()) && &b[2..5] == b"  -"
}

/// Parse one export file. `database` names the source (e.g. `pubmed`).
pub fn parse_file(path: &Path, database: &str) -> Result<(Vec<Record>, Vec<String>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.is_empty() {
        return Err(Error::data("empty file: no records").file(path));
    }
    let (text, warning) = decode(&bytes, path)?;
    let fmt = detect(&text).ok_or_else(|| Error::data("unrecognised export format (expected RIS, MEDLINE, Web of Science tagged, BibTeX, EndNote XML/tagged or CSV)").file(path).line(1))?;
    let name = path.display().to_string();
    let recs = match fmt {
        Format::Ris => parse_ris(&text, &name, database),
        Format::Medline => parse_medline(&text, &name, database),
        Format::WosTagged => parse_wos(&text, &name, database),
        Format::Csv => parse_csv(&text, &name, database),
        Format::Bibtex => crate::parse_more::parse_bibtex(&text, &name, database),
        Format::EndnoteXml => crate::parse_more::parse_endnote_xml(&text, &name, database),
        Format::EndnoteTagged => crate::parse_more::parse_enw(&text, &name, database),
    }
    .map_err(|e| e.file(path))?;
    if recs.is_empty() {
        return Err(Error::data("no records found").file(path));
    }
    Ok((recs, warning.into_iter().map(|w| format!("{name}: {w}")).collect()))
}

/// The first stand-alone four-digit year (1800–2100) in a field.
pub(crate) fn year_of(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    (0..b.len().saturating_sub(3)).find_map(|i| {
        let w = &b[i..i + 4];
        let bounded = (i == 0 || !b[i - 1].is_ascii_digit()) && (i + 4 == b.len() || !b[i + 4].is_ascii_digit());
        if bounded && w.iter().all(|c| c.is_ascii_digit()) {
            std::str::from_utf8(w).ok()?.parse().ok().filter(|y| (1800..=2100).contains(y))
        } else {
            None
        }
    })
}

/// Set a text field once (the first non-empty value wins).
pub(crate) fn push_text(slot: &mut Option<String>, v: &str) {
    if slot.is_none() && !v.trim().is_empty() {
        *slot = Some(v.trim().to_string());
    }
}

/// Give a parsed record its id: `<database>:<accession>`, or `<database>:L<line>` without one.
pub(crate) fn finish(mut r: Record, id: Option<String>, database: &str) -> Record {
    r.record_id = match id {
        Some(i) if !i.trim().is_empty() => format!("{database}:{}", i.trim()),
        _ => format!("{database}:L{}", r.source_line),
    };
    r
}

/// RIS: `TG  - value` lines, records closed by `ER  -`.
pub fn parse_ris(text: &str, file: &str, database: &str) -> Result<Vec<Record>> {
    let mut out = vec![];
    let mut cur: Option<(Record, Option<String>, Vec<(String, String)>)> = None;
    let mut last_line = 0;
    for (n, raw) in text.lines().enumerate() {
        let ln = n + 1;
        let l = raw.trim_end_matches('\r').trim_start_matches('\u{feff}');
        if l.trim().is_empty() {
            continue;
        }
        last_line = ln;
        if is_ris_tag(l) || l == "ER  -" || l.starts_with("ER  -") {
            let tag = &l[..2];
            let val = l.get(6..).unwrap_or("").trim();
            if tag == "TY" {
                if cur.is_some() {
                    return Err(Error::data("record not closed by ER before the next TY").line(ln).field("TY"));
                }
                let r = Record { database: database.into(), source_file: file.into(), source_line: ln, entry_type: Some(val.into()), ..Default::default() };
                cur = Some((r, None, vec![]));
                continue;
            }
            let Some((r, id, tags)) = cur.as_mut() else {
                return Err(Error::data(format!("tag {tag} outside a record (expected TY first)")).line(ln).field(tag));
            };
            if tag == "ER" {
                let (mut r, id, tags) = cur.take().unwrap();
                apply_ris(&mut r, &tags);
                out.push(finish(r, id, database));
                continue;
            }
            if matches!(tag, "ID" | "AN" | "U1") && id.is_none() && !val.is_empty() {
                *id = Some(val.to_string());
            }
            let _ = r;
            tags.push((tag.to_string(), val.to_string()));
        } else if let Some((_, _, tags)) = cur.as_mut() {
            // continuation line
            match tags.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(l.trim());
                }
                None => return Err(Error::data("text before the first tag of a record").line(ln)),
            }
        } else {
            return Err(Error::data(format!("not an RIS line: {:?}", truncate(l))).line(ln));
        }
    }
    if cur.is_some() {
        return Err(Error::data("truncated: last record has no ER line").line(last_line).field("ER"));
    }
    Ok(out)
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

fn apply_ris(r: &mut Record, tags: &[(String, String)]) {
    let (mut sp, mut ep) = (None, None);
    for (t, v) in tags {
        match t.as_str() {
            "TI" | "T1" | "CT" => push_text(&mut r.title, v),
            "AU" | "A1" => r.authors.push(v.clone()),
            "JO" | "JF" | "T2" => push_text(&mut r.journal, v),
            "JA" | "J2" => push_text(&mut r.journal_abbrev, v),
            "PY" | "Y1" | "DA" => {
                if r.year.is_none() {
                    r.year = year_of(v)
                }
            }
            "VL" => push_text(&mut r.volume, v),
            "IS" => push_text(&mut r.issue, v),
            "SP" => sp = Some(v.clone()),
            "EP" => ep = Some(v.clone()),
            "DO" => push_text(&mut r.doi, v),
            "AB" | "N2" => push_text(&mut r.abstract_, v),
            "ID" => {}
            _ => r.extra.push((t.clone(), v.clone())),
        }
    }
    r.pages = match (sp, ep) {
        (Some(s), Some(e)) if !e.is_empty() => Some(format!("{s}-{e}")),
        (Some(s), _) => Some(s),
        _ => None,
    };
}

/// PubMed MEDLINE: 4-character tags padded to `TAG - `, continuation lines indented 6 spaces,
/// records separated by blank lines.
pub fn parse_medline(text: &str, file: &str, database: &str) -> Result<Vec<Record>> {
    let mut out = vec![];
    let mut tags: Vec<(String, String)> = vec![];
    let mut start = 0;
    let flush = |tags: &mut Vec<(String, String)>, start: usize, out: &mut Vec<Record>| {
        if tags.is_empty() {
            return;
        }
        let mut r = Record { database: database.into(), source_file: file.into(), source_line: start, entry_type: Some("JOUR".into()), ..Default::default() };
        let mut id = None;
        let mut short_authors = vec![];
        let mut full_authors = vec![];
        for (t, v) in tags.drain(..) {
            match t.as_str() {
                "PMID" => id = Some(v),
                "TI" => push_text(&mut r.title, &v),
                "AU" => short_authors.push(v),
                "FAU" => full_authors.push(v),
                "DP" => r.year = r.year.or(year_of(&v)),
                "JT" => push_text(&mut r.journal, &v),
                "TA" => push_text(&mut r.journal_abbrev, &v),
                "VI" => push_text(&mut r.volume, &v),
                "IP" => push_text(&mut r.issue, &v),
                "PG" => push_text(&mut r.pages, &v),
                "LID" | "AID" if v.ends_with("[doi]") => push_text(&mut r.doi, v.trim_end_matches("[doi]")),
                "AB" => push_text(&mut r.abstract_, &v),
                _ => r.extra.push((t, v)),
            }
        }
        r.authors = if short_authors.is_empty() { full_authors } else { short_authors };
        out.push(finish(r, id, database));
    };
    for (n, raw) in text.lines().enumerate() {
        let ln = n + 1;
        let l = raw.trim_end_matches('\r').trim_start_matches('\u{feff}');
        if l.trim().is_empty() {
            flush(&mut tags, start, &mut out);
            continue;
        }
        if l.starts_with("      ") {
            match tags.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(l.trim());
                }
                None => return Err(Error::data("continuation line with no tag before it").line(ln)),
            }
            continue;
        }
        let (tag, val) = match (l.get(..4), l.get(4..6)) {
            (Some(t), Some("- ")) | (Some(t), Some("-")) => (t.trim().to_string(), l.get(6..).unwrap_or("").trim().to_string()),
            _ => return Err(Error::data(format!("not a MEDLINE line: {:?}", truncate(l))).line(ln)),
        };
        if tag.is_empty() || !tag.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
            return Err(Error::data(format!("bad MEDLINE tag {tag:?}")).line(ln));
        }
        if tag == "PMID" {
            flush(&mut tags, start, &mut out);
        }
        if tags.is_empty() {
            start = ln;
            if tag != "PMID" {
                return Err(Error::data("record does not start with PMID").line(ln).field(&tag));
            }
        }
        tags.push((tag, val));
    }
    flush(&mut tags, start, &mut out);
    Ok(out)
}

/// Web of Science tagged plain text: 2-character tags, continuation lines indented 3 spaces,
/// records closed by `ER`, file framed by `FN`/`VR` and `EF`.
pub fn parse_wos(text: &str, file: &str, database: &str) -> Result<Vec<Record>> {
    let mut out = vec![];
    let mut tags: Vec<(String, String)> = vec![];
    let mut start = 0;
    let mut in_rec = false;
    let mut last = 0;
    for (n, raw) in text.lines().enumerate() {
        let ln = n + 1;
        let l = raw.trim_end_matches('\r').trim_start_matches('\u{feff}');
        if l.trim().is_empty() {
            continue;
        }
        last = ln;
        if let Some(rest) = l.strip_prefix("   ") {
            match tags.last() {
                Some((t, _)) if in_rec => {
                    let t = t.clone();
                    tags.push((t, rest.trim().to_string()));
                }
                _ => return Err(Error::data("continuation line outside a record").line(ln)),
            }
            continue;
        }
        let tag = l.get(..2).unwrap_or("");
        let val = l.get(3..).unwrap_or("").trim();
        if !tag.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) || (l.len() > 2 && l.as_bytes()[2] != b' ') {
            return Err(Error::data(format!("not a Web of Science line: {:?}", truncate(l))).line(ln));
        }
        match tag {
            "FN" | "VR" | "EF" if !in_rec => {}
            "PT" if !in_rec => {
                in_rec = true;
                start = ln;
                tags.push(("PT".into(), val.into()));
            }
            "ER" if in_rec => {
                out.push(wos_record(std::mem::take(&mut tags), start, file, database));
                in_rec = false;
            }
            _ if in_rec => tags.push((tag.into(), val.into())),
            _ => return Err(Error::data(format!("tag {tag} outside a record (expected PT)")).line(ln).field(tag)),
        }
    }
    if in_rec {
        return Err(Error::data("truncated: last record has no ER line").line(last).field("ER"));
    }
    Ok(out)
}

fn wos_record(tags: Vec<(String, String)>, start: usize, file: &str, database: &str) -> Record {
    let mut r = Record { database: database.into(), source_file: file.into(), source_line: start, ..Default::default() };
    let mut id = None;
    let (mut bp, mut ep, mut ar) = (None, None, None);
    let mut title_parts = vec![];
    let mut abs_parts = vec![];
    for (t, v) in tags {
        match t.as_str() {
            "PT" => r.entry_type = Some(v),
            "AU" => r.authors.push(v),
            "TI" => title_parts.push(v),
            "SO" => push_text(&mut r.journal, &v),
            "J9" | "JI" => push_text(&mut r.journal_abbrev, &v),
            "PY" => r.year = r.year.or(year_of(&v)),
            "VL" => push_text(&mut r.volume, &v),
            "IS" => push_text(&mut r.issue, &v),
            "BP" => bp = Some(v),
            "EP" => ep = Some(v),
            "AR" => ar = Some(v),
            "DI" => push_text(&mut r.doi, &v),
            "UT" => id = Some(v),
            "AB" => abs_parts.push(v),
            _ => r.extra.push((t, v)),
        }
    }
    if !title_parts.is_empty() {
        r.title = Some(title_parts.join(" "));
    }
    if !abs_parts.is_empty() {
        r.abstract_ = Some(abs_parts.join(" "));
    }
    r.pages = match (bp, ep, ar) {
        (Some(b), Some(e), _) => Some(format!("{b}-{e}")),
        (Some(b), None, _) => Some(b),
        (None, _, Some(a)) => Some(a),
        _ => None,
    };
    finish(r, id, database)
}

/// CSV with a header row. Known columns (case-insensitive): ID, title, year, author(s), journal,
/// volume, number/issue, pages, doi, abstract, ENTRYTYPE; others go to `extra`.
pub fn parse_csv(text: &str, file: &str, database: &str) -> Result<Vec<Record>> {
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let headers: Vec<String> = rdr.headers().map_err(|e| Error::data(e.to_string()).line(1))?.iter().map(|h| h.trim().to_string()).collect();
    let idx = |names: &[&str]| headers.iter().position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)));
    let (i_id, i_ti, i_yr, i_au, i_jo, i_vl, i_is, i_pg, i_doi, i_ab, i_ty) = (
        idx(&["ID", "record_id"]),
        idx(&["title"]),
        idx(&["year"]),
        idx(&["author", "authors"]),
        idx(&["journal", "booktitle"]),
        idx(&["volume"]),
        idx(&["number", "issue"]),
        idx(&["pages"]),
        idx(&["doi"]),
        idx(&["abstract"]),
        idx(&["ENTRYTYPE", "type"]),
    );
    if i_ti.is_none() {
        return Err(Error::data("CSV has no title column").line(1).field("title"));
    }
    let mut out = vec![];
    for (n, row) in rdr.records().enumerate() {
        let ln = n + 2;
        let row = row.map_err(|e| Error::data(e.to_string()).line(ln))?;
        let get = |i: Option<usize>| i.and_then(|i| row.get(i)).map(|s| s.trim()).filter(|s| !s.is_empty() && *s != "NA").map(String::from);
        let mut r = Record { database: database.into(), source_file: file.into(), source_line: ln, ..Default::default() };
        r.entry_type = get(i_ty);
        r.title = get(i_ti);
        if let Some(y) = get(i_yr) {
            r.year = Some(year_of(&y).ok_or_else(|| Error::data(format!("not a year: {y:?}")).line(ln).field("year"))?);
        }
        r.authors = get(i_au).map(|a| a.split(" and ").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()).unwrap_or_default();
        r.journal = get(i_jo);
        r.volume = get(i_vl);
        r.issue = get(i_is);
        r.pages = get(i_pg);
        r.doi = get(i_doi);
        r.abstract_ = get(i_ab);
        for (k, h) in headers.iter().enumerate() {
            if ![i_id, i_ti, i_yr, i_au, i_jo, i_vl, i_is, i_pg, i_doi, i_ab, i_ty].contains(&Some(k)) {
                if let Some(v) = row.get(k).filter(|v| !v.is_empty()) {
                    r.extra.push((h.clone(), v.to_string()));
                }
            }
        }
        let id = get(i_id);
        out.push(finish(r, id, database));
    }
    Ok(out)
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
        assert_eq!(detect("<?xml version=\"1.0\"?><xml>"), Some(Format::EndnoteXml));
        assert_eq!(detect("%0 Journal Article\n"), Some(Format::EndnoteTagged));
    }

    #[test]
    fn latin1_recovered_with_warning() {
        let (s, w) = decode(b"TY  - JOUR\nTI  - Caf\xe9\n", Path::new("x")).unwrap();
        assert!(s.contains("Café"));
        assert!(w.unwrap().contains("Latin-1"));
    }
}
