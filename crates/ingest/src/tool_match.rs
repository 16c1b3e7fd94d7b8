//! A screening tool's row matched to the search records: by DOI, then PMID, then the
//! normalised title (the same normalisation dedup uses), never silently — a row no record
//! matches, or whose identifier matches records of different clusters, is an error.

use crate::parse::Record;
use crate::state::Earlier;
use metapipe_interop::screening::ToolRow;
use std::collections::HashMap;

/// The search records by identifier.
pub struct ToolIndex<'a> {
    all: &'a Earlier,
    doi: HashMap<String, Vec<usize>>,
    pmid: HashMap<String, Vec<usize>>,
    title: HashMap<String, Vec<usize>>,
}

/// A PMID: the accession of a PubMed/MEDLINE record (`pubmed:12345`).
fn pmid_of(record_id: &str) -> Option<&str> {
    let (db, acc) = record_id.split_once(':')?;
    let db = db.to_ascii_lowercase();
    ((db.contains("pubmed") || db.contains("medline"))
        && !acc.is_empty()
        && acc.bytes().all(|b| b.is_ascii_digit()))
    .then_some(acc)
}

impl<'a> ToolIndex<'a> {
    pub fn new(all: &'a Earlier) -> ToolIndex<'a> {
        let mut ix = ToolIndex {
            all,
            doi: HashMap::new(),
            pmid: HashMap::new(),
            title: HashMap::new(),
        };
        for g in 0..all.n_records() {
            let k = all.keys(g);
            if let Some(d) = k.doi.filter(|d| !d.is_empty()) {
                ix.doi.entry(d).or_default().push(g);
            }
            if !k.title.is_empty() {
                ix.title.entry(k.title).or_default().push(g);
            }
            if let Some(p) = pmid_of(all.record_id(g)) {
                ix.pmid.entry(p.to_string()).or_default().push(g);
            }
        }
        ix
    }

    /// The row's cluster and the id of the record it matched.
    pub fn find(&self, row: &ToolRow) -> Result<(usize, String), String> {
        let rec = Record {
            title: row.title.clone(),
            doi: row.doi.clone(),
            ..Default::default()
        };
        let k = crate::keys::keys(&rec);
        let pmid = row.pmid.as_deref().map(str::trim).filter(|p| !p.is_empty());
        let tries: [(&str, Option<String>, &HashMap<String, Vec<usize>>); 3] = [
            ("DOI", k.doi.filter(|d| !d.is_empty()), &self.doi),
            ("PMID", pmid.map(String::from), &self.pmid),
            (
                "title",
                Some(k.title).filter(|t| !t.is_empty()),
                &self.title,
            ),
        ];
        for (what, key, map) in tries {
            let Some(gs) = key.as_ref().and_then(|key| map.get(key)) else {
                continue;
            };
            let mut clusters: Vec<usize> = gs.iter().map(|&g| self.all.cluster_of(g)).collect();
            clusters.sort_unstable();
            clusters.dedup();
            if clusters.len() > 1 {
                let ids: Vec<&str> = gs.iter().map(|&g| self.all.record_id(g)).collect();
                return Err(format!("its {what} matches {} search records that are not duplicates of each other ({}): which one was screened is ambiguous", ids.len(), ids.join(", ")));
            }
            return Ok((clusters[0], self.all.record_id(gs[0]).to_string()));
        }
        Err(format!(
            "no search record has its DOI, PMID or title ({:?}): a decision on a record that is not in the search exports",
            row.title.as_deref().unwrap_or("")
        ))
    }
}

use crate::screening::{row_error, FtChecks, FtDecision, FtFields, TaDecision, Verdict};
use metapipe_tables::io::Input;

/// Full-text decisions from a tool's export (Covidence's included and excluded stages, the
/// files of `input`, a directory): each row matched as its title/abstract decision is, and
/// included at title/abstract; an exclusion needs its reason (`Notes`), an inclusion its study
/// (`Study`). The rows of the other stages carry no full-text decision.
pub fn full_text_tool(
    input: &Input,
    ix: &ToolIndex,
    ta: &[TaDecision],
) -> metapipe_tables::Result<Vec<FtDecision>> {
    let rows = metapipe_interop::screening::covidence(&input.parts()?)?;
    let hint = " (\"Exclusion reason: …\")";
    let mut checks = FtChecks::new(ta, FtFields::new("title", "Notes", hint, "Study"));
    let mut out = vec![];
    for row in &rows {
        let Some(ft) = &row.full_text else { continue };
        let at = |f: &str, m: String| row_error(input, row, f, m);
        let (cluster, record_id) = ix.find(row).map_err(|m| at("title", m))?;
        let d = FtDecision {
            cluster,
            record_id,
            decision: if ft.include {
                Verdict::Include
            } else {
                Verdict::Exclude
            },
            reason: ft.reason.clone(),
            study_id: ft.study.clone(),
        };
        out.push(checks.check(d).map_err(|(f, m)| at(f, m))?);
    }
    out.sort_by_key(|d| d.cluster);
    Ok(out)
}
