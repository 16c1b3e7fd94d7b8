//! RevMan 5 files (`.rm5`, XML): the included studies, and under `ANALYSES_AND_DATA` each
//! comparison's `DICH_OUTCOME` / `CONT_OUTCOME` with its settings, data rows (inside
//! `*_SUBGROUP` elements when it has subgroups) and the figures RevMan computed and stored on
//! every outcome, subgroup and data element.

use super::*;
use crate::xml::{self, Node};

/// An outcome's or subgroup's stored figures: RevMan's attribute for each of [`STATS`].
const STORED: [(&str, &str); 10] = [
    ("estimate", "EFFECT_SIZE"),
    ("ci_lb", "CI_START"),
    ("ci_ub", "CI_END"),
    ("Q", "CHI2"),
    ("Q_df", "DF"),
    ("Q_p", "P_CHI2"),
    ("I2", "I2"),
    ("tau2", "TAU2"),
    ("z", "Z"),
    ("p", "P_Z"),
];
const STUDY_STORED: [(&str, &str); 5] = [
    ("estimate", "EFFECT_SIZE"),
    ("ci_lb", "CI_START"),
    ("ci_ub", "CI_END"),
    ("se", "SE"),
    ("weight", "WEIGHT"),
];

fn err(n: &Node, field: &str, msg: impl Into<String>) -> Error {
    Error::data(msg).line(n.line).field(field)
}

pub(super) fn read(bytes: &[u8]) -> Result<Review> {
    let root = xml::parse(&xml::decode(bytes))?;
    if root.name != "COCHRANE_REVIEW" {
        return Err(err(
            &root,
            &root.name,
            "not a RevMan 5 review: the root element is not COCHRANE_REVIEW",
        ));
    }
    let version = root.attr("REVMAN_SUB_VERSION").unwrap_or("5");
    let title = root
        .child("COVER_SHEET")
        .map(|c| c.child_text("TITLE").to_string())
        .unwrap_or_default();
    let mut studies = vec![];
    let mut names = vec![];
    if let Some(inc) = root
        .child("STUDIES_AND_REFERENCES")
        .and_then(|s| s.child("STUDIES"))
        .and_then(|s| s.child("INCLUDED_STUDIES"))
    {
        for s in inc.children.iter().filter(|c| c.name == "STUDY") {
            let id = s
                .attr("ID")
                .ok_or_else(|| err(s, "ID", "a study without an ID"))?;
            let name = s
                .attr("NAME")
                .ok_or_else(|| err(s, "NAME", "a study without a NAME"))?;
            names.push((id.to_string(), name.to_string()));
            studies.push((name.to_string(), s.attr("YEAR").map(str::to_string)));
        }
    }
    let mut analyses = vec![];
    let mut notes = vec![];
    if let Some(ad) = root.child("ANALYSES_AND_DATA") {
        for c in ad.children.iter().filter(|c| c.name == "COMPARISON") {
            let cno = count(c, "NO")?;
            let cname = c.child_text("NAME").to_string();
            for o in c.children.iter().filter(|o| o.name.ends_with("_OUTCOME")) {
                analyses.push(outcome(o, cno, &cname, &names, &mut notes)?);
            }
        }
    }
    Ok(Review {
        title,
        format: format!("RevMan {version} file (.rm5)"),
        studies,
        analyses,
        notes,
    })
}

fn count(n: &Node, k: &str) -> Result<u32> {
    n.attr(k)
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| err(n, k, format!("<{}> without a whole number {k}", n.name)))
}

fn stored(n: &Node, table: &[(&'static str, &str)]) -> Result<Vec<(&'static str, String)>> {
    let mut out = vec![];
    for (name, attr) in table {
        if let Some(v) = n.attr(attr) {
            number(v).ok_or_else(|| err(n, attr, format!("{v:?} is not a number")))?;
            out.push((*name, v.trim().to_string()));
        }
    }
    Ok(out)
}

fn outcome(
    o: &Node,
    cno: u32,
    cname: &str,
    names: &[(String, String)],
    notes: &mut Vec<String>,
) -> Result<Analysis> {
    let (data_type, data_tag, sub_tag) = match o.name.as_str() {
        "DICH_OUTCOME" => (DataType::Dichotomous, "DICH_DATA", "DICH_SUBGROUP"),
        "CONT_OUTCOME" => (DataType::Continuous, "CONT_DATA", "CONT_SUBGROUP"),
        other => {
            return Err(err(o, other, format!("RevMan data type <{other}> is not imported: only dichotomous and continuous outcomes have been checked against files RevMan wrote")));
        }
    };
    let (measure, method) = measure_and_method(o, data_type)?;
    let random = o.attr("RANDOM") == Some("YES");
    let number_of = |k: &str, dflt: f64| o.attr(k).and_then(number).unwrap_or(dflt);
    let mut a = Analysis {
        comparison: cno,
        comparison_name: cname.to_string(),
        number: count(o, "NO")?,
        name: o.child_text("NAME").to_string(),
        data_type,
        method: method.into(),
        measure: measure.into(),
        random,
        level: number_of("CI_TOTAL", 95.0),
        swap_events: o.attr("SWAP_EVENTS") == Some("YES"),
        labels: [
            "GROUP_LABEL_1",
            "GROUP_LABEL_2",
            "GRAPH_LABEL_1",
            "GRAPH_LABEL_2",
        ]
        .map(|k| o.child_text(k).to_string()),
        subgroups: vec![],
        stored: stored_of(o, random)?,
    };
    let subs: Vec<&Node> = o.children.iter().filter(|c| c.name == sub_tag).collect();
    if subs.is_empty() {
        let rows = rows(o, data_tag, data_type, names)?;
        a.subgroups.push(Subgroup {
            name: None,
            rows,
            stored: vec![],
        });
    } else {
        for s in subs {
            a.subgroups.push(Subgroup {
                name: Some(s.child_text("NAME").to_string()),
                rows: rows(s, data_tag, data_type, names)?,
                stored: stored_of(s, random)?,
            });
        }
    }
    if !a.stored.iter().any(|(k, _)| *k == "estimate") {
        notes.push(format!("analysis {} ({}): the file stores no computed results (RevMan leaves them empty until it recalculates), so there is nothing of RevMan's to compare with", a.label(), a.name));
    }
    Ok(a)
}

/// An outcome's effect measure and statistical method, by escalc's and metapipe's names.
fn measure_and_method(o: &Node, data_type: DataType) -> Result<(&'static str, &'static str)> {
    let measure = o.attr("EFFECT_MEASURE").unwrap_or("");
    let measure = measure_name(measure).ok_or_else(|| {
        err(
            o,
            "EFFECT_MEASURE",
            format!("effect measure {measure:?} is not imported"),
        )
    })?;
    // a continuous outcome has no METHOD: RevMan pools it by inverse variance
    let dflt = if data_type == DataType::Continuous {
        "IV"
    } else {
        ""
    };
    let method = o.attr("METHOD").unwrap_or(dflt);
    let method = method_name(method).ok_or_else(|| {
        err(
            o,
            "METHOD",
            format!("statistical method {method:?} is not imported"),
        )
    })?;
    Ok((measure, method))
}

/// An outcome's or subgroup's figures; τ² only for a random-effects analysis (RevMan stores 0
/// for a fixed-effect one, which estimates no τ²).
fn stored_of(n: &Node, random: bool) -> Result<Vec<(&'static str, String)>> {
    Ok(without_fixed_tau2(stored(n, &STORED)?, random))
}

fn rows(
    parent: &Node,
    tag: &str,
    data_type: DataType,
    names: &[(String, String)],
) -> Result<Vec<DataRow>> {
    let mut out = vec![];
    for d in parent.children.iter().filter(|c| c.name == tag) {
        let sid = d
            .attr("STUDY_ID")
            .ok_or_else(|| err(d, "STUDY_ID", "a data row without a STUDY_ID"))?;
        let study = names
            .iter()
            .find(|(id, _)| id == sid)
            .map(|(_, n)| n.clone())
            .ok_or_else(|| {
                err(
                    d,
                    "STUDY_ID",
                    format!("{sid}: not an included study of the review"),
                )
            })?;
        let num = |k: &str| -> Result<Option<f64>> {
            match d.attr(k) {
                None => Ok(None),
                Some(v) => number(v)
                    .map(Some)
                    .ok_or_else(|| err(d, k, format!("{v:?} is not a number"))),
            }
        };
        let mut r = DataRow {
            study,
            totals: [num("TOTAL_1")?, num("TOTAL_2")?],
            stored: stored(d, &STUDY_STORED)?,
            ..Default::default()
        };
        match data_type {
            DataType::Dichotomous => r.events = [num("EVENTS_1")?, num("EVENTS_2")?],
            DataType::Continuous => {
                r.means = [num("MEAN_1")?, num("MEAN_2")?];
                r.sds = [num("SD_1")?, num("SD_2")?];
            }
        }
        out.push(r);
    }
    Ok(out)
}
