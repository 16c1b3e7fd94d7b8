//! # metapipe-cli
//!
//! What the `metapipe` binary does, as a library: the review config and its checks, the staged
//! run with incremental reruns, `init`, and `pool` (from a file, or from an in-memory table for
//! the Python package, `crates/py`). `src/main.rs` is the command-line shell over it.

pub mod config;
pub mod incremental;
pub mod init;
pub mod pool_cmd;
pub mod protocol;
pub mod run;
