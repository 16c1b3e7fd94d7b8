//! Atomic, reproducible table IO, all through polars. Every output is written to a temporary
//! file in the target directory, synced, and renamed over the target: a reader sees the old file
//! or the new one, never half of one. Nothing time- or host-dependent is written, so reruns are
//! byte-identical. Reading takes Parquet from any common writer (pyarrow/pandas, polars, DuckDB:
//! every codec, dictionary/categorical, string views, decimals, dates, bools), projecting only
//! the columns asked for.

use crate::schema::{ColType, TableSchema};
use crate::table::pe;
use crate::{Error, Result, Table};
use polars::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The name of [`write_atomic`]'s temporary file for a target named `name`, but for the
/// writer's process id.
fn temp_prefix(name: &str) -> String {
    format!(".{name}.tmp-")
}

/// Whether `file_name` is a temporary file [`write_atomic`] left for the file named `target` in
/// the same directory (a process killed mid-write leaves it; the target is untouched).
pub fn is_write_leftover(file_name: &str, target: &str) -> bool {
    file_name.starts_with(&temp_prefix(target))
}

/// Write `bytes` to `path` atomically (temp file in the same directory, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = path
        .file_name()
        .ok_or_else(|| Error::usage(format!("{}: not a file path", path.display())))?;
    let tmp: PathBuf = dir.join(format!(
        "{}{}",
        temp_prefix(&name.to_string_lossy()),
        std::process::id()
    ));
    let res = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        Ok(())
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Write `path` atomically as the concatenation of byte ranges of other files (`(file, offset)`:
/// from `offset` to its end), copied by the kernel (`copy_file_range` where the file system has
/// it): a large output joined from parts without reading them into memory.
pub fn write_atomic_parts(path: &Path, parts: &[(PathBuf, u64)]) -> Result<()> {
    use std::io::{Seek, SeekFrom};
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = path
        .file_name()
        .ok_or_else(|| Error::usage(format!("{}: not a file path", path.display())))?;
    let tmp: PathBuf = dir.join(format!(
        "{}{}",
        temp_prefix(&name.to_string_lossy()),
        std::process::id()
    ));
    let res = (|| -> std::result::Result<(), (PathBuf, std::io::Error)> {
        let mut f = std::fs::File::create(&tmp).map_err(|e| (path.to_path_buf(), e))?;
        for (part, offset) in parts {
            let mut src = std::fs::File::open(part).map_err(|e| (part.clone(), e))?;
            src.seek(SeekFrom::Start(*offset))
                .map_err(|e| (part.clone(), e))?;
            std::io::copy(&mut src, &mut f).map_err(|e| (part.clone(), e))?;
        }
        f.sync_all().map_err(|e| (path.to_path_buf(), e))
    })();
    if let Err((p, e)) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(&p, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// An input file as the shell read it: its path (named in every error) and its bytes. Stages
/// take `Input`s, never paths: only the CLI and this module touch the filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

impl Input {
    pub fn read(path: &Path) -> Result<Input> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Ok(Input {
            path: path.to_path_buf(),
            bytes,
        })
    }
    /// An input that may be absent (`None` when no file is at `path`).
    pub fn read_if_present(path: &Path) -> Result<Option<Input>> {
        if path.exists() {
            Input::read(path).map(Some)
        } else {
            Ok(None)
        }
    }
    /// The bytes as UTF-8 text (a leading byte-order mark dropped).
    pub fn text(&self) -> Result<&str> {
        let b = self
            .bytes
            .strip_prefix(&[0xEF, 0xBB, 0xBF])
            .unwrap_or(&self.bytes);
        std::str::from_utf8(b)
            .map_err(|e| Error::data(format!("not UTF-8 text: {e}")).file(&self.path))
    }
}

/// A table as Parquet bytes (zstd; deterministic: same table, same bytes).
pub fn parquet_bytes(t: &Table) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut df = t.df.clone();
    ParquetWriter::new(&mut buf)
        .with_compression(ParquetCompression::Zstd(None))
        .with_row_group_size(Some(1 << 16))
        .finish(&mut df)
        .map_err(|e| pe(e).field(t.schema.name))?;
    Ok(buf)
}

pub fn write_parquet(t: &Table, path: &Path) -> Result<()> {
    write_atomic(path, &parquet_bytes(t)?)
}

/// A table as CSV: the schema's header, missing and empty cells empty, floats in the shortest form that
/// reads back exactly (never scientific), `\n` line ends.
pub fn csv_bytes(t: &Table) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    // an empty text cell is written as an empty field, as a missing one (polars would quote it)
    let has_empty = |f: &str| {
        t.df.column(f)
            .ok()
            .and_then(|c| c.str().ok())
            .is_some_and(|ca| ca.iter().any(|v| v == Some("")))
    };
    let empties: Vec<&str> = t
        .schema
        .fields
        .iter()
        .filter(|f| f.ty == ColType::Str && has_empty(f.name))
        .map(|f| f.name)
        .collect();
    let mut df = t.df.clone();
    for name in empties {
        crate::frame::map_text(&mut df, name, |v| (!v.is_empty()).then_some(v))
            .map_err(|e| pe(e).field(t.schema.name))?;
    }
    CsvWriter::new(&mut buf)
        .include_header(true)
        .with_float_scientific(Some(false))
        .with_line_terminator("\n".into())
        .finish(&mut df)
        .map_err(|e| pe(e).field(t.schema.name))?;
    Ok(buf)
}

pub fn write_csv(t: &Table, path: &Path) -> Result<()> {
    write_atomic(path, &csv_bytes(t)?)
}

/// Read a Parquet file written for `schema` (by us or any other writer): only the schema's
/// columns are read, each cast to the schema's type where that loses nothing (any integer width
/// to Int64, Float32/decimal to Float64, categorical and string views to String), then checked.
pub fn read_parquet(path: &Path, schema: &'static TableSchema) -> Result<Table> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = ParquetReader::new(file);
    let have = reader
        .schema()
        .map_err(|e| Error::data(format!("not a readable Parquet file: {e}")).file(path))?;
    for f in schema.fields {
        if have.get(f.name).is_none() {
            return Err(Error::data("column missing").file(path).field(f.name));
        }
    }
    let projection = if schema.extra {
        None
    } else {
        Some(schema.names().iter().map(|n| n.to_string()).collect())
    };
    let df = reader
        .with_columns(projection)
        .finish()
        .map_err(|e| Error::data(format!("not a readable Parquet file: {e}")).file(path))?;
    let mut cols = Vec::with_capacity(df.width());
    for f in schema.fields {
        let c = df.column(f.name).map_err(|e| pe(e).file(path))?;
        cols.push(conform(c, f.ty).map_err(|e| e.file(path).field(f.name))?);
    }
    if schema.extra {
        cols.extend(
            df.columns()
                .iter()
                .filter(|c| schema.index_of(c.name()).is_none())
                .cloned(),
        );
    }
    let df = DataFrame::new(df.height(), cols).map_err(|e| pe(e).file(path))?;
    Table::new(schema, df).map_err(|e| e.file(path))
}

/// Cast a column read from a file to `ty` where the cast loses nothing.
fn conform(c: &Column, ty: ColType) -> Result<Column> {
    let d = c.dtype();
    let ok = match ty {
        ColType::Str => matches!(
            d,
            DataType::String | DataType::Categorical(..) | DataType::Enum(..)
        ),
        ColType::Int => d.is_integer(),
        ColType::Float => d.is_primitive_numeric() || matches!(d, DataType::Decimal(..)),
        ColType::Bool => matches!(d, DataType::Boolean),
    };
    if !ok {
        return Err(Error::data(format!(
            "column has type {d}, expected {}",
            ty.dtype()
        )));
    }
    if d == &ty.dtype() {
        return Ok(c.clone());
    }
    c.strict_cast(&ty.dtype()).map_err(|e| {
        Error::data(format!(
            "column of type {d} does not fit {}: {e}",
            ty.dtype()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::PRISMA;
    use crate::{i, s, so, Builder};

    fn sample() -> Table {
        let mut b = Builder::new(&PRISMA);
        b.row(vec![s("records_identified"), so(None::<String>), i(416)]);
        b.row(vec![s("records_identified"), s("pubmed"), i(102)]);
        b.finish().unwrap()
    }

    #[test]
    fn parquet_round_trip_and_reproducible() {
        let dir = std::env::temp_dir().join(format!("mp-tables-{}", std::process::id()));
        let p = dir.join("prisma.parquet");
        let t = sample();
        write_parquet(&t, &p).unwrap();
        let first = std::fs::read(&p).unwrap();
        write_parquet(&t, &p).unwrap();
        assert_eq!(first, std::fs::read(&p).unwrap(), "byte-identical rewrite");
        assert_eq!(read_parquet(&p, &PRISMA).unwrap(), t);
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".tmp-")
            })
            .collect();
        assert!(leftovers.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn csv_layout() {
        let t = sample();
        assert_eq!(
            String::from_utf8(csv_bytes(&t).unwrap()).unwrap(),
            "stage,database,count\nrecords_identified,,416\nrecords_identified,pubmed,102\n"
        );
    }

    #[test]
    fn failed_write_leaves_target_untouched() {
        let dir = std::env::temp_dir().join(format!("mp-tables-fail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.csv");
        std::fs::write(&p, b"old").unwrap();
        // a directory where the temp file should go makes creation fail
        let tmp = dir.join(format!(".x.csv.tmp-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        assert!(write_atomic(&p, b"new").is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn schema_enforced() {
        let mut b = Builder::new(&PRISMA);
        b.row(vec![so(None::<String>), so(None::<String>), i(1)]);
        assert!(b.finish().is_err(), "stage is required");
    }
}

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

fn is_parquet(path: &Path) -> Result<bool> {
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
fn check_csv_widths(body: &[u8], width: usize) -> Result<()> {
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

/// How a [`TableSink`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkFormat {
    Csv,
    /// an array of objects, one per row
    Json,
    Parquet,
}

enum SinkWriter {
    Csv(std::io::BufWriter<std::fs::File>),
    Json(std::io::BufWriter<std::fs::File>),
    Parquet(Box<polars::io::parquet::write::BatchedWriter<std::fs::File>>),
}

/// A table written batch by batch (bounded memory for outputs larger than memory), atomically:
/// into a temporary file in the target directory, renamed over the target by [`TableSink::finish`].
/// Dropped without `finish` (an error mid-way), it removes the temporary file and leaves the
/// target untouched.
pub struct TableSink {
    schema: &'static TableSchema,
    path: PathBuf,
    tmp: PathBuf,
    writer: Option<SinkWriter>,
    rows: usize,
}

impl TableSink {
    pub fn create(
        path: &Path,
        format: SinkFormat,
        schema: &'static TableSchema,
    ) -> Result<TableSink> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let name = path
            .file_name()
            .ok_or_else(|| Error::usage(format!("{}: not a file path", path.display())))?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let writer = match format {
            SinkFormat::Csv => SinkWriter::Csv(std::io::BufWriter::new(file)),
            SinkFormat::Json => SinkWriter::Json(std::io::BufWriter::new(file)),
            SinkFormat::Parquet => {
                // Snappy: the fastest common codec, for outputs of millions of rows
                SinkWriter::Parquet(Box::new(
                    ParquetWriter::new(file)
                        .with_compression(ParquetCompression::Snappy)
                        .batched(&schema.polars_schema())
                        .map_err(|e| pe(e).file(path))?,
                ))
            }
        };
        Ok(TableSink {
            schema,
            path: path.to_path_buf(),
            tmp,
            writer: Some(writer),
            rows: 0,
        })
    }

    /// Append the rows of `t` (a table of the sink's schema).
    pub fn write(&mut self, t: &Table) -> Result<()> {
        if t.schema != self.schema {
            return Err(Error::data(format!(
                "sink of {} given a {} table",
                self.schema.name, t.schema.name
            )));
        }
        let first = self.rows == 0;
        let path = self.path.clone();
        let io = |e: std::io::Error| Error::io(&path, e);
        match self.writer.as_mut().expect("sink open") {
            SinkWriter::Csv(w) => {
                let bytes = csv_bytes(t)?;
                // the header once
                let body = if first {
                    &bytes[..]
                } else {
                    &bytes[bytes
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(bytes.len(), |i| i + 1)..]
                };
                w.write_all(body).map_err(io)?;
            }
            SinkWriter::Json(w) => {
                for line in json_lines(t) {
                    w.write_all(if self.rows == 0 { b"[\n  " } else { b",\n  " })
                        .map_err(io)?;
                    w.write_all(line.as_bytes()).map_err(io)?;
                    self.rows += 1;
                }
                return Ok(());
            }
            SinkWriter::Parquet(w) => w.write_batch(&t.df).map_err(|e| pe(e).file(&path))?,
        }
        self.rows += t.num_rows();
        Ok(())
    }

    /// Close the file and rename it over the target.
    pub fn finish(mut self) -> Result<()> {
        let path = self.path.clone();
        let io = |e: std::io::Error| Error::io(&path, e);
        let file = match self.writer.take().expect("sink open") {
            SinkWriter::Csv(mut w) => {
                if self.rows == 0 {
                    w.write_all(&csv_bytes(&Table::empty(self.schema))?)
                        .map_err(io)?;
                }
                w.into_inner().map_err(|e| io(e.into_error()))?
            }
            SinkWriter::Json(mut w) => {
                w.write_all(if self.rows == 0 { b"[]\n" } else { b"\n]\n" })
                    .map_err(io)?;
                w.into_inner().map_err(|e| io(e.into_error()))?
            }
            SinkWriter::Parquet(w) => {
                w.finish().map_err(|e| pe(e).file(&path))?;
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&self.tmp)
                    .map_err(io)?
            }
        };
        file.sync_all().map_err(io)?;
        std::fs::rename(&self.tmp, &self.path).map_err(io)
    }
}

impl Drop for TableSink {
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Each row of a table as one JSON object (keys in column order; missing and non-finite: null).
pub fn json_lines(t: &Table) -> Vec<String> {
    fn esc(s: &str) -> String {
        let mut o = String::with_capacity(s.len() + 2);
        o.push('"');
        for c in s.chars() {
            match c {
                '"' => o.push_str("\\\""),
                '\\' => o.push_str("\\\\"),
                '\n' => o.push_str("\\n"),
                '\r' => o.push_str("\\r"),
                '\t' => o.push_str("\\t"),
                c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
                c => o.push(c),
            }
        }
        o.push('"');
        o
    }
    let cols = t.df.columns();
    (0..t.num_rows())
        .map(|r| {
            let cells: Vec<String> = cols
                .iter()
                .map(|c| {
                    let v = match c.get(r) {
                        Ok(AnyValue::String(s)) => esc(s),
                        Ok(AnyValue::StringOwned(s)) => esc(s.as_str()),
                        Ok(AnyValue::Int64(x)) => x.to_string(),
                        Ok(AnyValue::Float64(x)) if x.is_finite() => format!("{x:?}"),
                        Ok(AnyValue::Boolean(x)) => x.to_string(),
                        _ => "null".to_string(),
                    };
                    format!("{}:{v}", esc(c.name()))
                })
                .collect();
            format!("{{{}}}", cells.join(","))
        })
        .collect()
}
