//! # metapipe-tables
//!
//! The table layer: every stage table's schema, defined once ([`schema`]); [`Table`], a polars
//! DataFrame checked against its schema; and atomic, byte-reproducible Parquet and CSV IO through
//! polars ([`io`]). The error type shared by every IO shell ([`Error`]) renders as
//! `file:line: field: what is wrong`.

pub mod frame;
pub mod io;
pub mod par;
pub mod schema;
pub mod sheet;
mod table;

pub use schema::{ColType, Field, TableSchema};
pub use table::{b, f, i, pe, s, so, Builder, Cell, Table};

use std::fmt;
use std::path::PathBuf;

/// An error that names where it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// the input or output file
    pub file: Option<PathBuf>,
    /// 1-based line (or data row, for tables) where known
    pub line: Option<usize>,
    /// the field or column, where known
    pub field: Option<String>,
    pub message: String,
    /// bad data (exit 1) or bad usage (exit 2)
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Data,
    Usage,
    Io,
}

impl Error {
    pub fn data(message: impl Into<String>) -> Self {
        Error {
            file: None,
            line: None,
            field: None,
            message: message.into(),
            kind: ErrorKind::Data,
        }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Usage,
            ..Error::data(message)
        }
    }
    pub fn io(file: impl Into<PathBuf>, e: impl fmt::Display) -> Self {
        Error {
            file: Some(file.into()),
            kind: ErrorKind::Io,
            ..Error::data(e.to_string())
        }
    }
    pub fn file(mut self, f: impl Into<PathBuf>) -> Self {
        self.file = Some(f.into());
        self
    }
    pub fn line(mut self, l: usize) -> Self {
        self.line = Some(l);
        self
    }
    pub fn field(mut self, f: impl Into<String>) -> Self {
        self.field = Some(f.into());
        self
    }
    /// Exit status: 1 for bad data or IO, 2 for bad usage.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Usage => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.file {
            write!(f, "{}", p.display())?;
            if let Some(l) = self.line {
                write!(f, ":{l}")?;
            }
            write!(f, ": ")?;
        } else if let Some(l) = self.line {
            write!(f, "line {l}: ")?;
        }
        if let Some(fl) = &self.field {
            write!(f, "{fl}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
