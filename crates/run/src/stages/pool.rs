//! The pooling stage: the typed plans over the studies and outcome data (with the overall RoB
//! judgment joined), to the results, per-study effects and sensitivity tables.

use crate::config::Config;
use crate::incremental::Stage;
use metapipe_plan as plan;
use metapipe_tables::schema;
use metapipe_tables::{frame, Error, Result, Table};
use polars::prelude::*;
use tracing::info;

/// The analysis plan on the extract stage's tables (read back from Parquet).
pub(crate) fn pool_stage(
    cfg: &Config,
    plans: &[plan::OutcomePlan],
    ids: &[String],
    st: &Stage,
) -> Result<()> {
    let _g = tracing::info_span!("pool").entered();
    let (studies_t, od) = (st.get(&schema::STUDIES)?, st.get(&schema::OUTCOME_DATA)?);
    let rob = st.maybe(&schema::ROB)?;
    // RoB judgments join to the studies: the overall judgment is a column subgroups can split on
    let studies_t = match &rob {
        None => studies_t,
        Some(rob) => {
            let df = (|| {
                let mut overall = frame::rows_equal(&rob.df, "domain", "overall")?
                    .select(["study_id", "judgment"])?;
                overall.rename("judgment", "rob_overall".into())?;
                frame::join(
                    &frame::numbered(&studies_t.df, "row")?,
                    &overall,
                    &["study_id"],
                    JoinType::Left,
                    false,
                )?
                .sort(["row"], SortMultipleOptions::default())?
                .drop("row")
            })()?;
            Table::new(&schema::STUDIES, df)?
        }
    };
    for o in &cfg.outcomes {
        for sid in o.study_list().into_iter().flatten() {
            if !ids.contains(sid) {
                return Err(Error::data(format!(
                    "outcome {} names study {sid:?}, which is not an included study",
                    o.id
                ))
                .field("outcomes.studies"));
            }
        }
    }
    let analyses = plan::run(plans, &studies_t, &od)?;
    st.put(&plan::results_table(&analyses)?)?;
    st.put(&plan::effects_table(&analyses)?)?;
    if plans.iter().any(|p| p.sensitivity.any()) {
        st.put(&plan::sensitivity_table(
            plans,
            &analyses,
            &studies_t,
            rob.as_ref(),
        )?)?;
    }
    let pooled_n = analyses.iter().filter(|a| !a.models.is_empty()).count();
    info!(
        analyses = analyses.len(),
        pooled = pooled_n,
        not_pooled = analyses.len() - pooled_n,
        "pool done"
    );
    Ok(())
}
