//! RevMan reviews: one model read from three formats, written as a metapipe review.

mod csv_export;
mod export;
mod import;
mod package;
mod rm5;

pub use export::{export, study_id};
pub use import::files;

use metapipe_tables::sheet::Row;
use metapipe_tables::{Error, Result};
use std::path::Path;

/// A RevMan review's studies and analyses.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub title: String,
    /// which format it was read from (`RevMan 5 file`, …), for the imported files' notes
    pub format: String,
    /// included studies: name, year
    pub studies: Vec<(String, Option<String>)>,
    pub analyses: Vec<Analysis>,
    /// what the reader noticed and did not import (said in the review's README)
    pub notes: Vec<String>,
}

/// RevMan's data types this importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    Dichotomous,
    Continuous,
}

/// One analysis (a comparison's outcome): its settings, data rows by subgroup, RevMan's results.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub comparison: u32,
    pub comparison_name: String,
    pub number: u32,
    pub name: String,
    pub data_type: DataType,
    /// `MH`, `IV` or `PETO`
    pub method: String,
    /// escalc's name: `OR`, `RR`, `RD`, `MD`, `SMD`
    pub measure: String,
    pub random: bool,
    /// the CI level of the pooled result, in percent
    pub level: f64,
    pub swap_events: bool,
    /// experimental and control group labels; left and right graph labels
    pub labels: [String; 4],
    /// one subgroup without a name when the analysis has none
    pub subgroups: Vec<Subgroup>,
    /// RevMan's computed overall figures (name, as printed): see [`STATS`]
    pub stored: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subgroup {
    pub name: Option<String>,
    pub rows: Vec<DataRow>,
    pub stored: Vec<(&'static str, String)>,
}

/// One study's data in an analysis, and RevMan's computed figures for it ([`STUDY_STATS`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DataRow {
    pub study: String,
    /// experimental, control
    pub events: [Option<f64>; 2],
    pub totals: [Option<f64>; 2],
    pub means: [Option<f64>; 2],
    pub sds: [Option<f64>; 2],
    pub stored: Vec<(&'static str, String)>,
}

/// An analysis's computed figures, as the audit names them.
pub const STATS: [&str; 10] = [
    "estimate", "ci_lb", "ci_ub", "Q", "Q_df", "Q_p", "I2", "tau2", "z", "p",
];
/// A study's computed figures.
pub const STUDY_STATS: [&str; 5] = ["estimate", "ci_lb", "ci_ub", "se", "weight"];

impl Analysis {
    /// `1.2`: RevMan's number of the analysis.
    pub fn label(&self) -> String {
        format!("{}.{}", self.comparison, self.number)
    }
    /// The metapipe outcome id: `analysis_1_2`.
    pub fn id(&self) -> String {
        format!("analysis_{}_{}", self.comparison, self.number)
    }
    pub fn has_subgroups(&self) -> bool {
        self.subgroups.iter().any(|s| s.name.is_some())
    }
}

/// escalc's name of a RevMan effect measure (`OR`, `Odds Ratio`, `Std. Mean Difference`, …).
pub(crate) fn measure_name(s: &str) -> Option<&'static str> {
    let l = s.trim().to_ascii_lowercase().replace(['.', '-'], " ");
    let l = l.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(match l.as_str() {
        "or" | "odds ratio" | "peto_or" | "peto odds ratio" => "OR",
        "rr" | "risk ratio" => "RR",
        "rd" | "risk difference" => "RD",
        "md" | "mean difference" => "MD",
        "smd"
        | "std mean difference"
        | "standardized mean difference"
        | "standardised mean difference" => "SMD",
        _ => return None,
    })
}

/// `MH`, `IV` or `PETO` from RevMan's statistical method.
pub(crate) fn method_name(s: &str) -> Option<&'static str> {
    Some(match s.trim().to_ascii_uppercase().as_str() {
        "MH" | "MANTEL-HAENSZEL" => "MH",
        "IV" | "INVERSE VARIANCE" => "IV",
        "PETO" => "PETO",
        _ => return None,
    })
}

/// A sheet cell's number (`None` when empty; anything else is an error at its cell).
pub(crate) fn cell_number(r: &Row, col: &str) -> Result<Option<f64>> {
    match r.get(col) {
        None => Ok(None),
        Some(v) => number(v)
            .map(Some)
            .ok_or_else(|| r.err(col, format!("{v:?} is not a number"))),
    }
}

/// A sheet cell's whole number (required).
pub(crate) fn cell_whole(r: &Row, col: &str) -> Result<u32> {
    r.req(col)?
        .parse()
        .map_err(|_| r.err(col, "expected a whole number"))
}

/// The figures a sheet row stores, by (figure, column): each a number as printed.
pub(crate) fn row_figures(
    r: &Row,
    table: &[(&'static str, &str)],
) -> Result<Vec<(&'static str, String)>> {
    let mut out = vec![];
    for (name, col) in table {
        if cell_number(r, col)?.is_some() {
            out.push((*name, r.get(col).unwrap_or("").to_string()));
        }
    }
    Ok(out)
}

/// An analysis's figures without τ² when it is fixed-effect (RevMan stores 0 there, which
/// estimates no τ²).
pub(crate) fn without_fixed_tau2(
    mut s: Vec<(&'static str, String)>,
    random: bool,
) -> Vec<(&'static str, String)> {
    if !random {
        s.retain(|(k, _)| *k != "tau2");
    }
    s
}

/// A number as RevMan prints it ("1,234.5" has a thousands separator in some exports).
pub(crate) fn number(s: &str) -> Option<f64> {
    let t = s.trim().replace(',', "");
    t.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Read a RevMan review from the bytes of the file at `path`: `.rm5`, the CSV export, or a data
/// package (`.zip`, or the `-data.zip` inside one), by extension.
pub fn read(path: &Path, bytes: &[u8]) -> Result<Review> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let r = match ext.as_str() {
        "rm5" => rm5::read(bytes),
        "csv" => csv_export::read(path, bytes),
        "zip" => package::read(path, bytes),
        _ => Err(Error::usage(
            "expected a RevMan 5 file (.rm5), RevMan 5's CSV export (.csv) or a RevMan Web data package (.zip)",
        )),
    };
    r.map_err(|e| if e.file.is_none() { e.file(path) } else { e })
}
