//! Excel workbooks (`.xlsx`) as sheets: `book.xlsx` reads its first worksheet, `book.xlsx#Name`
//! the worksheet `Name`. Cells become the text a CSV would hold — numbers in Rust's shortest
//! round-trip form (49, 0.1), dates as YYYY-MM-DD (either date system), booleans as true/false —
//! with wholly empty rows skipped; each row keeps its Excel row number and each column its
//! letter, so an error names `book.xlsx:Sheet!F5`. Read by calamine (pure Rust).

use crate::{Error, Result};
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// Where a sheet's cells came from.
#[derive(Debug, Clone)]
pub(crate) struct Book {
    pub file: PathBuf,
    pub sheet: String,
    /// the Excel column letters of the sheet's columns, in order
    pub cols: Vec<String>,
    /// the Excel row of the header
    pub header_row: usize,
    /// the Excel row of each data row
    pub rows: Vec<usize>,
}

impl Book {
    /// `book.xlsx:Sheet!F5` for column `k` (0-based) of the row at Excel row `row`.
    pub fn cell(&self, k: usize, row: usize) -> PathBuf {
        let col = self.cols.get(k).map_or("?", |c| c.as_str());
        PathBuf::from(format!("{}:{}!{col}{row}", self.file.display(), self.sheet))
    }
}

/// Is `path` a workbook (`.xlsx`, optionally `#Sheet`)?
pub fn is_workbook(path: &Path) -> bool {
    split(path)
        .0
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// `book.xlsx#Sheet` → (`book.xlsx`, Some("Sheet")).
pub fn split(path: &Path) -> (PathBuf, Option<String>) {
    let s = path.to_string_lossy();
    match s.rsplit_once('#') {
        Some((f, sheet)) if f.to_ascii_lowercase().ends_with(".xlsx") => {
            (PathBuf::from(f), Some(sheet.to_string()))
        }
        _ => (path.to_path_buf(), None),
    }
}

/// Excel's column letters for a 0-based column (0 → A, 26 → AA).
fn letters(mut c: usize) -> String {
    let mut s = vec![];
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII")
}

/// An Excel date as YYYY-MM-DD, or with its time when it has one (calamine converts the serial
/// under the workbook's date system, 1900 or 1904).
fn date(d: &calamine::ExcelDateTime) -> String {
    let (y, m, day, h, min, sec, _) = d.to_ymd_hms_milli();
    if (h, min, sec) == (0, 0, 0) {
        format!("{y:04}-{m:02}-{day:02}")
    } else {
        format!("{y:04}-{m:02}-{day:02} {h:02}:{min:02}:{sec:02}")
    }
}

/// A cell as text; an Excel error value (`#N/A`, `#DIV/0!`) is an error at its cell.
fn text(c: &Data, at: impl Fn() -> PathBuf) -> Result<String> {
    Ok(match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => format!("{i}"),
        Data::Bool(b) => format!("{b}"),
        Data::DateTime(d) => date(d),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => {
            return Err(Error::data(format!("the cell holds Excel's error {e:?}")).file(at()))
        }
    })
}

/// The worksheet as CSV text, and where its cells came from.
pub(crate) fn to_csv(path: &Path, bytes: &[u8]) -> Result<(String, Book)> {
    let (file, wanted) = split(path);
    let bad = |e: String| Error::data(format!("not a readable .xlsx workbook: {e}")).file(&file);
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| bad(e.to_string()))?;
    let names = wb.sheet_names();
    let sheet = match wanted {
        Some(w) if names.contains(&w) => w,
        Some(w) => {
            return Err(Error::data(format!(
                "no worksheet {w:?} (the workbook has: {})",
                names.join(", ")
            ))
            .file(&file))
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| bad("no worksheet".into()))?,
    };
    let range = wb.worksheet_range(&sheet).map_err(|e| bad(e.to_string()))?;
    let (r0, c0) = range
        .start()
        .map_or((0, 0), |(r, c)| (r as usize, c as usize));
    let width = range.width();
    let mut book = Book {
        file: file.clone(),
        sheet: sheet.clone(),
        cols: (0..width).map(|k| letters(c0 + k)).collect(),
        header_row: r0 + 1,
        rows: vec![],
    };
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(vec![]);
    for (i, row) in range.rows().enumerate() {
        let excel_row = r0 + i + 1;
        let mut cells = Vec::with_capacity(width);
        for (k, c) in row.iter().enumerate() {
            cells.push(text(c, || book.cell(k, excel_row))?);
        }
        if i > 0 && cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if i > 0 {
            book.rows.push(excel_row);
        }
        w.write_record(&cells)
            .map_err(|e| Error::data(e.to_string()).file(&file))?;
    }
    let text = String::from_utf8(w.into_inner().map_err(|e| Error::data(e.to_string()))?)
        .map_err(|e| Error::data(e.to_string()))?;
    Ok((text, book))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_dates_are_excels() {
        assert_eq!(letters(0), "A");
        assert_eq!(letters(25), "Z");
        assert_eq!(letters(26), "AA");
        assert_eq!(letters(27), "AB");
        assert_eq!(letters(701), "ZZ");
        assert_eq!(letters(702), "AAA");
        // Excel serials: 25569 = 1970-01-01, 45658 = 2025-01-01, 36526.5 = 2000-01-01 12:00;
        // the 1904 system counts 1462 days fewer (July 5, 2011: 40729 and 39267)
        use calamine::{ExcelDateTime, ExcelDateTimeType::DateTime};
        let d = |v: f64, is_1904: bool| date(&ExcelDateTime::new(v, DateTime, is_1904));
        assert_eq!(d(25569.0, false), "1970-01-01");
        assert_eq!(d(45658.0, false), "2025-01-01");
        assert_eq!(d(36526.5, false), "2000-01-01 12:00:00");
        assert_eq!(d(40729.0, false), "2011-07-05");
        assert_eq!(d(39267.0, true), "2011-07-05");
    }

    #[test]
    fn a_sheet_is_named_after_a_hash() {
        assert_eq!(
            split(Path::new("a/b.xlsx#Outcomes")),
            (PathBuf::from("a/b.xlsx"), Some("Outcomes".into()))
        );
        assert_eq!(
            split(Path::new("a/b.csv")),
            (PathBuf::from("a/b.csv"), None)
        );
        assert!(
            is_workbook(Path::new("x.XLSX"))
                && is_workbook(Path::new("x.xlsx#S"))
                && !is_workbook(Path::new("x.csv"))
        );
    }
}
