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
    // RoB judgments join to the studies: the overall judgment is a column (`rob_overall`)
    // subgroups can split on. RoB 2 judges a result: with judgments per result, each outcome is
    // planned on a studies table with its own results' judgments.
    let mut analyses = vec![];
    let mut sensitivity: Option<Table> = None;
    let groups: Vec<(&[plan::OutcomePlan], Option<&str>)> = match &rob {
        Some(r) if plan::rob_per_result(r) => plans
            .iter()
            .map(|p| (std::slice::from_ref(p), Some(p.id.as_str())))
            .collect(),
        _ => vec![(plans, None)],
    };
    for (ps, outcome) in groups {
        let studies_t = match &rob {
            None => studies_t.clone(),
            Some(rob) => with_rob_overall(&studies_t, &plan::rob_overall(rob, outcome))?,
        };
        let an = plan::run(ps, &studies_t, &od)?;
        if ps.iter().any(|p| p.sensitivity.any()) {
            let t = plan::sensitivity_table(ps, &an, &studies_t, rob.as_ref())?;
            sensitivity = Some(match sensitivity {
                None => t,
                Some(mut all) => {
                    all.df.vstack_mut(&t.df)?;
                    all
                }
            });
        }
        analyses.extend(an);
    }
    st.put(&plan::results_table(&analyses)?)?;
    st.put(&plan::effects_table(&analyses)?)?;
    if let Some(t) = sensitivity {
        st.put(&t)?;
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

/// The studies table with the column `rob_overall` from `overall` (study → judgment), in the
/// studies' order.
fn with_rob_overall(
    studies_t: &Table,
    overall: &std::collections::BTreeMap<String, String>,
) -> Result<Table> {
    let (ids, js): (Vec<&str>, Vec<&str>) = overall
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .unzip();
    let overall = DataFrame::new(
        ids.len(),
        vec![
            Column::new("study_id".into(), ids),
            Column::new("rob_overall".into(), js),
        ],
    )?;
    let df = frame::join(
        &frame::numbered(&studies_t.df, "row")?,
        &overall,
        &["study_id"],
        JoinType::Left,
        false,
    )?
    .sort(["row"], SortMultipleOptions::default())?
    .drop("row")?;
    Table::new(&schema::STUDIES, df)
}
