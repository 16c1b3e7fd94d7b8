//! The extraction stage (sheets to the studies, arms and outcome-data tables) and the RoB 2
//! stage (signalling answers to judgments).

use crate::config::Config;
use crate::incremental::Stage;
use crate::inputs::Inputs;
use metapipe_extract as extract;
use metapipe_extract::dual::SheetKind;
use metapipe_tables::io::Input;
use metapipe_tables::Table;
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
        log_outcomes: &log_outcomes(cfg),
    };
    dual_extraction(cfg, inputs, st)?;
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

/// The generic outcomes pooled on the log scale (an estimate's SE from its p-value is the log's).
pub(crate) fn log_outcomes(cfg: &Config) -> Vec<String> {
    cfg.outcomes
        .iter()
        .filter(|o| {
            cfg.spec(o)
                .is_ok_and(|s| s.measure == metapipe_meta::Measure::GEN && s.log_scale)
        })
        .map(|o| o.id.clone())
        .collect()
}

/// Dual extraction: the two extractors' sheets compared (`extraction_conflicts`,
/// `extraction_agreement`), the studies sheet and the outcome sheet each when two are named;
/// with conflicts in a sheet, the analyses run on a consensus — `studies` or `outcomes` must then
/// be neither extractor's own sheet, else the run stops with the conflicts.
fn dual_extraction(cfg: &Config, inputs: &Inputs, st: &Stage) -> Result<()> {
    if inputs.extractors.is_empty() {
        return Ok(());
    }
    let pairs: Vec<_> = inputs
        .extractors
        .iter()
        .map(|(kind, a, b)| (*kind, a, b))
        .collect();
    let (conflicts, agreement) = extract::dual::compare(&pairs)?;
    let n = conflicts.num_rows();
    let sheet = conflicts.str("sheet");
    for (kind, a, b) in &inputs.extractors {
        let (consensus, key) = match kind {
            SheetKind::Studies => (&cfg.extraction.studies, "extraction.studies"),
            SheetKind::Outcomes => (&cfg.extraction.outcomes, "extraction.outcomes"),
        };
        let mine: Vec<usize> = (0..n)
            .filter(|&r| sheet.get(r) == Some(kind.name()))
            .collect();
        if !mine.is_empty() && (consensus == &a.path || consensus == &b.path) {
            return Err(Error::data(format!(
                "the two extractors disagree in {} cells and `{}` is one of their sheets, not a consensus: resolve them in a third sheet and name it `{}`:\n  {}",
                mine.len(),
                kind.name(),
                kind.name(),
                conflict_lines(&conflicts, &mine, a, b).join("\n  ")
            ))
            .field(key));
        }
    }
    for t in [&conflicts, &agreement] {
        st.put(t)?;
        st.csv(t, &format!("{}.csv", t.schema.name))?;
    }
    info!(conflicts = n, "dual extraction compared");
    Ok(())
}

/// The first 20 of a sheet's conflicts (`rows`), as `A:line vs B:line column: "a" vs "b"`.
fn conflict_lines(conflicts: &Table, rows: &[usize], a: &Input, b: &Input) -> Vec<String> {
    let (col, va, vb, la, lb) = (
        conflicts.str("column"),
        conflicts.str("value_a"),
        conflicts.str("value_b"),
        conflicts.int("line_a"),
        conflicts.int("line_b"),
    );
    let at = |l: Option<i64>| l.map_or("-".to_string(), |l| l.to_string());
    rows.iter()
        .take(20)
        .map(|&r| {
            format!(
                "{}:{} vs {}:{} {}: {:?} vs {:?}",
                a.path.display(),
                at(la.get(r)),
                b.path.display(),
                at(lb.get(r)),
                col.get(r).unwrap_or(""),
                va.get(r).unwrap_or(""),
                vb.get(r).unwrap_or("")
            )
        })
        .collect()
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
