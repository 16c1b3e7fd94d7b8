//! # metapipe-report
//!
//! The audit: every published figure beside the one recomputed from record- or study-level
//! input, with status match / mismatch / not computable and why. Published numbers are only ever
//! compared against here; they never become outputs (`audit`, with the `published.csv` reader).
//! The consistency search, what moved since the previous run (`changes`), the figures (`svg`)
//! and the HTML report (`html`).

pub mod audit;
mod cells;
pub mod changes;
pub mod checklist;
pub mod consistency;
pub mod html;
pub mod raster;
pub mod sof;
pub mod svg;
pub mod word;
