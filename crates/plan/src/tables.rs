//! The plan's output tables: `results` (one row per analysis and model) and
//! `per_study_effects`.

use crate::{Analysis, Model};
use metapipe_tables::schema::{EFFECTS, RESULTS};
use metapipe_tables::{f, i, s, so, Builder, Cell, Result, Table};

/// Sums over the studies an analysis put to its models: events and totals per arm (events only
/// for binary outcomes and event counts; one group's in the `_treat` columns; a sum only when
/// every study gives the number).
fn totals(a: &Analysis) -> [Option<i64>; 4] {
    if !a.attempted {
        return [None; 4];
    }
    let sum = |g: &dyn Fn(&crate::StudyData) -> Option<i64>| {
        a.per_study
            .iter()
            .map(|(d, _, _)| g(d))
            .sum::<Option<i64>>()
    };
    use metapipe_meta::effect::Family;
    match a.spec.measure.family() {
        Family::Binary => [
            sum(&|d| d.events_treat),
            sum(&|d| d.n_treat),
            sum(&|d| d.events_ctrl),
            sum(&|d| d.n_ctrl),
        ],
        Family::Continuous | Family::Generic => {
            [None, sum(&|d| d.n_treat), None, sum(&|d| d.n_ctrl)]
        }
        // one group: its events and participants in the `_treat` columns
        Family::Proportion => [sum(&|d| d.events), sum(&|d| d.n), None, None],
        Family::Rate => [sum(&|d| d.events), None, None, None],
        Family::RatePair => [
            sum(&|d| d.events_treat),
            None,
            sum(&|d| d.events_ctrl),
            None,
        ],
        Family::Correlation => [None, sum(&|d| d.n), None, None],
        Family::OMinusE => [None; 4],
    }
}

/// The results table: estimates and intervals on the natural scale (ratios exponentiated).
pub fn results_table(an: &[Analysis]) -> Result<Table> {
    let mut t = Builder::new(&RESULTS);
    for a in an {
        let tot = totals(a);
        let back = a.back();
        let models: Vec<Option<&Model>> = if a.models.is_empty() {
            vec![None]
        } else {
            a.models.iter().map(Some).collect()
        };
        for m in models {
            let fit = m.map(|m| &m.fit);
            let between = a
                .between
                .as_ref()
                .and_then(|b| m.and_then(|m| b.tests.iter().find(|t| t.0 == m.kind)));
            let by = a
                .subgroup_by
                .clone()
                .or_else(|| a.between.as_ref().map(|b| b.by.clone()));
            let mut row: Vec<Cell> = vec![
                s(&a.outcome),
                so(a.subgroup.clone()),
                i(fit.map(|f| f.k as i64).unwrap_or(a.studies.len() as i64)),
            ];
            row.extend(tot.iter().map(|x| i(*x)));
            row.extend([
                so(m.map(|m| m.label.clone())),
                f(fit.map(|f| back(f.estimate))),
                f(fit.map(|f| back(f.ci_lb))),
                f(fit.map(|f| back(f.ci_ub))),
                f(fit.map(|f| f.p)),
                f(fit.map(|f| f.q)),
                i(fit.map(|f| f.q_df as i64)),
                f(fit.map(|f| f.q_p)),
                f(fit.map(|f| f.i2)),
                f(fit.map(|f| f.tau2)),
                so(a.note.clone()),
                s(a.studies.join(";")),
                s(a.spec.measure.name()),
                s("natural"),
                so(m.map(|m| m.kind)),
                f(fit.and_then(|f| f.pi_lb).map(&back)),
                f(fit.and_then(|f| f.pi_ub).map(&back)),
                so(by),
                f(between.map(|t| t.1)),
                i(between.map(|t| t.2 as i64)),
                f(between.map(|t| t.3)),
                f(fit.and_then(|f| f.tau2_ci).map(|c| c.0)),
                f(fit.and_then(|f| f.tau2_ci).map(|c| c.1)),
                f(fit.and_then(|f| f.i2_ci).map(|c| c.0)),
                f(fit.and_then(|f| f.i2_ci).map(|c| c.1)),
                so(fit.map(|f| if f.i2_from_tau2 { "tau2" } else { "Q" })),
            ]);
            t.row(row);
        }
    }
    t.finish()
}

/// The per-study effects each analysis used (`yi`, `vi` on the analysis scale; `estimate` and
/// its CI on the natural scale; `weight` in the last model reported).
pub fn effects_table(an: &[Analysis]) -> Result<Table> {
    let mut t = Builder::new(&EFFECTS);
    for a in an {
        let z = metapipe_meta::dist::qnorm_two_sided(a.spec.opts.level);
        for (d, eff, w) in &a.per_study {
            let n = d.size().unwrap_or(f64::NAN);
            let back = |x: f64| a.spec.back(x, n);
            t.row(vec![
                s(&a.outcome),
                so(a.subgroup.clone()),
                s(&d.study_id),
                i(d.events_treat),
                i(d.n_treat),
                i(d.events_ctrl),
                i(d.n_ctrl),
                f(eff.map(|e| e.0)),
                f(eff.map(|e| e.1)),
                f(eff.map(|e| back(e.0))),
                f(eff.map(|e| back(e.0 - z * e.1.sqrt()))),
                f(eff.map(|e| back(e.0 + z * e.1.sqrt()))),
                f(*w),
            ]);
        }
    }
    t.finish()
}
