//! Sinks: a table written batch by batch (Parquet row groups or CSV), and JSON lines.

use super::*;
use crate::schema::TableSchema;
use crate::table::pe;
use crate::{Error, Result, Table};
use polars::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

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
        let tmp = temp_path(path)?;
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
        finish_atomic(
            &self.tmp,
            &path,
            file.sync_all().map_err(|e| (path.clone(), e)),
        )
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
    use serde_json::Value;
    let cols = t.df.columns();
    (0..t.num_rows())
        .map(|r| {
            let cells: Vec<String> = cols
                .iter()
                .map(|c| {
                    let v = match c.get(r) {
                        Ok(AnyValue::String(s)) => Value::from(s),
                        Ok(AnyValue::StringOwned(s)) => Value::from(s.as_str()),
                        Ok(AnyValue::Int64(x)) => Value::from(x),
                        Ok(AnyValue::Float64(x)) => {
                            serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
                        }
                        Ok(AnyValue::Boolean(x)) => Value::from(x),
                        _ => Value::Null,
                    };
                    // keys in column order (a map would sort them)
                    format!("{}:{v}", Value::from(c.name().as_str()))
                })
                .collect();
            format!("{{{}}}", cells.join(","))
        })
        .collect()
}
