//! # metapipe-pool
//!
//! The pooling engine behind `metapipe pool FILE` and the Python package's `pool`: any study
//! table, from a file ([`pool`]) or in memory ([`pool_frame`], [`escalc_frame`]), one analysis
//! or one per group. The options are checked by the pipeline's one definition
//! (`metapipe_plan::options`) and a single analysis is fitted by the pipeline's dispatcher
//! (`metapipe_meta::analysis`), so the three entry points agree.
//!
//! Column names: metafor's (`ai, n1i, ci, n2i` or `ai, bi, ci, di`; `m1i, sd1i, n1i, m2i, sd2i,
//! n2i`; `yi` with `vi` or `sei`) or the pipeline's (`events_treat, n_treat, events_ctrl,
//! n_ctrl`; `mean_treat, sd_treat, n_treat, mean_ctrl, sd_ctrl, n_ctrl`; `yi` with `se`). Only
//! the columns the measure needs (and the group column) are read.
//!
//! `--group` pools every group in one pass: groups in order of first appearance (grouping by
//! polars when the file's groups are not contiguous), the allocation-free kernels of
//! `metapipe_meta::batch` on all cores for every measure × method they cover (escalc fused into
//! the kernel), the single-analysis path for the rest (Peto, PM, Knapp-Hartung, RevMan, MH for
//! RR/RD).

mod args;
pub mod bench;
mod columns;
mod fit;
mod groups;
mod stream;

pub use args::{PoolArgs, UserOptions};

use crate::columns::*;
use crate::fit::*;
use crate::groups::*;
use crate::stream::*;
use metapipe_meta::analysis::Zeros;
use metapipe_meta::effect::Measure;
use metapipe_meta::model::Fit;
use metapipe_tables::io::{open_user, write_atomic, UserTable};
use metapipe_tables::{pe, Error, Result, Table};
use polars::prelude::*;
use std::path::{Path, PathBuf};

/// What pooling a table gives: one analysis, or the `pooled_groups` table.
pub enum Pooled {
    One(Fit),
    Groups(Table),
}

/// Run `metapipe pool`; returns what goes to stdout.
pub fn pool(a: &PoolArgs) -> Result<String> {
    let src = open_user(&a.file)?;
    let (layout, roles) = layout_and_columns(&src.names, &src.path, a.measure)?;
    let read = columns_to_read(&src.names, &src.path, &roles, a)?;
    // a Parquet file larger than one chunk, pooled by group into a file: read chunk by chunk
    let streamed =
        a.group.is_some() && a.out.is_some() && src.rows.is_some_and(|n| n > stream_above());
    if streamed {
        return pool_stream(
            a,
            &src,
            layout,
            &roles,
            &read,
            a.group.as_deref().unwrap_or_default(),
        );
    }
    let t = src.read(&read)?;
    match pool_read(&t, layout, &roles, a)? {
        Pooled::One(fit) => {
            let out = match a.format.as_str() {
                "json" => json_of(&fit) + "\n",
                "csv" => {
                    let fields = fields(&fit);
                    format!(
                        "{}\n{}\n",
                        fields.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(","),
                        fields
                            .iter()
                            .map(|(_, v)| format!("{v}"))
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                }
                _ => {
                    let fmt = |v: f64| {
                        if v != 0.0 && v.abs() < 1e-4 {
                            format!("{v:.4e}")
                        } else {
                            format!("{v:.6}")
                        }
                    };
                    let mut s: String = fields(&fit)
                        .iter()
                        .map(|(k, v)| format!("{k:<12} {}\n", fmt(*v)))
                        .collect();
                    // the estimate on its natural scale (not for the double arcsine, whose
                    // inverse needs the studies' sizes: see results.csv)
                    let back = a.measure.back();
                    if back != metapipe_meta::measures::Back::Identity && !back.needs_n() {
                        let b = |x: f64| back.apply(x, f64::NAN);
                        let what = match back {
                            metapipe_meta::measures::Back::Exp => a.measure.name().to_string(),
                            metapipe_meta::measures::Back::Tanh => "correlation".into(),
                            _ => "proportion".into(),
                        };
                        s.push_str(&format!(
                            "{what} = {:.4} [{:.4}, {:.4}]\n",
                            b(fit.estimate),
                            b(fit.ci_lb),
                            b(fit.ci_ub)
                        ));
                    }
                    s
                }
            };
            if let Some(o) = &a.out {
                write_atomic(o, out.as_bytes())?;
                return Ok(String::new());
            }
            Ok(out)
        }
        Pooled::Groups(table) => emit_groups(&table, a),
    }
}

/// The columns to read: the measure's roles and the group column (which must exist).
pub(crate) fn columns_to_read<'a>(
    have: &[String],
    path: &Path,
    roles: &'a [(&'static str, String)],
    a: &'a PoolArgs,
) -> Result<Vec<&'a str>> {
    let mut read: Vec<&str> = roles.iter().map(|(_, c)| c.as_str()).collect();
    if let Some(g) = &a.group {
        if !have.iter().any(|h| h == g) {
            return Err(
                Error::data(format!("missing group column (have: {})", have.join(",")))
                    .file(path)
                    .line(1)
                    .field(g.clone()),
            );
        }
        read.push(g);
    }
    Ok(read)
}

/// Pool a table read whole: one analysis, or one per group.
pub(crate) fn pool_read(
    t: &UserTable,
    layout: Layout,
    roles: &[(&'static str, String)],
    a: &PoolArgs,
) -> Result<Pooled> {
    if t.rows() == 0 {
        return Err(Error::data("empty table: no studies").file(&t.path));
    }
    let studies = read_studies(t, layout, roles)?;
    match &a.group {
        None => {
            let mut bufs = studies.scratch();
            let cols = studies.rows(0, t.rows(), &mut bufs);
            fit(&cols, layout, a)
                .map(Pooled::One)
                .map_err(|e| Error::data(e).file(&t.path))
        }
        Some(g) => {
            let keys = t.keys(g)?;
            let (perm, rows, offsets) = group_rows(&keys)?;
            let studies = match perm {
                None => studies,
                Some(p) => Studies {
                    layout: studies.layout,
                    cols: studies
                        .cols
                        .iter()
                        .map(|c| {
                            let v = c.to_vec(t.rows());
                            Col::Own(p.iter().map(|&i| v[i as usize]).collect())
                        })
                        .collect(),
                },
            };
            let results = pool_groups(&studies, &offsets, a);
            drop(studies);
            groups_table(keys.column_at("group", &rows), results, a).map(Pooled::Groups)
        }
    }
}

/// An in-memory table (the Python package's path) as a user table named `label`: only the
/// columns read, each once. Rows are numbered from 1 in errors.
pub(crate) fn in_memory(df: &DataFrame, label: &str, read: &[&str]) -> Result<UserTable> {
    let mut want: Vec<&str> = vec![];
    for c in read {
        if !want.contains(c) {
            want.push(c);
        }
    }
    let df = df
        .select(want.iter().copied())
        .map_err(|e| pe(e).file(label))?;
    Ok(UserTable {
        path: PathBuf::from(label),
        df,
        csv: false,
        first_row: 0,
    })
}

/// An in-memory table has no header line: a missing column names no row.
pub(crate) fn no_header(e: Error) -> Error {
    Error { line: None, ..e }
}

/// `metapipe pool` on an in-memory table: the `pooled_groups` table with a group column, else
/// the one analysis's fields (the columns of `pool --format csv`) as one row.
pub fn pool_frame(df: &DataFrame, label: &str, a: &PoolArgs) -> Result<DataFrame> {
    let have: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let (layout, roles) =
        layout_and_columns(&have, Path::new(label), a.measure).map_err(no_header)?;
    let read = columns_to_read(&have, Path::new(label), &roles, a).map_err(no_header)?;
    let t = in_memory(df, label, &read)?;
    match pool_read(&t, layout, &roles, a)? {
        Pooled::Groups(t) => Ok(t.df),
        Pooled::One(fit) => {
            let cols: Vec<Column> = fields(&fit)
                .into_iter()
                .map(|(k, v)| {
                    if k == "k" || k == "Q_df" {
                        Column::new(k.into(), [v as i64])
                    } else {
                        Column::new(k.into(), [Some(v).filter(|x| x.is_finite())])
                    }
                })
                .collect();
            DataFrame::new(1, cols).map_err(pe)
        }
    }
}

/// metafor's `escalc` on an in-memory table: the table with `yi` and `vi` appended (log scale
/// for ratio measures; zero cells as metafor's default, 1/2 added to the study's cells). Rows
/// whose effect is not estimable get missing `yi` and `vi`.
pub fn escalc_frame(df: &DataFrame, label: &str, measure: Measure) -> Result<DataFrame> {
    let have: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let (layout, roles) =
        layout_and_columns(&have, Path::new(label), measure).map_err(no_header)?;
    for out in ["yi", "vi"] {
        if have.iter().any(|h| h == out) && !matches!(layout, Layout::Var | Layout::Se) {
            return Err(Error::data(format!(
                "the table has a column {out} already (escalc appends yi and vi)"
            ))
            .file(label)
            .field(out));
        }
    }
    let read: Vec<&str> = roles.iter().map(|(_, c)| c.as_str()).collect();
    let t = in_memory(df, label, &read)?;
    let st = read_studies(&t, layout, &roles)?;
    let mut bufs = st.scratch();
    let effects = effects(
        &st.rows(0, t.rows(), &mut bufs),
        layout,
        measure,
        Zeros::Escalc,
    );
    let mut out = df.clone();
    if matches!(layout, Layout::Var | Layout::Se) {
        // generic effects: yi as given, vi from the standard errors when only those are given
        if !have.iter().any(|h| h == "vi") {
            out.with_column(Column::new(
                "vi".into(),
                effects.iter().map(|e| e.map(|x| x.1)).collect::<Vec<_>>(),
            ))?;
        }
        return Ok(out);
    }
    out.with_column(Column::new(
        "yi".into(),
        effects
            .iter()
            .map(|e| e.map(|x| x.0).filter(|x| x.is_finite()))
            .collect::<Vec<_>>(),
    ))?;
    out.with_column(Column::new(
        "vi".into(),
        effects
            .iter()
            .map(|e| e.map(|x| x.1).filter(|x| x.is_finite()))
            .collect::<Vec<_>>(),
    ))?;
    Ok(out)
}
