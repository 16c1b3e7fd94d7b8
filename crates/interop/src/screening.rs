//! Title/abstract decisions as the screening tools export them, read into [`ToolRow`]s: the
//! record's identifiers (title, DOI, PMID) for matching it to a search record, and each
//! reviewer's vote.
//!
//! - ASReview LAB 3 (`export_dataset`, CSV): the uploaded dataset's columns, then
//!   `asreview_label` (1 relevant, 0 irrelevant, empty not seen), `asreview_time`,
//!   `asreview_note`, and `asreview_user_name` when the server has accounts. The tests make the
//!   file with ASReview itself (`tools/asreview_export.py`).
//! - Rayyan (CSV export of a review): the record's columns and `notes`, whose
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

/// Rayyan's CSV export.
pub fn rayyan(input: &Input) -> Result<Vec<ToolRow>> {
    let sheet = Sheet::read(input, &["title", "notes"])?;
    let mut out = vec![];
    for r in sheet.rows() {
        let mut t = ids(&r, r.line);
        let notes = r.get("notes").unwrap_or("");
        for part in notes.split(" | ") {
            let part = part.trim();
            if let Some(m) = part.strip_prefix("RAYYAN-INCLUSION:") {
                t.votes = inclusion(m.trim())
                    .map_err(|e| r.err("notes", format!("RAYYAN-INCLUSION: {e}")))?;
            } else if let Some(m) = part.strip_prefix("RAYYAN-EXCLUSION-REASONS:") {
                t.reasons = list(m);
            } else if let Some(m) = part.strip_prefix("RAYYAN-LABELS:") {
                t.labels = list(m);
            }
        }
        out.push(t);
    }
    Ok(out)
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
