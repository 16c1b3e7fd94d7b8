//! # metapipe-report
//!
//! The audit: every published figure beside the one recomputed from record- or study-level
//! input, with status match / mismatch / not computable and why. Published numbers are only ever
//! compared against here; they never become outputs.

pub mod audit;
pub mod consistency;
pub mod html;
pub mod svg;
