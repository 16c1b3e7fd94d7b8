//! The extraction stage (sheets to the studies, arms and outcome-data tables) and the RoB 2
//! stage (signalling answers to judgments).

use crate::config::Config;
use crate::incremental::Stage;
use crate::inputs::Inputs;
use metapipe_extract as extract;
use metapipe_tables::{Error, Result};
use tracing::info;

pub(crate) fn extract_stage(
    cfg: &Config,
    kinds: &[(String, extract::OutcomeKind)],
    inputs: &Inputs,
    included: Option<&std::collections::BTreeSet<String>>,
    st: &Stage,
) -> Result<Vec<String>> {
    let _g = tracing::info_span!("extract").entered();
    let covariates = cfg.covariates();
    let spec = extract::Spec {
        covariates: &covariates,
        comparison_factor: cfg.extraction.comparison_factor.as_deref(),
        outcomes: kinds,
        conversions: extract::Methods {
            mean: cfg
                .extraction
                .mean_from_median
                .as_deref()
                .and_then(metapipe_meta::conversions::MeanMethod::parse)
                .unwrap_or_default(),
            sd: cfg
                .extraction
                .sd_from_median
                .as_deref()
                .and_then(metapipe_meta::conversions::SdMethod::parse)
                .unwrap_or_default(),
        },
        icc: cfg.extraction.icc.zip(cfg.extraction.icc_source.clone()),
    };
    let ex = extract::extract(
        &inputs.studies,
        inputs.arms.as_ref(),
        &inputs.outcomes,
        &spec,
    )?;
    let ids: Vec<String> = ex
        .studies
        .str("study_id")
        .iter()
        .flatten()
        .map(String::from)
        .collect();
    if let Some(included) = included {
        // every extracted study was included; an included study not yet extracted awaits
        // extraction (a living review's new trial): a warning, not an error
        let listed: std::collections::BTreeSet<String> = ids.iter().cloned().collect();
        if let Some(x) = listed.difference(included).next() {
            return Err(Error::data(format!("extracted study {x:?} is not included in the full-text log (included: {included:?})")).file(&cfg.extraction.studies).field("study_id"));
        }
        let waiting: Vec<&String> = included.difference(&listed).collect();
        if !waiting.is_empty() {
            tracing::warn!("included studies awaiting extraction: {waiting:?}");
        }
    }
    for t in [&ex.studies, &ex.arms, &ex.outcome_data] {
        st.put(t)?;
    }
    info!(
        studies = ids.len(),
        arms = ex.arms.num_rows(),
        outcome_rows = ex.outcome_data.num_rows(),
        "extract done"
    );
    Ok(ids)
}

/// RoB 2 judgments of the included studies `ids`; answers may name one of `outcomes`.
pub(crate) fn rob_stage(
    inputs: &Inputs,
    ids: &[String],
    outcomes: &[String],
    st: &Stage,
) -> Result<()> {
    let Some(answers) = &inputs.rob else {
        return Ok(());
    };
    let _g = tracing::info_span!("rob").entered();
    let rob = metapipe_rob::rob_stage(answers, ids, outcomes)?;
    st.put(&rob)?;
    info!(judgments = rob.num_rows(), "rob done");
    Ok(())
}
