//! The config's outcomes turned into the typed plans the stages run ([`outcome_plan`]): per outcome its
//! `plan::Spec` (measure, models, convention, test, level), its study set and its subgroups. The
//! analysis keys and their checks are `metapipe_plan::options`' (one definition, which `metapipe
//! pool` and the Python package call too).

use crate::config::{Config, OutcomeCfg};
use metapipe_extract as extract;
use metapipe_plan as plan;
pub use metapipe_plan::options::{outcome_spec, AnalysisCfg};
use metapipe_tables::Result;

/// What an outcome's rows hold, by its measure.
pub use metapipe_plan::outcome_kind;

/// A further subgroup as the config writes it: `column:value` (a studies column equal to a
/// value), or a yes/no covariate's name (the studies where it is yes).
fn subgroup(cfg: &Config, s: &str) -> std::result::Result<plan::Subgroup, String> {
    if let Some((c, v)) = s.split_once(':') {
        return Ok(plan::Subgroup {
            column: c.to_string(),
            value: v.to_string(),
            name: v.to_string(),
        });
    }
    match cfg.covariate_kind(s) {
        Some(extract::CovKind::YesNo) => Ok(plan::Subgroup {
            column: s.to_string(),
            value: "true".into(),
            name: s.to_string(),
        }),
        _ => Err(format!(
            "{s:?}: expected column:value or the name of a yes/no covariate"
        )),
    }
}

/// The typed plan of one outcome.
pub(crate) fn outcome_plan(cfg: &Config, o: &OutcomeCfg) -> Result<plan::OutcomePlan> {
    let err = |msg: String| {
        metapipe_tables::Error::data(format!("outcome {}: {msg}", o.id)).field("outcomes.subgroups")
    };
    let spec = cfg.spec(o)?;
    let studies = match &o.studies {
        Some(crate::config::StudySet::List(v)) => metapipe_plan::StudySet::Listed(v.clone()),
        Some(crate::config::StudySet::Word(w)) if w == "unstated" => {
            metapipe_plan::StudySet::Unstated
        }
        _ => metapipe_plan::StudySet::All,
    };
    Ok(plan::OutcomePlan {
        id: o.id.clone(),
        studies,
        subgroup_by: o
            .subgroup_by
            .clone()
            .map(|b| (b, o.subgroup_levels.clone())),
        common_tau2: o.subgroup_tau2.as_deref() == Some("common"),
        subgroups: o
            .subgroups
            .iter()
            .map(|s| subgroup(cfg, s).map_err(err))
            .collect::<std::result::Result<_, _>>()?,
        pool_available: o.pool_available,
        spec,
        sensitivity: plan::Sensitivity {
            leave_one_out: o.leave_one_out,
            cumulative_by: o.cumulative_by.clone(),
            exclude_high_rob: o.exclude_high_rob,
            small_study: o.small_study,
            small_study_test: o
                .small_study_test
                .as_deref()
                .and_then(plan::SmallStudyTest::parse)
                .unwrap_or_default(),
            metaregression: o.metaregression.clone(),
        },
    })
}
