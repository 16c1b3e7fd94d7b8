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

/// Parse one search round's sources, in order. Record ids must be unique within the round; a
/// record exported again under an id an earlier round had (`seen_before(id)`: the same accession
/// number of the same database) is the record already seen and is not added. Returns the
/// records, the number of those dropped, and warnings.
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
        for r in recs {
            if seen_before(&r.record_id) {
                again += 1;
                continue;
            }
            if let Some((f, l)) = seen.get(&r.record_id) {
                return Err(Error::data(format!(
                    "record id {} already used at {f}:{l}",
                    r.record_id
                ))
                .file(&input.path)
                .line(r.source_line)
                .field("id"));
            }
            seen.insert(r.record_id.clone(), (r.source_file.clone(), r.source_line));
            all.push(r);
        }
    }
    Ok((all, again, warnings))
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
