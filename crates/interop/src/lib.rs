//! Reviews in and out of the tools review teams work in. RevMan: a RevMan 5 review (`.rm5`), RevMan
//! 5's "Data and analyses" CSV export and a RevMan Web / Cochrane Library data package (`.zip`)
//! are read into one [`revman::Review`]; [`revman::import`] writes it as a metapipe review
//! (`pipelines/NAME.toml`, `data/NAME/`), RevMan's own computed figures as `published.csv` rows
//! that the run's audit checks; [`revman::export`] writes a review as `.rm5` text.
//!
//! Each reader was written against files RevMan wrote (`../shared/revman/`, the R package meta's
//! examples); what those files do not show (data types other than dichotomous and continuous) is
//! refused with the reason rather than guessed.

pub mod revman;
pub mod screening;
mod xml;
