//! Web of Science tagged plain text: two-letter tags, continuation lines, `ER` closes a record.

use super::record::{finish, push_text, truncate, year_of, Record};
use metapipe_tables::{Error, Result};

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
        if !tag
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            || (l.len() > 2 && l.as_bytes()[2] != b' ')
        {
            return Err(
                Error::data(format!("not a Web of Science line: {:?}", truncate(l))).line(ln),
            );
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
            _ => {
                return Err(
                    Error::data(format!("tag {tag} outside a record (expected PT)"))
                        .line(ln)
                        .field(tag),
                )
            }
        }
    }
    if in_rec {
        return Err(Error::data("truncated: last record has no ER line")
            .line(last)
            .field("ER"));
    }
    Ok(out)
}

fn wos_record(tags: Vec<(String, String)>, start: usize, file: &str, database: &str) -> Record {
    let mut r = Record {
        database: database.into(),
        source_file: file.into(),
        source_line: start,
        ..Default::default()
    };
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
