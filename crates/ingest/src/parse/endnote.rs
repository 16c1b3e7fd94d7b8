//! EndNote exports: tagged (refer, `.enw`: `%T value`) and XML.

use super::record::{finish, push_text as set, year_of, Record};
use metapipe_tables::{Error, Result};

/// EndNote tagged ("refer"/`.enw`): `%X value` lines, records separated by blank lines.
pub fn parse_enw(text: &str, file: &str, database: &str) -> Result<Vec<Record>> {
    let mut out = vec![];
    let mut cur: Option<(Record, Option<String>)> = None;
    let flush = |cur: &mut Option<(Record, Option<String>)>, out: &mut Vec<Record>| {
        if let Some((r, id)) = cur.take() {
            out.push(finish(r, id, database));
        }
    };
    for (n, raw) in text.lines().enumerate() {
        let ln = n + 1;
        let l = raw.trim_end_matches('\r').trim_start_matches('\u{feff}');
        if l.trim().is_empty() {
            flush(&mut cur, &mut out);
            continue;
        }
        let bytes = l.as_bytes();
        if bytes[0] != b'%' || bytes.len() < 2 {
            match cur.as_mut() {
                Some((r, _)) => {
                    // continuation of an abstract or title
                    if let Some(a) = r.abstract_.as_mut() {
                        a.push(' ');
                        a.push_str(l.trim());
                    }
                    continue;
                }
                None => {
                    return Err(Error::data(format!(
                        "not an EndNote tagged line: {:?}",
                        l.chars().take(40).collect::<String>()
                    ))
                    .line(ln))
                }
            }
        }
        let Some(tag) = l.get(1..2).map(String::from) else {
            return Err(Error::data("bad EndNote tag (expected %X)").line(ln));
        };
        let val = l.get(3..).unwrap_or("").trim();
        let (r, id) = cur.get_or_insert_with(|| {
            (
                Record {
                    database: database.into(),
                    source_file: file.into(),
                    source_line: ln,
                    ..Default::default()
                },
                None,
            )
        });
        match tag.as_str() {
            "0" => r.entry_type = Some(val.into()),
            "A" => r.authors.push(val.into()),
            "T" => set(&mut r.title, val),
            "J" | "B" => set(&mut r.journal, val),
            "D" => r.year = r.year.or(year_of(val)),
            "V" => set(&mut r.volume, val),
            "N" => set(&mut r.issue, val),
            "P" => set(&mut r.pages, val),
            "R" => set(&mut r.doi, val),
            "X" => set(&mut r.abstract_, val),
            "M" | "F" => {
                if id.is_none() {
                    *id = Some(val.into())
                }
            }
            _ => r.extra.push((format!("%{tag}"), val.into())),
        }
    }
    flush(&mut cur, &mut out);
    Ok(out)
}

/// Elements of an EndNote XML record that hold others (their text is their children's).
const CONTAINERS: [&str; 11] = [
    "authors",
    "contributors",
    "titles",
    "periodical",
    "dates",
    "records",
    "xml",
    "urls",
    "related-urls",
    "pub-dates",
    "keywords",
];

/// EndNote XML (`<xml><records><record>…`), on the shared XML walker (`xml.rs`). `<style>`
/// runs inside a field are its text; leaf elements without a mapping are kept in `extra`.
pub fn parse_endnote_xml(text: &str, file: &str, database: &str) -> Result<Vec<Record>> {
    super::xml::records(text, file, database, "record", |r, id, e| {
        if e.name == "style" {
            return;
        }
        let v = e.raw.trim();
        match (e.name, e.parent()) {
            ("rec-number", _) => *id = Some(v.to_string()),
            ("ref-type", _) => {}
            ("author", "authors") => r.authors.push(v.to_string()),
            ("title", "titles") => set(&mut r.title, v),
            ("secondary-title", "titles") | ("full-title", "periodical") => set(&mut r.journal, v),
            ("abbr-1", "periodical") => set(&mut r.journal_abbrev, v),
            ("year", "dates") => r.year = r.year.or(year_of(v)),
            ("volume", _) => set(&mut r.volume, v),
            ("number", _) => set(&mut r.issue, v),
            ("pages", _) => set(&mut r.pages, v),
            ("electronic-resource-num", _) => set(&mut r.doi, v),
            ("abstract", _) => set(&mut r.abstract_, v),
            (n, _) if e.leaf && !v.is_empty() && !CONTAINERS.contains(&n) => {
                r.extra.push((n.to_string(), v.to_string()))
            }
            _ => {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endnote_xml_styles_containers_and_extra() {
        let t = "<xml><records><record><rec-number>12</rec-number><foreign-keys><key app=\"EN\">12</key></foreign-keys>\
            <contributors><authors><author><style face=\"normal\">Doe, J.</style></author></authors><secondary-authors><author>Editor, E.</author></secondary-authors></contributors>\
            <titles><title><style>Anakinra in </style><style face=\"italic\">severe</style><style> COVID-19</style></title></titles>\
            <abstract>  Background:  the trial.\nMethods: randomised. </abstract><work-type>RCT</work-type></record></records></xml>";
        let r = &parse_endnote_xml(t, "f", "en").unwrap()[0];
        assert_eq!(r.record_id, "en:12");
        assert_eq!(
            r.title.as_deref(),
            Some("Anakinra in severe COVID-19"),
            "styled runs are the field's text"
        );
        assert_eq!(r.authors, vec!["Doe, J."]);
        assert_eq!(
            r.abstract_.as_deref(),
            Some("Background:  the trial.\nMethods: randomised."),
            "trimmed, written whitespace kept"
        );
        let extra: Vec<(&str, &str)> = r
            .extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            extra,
            vec![
                ("key", "12"),
                ("author", "Editor, E."),
                ("work-type", "RCT")
            ],
            "leaves only: no container text"
        );
    }
}
