//! Figures a tool stored at full precision (RevMan's own results, imported with the review):
//! `stat`, one figure of an analysis (`outcome[/subgroup][@fixed|@random]:name`, name one of
//! `estimate ci_lb ci_ub Q Q_df Q_p I2 tau2 z p`), and `study_stat`, one figure of a study in an
//! analysis (`outcome[/subgroup]|study_id:name`, name one of `estimate ci_lb ci_ub se weight`, the
//! weight in percent as RevMan prints it).
//! A figure agrees when it is within 1e-6 of the recomputed one relatively, or within half a unit
//! of its last printed digit, whichever is wider.

use super::Published;
use super::{AuditRow, Facts, MATCH, MISMATCH, NA};
use metapipe_tables::Table;

/// Half a unit in the last place of a printed number ("0.8969" → 0.00005, "1.5E-4" → 0.05E-4).
fn half_unit(printed: &str) -> f64 {
    let t = printed.trim();
    let (mant, exp) = match t.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (t, 0),
    };
    let dp = mant.split_once('.').map_or(0, |(_, d)| d.len() as i32);
    0.5 * 10f64.powi(exp - dp)
}

/// Does a printed figure agree with the recomputed one?
pub(super) fn agrees(printed: &str, rec: f64) -> bool {
    let Ok(v) = printed.trim().parse::<f64>() else {
        return false;
    };
    (v - rec).abs() <= (1e-6 * v.abs()).max(half_unit(printed)) + 1e-12
}

fn row(p: &Published, rec: Option<f64>, status: &'static str, why: String) -> AuditRow {
    AuditRow {
        item: p.item.clone(),
        published: p.value.clone(),
        recomputed: rec.map(|x| format!("{x}")),
        status,
        why,
    }
}

fn judged(p: &Published, rec: f64, why: String) -> AuditRow {
    let st = if agrees(&p.value, rec) {
        MATCH
    } else {
        MISMATCH
    };
    row(p, Some(rec), st, why)
}

/// Figure `name` (one of `estimate ci_lb ci_ub Q Q_df Q_p I2 tau2 z p`) of results row `k`:
/// `None` for an unknown name, `Some(None)` when the row has none. `z` is |z| from the two-sided
/// p of the pooled estimate (the results carry p, not z).
pub fn result_figure(r: &Table, k: usize, name: &str) -> Option<Option<f64>> {
    let f = |c: &str| r.float(c).get(k);
    Some(match name {
        c @ ("estimate" | "ci_lb" | "ci_ub" | "Q" | "Q_p" | "I2" | "tau2" | "p") => f(c),
        "Q_df" => r.int("Q_df").get(k).map(|d| d as f64),
        "z" => f("p").map(|p| metapipe_meta::dist::qnorm_two_sided(1.0 - p)),
        _ => return None,
    })
}

/// Figure `name` (one of `estimate ci_lb ci_ub se weight`) of per-study effects row `k`: the SE
/// of the effect on the analysis scale (of the log for ratios), the weight in percent as RevMan
/// prints it. `None` for an unknown name.
pub fn study_figure(e: &Table, k: usize, name: &str) -> Option<Option<f64>> {
    let f = |c: &str| e.float(c).get(k);
    Some(match name {
        c @ ("estimate" | "ci_lb" | "ci_ub") => f(c),
        "weight" => f("weight").map(|w| 100.0 * w),
        "se" => f("vi").map(f64::sqrt),
        _ => return None,
    })
}

/// `outcome[/subgroup][@model]:name` against the results row.
pub(super) fn stat(p: &Published, facts: &Facts) -> AuditRow {
    let Some((target, name)) = p.of.rsplit_once(':') else {
        return row(
            p,
            None,
            NA,
            format!("{:?} is not outcome[/subgroup]:figure", p.of),
        );
    };
    let Some(k) = facts.results_row(target) else {
        return row(p, None, NA, format!("no analysis {target} in the results"));
    };
    let r = facts.results;
    let Some(rec) = result_figure(r, k, name.trim()) else {
        return row(p, None, NA, format!("unknown figure {:?}", name.trim()));
    };
    let why = format!(
        "{} of {target} in the results ({})",
        name.trim(),
        r.str("model").get(k).unwrap_or("")
    );
    match rec {
        Some(v) => judged(p, v, why),
        None => row(
            p,
            None,
            NA,
            format!("{} not computed for {target}", name.trim()),
        ),
    }
}

/// `outcome[/subgroup]|study:name` against the per-study effects.
pub(super) fn study_stat(p: &Published, facts: &Facts) -> AuditRow {
    let parsed =
        p.of.rsplit_once(':')
            .and_then(|(t, n)| t.split_once('|').map(|(a, s)| (a, s, n)));
    let Some((target, study, name)) = parsed else {
        return row(
            p,
            None,
            NA,
            format!("{:?} is not outcome[/subgroup]|study:figure", p.of),
        );
    };
    let (outcome, subgroup) = match target.split_once('/') {
        Some((o, s)) => (o.trim(), Some(s.trim())),
        None => (target.trim(), None),
    };
    let e = facts.effects;
    let at = |sub: Option<&str>| {
        (0..e.num_rows()).find(|&k| {
            e.str("outcome").get(k) == Some(outcome)
                && e.str("study_id").get(k) == Some(study.trim())
                && e.str("subgroup").get(k) == sub
        })
    };
    let Some(k) = at(subgroup).or_else(|| at(None)) else {
        return row(
            p,
            None,
            NA,
            format!("study {study} not in the analysis {target}"),
        );
    };
    let Some(rec) = study_figure(e, k, name.trim()) else {
        return row(p, None, NA, format!("unknown figure {:?}", name.trim()));
    };
    let why = format!("{} of {study} in {target}", name.trim());
    match rec {
        Some(v) => judged(p, v, why),
        None => row(
            p,
            None,
            NA,
            format!("{} not computed for {study} in {target}", name.trim()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_is_relative_or_to_the_printed_digits() {
        // full precision: 1e-6 relative
        assert!(agrees("0.1269422521561745", 0.1269421779062948));
        assert!(!agrees("0.1269422521561745", 0.12694));
        // 6 decimals printed: half a unit of the last
        assert!(agrees("0.00101", 0.0010103343));
        assert!(!agrees("0.00101", 0.001016));
        assert!(agrees("1.5E-4", 1.54e-4));
        assert!(!agrees("1.5E-4", 1.56e-4));
        assert!(!agrees("n/a", 1.0));
    }
}
