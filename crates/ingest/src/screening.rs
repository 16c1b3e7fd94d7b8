//! Screening logs → decisions per deduplicated record; Cohen's κ; PRISMA 2020 counts with their
//! conservation invariants enforced.

use metapipe_tables::io::Input;
use metapipe_tables::{Error, Result};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Include,
    Exclude,
    /// a full text sought but not obtained (PRISMA 2020's "reports not retrieved"); not a
    /// title/abstract decision
    NotRetrieved,
}

fn verdict(s: &str) -> Option<Verdict> {
    let s = s.trim();
    let is = |words: &[&str]| words.iter().any(|w| s.eq_ignore_ascii_case(w));
    if is(&["include", "included", "yes", "y"]) {
        Some(Verdict::Include)
    } else if is(&["exclude", "excluded", "no", "n"]) {
        Some(Verdict::Exclude)
    } else {
        None
    }
}

/// A full-text decision: include, exclude, or not retrieved.
fn ft_verdict(s: &str) -> Option<Verdict> {
    let t = s.trim().replace(['_', '-'], " ");
    if ["not retrieved", "unavailable"]
        .iter()
        .any(|w| t.eq_ignore_ascii_case(w))
    {
        return Some(Verdict::NotRetrieved);
    }
    verdict(s)
}

/// One cluster's title/abstract screening.
#[derive(Debug, Clone, PartialEq)]
pub struct TaDecision {
    pub cluster: usize,
    pub record_id: String,
    pub reviewer_1: Verdict,
    /// `None` when one reviewer screened (a single-reviewer tool's export)
    pub reviewer_2: Option<Verdict>,
    pub adjudicated: Option<Verdict>,
    pub decision: Verdict,
    /// why it was excluded, where the log says (a tool's exclusion reasons and labels)
    pub reason: Option<String>,
    /// the log line it was read from: the order the decisions were made in, where the log is
    /// kept as the team screens (the stopping rule reads it so)
    pub line: usize,
}

/// One cluster's full-text assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct FtDecision {
    pub cluster: usize,
    pub record_id: String,
    pub decision: Verdict,
    pub reason: Option<String>,
    pub study_id: Option<String>,
}

/// How a file names what a full-text decision's checks look at: the record, the exclusion's
/// reason (with how to give one) and the inclusion's study.
pub(crate) struct FtFields {
    pub record: &'static str,
    pub reason: &'static str,
    pub reason_hint: &'static str,
    pub study: &'static str,
}

impl FtFields {
    /// metapipe's full-text log's columns
    pub const LOG: FtFields = FtFields::new("record_id", "reason", "", "study_id");

    pub const fn new(
        record: &'static str,
        reason: &'static str,
        reason_hint: &'static str,
        study: &'static str,
    ) -> FtFields {
        FtFields {
            record,
            reason,
            reason_hint,
            study,
        }
    }
}

/// The checks every full-text decision passes, from metapipe's log or a tool's export alike:
/// its record was included at title/abstract and is assessed once; an exclusion has a reason,
/// an inclusion its study.
pub(crate) struct FtChecks {
    sought: HashSet<usize>,
    seen: HashSet<usize>,
    fields: FtFields,
}

impl FtChecks {
    pub fn new(ta: &[TaDecision], fields: FtFields) -> FtChecks {
        let sought = ta
            .iter()
            .filter(|d| d.decision == Verdict::Include)
            .map(|d| d.cluster)
            .collect();
        FtChecks {
            sought,
            seen: HashSet::new(),
            fields,
        }
    }

    /// The decision, or the field at fault and what is wrong with it.
    pub fn check(
        &mut self,
        d: FtDecision,
    ) -> std::result::Result<FtDecision, (&'static str, String)> {
        let (f, id) = (&self.fields, &d.record_id);
        if !self.sought.contains(&d.cluster) {
            let m = format!("record {id:?} was not included at title/abstract");
            return Err((f.record, m));
        }
        if !self.seen.insert(d.cluster) {
            return Err((f.record, format!("record {id:?} assessed twice")));
        }
        match d.decision {
            Verdict::Exclude if d.reason.is_none() => Err((
                f.reason,
                format!("an exclusion needs a reason{}", f.reason_hint),
            )),
            Verdict::Include if d.study_id.is_none() => {
                Err((f.study, "an included report needs its study".into()))
            }
            _ => Ok(d),
        }
    }
}

use metapipe_tables::sheet::each_row;

/// The file a tool's row is in: its own (a directory's exports) or the input's.
fn row_file(input: &Input, row: &ToolRow) -> std::path::PathBuf {
    row.file.clone().unwrap_or_else(|| input.path.clone())
}

/// An error at a tool row's file, line and `field`.
pub(crate) fn row_error(input: &Input, row: &ToolRow, field: &str, m: String) -> Error {
    Error::data(m)
        .file(row_file(input, row))
        .line(row.line)
        .field(field.to_string())
}

/// The format of a title/abstract log: metapipe's own, or a screening tool's export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaFormat {
    #[default]
    Metapipe,
    Rayyan,
    Asreview,
    /// Covidence's reference exports: a directory of one CSV per stage
    Covidence,
}

impl TaFormat {
    pub fn parse(s: &str) -> Option<TaFormat> {
        Some(match s {
            "metapipe" => TaFormat::Metapipe,
            "rayyan" => TaFormat::Rayyan,
            "asreview" => TaFormat::Asreview,
            "covidence" => TaFormat::Covidence,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            TaFormat::Metapipe => "metapipe",
            TaFormat::Rayyan => "rayyan",
            TaFormat::Asreview => "asreview",
            TaFormat::Covidence => "covidence",
        }
    }
}

/// Title/abstract decisions from a screening tool's export. `find` matches a row to its cluster
/// (an unmatched or ambiguous row is its error). A row nobody decided, or with a "Maybe", awaits
/// a decision; reviewers who disagree are an unresolved conflict (an error: resolve it in the
/// tool); the first two reviewers' votes are `reviewer_1`, `reviewer_2` (κ).
pub fn title_abstract_tool(
    input: &Input,
    format: TaFormat,
    find: &dyn Fn(&ToolRow) -> std::result::Result<(usize, String), String>,
) -> Result<Vec<TaDecision>> {
    let (rows, field) = match format {
        TaFormat::Rayyan => (metapipe_interop::screening::rayyan(input)?, "notes"),
        TaFormat::Asreview => (
            metapipe_interop::screening::asreview(input)?,
            "asreview_label",
        ),
        TaFormat::Covidence => (
            metapipe_interop::screening::covidence(&input.parts()?)?,
            "Covidence #",
        ),
        TaFormat::Metapipe => unreachable!("metapipe's own log is read by title_abstract"),
    };
    let file = |row: &ToolRow| row_file(input, row);
    let at = |row: &ToolRow, f: &str, m: String| row_error(input, row, f, m);
    let mut seen: HashMap<usize, &ToolRow> = HashMap::new();
    let mut out = vec![];
    for row in &rows {
        if row.votes.is_empty() || row.votes.iter().any(|(_, v)| *v == Vote::Maybe) {
            continue;
        }
        let (cluster, record_id) = find(row).map_err(|m| at(row, "title", m))?;
        if let Some(prev) = seen.insert(cluster, row) {
            let place = match prev.file == row.file {
                true => format!("line {}", prev.line),
                false => format!("{}:{}", file(prev).display(), prev.line),
            };
            return Err(at(
                row,
                "title",
                format!("the same record as {place} (one search record, two decisions)"),
            ));
        }
        let v = |x: Vote| {
            if x == Vote::Include {
                Verdict::Include
            } else {
                Verdict::Exclude
            }
        };
        let first = v(row.votes[0].1);
        if row.votes.iter().any(|(_, x)| v(*x) != first) {
            let who: Vec<String> = row
                .votes
                .iter()
                .map(|(n, x)| format!("{n}: {x:?}"))
                .collect();
            return Err(at(
                row,
                field,
                format!(
                    "reviewers disagree ({}): resolve the conflict in the tool and export again",
                    who.join(", ")
                ),
            ));
        }
        out.push(TaDecision {
            cluster,
            record_id,
            reviewer_1: first,
            reviewer_2: row.votes.get(1).map(|(_, x)| v(*x)),
            adjudicated: None,
            decision: first,
            reason: tool_reason(row, first),
            line: row.line,
        });
    }
    out.sort_by_key(|d| d.cluster);
    Ok(out)
}

use metapipe_interop::screening::{ToolRow, Vote};

/// A tool's exclusion reasons (an excluded record) and labels, as one text.
fn tool_reason(row: &ToolRow, v: Verdict) -> Option<String> {
    let mut parts = vec![];
    if v == Verdict::Exclude && !row.reasons.is_empty() {
        parts.push(row.reasons.join(", "));
    }
    if !row.labels.is_empty() {
        parts.push(format!("labels: {}", row.labels.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Read title/abstract decisions: `record_id, reviewer_1, reviewer_2, adjudicated`. A cluster is
/// screened at most once (the others await screening); a conflict needs an adjudication.
pub fn title_abstract(
    input: &Input,
    cluster_of_id: &dyn Fn(&str) -> Option<usize>,
) -> Result<Vec<TaDecision>> {
    let path = input.path.as_path();
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut out = vec![];
    each_row(
        input,
        ["record_id", "reviewer_1", "reviewer_2", "adjudicated"],
        |[ci, c1, c2, ca], ln, r| {
            let get = |i: usize| r.get(i).map(str::trim).unwrap_or("");
            let id = get(ci);
            let cluster = cluster_of_id(id).ok_or_else(|| {
                Error::data(format!("unknown record {id:?} (not in any search export)"))
                    .file(path)
                    .line(ln)
                    .field("record_id")
            })?;
            if let Some(prev) = seen.insert(cluster, ln) {
                return Err(Error::data(format!(
                    "record {id:?} is a duplicate of one already screened on line {prev}"
                ))
                .file(path)
                .line(ln)
                .field("record_id"));
            }
            let v = |i: usize, name: &str| {
                verdict(get(i)).ok_or_else(|| {
                    Error::data(format!("{:?} is not include/exclude", get(i)))
                        .file(path)
                        .line(ln)
                        .field(name)
                })
            };
            let (a, b) = (v(c1, "reviewer_1")?, v(c2, "reviewer_2")?);
            let adj = if get(ca).is_empty() {
                None
            } else {
                Some(v(ca, "adjudicated")?)
            };
            let decision = if a == b {
                a
            } else {
                adj.ok_or_else(|| {
                    Error::data("reviewers disagree and there is no adjudication")
                        .file(path)
                        .line(ln)
                        .field("adjudicated")
                })?
            };
            out.push(TaDecision {
                cluster,
                record_id: id.to_string(),
                reviewer_1: a,
                reviewer_2: Some(b),
                adjudicated: adj,
                decision,
                reason: None,
                line: ln,
            });
            Ok(())
        },
    )?;
    // clusters without a decision await screening (a living review's new records): not an error
    out.sort_by_key(|d| d.cluster);
    Ok(out)
}

/// Read full-text decisions: `record_id, decision, reason, study_id`; a decision is include,
/// exclude or not retrieved (a report sought but not obtained). Only clusters included at
/// title/abstract may appear; exclusions need a reason, inclusions a study id.
pub fn full_text(
    input: &Input,
    cluster_of_id: &dyn Fn(&str) -> Option<usize>,
    ta: &[TaDecision],
) -> Result<Vec<FtDecision>> {
    let path = input.path.as_path();
    let mut checks = FtChecks::new(ta, FtFields::LOG);
    let mut out = vec![];
    each_row(
        input,
        ["record_id", "decision", "reason", "study_id"],
        |[ci, cd, cr, cs], ln, r| {
            let get = |i: usize| r.get(i).map(str::trim).unwrap_or("");
            let at = |f: &str, m: String| Error::data(m).file(path).line(ln).field(f.to_string());
            let id = get(ci);
            let cluster = cluster_of_id(id)
                .ok_or_else(|| at("record_id", format!("unknown record {id:?}")))?;
            let decision = ft_verdict(get(cd)).ok_or_else(|| {
                let m = format!("{:?} is not include, exclude or not retrieved", get(cd));
                at("decision", m)
            })?;
            let d = FtDecision {
                cluster,
                record_id: id.to_string(),
                decision,
                reason: Some(get(cr).to_string()).filter(|s| !s.is_empty()),
                study_id: Some(get(cs).to_string()).filter(|s| !s.is_empty()),
            };
            out.push(checks.check(d).map_err(|(f, m)| at(f, m))?);
            Ok(())
        },
    )?;
    // included at title/abstract without a full-text decision: awaiting assessment
    out.sort_by_key(|d| d.cluster);
    Ok(out)
}

/// Cohen's κ for two raters' include/exclude verdicts.
pub fn cohen_kappa(pairs: &[(Verdict, Verdict)]) -> Option<f64> {
    let n = pairs.len() as f64;
    if n == 0.0 {
        return None;
    }
    let agree = pairs.iter().filter(|(a, b)| a == b).count() as f64 / n;
    let p1 = pairs.iter().filter(|(a, _)| *a == Verdict::Include).count() as f64 / n;
    let p2 = pairs.iter().filter(|(_, b)| *b == Verdict::Include).count() as f64 / n;
    let pe = p1 * p2 + (1.0 - p1) * (1.0 - p2);
    if (1.0 - pe).abs() < 1e-15 {
        return None;
    }
    Some((agree - pe) / (1.0 - pe))
}

/// PRISMA 2020 counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prisma {
    pub records_identified: usize,
    pub per_database: Vec<(String, usize)>,
    pub duplicates_removed: usize,
    pub records_screened: usize,
    pub excluded_title_abstract: usize,
    pub full_text_assessed: usize,
    pub excluded_full_text: usize,
    /// reports sought but not retrieved (sought = assessed + not retrieved)
    pub reports_not_retrieved: usize,
    pub exclusion_reasons: Vec<(String, usize)>,
    pub studies_included: usize,
    pub reports_included: usize,
    /// deduplicated records without a title/abstract decision yet
    pub awaiting_screening: usize,
    /// reports included at title/abstract without a full-text decision yet
    pub awaiting_full_text: usize,
}

impl Prisma {
    /// The overall rows, in PRISMA order.
    pub fn rows(&self) -> Vec<(&'static str, usize)> {
        let mut rows = vec![
            ("records_identified", self.records_identified),
            ("duplicates_removed", self.duplicates_removed),
            ("records_screened", self.records_screened),
            ("excluded_title_abstract", self.excluded_title_abstract),
            (
                "reports_sought",
                self.full_text_assessed + self.reports_not_retrieved,
            ),
            ("reports_not_retrieved", self.reports_not_retrieved),
            ("full_text_assessed", self.full_text_assessed),
            ("excluded_full_text", self.excluded_full_text),
            ("studies_included", self.studies_included),
        ];
        // a living review's open work, when there is any
        if self.awaiting_screening > 0 {
            rows.push(("records_awaiting_screening", self.awaiting_screening));
        }
        if self.awaiting_full_text > 0 {
            rows.push(("reports_awaiting_assessment", self.awaiting_full_text));
        }
        rows
    }

    /// Conservation invariants; a broken one fails the run.
    pub fn check(&self) -> std::result::Result<(), String> {
        let db_sum: usize = self.per_database.iter().map(|(_, n)| n).sum();
        let reason_sum: usize = self.exclusion_reasons.iter().map(|(_, n)| n).sum();
        let checks = [
            (
                self.records_identified == db_sum,
                "identified = sum over databases",
            ),
            (
                self.records_identified
                    == self.duplicates_removed + self.records_screened + self.awaiting_screening,
                "identified = duplicates + screened + awaiting screening",
            ),
            (
                self.records_screened
                    == self.excluded_title_abstract
                        + self.full_text_assessed
                        + self.reports_not_retrieved
                        + self.awaiting_full_text,
                "screened = excluded + sought (assessed + not retrieved) + awaiting full text",
            ),
            (
                self.full_text_assessed == self.excluded_full_text + self.reports_included,
                "full text = excluded + included reports",
            ),
            (
                self.excluded_full_text == reason_sum,
                "excluded full texts = sum over reasons",
            ),
            (
                self.studies_included <= self.reports_included,
                "studies <= reports",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, what)) => Err(format!("PRISMA invariant broken: {what} ({self:?})")),
            None => Ok(()),
        }
    }
}

/// Count the flow.
pub fn prisma(
    databases: &[(String, usize)],
    n_clusters: usize,
    ta: &[TaDecision],
    ft: &[FtDecision],
) -> Prisma {
    let identified: usize = databases.iter().map(|(_, n)| n).sum();
    let ta_excl = ta.iter().filter(|d| d.decision == Verdict::Exclude).count();
    let ft_excl: Vec<&FtDecision> = ft
        .iter()
        .filter(|d| d.decision == Verdict::Exclude)
        .collect();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for d in &ft_excl {
        *reasons
            .entry(d.reason.clone().unwrap_or_default())
            .or_default() += 1;
    }
    let included: Vec<&FtDecision> = ft
        .iter()
        .filter(|d| d.decision == Verdict::Include)
        .collect();
    let studies: std::collections::BTreeSet<&str> = included
        .iter()
        .filter_map(|d| d.study_id.as_deref())
        .collect();
    let ta_incl = ta.len() - ta_excl;
    let not_retrieved = ft
        .iter()
        .filter(|d| d.decision == Verdict::NotRetrieved)
        .count();
    Prisma {
        records_identified: identified,
        per_database: databases.to_vec(),
        duplicates_removed: identified - n_clusters,
        records_screened: ta.len(),
        awaiting_screening: n_clusters - ta.len(),
        awaiting_full_text: ta_incl - ft.len(),
        excluded_title_abstract: ta_excl,
        full_text_assessed: ft.len() - not_retrieved,
        excluded_full_text: ft_excl.len(),
        reports_not_retrieved: not_retrieved,
        exclusion_reasons: reasons.into_iter().collect(),
        studies_included: studies.len(),
        reports_included: included.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::*;

    #[test]
    fn kappa_known_value() {
        // 20 items: both include 5, both exclude 10, disagree 5 (3 + 2)
        let mut v = vec![(Include, Include); 5];
        v.extend(vec![(Exclude, Exclude); 10]);
        v.extend(vec![(Include, Exclude); 3]);
        v.extend(vec![(Exclude, Include); 2]);
        // po = .75; p1 = 8/20, p2 = 7/20; pe = .4*.35 + .6*.65 = .53; k = .22/.47
        assert!((cohen_kappa(&v).unwrap() - 0.22 / 0.47).abs() < 1e-12);
    }

    #[test]
    fn invariants_catch_a_broken_flow() {
        let mut p = Prisma {
            records_identified: 10,
            per_database: vec![("a".into(), 10)],
            duplicates_removed: 2,
            records_screened: 8,
            excluded_title_abstract: 6,
            full_text_assessed: 2,
            excluded_full_text: 1,
            reports_not_retrieved: 0,
            exclusion_reasons: vec![("x".into(), 1)],
            studies_included: 1,
            reports_included: 1,
            awaiting_screening: 0,
            awaiting_full_text: 0,
        };
        assert!(p.check().is_ok());
        p.excluded_title_abstract = 5;
        assert!(p.check().is_err());
        // a report not retrieved is sought but not assessed
        p.reports_not_retrieved = 1;
        assert!(p.check().is_ok());
        assert!(p.rows().contains(&("reports_sought", 3)));
    }
}
