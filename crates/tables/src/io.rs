//! Atomic, reproducible table IO. Every output is written to a temporary file in the target
//! directory, synced, and renamed over the target: a reader sees the old file or the new one,
//! never half of one. Nothing time- or host-dependent is written, so reruns are byte-identical.

use crate::schema::{ColType, TableSchema};
use crate::{Column, Error, Result, Table};
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field as AField, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Write `bytes` to `path` atomically (temp file in the same directory, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = path.file_name().ok_or_else(|| Error::usage(format!("{}: not a file path", path.display())))?;
    let tmp: PathBuf = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
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

fn arrow_type(t: ColType) -> DataType {
    match t {
        ColType::Str => DataType::Utf8,
        ColType::Int => DataType::Int64,
        ColType::Float => DataType::Float64,
        ColType::Bool => DataType::Boolean,
    }
}

/// The Arrow schema of a table schema.
pub fn arrow_schema(s: &TableSchema) -> Schema {
    Schema::new(s.fields.iter().map(|f| AField::new(f.name, arrow_type(f.ty), f.nullable)).collect::<Vec<_>>())
}

/// The table as an Arrow record batch.
pub fn to_record_batch(t: &Table) -> Result<RecordBatch> {
    let arrays: Vec<ArrayRef> = t
        .columns
        .iter()
        .map(|c| -> ArrayRef {
            match c {
                Column::Str(v) => Arc::new(StringArray::from(v.iter().map(|x| x.as_deref()).collect::<Vec<_>>())),
                Column::Int(v) => Arc::new(Int64Array::from(v.clone())),
                Column::Float(v) => Arc::new(Float64Array::from(v.clone())),
                Column::Bool(v) => Arc::new(BooleanArray::from(v.clone())),
            }
        })
        .collect();
    RecordBatch::try_new(Arc::new(arrow_schema(t.schema)), arrays).map_err(|e| Error::data(format!("table {}: {e}", t.schema.name)))
}

/// Parquet bytes of a table (Snappy, one row group, deterministic).
pub fn parquet_bytes(t: &Table) -> Result<Vec<u8>> {
    let batch = to_record_batch(t)?;
    // no dictionary pages: stage tables are small, batch outputs are mostly distinct floats, and
    // dictionary building dominated writing them
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).set_dictionary_enabled(false).build();
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props)).map_err(|e| Error::data(e.to_string()))?;
    w.write(&batch).map_err(|e| Error::data(e.to_string()))?;
    w.close().map_err(|e| Error::data(e.to_string()))?;
    Ok(buf)
}

/// Write a table as Parquet, atomically.
pub fn write_parquet(t: &Table, path: &Path) -> Result<()> {
    write_atomic(path, &parquet_bytes(t)?)
}

/// CSV bytes of a table (header row; missing cells empty; `\n` line ends).
pub fn csv_bytes(t: &Table) -> Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    w.write_record(t.schema.names()).map_err(|e| Error::data(e.to_string()))?;
    for r in 0..t.num_rows() {
        w.write_record(t.columns.iter().map(|c| c.cell_text(r))).map_err(|e| Error::data(e.to_string()))?;
    }
    w.into_inner().map_err(|e| Error::data(e.to_string()))
}

/// Write a table as CSV, atomically.
pub fn write_csv(t: &Table, path: &Path) -> Result<()> {
    write_atomic(path, &csv_bytes(t)?)
}

/// Read a Parquet file written for `schema`, checking that its columns are the schema's.
pub fn read_parquet(path: &Path, schema: &'static TableSchema) -> Result<Table> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| Error::data(format!("not a readable Parquet file: {e}")).file(path))?;
    let mut columns: Vec<Column> = schema.fields.iter().map(|f| Column::empty(f.ty)).collect();
    for batch in reader {
        let batch = batch.map_err(|e| Error::data(e.to_string()).file(path))?;
        for (k, f) in schema.fields.iter().enumerate() {
            let arr = batch.column_by_name(f.name).ok_or_else(|| Error::data("column missing").file(path).field(f.name))?;
            let bad = || Error::data(format!("column has type {}, expected {:?}", arr.data_type(), f.ty)).file(path).field(f.name);
            match &mut columns[k] {
                Column::Str(v) => {
                    let a = arr.as_any().downcast_ref::<StringArray>().ok_or_else(bad)?;
                    v.extend((0..a.len()).map(|i| if a.is_null(i) { None } else { Some(a.value(i).to_string()) }));
                }
                Column::Int(v) => {
                    let a = arr.as_any().downcast_ref::<Int64Array>().ok_or_else(bad)?;
                    v.extend((0..a.len()).map(|i| if a.is_null(i) { None } else { Some(a.value(i)) }));
                }
                Column::Float(v) => {
                    let a = arr.as_any().downcast_ref::<Float64Array>().ok_or_else(bad)?;
                    v.extend((0..a.len()).map(|i| if a.is_null(i) { None } else { Some(a.value(i)) }));
                }
                Column::Bool(v) => {
                    let a = arr.as_any().downcast_ref::<BooleanArray>().ok_or_else(bad)?;
                    v.extend((0..a.len()).map(|i| if a.is_null(i) { None } else { Some(a.value(i)) }));
                }
            }
        }
    }
    Table::new(schema, columns).map_err(|e| e.file(path))
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
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains(".tmp-")).collect();
        assert!(leftovers.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn csv_layout() {
        let t = sample();
        assert_eq!(String::from_utf8(csv_bytes(&t).unwrap()).unwrap(), "stage,database,count\nrecords_identified,,416\nrecords_identified,pubmed,102\n");
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

/// A column of a user table read without a schema.
#[derive(Debug, Clone, PartialEq)]
pub enum RawCol {
    Num(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

/// A user-supplied table (CSV or Parquet) read without a schema, for `metapipe pool`.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTable {
    pub names: Vec<String>,
    pub cols: Vec<RawCol>,
    pub rows: usize,
    /// CSV: data row r is on line r + 2; Parquet: rows are numbered from 1
    pub csv: bool,
}

impl RawTable {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
    /// Human position of data row `r` (0-based).
    pub fn row_label(&self, r: usize) -> usize {
        if self.csv {
            r + 2
        } else {
            r + 1
        }
    }
}

/// Read a CSV or Parquet file (by extension, or by the Parquet magic bytes).
pub fn read_raw(path: &Path) -> Result<RawTable> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.starts_with(b"PAR1") {
        return read_raw_parquet(path, bytes);
    }
    let text = match std::str::from_utf8(bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&bytes)) {
        Ok(t) => t.to_string(),
        Err(_) => return Err(Error::data("not UTF-8 text (expected CSV or Parquet)").file(path)),
    };
    let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let names: Vec<String> = rdr.headers().map_err(|e| Error::data(e.to_string()).file(path).line(1))?.iter().map(|h| h.trim().trim_matches('"').to_string()).collect();
    if names.iter().all(|n| n.is_empty()) {
        return Err(Error::data("empty file: no header").file(path).line(1));
    }
    let mut cells: Vec<Vec<Option<String>>> = vec![vec![]; names.len()];
    let mut rows = 0;
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| Error::data(e.to_string()).file(path).line(n + 2))?;
        for (k, c) in cells.iter_mut().enumerate() {
            c.push(rec.get(k).map(|s| s.trim().to_string()).filter(|s| !s.is_empty() && s != "NA"));
        }
        rows += 1;
    }
    let cols = cells
        .into_iter()
        .map(|c| {
            let parsed: Vec<Option<f64>> = c.iter().map(|x| x.as_ref().and_then(|s| s.parse::<f64>().ok())).collect();
            if c.iter().zip(&parsed).all(|(s, p)| s.is_none() || p.is_some()) {
                RawCol::Num(parsed)
            } else {
                RawCol::Text(c)
            }
        })
        .collect();
    Ok(RawTable { names, cols, rows, csv: true })
}

fn read_raw_parquet(path: &Path, bytes: Vec<u8>) -> Result<RawTable> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .and_then(|b| b.build())
        .map_err(|e| Error::data(format!("not a readable Parquet file: {e}")).file(path))?;
    let mut names: Vec<String> = vec![];
    let mut cols: Vec<RawCol> = vec![];
    let mut rows = 0;
    for batch in reader {
        let batch = batch.map_err(|e| Error::data(e.to_string()).file(path))?;
        if names.is_empty() {
            names = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
            cols = batch
                .schema()
                .fields()
                .iter()
                .map(|f| if matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8) { RawCol::Text(vec![]) } else { RawCol::Num(vec![]) })
                .collect();
        }
        for (k, col) in cols.iter_mut().enumerate() {
            let a = batch.column(k);
            match col {
                RawCol::Num(v) => match a.data_type() {
                    DataType::Float64 => v.extend(a.as_primitive::<Float64Type>().iter()),
                    DataType::Float32 => v.extend(a.as_primitive::<Float32Type>().iter().map(|x| x.map(f64::from))),
                    DataType::Int64 => v.extend(a.as_primitive::<Int64Type>().iter().map(|x| x.map(|y| y as f64))),
                    DataType::Int32 => v.extend(a.as_primitive::<Int32Type>().iter().map(|x| x.map(f64::from))),
                    t => return Err(Error::data(format!("unsupported column type {t}")).file(path).field(names[k].clone())),
                },
                RawCol::Text(v) => match a.data_type() {
                    DataType::Utf8 => v.extend(a.as_string::<i32>().iter().map(|x| x.map(String::from))),
                    _ => v.extend(a.as_string::<i64>().iter().map(|x| x.map(String::from))),
                },
            }
        }
        rows += batch.num_rows();
    }
    Ok(RawTable { names, cols, rows, csv: false })
}

/// A table whose rows come in contiguous groups, with numeric columns as flat arrays
/// (missing values as NaN): the fast path of `metapipe pool --group`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouped {
    pub keys: Vec<String>,
    /// group g is rows offsets[g]..offsets[g+1]
    pub offsets: Vec<usize>,
    pub cols: Vec<Vec<f64>>,
    pub rows: usize,
}

/// Read `group` and the numeric `cols` of a Parquet file into [`Grouped`]. Returns `Ok(None)`
/// when the file is not Parquet, a column is missing or not numeric, or the groups are not
/// contiguous (a key seen again after another key): the caller takes the general path then.
pub fn read_grouped(path: &Path, group: &str, cols: &[&str]) -> Result<Option<Grouped>> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int32Type, Int64Type};
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if !bytes.starts_with(b"PAR1") {
        return Ok(None);
    }
    let reader = match ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes)).and_then(|b| b.build()) {
        Ok(r) => r,
        Err(_) => return Ok(None),
    };
    let mut keys: Vec<String> = vec![];
    let mut offsets = vec![0usize];
    // keys seen so far, by hash (collisions checked against the stored keys)
    let mut seen: std::collections::HashMap<u64, Vec<usize>> = std::collections::HashMap::new();
    let hash = |k: &str| k.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3));
    let mut int_seen: std::collections::HashSet<i64> = std::collections::HashSet::new();
    let mut last_int: Option<i64> = None;
    let mut out: Vec<Vec<f64>> = vec![vec![]; cols.len()];
    let mut rows = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| Error::data(e.to_string()).file(path))?;
        let Some(gcol) = batch.column_by_name(group) else { return Ok(None) };
        // an integer group column: runs found on the integers, keys written in decimal
        if let (DataType::Int64, true) = (gcol.data_type(), gcol.null_count() == 0) {
            let gv = gcol.as_primitive::<Int64Type>().values();
            for &k in gv.iter() {
                if last_int != Some(k) || rows == 0 {
                    if rows > 0 {
                        offsets.push(rows);
                    }
                    if !int_seen.insert(k) {
                        return Ok(None);
                    }
                    keys.push(k.to_string());
                    last_int = Some(k);
                }
                rows += 1;
            }
        } else {
        let Some(g) = gcol.as_string_opt::<i32>() else { return Ok(None) };
        for i in 0..g.len() {
            let k = if g.is_null(i) { "" } else { g.value(i) };
            if keys.last().map(|l| l.as_str()) != Some(k) {
                if rows > 0 {
                    offsets.push(rows);
                }
                let slot = seen.entry(hash(k)).or_default();
                if slot.iter().any(|&j| keys[j] == k) {
                    return Ok(None);
                }
                slot.push(keys.len());
                keys.push(k.to_string());
            }
            rows += 1;
        }
        }
        for (c, name) in cols.iter().enumerate() {
            let Some(a) = batch.column_by_name(name) else { return Ok(None) };
            let v = &mut out[c];
            match a.data_type() {
                DataType::Float64 if a.null_count() == 0 => v.extend_from_slice(a.as_primitive::<Float64Type>().values()),
                DataType::Int64 if a.null_count() == 0 => v.extend(a.as_primitive::<Int64Type>().values().iter().map(|&y| y as f64)),
                DataType::Float64 => v.extend(a.as_primitive::<Float64Type>().iter().map(|x| x.unwrap_or(f64::NAN))),
                DataType::Int64 => v.extend(a.as_primitive::<Int64Type>().iter().map(|x| x.map(|y| y as f64).unwrap_or(f64::NAN))),
                DataType::Int32 => v.extend(a.as_primitive::<Int32Type>().iter().map(|x| x.map(f64::from).unwrap_or(f64::NAN))),
                _ => return Ok(None),
            }
        }
    }
    if rows > 0 {
        offsets.push(rows);
    }
    Ok(Some(Grouped { keys, offsets, cols: out, rows }))
}
