//! The config's analysis keys turned into the typed plan the stages run: per outcome its
//! `plan::Spec` (measure, models, convention, test, level), its study set and its subgroups. The
//! analysis keys and their checks are `metapipe_plan::options`' (one definition, which `metapipe
//! pool` and the Python package call too).

use metapipe_extract::OutcomeKind;
use metapipe_meta::Measure;
pub(crate) use metapipe_plan::analysis_keys;
pub use metapipe_plan::options::{outcome_spec, AnalysisCfg};

/// What an outcome's rows hold, by its measure.
pub fn outcome_kind(m: Measure) -> OutcomeKind {
    if m.is_binary() {
        OutcomeKind::Binary
    } else if m.is_continuous() {
        OutcomeKind::Continuous
    } else {
        OutcomeKind::Generic
    }
}
