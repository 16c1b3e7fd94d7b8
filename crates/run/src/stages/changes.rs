//! The changes stage: this run's results against the previous run's (`changes.csv`, kept with
//! `previous_results.parquet`; the comparison itself is `metapipe_report::changes`).

use crate::config::Config;
use crate::incremental::Stage;
use metapipe_tables::io::read_parquet;
use metapipe_tables::schema;
use metapipe_tables::{Error, Result};
use tracing::info;

/// What moved since the previous results (`changes.csv`, `previous_results.parquet`). A rerun
/// whose results are byte-identical to the previous ones keeps the previous comparison, so a
/// rerun with no change writes the same files.
pub(crate) fn changes_stage(cfg: &Config, st: &Stage) -> Result<()> {
    let _g = tracing::info_span!("changes").entered();
    let (prev_path, new_path) = (
        st.previous.join("results.parquet"),
        st.dir.join("results.parquet"),
    );
    let Ok(prev_bytes) = std::fs::read(&prev_path) else {
        return Ok(());
    };
    let new_bytes = std::fs::read(&new_path).map_err(|e| Error::io(&new_path, e))?;
    if prev_bytes == new_bytes {
        for f in ["changes.csv", "changes.parquet", "previous_results.parquet"] {
            if let Ok(b) = std::fs::read(st.previous.join(f)) {
                st.write(f, &b)?;
            }
        }
        return Ok(());
    }
    // results of an older layout cannot be compared: say so and start afresh
    let Ok(prev) = read_parquet(&prev_path, &schema::RESULTS) else {
        tracing::warn!("the previous results.parquet has another layout; no changes.csv this time");
        return Ok(());
    };
    st.write("previous_results.parquet", &prev_bytes)?;
    let new = st.get(&schema::RESULTS)?;
    let null_of = |outcome: &str| {
        cfg.outcomes
            .iter()
            .find(|o| o.id == outcome)
            .and_then(|o| cfg.spec(o).ok())
            .map(|s| if s.ratio() { 1.0 } else { 0.0 })
            .unwrap_or(0.0)
    };
    let t = metapipe_report::changes::changes_table(&prev, &new, &null_of)?;
    info!(
        rows = t.num_rows(),
        moved = t
            .str("change")
            .iter()
            .filter(|c| *c != Some("unchanged"))
            .count(),
        "changes since the previous results"
    );
    st.put(&t)?;
    st.csv(&t, "changes.csv")
}
