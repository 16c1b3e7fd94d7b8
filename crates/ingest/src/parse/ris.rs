//! RIS (Embase, Ovid, Cochrane, EndNote, Scopus flavours): `TG  - value` lines, records closed
//! by `ER  -`.

use super::record::{finish, push_text, truncate, year_of, Record};
use metapipe_tables::{Error, Result};

/// `TG  - value` (and the spacings real exports use: `TG  -value`, `TG - value`, `TG  -`).
pub(crate) fn is_ris_tag(l: &str) -> bool {
    ris_tag(l).is_some()
}

/// The tag and value of an RIS line.
fn ris_tag(l: &str) -> Option<(&str, &str)> {
    let b = l.as_bytes();
    if b.len() < 4
        || !b[0].is_ascii_uppercase()
        || !(b[1].is_ascii_uppercase() || b[1].is_ascii_digit())
    {
        return None;
    }
    let rest = &l[2..];
    let spaces = rest.len() - rest.trim_start_matches(' ').len();
    if !(1..=2).contains(&spaces) || !rest[spaces..].starts_with('-') {
        return None;
    }
    let val = &rest[spaces + 1..];
    // "TG  - value" or "TG  -value": a value after the dash, or nothing
    Some((&l[..2], val.strip_prefix(' ').unwrap_or(val).trim()))
}

/// RIS: `TG  - value` lines, records closed by `ER  -`.
///
/// Platforms that omit `ER` separate records by blank lines only: a file with no `ER` line and
/// several `TY` lines, each after a blank line, is read that way. Record numbering between
/// records ("2.", "Record #2 of 5") is kept as the next record's provenance (`NUMBER` in extra).
pub fn parse_ris(text: &str, file: &str, database: &str) -> Result<Vec<Record>> {
    let no_er_dialect = no_er_dialect(text);
    let mut out = vec![];
    let mut cur: Option<Open> = None;
    let mut number: Option<String> = None;
    let mut last_line = 0;
    let mut blank_before = false;
    for (n, raw) in text.lines().enumerate() {
        let ln = n + 1;
        let l = raw.trim_end_matches('\r').trim_start_matches('\u{feff}');
        if l.trim().is_empty() {
            blank_before = true;
            continue;
        }
        last_line = ln;
        let after_blank = std::mem::replace(&mut blank_before, false);
        if let Some((tag, val)) = ris_tag(l) {
            if tag == "TY" {
                if cur.is_some() && no_er_dialect && after_blank {
                    out.extend(cur.take().map(|c| close(c, database)));
                }
                if cur.is_some() {
                    return Err(Error::data("record not closed by ER before the next TY")
                        .line(ln)
                        .field("TY"));
                }
                let mut r = Record {
                    database: database.into(),
                    source_file: file.into(),
                    source_line: ln,
                    entry_type: Some(val.into()),
                    ..Default::default()
                };
                if let Some(num) = number.take() {
                    r.extra.push(("NUMBER".into(), num));
                }
                cur = Some((r, None, vec![]));
                continue;
            }
            let Some((_, id, tags)) = cur.as_mut() else {
                let why = format!("tag {tag} outside a record (expected TY first)");
                return Err(Error::data(why).line(ln).field(tag));
            };
            if tag == "ER" {
                out.extend(cur.take().map(|c| close(c, database)));
                continue;
            }
            if matches!(tag, "ID" | "AN" | "U1") && id.is_none() && !val.is_empty() {
                *id = Some(val.to_string());
            }
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
        } else if super::record::preamble_line(l) {
            // record numbering or a provider's line between records
            number = Some(l.trim().to_string());
        } else {
            return Err(Error::data(format!("not an RIS line: {:?}", truncate(l))).line(ln));
        }
    }
    if cur.is_some() && no_er_dialect {
        out.extend(cur.take().map(|c| close(c, database)));
    }
    if cur.is_some() {
        return Err(Error::data("truncated: last record has no ER line")
            .line(last_line)
            .field("ER"));
    }
    Ok(out)
}

/// A file with no `ER` line and several `TY` lines, each after a blank line (records separated
/// by blank lines only).
fn no_er_dialect(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let tys: Vec<usize> = (0..lines.len())
        .filter(|&i| ris_tag(lines[i]).is_some_and(|(t, _)| t == "TY"))
        .collect();
    tys.len() >= 2
        && !lines
            .iter()
            .any(|l| ris_tag(l).is_some_and(|(t, _)| t == "ER"))
        && tys[1..].iter().all(|&i| {
            i > 0
                && lines[..i]
                    .iter()
                    .rev()
                    .find(|l| !super::record::preamble_line(l))
                    .is_some_and(|l| l.trim().is_empty())
        })
}

/// A record being read: the record, its id (ID, AN or U1), its tags in order.
type Open = (Record, Option<String>, Vec<(String, String)>);

/// A record read to its end.
fn close((mut r, id, tags): Open, database: &str) -> Record {
    apply_ris(&mut r, &tags);
    finish(r, id, database)
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
            // an empty tag (`SP  -`) says nothing
            "SP" if !v.trim().is_empty() => sp = Some(v.clone()),
            "EP" if !v.trim().is_empty() => ep = Some(v.clone()),
            "SP" | "EP" => {}
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
