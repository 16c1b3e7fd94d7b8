//! Title/abstract decisions as the screening tools export them, read into [`ToolRow`]s: the
//! record's identifiers (title, DOI, PMID) for matching it to a search record, and each
//! reviewer's vote.
//!
//! - ASReview LAB 3 (`export_dataset`, CSV): the uploaded dataset's columns, then
//!   `asreview_label` (1 relevant, 0 irrelevant, empty not seen), `asreview_time`,
//!   `asreview_note`, and `asreview_user_name` when the server has accounts. The tests make the
//!   file with ASReview itself (`tools/asreview_export.py`).
//! - Rayyan (CSV or RIS export of a review): the record's columns and `notes` (RIS: `N1`), whose
//!   `RAYYAN-INCLUSION: {"Alice"=>"Included", "Bob"=>"Maybe"}` holds every reviewer's decision
//!   (Included, Excluded, Maybe), `RAYYAN-EXCLUSION-REASONS: a,b` and `RAYYAN-LABELS: a,b`, the
//!   parts separated by ` | `. No file written by Rayyan was available: the format is read from
//!   Rayyan's documented notes syntax as public scripts parsing real exports use it, and the test
//!   file is hand-written (labelled synthetic).

use metapipe_tables::io::Input;
use metapipe_tables::sheet::{Row, Sheet};
use metapipe_tables::Result;

/// One reviewer's title/abstract vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vote {
    Include,
    Exclude,
    /// undecided (Rayyan's "Maybe"): the record still awaits a decision
    Maybe,
}

/// One record's row in a tool's export.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolRow {
    pub line: usize,
    pub title: Option<String>,
    pub doi: Option<String>,
    pub pmid: Option<String>,
    /// (reviewer, vote) in the order the file gives them; empty when nobody decided
    pub votes: Vec<(String, Vote)>,
    pub reasons: Vec<String>,
    pub labels: Vec<String>,
}

/// The first of `names` the sheet has, as the row's value.
fn first(r: &Row, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| r.get(n)).map(str::to_string)
}

fn ids(r: &Row, line: usize) -> ToolRow {
    ToolRow {
        line,
        title: first(r, &["title", "primary_title", "Title"]),
        doi: first(r, &["doi", "DOI"]),
        pmid: first(r, &["pmid", "pubmed_id", "pubmedID", "PMID", "PubMed ID"]),
        ..Default::default()
    }
}

/// ASReview LAB's dataset export.
pub fn asreview(input: &Input) -> Result<Vec<ToolRow>> {
    let sheet = Sheet::read(input, &["asreview_label"])?;
    let mut out = vec![];
    for r in sheet.rows() {
        let mut t = ids(&r, r.line);
        let who = r
            .get("asreview_user_name")
            .unwrap_or("ASReview")
            .to_string();
        match r.get("asreview_label") {
            None => {}
            Some("1" | "1.0") => t.votes.push((who, Vote::Include)),
            Some("0" | "0.0") => t.votes.push((who, Vote::Exclude)),
            Some(v) => {
                return Err(r.err(
                    "asreview_label",
                    format!("{v:?}: expected 1 (relevant), 0 (irrelevant) or empty (not seen)"),
                ));
            }
        }
        if let Some(n) = r.get("asreview_note") {
            t.labels.push(n.to_string());
        }
        out.push(t);
    }
    Ok(out)
}

/// Rayyan's export: CSV, or RIS (`.ris`, the notes in `N1`).
pub fn rayyan(input: &Input) -> Result<Vec<ToolRow>> {
    let ris = input
        .path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("ris"));
    if ris {
        return rayyan_ris(input);
    }
    let sheet = Sheet::read(input, &["title", "notes"])?;
    let mut out = vec![];
    for r in sheet.rows() {
        let mut t = ids(&r, r.line);
        notes_into(&mut t, r.get("notes").unwrap_or("")).map_err(|e| r.err("notes", e))?;
        out.push(t);
    }
    Ok(out)
}

/// Rayyan's notes (` | `-separated parts) into the row's votes, reasons and labels.
fn notes_into(t: &mut ToolRow, notes: &str) -> std::result::Result<(), String> {
    for part in notes.split(" | ") {
        let part = part.trim();
        if let Some(m) = part.strip_prefix("RAYYAN-INCLUSION:") {
            t.votes = inclusion(m.trim()).map_err(|e| format!("RAYYAN-INCLUSION: {e}"))?;
        } else if let Some(m) = part.strip_prefix("RAYYAN-EXCLUSION-REASONS:") {
            t.reasons = list(m);
        } else if let Some(m) = part.strip_prefix("RAYYAN-LABELS:") {
            t.labels = list(m);
        }
    }
    Ok(())
}

/// A RIS line's tag and value (`TI  - text`); `None` for a continuation line.
fn ris_tag(l: &str) -> Option<(&str, &str)> {
    match (l.get(..2), l.get(2..5)) {
        (Some(name), Some("  -")) => Some((name, l.get(5..).unwrap_or("").trim())),
        _ => None,
    }
}

/// Rayyan's RIS export: a record per `TY` … `ER`, title `TI` (or `T1`), DOI `DO`, PMID `AN`
/// when numeric, the notes in `N1` (one or several).
fn rayyan_ris(input: &Input) -> Result<Vec<ToolRow>> {
    let at = |line: usize, f: &str, m: String| {
        metapipe_tables::Error::data(m)
            .file(&input.path)
            .line(line)
            .field(f.to_string())
    };
    let mut out = vec![];
    let mut cur: Option<(ToolRow, Vec<(String, String)>)> = None;
    for (k, l) in input.text()?.lines().enumerate() {
        let l = l.trim_end();
        match (ris_tag(l), cur.as_mut()) {
            (Some(("TY", _)), _) => {
                let t = ToolRow {
                    line: k + 1,
                    ..Default::default()
                };
                cur = Some((t, vec![]));
            }
            (Some(("ER", _)), Some(_)) => {
                let (t, tags) = cur.take().expect("open record");
                let line = t.line;
                out.push(ris_row(t, &tags).map_err(|(f, e)| at(line, f, e))?);
            }
            (Some((name, v)), Some((_, tags))) => tags.push((name.to_string(), v.to_string())),
            (None, Some((_, tags))) if !l.trim().is_empty() => {
                if let Some(last) = tags.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(l.trim());
                }
            }
            (Some((name, _)), None) => {
                return Err(at(
                    k + 1,
                    name,
                    "a tag outside a record (no TY before it)".into(),
                ));
            }
            _ => {}
        }
    }
    if let Some((t, _)) = cur {
        return Err(at(t.line, "ER", "the record is not closed (no ER)".into()));
    }
    Ok(out)
}

/// A RIS record's identifiers and Rayyan notes.
fn ris_row(
    mut t: ToolRow,
    tags: &[(String, String)],
) -> std::result::Result<ToolRow, (&'static str, String)> {
    let get = |names: &[&str]| {
        tags.iter()
            .find(|(n, _)| names.contains(&n.as_str()))
            .map(|(_, v)| v.clone())
    };
    t.title = get(&["TI", "T1"]);
    t.doi = get(&["DO"]);
    t.pmid = get(&["AN"]).filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()));
    let notes: Vec<&str> = tags
        .iter()
        .filter(|(n, _)| n == "N1")
        .map(|(_, v)| v.as_str())
        .collect();
    notes_into(&mut t, &notes.join(" | ")).map_err(|e| ("N1", e))?;
    Ok(t)
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// `{"Alice"=>"Included", "Bob"=>"Maybe"}` → the votes, in order.
fn inclusion(s: &str) -> std::result::Result<Vec<(String, Vote)>, String> {
    let inner = s
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .ok_or_else(|| format!("{s:?} is not {{\"name\"=>\"decision\", …}}"))?;
    let mut out = vec![];
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let (name, after) =
            quoted(rest).ok_or_else(|| format!("a reviewer's name is not quoted in {s:?}"))?;
        let after = after
            .trim_start()
            .strip_prefix("=>")
            .ok_or_else(|| format!("no => after {name:?}"))?;
        let (value, after) = quoted(after.trim_start())
            .ok_or_else(|| format!("{name:?}'s decision is not quoted"))?;
        let vote = match value.as_str() {
            "Included" => Vote::Include,
            "Excluded" => Vote::Exclude,
            "Maybe" => Vote::Maybe,
            v => {
                return Err(format!(
                    "{name:?}: {v:?} is not Included, Excluded or Maybe"
                ))
            }
        };
        out.push((name, vote));
        rest = after
            .trim_start()
            .strip_prefix(',')
            .unwrap_or(after)
            .trim_start();
        if !after.trim_start().is_empty() && !after.trim_start().starts_with(',') {
            return Err(format!("unexpected {:?}", after.trim_start()));
        }
    }
    Ok(out)
}

/// `"text"rest` → (text, rest), with `\"` inside.
fn quoted(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.extend(chars.next().map(|(_, c)| c)),
            '"' => return Some((out, &body[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rayyan_inclusion_is_read_in_order() {
        let v = inclusion(r#"{"Kofi"=>"Included", "Ama B."=>"Maybe", "Zoë"=>"Excluded"}"#).unwrap();
        assert_eq!(
            v,
            vec![
                ("Kofi".into(), Vote::Include),
                ("Ama B.".into(), Vote::Maybe),
                ("Zoë".into(), Vote::Exclude)
            ]
        );
        assert_eq!(inclusion("{}").unwrap(), vec![]);
        assert!(inclusion(r#"{"A"=>"Yes"}"#)
            .unwrap_err()
            .contains("\"Yes\" is not Included"));
        assert!(inclusion(r#"{"A"=>"Included" "B"=>"Maybe"}"#).is_err());
        assert!(inclusion(r#""A"=>"Included""#).is_err());
    }
}
