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
//! - Covidence (its reference exports, one CSV per stage, in one directory): a record's
//!   current stage is its decision — `irrelevant` excluded at title/abstract; `select` (full-text
//!   review), `included` and `excluded` (at full text) past title/abstract; `screen` awaiting it —
//!   taken from the file's name, as Covidence names its exports (`review_…_irrelevant_csv_…`).
//!   Columns: Title, Authors, Abstract, Published Year, …, Accession Number, DOI, Ref,
//!   Covidence #, Study, Notes, Tags; the excluded export's Notes carry `Exclusion reason: …`.
//!   The stages are the team's consensus, not each reviewer's vote (no κ). No file written by
//!   Covidence was available: the format is read from public scripts that parse real exports
//!   (column lists, the stage in the file name, the exclusion reason's prefix), and the test's
//!   files are hand-written (labelled synthetic).

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
    /// the file the row is in, when the export is several files (else the input's)
    pub file: Option<std::path::PathBuf>,
    pub line: usize,
    pub title: Option<String>,
    pub doi: Option<String>,
    pub pmid: Option<String>,
    /// (reviewer, vote) in the order the file gives them; empty when nobody decided
    pub votes: Vec<(String, Vote)>,
    pub reasons: Vec<String>,
    pub labels: Vec<String>,
    /// the full-text decision the export carries (Covidence's included and excluded stages)
    pub full_text: Option<FullText>,
}

/// A full-text decision in a tool's export.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FullText {
    pub include: bool,
    /// the exclusion reason (Covidence: `Exclusion reason: …` in Notes)
    pub reason: Option<String>,
    /// the study an included report belongs to (Covidence's `Study` column)
    pub study: Option<String>,
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

/// A Covidence export's stage, from its file name.
fn covidence_stage(name: &str) -> std::result::Result<(&'static str, Option<Vote>), String> {
    let name = name.to_lowercase();
    let stages = [
        ("irrelevant", Some(Vote::Exclude)),
        ("screen", None),
        ("select", Some(Vote::Include)),
        ("included", Some(Vote::Include)),
        ("excluded", Some(Vote::Include)),
    ];
    let found: Vec<_> = stages.iter().filter(|s| name.contains(s.0)).collect();
    match found[..] {
        [&(stage, vote)] => Ok((stage, vote)),
        _ => Err(format!(
            "the file's name must name one Covidence stage (irrelevant, screen, select, \
             included or excluded), as Covidence names its exports; it names {}",
            if found.is_empty() {
                "none".to_string()
            } else {
                found.iter().map(|s| s.0).collect::<Vec<_>>().join(" and ")
            }
        )),
    }
}

/// Covidence's reference exports (the files of one directory, [`Input::parts`]).
pub fn covidence(parts: &[Input]) -> Result<Vec<ToolRow>> {
    let mut out = vec![];
    for input in parts {
        let name = input.path.file_name().unwrap_or_default().to_string_lossy();
        let (stage, vote) = covidence_stage(&name)
            .map_err(|m| metapipe_tables::Error::data(m).file(&input.path))?;
        let sheet = Sheet::read(input, &["Title", "Covidence #"])?;
        for r in sheet.rows() {
            let mut t = ids(&r, r.line);
            t.file = Some(input.path.clone());
            // a PubMed record's accession number is its PMID
            if t.pmid.is_none() {
                t.pmid = r
                    .get("Accession Number")
                    .filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
                    .map(str::to_string);
            }
            t.votes.extend(vote.map(|v| ("Covidence".to_string(), v)));
            if let Some(n) = r.get("Covidence #") {
                t.labels
                    .push(format!("Covidence {}", n.trim_start_matches('#')));
            }
            match stage {
                "excluded" => {
                    const PREFIX: &str = "exclusion reason:";
                    let why: Vec<&str> = r
                        .get("Notes")
                        .unwrap_or("")
                        .split(';')
                        .map(str::trim)
                        .filter(|p| {
                            p.get(..PREFIX.len())
                                .is_some_and(|h| h.eq_ignore_ascii_case(PREFIX))
                        })
                        .map(|p| p[PREFIX.len()..].trim())
                        .collect();
                    let reason = (!why.is_empty()).then(|| why.join(", "));
                    t.labels.push(match &reason {
                        None => "excluded at full text".to_string(),
                        Some(r) => format!("excluded at full text: {r}"),
                    });
                    t.full_text = Some(FullText {
                        include: false,
                        reason,
                        study: None,
                    });
                }
                "select" | "included" => {
                    t.labels.push(format!("full text: {stage}"));
                    t.full_text = (stage == "included").then(|| FullText {
                        include: true,
                        reason: None,
                        study: r.get("Study").map(str::to_string),
                    });
                }
                _ => {}
            }
            t.labels.extend(list(r.get("Tags").unwrap_or("")));
            out.push(t);
        }
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

    #[test]
    fn covidence_stage_is_in_the_file_name() {
        let st = |n: &str| covidence_stage(n).map(|s| s.0);
        assert_eq!(
            st("review_12345_irrelevant_csv_20240101.csv"),
            Ok("irrelevant")
        );
        assert_eq!(st("review_12345_included_csv_20240101.csv"), Ok("included"));
        assert_eq!(st("review_12345_excluded_csv_20240101.csv"), Ok("excluded"));
        assert_eq!(st("review_1_screen_csv.csv"), Ok("screen"));
        assert!(st("references.csv").unwrap_err().contains("names none"));
        assert!(st("screen_included.csv")
            .unwrap_err()
            .contains("screen and included"));
    }

    #[test]
    fn covidence_rows_carry_stage_reason_and_ids() {
        let dir = std::path::Path::new("cov");
        let part = |name: &str, text: &str| Input {
            path: dir.join(name),
            bytes: text.as_bytes().to_vec(),
        };
        let head =
            "Title,Authors,Abstract,Published Year,Accession Number,DOI,Covidence #,Notes,Tags\n";
        let rows = covidence(&[
            part(
                "review_1_excluded_csv.csv",
                &format!("{head}A trial,X,abs,2021,33000001,10.1/a,#12,Exclusion reason: Wrong comparator; ,\n"),
            ),
            part(
                "review_1_irrelevant_csv.csv",
                &format!("{head}Other,Y,abs,2020,NCT0001,,#13,,tagA\n"),
            ),
        ])
        .unwrap();
        assert_eq!(rows[0].votes, vec![("Covidence".into(), Vote::Include)]);
        assert_eq!(rows[0].pmid.as_deref(), Some("33000001"));
        assert_eq!(rows[0].doi.as_deref(), Some("10.1/a"));
        assert_eq!(
            rows[0].labels,
            vec!["Covidence 12", "excluded at full text: Wrong comparator"]
        );
        assert_eq!(
            rows[0].file.as_deref(),
            Some(dir.join("review_1_excluded_csv.csv").as_path())
        );
        assert_eq!(
            rows[0].full_text,
            Some(FullText {
                include: false,
                reason: Some("Wrong comparator".into()),
                study: None
            })
        );
        assert_eq!(rows[1].votes, vec![("Covidence".into(), Vote::Exclude)]);
        assert_eq!(rows[1].full_text, None);
        assert_eq!(rows[1].pmid, None);
        assert_eq!(rows[1].labels, vec!["Covidence 13", "tagA"]);
    }
}
