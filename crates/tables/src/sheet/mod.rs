//! The one reader of the sheets a review team writes (extraction sheets, screening logs, RoB
//! answers, `published.csv`, dedup decisions), as CSV or as an Excel workbook (`xlsx.rs`): the
//! header checked for the columns a reader needs, headers and cells trimmed, an empty cell
//! absent, and every error at `file:line: column` (a workbook's at `book.xlsx:Sheet!F5`).

mod xlsx;

use crate::io::Input;
use crate::{Error, Result};
use std::borrow::Cow;
use std::path::Path;
pub use xlsx::{is_workbook, split as split_workbook};

/// A sheet's text as CSV: the file's own, or a workbook's worksheet converted (with where its
/// cells came from).
fn csv_text<'a>(input: &'a Input) -> Result<(Cow<'a, str>, Option<xlsx::Book>)> {
    if xlsx::is_workbook(&input.path) {
        let (t, b) = xlsx::to_csv(&input.path, &input.bytes)?;
        Ok((Cow::Owned(t), Some(b)))
    } else {
        Ok((Cow::Borrowed(input.text()?), None))
    }
}

/// A CSV reader over `text` (a leading byte-order mark, as Excel writes, dropped) and its
/// trimmed header.
fn open<'t>(path: &Path, text: &'t str) -> Result<(csv::Reader<&'t [u8]>, Vec<String>)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| Error::data(e.to_string()).file(path).line(1))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    Ok((rdr, headers))
}

/// Every `required` column is in the header (else an error on line 1 naming it).
fn columns(path: &Path, headers: &[String], required: &[&str]) -> Result<()> {
    match required.iter().find(|r| !headers.iter().any(|h| h == *r)) {
        Some(r) => Err(
            Error::data(format!("missing column (have: {})", headers.join(",")))
                .file(path)
                .line(1)
                .field(*r),
        ),
        None => Ok(()),
    }
}

/// The line a record starts on (a quoted cell may span lines).
fn line_of(r: &csv::StringRecord) -> usize {
    r.position().map_or(0, |p| p.line() as usize)
}

/// A record that cannot be read, at its line.
fn record_error(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line() as usize);
    Error::data(e.to_string()).file(path).line(line)
}

/// Each row of a sheet, streamed through one reused record: `row` gets the positions of the
/// columns `names` (each checked in the header), the row's line and the record (cells not
/// trimmed). For logs of a review's every record, which [`Sheet`] would hold whole.
pub fn each_row<const N: usize>(
    input: &Input,
    names: [&str; N],
    mut row: impl FnMut([usize; N], usize, &csv::StringRecord) -> Result<()>,
) -> Result<()> {
    let path = input.path.as_path();
    let (text, book) = csv_text(input)?;
    let (mut rdr, headers) = open(path, &text)?;
    columns(path, &headers, &names)?;
    let cols = names.map(|n| headers.iter().position(|h| h == n).unwrap_or(0));
    let mut rec = csv::StringRecord::new();
    let mut k = 0;
    while rdr
        .read_record(&mut rec)
        .map_err(|e| record_error(path, e))?
    {
        let line = book.as_ref().map_or_else(|| line_of(&rec), |b| b.rows[k]);
        row(cols, line, &rec)?;
        k += 1;
    }
    Ok(())
}

/// A CSV file as (line, header-indexed row) with file/line/field errors.
pub struct Sheet {
    pub path: std::path::PathBuf,
    pub headers: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
    /// a workbook's sheet: where each cell came from
    book: Option<xlsx::Book>,
}

impl Sheet {
    /// A sheet with at least one row and every `required` column.
    pub fn parse(input: &Input, required: &[&str]) -> Result<Sheet> {
        let sheet = Sheet::read(input, required)?;
        if sheet.rows.is_empty() {
            return Err(Error::data("no rows (header only)").file(&sheet.path));
        }
        Ok(sheet)
    }

    /// A sheet with every `required` column (no row is fine).
    pub fn read(input: &Input, required: &[&str]) -> Result<Sheet> {
        let path = input.path.as_path();
        let (text, book) = csv_text(input)?;
        let (mut rdr, headers) = open(path, &text)?;
        // a workbook's missing column is named at its header row
        columns(path, &headers, required).map_err(|e| match &book {
            Some(b) => Error::data(e.message)
                .file(b.cell(headers.len(), b.header_row))
                .field(e.field.unwrap_or_default()),
            None => e,
        })?;
        let mut rows = vec![];
        for (k, r) in rdr.records().enumerate() {
            let r = r.map_err(|e| record_error(path, e))?;
            let cells = r.iter().map(|x| x.trim().to_string()).collect();
            let line = book.as_ref().map_or_else(|| line_of(&r), |b| b.rows[k]);
            rows.push((line, cells));
        }
        Ok(Sheet {
            path: path.to_path_buf(),
            headers,
            rows,
            book,
        })
    }

    /// The trimmed header of a sheet on disk (for checks before any stage reads it).
    pub fn header(path: &Path) -> Result<Vec<String>> {
        let input = Input::read(path)?;
        let (text, _) = csv_text(&input)?;
        Ok(open(path, &text)?.1)
    }

    pub fn has(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h == name)
    }
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(move |(ln, cells)| Row {
            sheet: self,
            line: *ln,
            cells,
        })
    }
}

pub struct Row<'a> {
    sheet: &'a Sheet,
    pub line: usize,
    cells: &'a [String],
}

impl Row<'_> {
    pub fn get(&self, name: &str) -> Option<&str> {
        let k = self.sheet.headers.iter().position(|h| h == name)?;
        self.cells
            .get(k)
            .map(|s| s.as_str())
            .filter(|s| !s.is_empty())
    }
    pub fn err(&self, field: &str, msg: impl Into<String>) -> Error {
        match &self.sheet.book {
            // a workbook's cell: book.xlsx:Sheet!F5
            Some(b) => {
                let k = self.sheet.headers.iter().position(|h| h == field);
                Error::data(msg)
                    .file(b.cell(k.unwrap_or(self.sheet.headers.len()), self.line))
                    .field(field)
            }
            None => Error::data(msg)
                .file(&self.sheet.path)
                .line(self.line)
                .field(field),
        }
    }
    pub fn req(&self, name: &str) -> Result<&str> {
        self.get(name)
            .ok_or_else(|| self.err(name, "required value is empty"))
    }
    /// A non-negative whole number, or `None` if empty.
    pub fn count(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.parse::<i64>() {
                Ok(x) if x >= 0 => Ok(Some(x)),
                Ok(_) => Err(self.err(name, format!("{v} is negative; expected a count >= 0"))),
                Err(_) => Err(self.err(name, format!("{v:?} is not a whole number"))),
            },
        }
    }
    /// A finite number, or `None` if empty.
    pub fn number(&self, name: &str) -> Result<Option<f64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(self.err(name, format!("{v:?} is not a number"))),
            },
        }
    }
    /// yes/no, or `None` if empty.
    pub fn flag(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name).map(|v| v.to_ascii_lowercase()) {
            None => Ok(None),
            Some(v) => match v.as_str() {
                "yes" | "true" | "y" | "1" => Ok(Some(true)),
                "no" | "false" | "n" | "0" => Ok(Some(false)),
                _ => Err(self.err(name, format!("{v:?} is not yes/no"))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &str) -> Input {
        Input {
            path: "sheet.csv".into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn excel_bom_is_dropped_and_cells_trimmed() {
        let sheet = Sheet::parse(
            &input("\u{feff}study_id , label\n s1 , One \n"),
            &["study_id"],
        )
        .expect("a BOM before the first header is Excel's, not part of the name");
        let row = sheet.rows().next().expect("one row");
        assert_eq!(
            (row.get("study_id"), row.get("label")),
            (Some("s1"), Some("One"))
        );
        assert_eq!(row.line, 2);
    }

    #[test]
    fn lines_count_quoted_cells_that_span_lines() {
        let text = "study_id,note\ns1,\"two\nlines\"\ns2,-1\n";
        let sheet = Sheet::read(&input(text), &["study_id"]).expect("reads");
        let lines: Vec<usize> = sheet.rows().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4]);
        let r = sheet.rows().nth(1).expect("second row");
        let e = r.count("note").expect_err("-1 is not a count");
        assert_eq!(
            e.to_string(),
            "sheet.csv:4: note: -1 is negative; expected a count >= 0"
        );
    }

    #[test]
    fn a_missing_column_and_a_short_row_are_named() {
        let e = Sheet::read(&input("study,label\n"), &["study_id"])
            .err()
            .expect("no study_id");
        assert_eq!(
            e.to_string(),
            "sheet.csv:1: study_id: missing column (have: study,label)"
        );
        let e = Sheet::read(&input("a,b\n1,2\n3\n"), &[])
            .err()
            .expect("short row");
        assert_eq!(e.line, Some(3));
        let e = Sheet::parse(&input("a,b\n"), &[])
            .err()
            .expect("header only");
        assert!(e.to_string().contains("no rows"), "{e}");
        let mut seen = vec![];
        each_row(&input("x,a\n1,2\n3,4\n"), ["a"], |[c], line, r| {
            seen.push((line, r.get(c).unwrap_or("").to_string()));
            Ok(())
        })
        .expect("streams");
        assert_eq!(seen, [(2, "2".to_string()), (3, "4".to_string())]);
    }
}
