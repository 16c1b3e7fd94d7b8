//! A Summary of findings row as GRADEpro prints it, the one text the HTML report and the Word
//! document both show.

use crate::cells::{fl, it, s};
use metapipe_tables::Table;

/// The printed cells of one `sof` row.
#[derive(Debug, Clone, PartialEq)]
pub struct SofText {
    pub outcome: String,
    /// risk (or mean) without the intervention
    pub without: String,
    /// risk (or mean difference) with it
    pub with: String,
    pub relative: String,
    pub participants: String,
    /// the team's certainty with GRADE's symbols, or "not judged"
    pub certainty: String,
    pub suggested: String,
    pub footnotes: String,
    pub flags: String,
}

/// GRADE's certainty symbols.
pub fn symbols(level: &str) -> &'static str {
    match level {
        "high" => "⊕⊕⊕⊕",
        "moderate" => "⊕⊕⊕◯",
        "low" => "⊕⊕◯◯",
        _ => "⊕◯◯◯",
    }
}

/// A per-1000 figure as GRADEpro prints it: a whole number.
fn whole(v: f64) -> String {
    format!("{:.0}", v.round() + 0.0)
}

/// A relative effect or mean to two decimals (three below 0.1).
fn two(v: f64) -> String {
    if v.abs() < 0.1 && v != 0.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.2}")
    }
}

/// "12 more per 1,000 (from 3 fewer to 30 more)" for a risk difference.
fn more_fewer(d: f64, lb: Option<f64>, ub: Option<f64>, per: &str) -> String {
    let one = |v: f64| {
        let n = v.round() + 0.0;
        if n < 0.0 {
            format!("{} fewer", whole(-n))
        } else {
            format!("{} more", whole(n))
        }
    };
    match (lb, ub) {
        (Some(l), Some(u)) => format!("{} per {per} (from {} to {})", one(d), one(l), one(u)),
        _ => format!("{} per {per}", one(d)),
    }
}

/// The printed cells of row `r` of a `sof` table; `treat`, `ctrl` name the compared groups.
pub fn sof_text(t: &Table, r: usize, treat: &str, ctrl: &str) -> SofText {
    let per = it(t, "per", r).map(|p| thousands(p as f64));
    let measure = s(t, "measure", r).unwrap_or_default();
    let (without, with) = match per.as_deref() {
        Some(per) => risks(t, r, per, treat, ctrl),
        None => means(t, r, &measure, ctrl),
    };
    let relative = match (
        fl(t, "relative", r),
        fl(t, "relative_ci_lb", r),
        fl(t, "relative_ci_ub", r),
    ) {
        (Some(e), Some(l), Some(u)) => format!("{measure} {} ({} to {})", two(e), two(l), two(u)),
        _ => "—".into(),
    };
    let k = it(t, "studies", r).unwrap_or(0);
    let studies = if k == 1 { "study" } else { "studies" };
    let participants = match it(t, "participants", r) {
        Some(n) => format!("{} ({k} {studies})", thousands(n as f64)),
        None => format!("({k} {studies})"),
    };
    let certainty = match s(t, "certainty", r) {
        Some(c) => format!("{} {}", symbols(&c), capital(&c)),
        None => "not judged".into(),
    };
    let suggested = match s(t, "suggested_certainty", r) {
        Some(c) => format!("{} {}", symbols(&c), capital(&c)),
        None => "—".into(),
    };
    SofText {
        outcome: s(t, "label", r).unwrap_or_default(),
        without,
        with,
        relative,
        participants,
        certainty,
        suggested,
        footnotes: s(t, "footnotes", r).unwrap_or_default(),
        flags: s(t, "flags", r).unwrap_or_default(),
    }
}

/// A binary row's cells: the assumed risk, and the corresponding risk with the difference.
fn risks(t: &Table, r: usize, per: &str, treat: &str, ctrl: &str) -> (String, String) {
    let Some(a) = fl(t, "assumed_per_1000", r) else {
        return ("no control-group risks".into(), String::new());
    };
    let corr = match (
        fl(t, "corresponding_per_1000", r),
        fl(t, "corresponding_ci_lb", r),
        fl(t, "corresponding_ci_ub", r),
    ) {
        (Some(c), Some(l), Some(u)) => {
            format!("{} per {per} ({} to {})", whole(c), whole(l), whole(u))
        }
        (Some(c), _, _) => format!("{} per {per}", whole(c)),
        _ => "not estimable".into(),
    };
    let diff = fl(t, "difference", r)
        .map(|d| {
            more_fewer(
                d,
                fl(t, "difference_ci_lb", r),
                fl(t, "difference_ci_ub", r),
                per,
            )
        })
        .unwrap_or_default();
    let base = s(t, "baseline", r).unwrap_or_default();
    let with = if diff.is_empty() {
        format!("{treat}: {corr}")
    } else {
        format!("{treat}: {corr}; {diff}")
    };
    (format!("{ctrl}: {} per {per} ({base})", whole(a)), with)
}

/// A continuous row's cells: the control mean, and the difference with its CI.
fn means(t: &Table, r: usize, measure: &str, ctrl: &str) -> (String, String) {
    let mean = fl(t, "control_mean", r)
        .map(|m| format!("mean {}", two(m)))
        .unwrap_or_else(|| "—".into());
    let diff = match (
        fl(t, "difference", r),
        fl(t, "difference_ci_lb", r),
        fl(t, "difference_ci_ub", r),
    ) {
        (Some(d), Some(l), Some(u)) if fl(t, "relative", r).is_none() => {
            format!("{measure} {} ({} to {})", two(d), two(l), two(u))
        }
        _ => String::new(),
    };
    (format!("{ctrl}: {mean}"), diff)
}

fn capital(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// A whole number with thousands separated by commas (GRADEpro's "357,347").
pub fn thousands(v: f64) -> String {
    let n = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, ch) in n.chars().enumerate() {
        if i > 0 && (n.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if v < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}
