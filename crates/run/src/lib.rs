//! # metapipe-run
//!
//! A review's run, as a library: the config (`config`) and its typed protocol (`protocol`), the
//! staged run with its staging directory and atomic swap (`run`), one module per stage
//! (`stages`: ingest, extract and RoB, pool, changes, report), incremental reruns
//! (`incremental`) and `metapipe init` (`init`). The `metapipe` binary and the Python package
//! call [`run::run`].

pub mod config;
pub mod incremental;
pub mod init;
mod inputs;
pub mod protocol;
pub mod run;
mod stages;
