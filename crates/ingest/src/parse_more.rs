//! Parsers for BibTeX, EndNote XML and EndNote tagged (refer, `.enw`) exports.

use crate::parse::{finish, push_text as set, year_of, Record};
use metapipe_tables::{Error, Result};

/// Strip BibTeX braces and common LaTeX accents/escapes from a field value.
pub fn delatex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' | '}' => {}
            '\\' => {
                // \'e \"o \`a \^o \~n \c{c} \& \% \_ and \command
                match chars.peek().copied() {
                    Some(a @ ('\'' | '"' | '`' | '^' | '~' | '=' | '.')) => {
                        chars.next();
                        let mut base = chars.next();
                        if base == Some('{') {
                            base = chars.next();
                            if chars.peek() == Some(&'}') {
                                chars.next();
                            }
                        }
                        if let Some(b) = base {
                            out.push(accent(a, b));
                        }
                    }
                    Some(x @ ('&' | '%' | '_' | '$' | '#' | '{' | '}')) => {
                        chars.next();
                        out.push(x);
                    }
                    _ => {
                        let mut cmd = String::new();
                        while let Some(&x) = chars.peek() {
                            if x.is_ascii_alphabetic() {
                                cmd.push(x);
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        match cmd.as_str() {
                            "ss" => out.push('ß'),
                            "o" => out.push('ø'),
                            "ae" => out.push('æ'),
                            "c" | "textit" | "emph" | "textbf" | "mathrm" => {}
                            _ => {}
                        }
                    }
                }
            }
            c => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn accent(a: char, b: char) -> char {
    let table: &[(char, char, char)] = &[
        ('\'', 'e', 'é'), ('\'', 'a', 'á'), ('\'', 'i', 'í'), ('\'', 'o', 'ó'), ('\'', 'u', 'ú'), ('\'', 'E', 'É'),
        ('`', 'e', 'è'), ('`', 'a', 'à'), ('^', 'e', 'ê'), ('^', 'o', 'ô'), ('^', 'a', 'â'), ('"', 'o', 'ö'),
        ('"', 'u', 'ü'), ('"', 'a', 'ä'), ('"', 'O', 'Ö'), ('"', 'U', 'Ü'), ('"', 'A', 'Ä'), ('~', 'n', 'ñ'),
        ('~', 'a', 'ã'), ('~', 'o', 'õ'),
    ];
    table.iter().find(|(x, y, _)| *x == a && *y == b).map(|t| t.2).unwrap_or(b)
}

/// BibTeX: `@type{key, field = {value} | "value" | number, ...}`. Braces must balance; an
/// unbalanced entry is an error naming the line where it starts.
pub fn parse_bibtex(text: &str, file: &str, database: &str) -> Result<Vec<Record>> {
    let b: Vec<char> = text.chars().collect();
    let mut line_at = Vec::with_capacity(b.len() + 1);
    let mut ln = 1;
    for c in &b {
        line_at.push(ln);
        if *c == '\n' {
            ln += 1;
        }
    }
    line_at.push(ln);
    let mut i = 0;
    let mut out = vec![];
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_whitespace() {
            *i += 1;
        }
    };
    while i < b.len() {
        if b[i] != '@' {
            i += 1;
            continue;
        }
        let start_line = line_at[i];
        i += 1;
        let mut ty = String::new();
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            ty.push(b[i]);
            i += 1;
        }
        skip_ws(&mut i);
        if i >= b.len() || (b[i] != '{' && b[i] != '(') {
            return Err(Error::data(format!("@{ty}: expected '{{' after the entry type")).line(line_at[i.min(b.len())]));
        }
        let close = if b[i] == '{' { '}' } else { ')' };
        i += 1;
        let lt = ty.to_ascii_lowercase();
        if lt == "comment" || lt == "preamble" || lt == "string" {
            // skip to the matching close
            let mut depth = 1;
            while i < b.len() && depth > 0 {
                if b[i] == '{' {
                    depth += 1
                } else if b[i] == '}' {
                    depth -= 1
                }
                i += 1;
            }
            if depth > 0 {
                return Err(Error::data(format!("@{ty} not closed")).line(start_line));
            }
            continue;
        }
        // key
        let mut key = String::new();
        while i < b.len() && b[i] != ',' && b[i] != close {
            key.push(b[i]);
            i += 1;
        }
        let mut r = Record { database: database.into(), source_file: file.into(), source_line: start_line, entry_type: Some(lt.clone()), ..Default::default() };
        let mut pages = None;
        loop {
            skip_ws(&mut i);
            if i >= b.len() {
                return Err(Error::data(format!("entry {:?} is not closed (unbalanced braces)", key.trim())).line(start_line));
            }
            if b[i] == close {
                i += 1;
                break;
            }
            if b[i] == ',' {
                i += 1;
                continue;
            }
            let mut name = String::new();
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '_' || b[i] == '-') {
                name.push(b[i].to_ascii_lowercase());
                i += 1;
            }
            skip_ws(&mut i);
            if name.is_empty() || i >= b.len() || b[i] != '=' {
                return Err(Error::data(format!("entry {:?}: expected `field = value`", key.trim())).line(line_at[i.min(b.len())]).field(name));
            }
            i += 1;
            skip_ws(&mut i);
            let mut value = String::new();
            loop {
                skip_ws(&mut i);
                if i >= b.len() {
                    return Err(Error::data(format!("entry {:?} is not closed (unbalanced braces)", key.trim())).line(start_line).field(name));
                }
                match b[i] {
                    '{' => {
                        let mut depth = 0;
                        let vstart = i;
                        loop {
                            if i >= b.len() {
                                return Err(Error::data(format!("field value opened on line {} is not closed", line_at[vstart])).line(start_line).field(name));
                            }
                            match b[i] {
                                '{' => depth += 1,
                                '}' => {
                                    depth -= 1;
                                    if depth == 0 {
                                        i += 1;
                                        break;
                                    }
                                }
                                _ => {}
                            }
                            value.push(b[i]);
                            i += 1;
                        }
                    }
                    '"' => {
                        i += 1;
                        let mut depth = 0;
                        while i < b.len() && !(b[i] == '"' && depth == 0) {
                            if b[i] == '{' {
                                depth += 1
                            } else if b[i] == '}' {
                                depth -= 1
                            }
                            value.push(b[i]);
                            i += 1;
                        }
                        if i >= b.len() {
                            return Err(Error::data("quoted value is not closed").line(start_line).field(name));
                        }
                        i += 1;
                    }
                    _ => {
                        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == '_' || b[i] == '-') {
                            value.push(b[i]);
                            i += 1;
                        }
                    }
                }
                skip_ws(&mut i);
                if i < b.len() && b[i] == '#' {
                    i += 1;
                    continue;
                }
                break;
            }
            let v = delatex(&value);
            match name.as_str() {
                "title" => set(&mut r.title, &v),
                "author" => r.authors = v.split(" and ").map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect(),
                "journal" | "journaltitle" | "booktitle" => set(&mut r.journal, &v),
                "year" | "date" => r.year = r.year.or(year_of(&v)),
                "volume" => set(&mut r.volume, &v),
                "number" | "issue" => set(&mut r.issue, &v),
                "pages" => pages = Some(v.replace("--", "-")),
                "doi" => set(&mut r.doi, &v),
                "abstract" => set(&mut r.abstract_, &v),
                _ => r.extra.push((name.clone(), v)),
            }
        }
        r.pages = pages;
        out.push(finish(r, Some(key.trim().to_string()), database));
    }
    Ok(out)
}

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
    let line_of = |pos: u64| text.as_bytes()[..(pos as usize).min(text.len())].iter().filter(|&&c| c == b'\n').count() + 1;
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
                if name == "style" || name == "author" || stack.last().map(|s| s != "style").unwrap_or(true) {
                    if name != "style" {
                        buf.clear();
                    }
                }
                stack.push(name);
            }
            Event::Empty(_) => {}
            Event::Text(t) => buf.push_str(&t.xml10_content()),
            Event::CData(t) => buf.push_str(&t),
            Event::GeneralRef(r) => {
                let name = r.to_string();
                let c = match name.as_str() {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => r.resolve_char_ref().ok().flatten(),
                };
                if let Some(c) = c {
                    buf.push(c);
                }
            }
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
                        (n, _) if !v.is_empty() && !["authors", "contributors", "titles", "periodical", "dates", "records", "xml", "urls", "related-urls", "pub-dates", "keywords"].contains(&n) => r.extra.push((n.to_string(), v.clone())),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bibtex_entry() {
        let t = "@article{decl2021,\n  title = {Effect of {Anti-Interleukin} drugs (\\'{e}t\\'e)},\n  author = {Declercq, J. and Van Damme, K. F.},\n  journal = \"Lancet Respir Med\",\n  year = 2021, volume = {9}, pages = {1427--1438},\n  keywords = {x}\n}\n";
        let r = parse_bibtex(t, "f", "wos").unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].record_id, "wos:decl2021");
        assert_eq!(r[0].title.as_deref(), Some("Effect of Anti-Interleukin drugs (été)"));
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
        assert!(parse_endnote_xml("<xml><records><record><title>x</record></records></xml>", "f", "en").is_err());
        assert!(parse_endnote_xml("<xml><records><record>", "f", "en").is_err());
    }
}
