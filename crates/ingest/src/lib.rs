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
pub mod screening;
pub mod synth;

pub mod state;

pub use dedup::cluster_id;
use dedup::{Dedup, HumanDecision};
use metapipe_tables::io::Input;
use metapipe_tables::schema::{
    CLUSTERS, MAYBE_PAIRS, MERGED, PRISMA, RECORDS, SCREENING, TO_SCREEN,
};
use metapipe_tables::{f, frame, i, pe, s, so, Builder, Error, Result, Table};
use parse::Record;
use polars::prelude::*;
use screening::{FtDecision, Prisma, TaDecision, Verdict};
use state::Earlier;
use std::collections::HashMap;

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

/// A text column from optional cells; an empty string is missing (as [`metapipe_tables::so`]).
fn text<'a>(name: &str, cells: impl Iterator<Item = Option<&'a str>>) -> Column {
    Column::new(
        name.into(),
        cells
            .map(|v| v.filter(|x| !x.is_empty()))
            .collect::<StringChunked>()
            .into_series(),
    )
}

/// A text column of present cells (an empty string stays a string, as [`metapipe_tables::s`]).
fn text_req<'a>(name: &str, cells: impl Iterator<Item = &'a str>) -> Column {
    Column::new(
        name.into(),
        cells.map(Some).collect::<StringChunked>().into_series(),
    )
}

/// A record's bibliographic columns: title, authors (joined by "; "), year, journal (or its
/// abbreviation), volume, issue, pages, doi, abstract.
/// Built column by column from the records (no per-cell allocation but the joined authors).
fn bib_columns(recs: &[&Record]) -> Vec<Column> {
    let authors: Vec<String> = recs.iter().map(|r| r.authors.join("; ")).collect();
    vec![
        text("title", recs.iter().map(|r| r.title.as_deref())),
        text("authors", authors.iter().map(|a| Some(a.as_str()))),
        Column::new(
            "year".into(),
            recs.iter().map(|r| r.year).collect::<Vec<_>>(),
        ),
        text(
            "journal",
            recs.iter()
                .map(|r| r.journal.as_deref().or(r.journal_abbrev.as_deref())),
        ),
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
    let extra: Vec<String> = recs
        .iter()
        .map(|r| {
            r.extra
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("\u{1f}")
        })
        .collect();
    let mut cols = vec![
        text_req("record_id", recs.iter().map(|r| r.record_id.as_str())),
        text_req("database", recs.iter().map(|r| r.database.as_str())),
        text_req("source_file", recs.iter().map(|r| r.source_file.as_str())),
        Column::new(
            "source_line".into(),
            recs.iter()
                .map(|r| r.source_line as i64)
                .collect::<Vec<_>>(),
        ),
        text("entry_type", recs.iter().map(|r| r.entry_type.as_deref())),
    ];
    cols.extend(bib_columns(&all));
    cols.push(text("extra", extra.iter().map(|e| Some(e.as_str()))));
    Table::new(&RECORDS, DataFrame::new(recs.len(), cols)?)
}

/// Clusters, merged records and maybe-pairs tables of a deduplicated round (`earlier`: the
/// rounds before it; empty for a single deduplication). `records` is the records table of
/// `recs` ([`records_table`]), built once by the caller. The clusters table has one row per
/// record of the round (cluster order); the merged records are those of the clusters the round
/// found (a later round's copy of an earlier cluster is listed in its own round's clusters
/// table, and leaves the merged record screened before as it was).
pub fn dedup_tables(
    recs: &[Record],
    records: &Table,
    d: &Dedup,
    earlier: &Earlier,
) -> Result<(Table, Table, Table)> {
    let (m, c0) = (earlier.n_records(), earlier.n_clusters());
    let id = |g: usize| {
        if g >= m {
            recs[g - m].record_id.as_str()
        } else {
            earlier.record_id(g)
        }
    };
    // one row per record, in cluster order
    let mut rows: Vec<(usize, usize)> = d
        .cluster_of
        .iter()
        .enumerate()
        .map(|(i, &c)| (c, i))
        .collect();
    rows.sort_unstable();
    let table = |rows: &[(usize, usize)]| {
        let ids: Vec<String> = rows.iter().map(|(c, _)| cluster_id(*c)).collect();
        let cols = vec![
            text_req("cluster_id", ids.iter().map(String::as_str)),
            text_req(
                "record_id",
                rows.iter().map(|(_, i)| recs[*i].record_id.as_str()),
            ),
            Column::new(
                "representative".into(),
                rows.iter()
                    .map(|&(c, i)| c >= c0 && d.representative[c - c0] == i)
                    .collect::<Vec<_>>(),
            ),
            text(
                "matched_with",
                rows.iter()
                    .map(|(_, i)| d.matched[*i].as_ref().map(|(o, _)| id(*o))),
            ),
            text(
                "evidence",
                rows.iter()
                    .map(|(_, i)| d.matched[*i].as_ref().map(|(_, ev)| ev.as_str())),
            ),
        ];
        Table::new(&CLUSTERS, DataFrame::new(rows.len(), cols)?)
    };
    let clusters = table(&rows)?;
    let first_new = rows.partition_point(|(c, _)| *c < c0);
    let merged = if first_new == 0 {
        merged_table(records, &clusters)?
    } else {
        merged_table(records, &table(&rows[first_new..])?)?
    };
    let mut mp = Builder::new(&MAYBE_PAIRS);
    for (a, bb, sim, ev) in &d.maybe {
        mp.row(vec![s(id(*a)), s(id(*bb)), f(*sim), s(ev)]);
    }
    Ok((clusters, merged, mp.finish()?))
}

/// One merged record per cluster, in polars: the clusters joined to the records; per cluster
/// (in cluster order) every record id and database, and each field from the representative, or
/// when it lacks the field, from the first copy that has it.
pub fn merged_table(records: &Table, clusters: &Table) -> Result<Table> {
    let doi: StringChunked = records
        .str("doi")
        .iter()
        .map(|d| d.and_then(normalize::doi))
        .collect();
    let mut rec = records.df.select([
        "record_id",
        "database",
        "title",
        "authors",
        "year",
        "journal",
    ])?;
    rec.with_column(doi.with_name("doi".into()).into_column())?;
    // the clusters' rows in order, each with its record's fields; then per cluster (in order of
    // its first row) its representative first, then the copies in cluster order, so that a
    // field's first non-missing value is the representative's or the first copy's
    let joined = frame::numbered(&clusters.df, "member")
        .and_then(|c| frame::join(&c, &rec, &["record_id"], JoinType::Left, false))
        .and_then(|d| d.sort(["member"], SortMultipleOptions::default()))?;
    let text = |c: &str| joined.column(c).and_then(|x| x.str()).map_err(pe);
    let (cluster, ids, databases, rep) = (
        text("cluster_id")?,
        text("record_id")?,
        text("database")?,
        joined.column("representative").and_then(|x| x.bool())?,
    );
    let fields = [
        text("title")?,
        text("authors")?,
        text("journal")?,
        text("doi")?,
    ];
    let year = joined.column("year").and_then(|x| x.i64())?;
    let (mut out_cluster, mut out_ids, mut out_dbs, mut out_year) =
        (vec![], vec![], vec![], vec![]);
    let mut out_fields: [Vec<Option<&str>>; 4] = Default::default();
    for g in frame::groups(&joined, &["cluster_id"])?.iter() {
        let mut order: Vec<usize> = g.iter().map(|&r| r as usize).collect();
        order.sort_by_key(|&r| rep.get(r) != Some(true));
        let mut merged: Vec<&str> = order.iter().filter_map(|&r| ids.get(r)).collect();
        merged.sort_unstable();
        let mut dbs: Vec<&str> = order.iter().filter_map(|&r| databases.get(r)).collect();
        dbs.sort_unstable();
        dbs.dedup();
        out_cluster.push(cluster.get(order[0]));
        out_ids.push(merged.join(";"));
        out_dbs.push(dbs.join(";"));
        out_year.push(order.iter().find_map(|&r| year.get(r)));
        for (out, field) in out_fields.iter_mut().zip(&fields) {
            out.push(order.iter().find_map(|&r| field.get(r)));
        }
    }
    let [title, authors, journal, doi] = out_fields;
    let text_col = |name: &str, v: Vec<Option<&str>>| Column::new(name.into(), v);
    let cols = vec![
        text_col("cluster_id", out_cluster),
        Column::new("merged_ids".into(), out_ids),
        Column::new("databases".into(), out_dbs),
        text_col("title", title),
        text_col("authors", authors),
        Column::new("year".into(), out_year),
        text_col("journal", journal),
        text_col("doi", doi),
    ];
    let df = DataFrame::new(cols[0].len(), cols)?;
    Table::new(&MERGED, df)
}

/// A person's decisions on maybe-pairs: `record_a, record_b, duplicate (yes/no)` (none when
/// there is no such file).
pub fn read_human_decisions(input: Option<&Input>) -> Result<Vec<HumanDecision>> {
    let Some(input) = input else {
        return Ok(vec![]);
    };
    let (path, text) = (input.path.as_path(), input.text()?);
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut out = vec![];
    for (n, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| Error::data(e.to_string()).file(path).line(n + 2))?;
        let dup = match r.get(2).unwrap_or("").trim().to_ascii_lowercase().as_str() {
            "yes" | "y" | "true" | "1" => true,
            "no" | "n" | "false" | "0" => false,
            other => {
                return Err(Error::data(format!("{other:?} is not yes/no"))
                    .file(path)
                    .line(n + 2)
                    .field("duplicate"))
            }
        };
        out.push(HumanDecision {
            record_a: r.get(0).unwrap_or("").trim().into(),
            record_b: r.get(1).unwrap_or("").trim().into(),
            duplicate: dup,
        });
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
            ta.iter().map(|d| Some(vtext(d.reviewer_2))).chain(none()),
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
            std::iter::repeat_n(None, ta.len()).chain(ft.iter().map(|d| d.reason.as_deref())),
        ),
        text(
            "study_id",
            std::iter::repeat_n(None, ta.len()).chain(ft.iter().map(|d| d.study_id.as_deref())),
        ),
    ];
    Table::new(&SCREENING, DataFrame::new(ids.len(), cols)?)
}

/// Reviewer agreement per stage (Cohen's κ where two reviewers screened).
pub fn agreement_table(ta: &[TaDecision], ft: &[FtDecision]) -> Result<Table> {
    use metapipe_tables::schema::AGREEMENT;
    let mut t = Builder::new(&AGREEMENT);
    let agreed = ta.iter().filter(|d| d.reviewer_1 == d.reviewer_2).count();
    let adjudicated = ta.iter().filter(|d| d.adjudicated.is_some()).count();
    let kappa = screening::cohen_kappa(
        &ta.iter()
            .map(|d| (d.reviewer_1, d.reviewer_2))
            .collect::<Vec<_>>(),
    );
    t.row(vec![
        s("title_abstract"),
        i(ta.len() as i64),
        i(agreed as i64),
        i((ta.len() - agreed) as i64),
        i(adjudicated as i64),
        f(kappa),
        so(None::<String>),
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

/// The records of round `round` awaiting a decision (`awaiting`: (cluster, stage) of the
/// clusters the round found; [`Screened::awaiting`]), each cluster's representative, from the
/// round's records table and state.
pub fn to_screen_table(
    records: &Table,
    st: &state::RoundState,
    awaiting: &[(usize, &str)],
    round: usize,
) -> Result<Table> {
    let idx: Vec<IdxSize> = awaiting
        .iter()
        .map(|(c, _)| st.representative(c - st.clusters_before) as IdxSize)
        .collect();
    let reps = records.df.take(&IdxCa::from_vec("i".into(), idx))?;
    let ids: Vec<String> = awaiting.iter().map(|(c, _)| cluster_id(*c)).collect();
    let col = |name: &str| reps.column(name).cloned().map_err(pe);
    let mut cols = vec![
        text_req("stage", awaiting.iter().map(|(_, stage)| *stage)),
        text_req("cluster_id", ids.iter().map(String::as_str)),
        col("record_id")?,
        col("database")?,
        Column::new("round".into(), vec![round as i64; awaiting.len()]),
    ];
    for name in [
        "title", "authors", "year", "journal", "volume", "issue", "pages", "doi", "abstract",
    ] {
        cols.push(col(name)?);
    }
    Table::new(&TO_SCREEN, DataFrame::new(awaiting.len(), cols)?)
}

/// The records awaiting a decision as RIS (Rayyan, Covidence, ASReview and reference managers
/// import it): one record each, its id in `ID`, the stage, cluster and round in `N1`.
pub fn to_screen_ris(t: &Table) -> String {
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
    let [stage, cluster, id, title, authors, journal, volume, issue, pages, doi, abstract_] = [
        "stage",
        "cluster_id",
        "record_id",
        "title",
        "authors",
        "journal",
        "volume",
        "issue",
        "pages",
        "doi",
        "abstract",
    ]
    .map(|c| t.str(c));
    let (year, round) = (t.int("year"), t.int("round"));
    for k in 0..t.num_rows() {
        fn cell(c: &StringChunked, k: usize) -> &str {
            c.get(k).unwrap_or("")
        }
        let get = |c| cell(c, k);
        tag(&mut out, "TY", "JOUR");
        tag(&mut out, "ID", get(id));
        tag(&mut out, "TI", get(title));
        // the records table joins a record's authors with "; "
        for a in get(authors).split("; ") {
            tag(&mut out, "AU", a);
        }
        tag(
            &mut out,
            "PY",
            &year.get(k).map(|y| y.to_string()).unwrap_or_default(),
        );
        tag(&mut out, "JO", get(journal));
        tag(&mut out, "VL", get(volume));
        tag(&mut out, "IS", get(issue));
        tag(&mut out, "SP", get(pages));
        tag(&mut out, "DO", get(doi));
        tag(&mut out, "AB", get(abstract_));
        tag(
            &mut out,
            "N1",
            &format!(
                "metapipe: awaiting {} screening; cluster {}; search round {}",
                get(stage),
                get(cluster),
                round.get(k).unwrap_or(1)
            ),
        );
        out.push_str("ER  - \n");
    }
    out
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

/// The clusters of two or more records `dedup` found among `records`, as the dedup benchmark
/// lists them (record ids sorted and joined by `;`, clusters in order); `strip_database` drops
/// the `database:` prefix of the ids (one source: the export's own ids).
pub fn dedup_cluster_list(
    records: &[Record],
    d: &dedup::Dedup,
    strip_database: bool,
) -> Result<Table> {
    let id = |i: usize| {
        let id = records[i].record_id.as_str();
        match id.split_once(':') {
            Some((_, x)) if strip_database => x,
            _ => id,
        }
    };
    let mut list = Builder::new(&metapipe_tables::schema::CLUSTER_LIST);
    for members in d.clusters.iter().filter(|c| c.len() > 1) {
        let mut ids: Vec<&str> = members.iter().map(|&i| id(i)).collect();
        ids.sort_unstable();
        list.row(vec![s(ids.join(";"))]);
    }
    list.finish()
}

/// Every cluster of two or more records (every round's), as the dedup benchmark lists them:
/// record ids sorted and joined by `;`, clusters in order.
pub fn cluster_list(all: &Earlier) -> Result<Table> {
    // sizes first: only the records of clusters of two or more are read
    let mut size = vec![0u32; all.n_clusters()];
    for r in all.rounds() {
        for i in 0..r.n {
            size[r.cluster_of(i)] += 1;
        }
    }
    let mut members: Vec<Vec<&str>> = vec![vec![]; all.n_clusters()];
    for r in all.rounds() {
        for i in 0..r.n {
            let c = r.cluster_of(i);
            if size[c] > 1 {
                members[c].push(r.record_id(i));
            }
        }
    }
    let joined: Vec<String> = members
        .into_iter()
        .filter(|m| m.len() > 1)
        .map(|mut m| {
            m.sort_unstable();
            m.join(";")
        })
        .collect();
    Table::new(
        &metapipe_tables::schema::CLUSTER_LIST,
        DataFrame::new(
            joined.len(),
            vec![text_req("merged_ids", joined.iter().map(String::as_str))],
        )?,
    )
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
    ft_log: &Input,
) -> Result<Screened> {
    let cluster_of_id = |id: &str| all.find_id(id).map(|g| all.cluster_of(g));
    let ta = screening::title_abstract(ta_log, &cluster_of_id)?;
    let ft = screening::full_text(ft_log, &cluster_of_id, &ta)?;
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
    let kappa = screening::cohen_kappa(
        &ta.iter()
            .map(|d| (d.reviewer_1, d.reviewer_2))
            .collect::<Vec<_>>(),
    );
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
    let (mut ft_new, mut excl_ft_new) = (0, 0);
    for d in ft {
        let new = is_new(d.cluster);
        if new {
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
