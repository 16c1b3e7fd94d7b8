//! `metapipe export revman pipelines/NAME.toml --out FILE.rm5`: a review that has been run, as a
//! RevMan 5 file: its studies, each outcome's data rows (the extracted `outcome_data`) with the
//! outcome's settings, and the run's results (`results`, `per_study_effects`) as the figures
//! RevMan stores. `metapipe import revman` reads the file back to the same studies, outcome data
//! and results (tested).

use crate::config::{Config, OutcomeCfg};
use metapipe_interop::revman::{self, Analysis, DataRow, DataType, Review, Subgroup};
use metapipe_meta::{Measure, Method};
use metapipe_plan::Choice;
use metapipe_report::audit::{result_figure, study_figure};
use metapipe_tables::io::{read_parquet, write_atomic};
use metapipe_tables::{schema, Error, Table};
use std::path::Path;

type Result<T> = std::result::Result<T, Error>;

/// Export the run of `config` (its outputs under `out_root/NAME/`) to `file`.
pub fn export_revman(config: &Path, out_root: &Path, file: &Path) -> Result<String> {
    let cfg = Config::load(config)?;
    let dir = out_root.join(&cfg.review.name);
    let read = |name: &str, s: &'static metapipe_tables::TableSchema| {
        let p = dir.join(format!("{name}.parquet"));
        if !p.exists() {
            return Err(Error::usage(format!(
                "{}: no such output; run the review first (metapipe run {})",
                p.display(),
                config.display()
            )));
        }
        read_parquet(&p, s)
    };
    let studies = read("studies", &schema::STUDIES)?;
    let data = read("outcome_data", &schema::OUTCOME_DATA)?;
    let results = read("results", &schema::RESULTS)?;
    let effects = read("per_study_effects", &schema::EFFECTS)?;
    let mut rv = Review {
        title: cfg.review.title.clone(),
        format: "RevMan 5 file (.rm5)".into(),
        studies: study_list(&studies)?,
        analyses: vec![],
        notes: vec![],
    };
    for (i, o) in cfg.outcomes.iter().enumerate() {
        let a = analysis(&cfg, o, i, &studies, &data, &results, &effects)
            .map_err(|e| e.file(config))?;
        rv.analyses.push(a);
    }
    write_atomic(file, revman::export(&rv).as_bytes())?;
    Ok(format!(
        "wrote {} ({} analyses of {} studies)\n",
        file.display(),
        rv.analyses.len(),
        rv.studies.len()
    ))
}

/// The studies (name = study_id) and their `year` covariate where the review has one.
fn study_list(t: &Table) -> Result<Vec<(String, Option<String>)>> {
    let year = t
        .extra_columns()
        .iter()
        .find(|c| c.name().as_str() == "year")
        .map(|c| c.cast(&polars::prelude::DataType::Float64))
        .transpose()
        .map_err(|e| Error::data(e.to_string()))?;
    let ids = t.str("study_id");
    Ok((0..t.num_rows())
        .map(|k| {
            let y = year
                .as_ref()
                .and_then(|c| c.f64().ok()?.get(k))
                .map(|y| format!("{y}"));
            (ids.get(k).unwrap_or("").to_string(), y)
        })
        .collect())
}

/// RevMan's numbers of an outcome (`analysis_C_N` as imported; else comparison 1, in order) and
/// the comparison's name (from an imported definition; else the review's title).
fn numbering(cfg: &Config, o: &OutcomeCfg, i: usize) -> (u32, u32, String, String) {
    let nums =
        o.id.strip_prefix("analysis_")
            .and_then(|r| r.split_once('_'))
            .and_then(|(c, n)| Some((c.parse().ok()?, n.parse().ok()?)));
    let (c, n) = nums.unwrap_or((1, i as u32 + 1));
    let cname = o
        .definition
        .as_deref()
        .and_then(|d| d.split_once(&format!(" of comparison {c} (")))
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .map(str::to_string)
        .unwrap_or_else(|| cfg.review.title.clone());
    let prefix = format!("{c}.{n} ");
    let name = o
        .label
        .strip_prefix(&prefix)
        .unwrap_or(&o.label)
        .to_string();
    (c, n, cname, name)
}

fn analysis(
    cfg: &Config,
    o: &OutcomeCfg,
    i: usize,
    studies: &Table,
    data: &Table,
    results: &Table,
    effects: &Table,
) -> Result<Analysis> {
    let spec = cfg.spec(o)?;
    let (data_type, method, random) = model_of(&spec, &o.id)?;
    let (comparison, number, comparison_name, name) = numbering(cfg, o, i);
    let (treat, ctrl) = o.groups(&cfg.review);
    let mut a = Analysis {
        comparison,
        comparison_name,
        number,
        name,
        data_type,
        method: method.into(),
        measure: spec.measure.name().into(),
        random,
        level: spec.opts.level * 100.0,
        swap_events: false,
        labels: [
            treat.to_string(),
            ctrl.to_string(),
            o.favours_left.clone().unwrap_or_default(),
            o.favours_right.clone().unwrap_or_default(),
        ],
        subgroups: vec![],
        stored: figures(results, &o.id, None, random),
    };
    let sub_of = |study: &str| -> Option<String> {
        let col = o.subgroup_by.as_deref()?;
        let c = studies
            .extra_columns()
            .iter()
            .find(|c| c.name().as_str() == col)?
            .cast(&polars::prelude::DataType::String)
            .ok()?;
        let k = (0..studies.num_rows()).find(|&k| studies.str("study_id").get(k) == Some(study))?;
        c.str().ok()?.get(k).map(str::to_string)
    };
    for k in (0..data.num_rows()).filter(|&k| data.str("outcome").get(k) == Some(o.id.as_str())) {
        let study = data.str("study_id").get(k).unwrap_or("").to_string();
        let int = |c: &str| data.int(c).get(k).map(|v| v as f64);
        let flt = |c: &str| data.float(c).get(k);
        let d = DataRow {
            events: [int("events_treat"), int("events_ctrl")],
            totals: [int("n_treat"), int("n_ctrl")],
            means: [flt("mean_treat"), flt("mean_ctrl")],
            sds: [flt("sd_treat"), flt("sd_ctrl")],
            stored: study_figures(effects, &o.id, &study),
            study: study.clone(),
        };
        let sub = sub_of(&study);
        match a.subgroups.iter_mut().find(|g| g.name == sub) {
            Some(g) => g.rows.push(d),
            None => {
                let stored = match &sub {
                    Some(s) => figures(results, &o.id, Some(s), random),
                    None => vec![],
                };
                a.subgroups.push(Subgroup {
                    name: sub,
                    rows: vec![d],
                    stored,
                });
            }
        }
    }
    Ok(a)
}

/// RevMan's data type, statistical method and model for an outcome's spec, or why it has none.
fn model_of(spec: &metapipe_plan::Spec, id: &str) -> Result<(DataType, &'static str, bool)> {
    let bad = |m: String| Error::usage(format!("outcome {}: {m}", id)).field("outcomes");
    let data_type = match spec.measure {
        m if m.is_binary() => DataType::Dichotomous,
        Measure::MD | Measure::SMD => DataType::Continuous,
        m => return Err(bad(format!("measure {}: a RevMan 5 export covers dichotomous (OR, RR, RD) and continuous (MD, SMD) outcomes", m.name()))),
    };
    let (method, random) = match (spec.choice, spec.fixed, spec.random) {
        (Choice::Fixed, Method::MH, _) => ("MH", false),
        (Choice::Fixed, Method::Peto, _) => ("PETO", false),
        (Choice::Fixed, _, _) => ("IV", false),
        (Choice::Random, _, Method::DL) if data_type == DataType::Dichotomous && spec.revman() => {
            ("MH", true)
        }
        (Choice::Random, _, Method::DL) => ("IV", true),
        _ => return Err(bad(
            "RevMan 5 has one model per analysis, fixed effect or DerSimonian-Laird random effects"
                .into(),
        )),
    };
    Ok((data_type, method, random))
}

/// An analysis's (or subgroup's) results as RevMan stores them: |z| from the two-sided p.
fn figures(
    r: &Table,
    outcome: &str,
    subgroup: Option<&str>,
    random: bool,
) -> Vec<(&'static str, String)> {
    let Some(k) = (0..r.num_rows()).find(|&k| {
        r.str("outcome").get(k) == Some(outcome) && r.str("subgroup").get(k) == subgroup
    }) else {
        return vec![];
    };
    // the audit's definition of each figure, so the export stores what the audit compares
    revman::STATS
        .iter()
        .filter(|&&name| random || name != "tau2")
        .filter_map(|&name| Some((name, format!("{}", result_figure(r, k, name)??))))
        .collect()
}

/// A study's effect, CI, SE (of the analysis scale) and weight (percent).
fn study_figures(e: &Table, outcome: &str, study: &str) -> Vec<(&'static str, String)> {
    let Some(k) = (0..e.num_rows()).find(|&k| {
        e.str("outcome").get(k) == Some(outcome)
            && e.str("study_id").get(k) == Some(study)
            && e.str("subgroup").get(k).is_none()
    }) else {
        return vec![];
    };
    revman::STUDY_STATS
        .iter()
        .filter_map(|&name| Some((name, format!("{}", study_figure(e, k, name)??))))
        .collect()
}
