//! The studies sheet.

use crate::{factor_margins, CovKind, Covariate, Spec};
use metapipe_tables::io::Input;
use metapipe_tables::schema::STUDIES;
use metapipe_tables::sheet::Sheet;
use metapipe_tables::{f, i, s, so, Builder, Cell, Error, Result, Table};
use polars::prelude::*;
use std::collections::BTreeMap;

/// The studies sheet: `study_id, label`, optional `ref, design, n_treat, n_ctrl, citation`, and
/// the declared covariates. Where a study has arms, its sizes are derived along the comparison
/// factor and must agree with typed ones.
pub(crate) fn read_studies(input: &Input, arms: &Table, spec: &Spec) -> Result<Table> {
    let mut required = vec!["study_id", "label"];
    required.extend(spec.covariates.iter().map(|c| c.name.as_str()));
    let sh = Sheet::parse(input, &required)?;
    let margins = match spec.comparison_factor {
        Some(f) if arms.num_rows() > 0 => {
            metapipe_tables::frame::rows_equal(&factor_margins(arms)?, "factor", f)?
        }
        _ => DataFrame::empty(),
    };
    let margin_of = |id: &str| margin(&margins, spec.comparison_factor.unwrap_or(""), id);
    let mut b = Builder::new(&STUDIES);
    let mut cov: Vec<Vec<metapipe_tables::Cell>> = vec![vec![]; spec.covariates.len()];
    let mut seen = BTreeMap::new();
    for r in sh.rows() {
        let id = r.req("study_id")?.to_string();
        if let Some(prev) = seen.insert(id.clone(), r.line) {
            return Err(r.err("study_id", format!("{id} already listed on line {prev}")));
        }
        let (typed_t, typed_c) = (r.count("n_treat")?, r.count("n_ctrl")?);
        let (nt, nc, source) = match margin_of(&id) {
            Some((t, c, why)) => {
                if typed_t.is_some_and(|x| x != t) || typed_c.is_some_and(|x| x != c) {
                    return Err(r.err("n_treat", format!("typed sizes {typed_t:?} vs {typed_c:?} disagree with the arms ({t} vs {c})")));
                }
                (Some(t), Some(c), Some(why))
            }
            None => (
                typed_t,
                typed_c,
                (typed_t.is_some() || typed_c.is_some()).then(|| "study table".to_string()),
            ),
        };
        b.row(vec![
            s(&id),
            s(r.req("label")?),
            so(r.get("ref")),
            so(r.get("design")),
            i(nt),
            i(nc),
            so(source),
            so(r.get("citation")),
        ]);
        for (k, c) in spec.covariates.iter().enumerate() {
            cov[k].push(match c.kind {
                CovKind::Text => so(r.get(&c.name)),
                CovKind::Number => f(r.number(&c.name)?),
                CovKind::YesNo => metapipe_tables::b(r.flag(&c.name)?),
            });
        }
    }
    let mut df = b.finish()?.df;
    for (c, cells) in spec.covariates.iter().zip(cov) {
        if let Some(column) = covariate_column(c, cells)? {
            df.with_column(column)?;
        }
    }
    Table::new(&STUDIES, df)
}

/// A study's sizes along the comparison factor from its arms: (treat, ctrl, where from).
fn margin(margins: &DataFrame, factor: &str, id: &str) -> Option<(i64, i64, String)> {
    let ids = margins.column("study_id").ok()?.str().ok()?.clone();
    let r = ids.iter().position(|x| x == Some(id))?;
    let get_i = |c: &str| margins.column(c).ok()?.i64().ok()?.get(r);
    let get_s = |c: &str| margins.column(c).ok()?.str().ok()?.get(r).map(String::from);
    Some((
        get_i("treat")?,
        get_i("ctrl")?,
        format!(
            "derived from arms along {factor}: treat = {}; ctrl = {}",
            get_s("treat_arms")?,
            get_s("ctrl_arms")?
        ),
    ))
}

/// A declared covariate's column of the studies table; `None` when it is a text column every
/// studies table has (e.g. design), which it then is.
fn covariate_column(c: &Covariate, cells: Vec<Cell>) -> Result<Option<Column>> {
    let name: PlSmallStr = c.name.as_str().into();
    match STUDIES.fields.iter().find(|f| f.name == c.name) {
        Some(f) if f.ty == metapipe_tables::ColType::Str && c.kind == CovKind::Text => {
            return Ok(None)
        }
        Some(_) => {
            return Err(Error::data(format!(
                "{:?} is a column of every studies table; name the covariate otherwise",
                c.name
            ))
            .field("extraction.covariates"))
        }
        None => {}
    }
    Ok(Some(match c.kind {
        CovKind::Text => {
            let v = cells.into_iter().map(|x| match x {
                Cell::S(v) => v,
                _ => None,
            });
            Column::new(name, v.collect::<Vec<_>>())
        }
        CovKind::Number => {
            let v = cells.into_iter().map(|x| match x {
                Cell::F(v) => v,
                _ => None,
            });
            Column::new(name, v.collect::<Vec<_>>())
        }
        CovKind::YesNo => {
            let v = cells.into_iter().map(|x| match x {
                Cell::B(v) => v,
                _ => None,
            });
            Column::new(name, v.collect::<Vec<_>>())
        }
    }))
}
