//! Small eager helpers over polars DataFrames, shared by the stages. polars' lazy engine is not
//! compiled in (its streaming engine brings an async runtime and an HTTP stack that a tool
//! reading local files does not need, and half of a clean build): joins, group-bys, sorts and
//! filters are polars' eager ones.

use polars::prelude::*;

/// Replace the text column `name` by `f` of each cell (`None` from `f`: a missing cell).
pub fn map_text(
    df: &mut DataFrame,
    name: &str,
    f: impl Fn(&str) -> Option<&str>,
) -> PolarsResult<()> {
    let out: StringChunked = df
        .column(name)?
        .str()?
        .iter()
        .map(|v| v.and_then(&f))
        .collect();
    df.with_column(out.with_name(name.into()).into_column())?;
    Ok(())
}

/// The rows of `df` whose column `name`, read as text, equals `value` (a missing cell never does).
pub fn rows_equal(df: &DataFrame, name: &str, value: &str) -> PolarsResult<DataFrame> {
    df.filter(&text_equals(df, name, value)?)
}

/// Whether each cell of column `name`, read as text, equals `value` (a missing cell: false).
pub fn text_equals(df: &DataFrame, name: &str, value: &str) -> PolarsResult<BooleanChunked> {
    let c = df.column(name)?.cast(&DataType::String)?;
    Ok(c.str()?.iter().map(|v| v == Some(value)).collect())
}

/// The join `how` of `left` and `right` on the named keys; a missing key matches a missing key
/// when `nulls_equal`. Row order is left's where the join keeps one (callers sort where it
/// matters).
pub fn join(
    left: &DataFrame,
    right: &DataFrame,
    on: &[&str],
    how: JoinType,
    nulls_equal: bool,
) -> PolarsResult<DataFrame> {
    let mut args = JoinArgs::new(how);
    args.nulls_equal = nulls_equal;
    left.join(right, on.iter().copied(), on.iter().copied(), args, None)
}

/// `df` with a `u32`/`IdxSize` row-number column `name` in front, counting from 0.
pub fn numbered(df: &DataFrame, name: &str) -> PolarsResult<DataFrame> {
    df.with_row_index(name.into(), None)
}

/// Row groups: group `g`'s rows are `rows[offsets[g]..offsets[g + 1]]`.
#[derive(Debug, Default)]
pub struct Groups {
    pub rows: Vec<IdxSize>,
    pub offsets: Vec<usize>,
}

impl Groups {
    /// Each group's rows, in group order.
    pub fn iter(&self) -> impl Iterator<Item = &[IdxSize]> {
        self.offsets.windows(2).map(|w| &self.rows[w[0]..w[1]])
    }
}

/// The groups of `df` by the key columns (a missing key is a key), in order of each group's
/// first row, each group's rows ascending: polars' stable group-by. Aggregations over a group are
/// then written over its rows.
pub fn groups(df: &DataFrame, keys: &[&str]) -> PolarsResult<Groups> {
    let mut g = Groups {
        rows: Vec::with_capacity(df.height()),
        offsets: vec![0],
    };
    if df.height() == 0 {
        return Ok(g);
    }
    for group in df
        .group_by_stable(keys.iter().copied())?
        .get_groups()
        .iter()
    {
        match group {
            GroupsIndicator::Idx((_, rows)) => g.rows.extend_from_slice(rows),
            GroupsIndicator::Slice([first, len]) => g.rows.extend(first..first + len),
        }
        g.offsets.push(g.rows.len());
    }
    Ok(g)
}
