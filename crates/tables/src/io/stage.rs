//! Stage tables: the bytes a stage read (`Input`), and the Parquet and CSV forms of a `Table`,
//! written reproducibly and read back against its schema (conforming foreign writers' dtypes).

use super::*;
use crate::schema::{ColType, TableSchema};
use crate::table::pe;
use crate::{Error, Result, Table};
use polars::prelude::*;
use std::path::{Path, PathBuf};

/// An input file as the shell read it: its path (named in every error) and its bytes. Stages
/// take `Input`s, never paths: only the CLI and this module touch the filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

impl Input {
    /// The file at `path`; a workbook's worksheet may be named after a `#` (`book.xlsx#Sheet`),
    /// the workbook read and the path kept whole.
    pub fn read(path: &Path) -> Result<Input> {
        let (file, _) = crate::sheet::split_workbook(path);
        let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
        Ok(Input {
            path: path.to_path_buf(),
            bytes,
        })
    }
    /// An input that may be absent (`None` when no file is at `path`).
    pub fn read_if_present(path: &Path) -> Result<Option<Input>> {
        if crate::sheet::split_workbook(path).0.exists() {
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

    /// Every `.csv` file in the directory `dir` (a tool's export set, one file per stage), as one
    /// input: each file's name, a NUL, its length, a newline and its bytes, by name. Its hash
    /// changes with any file's name or content; [`Input::parts`] gives the files back.
    pub fn read_dir(dir: &Path) -> Result<Input> {
        let mut names = vec![];
        for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let p = e.map_err(|e| Error::io(dir, e))?.path();
            if p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")) {
                names.push(p);
            }
        }
        names.sort();
        let mut bytes = vec![];
        for p in names {
            let b = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            bytes.extend_from_slice(name.as_bytes());
            bytes.push(0);
            bytes.extend_from_slice(format!("{}\n", b.len()).as_bytes());
            bytes.extend_from_slice(&b);
        }
        Ok(Input {
            path: dir.to_path_buf(),
            bytes,
        })
    }

    /// The files of an input [`Input::read_dir`] made, each named by its own path.
    pub fn parts(&self) -> Result<Vec<Input>> {
        let bad = || Error::data("not a directory's files as read_dir joins them").file(&self.path);
        let mut out = vec![];
        let mut rest = self.bytes.as_slice();
        while !rest.is_empty() {
            let nul = rest.iter().position(|&b| b == 0).ok_or_else(bad)?;
            let name = String::from_utf8_lossy(&rest[..nul]).into_owned();
            let after = &rest[nul + 1..];
            let nl = after.iter().position(|&b| b == b'\n').ok_or_else(bad)?;
            let len: usize = std::str::from_utf8(&after[..nl])
                .ok()
                .and_then(|x| x.parse().ok())
                .ok_or_else(bad)?;
            let body = after.get(nl + 1..nl + 1 + len).ok_or_else(bad)?;
            out.push(Input {
                path: self.path.join(name),
                bytes: body.to_vec(),
            });
            rest = &after[nl + 1 + len..];
        }
        Ok(out)
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
pub(crate) fn conform(c: &Column, ty: ColType) -> Result<Column> {
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
