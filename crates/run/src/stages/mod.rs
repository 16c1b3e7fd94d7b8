//! One module per stage of a run; `crate::run::stages` calls them in order, each through the
//! incremental cache.

pub(crate) mod changes;
pub(crate) mod extract;
pub(crate) mod ingest;
pub(crate) mod pool;
pub(crate) mod rank;
pub(crate) mod report;

/// `<dir>/round-NNN.<ext>`: a per-round file (zero-padded, so that names sort in round order).
pub(crate) fn round_file(dir: &str, round: usize, ext: &str) -> String {
    format!("{dir}/round-{round:03}.{ext}")
}
