//! Published figures vs recomputed ones. The audit is data: each row of `published.csv` says
//! what kind of figure it is and what it is a figure of, and is recomputed from the stage tables
//! (polars filters and sums); nothing here knows a review.
//!
//! `published.csv` columns: `source, item, kind, of, value, where` and optionally `note` (added
//! to the row's explanation). Kinds and what `of` names:
//! - `prisma`: a PRISMA stage (`records_identified`, …);
//! - `sum`: `table.column[+column…][filter]` summed over a stage table (`studies`, `arms`,
//!   `outcome_data`); a filter is `[column=value,…]`, e.g. `studies.n_treat[region=north]`;
//! - `percent`: `numerator / denominator`, two sums as above; the value is a percentage;
//! - `fraction`: `table.numerator/denominator[filter]`, one row's "x of n (p%)";
//! - `margin`: `study/factor`, a factorial trial's "treat vs ctrl" sizes along a factor;
//! - `k`: `outcome[/subgroup]`, the number of studies in the analysis set;
//! - `pooled`: `outcome[/subgroup][@fixed|@random]`, "estimate (lb-ub) I2 x%" (I² optional)
//!   against the pooled result (without `@`, the random-effects row when there are both);
//! - `stat`, `study_stat`: one figure of an analysis or of a study in it, as a tool stored it at
//!   full precision (RevMan's results, imported with the review; `audit/stats.rs`);
//! - `other`: a figure with no study-level input here (reported as not computable).

use metapipe_tables::schema::AUDIT;
use metapipe_tables::{frame, s, so, Builder, Result, Table};
use polars::prelude::*;

pub use published::{read_published, Published};
pub use stats::{result_figure, study_figure};

/// The stage tables the audit recomputes from.
pub struct Facts<'a> {
    /// the overall PRISMA flow (stage, count)
    pub prisma: &'a [(String, i64)],
    pub studies: &'a Table,
    pub arms: &'a Table,
    pub outcome_data: &'a Table,
    /// factorial margins (`metapipe_extract::factor_margins`)
    pub margins: &'a DataFrame,
    pub results: &'a Table,
    /// the per-study effects each analysis used
    pub effects: &'a Table,
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

/// The kinds `published.csv` may name.
pub const KINDS: &[&str] = &[
    "prisma",
    "sum",
    "percent",
    "fraction",
    "margin",
    "k",
    "pooled",
    "stat",
    "study_stat",
    "other",
];

/// Parse "0.83 (0.57-1.22) I2 18%" (the I² part optional).
pub fn parse_or(v: &str) -> Option<(f64, f64, f64, Option<f64>)> {
    let v = v.replace('–', "-");
    let (or, rest) = v.split_once('(')?;
    let (ci, rest) = rest.split_once(')')?;
    let (lb, ub) = ci
        .split_once(" to ")
        .or_else(|| ci.trim().split_once(['-', ',']))?;
    let i2 = rest
        .trim()
        .trim_start_matches("I2")
        .trim()
        .trim_end_matches('%')
        .trim();
    let i2 = if i2.is_empty() {
        None
    } else {
        Some(i2.parse().ok()?)
    };
    Some((
        or.trim().parse().ok()?,
        lb.trim().parse().ok()?,
        ub.trim().parse().ok()?,
        i2,
    ))
}

/// Whether a printed ratio and CI (rounded to `dp` decimals) can be symmetric on the log scale:
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
    v.trim().trim_end_matches('%').trim().parse().ok()
}

/// Decimals printed in a number ("7.7" → 1).
fn decimals(v: &str) -> i32 {
    v.trim()
        .trim_end_matches('%')
        .split_once('.')
        .map(|(_, d)| d.trim().len() as i32)
        .unwrap_or(0)
}

/// `table.a+b[k=v,…]` → (table, columns, filters).
fn parse_ref(r: &str) -> Option<(&str, Vec<&str>, Vec<(&str, &str)>)> {
    let (head, filt) = match r.trim().split_once('[') {
        Some((h, f)) => (h, f.strip_suffix(']')?),
        None => (r.trim(), ""),
    };
    let (table, cols) = head.split_once('.')?;
    let filters = filt
        .split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|kv| kv.split_once('=').map(|(k, v)| (k.trim(), v.trim())))
        .collect::<Option<Vec<_>>>()?;
    Some((
        table.trim(),
        cols.split(['+', '/']).map(str::trim).collect(),
        filters,
    ))
}

impl Facts<'_> {
    fn table(&self, name: &str) -> Option<&Table> {
        match name {
            "studies" => Some(self.studies),
            "arms" => Some(self.arms),
            "outcome_data" => Some(self.outcome_data),
            _ => None,
        }
    }
    /// The rows of `table` passing `filters`, with `columns` as floats (a missing cell: None).
    fn select(
        &self,
        table: &str,
        columns: &[&str],
        filters: &[(&str, &str)],
    ) -> std::result::Result<Vec<Vec<Option<f64>>>, String> {
        let t = self
            .table(table)
            .ok_or_else(|| format!("no table {table:?} (studies, arms or outcome_data)"))?;
        for c in columns.iter().chain(filters.iter().map(|f| &f.0)) {
            if t.df.column(c).is_err() {
                return Err(format!("{table} has no column {c:?}"));
            }
        }
        let mut keep = BooleanChunked::full("keep".into(), true, t.df.height());
        for (k, v) in filters {
            keep = &keep & &frame::text_equals(&t.df, k, v).map_err(|e| e.to_string())?;
        }
        let df = t.df.filter(&keep).map_err(|e| e.to_string())?;
        let floats = |c: &str| -> std::result::Result<Vec<Option<f64>>, String> {
            let x = df
                .column(c)
                .and_then(|x| x.cast(&DataType::Float64))
                .map_err(|e| e.to_string())?;
            Ok(x.f64().map(|x| x.iter().collect()).unwrap_or_default())
        };
        columns.iter().map(|c| floats(c)).collect()
    }
    /// Σ over the filtered rows of the sum of `columns`; Err names what is missing.
    fn sum(&self, r: &str) -> std::result::Result<(f64, String), String> {
        let (table, cols, filters) =
            parse_ref(r).ok_or_else(|| format!("{r:?} is not table.column[+column][filter]"))?;
        let data = self.select(table, &cols, &filters)?;
        let rows = data.first().map(Vec::len).unwrap_or(0);
        if rows == 0 {
            return Err(format!("no rows of {table} match {filters:?}"));
        }
        let mut total = 0.0;
        for c in &data {
            let missing = c.iter().filter(|x| x.is_none()).count();
            if missing > 0 {
                return Err(format!(
                    "{missing} of {rows} rows of {table} lack a value to sum"
                ));
            }
            total += c.iter().flatten().sum::<f64>();
        }
        Ok((
            total,
            format!(
                "sum of {} over {} rows of {table}{}",
                cols.join(" + "),
                rows,
                if filters.is_empty() {
                    String::new()
                } else {
                    format!(
                        " where {}",
                        filters
                            .iter()
                            .map(|(k, v)| format!("{k} = {v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ),
        ))
    }
    /// The results rows of `outcome[/subgroup]`: (estimate, lb, ub, I2)?, note, studies.
    /// `of` is `outcome[/subgroup][@fixed|@random]`; without a model, the last row (the random-
    /// effects one when an outcome reports both).
    /// The results row of `outcome[/subgroup][@fixed|@random]` (without `@`, the last: the
    /// random-effects row when there are both).
    fn results_row(&self, of: &str) -> Option<usize> {
        let (of, kind) = match of.split_once('@') {
            Some((o, k)) => (o, Some(k.trim())),
            None => (of, None),
        };
        let (outcome, subgroup) = match of.split_once('/') {
            Some((o, s)) => (o.trim(), Some(s.trim())),
            None => (of.trim(), None),
        };
        let r = self.results;
        (0..r.num_rows()).rev().find(|&k| {
            r.str("outcome").get(k) == Some(outcome)
                && r.str("subgroup").get(k) == subgroup
                && kind.is_none_or(|m| r.str("model_type").get(k) == Some(m))
        })
    }

    fn analysis(
        &self,
        of: &str,
    ) -> Option<(
        Option<(f64, f64, f64, f64)>,
        Option<String>,
        Vec<String>,
        String,
    )> {
        let r = self.results;
        let row = self.results_row(of)?;
        let g = |c: &str| r.float(c).get(row);
        let est = match (g("estimate"), g("ci_lb"), g("ci_ub"), g("I2")) {
            (Some(a), Some(b), Some(c), Some(d)) => Some((a, b, c, d)),
            _ => None,
        };
        let studies = r
            .str("studies")
            .get(row)
            .unwrap_or_default()
            .split(';')
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect();
        Some((
            est,
            r.str_at("note", row),
            studies,
            r.str("measure").get(row).unwrap_or_default().to_string(),
        ))
    }
}

/// Audit every published figure.
pub fn audit(published: &[Published], facts: &Facts) -> Vec<AuditRow> {
    let mut out = vec![];
    for p in published {
        let mut r = audit_one(p, facts);
        if !p.note.is_empty() {
            r.why = format!("{}; {}", r.why, p.note);
        }
        out.push(r);
        if p.kind == "pooled" {
            out.extend(log_symmetry(p, facts));
        }
    }
    out
}

fn audit_one(p: &Published, facts: &Facts) -> AuditRow {
    let row = |rec: Option<String>, status: &'static str, why: String| AuditRow {
        item: p.item.clone(),
        published: p.value.clone(),
        recomputed: rec,
        status,
        why,
    };
    let cmp = |rec: f64, why: String| {
        let ok = num(&p.value).is_some_and(|v| (v - rec).abs() < 1e-9);
        row(Some(fmt_num(rec)), if ok { MATCH } else { MISMATCH }, why)
    };
    match p.kind.as_str() {
        "prisma" => match facts.prisma.iter().find(|(st, _)| st == p.of.trim()) {
            Some((_, n)) => cmp(
                *n as f64,
                "PRISMA count from the parsed exports, dedup clusters and screening logs".into(),
            ),
            None => row(None, NA, format!("no PRISMA count {:?} in this run", p.of)),
        },
        "sum" => match facts.sum(&p.of) {
            Ok((v, why)) => cmp(v, why),
            Err(e) => row(None, NA, e),
        },
        "percent" => percent(p, facts),
        "fraction" => fraction(p, facts),
        "margin" => margin(p, facts),
        "k" => match facts.analysis(&p.of) {
            Some((_, _, studies, _)) => cmp(
                studies.len() as f64,
                format!(
                    "studies in the analysis set of {}: {}",
                    p.of,
                    studies.join(", ")
                ),
            ),
            None => row(None, NA, format!("no analysis {} in the pipeline", p.of)),
        },
        "pooled" => pooled(p, facts),
        "stat" => stats::stat(p, facts),
        "study_stat" => stats::study_stat(p, facts),
        "other" => row(
            None,
            NA,
            "a trial-level or patient-level figure with no study-level input here".into(),
        ),
        k => row(
            None,
            NA,
            format!("unknown kind {k:?}; expected one of {KINDS:?}"),
        ),
    }
}

/// `study/factor`: a factorial trial's "treat vs ctrl" sizes along a factor.
fn margin(p: &Published, facts: &Facts) -> AuditRow {
    let (study, factor) =
        p.of.split_once('/')
            .map(|(a, b)| (a.trim(), b.trim()))
            .unwrap_or((p.of.trim(), ""));
    let m = frame::rows_equal(facts.margins, "study_id", study)
        .and_then(|m| frame::rows_equal(&m, "factor", factor))
        .ok();
    let get = |c: &str| {
        m.as_ref()
            .and_then(|m| m.column(c).ok()?.i64().ok()?.get(0))
    };
    let (rec, status, why) = match (get("treat"), get("ctrl")) {
        (Some(t), Some(c)) => {
            let rec = format!("{t} vs {c}");
            let st = if rec == p.value.trim() {
                MATCH
            } else {
                MISMATCH
            };
            let why = format!("derived from the arms of {study} along the {factor} factor");
            (Some(rec), st, why)
        }
        _ => {
            let why = format!("no arms of {study} with factor {factor} in the arms sheet");
            (None, NA, why)
        }
    };
    AuditRow {
        item: p.item.clone(),
        published: p.value.clone(),
        recomputed: rec,
        status,
        why,
    }
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// `numerator / denominator`: recompute the percentage when both sums are computable; when
/// only the denominator is, say which whole numbers of events give the printed percentage.
fn percent(p: &Published, facts: &Facts) -> AuditRow {
    let row = |rec: Option<String>, status: &'static str, why: String| AuditRow {
        item: p.item.clone(),
        published: p.value.clone(),
        recomputed: rec,
        status,
        why,
    };
    let Some((nu, de)) = p.of.split_once(" / ") else {
        return row(
            None,
            NA,
            format!("{:?} is not numerator / denominator", p.of),
        );
    };
    let (pct, dp) = (num(&p.value).unwrap_or(f64::NAN), decimals(&p.value));
    let den = match facts.sum(de) {
        Ok((d, _)) => d as i64,
        Err(e) => return row(None, NA, format!("denominator not computable: {e}")),
    };
    match facts.sum(nu) {
        Ok((n, _)) => {
            let rec = 100.0 * n / den as f64;
            let ok = (rec - pct).abs() <= 0.5 * 10f64.powi(-dp) + 1e-9;
            row(
                Some(format!("{rec:.*}", dp as usize)),
                if ok { MATCH } else { MISMATCH },
                format!("{} of {den}", fmt_num(n)),
            )
        }
        Err(e) => {
            let fits = counts_for_percent(pct, den, dp);
            if fits.is_empty() {
                row(None, MISMATCH, format!("no whole number of events among {den} gives {pct}%; the events themselves are not computable ({e})"))
            } else {
                row(None, NA, format!("{pct}% of {den} is possible ({fits:?} events) but the events are not computable ({e})"))
            }
        }
    }
}

/// "x of n (p%)" against one row's numerator and denominator.
fn fraction(p: &Published, facts: &Facts) -> AuditRow {
    let row = |rec: Option<String>, status: &'static str, why: String| AuditRow {
        item: p.item.clone(),
        published: p.value.clone(),
        recomputed: rec,
        status,
        why,
    };
    let Some((table, cols, filters)) = parse_ref(&p.of).filter(|r| r.1.len() == 2) else {
        return row(
            None,
            NA,
            format!("{:?} is not table.numerator/denominator[filter]", p.of),
        );
    };
    let data = match facts.select(table, &cols, &filters) {
        Ok(d) => d,
        Err(e) => return row(None, NA, e),
    };
    let (Some(Some(x)), Some(Some(n))) = (data[0].first(), data[1].first()) else {
        return row(
            None,
            NA,
            format!("no sourced {} in {table} where {filters:?}", cols.join("/")),
        );
    };
    let pct = 100.0 * x / n;
    let printed = p
        .value
        .split_once(" of ")
        .and_then(|(a, b)| Some((num(a)?, num(b.split_once('(').map(|x| x.0).unwrap_or(b))?)));
    let rec = format!("{} of {} ({:.1}%)", fmt_num(*x), fmt_num(*n), pct);
    match printed {
        Some((a, b)) if a == *x && b == *n => {
            row(Some(rec), MATCH, "the same count and denominator".into())
        }
        Some((a, b)) => row(
            Some(rec.clone()),
            MISMATCH,
            format!(
                "the sourced data give {rec}; {} of {} would be {:.1}%",
                fmt_num(a),
                fmt_num(b),
                100.0 * a / b
            ),
        ),
        None => row(
            Some(rec),
            NA,
            "published value not parseable as \"x of n\"".into(),
        ),
    }
}

fn pooled(p: &Published, facts: &Facts) -> AuditRow {
    let row = |rec: Option<String>, status: &'static str, why: String| AuditRow {
        item: p.item.clone(),
        published: p.value.clone(),
        recomputed: rec,
        status,
        why,
    };
    let Some((est, note, studies, _)) = facts.analysis(&p.of) else {
        return row(None, NA, format!("no analysis {} in the pipeline", p.of));
    };
    let Some(pubv) = parse_or(&p.value) else {
        return row(None, NA, "published value not parseable".into());
    };
    // compared to the printed precision
    let dp = p
        .value
        .split_once('(')
        .map(|(e, _)| decimals(e))
        .unwrap_or(2);
    let tol = 0.5 * 10f64.powi(-dp) + 1e-9;
    match est {
        Some((or, lb, ub, i2)) => {
            let ok = (or - pubv.0).abs() <= tol
                && (lb - pubv.1).abs() <= tol
                && (ub - pubv.2).abs() <= tol
                && pubv.3.is_none_or(|p| (i2 - p).abs() <= 0.5 + 1e-9);
            let d = dp as usize;
            let i2_part = if pubv.3.is_some() {
                format!(" I2 {i2:.0}%")
            } else {
                String::new()
            };
            row(
                Some(format!("{or:.d$} ({lb:.d$}-{ub:.d$}){i2_part}")),
                if ok { MATCH } else { MISMATCH },
                format!(
                    "pooled from {} studies: {}",
                    studies.len(),
                    studies.join(", ")
                ),
            )
        }
        None => row(None, NA, note.unwrap_or_else(|| "not pooled".into())),
    }
}

/// A second row per pooled ratio: is the printed CI symmetric on the log scale?
fn log_symmetry(p: &Published, facts: &Facts) -> Option<AuditRow> {
    let measure = facts.analysis(&p.of).map(|a| a.3).unwrap_or_default();
    if !matches!(measure.as_str(), "OR" | "RR" | "ROM" | "IRR" | "OEV") {
        return None;
    }
    let (or, lb, ub, _) = parse_or(&p.value)?;
    let dp = p
        .value
        .split_once('(')
        .map(|(e, _)| decimals(e))
        .unwrap_or(2);
    let ok = log_symmetric_possible(or, lb, ub, dp);
    Some(AuditRow {
        item: format!("{}: CI log-symmetry", p.item),
        published: format!("{or} ({lb}-{ub})"),
        recomputed: Some(format!(
            "log distances {:.2} below, {:.2} above",
            (or / lb).ln(),
            (ub / or).ln()
        )),
        status: if ok { MATCH } else { MISMATCH },
        why: if ok {
            "a Wald CI on the log scale is symmetric about the estimate; the printed limits allow it".into()
        } else {
            format!("no values within rounding make the CI symmetric on the log scale; an upper limit near {:.2} would be (or a lower limit near {:.2})", or * or / lb, or * or / ub)
        },
    })
}

pub fn audit_table(rows: &[AuditRow]) -> Result<Table> {
    let mut t = Builder::new(&AUDIT);
    for r in rows {
        t.row(vec![
            s(&r.item),
            s(&r.published),
            so(r.recomputed.clone()),
            s(r.status),
            s(&r.why),
        ]);
    }
    t.finish()
}

mod published;
mod stats;
#[cfg(test)]
mod tests;
