//! The record-level stage tables: records, clusters and merged records (polars group-by),
//! maybe-pairs, the cluster lists, and the records awaiting screening (table and RIS).

use crate::dedup::{self, Dedup};
use crate::parse::Record;
use crate::state::Earlier;
use crate::*;
use metapipe_tables::schema::*;
use metapipe_tables::{f, frame, pe, s, Builder, Result, Table};
use polars::prelude::*;

/// A text column from optional cells; an empty string is missing (as [`metapipe_tables::so`]).
pub(crate) fn text<'a>(name: &str, cells: impl Iterator<Item = Option<&'a str>>) -> Column {
    Column::new(
        name.into(),
        cells
            .map(|v| v.filter(|x| !x.is_empty()))
            .collect::<StringChunked>()
            .into_series(),
    )
}

/// A text column of present cells (an empty string stays a string, as [`metapipe_tables::s`]).
pub(crate) fn text_req<'a>(name: &str, cells: impl Iterator<Item = &'a str>) -> Column {
    Column::new(
        name.into(),
        cells.map(Some).collect::<StringChunked>().into_series(),
    )
}

/// A record's bibliographic columns: title, authors (joined by "; "), year, journal (or its
/// abbreviation), volume, issue, pages, doi, abstract.
/// Built column by column from the records (no per-cell allocation but the joined authors).
pub(crate) fn bib_columns(recs: &[&Record]) -> Vec<Column> {
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
    // a round's list is in file order; `to_screen.csv` is ranked over every round
    let n = awaiting.len();
    cols.push(Column::new("score".into(), vec![None::<f64>; n]));
    cols.push(Column::new("rank".into(), vec![None::<i64>; n]));
    Table::new(&TO_SCREEN, DataFrame::new(n, cols)?)
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
