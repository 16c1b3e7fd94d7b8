//! Atomic, reproducible table IO, all through polars. Every output is written to a temporary
//! file in the target directory, synced, and renamed over the target: a reader sees the old file
//! or the new one, never half of one. Nothing time- or host-dependent is written, so reruns are
//! byte-identical. Reading takes Parquet from any common writer (pyarrow/pandas, polars, DuckDB:
//! every codec, dictionary/categorical, string views, decimals, dates, bools), projecting only
//! the columns asked for.
//!
//! By concern: `atomic` (temporary file, sync, rename), `stage` (stage tables and `Input`),
//! `user` (the user tables `pool` reads, group keys), `sink` (batch writers, JSON lines).

mod atomic;
mod sink;
mod stage;
mod user;

pub use atomic::*;
pub use sink::*;
pub use stage::*;
pub use user::*;
