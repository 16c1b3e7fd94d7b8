//! One module per stage of a run; `crate::run::stages` calls them in order, each through the
//! incremental cache.

pub(crate) mod changes;
pub(crate) mod extract;
pub(crate) mod ingest;
pub(crate) mod pool;
pub(crate) mod report;
