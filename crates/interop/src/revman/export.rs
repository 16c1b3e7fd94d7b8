//! A review as a RevMan 5 file (`.rm5`): the skeleton of the RevMan 5 files in `../shared/revman`
//! (cover sheet title, included studies, `ANALYSES_AND_DATA` with one `COMPARISON` per comparison
//! and a `DICH_OUTCOME` / `CONT_OUTCOME` per analysis, `*_SUBGROUP` elements when it has
//! subgroups), each element's computed figures from [`Analysis::stored`] and
//! [`DataRow::stored`], written as UTF-8. What [`super::read`] reads back is the same review.
//! Not opened in RevMan itself (RevMan cannot be installed here).

use super::*;
use crate::xml::escape;
use std::fmt::Write as _;

/// RevMan's study id for a study name: `STD-` and the name with every character other than a
/// letter, digit or `_` written `_xHHHH_` (RevMan writes "ISIS-2" as `STD-ISIS_x002d_2`).
pub fn study_id(name: &str) -> String {
    let mut o = String::from("STD-");
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            o.push(c);
        } else {
            let _ = write!(o, "_x{:04x}_", c as u32);
        }
    }
    o
}

/// The attribute each of [`STATS`] and [`STUDY_STATS`] is stored in.
fn attr_of(stat: &str) -> &'static str {
    match stat {
        "estimate" => "EFFECT_SIZE",
        "ci_lb" => "CI_START",
        "ci_ub" => "CI_END",
        "Q" => "CHI2",
        "Q_df" => "DF",
        "Q_p" => "P_CHI2",
        "I2" => "I2",
        "tau2" => "TAU2",
        "z" => "Z",
        "p" => "P_Z",
        "se" => "SE",
        _ => "WEIGHT",
    }
}

fn figures(stored: &[(&'static str, String)]) -> String {
    stored
        .iter()
        .map(|(k, v)| format!(" {}=\"{}\"", attr_of(k), escape(v)))
        .collect()
}

fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{v}")).unwrap_or_default()
}

/// The `.rm5` text of a review.
pub fn export(rv: &Review) -> String {
    let mut t = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
    t.push_str("<COCHRANE_REVIEW REVMAN_SUB_VERSION=\"5 (metapipe export)\" REVMAN_VERSION=\"5\" TYPE=\"INTERVENTION\">\n");
    let _ = writeln!(
        t,
        "<COVER_SHEET>\n<TITLE>{}</TITLE>\n</COVER_SHEET>",
        escape(&rv.title)
    );
    t.push_str("<STUDIES_AND_REFERENCES>\n<STUDIES>\n<INCLUDED_STUDIES>\n");
    for (name, year) in &rv.studies {
        let _ = writeln!(
            t,
            "<STUDY DATA_SOURCE=\"PUB\" ID=\"{}\" NAME=\"{}\" YEAR=\"{}\"/>",
            study_id(name),
            escape(name),
            escape(year.as_deref().unwrap_or(""))
        );
    }
    t.push_str("</INCLUDED_STUDIES>\n</STUDIES>\n</STUDIES_AND_REFERENCES>\n");
    t.push_str("<ANALYSES_AND_DATA CALCULATED_DATA=\"YES\">\n");
    let mut comparisons: Vec<(u32, &str)> = vec![];
    for a in &rv.analyses {
        if !comparisons.iter().any(|(c, _)| *c == a.comparison) {
            comparisons.push((a.comparison, &a.comparison_name));
        }
    }
    for (c, name) in comparisons {
        let _ = writeln!(
            t,
            "<COMPARISON ID=\"CMP-{c:03}\" NO=\"{c}\">\n<NAME>{}</NAME>",
            escape(name)
        );
        for a in rv.analyses.iter().filter(|a| a.comparison == c) {
            analysis(&mut t, a);
        }
        t.push_str("</COMPARISON>\n");
    }
    t.push_str("</ANALYSES_AND_DATA>\n</COCHRANE_REVIEW>\n");
    t
}

fn analysis(t: &mut String, a: &Analysis) {
    let (tag, data, sub) = match a.data_type {
        DataType::Dichotomous => ("DICH_OUTCOME", "DICH_DATA", "DICH_SUBGROUP"),
        DataType::Continuous => ("CONT_OUTCOME", "CONT_DATA", "CONT_SUBGROUP"),
    };
    let yes = |b: bool| if b { "YES" } else { "NO" };
    let _ = writeln!(
        t,
        "<{tag} CI_STUDY=\"{l}\" CI_TOTAL=\"{l}\" EFFECT_MEASURE=\"{}\" ID=\"CMP-{:03}.{:02}\" METHOD=\"{}\" NO=\"{}\" RANDOM=\"{}\" SUBGROUPS=\"{}\" SWAP_EVENTS=\"{}\"{}>",
        a.measure,
        a.comparison,
        a.number,
        a.method,
        a.number,
        yes(a.random),
        yes(a.has_subgroups()),
        yes(a.swap_events),
        figures(&a.stored),
        l = a.level,
    );
    let _ = writeln!(t, "<NAME>{}</NAME>", escape(&a.name));
    for (k, el) in [
        "GROUP_LABEL_1",
        "GROUP_LABEL_2",
        "GRAPH_LABEL_1",
        "GRAPH_LABEL_2",
    ]
    .iter()
    .enumerate()
    {
        let _ = writeln!(t, "<{el}>{}</{el}>", escape(&a.labels[k]));
    }
    for (i, g) in a.subgroups.iter().enumerate() {
        if let Some(name) = &g.name {
            let _ = writeln!(
                t,
                "<{sub} NO=\"{}\"{}>\n<NAME>{}</NAME>",
                i + 1,
                figures(&g.stored),
                escape(name)
            );
        }
        for d in &g.rows {
            let _ = write!(
                t,
                "<{data} STUDY_ID=\"{}\" TOTAL_1=\"{}\" TOTAL_2=\"{}\"",
                study_id(&d.study),
                opt(d.totals[0]),
                opt(d.totals[1])
            );
            match a.data_type {
                DataType::Dichotomous => {
                    let _ = write!(
                        t,
                        " EVENTS_1=\"{}\" EVENTS_2=\"{}\"",
                        opt(d.events[0]),
                        opt(d.events[1])
                    );
                }
                DataType::Continuous => {
                    let _ = write!(
                        t,
                        " MEAN_1=\"{}\" SD_1=\"{}\" MEAN_2=\"{}\" SD_2=\"{}\"",
                        opt(d.means[0]),
                        opt(d.sds[0]),
                        opt(d.means[1]),
                        opt(d.sds[1])
                    );
                }
            }
            let _ = writeln!(t, "{}/>", figures(&d.stored));
        }
        if g.name.is_some() {
            let _ = writeln!(t, "</{sub}>");
        }
    }
    let _ = writeln!(t, "</{tag}>");
}
