//! # metapipe-ingest
//!
//! Search exports → records → duplicate clusters → screening decisions → PRISMA counts.
//! Parsing and reading logs are the IO shell; dedup, screening and PRISMA are pure functions of
//! what was read.

pub mod dedup;
pub mod normalize;
pub mod parse;
pub mod screening;
pub mod synth;

use dedup::{Dedup, HumanDecision};
use metapipe_tables::io::Input;
use metapipe_tables::schema::{CLUSTERS, MAYBE_PAIRS, MERGED, PRISMA, RECORDS, SCREENING, TO_SCREEN};
use metapipe_tables::{f, i, pe, s, so, Builder, Error, Result, Table};
use parse::Record;
use polars::prelude::*;
use screening::{FtDecision, Prisma, TaDecision, Verdict};
use std::collections::HashMap;

/// One search export, as read.
#[derive(Debug, Clone)]
pub struct Source {
    pub database: String,
    pub input: Input,
    /// the search round (1 for the first search; a living review adds rounds)
    pub round: usize,
}

/// Parse every source, in order. Record ids must be unique within a round; a record a later
/// round exports again under the same id (the same accession number of the same database) is
/// the record already seen and is not added again. Returns the records, each record's round,
/// the number of re-exported records dropped per round, and warnings.
pub fn parse_sources(sources: &[Source]) -> Result<(Vec<Record>, Vec<usize>, Vec<(usize, usize)>, Vec<String>)> {
    let mut all = vec![];
    let mut rounds = vec![];
    let mut warnings = vec![];
    let mut again: std::collections::BTreeMap<usize, usize> = Default::default();
    let mut seen: HashMap<String, (String, usize, usize)> = HashMap::new();
    for src in sources {
        let (recs, w) = parse::parse_input(&src.input, &src.database)?;
        warnings.extend(w);
        for r in recs {
            match seen.get(&r.record_id) {
                Some((_, _, round)) if *round < src.round => {
                    *again.entry(src.round).or_default() += 1;
                    continue;
                }
                Some((f, l, _)) => return Err(Error::data(format!("record id {} already used at {f}:{l}", r.record_id)).file(&src.input.path).line(r.source_line).field("id")),
                None => {}
            }
            seen.insert(r.record_id.clone(), (r.source_file.clone(), r.source_line, src.round));
            rounds.push(src.round);
            all.push(r);
        }
    }
    Ok((all, rounds, again.into_iter().collect(), warnings))
}

/// A text column from optional cells; an empty string is missing (as [`metapipe_tables::so`]).
fn text<'a>(name: &str, cells: impl Iterator<Item = Option<&'a str>>) -> Column {
    Column::new(name.into(), cells.map(|v| v.filter(|x| !x.is_empty())).collect::<StringChunked>().into_series())
}

/// A text column of present cells (an empty string stays a string, as [`metapipe_tables::s`]).
fn text_req<'a>(name: &str, cells: impl Iterator<Item = &'a str>) -> Column {
    Column::new(name.into(), cells.map(Some).collect::<StringChunked>().into_series())
}

/// A record's bibliographic columns, in the order the records and to_screen tables share:
/// title, authors, year, journal (or its abbreviation), volume, issue, pages, doi, abstract.
/// Built column by column from the records (no per-cell allocation but the joined authors).
fn bib_columns(recs: &[&Record]) -> Vec<Column> {
    let authors: Vec<String> = recs.iter().map(|r| r.authors.join("; ")).collect();
    vec![
        text("title", recs.iter().map(|r| r.title.as_deref())),
        text("authors", authors.iter().map(|a| Some(a.as_str()))),
        Column::new("year".into(), recs.iter().map(|r| r.year).collect::<Vec<_>>()),
        text("journal", recs.iter().map(|r| r.journal.as_deref().or(r.journal_abbrev.as_deref()))),
        text("volume", recs.iter().map(|r| r.volume.as_deref())),
        text("issue", recs.iter().map(|r| r.issue.as_deref())),
        text("pages", recs.iter().map(|r| r.pages.as_deref())),
        text("doi", recs.iter().map(|r| r.doi.as_deref())),
        text("abstract", recs.iter().map(|r| r.abstract_.as_deref())),
    ]
}

/// The records table.
pub fn records_table(recs: &[Record]) -> Result<Table> {
    let all: Vec<&Record> = recs.iter().collect();
    let extra: Vec<String> = recs.iter().map(|r| r.extra.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\u{1f}")).collect();
    let mut cols = vec![
        text_req("record_id", recs.iter().map(|r| r.record_id.as_str())),
        text_req("database", recs.iter().map(|r| r.database.as_str())),
        text_req("source_file", recs.iter().map(|r| r.source_file.as_str())),
        Column::new("source_line".into(), recs.iter().map(|r| r.source_line as i64).collect::<Vec<_>>()),
        text("entry_type", recs.iter().map(|r| r.entry_type.as_deref())),
    ];
    cols.extend(bib_columns(&all));
    cols.push(text("extra", extra.iter().map(|e| Some(e.as_str()))));
    Table::new(&RECORDS, DataFrame::new(recs.len(), cols).map_err(pe)?)
}

/// Cluster id of cluster `c` (`C0001`, … in representative order).
pub fn cluster_id(c: usize) -> String {
    format!("C{:04}", c + 1)
}

/// Clusters, merged records and maybe-pairs tables.
/// `records` is the records table of `recs` ([`records_table`]), built once by the caller.
pub fn dedup_tables(recs: &[Record], records: &Table, d: &Dedup) -> Result<(Table, Table, Table)> {
    // one row per record, in cluster order
    let rows: Vec<(usize, usize)> = d.clusters.iter().enumerate().flat_map(|(ci, members)| members.iter().map(move |&m| (ci, m))).collect();
    let ids: Vec<String> = rows.iter().map(|(ci, _)| cluster_id(*ci)).collect();
    let cols = vec![
        text_req("cluster_id", ids.iter().map(String::as_str)),
        text_req("record_id", rows.iter().map(|(_, m)| recs[*m].record_id.as_str())),
        Column::new("representative".into(), rows.iter().map(|(ci, m)| d.representative[*ci] == *m).collect::<Vec<_>>()),
        text("matched_with", rows.iter().map(|(_, m)| d.matched[*m].as_ref().map(|(o, _)| recs[*o].record_id.as_str()))),
        text("evidence", rows.iter().map(|(_, m)| d.matched[*m].as_ref().map(|(_, ev)| ev.as_str()))),
    ];
    let clusters = Table::new(&CLUSTERS, DataFrame::new(rows.len(), cols).map_err(pe)?)?;
    let merged = merged_table(records, &clusters)?;
    let mut mp = Builder::new(&MAYBE_PAIRS);
    for (a, bb, sim, ev) in &d.maybe {
        mp.row(vec![s(&recs[*a].record_id), s(&recs[*bb].record_id), f(*sim), s(ev)]);
    }
    Ok((clusters, merged, mp.finish()?))
}

/// One merged record per cluster, in polars: the clusters joined to the records; per cluster
/// (in cluster order) every record id and database, and each field from the representative, or
/// when it lacks the field, from the first copy that has it.
pub fn merged_table(records: &Table, clusters: &Table) -> Result<Table> {
    let doi: StringChunked = records.str("doi").iter().map(|d| d.and_then(normalize::doi)).collect();
    let mut rec = records.df.select(["record_id", "database", "title", "authors", "year", "journal"]).map_err(pe)?;
    rec.with_column(doi.with_name("doi".into()).into_column()).map_err(pe)?;
    // every cluster's rows together (clusters in order), its representative first, then the
    // copies in cluster order: one sort, after which a field's first non-missing value in a
    // group is the representative's or the first copy's
    let first = |c: &str| col(c).drop_nulls().first().alias(c);
    let df = clusters
        .df
        .clone()
        .lazy()
        .with_row_index("member", None)
        .join(rec.lazy(), [col("record_id")], [col("record_id")], JoinArgs::new(JoinType::Left))
        .with_column(col("member").min().over([col("cluster_id")]).map_err(pe)?.alias("cluster_pos"))
        .sort_by_exprs([col("cluster_pos"), col("representative").not(), col("member")], SortMultipleOptions::default())
        .group_by_stable([col("cluster_id")])
        .agg([
            col("record_id").sort(SortOptions::default()).str().join(";", true).alias("merged_ids"),
            col("database").unique().sort(SortOptions::default()).str().join(";", true).alias("databases"),
            first("title"),
            first("authors"),
            first("year"),
            first("journal"),
            first("doi"),
        ])
        .collect()
        .map_err(pe)?;
    Table::new(&MERGED, df)
}

/// A person's decisions on maybe-pairs: `record_a, record_b, duplicate (yes/no)` (none when
/// there is no such file).
pub fn read_human_decisions(input: Option<&Input>) -> Result<Vec<HumanDecision>> {
    let Some(input) = input else { return Ok(vec![]) };
    let (path, text) = (input.path.as_path(), input.text()?);
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut out = vec![];
    for (n, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| Error::data(e.to_string()).file(path).line(n + 2))?;
        let dup = match r.get(2).unwrap_or("").trim().to_ascii_lowercase().as_str() {
            "yes" | "y" | "true" | "1" => true,
            "no" | "n" | "false" | "0" => false,
            other => return Err(Error::data(format!("{other:?} is not yes/no")).file(path).line(n + 2).field("duplicate")),
        };
        out.push(HumanDecision { record_a: r.get(0).unwrap_or("").trim().into(), record_b: r.get(1).unwrap_or("").trim().into(), duplicate: dup });
    }
    Ok(out)
}

fn vtext(v: Verdict) -> &'static str {
    match v {
        Verdict::Include => "include",
        Verdict::Exclude => "exclude",
    }
}

/// The screening table: one title/abstract row per cluster, one full-text row per report.
pub fn screening_table(ta: &[TaDecision], ft: &[FtDecision]) -> Result<Table> {
    let mut t = Builder::new(&SCREENING);
    for d in ta {
        t.row(vec![
            s(cluster_id(d.cluster)),
            s(&d.record_id),
            s("title_abstract"),
            s(vtext(d.reviewer_1)),
            s(vtext(d.reviewer_2)),
            so(d.adjudicated.map(vtext)),
            s(vtext(d.decision)),
            so(None::<String>),
            so(None::<String>),
        ]);
    }
    for d in ft {
        t.row(vec![
            s(cluster_id(d.cluster)),
            s(&d.record_id),
            s("full_text"),
            so(None::<String>),
            so(None::<String>),
            so(None::<String>),
            s(vtext(d.decision)),
            so(d.reason.clone()),
            so(d.study_id.clone()),
        ]);
    }
    t.finish()
}

/// Reviewer agreement per stage (Cohen's κ where two reviewers screened).
pub fn agreement_table(ta: &[TaDecision], ft: &[FtDecision]) -> Result<Table> {
    use metapipe_tables::schema::AGREEMENT;
    let mut t = Builder::new(&AGREEMENT);
    let agreed = ta.iter().filter(|d| d.reviewer_1 == d.reviewer_2).count();
    let adjudicated = ta.iter().filter(|d| d.adjudicated.is_some()).count();
    let kappa = screening::cohen_kappa(&ta.iter().map(|d| (d.reviewer_1, d.reviewer_2)).collect::<Vec<_>>());
    t.row(vec![s("title_abstract"), i(ta.len() as i64), i(agreed as i64), i((ta.len() - agreed) as i64), i(adjudicated as i64), f(kappa), so(None::<String>)]);
    t.row(vec![s("full_text"), i(ft.len() as i64), i(None), i(None), i(None), f(None), s("one decision per report in the log: no agreement to measure")]);
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
        t.row(vec![s("excluded_full_text_reason"), s(reason), i(*n as i64)]);
    }
    t.finish()
}

/// The records awaiting a decision (the representative of each cluster; `awaiting` is
/// [`Ingested::awaiting`]), as a table.
pub fn to_screen_table(ing: &Ingested, awaiting: &[(usize, &str)]) -> Result<Table> {
    let reps: Vec<&Record> = awaiting.iter().map(|(c, _)| &ing.records[ing.dedup.representative[*c]]).collect();
    let ids: Vec<String> = awaiting.iter().map(|(c, _)| cluster_id(*c)).collect();
    let mut cols = vec![
        text_req("stage", awaiting.iter().map(|(_, stage)| *stage)),
        text_req("cluster_id", ids.iter().map(String::as_str)),
        text_req("record_id", reps.iter().map(|r| r.record_id.as_str())),
        text_req("database", reps.iter().map(|r| r.database.as_str())),
        Column::new("round".into(), awaiting.iter().map(|(c, _)| ing.cluster_round(*c) as i64).collect::<Vec<_>>()),
    ];
    cols.extend(bib_columns(&reps));
    Table::new(&TO_SCREEN, DataFrame::new(awaiting.len(), cols).map_err(pe)?)
}

/// The records awaiting a decision as RIS (Rayyan, Covidence, ASReview and reference managers
/// import it): one record each, its id in `ID`, the stage and round in `N1`.
pub fn to_screen_ris(ing: &Ingested, awaiting: &[(usize, &str)]) -> String {
    let mut out = String::new();
    let tag = |out: &mut String, t: &str, v: &str| {
        if !v.is_empty() {
            out.push_str(t);
            out.push_str("  - ");
            if v.contains(['\n', '\r']) {
                out.push_str(&v.replace(['\n', '\r'], " "));
            } else {
                out.push_str(v);
            }
            out.push('\n');
        }
    };
    for &(c, stage) in awaiting {
        let r = &ing.records[ing.dedup.representative[c]];
        tag(&mut out, "TY", "JOUR");
        tag(&mut out, "ID", &r.record_id);
        tag(&mut out, "TI", r.title.as_deref().unwrap_or(""));
        for a in &r.authors {
            tag(&mut out, "AU", a);
        }
        tag(&mut out, "PY", &r.year.map(|y| y.to_string()).unwrap_or_default());
        tag(&mut out, "JO", r.journal.as_deref().or(r.journal_abbrev.as_deref()).unwrap_or(""));
        tag(&mut out, "VL", r.volume.as_deref().unwrap_or(""));
        tag(&mut out, "IS", r.issue.as_deref().unwrap_or(""));
        tag(&mut out, "SP", r.pages.as_deref().unwrap_or(""));
        tag(&mut out, "DO", r.doi.as_deref().unwrap_or(""));
        tag(&mut out, "AB", r.abstract_.as_deref().unwrap_or(""));
        tag(&mut out, "N1", &format!("metapipe: awaiting {stage} screening; cluster {}; search round {}", cluster_id(c), ing.cluster_round(c)));
        out.push_str("ER  - \n");
    }
    out
}

/// PRISMA 2020 for an updated review, when the review has more than one search round: the
/// studies of the previous version (included from records of earlier rounds), the flow of the
/// latest round's new records, and the total. Rows (stage, detail, count), stages prefixed
/// `update_`; none for a single-round review.
pub fn prisma_update(ing: &Ingested) -> Vec<(String, Option<String>, usize)> {
    let latest = ing.record_round.iter().copied().max().unwrap_or(1);
    if latest <= 1 {
        return vec![];
    }
    let round = |c: usize| ing.cluster_round(c);
    let ta: HashMap<usize, Verdict> = ing.ta.iter().map(|d| (d.cluster, d.decision)).collect();
    let (mut prev_studies, mut prev_reports) = (std::collections::BTreeSet::new(), 0usize);
    let (mut new_studies, mut new_reports) = (std::collections::BTreeSet::new(), 0usize);
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    let (mut ft_new, mut excl_ft_new) = (0, 0);
    for d in &ing.ft {
        let is_new = round(d.cluster) == latest;
        if is_new {
            ft_new += 1;
        }
        match (d.decision, is_new) {
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
                *reasons.entry(d.reason.clone().unwrap_or_default()).or_default() += 1;
            }
            _ => {}
        }
    }
    let new_clusters: Vec<usize> = (0..ing.dedup.clusters.len()).filter(|&c| round(c) == latest).collect();
    let identified = ing.record_round.iter().filter(|r| **r == latest).count() + ing.seen_again.iter().filter(|(r, _)| *r == latest).map(|(_, n)| n).sum::<usize>();
    let screened = new_clusters.iter().filter(|c| ta.contains_key(c)).count();
    let excl_ta = new_clusters.iter().filter(|c| ta.get(c) == Some(&Verdict::Exclude)).count();
    let new_only: std::collections::BTreeSet<&String> = new_studies.iter().filter(|s| !prev_studies.contains(*s)).collect();
    let total: std::collections::BTreeSet<&String> = prev_studies.iter().chain(new_studies.iter()).collect();
    let mut rows: Vec<(String, Option<String>, usize)> = [
        ("update_previous_studies", prev_studies.len()),
        ("update_previous_reports", prev_reports),
        ("update_records_identified", identified),
        ("update_duplicates_removed", identified - new_clusters.len()),
        ("update_records_screened", screened),
        ("update_records_awaiting_screening", new_clusters.len() - screened),
        ("update_excluded_title_abstract", excl_ta),
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
    rows.extend(reasons.into_iter().map(|(r, n)| ("update_excluded_full_text_reason".to_string(), Some(r), n)));
    rows.push(("update_round".into(), None, latest));
    rows
}

/// Everything ingest produces.
pub struct Ingested {
    pub records: Vec<Record>,
    pub dedup: Dedup,
    pub ta: Vec<TaDecision>,
    pub ft: Vec<FtDecision>,
    pub prisma: Prisma,
    pub kappa_title_abstract: Option<f64>,
    pub warnings: Vec<String>,
    /// each record's search round
    pub record_round: Vec<usize>,
    /// (round, records exported again under an id an earlier round had)
    pub seen_again: Vec<(usize, usize)>,
}

impl Ingested {
    /// The clusters awaiting a decision, in cluster order: (cluster, stage), stage
    /// `title_abstract` (no decision yet) or `full_text` (included at title/abstract, no
    /// full-text decision yet).
    pub fn awaiting(&self) -> Vec<(usize, &'static str)> {
        let ta: std::collections::HashMap<usize, Verdict> = self.ta.iter().map(|d| (d.cluster, d.decision)).collect();
        let ft: std::collections::HashSet<usize> = self.ft.iter().map(|d| d.cluster).collect();
        (0..self.dedup.clusters.len())
            .filter_map(|c| match ta.get(&c) {
                None => Some((c, "title_abstract")),
                Some(Verdict::Include) if !ft.contains(&c) => Some((c, "full_text")),
                _ => None,
            })
            .collect()
    }
    /// The search round a cluster first appeared in.
    pub fn cluster_round(&self, c: usize) -> usize {
        self.dedup.clusters[c].iter().map(|&k| self.record_round[k]).min().unwrap_or(1)
    }
}

/// The ingest stage: parse, deduplicate, apply screening logs, count.
pub fn ingest(sources: &[Source], human_dedup: Option<&Input>, ta_log: &Input, ft_log: &Input) -> Result<Ingested> {
    let (records, record_round, seen_again, warnings) = parse_sources(sources)?;
    let order: HashMap<&str, usize> = sources.iter().enumerate().map(|(k, s)| (s.database.as_str(), k)).collect();
    let human = read_human_decisions(human_dedup)?;
    let d = dedup::dedup(&records, |k| order.get(records[k].database.as_str()).copied().unwrap_or(usize::MAX), &human);
    // conservation: every record is in exactly one cluster
    let clustered: usize = d.clusters.iter().map(|c| c.len()).sum();
    if clustered != records.len() {
        return Err(Error::data(format!("dedup invariant broken: {clustered} records in clusters, {} parsed", records.len())));
    }
    let cluster_of_id: HashMap<String, usize> = records.iter().enumerate().map(|(k, r)| (r.record_id.clone(), d.cluster_of[k])).collect();
    let ta = screening::title_abstract(ta_log, &cluster_of_id)?;
    let ft = screening::full_text(ft_log, &cluster_of_id, &ta)?;
    let mut per_db: Vec<(String, usize)> = sources.iter().map(|s| (s.database.clone(), 0)).collect();
    for r in &records {
        if let Some(e) = per_db.iter_mut().find(|(db, _)| *db == r.database) {
            e.1 += 1;
        }
    }
    let p = screening::prisma(&per_db, d.clusters.len(), &ta, &ft);
    p.check().map_err(Error::data)?;
    let kappa = screening::cohen_kappa(&ta.iter().map(|d| (d.reviewer_1, d.reviewer_2)).collect::<Vec<_>>());
    Ok(Ingested { records, dedup: d, ta, ft, prisma: p, kappa_title_abstract: kappa, warnings, record_round, seen_again })
}
