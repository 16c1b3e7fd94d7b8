//! # metapipe-ingest
//!
//! Search exports → records → duplicate clusters → screening decisions → PRISMA counts, one
//! search round at a time ([`ingest_round`] deduplicates a round against the earlier rounds'
//! [`state`]; [`screen`] applies the logs to every round's clusters). Parsing and reading logs
//! are the IO shell; dedup, screening and PRISMA are pure functions of what was read.

pub mod dedup;
pub mod keys;
pub mod normalize;
pub mod parse;
pub mod rank;
mod screened;
pub mod screening;
pub mod synth;
mod tables;
pub mod tool_match;

pub mod state;

pub use dedup::cluster_id;
use dedup::{Dedup, HumanDecision};
use metapipe_tables::io::Input;
use metapipe_tables::{Error, Result};
use parse::Record;
pub use screened::*;
use state::Earlier;
use std::collections::HashMap;
pub use tables::*;

/// One search export, as read.
#[derive(Debug, Clone)]
pub struct Source {
    pub database: String,
    pub input: Input,
    /// the search round (1 for the first search; a living review adds rounds)
    pub round: usize,
}

/// Parse one search round's sources, in order. A record exported again under an id an earlier
/// round had (`seen_before(id)`: the same accession number of the same database) is the record
/// already seen and is not added. Within the round a record is its file and position: an id the
/// export repeats (a library merged from two, an export tool's own numbering) is kept, the later
/// record named `<id>@<file>:<line>`, with a warning — the export's id is a field, never a
/// reason to refuse the file. Returns the records, the number of those dropped, and warnings.
pub fn parse_round(
    sources: &[(&str, &Input)],
    seen_before: impl Fn(&str) -> bool,
) -> Result<(Vec<Record>, usize, Vec<String>)> {
    let mut all = vec![];
    let mut warnings = vec![];
    let mut again = 0;
    let mut seen: HashMap<String, (String, usize)> = HashMap::new();
    for &(database, input) in sources {
        let (recs, w) = parse::parse_input(input, database)?;
        warnings.extend(w);
        for mut r in recs {
            if seen_before(&r.record_id) {
                again += 1;
                continue;
            }
            if let Some((f, l)) = seen.get(&r.record_id) {
                let id = repeated_id(&r, |id| seen.contains_key(id));
                warnings.push(format!(
                    "{}:{}: record id {} already used at {f}:{l}: both kept, this one as {id}",
                    r.source_file, r.source_line, r.record_id
                ));
                r.record_id = id;
            }
            seen.insert(r.record_id.clone(), (r.source_file.clone(), r.source_line));
            all.push(r);
        }
    }
    Ok((all, again, warnings))
}

/// The id of a record whose export id is already taken: `<id>@<file name>:<line>` (its file and
/// position), with `#2`, `#3`, … only if even that is taken.
fn repeated_id(r: &Record, taken: impl Fn(&str) -> bool) -> String {
    let file = std::path::Path::new(&r.source_file)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| r.source_file.clone());
    let base = format!("{}@{file}:{}", r.record_id, r.source_line);
    let mut id = base.clone();
    let mut n = 1;
    while taken(&id) {
        n += 1;
        id = format!("{base}#{n}");
    }
    id
}

/// Parse every source, round by round ([`parse_round`]). Returns the records (rounds in order),
/// each record's round, the number of re-exported records dropped per round, and warnings.
pub fn parse_sources(
    sources: &[Source],
) -> Result<(Vec<Record>, Vec<usize>, Vec<(usize, usize)>, Vec<String>)> {
    let mut rounds: Vec<usize> = sources.iter().map(|s| s.round).collect();
    rounds.sort_unstable();
    rounds.dedup();
    let (mut all, mut round_of, mut again, mut warnings) = (vec![], vec![], vec![], vec![]);
    let mut earlier: std::collections::HashSet<String> = Default::default();
    for r in rounds {
        let srcs: Vec<(&str, &Input)> = sources
            .iter()
            .filter(|s| s.round == r)
            .map(|s| (s.database.as_str(), &s.input))
            .collect();
        let (recs, n_again, w) = parse_round(&srcs, |id| earlier.contains(id))?;
        earlier.extend(recs.iter().map(|x| x.record_id.clone()));
        if n_again > 0 {
            again.push((r, n_again));
        }
        round_of.extend(std::iter::repeat_n(r, recs.len()));
        all.extend(recs);
        warnings.extend(w);
    }
    Ok((all, round_of, again, warnings))
}

/// What a search round left for the screening and the PRISMA counts (kept in the run record:
/// a round that did not change is not read again).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RoundSummary {
    pub round: usize,
    /// records added (parsed, less those exported again under an earlier round's id)
    pub records: usize,
    /// records exported again under an id an earlier round had (already seen; not added)
    pub seen_again: usize,
    /// records per database, in source order (a database with no record included)
    pub per_database: Vec<(String, usize)>,
    pub clusters_before: usize,
    pub clusters_after: usize,
    pub maybe_pairs: usize,
    pub warnings: Vec<String>,
}

/// A search round, parsed and deduplicated against the earlier rounds.
pub struct Round {
    pub summary: RoundSummary,
    pub records: Vec<Record>,
    pub dedup: Dedup,
}

/// Parse a search round's sources and deduplicate its records against each other and the
/// earlier rounds' ([`dedup::dedup_round`]); `priority(database)` orders databases for choosing
/// a new cluster's representative; `th` are the dedup rules' title thresholds.
pub fn ingest_round(
    round: usize,
    sources: &[(&str, &Input)],
    earlier: &Earlier,
    priority: impl Fn(&str) -> usize,
    human: &[HumanDecision],
    th: &dedup::Thresholds,
) -> Result<Round> {
    let (records, seen_again, mut warnings) =
        parse_round(sources, |id| earlier.find_id(id).is_some())?;
    let d = dedup::dedup_round(
        earlier,
        &records,
        |k| priority(&records[k].database),
        human,
        th,
    );
    // conservation: every record is in exactly one cluster, an earlier one or one found now
    let c0 = earlier.n_clusters();
    let clustered = d.clusters.iter().map(Vec::len).sum::<usize>()
        + d.cluster_of.iter().filter(|&&c| c < c0).count();
    if clustered != records.len() {
        return Err(Error::data(format!(
            "dedup invariant broken: {clustered} records in clusters, {} parsed",
            records.len()
        )));
    }
    warnings.extend(d.warnings.iter().cloned());
    let mut per_database: Vec<(String, usize)> = vec![];
    for &(database, _) in sources {
        if !per_database.iter().any(|(x, _)| x == database) {
            per_database.push((database.to_string(), 0));
        }
    }
    for r in &records {
        if let Some(e) = per_database.iter_mut().find(|(x, _)| *x == r.database) {
            e.1 += 1;
        }
    }
    let summary = RoundSummary {
        round,
        records: records.len(),
        seen_again,
        per_database,
        clusters_before: c0,
        clusters_after: c0 + d.clusters.len(),
        maybe_pairs: d.maybe.len(),
        warnings,
    };
    Ok(Round {
        summary,
        records,
        dedup: d,
    })
}

impl Round {
    /// The round's state for the rounds after it ([`state::RoundState`]).
    pub fn state(&self, earlier: &Earlier) -> Vec<u8> {
        state::RoundState::encode(&state::RoundFacts {
            first: earlier.n_records(),
            clusters_before: self.summary.clusters_before,
            ids: self.records.iter().map(|r| r.record_id.as_str()).collect(),
            keys: &self.dedup.keys,
            cluster_of: &self.dedup.cluster_of,
            representatives: &self.dedup.representative,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, text: &str) -> Input {
        Input {
            path: name.into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    /// An export that repeats a record id (two records with `ID  - 12345`, as reference-manager
    /// libraries merged from two do) is read whole: both records kept, the later one named by its
    /// file and line, with a warning; a third file repeating it again gets its own name.
    #[test]
    fn repeated_export_id_keeps_every_record() {
        let rec = |t: &str| format!("TY  - JOUR\nID  - 12345\nTI  - {t}\nER  - \n\n");
        let a = input("dir/lib.ris", &format!("{}{}", rec("First"), rec("Second")));
        let b = input("other.ris", &rec("Third"));
        let (recs, again, warnings) = parse_round(&[("ris", &a), ("ris", &b)], |_| false).unwrap();
        assert_eq!(again, 0);
        let ids: Vec<&str> = recs.iter().map(|r| r.record_id.as_str()).collect();
        assert_eq!(
            ids,
            ["ris:12345", "ris:12345@lib.ris:6", "ris:12345@other.ris:1"]
        );
        let titles: Vec<_> = recs.iter().map(|r| r.title.clone().unwrap()).collect();
        assert_eq!(titles, ["First", "Second", "Third"]);
        assert_eq!(warnings.len(), 2);
        assert!(
            warnings[0]
                .contains("dir/lib.ris:6: record id ris:12345 already used at dir/lib.ris:1"),
            "{warnings:?}"
        );
        // the same file given twice: even the file-and-line name is taken, so a counter follows
        let (recs, _, _) = parse_round(&[("ris", &a), ("ris", &a)], |_| false).unwrap();
        let ids: Vec<&str> = recs.iter().map(|r| r.record_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "ris:12345",
                "ris:12345@lib.ris:6",
                "ris:12345@lib.ris:1",
                "ris:12345@lib.ris:6#2"
            ]
        );
    }
}
