//! Published figures vs recomputed ones.

use metapipe_tables::schema::AUDIT;
use metapipe_tables::{s, so, Builder, Result, Table};

/// One published figure (a row of `published.csv`).
#[derive(Debug, Clone)]
pub struct Published {
    pub source: String,
    pub item: String,
    pub value: String,
    pub location: String,
}

/// A recomputed pooled result, OR scale.
#[derive(Debug, Clone)]
pub struct PooledView {
    pub outcome: String,
    pub subgroup: Option<String>,
    pub estimate: Option<(f64, f64, f64, f64)>,
    pub note: Option<String>,
    pub studies: Vec<String>,
}

/// What the audit can recompute from.
pub struct Facts<'a> {
    /// PRISMA stage → count
    pub prisma: &'a [(String, i64)],
    /// (study, drug, n_treat, n_ctrl)
    pub studies: &'a [(String, String, i64, i64)],
    /// (study, factor) → (treat, ctrl) margins of factorial trials
    pub factor_margins: &'a [(String, String, i64, i64)],
    /// (study, outcome, events_ctrl, n_ctrl) of sourced rows
    pub control_events: &'a [(String, String, i64, i64)],
    pub pooled: &'a [PooledView],
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub item: String,
    pub published: String,
    pub recomputed: Option<String>,
    pub status: &'static str,
    pub why: String,
}

const MATCH: &str = "match";
const MISMATCH: &str = "mismatch";
const NA: &str = "not computable";

/// Parse "0.83 (0.57-1.22) I2 18%".
pub fn parse_or(v: &str) -> Option<(f64, f64, f64, f64)> {
    let v = v.replace('–', "-");
    let (or, rest) = v.split_once('(')?;
    let (ci, rest) = rest.split_once(')')?;
    let (lb, ub) = ci.split_once('-')?;
    let i2 = rest.trim().trim_start_matches("I2").trim().trim_end_matches('%').trim();
    Some((or.trim().parse().ok()?, lb.trim().parse().ok()?, ub.trim().parse().ok()?, i2.parse().ok()?))
}

/// Whether a printed OR and CI (rounded to `dp` decimals) can be symmetric on the log scale:
/// some OR, lb, ub within rounding with OR² = lb·ub.
pub fn log_symmetric_possible(or: f64, lb: f64, ub: f64, dp: i32) -> bool {
    let h = 0.5 * 10f64.powi(-dp);
    let (o_lo, o_hi) = ((or - h).powi(2), (or + h).powi(2));
    let (p_lo, p_hi) = ((lb - h) * (ub - h), (lb + h) * (ub + h));
    o_lo <= p_hi && p_lo <= o_hi
}

/// Whole numbers of events x with round(100·x/n, dp) = pct.
pub fn counts_for_percent(pct: f64, n: i64, dp: i32) -> Vec<i64> {
    let h = 0.5 * 10f64.powi(-dp);
    (0..=n)
        .filter(|&x| {
            let p = 100.0 * x as f64 / n as f64;
            p >= pct - h - 1e-12 && p < pct + h - 1e-12
        })
        .collect()
}

fn num(v: &str) -> Option<f64> {
    v.trim().parse().ok()
}

/// Audit every published figure.
pub fn audit(published: &[Published], facts: &Facts) -> Vec<AuditRow> {
    let mut out = vec![];
    let sum_t: i64 = facts.studies.iter().map(|s| s.2).sum();
    let sum_c: i64 = facts.studies.iter().map(|s| s.3).sum();
    for p in published {
        let item = p.item.as_str();
        let row = |rec: Option<String>, status: &'static str, why: String| AuditRow { item: p.item.clone(), published: p.value.clone(), recomputed: rec, status, why };
        let cmp_int = |rec: i64, why: &str| {
            let ok = num(&p.value).map(|v| v == rec as f64).unwrap_or(false);
            row(Some(rec.to_string()), if ok { MATCH } else { MISMATCH }, why.to_string())
        };
        let r = if let Some((_, n)) = facts.prisma.iter().find(|(st, _)| st == item) {
            cmp_int(*n, "PRISMA count from the parsed exports, dedup clusters and screening logs (the exports are partly synthetic stand-ins: see data/il1-covid19/README.md)")
        } else {
            match item {
                "patients_total" => cmp_int(sum_t + sum_c, "sum of both arms over the studies table"),
                "patients_il1_blockade" => cmp_int(sum_t, "sum of treatment arms over the studies table"),
                "patients_control" => {
                    let mut r = cmp_int(sum_c, "sum of control arms over the studies table");
                    if r.status == MISMATCH {
                        r.why = format!("Table 1 control arms sum to {sum_c}, not {}; {sum_t} + {sum_c} = {} agrees with the stated total of patients", p.value, sum_t + sum_c);
                    }
                    r
                }
                "patients_anakinra" | "patients_canakinumab" => {
                    let drug = item.trim_start_matches("patients_");
                    cmp_int(facts.studies.iter().filter(|s| s.1 == drug).map(|s| s.2).sum(), &format!("sum of {drug} arms over the studies table"))
                }
                "mortality_rate_il1_percent" | "mortality_rate_control_percent" => {
                    let n = if item.contains("il1") { sum_t } else { sum_c };
                    let pct = num(&p.value).unwrap_or(f64::NAN);
                    let fits = counts_for_percent(pct, n, 1);
                    let missing = facts.pooled.iter().find(|a| a.outcome == "mortality" && a.subgroup.is_none()).and_then(|a| a.note.clone()).unwrap_or_default();
                    if fits.is_empty() {
                        let alt = if item.contains("control") { counts_for_percent(pct, 732, 1) } else { vec![] };
                        row(
                            None,
                            MISMATCH,
                            format!(
                                "no whole number of deaths among {n} patients gives {pct}%{}; deaths themselves not computable ({missing})",
                                if alt.is_empty() { String::new() } else { format!(" (among the text's 732 it would be {alt:?})") }
                            ),
                        )
                    } else {
                        row(None, NA, format!("{pct}% of {n} is possible ({fits:?} deaths) but the deaths are not computable: {missing}"))
                    }
                }
                "mortality_rcts_results_text" | "mortality_rcts_key_messages" => {
                    let k = facts.pooled.iter().find(|a| a.outcome == "mortality" && a.subgroup.is_none()).map(|a| a.studies.len() as i64).unwrap_or(0);
                    cmp_int(k, "studies in the mortality analysis set (refs 23-27, 30, 31); the text says seven, the key messages six")
                }
                "mortality_anakinra_rcts_text" | "mortality_anakinra_refs_cited" => {
                    let k = facts.pooled.iter().find(|a| a.outcome == "mortality" && a.subgroup.as_deref() == Some("anakinra")).map(|a| a.studies.len() as i64).unwrap_or(0);
                    cmp_int(k, "anakinra trials among the cited mortality studies; the text says four RCTs and cites five references")
                }
                "three_c_placebo_deaths" => match facts.control_events.iter().find(|c| c.0 == "three_c" && c.1 == "mortality") {
                    Some(c) => {
                        let pct = 100.0 * c.2 as f64 / c.3 as f64;
                        let of15 = 100.0 * c.2 as f64 / 15.0;
                        row(Some(format!("{} of {} ({:.1}%)", c.2, c.3, pct)), MISMATCH, format!("18.8% is {} of {}; {} of 15 would be {:.1}%", c.2, c.3, c.2, of15))
                    }
                    None => row(None, NA, "no sourced control deaths for Three C".into()),
                },
                "cov_aid_patients" => match facts.factor_margins.iter().find(|m| m.0 == "cov_aid") {
                    Some(m) => cmp_int(m.2 + m.3, "sum of COV-AID's six arms"),
                    None => row(None, NA, "COV-AID arms not in arms.csv".into()),
                },
                "cov_aid_il1_vs_no_il1" | "cov_aid_il6_vs_no_il6" => {
                    let f = if item.contains("il1") { "il1_blockade" } else { "il6_blockade" };
                    match facts.factor_margins.iter().find(|m| m.0 == "cov_aid" && m.1 == f) {
                        Some(m) => {
                            let rec = format!("{} vs {}", m.2, m.3);
                            let st = if rec == p.value.trim() { MATCH } else { MISMATCH };
                            row(Some(rec), st, format!("derived from COV-AID's arms along the {f} factor"))
                        }
                        None => row(None, NA, "COV-AID arms not in arms.csv".into()),
                    }
                }
                _ if item.ends_with(" OR") => audit_or(p, facts),
                _ => row(None, NA, "a trial-level or patient-level figure with no study-level input here".into()),
            }
        };
        out.push(r);
        // a second row per pooled figure: is the printed CI symmetric on the log scale?
        if item.ends_with(" OR") {
            if let Some((or, lb, ub, _)) = parse_or(&p.value) {
                let ok = log_symmetric_possible(or, lb, ub, 2);
                out.push(AuditRow {
                    item: format!("{item}: CI log-symmetry"),
                    published: format!("{or} ({lb}-{ub})"),
                    recomputed: Some(format!("log distances {:.2} below, {:.2} above", (or / lb).ln(), (ub / or).ln())),
                    status: if ok { MATCH } else { MISMATCH },
                    why: if ok {
                        "a Wald CI on the log scale is symmetric about the estimate; the printed limits allow it".into()
                    } else {
                        format!("no values within rounding make the CI symmetric on the log scale; an upper limit near {:.2} would be (or a lower limit near {:.2})", or * or / lb, or * or / ub)
                    },
                });
            }
        }
    }
    out
}

fn audit_or(p: &Published, facts: &Facts) -> AuditRow {
    let item = p.item.trim_end_matches(" OR");
    let (outcome, subgroup) = match item.split_once(' ') {
        Some((o, sg)) => (o, Some(sg.trim_end_matches(" subgroup"))),
        None => (item, None),
    };
    let a = facts.pooled.iter().find(|a| a.outcome == outcome && a.subgroup.as_deref() == subgroup);
    let row = |rec: Option<String>, status: &'static str, why: String| AuditRow { item: p.item.clone(), published: p.value.clone(), recomputed: rec, status, why };
    let Some(a) = a else {
        return row(None, NA, format!("no analysis of {outcome}{} in the pipeline", subgroup.map(|s| format!(" ({s})")).unwrap_or_default()));
    };
    let Some(pubv) = parse_or(&p.value) else {
        return row(None, NA, "published value not parseable".into());
    };
    match a.estimate {
        Some((or, lb, ub, i2)) => {
            let ok = (or - pubv.0).abs() <= 0.005 && (lb - pubv.1).abs() <= 0.005 && (ub - pubv.2).abs() <= 0.005 && (i2 - pubv.3).abs() <= 0.5;
            row(Some(format!("{or:.2} ({lb:.2}-{ub:.2}) I2 {i2:.0}%")), if ok { MATCH } else { MISMATCH }, format!("pooled from {}", a.studies.join(", ")))
        }
        None => row(None, NA, a.note.clone().unwrap_or_else(|| "not pooled".into())),
    }
}

pub fn audit_table(rows: &[AuditRow]) -> Result<Table> {
    let mut t = Builder::new(&AUDIT);
    for r in rows {
        t.row(vec![s(&r.item), s(&r.published), so(r.recomputed.clone()), s(r.status), s(&r.why)]);
    }
    t.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_published_or() {
        assert_eq!(parse_or("0.83 (0.57-1.22) I2 18%"), Some((0.83, 0.57, 1.22, 18.0)));
    }

    #[test]
    fn clinical_recovery_ci_is_not_log_symmetric() {
        assert!(!log_symmetric_possible(1.40, 0.64, 3.47, 2));
        assert!(log_symmetric_possible(1.40, 0.64, 3.06, 2));
        assert!(log_symmetric_possible(0.83, 0.57, 1.22, 2));
    }

    #[test]
    fn control_rate_impossible_with_766() {
        assert!(counts_for_percent(10.5, 766, 1).is_empty());
        assert_eq!(counts_for_percent(10.5, 732, 1), vec![77]);
        assert_eq!(counts_for_percent(7.7, 884, 1), vec![68]);
    }
}
