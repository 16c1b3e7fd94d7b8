//! PubMed MEDLINE (.nbib/.txt): `TAG - value` lines, records starting with `PMID-`.

use super::record::{finish, push_text, truncate, year_of, Record};
use metapipe_tables::{Error, Result};

/// PubMed MEDLINE: 4-character tags padded to `TAG - `, continuation lines indented 6 spaces,
/// records separated by blank lines.
pub fn parse_medline(text: &str, file: &str, database: &str) -> Result<Vec<Record>> {
    let mut out = vec![];
    let mut tags: Vec<(String, String)> = vec![];
    let mut start = 0;
    let flush = |tags: &mut Vec<(String, String)>, start: usize, out: &mut Vec<Record>| {
        if !tags.is_empty() {
            out.push(record(tags.drain(..), file, database, start));
        }
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
            (Some(t), Some("- ")) | (Some(t), Some("-")) => (
                t.trim().to_string(),
                l.get(6..).unwrap_or("").trim().to_string(),
            ),
            _ => {
                return Err(Error::data(format!("not a MEDLINE line: {:?}", truncate(l))).line(ln))
            }
        };
        if tag.is_empty()
            || !tag
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(Error::data(format!("bad MEDLINE tag {tag:?}")).line(ln));
        }
        if tag == "PMID" {
            flush(&mut tags, start, &mut out);
        }
        if tags.is_empty() {
            start = ln;
            if tag != "PMID" {
                return Err(Error::data("record does not start with PMID")
                    .line(ln)
                    .field(&tag));
            }
        }
        tags.push((tag, val));
    }
    flush(&mut tags, start, &mut out);
    Ok(out)
}

/// A record from its tags in order; `start` is the line of its PMID.
fn record(
    tags: impl Iterator<Item = (String, String)>,
    file: &str,
    database: &str,
    start: usize,
) -> Record {
    let mut r = Record {
        database: database.into(),
        source_file: file.into(),
        source_line: start,
        entry_type: Some("JOUR".into()),
        ..Default::default()
    };
    let mut id = None;
    let mut short_authors = vec![];
    let mut full_authors = vec![];
    for (t, v) in tags {
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
            "LID" | "AID" if v.ends_with("[doi]") => {
                push_text(&mut r.doi, v.trim_end_matches("[doi]"))
            }
            "AB" => push_text(&mut r.abstract_, &v),
            _ => r.extra.push((t, v)),
        }
    }
    r.authors = if short_authors.is_empty() {
        full_authors
    } else {
        short_authors
    };
    finish(r, id, database)
}
