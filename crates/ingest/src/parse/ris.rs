//! RIS (Embase, Ovid, Cochrane, EndNote, Scopus flavours): `TG  - value` lines, records closed
//! by `ER  -`.

use super::record::{finish, push_text, truncate, year_of, Record};
use metapipe_tables::{Error, Result};

pub(crate) fn is_ris_tag(l: &str) -> bool {
    let b = l.as_bytes();
    b.len() >= 5 && b[0].is_ascii_uppercase() && (b[1].is_ascii_uppercase() || b[1].is_ascii_digit()) && &b[2..5] == b"  -"
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
