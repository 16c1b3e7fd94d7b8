//! User tables for `metapipe pool`: CSV or Parquet from any writer, sniffed, read column by
//! column (projected, sliced), integer and float columns as they are stored; group keys.

use super::*;
use crate::table::pe;
use crate::{Error, Result};
use polars::prelude::*;
use std::path::{Path, PathBuf};

/// A user's table (CSV or Parquet) before reading: its path, format and column names, so that
/// a command can decide which columns it needs and read only those.
#[derive(Debug, Clone)]
pub struct UserSource {
    pub path: PathBuf,
    pub names: Vec<String>,
    pub csv: bool,
    /// number of rows, known without reading for Parquet (from its metadata)
    pub rows: Option<usize>,
    /// a CSV file's bytes, read once when it was opened
    csv_input: Option<Input>,
}

/// The columns of a user's table a command asked for.
#[derive(Debug, Clone)]
pub struct UserTable {
    pub path: PathBuf,
    pub df: DataFrame,
    /// CSV: data row r is on line r + 2; Parquet: rows are numbered from 1
    pub csv: bool,
    /// the file row of this table's first row (a slice of a Parquet file)
    pub first_row: usize,
}

pub(crate) fn is_parquet(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut magic = [0u8; 4];
    let n = f.read(&mut magic).map_err(|e| Error::io(path, e))?;
    Ok(n == 4 && &magic == b"PAR1")
}

/// Open a user's CSV or Parquet file (Parquet by its magic bytes) and list its columns.
pub fn open_user(path: &Path) -> Result<UserSource> {
    if is_parquet(path)? {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = ParquetReader::new(file);
        let bad =
            |e: PolarsError| Error::data(format!("not a readable Parquet file: {e}")).file(path);
        let schema = reader.schema().map_err(bad)?;
        let rows = reader.num_rows().map_err(bad)?;
        let names = schema.iter_names().map(|n| n.to_string()).collect();
        return Ok(UserSource {
            path: path.to_path_buf(),
            names,
            csv: false,
            rows: Some(rows),
            csv_input: None,
        });
    }
    let input = Input::read(path)?;
    let text = input
        .text()
        .map_err(|_| Error::data("not UTF-8 text (expected CSV or Parquet)").file(path))?;
    let header = text.lines().next().unwrap_or("");
    let names: Vec<String> = header
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_string())
        .collect();
    if names.iter().all(|n| n.is_empty()) {
        return Err(Error::data("empty file: no header").file(path).line(1));
    }
    Ok(UserSource {
        path: path.to_path_buf(),
        names,
        csv: true,
        rows: None,
        csv_input: Some(input),
    })
}

impl UserSource {
    pub fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }
    /// Read the named columns (each must exist). CSV cells are read as text, trimmed, with
    /// empty and `NA` cells missing; every row must have the header's number of fields.
    pub fn read(&self, columns: &[&str]) -> Result<UserTable> {
        self.read_rows(columns, None)
    }

    /// Every column (benchmarks: the table as a caller holding it in memory would).
    pub fn read_all(&self) -> Result<DataFrame> {
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        Ok(self.read(&names)?.df)
    }

    /// Read rows `offset..offset + len` of the named columns of a Parquet file (only the row
    /// groups that hold them are decoded): the streaming path of `pool --group`.
    pub fn read_slice(&self, columns: &[&str], offset: usize, len: usize) -> Result<UserTable> {
        if self.csv {
            return Err(Error::usage("slices are read from Parquet only").file(&self.path));
        }
        self.read_rows(columns, Some((offset, len)))
    }

    fn read_rows(&self, columns: &[&str], slice: Option<(usize, usize)>) -> Result<UserTable> {
        let path = &self.path;
        for c in columns {
            if !self.has(c) {
                return Err(Error::data(format!(
                    "missing column (have: {})",
                    self.names.join(",")
                ))
                .file(path)
                .line(1)
                .field(*c));
            }
        }
        // each column once (a column may serve two roles, e.g. as a count and as the group)
        let mut want: Vec<String> = vec![];
        for c in columns {
            if !want.iter().any(|w| w == c) {
                want.push(c.to_string());
            }
        }
        let df = if self.csv {
            self.read_csv(&want)?
        } else {
            let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            ParquetReader::new(file)
                .with_columns(Some(want))
                .with_slice(slice)
                .finish()
                .map_err(|e| Error::data(format!("not a readable Parquet file: {e}")).file(path))?
        };
        Ok(UserTable {
            path: path.clone(),
            df,
            csv: self.csv,
            first_row: slice.map_or(0, |s| s.0),
        })
    }

    fn read_csv(&self, want: &[String]) -> Result<DataFrame> {
        let path = &self.path;
        let input = self
            .csv_input
            .as_ref()
            .ok_or_else(|| Error::usage("not a CSV source").file(path))?;
        let body = input.text()?.as_bytes();
        check_csv_widths(body, self.names.len()).map_err(|e| e.file(path))?;
        let schema: Schema = self
            .names
            .iter()
            .map(|n| polars::prelude::Field::new(n.as_str().into(), DataType::String))
            .collect();
        let cursor = std::io::Cursor::new(body.to_vec());
        let mut df = CsvReadOptions::default()
            .with_has_header(true)
            .with_schema(Some(std::sync::Arc::new(schema)))
            .with_columns(Some(
                want.iter().map(|w| PlSmallStr::from(w.as_str())).collect(),
            ))
            .with_raise_if_empty(false)
            .into_reader_with_file_handle(cursor)
            .finish()
            .map_err(|e| Error::data(e.to_string()).file(path))?;
        // trim; empty and NA are missing
        for w in want {
            crate::frame::map_text(&mut df, w, |v| {
                Some(v.trim()).filter(|t| !t.is_empty() && *t != "NA")
            })
            .map_err(|e| Error::data(e.to_string()).file(path))?;
        }
        df.select(want.iter().map(String::as_str))
            .map_err(|e| Error::data(e.to_string()).file(path))
    }
}

/// Every CSV record has `width` fields (quotes respected); the error names the line.
pub(crate) fn check_csv_widths(body: &[u8], width: usize) -> Result<()> {
    let (mut fields, mut line, mut start_line, mut in_quotes, mut any) =
        (1usize, 1usize, 1usize, false, false);
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        match c {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => fields += 1,
            b'\n' => {
                if !in_quotes {
                    if any && fields != width && start_line > 1 {
                        return Err(Error::data(format!(
                            "{fields} fields, the header has {width}"
                        ))
                        .line(start_line));
                    }
                    fields = 1;
                    any = false;
                    start_line = line + 1;
                }
                line += 1;
            }
            b'\r' => {}
            _ => any = true,
        }
        if c == b',' {
            any = true;
        }
        i += 1;
    }
    if in_quotes {
        return Err(Error::data("quoted field not closed").line(start_line));
    }
    if any && fields != width && start_line > 1 {
        return Err(
            Error::data(format!("{fields} fields, the header has {width}")).line(start_line),
        );
    }
    Ok(())
}

impl UserTable {
    pub fn rows(&self) -> usize {
        self.df.height()
    }
    /// Human position of data row `r` (0-based).
    pub fn row_label(&self, r: usize) -> usize {
        if self.csv {
            r + 2
        } else {
            self.first_row + r + 1
        }
    }
    fn column(&self, name: &str) -> Result<&Column> {
        self.df
            .column(name)
            .map_err(|_| Error::data("column not read").file(&self.path).field(name))
    }
    /// A numeric column as f64 (missing: `None`): text is parsed (the error names the first
    /// cell that is not a number), integers, floats and decimals are cast.
    pub fn num(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let c = self.column(name)?;
        match c.dtype() {
            DataType::String => {
                let ca = c.str()?;
                ca.iter()
                    .enumerate()
                    .map(|(r, v)| match v {
                        None => Ok(None),
                        Some(s) => s.trim().parse::<f64>().map(Some).map_err(|_| {
                            Error::data(format!("{s:?} is not a number"))
                                .file(&self.path)
                                .line(self.row_label(r))
                                .field(name)
                        }),
                    })
                    .collect()
            }
            d if d.is_primitive_numeric() || matches!(d, DataType::Decimal(..)) => {
                let f = c
                    .cast(&DataType::Float64)
                    .map_err(|e| pe(e).file(&self.path).field(name))?;
                Ok(f.f64()?.iter().collect())
            }
            d => Err(Error::data(format!("column of type {d} is not numeric"))
                .file(&self.path)
                .field(name)),
        }
    }
    /// A numeric column as f64 values, for columns that must be complete: a missing cell is an
    /// error naming its row; text is parsed (the error names the first cell that is not a
    /// number). Without missing cells, integer and float columns are copied once.
    pub fn numbers(&self, name: &str) -> Result<Vec<f64>> {
        let c = self.column(name)?;
        let missing = |r: usize| {
            Error::data("missing value")
                .file(&self.path)
                .line(self.row_label(r))
                .field(name)
        };
        if c.dtype() == &DataType::String {
            return self
                .num(name)?
                .into_iter()
                .enumerate()
                .map(|(r, v)| v.ok_or_else(|| missing(r)))
                .collect();
        }
        if !(c.dtype().is_primitive_numeric() || matches!(c.dtype(), DataType::Decimal(..))) {
            return Err(
                Error::data(format!("column of type {} is not numeric", c.dtype()))
                    .file(&self.path)
                    .field(name),
            );
        }
        if c.null_count() > 0 {
            let r = c
                .as_materialized_series()
                .is_null()
                .iter()
                .position(|v| v == Some(true))
                .unwrap_or(0);
            return Err(missing(r));
        }
        // the common dtypes read straight into f64 (one copy); others cast by polars first
        match c.dtype() {
            DataType::Float64 => return Ok(c.f64()?.into_no_null_iter().collect()),
            DataType::Int64 => return Ok(c.i64()?.into_no_null_iter().map(|x| x as f64).collect()),
            DataType::Int32 => return Ok(c.i32()?.into_no_null_iter().map(f64::from).collect()),
            _ => {}
        }
        let f = c
            .cast(&DataType::Float64)
            .map_err(|e| pe(e).file(&self.path).field(name))?;
        Ok(f.f64()?.into_no_null_iter().collect())
    }
    /// A numeric column with no missing value, its chunks borrowed as they are held (`None` for
    /// other types or when a value is missing: read it with [`UserTable::numbers`], which
    /// converts and checks).
    pub fn number_parts(&self, name: &str) -> Option<NumberParts<'_>> {
        let c = self.df.column(name).ok()?;
        if c.null_count() > 0 {
            return None;
        }
        let s = c.as_series()?;
        Some(match s.dtype() {
            DataType::Float64 => NumberParts::F64(
                s.f64()
                    .ok()?
                    .downcast_iter()
                    .map(|a| a.values().as_slice())
                    .collect(),
            ),
            DataType::Int64 => NumberParts::I64(
                s.i64()
                    .ok()?
                    .downcast_iter()
                    .map(|a| a.values().as_slice())
                    .collect(),
            ),
            DataType::Int32 => NumberParts::I32(
                s.i32()
                    .ok()?
                    .downcast_iter()
                    .map(|a| a.values().as_slice())
                    .collect(),
            ),
            _ => return None,
        })
    }
    /// A group column as read: integers stay integers (no text per row), anything else as text.
    pub fn keys(&self, name: &str) -> Result<Keys> {
        let c = self.column(name)?;
        if c.dtype().is_integer() && c.null_count() == 0 {
            let i = c
                .cast(&DataType::Int64)
                .map_err(|e| pe(e).file(&self.path).field(name))?;
            return Ok(Keys::Int(i.i64()?.into_no_null_iter().collect()));
        }
        let t = c
            .cast(&DataType::String)
            .map_err(|e| pe(e).file(&self.path).field(name))?;
        Ok(Keys::Text(t.str()?.clone()))
    }
    /// A column as text (numbers and categories written as text; missing: `None`).
    pub fn text(&self, name: &str) -> Result<Vec<Option<String>>> {
        let c = self
            .column(name)?
            .cast(&DataType::String)
            .map_err(|e| pe(e).file(&self.path).field(name))?;
        Ok(c.str()?.iter().map(|v| v.map(String::from)).collect())
    }
}

/// A numeric column's values chunk by chunk, borrowed from the table (see
/// [`UserTable::number_parts`]).
#[derive(Debug, Clone)]
pub enum NumberParts<'a> {
    F64(Vec<&'a [f64]>),
    I64(Vec<&'a [i64]>),
    I32(Vec<&'a [i32]>),
}

/// The group keys of a user table (see [`UserTable::keys`]); a missing text key is the empty
/// group `""`.
#[derive(Debug, Clone)]
pub enum Keys {
    Int(Vec<i64>),
    Text(StringChunked),
}

impl Keys {
    pub fn len(&self) -> usize {
        match self {
            Keys::Int(v) => v.len(),
            Keys::Text(c) => c.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The first row of each maximal run of equal consecutive keys.
    pub fn run_starts(&self) -> Vec<usize> {
        let mut starts = vec![];
        match self {
            Keys::Int(v) => {
                let mut prev = None;
                for (r, &k) in v.iter().enumerate() {
                    if prev != Some(k) {
                        starts.push(r);
                        prev = Some(k);
                    }
                }
            }
            Keys::Text(ca) => {
                let mut prev: Option<Option<&str>> = None;
                for (r, k) in ca.iter().enumerate() {
                    if prev != Some(k) {
                        starts.push(r);
                        prev = Some(k);
                    }
                }
            }
        }
        starts
    }
    /// Maximal runs of equal consecutive keys: each run's first row and its key as text (as
    /// [`Keys::column_at`] names it).
    pub fn runs(&self) -> (Vec<usize>, Vec<String>) {
        let starts = self.run_starts();
        let rows: Vec<IdxSize> = starts.iter().map(|&s| s as IdxSize).collect();
        let col = self.column_at("key", &rows);
        let names = col
            .str()
            .expect("key names are text")
            .iter()
            .map(|k| k.unwrap_or("").to_string())
            .collect();
        (starts, names)
    }
    /// The keys at `rows` as a text column named `name`: integers in decimal, a missing text key
    /// as "" (the group's name in `pool --group`).
    pub fn column_at(&self, name: &str, rows: &[IdxSize]) -> Column {
        let name = PlSmallStr::from(name);
        match self {
            Keys::Int(v) => {
                // one buffer for every key's text, not a String each
                let mut b = StringChunkedBuilder::new(name, rows.len());
                let mut text = String::new();
                for &r in rows {
                    use std::fmt::Write;
                    text.clear();
                    write!(text, "{}", v[r as usize]).expect("write to a String");
                    b.append_value(&text);
                }
                b.finish().into_column()
            }
            Keys::Text(ca) => StringChunked::from_iter_values(
                name,
                rows.iter().map(|&r| ca.get(r as usize).unwrap_or("")),
            )
            .into_column(),
        }
    }
    /// The keys as a polars column named `name`.
    pub fn column(&self, name: &str) -> Column {
        match self {
            Keys::Int(v) => Column::new(name.into(), v.clone()),
            Keys::Text(c) => c.clone().with_name(name.into()).into_column(),
        }
    }
}
