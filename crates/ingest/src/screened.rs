//! Screening over every round: the decisions and agreement tables, the PRISMA counts (of a
//! first review or an update), and the records awaiting a decision; people's decisions on
//! maybe-pairs.

use crate::dedup::HumanDecision;
use crate::screening::{FtDecision, Prisma, TaDecision, Verdict};
use crate::state::Earlier;
use crate::*;
use metapipe_tables::io::Input;
use metapipe_tables::schema::*;
use metapipe_tables::sheet::Sheet;
use metapipe_tables::{f, i, s, so, Builder, Error, Result, Table};
use polars::prelude::*;
use std::collections::HashMap;

/// A person's decisions on maybe-pairs: `record_a, record_b, duplicate (yes/no)` (none when
/// there is no such file).
pub fn read_human_decisions(input: Option<&Input>) -> Result<Vec<HumanDecision>> {
    let Some(input) = input else {
        return Ok(vec![]);
    };
    let sheet = Sheet::read(input, &["record_a", "record_b", "duplicate"])?;
    let mut out = vec![];
    for r in sheet.rows() {
        let answer = r.get("duplicate").unwrap_or("").to_ascii_lowercase();
        let dup = match answer.as_str() {
            "yes" | "y" | "true" | "1" => true,
            "no" | "n" | "false" | "0" => false,
            other => return Err(r.err("duplicate", format!("{other:?} is not yes/no"))),
        };
        out.push(HumanDecision {
            record_a: r.get("record_a").unwrap_or("").into(),
            record_b: r.get("record_b").unwrap_or("").into(),
            duplicate: dup,
        });
    }
    Ok(out)
}

pub(crate) fn vtext(v: Verdict) -> &'static str {
    match v {
        Verdict::Include => "include",
        Verdict::Exclude => "exclude",
        Verdict::NotRetrieved => "not_retrieved",
    }
}

/// The screening table: one title/abstract row per cluster, one full-text row per report.
pub fn screening_table(ta: &[TaDecision], ft: &[FtDecision]) -> Result<Table> {
    let ids: Vec<String> = ta
        .iter()
        .map(|d| d.cluster)
        .chain(ft.iter().map(|d| d.cluster))
        .map(cluster_id)
        .collect();
    let none = || std::iter::repeat_n(None, ft.len());
    let cols = vec![
        text_req("cluster_id", ids.iter().map(String::as_str)),
        text_req(
            "record_id",
            ta.iter()
                .map(|d| d.record_id.as_str())
                .chain(ft.iter().map(|d| d.record_id.as_str())),
        ),
        text_req(
            "stage",
            std::iter::repeat_n("title_abstract", ta.len())
                .chain(std::iter::repeat_n("full_text", ft.len())),
        ),
        text(
            "reviewer_1",
            ta.iter().map(|d| Some(vtext(d.reviewer_1))).chain(none()),
        ),
        text(
            "reviewer_2",
            ta.iter().map(|d| d.reviewer_2.map(vtext)).chain(none()),
        ),
        text(
            "adjudicated",
            ta.iter().map(|d| d.adjudicated.map(vtext)).chain(none()),
        ),
        text_req(
            "decision",
            ta.iter()
                .map(|d| vtext(d.decision))
                .chain(ft.iter().map(|d| vtext(d.decision))),
        ),
        text(
            "reason",
            ta.iter()
                .map(|d| d.reason.as_deref())
                .chain(ft.iter().map(|d| d.reason.as_deref())),
        ),
        text(
            "study_id",
            std::iter::repeat_n(None, ta.len()).chain(ft.iter().map(|d| d.study_id.as_deref())),
        ),
    ];
    Table::new(&SCREENING, DataFrame::new(ids.len(), cols)?)
}

/// The (reviewer 1, reviewer 2) votes of the records two reviewers screened.
fn paired(ta: &[TaDecision]) -> Vec<(Verdict, Verdict)> {
    ta.iter()
        .filter_map(|d| Some((d.reviewer_1, d.reviewer_2?)))
        .collect()
}

/// Reviewer agreement per stage (Cohen's κ where two reviewers screened).
pub fn agreement_table(ta: &[TaDecision], ft: &[FtDecision]) -> Result<Table> {
    use metapipe_tables::schema::AGREEMENT;
    let mut t = Builder::new(&AGREEMENT);
    // agreement over the records two reviewers screened
    let pairs = paired(ta);
    let agreed = pairs.iter().filter(|(a, b)| a == b).count();
    let adjudicated = ta.iter().filter(|d| d.adjudicated.is_some()).count();
    let kappa = screening::cohen_kappa(&pairs);
    let single = ta.len() - pairs.len();
    t.row(vec![
        s("title_abstract"),
        i(ta.len() as i64),
        i(agreed as i64),
        i((pairs.len() - agreed) as i64),
        i(adjudicated as i64),
        f(kappa),
        so((single > 0).then(|| format!("{single} records screened by one reviewer: agreement and kappa over the {} screened by two", pairs.len()))),
    ]);
    t.row(vec![
        s("full_text"),
        i(ft.len() as i64),
        i(None),
        i(None),
        i(None),
        f(None),
        s("one decision per report in the log: no agreement to measure"),
    ]);
    t.finish()
}

/// PRISMA table: overall rows (`database` empty), then per-database identified counts and
/// full-text exclusion reasons (`database` holds the reason there).
pub fn prisma_table(p: &Prisma) -> Result<Table> {
    let mut t = Builder::new(&PRISMA);
    for (stage, n) in p.rows() {
        t.row(vec![s(stage), so(None::<String>), i(n as i64)]);
    }
    for (db, n) in &p.per_database {
        t.row(vec![s("records_identified"), s(db), i(*n as i64)]);
    }
    for (reason, n) in &p.exclusion_reasons {
        t.row(vec![
            s("excluded_full_text_reason"),
            s(reason),
            i(*n as i64),
        ]);
    }
    t.finish()
}

/// The screening logs applied to every round's clusters.
pub struct Screened {
    pub ta: Vec<TaDecision>,
    pub ft: Vec<FtDecision>,
    pub prisma: Prisma,
    pub kappa_title_abstract: Option<f64>,
    /// PRISMA 2020 rows for an updated review ([`prisma_update`])
    pub update: Vec<(String, Option<String>, usize)>,
    /// the clusters awaiting a decision, in cluster order: (cluster, stage), stage
    /// `title_abstract` (no decision yet) or `full_text` (included at title/abstract, no
    /// full-text decision yet)
    pub awaiting: Vec<(usize, &'static str)>,
}

impl Screened {
    /// The clusters awaiting a decision among those round `r` found.
    pub fn awaiting_in(&self, r: &RoundSummary) -> &[(usize, &'static str)] {
        let lo = self
            .awaiting
            .partition_point(|(c, _)| *c < r.clusters_before);
        let hi = self
            .awaiting
            .partition_point(|(c, _)| *c < r.clusters_after);
        &self.awaiting[lo..hi]
    }
}

/// Apply the screening logs to the clusters of every round (`all`: every round's state,
/// `rounds` their summaries), count the PRISMA flow and check it.
pub fn screen(
    rounds: &[RoundSummary],
    all: &Earlier,
    ta_log: &Input,
    ta_format: screening::TaFormat,
    ft_log: &Input,
    ft_format: screening::TaFormat,
) -> Result<Screened> {
    let cluster_of_id = |id: &str| all.find_id(id).map(|g| all.cluster_of(g));
    // the search records by identifier, built only for a tool's export
    let ix = std::cell::OnceCell::new();
    let ix = || ix.get_or_init(|| crate::tool_match::ToolIndex::new(all));
    let ta = match ta_format {
        screening::TaFormat::Metapipe => screening::title_abstract(ta_log, &cluster_of_id)?,
        f => screening::title_abstract_tool(ta_log, f, &|r| ix().find(r))?,
    };
    let ft = match ft_format {
        screening::TaFormat::Covidence => crate::tool_match::full_text_tool(ft_log, ix(), &ta)?,
        _ => screening::full_text(ft_log, &cluster_of_id, &ta)?,
    };
    let mut per_db: Vec<(String, usize)> = vec![];
    for (db, n) in rounds.iter().flat_map(|r| &r.per_database) {
        match per_db.iter_mut().find(|(x, _)| x == db) {
            Some(e) => e.1 += n,
            None => per_db.push((db.clone(), *n)),
        }
    }
    let n_clusters = all.n_clusters();
    let p = screening::prisma(&per_db, n_clusters, &ta, &ft);
    p.check().map_err(Error::data)?;
    let kappa = screening::cohen_kappa(&paired(&ta));
    let verdict: HashMap<usize, Verdict> = ta.iter().map(|d| (d.cluster, d.decision)).collect();
    let assessed: std::collections::HashSet<usize> = ft.iter().map(|d| d.cluster).collect();
    let awaiting = (0..n_clusters)
        .filter_map(|c| match verdict.get(&c) {
            None => Some((c, "title_abstract")),
            Some(Verdict::Include) if !assessed.contains(&c) => Some((c, "full_text")),
            _ => None,
        })
        .collect();
    let update = prisma_update(rounds, &ta, &ft);
    Ok(Screened {
        ta,
        ft,
        prisma: p,
        kappa_title_abstract: kappa,
        update,
        awaiting,
    })
}

/// PRISMA 2020 for an updated review, when the review has more than one search round: the
/// studies of the previous version (included from records of earlier rounds), the flow of the
/// latest round's new records, and the total. Rows (stage, detail, count), stages prefixed
/// `update_`; none for a single-round review.
pub fn prisma_update(
    rounds: &[RoundSummary],
    ta: &[TaDecision],
    ft: &[FtDecision],
) -> Vec<(String, Option<String>, usize)> {
    let Some(latest) = rounds.last().filter(|_| rounds.len() > 1) else {
        return vec![];
    };
    let is_new = |c: usize| c >= latest.clusters_before;
    let (mut prev_studies, mut prev_reports) = (std::collections::BTreeSet::new(), 0usize);
    let (mut new_studies, mut new_reports) = (std::collections::BTreeSet::new(), 0usize);
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    let (mut ft_new, mut excl_ft_new, mut missing_new) = (0, 0, 0);
    for d in ft {
        let new = is_new(d.cluster);
        if new && d.decision == Verdict::NotRetrieved {
            missing_new += 1;
        } else if new {
            ft_new += 1;
        }
        match (d.decision, new) {
            (Verdict::Include, false) => {
                prev_reports += 1;
                prev_studies.extend(d.study_id.clone());
            }
            (Verdict::Include, true) => {
                new_reports += 1;
                new_studies.extend(d.study_id.clone());
            }
            (Verdict::Exclude, true) => {
                excl_ft_new += 1;
                *reasons
                    .entry(d.reason.clone().unwrap_or_default())
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    let new_clusters = latest.clusters_after - latest.clusters_before;
    let identified = latest.records + latest.seen_again;
    let screened = ta.iter().filter(|d| is_new(d.cluster)).count();
    let excl_ta = ta
        .iter()
        .filter(|d| is_new(d.cluster) && d.decision == Verdict::Exclude)
        .count();
    let new_only: std::collections::BTreeSet<&String> = new_studies
        .iter()
        .filter(|s| !prev_studies.contains(*s))
        .collect();
    let total: std::collections::BTreeSet<&String> =
        prev_studies.iter().chain(new_studies.iter()).collect();
    let mut rows: Vec<(String, Option<String>, usize)> = [
        ("update_previous_studies", prev_studies.len()),
        ("update_previous_reports", prev_reports),
        ("update_records_identified", identified),
        ("update_duplicates_removed", identified - new_clusters),
        ("update_records_screened", screened),
        ("update_records_awaiting_screening", new_clusters - screened),
        ("update_excluded_title_abstract", excl_ta),
        ("update_reports_sought", ft_new + missing_new),
        ("update_reports_not_retrieved", missing_new),
        ("update_full_text_assessed", ft_new),
        ("update_excluded_full_text", excl_ft_new),
        ("update_new_studies_included", new_only.len()),
        ("update_new_reports_included", new_reports),
        ("update_total_studies_included", total.len()),
        ("update_total_reports_included", prev_reports + new_reports),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_string(), None, n))
    .collect();
    rows.extend(
        reasons
            .into_iter()
            .map(|(r, n)| ("update_excluded_full_text_reason".to_string(), Some(r), n)),
    );
    rows.push(("update_round".into(), None, latest.round));
    rows
}
