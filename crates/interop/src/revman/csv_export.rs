//! RevMan 5's "Data and analyses" CSV export (File > Export > Data and analyses): one row per
//! comparison, analysis, subgroup and study, told apart as the R package meta's `read.rm5` does
//! — a row whose comparison number changes starts a comparison, one whose outcome number changes
//! an analysis, one whose subgroup number changes a subgroup; the rest are studies. RevMan's
//! figures are printed to 8 significant digits.

use super::*;
use metapipe_tables::io::Input;
use metapipe_tables::sheet::{Row, Sheet};

/// The columns a row's figures come from, per [`STATS`] and [`STUDY_STATS`].
const STORED: [(&str, &str); 10] = [
    ("estimate", "Effect Estimate"),
    ("ci_lb", "CI Start"),
    ("ci_ub", "CI End"),
    ("Q", "Q"),
    ("Q_df", "df"),
    ("Q_p", "P(Q)"),
    ("I2", "I²(Q)"),
    ("tau2", "Tau²"),
    ("z", "Z"),
    ("p", "P(Z)"),
];
const STUDY_STORED: [(&str, &str); 5] = [
    ("estimate", "Effect Estimate"),
    ("ci_lb", "CI Start"),
    ("ci_ub", "CI End"),
    ("se", "SE"),
    ("weight", "Weight"),
];
const REQUIRED: [&str; 8] = [
    "Comparison Number",
    "Outcome Number",
    "Subgroup Number",
    "Name",
    "Data Type",
    "Statistical Method",
    "Effect Measure",
    "Analysis Model",
];

/// The text of a CSV export: UTF-8, else Windows' Latin-1.
fn text(bytes: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes.to_vec(),
        Err(_) => bytes
            .iter()
            .map(|&b| b as char)
            .collect::<String>()
            .into_bytes(),
    }
}

pub(super) fn read(path: &Path, bytes: &[u8]) -> Result<Review> {
    let input = Input {
        path: path.to_path_buf(),
        bytes: text(bytes),
    };
    let sheet = Sheet::parse(&input, &REQUIRED)?;
    let mut studies: Vec<(String, Option<String>)> = vec![];
    let mut analyses: Vec<Analysis> = vec![];
    let mut notes = vec![];
    let (mut cname, mut prev) = (String::new(), (0, 0, 0));
    for r in sheet.rows() {
        let key = (
            cell_whole(&r, "Comparison Number")?,
            cell_whole(&r, "Outcome Number")?,
            cell_whole(&r, "Subgroup Number")?,
        );
        if key.0 != prev.0 || key.1 == 0 {
            cname = r.get("Name").unwrap_or("").to_string();
        } else if key.1 != prev.1 {
            analyses.push(analysis(&r, key, &cname)?);
        } else if key.2 != prev.2 {
            let a = analyses
                .last_mut()
                .ok_or_else(|| r.err("Subgroup Number", "a subgroup before its analysis"))?;
            let random = a.random;
            a.subgroups
                .retain(|s| s.name.is_some() || !s.rows.is_empty());
            a.subgroups.push(Subgroup {
                name: Some(r.get("Name").unwrap_or("").to_string()),
                rows: vec![],
                stored: without_fixed_tau2(row_figures(&r, &STORED)?, random),
            });
        } else {
            let a = analyses
                .last_mut()
                .ok_or_else(|| r.err("Outcome Number", "a study row before its analysis"))?;
            let row = study_row(&r, a.data_type)?;
            if !studies.iter().any(|(s, _)| *s == row.study) {
                studies.push((
                    row.study.clone(),
                    r.get("Year of study").map(str::to_string),
                ));
            }
            a.subgroups.last_mut().expect("a subgroup").rows.push(row);
        }
        prev = key;
    }
    if analyses.is_empty() {
        return Err(
            Error::data("no analyses in the export (no row with an outcome number)").file(path),
        );
    }
    notes.push("RevMan's CSV export does not carry the CI level (95% assumed), swap events or the studies' references and risk of bias; its figures are printed to 8 significant digits".into());
    let title = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .trim_end_matches("_CR")
        .to_string();
    Ok(Review {
        title,
        format: "RevMan 5 CSV export (Data and analyses)".into(),
        studies,
        analyses,
        notes,
    })
}

fn analysis(r: &Row, key: (u32, u32, u32), cname: &str) -> Result<Analysis> {
    let data_type = match r.req("Data Type")? {
        "DIC" => DataType::Dichotomous,
        "CON" => DataType::Continuous,
        t => return Err(r.err("Data Type", format!("RevMan data type {t:?} is not imported: only dichotomous (DIC) and continuous (CON) have been checked against files RevMan wrote"))),
    };
    let m = r.req("Effect Measure")?;
    let measure = measure_name(m).ok_or_else(|| {
        r.err(
            "Effect Measure",
            format!("effect measure {m:?} is not imported"),
        )
    })?;
    let sm = r.req("Statistical Method")?;
    let method = method_name(sm).ok_or_else(|| {
        r.err(
            "Statistical Method",
            format!("statistical method {sm:?} is not imported"),
        )
    })?;
    let random = match r.req("Analysis Model")? {
        "Fixed" => false,
        "Random" => true,
        m => return Err(r.err("Analysis Model", format!("{m:?}: expected Fixed or Random"))),
    };
    let label = |c: &str| r.get(c).unwrap_or("").to_string();
    let s = without_fixed_tau2(row_figures(r, &STORED)?, random);
    Ok(Analysis {
        comparison: key.0,
        comparison_name: cname.to_string(),
        number: key.1,
        name: label("Name"),
        data_type,
        method: method.into(),
        measure: measure.into(),
        random,
        level: 95.0,
        swap_events: false,
        labels: [
            "Group Label 1",
            "Group Label 2",
            "Left Graph Label",
            "Right Graph Label",
        ]
        .map(label),
        subgroups: vec![Subgroup {
            name: None,
            rows: vec![],
            stored: vec![],
        }],
        stored: s,
    })
}

fn study_row(r: &Row, t: DataType) -> Result<DataRow> {
    let mut d = DataRow {
        study: r.req("Name")?.to_string(),
        totals: [cell_number(r, "Total 1")?, cell_number(r, "Total 2")?],
        stored: row_figures(r, &STUDY_STORED)?,
        ..Default::default()
    };
    match t {
        DataType::Dichotomous => {
            d.events = [cell_number(r, "Events 1")?, cell_number(r, "Events 2")?]
        }
        DataType::Continuous => {
            d.means = [cell_number(r, "Mean 1")?, cell_number(r, "Mean 2")?];
            d.sds = [cell_number(r, "SD 1")?, cell_number(r, "SD 2")?];
        }
    }
    Ok(d)
}
