//! RoB 2 judgments as the analyses use them: RoB 2 assesses a result, so a study's overall
//! judgment for an outcome is its result's own where the answers name the outcome, else the
//! study's (answers without an outcome apply to all its results).

use metapipe_tables::Table;
use std::collections::BTreeMap;

/// Whether any judgment in `rob` is of one outcome's result.
pub fn per_result(rob: &Table) -> bool {
    rob.str("outcome").iter().any(|o| o.is_some())
}

/// The overall judgment of each judged study for `outcome` (for `None`, the studies' own).
pub fn rob_overall(rob: &Table, outcome: Option<&str>) -> BTreeMap<String, String> {
    let (ids, outs, doms, js) = (
        rob.str("study_id"),
        rob.str("outcome"),
        rob.str("domain"),
        rob.str("judgment"),
    );
    let mut study = BTreeMap::new();
    let mut result = BTreeMap::new();
    for r in 0..rob.num_rows() {
        if doms.get(r) != Some("overall") {
            continue;
        }
        let (Some(id), Some(j)) = (ids.get(r), js.get(r)) else {
            continue;
        };
        match outs.get(r) {
            None => {
                study.insert(id.to_string(), j.to_string());
            }
            Some(o) if Some(o) == outcome => {
                result.insert(id.to_string(), j.to_string());
            }
            Some(_) => {}
        }
    }
    study.extend(result);
    study
}
