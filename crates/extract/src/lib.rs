//! # metapipe-extract
//!
//! Extraction sheets (CSV, one fact per row with its source) → the studies, arms and
//! outcome_data tables. The studies sheet has `study_id, label` and the covariates the review
//! declares (text, number, yes/no). Factorial trials are recorded arm by arm; the comparison's arm
//! sizes are derived from the arms (a polars group-by), never typed. Outcome rows are binary,
//! continuous or generic by the outcome's declared type. A cell no source gives stays missing.

use metapipe_tables::io::Input;
use metapipe_tables::schema::ARMS;
use metapipe_tables::{Error, Result, Table};

/// The type of a covariate column of the studies sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CovKind {
    Text,
    Number,
    YesNo,
}

impl CovKind {
    pub fn parse(s: &str) -> Option<CovKind> {
        Some(match s {
            "text" => CovKind::Text,
            "number" => CovKind::Number,
            "yes/no" | "yesno" | "bool" => CovKind::YesNo,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Covariate {
    pub name: String,
    pub kind: CovKind,
}

pub use derive::Methods;
pub use metapipe_tables::schema::OutcomeKind;

/// What the review declares about its sheets.
pub struct Spec<'a> {
    pub covariates: &'a [Covariate],
    /// factorial trials: the comparison is arms with this factor against arms without it
    pub comparison_factor: Option<&'a str>,
    /// every outcome of the protocol with its type
    pub outcomes: &'a [(String, OutcomeKind)],
    /// how reported medians are converted to means and SDs
    pub conversions: Methods,
    /// the review's ICC for cluster-randomised trials, with its source
    pub icc: Option<(f64, String)>,
    /// the generic outcomes pooled on the log scale (their estimates are ratios)
    pub log_outcomes: &'a [String],
}

/// The extract stage's tables.
#[derive(Debug)]
pub struct Extracted {
    pub studies: Table,
    pub arms: Table,
    pub outcome_data: Table,
}

/// Read the extraction sheets into the studies, arms and outcome_data tables.
pub fn extract(
    studies: &Input,
    arms: Option<&Input>,
    outcomes: &Input,
    spec: &Spec,
) -> Result<Extracted> {
    let arms_t = match (arms, spec.comparison_factor) {
        (Some(a), Some(f)) => arms_table(&read_arms(a, f)?, f)?,
        (Some(a), None) => return Err(Error::data("an arms sheet needs `comparison_factor` in [extraction] (the factor whose arms are compared)").file(&a.path).field("extraction.comparison_factor")),
        (None, _) => Table::empty(&ARMS),
    };
    let studies_t = read_studies(studies, &arms_t, spec)?;
    let ids: Vec<&str> = studies_t.str("study_id").iter().flatten().collect();
    if let Some(a) = arms {
        if let Some(bad) = arms_t
            .str("study_id")
            .iter()
            .flatten()
            .find(|id| !ids.contains(id))
        {
            return Err(Error::data(format!(
                "arm of unknown study {bad:?} (not in the studies sheet)"
            ))
            .file(&a.path)
            .field("study_id"));
        }
    }
    let outcome_data = read_outcomes(outcomes, &studies_t, spec)?;
    Ok(Extracted {
        studies: studies_t,
        arms: arms_t,
        outcome_data,
    })
}

mod arms;
mod derive;
pub mod dual;
mod multiarm;
mod outcomes;
mod studies;
mod values;

pub use arms::factor_margins;
use arms::{arms_table, read_arms};
pub use metapipe_tables::sheet::{Row, Sheet};
use outcomes::read_outcomes;
use studies::read_studies;

#[cfg(test)]
mod tests;
