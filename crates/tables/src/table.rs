//! A stage table: a polars [`DataFrame`] that has been checked against its [`TableSchema`]
//! (column names and order, dtypes, nullability, accepted values). Stage code does its
//! relational work on `df` with polars; [`Builder`] turns rows of structs into a table.

use crate::schema::{ColType, TableSchema};
use crate::{Error, Result};
use polars::prelude::*;

/// A stage table: a DataFrame whose columns are exactly its schema's, checked.
#[derive(Debug, Clone)]
pub struct Table {
    pub schema: &'static TableSchema,
    pub df: DataFrame,
}

impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        self.schema == other.schema && self.df.equals_missing(&other.df)
    }
}

/// Map a polars error to ours (where `?` cannot: `.map_err(pe)`); `?` on a polars result
/// converts by `From`, which also says where polars was called.
pub fn pe(e: PolarsError) -> Error {
    Error::data(format!("{e} (polars)"))
}

impl From<PolarsError> for Error {
    /// A polars error where the code called polars with `?`: a table the code did not expect
    /// (a bug) or data polars could not take. The message keeps the calling place
    /// (`crates/…/src/x.rs:line`) for a bug report.
    #[track_caller]
    fn from(e: PolarsError) -> Error {
        let at = std::panic::Location::caller();
        Error::data(format!("{e} (polars, at {}:{})", at.file(), at.line()))
    }
}

/// A column of a stage table checked against its field: its dtype, no missing value where
/// required, only accepted values; non-finite floats made missing.
fn checked(schema: &TableSchema, f: &crate::Field, c: &Column) -> Result<Column> {
    if c.dtype() != &f.ty.dtype() {
        return Err(Error::data(format!(
            "column has type {}, schema says {}",
            c.dtype(),
            f.ty.dtype()
        ))
        .field(format!("{}.{}", schema.name, f.name)));
    }
    let c = if f.ty == ColType::Float {
        finite_or_null(c)?
    } else {
        c.clone()
    };
    if !f.nullable && c.null_count() > 0 {
        let row = c
            .as_materialized_series()
            .is_null()
            .iter()
            .position(|x| x == Some(true))
            .unwrap_or(0);
        return Err(Error::data(format!(
            "table {}: row {}: {} must not be missing",
            schema.name,
            row + 1,
            f.name
        ))
        .field(f.name));
    }
    if !f.accepted.is_empty() {
        let ca = c.str()?;
        if let Some((row, v)) = ca
            .iter()
            .enumerate()
            .find_map(|(r, v)| v.filter(|v| !f.accepted.contains(v)).map(|v| (r, v)))
        {
            return Err(Error::data(format!(
                "table {}: row {}: {:?} is not one of {:?}",
                schema.name,
                row + 1,
                v,
                f.accepted
            ))
            .field(f.name));
        }
    }
    Ok(c)
}

impl Table {
    /// Check `df` against `schema`: the schema's columns in its order, each of its dtype, no
    /// missing value in a required column, text columns with accepted values hold only those.
    /// Non-finite floats become missing. Errors name the table, column and (1-based) row.
    pub fn new(schema: &'static TableSchema, df: DataFrame) -> Result<Table> {
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        let fixed = schema.fields.len();
        if names.len() < fixed
            || names[..fixed] != schema.names()[..]
            || (!schema.extra && names.len() != fixed)
        {
            let more = if schema.extra {
                ", then any covariates"
            } else {
                ""
            };
            return Err(Error::data(format!(
                "table {}: columns [{}], schema says [{}]{more}",
                schema.name,
                names.join(","),
                schema.names().join(",")
            )));
        }
        let mut cols = Vec::with_capacity(names.len());
        for (c, f) in df.columns().iter().zip(schema.fields) {
            cols.push(checked(schema, f, c)?);
        }
        // a review's covariates: text, whole numbers, numbers or yes/no
        for c in &df.columns()[fixed..] {
            let c = match c.dtype() {
                DataType::String | DataType::Int64 | DataType::Boolean => c.clone(),
                DataType::Float64 => finite_or_null(c)?,
                d => {
                    return Err(Error::data(format!(
                        "covariate column has type {d}; expected text, integer, number or yes/no"
                    ))
                    .field(format!("{}.{}", schema.name, c.name())))
                }
            };
            cols.push(c);
        }
        let df = DataFrame::new(df.height(), cols)?;
        Ok(Table { schema, df })
    }
    /// An empty table of `schema`.
    pub fn empty(schema: &'static TableSchema) -> Table {
        Table {
            schema,
            df: DataFrame::empty_with_schema(&schema.polars_schema()),
        }
    }
    pub fn num_rows(&self) -> usize {
        self.df.height()
    }
    fn col(&self, name: &str) -> &Column {
        self.df
            .column(name)
            .unwrap_or_else(|_| panic!("{}: no column {name}", self.schema.name))
    }
    /// A text column (the schema guarantees the dtype).
    pub fn str(&self, name: &str) -> &StringChunked {
        self.col(name).str().expect("checked dtype")
    }
    /// An integer column.
    pub fn int(&self, name: &str) -> &Int64Chunked {
        self.col(name).i64().expect("checked dtype")
    }
    /// A float column.
    pub fn float(&self, name: &str) -> &Float64Chunked {
        self.col(name).f64().expect("checked dtype")
    }
    /// A yes/no column.
    pub fn boolean(&self, name: &str) -> &BooleanChunked {
        self.col(name).bool().expect("checked dtype")
    }
    /// The columns after the schema's own (a review's covariates), in order.
    pub fn extra_columns(&self) -> &[Column] {
        &self.df.columns()[self.schema.fields.len()..]
    }
    /// Row `r` of a text column, owned.
    pub fn str_at(&self, name: &str, r: usize) -> Option<String> {
        self.str(name).get(r).map(String::from)
    }
}

fn finite_or_null(c: &Column) -> Result<Column> {
    let ca = c.f64()?;
    // every stored value finite (the common case, checked on the raw buffers; a missing cell's
    // slot is looked at too, and sends the column the slow way when it holds NaN)
    if ca
        .downcast_iter()
        .all(|arr| arr.values().iter().all(|v| v.is_finite()))
        || ca.iter().all(|v| v.is_none_or(f64::is_finite))
    {
        return Ok(c.clone());
    }
    let out: Float64Chunked = ca.iter().map(|v| v.filter(|x| x.is_finite())).collect();
    Ok(out.with_name(c.name().clone()).into_column())
}

/// Values of one column while a table is built row by row.
#[derive(Debug, Clone)]
enum Values {
    Str(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
}

/// Row-wise builder for a table: push cells in schema order.
pub struct Builder {
    schema: &'static TableSchema,
    columns: Vec<Values>,
}

/// One cell for [`Builder::row`].
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    S(Option<String>),
    I(Option<i64>),
    F(Option<f64>),
    B(Option<bool>),
}

/// A string cell (empty string stays a string; use `None` for missing).
pub fn s(v: impl Into<String>) -> Cell {
    Cell::S(Some(v.into()))
}
/// An optional string cell: `None` or an empty string is missing.
pub fn so(v: Option<impl Into<String>>) -> Cell {
    Cell::S(v.map(Into::into).filter(|x: &String| !x.is_empty()))
}
pub fn i(v: impl Into<Option<i64>>) -> Cell {
    Cell::I(v.into())
}
pub fn f(v: impl Into<Option<f64>>) -> Cell {
    Cell::F(v.into())
}
pub fn b(v: impl Into<Option<bool>>) -> Cell {
    Cell::B(v.into())
}

impl Builder {
    pub fn new(schema: &'static TableSchema) -> Self {
        let columns = schema
            .fields
            .iter()
            .map(|f| match f.ty {
                ColType::Str => Values::Str(vec![]),
                ColType::Int => Values::Int(vec![]),
                ColType::Float => Values::Float(vec![]),
                ColType::Bool => Values::Bool(vec![]),
            })
            .collect();
        Builder { schema, columns }
    }
    /// Push one row, cells in schema order.
    pub fn row(&mut self, cells: Vec<Cell>) {
        assert_eq!(
            cells.len(),
            self.schema.fields.len(),
            "{}: row width",
            self.schema.name
        );
        for (k, c) in cells.into_iter().enumerate() {
            match (&mut self.columns[k], c) {
                (Values::Str(v), Cell::S(x)) => v.push(x),
                (Values::Int(v), Cell::I(x)) => v.push(x),
                (Values::Float(v), Cell::F(x)) => v.push(x.filter(|y| y.is_finite())),
                (Values::Bool(v), Cell::B(x)) => v.push(x),
                (_, c) => panic!(
                    "{}.{}: cell {c:?} does not fit the column type",
                    self.schema.name, self.schema.fields[k].name
                ),
            }
        }
    }
    pub fn finish(self) -> Result<Table> {
        let n = self.columns.first().map(|c| match c {
            Values::Str(v) => v.len(),
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Bool(v) => v.len(),
        });
        let cols: Vec<Column> = self
            .columns
            .into_iter()
            .zip(self.schema.fields)
            .map(|(v, f)| {
                let name: PlSmallStr = f.name.into();
                match v {
                    Values::Str(v) => Column::new(name, v),
                    Values::Int(v) => Column::new(name, v),
                    Values::Float(v) => Column::new(name, v),
                    Values::Bool(v) => Column::new(name, v),
                }
            })
            .collect();
        let df = DataFrame::new(n.unwrap_or(0), cols)?;
        Table::new(self.schema, df)
    }
}
