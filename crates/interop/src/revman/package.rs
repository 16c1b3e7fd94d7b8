//! RevMan Web / Cochrane Library data packages: a `.zip` holding `*-data.zip`, whose
//! `analysis-data/` has the analyses' settings and overall estimates, the data rows and the
//! subgroup estimates, and whose `study-data/` has the study information (CSV, UTF-8 with a
//! byte-order mark). Figures are printed to 6 decimals.

use super::*;
use metapipe_tables::io::Input;
use metapipe_tables::sheet::{Row, Sheet};
use std::io::{Cursor, Read};
use std::path::PathBuf;

/// The files of a zip archive (name, bytes).
fn entries(path: &Path, bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    let bad = |e: zip::result::ZipError| {
        Error::data(format!("not a readable zip archive: {e}")).file(path)
    };
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).map_err(bad)?;
    let mut out = vec![];
    for i in 0..z.len() {
        let mut f = z.by_index(i).map_err(bad)?;
        if f.is_dir() {
            continue;
        }
        let mut b = vec![];
        f.read_to_end(&mut b).map_err(|e| Error::io(path, e))?;
        let name = f.name().map_err(bad)?.to_string();
        out.push((name, b));
    }
    Ok(out)
}

/// The sheet of the package whose name ends with `suffix`, named `package.zip!inner/name`.
fn sheet(
    path: &Path,
    files: &[(String, Vec<u8>)],
    suffix: &str,
    required: &[&str],
) -> Result<Option<Sheet>> {
    let Some((name, bytes)) = files.iter().find(|(n, _)| n.ends_with(suffix)) else {
        return Ok(None);
    };
    let input = Input {
        path: PathBuf::from(format!("{}!{name}", path.display())),
        bytes: bytes.clone(),
    };
    Sheet::read(&input, required).map(Some)
}

pub(super) fn read(path: &Path, bytes: &[u8]) -> Result<Review> {
    let mut files = entries(path, bytes)?;
    if let Some((_, inner)) = files.iter().find(|(n, _)| n.ends_with("-data.zip")) {
        files = entries(path, &inner.clone())?;
    }
    let need = |s: Option<Sheet>, what: &str| {
        s.ok_or_else(|| Error::data(format!("not a RevMan data package: no {what}")).file(path))
    };
    let settings = need(
        sheet(
            path,
            &files,
            "overall-estimates-and-settings.csv",
            &["Analysis group", "Analysis number", "Data type"],
        )?,
        "analysis-data/*-overall-estimates-and-settings.csv",
    )?;
    let rows = need(
        sheet(
            path,
            &files,
            "data-rows.csv",
            &["Analysis group", "Analysis number", "Study"],
        )?,
        "analysis-data/*-data-rows.csv",
    )?;
    let subgroups = sheet(
        path,
        &files,
        "subgroup-estimates.csv",
        &["Analysis group", "Analysis number", "Subgroup"],
    )?;
    let mut notes = vec![];
    let mut analyses = vec![];
    for r in settings.rows() {
        analyses.push(analysis(&r, &mut notes)?);
    }
    let studies = place_rows(&rows, &mut analyses)?;
    if let Some(sg) = subgroups {
        place_subgroups(&sg, &mut analyses)?;
    }
    for a in &mut analyses {
        zeros(a, &mut notes);
    }
    notes.push("a data package carries no forest-plot graph labels; the study information's references and risk-of-bias tables are not imported".into());
    Ok(Review {
        title: analyses
            .first()
            .map(|a| a.comparison_name.clone())
            .unwrap_or_default(),
        format: "RevMan Web data package (.zip)".into(),
        studies,
        analyses,
        notes,
    })
}

/// The data rows into their analyses and subgroups; the studies in order of appearance.
fn place_rows(rows: &Sheet, analyses: &mut [Analysis]) -> Result<Vec<(String, Option<String>)>> {
    let mut studies: Vec<(String, Option<String>)> = vec![];
    for r in rows.rows() {
        let key = (
            cell_whole(&r, "Analysis group")?,
            cell_whole(&r, "Analysis number")?,
        );
        let a = analyses
            .iter_mut()
            .find(|a| (a.comparison, a.number) == key)
            .ok_or_else(|| {
                r.err(
                    "Analysis number",
                    format!("no analysis {}.{} in the settings", key.0, key.1),
                )
            })?;
        match r.get("Applicability") {
            None | Some("SUBGROUP_AND_OVERALL") => {}
            Some(v) => return Err(r.err("Applicability", format!("{v:?} is not imported (only SUBGROUP_AND_OVERALL has been seen in a file RevMan wrote)"))),
        }
        let d = data_row(&r, a.data_type)?;
        if !studies.iter().any(|(s, _)| *s == d.study) {
            studies.push((d.study.clone(), r.get("Study year").map(str::to_string)));
        }
        let sub = r.get("Subgroup").map(str::to_string);
        match a.subgroups.iter_mut().find(|s| s.name == sub) {
            Some(s) => s.rows.push(d),
            None => a.subgroups.push(Subgroup {
                name: sub,
                rows: vec![d],
                stored: vec![],
            }),
        }
    }
    Ok(studies)
}

/// Each subgroup's estimates onto its subgroup.
fn place_subgroups(sg: &Sheet, analyses: &mut [Analysis]) -> Result<()> {
    for r in sg.rows() {
        let key = (
            cell_whole(&r, "Analysis group")?,
            cell_whole(&r, "Analysis number")?,
        );
        let name = r.get("Subgroup").map(str::to_string);
        let Some(a) = analyses
            .iter_mut()
            .find(|a| (a.comparison, a.number) == key)
        else {
            return Err(r.err(
                "Analysis number",
                format!("no analysis {}.{} in the settings", key.0, key.1),
            ));
        };
        let random = a.random;
        match a.subgroups.iter_mut().find(|s| s.name == name) {
            Some(s) => s.stored = figures(&r, random)?,
            None => {
                return Err(r.err(
                    "Subgroup",
                    format!("{name:?}: no data rows in this subgroup"),
                ))
            }
        }
    }
    Ok(())
}

/// The overall or a subgroup's figures of a settings or subgroup row, by column.
const FIGURES: [(&str, &str); 10] = [
    ("estimate", "Mean"),
    ("ci_lb", "CI start"),
    ("ci_ub", "CI end"),
    ("Q", "Heterogeneity Chi²"),
    ("Q_df", "Heterogeneity df"),
    ("Q_p", "Heterogeneity P"),
    ("I2", "Heterogeneity I²"),
    ("tau2", "Heterogeneity Tau²"),
    ("z", "Effect Z"),
    ("p", "Effect P"),
];
/// A data row's figures, by column (a package has no study SE).
const STUDY_FIGURES: [(&str, &str); 4] = [
    ("estimate", "Mean"),
    ("ci_lb", "CI start"),
    ("ci_ub", "CI end"),
    ("weight", "Weight"),
];

fn figures(r: &Row, random: bool) -> Result<Vec<(&'static str, String)>> {
    Ok(without_fixed_tau2(row_figures(r, &FIGURES)?, random))
}

fn analysis(r: &Row, notes: &mut Vec<String>) -> Result<Analysis> {
    let data_type = match r.req("Data type")? {
        "Dichotomous" => DataType::Dichotomous,
        "Continuous" => DataType::Continuous,
        t => return Err(r.err("Data type", format!("RevMan data type {t:?} is not imported: only dichotomous and continuous have been checked against files RevMan wrote"))),
    };
    let m = r.req("Effect measure")?;
    let measure = measure_name(m).ok_or_else(|| {
        r.err(
            "Effect measure",
            format!("effect measure {m:?} is not imported"),
        )
    })?;
    let sm = r.req("Statistical method")?;
    let method = method_name(sm).ok_or_else(|| {
        r.err(
            "Statistical method",
            format!("statistical method {sm:?} is not imported"),
        )
    })?;
    let model = r.req("Analysis model")?;
    let random = match model.to_ascii_lowercase().as_str() {
        "fixed effect" | "fixed" => false,
        "random effects" | "random effect" | "random" => true,
        _ => {
            return Err(r.err(
                "Analysis model",
                format!("{model:?}: expected Fixed effect or Random effects"),
            ))
        }
    };
    let level = match r.get("Estimate CI") {
        None => 95.0,
        Some(v) => number(v.trim_end_matches('%'))
            .ok_or_else(|| r.err("Estimate CI", format!("{v:?} is not a level such as 95%")))?,
    };
    let swap = matches!(
        r.get("Swap event and non-event"),
        Some("true" | "TRUE" | "yes" | "YES")
    );
    let label = |c: &str| r.get(c).unwrap_or("").to_string();
    let a = Analysis {
        comparison: cell_whole(r, "Analysis group")?,
        comparison_name: label("Analysis group name"),
        number: cell_whole(r, "Analysis number")?,
        name: label("Analysis name"),
        data_type,
        method: method.into(),
        measure: measure.into(),
        random,
        level,
        swap_events: swap,
        labels: [
            label("Experimental group label"),
            label("Control group label"),
            String::new(),
            String::new(),
        ],
        subgroups: vec![],
        stored: figures(r, random)?,
    };
    if a.labels[0].is_empty() {
        notes.push(format!(
            "analysis {}: no group labels in the package",
            a.label()
        ));
    }
    Ok(a)
}

fn data_row(r: &Row, t: DataType) -> Result<DataRow> {
    let mut d = DataRow {
        study: r.req("Study")?.to_string(),
        totals: [
            cell_number(r, "Experimental N")?,
            cell_number(r, "Control N")?,
        ],
        ..Default::default()
    };
    match t {
        DataType::Dichotomous => {
            d.events = [
                cell_number(r, "Experimental cases")?,
                cell_number(r, "Control cases")?,
            ]
        }
        DataType::Continuous => {
            d.means = [
                cell_number(r, "Experimental mean")?,
                cell_number(r, "Control mean")?,
            ];
            d.sds = [
                cell_number(r, "Experimental SD")?,
                cell_number(r, "Control SD")?,
            ];
        }
    }
    d.stored = row_figures(r, &STUDY_FIGURES)?;
    Ok(d)
}

/// Results printed as zeros (estimate, CI and weights all 0: RevMan Web wrote an analysis it had
/// not calculated) are not RevMan's figures: dropped, and said.
fn zeros(a: &mut Analysis, notes: &mut Vec<String>) {
    let zero = |s: &[(&str, String)], k: &[&str]| {
        k.iter()
            .all(|k| s.iter().any(|(n, v)| n == k && number(v) == Some(0.0)))
    };
    if zero(&a.stored, &["estimate", "ci_lb", "ci_ub"]) {
        a.stored.clear();
        for s in &mut a.subgroups {
            s.stored.clear();
            for d in &mut s.rows {
                d.stored.clear();
            }
        }
        notes.push(format!("analysis {} ({}): the package's estimate, CI, heterogeneity and weights are all printed as 0 — results RevMan Web did not calculate, not figures; its data rows (means, SDs, sizes) are imported and the analysis has nothing of RevMan's to compare with", a.label(), a.name));
    }
}
