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
                None => return Err(Error::data(format!("not an EndNote tagged line: {:?}", l.chars().take(40).collect::<String>())).line(ln)),
            }
        }
        let Some(tag) = l.get(1..2).map(String::from) else {
            return Err(Error::data("bad EndNote tag (expected %X)").line(ln));
        };
        let val = l.get(3..).unwrap_or("").trim();
        let (r, id) = cur.get_or_insert_with(|| (Record { database: database.into(), source_file: file.into(), source_line: ln, ..Default::default() }, None));
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

/// EndNote XML (`<xml><records><record>…`).
pub fn parse_endnote_xml(text: &str, file: &str, database: &str) -> Result<Vec<Record>> {
    use quick_xml::events::Event;
    use quick_xml::Reader;
    let mut reader = Reader::from_str(text);
    let line_of = super::record::LineIndex::new(text);
    let line_of = |pos: u64| line_of.line(pos as usize);
    let mut stack: Vec<String> = vec![];
    let mut out = vec![];
    let mut cur: Option<(Record, Option<String>)> = None;
    let mut buf = String::new();
    loop {
        let pos = reader.buffer_position();
        let ev = reader.read_event().map_err(|e| Error::data(format!("malformed XML: {e}")).line(line_of(reader.error_position())))?;
        match ev {
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if name == "record" {
                    cur = Some((Record { database: database.into(), source_file: file.into(), source_line: line_of(pos), ..Default::default() }, None));
                }
                if name != "style" && (name == "author" || stack.last().is_none_or(|s| s != "style")) {
                    buf.clear();
                }
                stack.push(name);
            }
            Event::Empty(_) => {}
            Event::Text(t) => buf.push_str(&t.xml10_content()),
            Event::CData(t) => buf.push_str(&t),
            Event::GeneralRef(r) => buf.extend(super::xml::entity(&r)),
            Event::End(e) => {
                let name = e.name().as_ref().to_string();
                match stack.pop() {
                    Some(open) if open == name => {}
                    Some(open) => return Err(Error::data(format!("</{name}> closes <{open}>")).line(line_of(pos)).field(name)),
                    None => return Err(Error::data(format!("</{name}> without an opening tag")).line(line_of(pos)).field(name)),
                }
                if name == "style" {
                    continue;
                }
                let parent = stack.last().cloned().unwrap_or_default();
                let v = buf.trim().to_string();
                if let Some((r, id)) = cur.as_mut() {
                    match (name.as_str(), parent.as_str()) {
                        ("rec-number", _) => *id = Some(v.clone()),
                        ("ref-type", _) => {}
                        ("author", "authors") => r.authors.push(v.clone()),
                        ("title", "titles") => set(&mut r.title, &v),
                        ("secondary-title", "titles") | ("full-title", "periodical") => set(&mut r.journal, &v),
                        ("abbr-1", "periodical") => set(&mut r.journal_abbrev, &v),
                        ("year", "dates") => r.year = r.year.or(year_of(&v)),
                        ("volume", _) => set(&mut r.volume, &v),
                        ("number", _) => set(&mut r.issue, &v),
                        ("pages", _) => set(&mut r.pages, &v),
                        ("electronic-resource-num", _) => set(&mut r.doi, &v),
                        ("abstract", _) => set(&mut r.abstract_, &v),
                        ("record", _) => {
                            let (r, id) = cur.take().unwrap();
                            out.push(finish(r, id, database));
                        }
                        (n, _) if !v.is_empty() && !["authors", "contributors", "titles", "periodical", "dates", "records", "xml", "urls", "related-urls", "pub-dates", "keywords"].contains(&n) => {
                            r.extra.push((n.to_string(), v.clone()))
                        }
                        _ => {}
                    }
                }
                buf.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(Error::data(format!("truncated: <{open}> is not closed")).line(text.lines().count()).field(open.clone()));
    }
    Ok(out)
}
