//! # metapipe-run
//!
//! A review's run, as a library: the config (`config`) and its typed protocol (`protocol`), the
//! staged run with its staging directory and atomic swap (`run`), one module per stage
//! (`stages`: ingest, extract and RoB, pool, changes, report), incremental reruns
//! (`incremental`), `metapipe init` (`init`) and `metapipe import` (`import`, the IO shell of
//! `metapipe-interop`). The `metapipe` binary and the Python package
//! call [`run::run`].

pub mod config;
pub mod export;
pub mod import;
pub mod incremental;
pub mod init;
mod inputs;
pub mod protocol;
pub mod run;
pub mod screen_sim;
mod stages;
