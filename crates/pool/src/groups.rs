//! Every group of a table pooled in one pass: groups in order of first appearance (polars'
//! stable group-by when they are scattered), pooled on all cores, each worker writing its
//! groups' results in place; the `pooled_groups` table and its output formats.

use crate::args::*;
use crate::columns::*;
use crate::fit::*;
use metapipe_meta::batch::{self, Scratch};
use metapipe_tables::io::{Keys, SinkFormat, TableSink};
use metapipe_tables::schema::POOL_GROUPS;
use metapipe_tables::{Result, Table};
use polars::prelude::*;

/// Group keys in first-appearance order and each group's rows as one contiguous run: the
/// permutation that makes the groups contiguous (`None` when they already are), a row of each
/// group (original order; its key names the group) and the offsets. No text per row: integer
/// keys are compared as integers.
pub(crate) fn group_rows(keys: &Keys) -> Result<(Option<Vec<IdxSize>>, Vec<IdxSize>, Vec<usize>)> {
    // contiguous already (the common case, e.g. files sorted by analysis id)? one linear pass
    let starts = keys.run_starts();
    // runs in increasing key order (a file sorted by its group) are distinct without hashing
    let contiguous = match keys {
        // integer keys compared as integers (hashing their text costs more than the pooling)
        Keys::Int(v) => {
            starts.windows(2).all(|w| v[w[0]] < v[w[1]]) || {
                let mut seen = std::collections::HashSet::with_capacity(starts.len());
                starts.iter().all(|&s| seen.insert(v[s]))
            }
        }
        // a missing key is the group "" (as `Keys::runs` names it)
        Keys::Text(ca) => {
            let key = |s: usize| ca.get(s).unwrap_or("");
            starts.windows(2).all(|w| key(w[0]) < key(w[1])) || {
                let mut seen = std::collections::HashSet::with_capacity(starts.len());
                starts.iter().all(|&s| seen.insert(key(s)))
            }
        }
    };
    if contiguous {
        let rows = starts.iter().map(|&s| s as IdxSize).collect();
        let mut offsets = starts;
        offsets.push(keys.len());
        return Ok((None, rows, offsets));
    }
    // polars' stable group-by: groups by first appearance, each group's rows in order
    let df = DataFrame::new(keys.len(), vec![keys.column("g")])?;
    let g = metapipe_tables::frame::groups(&df, &["g"])?;
    let rows = g.iter().map(|rows| rows[0]).collect();
    Ok((Some(g.rows), rows, g.offsets))
}

/// The float columns of `pooled_groups`, in the order [`Results::floats`] holds them.
pub(crate) const FLOATS: [&str; 13] = [
    "estimate", "se", "ci_lb", "ci_ub", "z", "p", "Q", "Q_p", "I2", "H2", "tau2", "pi_lb", "pi_ub",
];

/// The pooled results of every group, column by column (the workers write each group's values
/// in place: no row structs collected and copied again). A group that failed has NaN in every
/// float column (missing in the table) and its message in `errors`.
pub(crate) struct Results {
    pub(crate) floats: Vec<Vec<f64>>,
    pub(crate) k: Vec<i64>,
    pub(crate) q_df: Vec<i64>,
    /// (group, message), in group order
    pub(crate) errors: Vec<(usize, String)>,
}

/// Pool every group; results in group order.
pub(crate) fn pool_groups(st: &Studies, offsets: &[usize], a: &PoolArgs) -> Results {
    let n = offsets.len().saturating_sub(1);
    let crit = batch::crit(a.level);
    let kernel = kernel_covers(a);
    let fit_group = |i: usize,
                     s: &mut Scratch,
                     bufs: &mut [Vec<f64>]|
     -> std::result::Result<batch::Row, String> {
        let cols = st.rows(offsets[i], offsets[i + 1], bufs);
        if kernel {
            kernel_fit(&cols, st.layout, a, crit, s)
        } else {
            fit(&cols, st.layout, a).map(|f| row_of_fit(&f))
        }
    };
    let threads = metapipe_tables::par::threads().min(16);
    let chunk = n.div_ceil(threads.max(1)).max(1);
    let mut floats: Vec<Vec<f64>> = FLOATS.iter().map(|_| vec![0.0; n]).collect();
    let (mut k, mut q_df) = (vec![0i64; n], vec![0i64; n]);
    // each worker's share: its groups' slice of every column
    let mut shares: Vec<Vec<&mut [f64]>> = (0..n.div_ceil(chunk))
        .map(|_| Vec::with_capacity(FLOATS.len()))
        .collect();
    for col in floats.iter_mut() {
        for (share, part) in shares.iter_mut().zip(col.chunks_mut(chunk)) {
            share.push(part);
        }
    }
    let errors = std::thread::scope(|sc| {
        let hs: Vec<_> = shares
            .into_iter()
            .zip(k.chunks_mut(chunk).zip(q_df.chunks_mut(chunk)))
            .enumerate()
            .map(|(j, (mut cols, (ks, dfs)))| {
                let fit_group = &fit_group;
                sc.spawn(move || {
                    let (mut s, mut bufs) = (Scratch::default(), st.scratch());
                    let mut errors = vec![];
                    let start = j * chunk;
                    for i in 0..ks.len() {
                        match fit_group(start + i, &mut s, &mut bufs) {
                            Ok(x) => {
                                let values = [
                                    x.estimate, x.se, x.ci_lb, x.ci_ub, x.z, x.p, x.q, x.q_p, x.i2,
                                    x.h2, x.tau2, x.pi_lb, x.pi_ub,
                                ];
                                for (col, v) in cols.iter_mut().zip(values) {
                                    col[i] = v;
                                }
                                ks[i] = x.k as i64;
                                dfs[i] = x.q_df as i64;
                            }
                            Err(e) => {
                                for col in cols.iter_mut() {
                                    col[i] = f64::NAN;
                                }
                                ks[i] = (offsets[start + i + 1] - offsets[start + i]) as i64;
                                errors.push((start + i, e));
                            }
                        }
                    }
                    errors
                })
            })
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().expect("pool worker panicked"))
            .collect()
    });
    Results {
        floats,
        k,
        q_df,
        errors,
    }
}

/// The `pooled_groups` table: one row per group (estimates on the analysis scale: log for
/// ratio measures, as the `scale` column says).
pub(crate) fn groups_table(group: Column, results: Results, a: &PoolArgs) -> Result<Table> {
    let n = group.len();
    let Results {
        floats,
        k,
        q_df,
        errors,
    } = results;
    // Q_df and error: missing but for the groups that failed
    let (q_df, error) = if errors.is_empty() {
        (
            Column::new("Q_df".into(), q_df),
            Column::full_null("error".into(), n, &DataType::String),
        )
    } else {
        let mut df: Vec<Option<i64>> = q_df.into_iter().map(Some).collect();
        let mut msg: Vec<Option<&str>> = vec![None; n];
        for (i, e) in &errors {
            df[*i] = None;
            msg[*i] = Some(e.as_str());
        }
        (
            Column::new("Q_df".into(), df),
            Column::new("error".into(), msg),
        )
    };
    let scale = if a.measure.is_ratio() {
        "log"
    } else {
        "natural"
    };
    // non-finite values (NaN for a group that failed) become missing in Table::new
    let mut by_name: std::collections::HashMap<&str, Column> = FLOATS
        .iter()
        .zip(floats)
        .map(|(name, v)| (*name, Column::new((*name).into(), v)))
        .collect();
    by_name.extend([
        ("group", group),
        (
            "measure",
            Column::new("measure".into(), vec![a.measure.name(); n]),
        ),
        ("scale", Column::new("scale".into(), vec![scale; n])),
        ("k", Column::new("k".into(), k)),
        ("Q_df", q_df),
        ("error", error),
    ]);
    // in the schema's order
    let columns: Vec<Column> = POOL_GROUPS
        .names()
        .iter()
        .map(|c| by_name.remove(c).expect("every pooled_groups column built"))
        .collect();
    Table::new(&POOL_GROUPS, DataFrame::new(n, columns)?)
}

/// A table as JSON: an array of objects, one per row.
pub(crate) fn json_rows(t: &Table) -> String {
    let lines = metapipe_tables::io::json_lines(t);
    if lines.is_empty() {
        return "[]\n".into();
    }
    format!("[\n  {}\n]\n", lines.join(",\n  "))
}

/// How `--group` output is written to `out`: Parquet by its extension, else JSON or CSV by
/// `--format`.
pub(crate) fn sink_format(out: &std::path::Path, a: &PoolArgs) -> SinkFormat {
    if out.extension().is_some_and(|e| e == "parquet") {
        SinkFormat::Parquet
    } else if a.format == "json" {
        SinkFormat::Json
    } else {
        SinkFormat::Csv
    }
}

/// The `--group` table to `--out` (the same writer as the streaming path) or to stdout.
pub(crate) fn emit_groups(table: &Table, a: &PoolArgs) -> Result<String> {
    match &a.out {
        Some(o) => {
            let mut sink = TableSink::create(o, sink_format(o, a), &POOL_GROUPS)?;
            sink.write(table)?;
            sink.finish().map(|_| String::new())
        }
        None if a.format == "json" => Ok(json_rows(table)),
        None => Ok(String::from_utf8(metapipe_tables::io::csv_bytes(table)?).expect("CSV text")),
    }
}
