//! # metapipe-extract
//!
//! Extraction sheets (CSV, one fact per row with its source) → the studies, arms and
//! outcome_data tables. The studies sheet has `study_id, label` and the covariates the review
//! declares (text, number, yes/no). Factorial trials are recorded arm by arm; the comparison's arm
//! sizes are derived from the arms (a polars group-by), never typed. Outcome rows are binary,
//! continuous or generic by the outcome's declared type. A cell no source gives stays missing.

use metapipe_tables::io::Input;
use metapipe_tables::schema::{ARMS, OUTCOME_DATA, STUDIES};
use metapipe_tables::{f, i, pe, s, so, Builder, Error, Result, Table};
use polars::prelude::*;
use std::collections::BTreeMap;

/// The type of a covariate column of the studies sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CovKind {
    Text,
    Number,
    YesNo,
}

impl CovKind {
    pub fn parse(s: &str) -> Option<CovKind> {
        Some(match s {
            "text" => CovKind::Text,
            "number" => CovKind::Number,
            "yes/no" | "yesno" | "bool" => CovKind::YesNo,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Covariate {
    pub name: String,
    pub kind: CovKind,
}

/// What an outcome's rows hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// events and totals per arm
    Binary,
    /// mean, SD and n per arm
    Continuous,
    /// a reported estimate with its SE, or with its CI
    Generic,
}

/// What the review declares about its sheets.
pub struct Spec<'a> {
    pub covariates: &'a [Covariate],
    /// factorial trials: the comparison is arms with this factor against arms without it
    pub comparison_factor: Option<&'a str>,
    /// every outcome of the protocol with its type
    pub outcomes: &'a [(String, OutcomeKind)],
}

/// The extract stage's tables.
#[derive(Debug)]
pub struct Extracted {
    pub studies: Table,
    pub arms: Table,
    pub outcome_data: Table,
}

/// A CSV file as (line, header-indexed row) with file/line/field errors.
pub struct Sheet {
    pub path: std::path::PathBuf,
    pub headers: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

impl Sheet {
    pub fn parse(input: &Input, required: &[&str]) -> Result<Sheet> {
        let (path, text) = (input.path.as_path(), input.text()?);
        let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| Error::data(e.to_string()).file(path).line(1))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        for r in required {
            if !headers.iter().any(|h| h == r) {
                return Err(
                    Error::data(format!("missing column (have: {})", headers.join(",")))
                        .file(path)
                        .line(1)
                        .field(*r),
                );
            }
        }
        let mut rows = vec![];
        for (n, r) in rdr.records().enumerate() {
            let r = r.map_err(|e| Error::data(e.to_string()).file(path).line(n + 2))?;
            rows.push((n + 2, r.iter().map(|x| x.trim().to_string()).collect()));
        }
        if rows.is_empty() {
            return Err(Error::data("no rows (header only)").file(path));
        }
        Ok(Sheet {
            path: path.to_path_buf(),
            headers,
            rows,
        })
    }
    pub fn has(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h == name)
    }
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(move |(ln, cells)| Row {
            sheet: self,
            line: *ln,
            cells,
        })
    }
}

pub struct Row<'a> {
    sheet: &'a Sheet,
    pub line: usize,
    cells: &'a [String],
}

impl Row<'_> {
    pub fn get(&self, name: &str) -> Option<&str> {
        let k = self.sheet.headers.iter().position(|h| h == name)?;
        self.cells
            .get(k)
            .map(|s| s.as_str())
            .filter(|s| !s.is_empty())
    }
    pub fn err(&self, field: &str, msg: impl Into<String>) -> Error {
        Error::data(msg)
            .file(&self.sheet.path)
            .line(self.line)
            .field(field)
    }
    pub fn req(&self, name: &str) -> Result<&str> {
        self.get(name)
            .ok_or_else(|| self.err(name, "required value is empty"))
    }
    /// A non-negative whole number, or `None` if empty.
    pub fn count(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.parse::<i64>() {
                Ok(x) if x >= 0 => Ok(Some(x)),
                Ok(_) => Err(self.err(name, format!("{v} is negative; expected a count >= 0"))),
                Err(_) => Err(self.err(name, format!("{v:?} is not a whole number"))),
            },
        }
    }
    /// A finite number, or `None` if empty.
    pub fn number(&self, name: &str) -> Result<Option<f64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(self.err(name, format!("{v:?} is not a number"))),
            },
        }
    }
    /// yes/no, or `None` if empty.
    pub fn flag(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name).map(|v| v.to_ascii_lowercase()) {
            None => Ok(None),
            Some(v) => match v.as_str() {
                "yes" | "true" | "y" | "1" => Ok(Some(true)),
                "no" | "false" | "n" | "0" => Ok(Some(false)),
                _ => Err(self.err(name, format!("{v:?} is not yes/no"))),
            },
        }
    }
}

/// Arms in long form: one row per (arm, factor) with the arm's level on that factor.
struct ArmRow {
    study_id: String,
    arm: String,
    n: i64,
    factors: Vec<(String, String)>,
    source: Option<String>,
}

/// Margins of factorial trials along every factor, in polars: for each (study, factor), the
/// arms whose level is not "none" (treat) against the arms whose level is "none" (ctrl).
/// Columns: study_id, factor, treat, ctrl, treat_arms, ctrl_arms (arm names joined by " + ").
pub fn factor_margins(arms: &Table) -> Result<DataFrame> {
    // one row per (arm, factor): the arm's `factors` cell "f=level; g=level" split
    let (mut study, mut factor, mut level, mut arm, mut n) =
        (vec![], vec![], vec![], vec![], vec![]);
    for r in 0..arms.num_rows() {
        let (Some(id), Some(name), Some(fs), Some(size)) = (
            arms.str("study_id").get(r),
            arms.str("arm").get(r),
            arms.str("factors").get(r),
            arms.int("n").get(r),
        ) else {
            continue;
        };
        for part in fs.split("; ") {
            let mut kv = part.split('=');
            study.push(id);
            arm.push(name);
            n.push(size);
            factor.push(kv.next().unwrap_or(""));
            level.push(kv.next());
        }
    }
    let long = DataFrame::new(
        study.len(),
        vec![
            Column::new("study_id".into(), &study),
            Column::new("factor".into(), &factor),
        ],
    )?;
    let (mut g_study, mut g_factor, mut treat, mut ctrl, mut treat_arms, mut ctrl_arms) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (level, arm, n) = (&level, &arm, &n);
    for rows in metapipe_tables::frame::groups(&long, &["study_id", "factor"])?.iter() {
        let rows: Vec<usize> = rows.iter().map(|&r| r as usize).collect();
        // an arm without a level for the factor is on neither side
        let side = |none: bool| {
            rows.iter()
                .filter(move |&&r| level[r].map(|l| (l == "none") == none).unwrap_or(false))
        };
        g_study.push(study[rows[0]]);
        g_factor.push(factor[rows[0]]);
        treat.push(side(false).map(|&r| n[r]).sum::<i64>());
        ctrl.push(side(true).map(|&r| n[r]).sum::<i64>());
        treat_arms.push(side(false).map(|&r| arm[r]).collect::<Vec<_>>().join(" + "));
        ctrl_arms.push(side(true).map(|&r| arm[r]).collect::<Vec<_>>().join(" + "));
    }
    let col = |name: &str, v: &[&str]| Column::new(name.into(), v);
    DataFrame::new(
        g_study.len(),
        vec![
            col("study_id", &g_study),
            col("factor", &g_factor),
            Column::new("treat".into(), treat),
            Column::new("ctrl".into(), ctrl),
            Column::new("treat_arms".into(), treat_arms),
            Column::new("ctrl_arms".into(), ctrl_arms),
        ],
    )
    .map_err(pe)
}

fn read_arms(input: &Input, factor: &str) -> Result<Vec<ArmRow>> {
    let sa = Sheet::parse(input, &["study_id", "arm", "n", factor])?;
    let factor_cols: Vec<String> = sa
        .headers
        .iter()
        .filter(|h| !["study_id", "arm", "n", "source"].contains(&h.as_str()))
        .cloned()
        .collect();
    let mut out = vec![];
    for r in sa.rows() {
        let n = r
            .count("n")?
            .ok_or_else(|| r.err("n", "required value is empty"))?;
        let factors = factor_cols
            .iter()
            .map(|fc| Ok((fc.clone(), r.req(fc)?.to_string())))
            .collect::<Result<Vec<_>>>()?;
        out.push(ArmRow {
            study_id: r.req("study_id")?.into(),
            arm: r.req("arm")?.into(),
            n,
            factors,
            source: r.get("source").map(String::from),
        });
    }
    Ok(out)
}

fn arms_table(arms: &[ArmRow], factor: &str) -> Result<Table> {
    let mut t = Builder::new(&ARMS);
    for a in arms {
        let in_treat = a.factors.iter().any(|(f, v)| f == factor && v != "none");
        let factors = a
            .factors
            .iter()
            .map(|(f, v)| format!("{f}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        t.row(vec![
            s(&a.study_id),
            s(&a.arm),
            s(if in_treat { "treat" } else { "ctrl" }),
            s(factors),
            i(a.n),
            so(a.source.clone()),
        ]);
    }
    t.finish()
}

/// Read the extraction sheets into the studies, arms and outcome_data tables.
pub fn extract(
    studies: &Input,
    arms: Option<&Input>,
    outcomes: &Input,
    spec: &Spec,
) -> Result<Extracted> {
    let arms_t = match (arms, spec.comparison_factor) {
        (Some(a), Some(f)) => arms_table(&read_arms(a, f)?, f)?,
        (Some(a), None) => return Err(Error::data("an arms sheet needs `comparison_factor` in [extraction] (the factor whose arms are compared)").file(&a.path).field("extraction.comparison_factor")),
        (None, _) => Table::empty(&ARMS),
    };
    let studies_t = read_studies(studies, &arms_t, spec)?;
    let ids: Vec<&str> = studies_t.str("study_id").iter().flatten().collect();
    if let Some(a) = arms {
        if let Some(bad) = arms_t
            .str("study_id")
            .iter()
            .flatten()
            .find(|id| !ids.contains(id))
        {
            return Err(Error::data(format!(
                "arm of unknown study {bad:?} (not in the studies sheet)"
            ))
            .file(&a.path)
            .field("study_id"));
        }
    }
    let outcome_data = read_outcomes(outcomes, &studies_t, spec)?;
    Ok(Extracted {
        studies: studies_t,
        arms: arms_t,
        outcome_data,
    })
}

/// The studies sheet: `study_id, label`, optional `ref, design, n_treat, n_ctrl, citation`, and
/// the declared covariates. Where a study has arms, its sizes are derived along the comparison
/// factor and must agree with typed ones.
fn read_studies(input: &Input, arms: &Table, spec: &Spec) -> Result<Table> {
    let mut required = vec!["study_id", "label"];
    required.extend(spec.covariates.iter().map(|c| c.name.as_str()));
    let sh = Sheet::parse(input, &required)?;
    let margins = match spec.comparison_factor {
        Some(f) if arms.num_rows() > 0 => {
            metapipe_tables::frame::rows_equal(&factor_margins(arms)?, "factor", f)?
        }
        _ => DataFrame::empty(),
    };
    let margin_of = |id: &str| -> Option<(i64, i64, String)> {
        let ids = margins.column("study_id").ok()?.str().ok()?.clone();
        let r = ids.iter().position(|x| x == Some(id))?;
        let get_i = |c: &str| margins.column(c).ok()?.i64().ok()?.get(r);
        let get_s = |c: &str| margins.column(c).ok()?.str().ok()?.get(r).map(String::from);
        Some((
            get_i("treat")?,
            get_i("ctrl")?,
            format!(
                "derived from arms along {}: treat = {}; ctrl = {}",
                spec.comparison_factor.unwrap_or(""),
                get_s("treat_arms")?,
                get_s("ctrl_arms")?
            ),
        ))
    };
    let mut b = Builder::new(&STUDIES);
    let mut cov: Vec<Vec<metapipe_tables::Cell>> = vec![vec![]; spec.covariates.len()];
    let mut seen = BTreeMap::new();
    for r in sh.rows() {
        let id = r.req("study_id")?.to_string();
        if let Some(prev) = seen.insert(id.clone(), r.line) {
            return Err(r.err("study_id", format!("{id} already listed on line {prev}")));
        }
        let (typed_t, typed_c) = (r.count("n_treat")?, r.count("n_ctrl")?);
        let (nt, nc, source) = match margin_of(&id) {
            Some((t, c, why)) => {
                if typed_t.is_some_and(|x| x != t) || typed_c.is_some_and(|x| x != c) {
                    return Err(r.err("n_treat", format!("typed sizes {typed_t:?} vs {typed_c:?} disagree with the arms ({t} vs {c})")));
                }
                (Some(t), Some(c), Some(why))
            }
            None => (
                typed_t,
                typed_c,
                (typed_t.is_some() || typed_c.is_some()).then(|| "study table".to_string()),
            ),
        };
        b.row(vec![
            s(&id),
            s(r.req("label")?),
            so(r.get("ref")),
            so(r.get("design")),
            i(nt),
            i(nc),
            so(source),
            so(r.get("citation")),
        ]);
        for (k, c) in spec.covariates.iter().enumerate() {
            cov[k].push(match c.kind {
                CovKind::Text => so(r.get(&c.name)),
                CovKind::Number => f(r.number(&c.name)?),
                CovKind::YesNo => metapipe_tables::b(r.flag(&c.name)?),
            });
        }
    }
    let mut df = b.finish()?.df;
    for (c, cells) in spec.covariates.iter().zip(cov) {
        let name: PlSmallStr = c.name.as_str().into();
        // a covariate named like a text column every studies table has (e.g. design) is that column
        match STUDIES.fields.iter().find(|f| f.name == c.name) {
            Some(f) if f.ty == metapipe_tables::ColType::Str && c.kind == CovKind::Text => continue,
            Some(_) => {
                return Err(Error::data(format!(
                    "{:?} is a column of every studies table; name the covariate otherwise",
                    c.name
                ))
                .field("extraction.covariates"))
            }
            None => {}
        }
        let column = match c.kind {
            CovKind::Text => Column::new(
                name,
                cells
                    .into_iter()
                    .map(|x| {
                        if let metapipe_tables::Cell::S(v) = x {
                            v
                        } else {
                            None
                        }
                    })
                    .collect::<Vec<_>>(),
            ),
            CovKind::Number => Column::new(
                name,
                cells
                    .into_iter()
                    .map(|x| {
                        if let metapipe_tables::Cell::F(v) = x {
                            v
                        } else {
                            None
                        }
                    })
                    .collect::<Vec<_>>(),
            ),
            CovKind::YesNo => Column::new(
                name,
                cells
                    .into_iter()
                    .map(|x| {
                        if let metapipe_tables::Cell::B(v) = x {
                            v
                        } else {
                            None
                        }
                    })
                    .collect::<Vec<_>>(),
            ),
        };
        df.with_column(column)?;
    }
    Table::new(&STUDIES, df)
}

/// Read the outcome sheet. `status` (reported, derived, missing) is optional: without it a row
/// with data is reported and a row without is missing; a row marked reported or derived needs
/// its source (`source` or `source_url`). Binary denominators default to the studies' arm sizes.
fn read_outcomes(input: &Input, studies: &Table, spec: &Spec) -> Result<Table> {
    let sh = Sheet::parse(input, &["study_id", "outcome"])?;
    let src_col = if sh.has("source") {
        "source"
    } else {
        "source_url"
    };
    let ids = studies.str("study_id");
    let (snt, snc) = (studies.int("n_treat"), studies.int("n_ctrl"));
    let mut t = Builder::new(&OUTCOME_DATA);
    let mut seen = BTreeMap::new();
    for r in sh.rows() {
        let sid = r.req("study_id")?.to_string();
        let row = ids
            .iter()
            .position(|x| x == Some(sid.as_str()))
            .ok_or_else(|| {
                r.err(
                    "study_id",
                    format!("unknown study {sid:?} (not in the studies sheet)"),
                )
            })?;
        let outcome = r.req("outcome")?.to_string();
        let Some((_, kind)) = spec.outcomes.iter().find(|(id, _)| *id == outcome) else {
            return Err(r.err(
                "outcome",
                format!("outcome {outcome:?} is not in the pipeline's outcomes"),
            ));
        };
        if let Some(prev) = seen.insert((sid.clone(), outcome.clone()), r.line) {
            return Err(r.err(
                "outcome",
                format!("{sid} {outcome} already given on line {prev}"),
            ));
        }
        let (nt, nc) = (
            r.count("n_treat")?.or(snt.get(row)),
            r.count("n_ctrl")?.or(snc.get(row)),
        );
        let (et, ec) = (r.count("events_treat")?, r.count("events_ctrl")?);
        let (mt, sdt, mc, sdc) = (
            r.number("mean_treat")?,
            r.number("sd_treat")?,
            r.number("mean_ctrl")?,
            r.number("sd_ctrl")?,
        );
        let (est, se, lb, ub) = (
            r.number("estimate")?,
            r.number("se")?,
            r.number("ci_lb")?,
            r.number("ci_ub")?,
        );
        // the first cell this outcome's type needs that the row leaves empty
        let need = |cells: &[(&'static str, bool)]| cells.iter().find(|c| !c.1).map(|c| c.0);
        let (given, lacking, what) = match kind {
            OutcomeKind::Binary => (
                et.is_some() || ec.is_some(),
                need(&[
                    ("events_treat", et.is_some()),
                    ("n_treat", nt.is_some()),
                    ("events_ctrl", ec.is_some()),
                    ("n_ctrl", nc.is_some()),
                ]),
                "events and totals per arm",
            ),
            OutcomeKind::Continuous => (
                [mt, sdt, mc, sdc].iter().any(Option::is_some),
                need(&[
                    ("mean_treat", mt.is_some()),
                    ("sd_treat", sdt.is_some()),
                    ("n_treat", nt.is_some()),
                    ("mean_ctrl", mc.is_some()),
                    ("sd_ctrl", sdc.is_some()),
                    ("n_ctrl", nc.is_some()),
                ]),
                "mean, SD and n per arm",
            ),
            OutcomeKind::Generic => (
                [est, se, lb, ub].iter().any(Option::is_some),
                need(&[
                    ("estimate", est.is_some()),
                    ("se", se.is_some() || (lb.is_some() && ub.is_some())),
                ]),
                "an estimate with its se, or with ci_lb and ci_ub",
            ),
        };
        let status = match r.get("status") {
            Some(v) => v.to_string(),
            None if given => "reported".into(),
            None => "missing".into(),
        };
        match status.as_str() {
            "reported" | "derived" => {
                if let Some(cell) = lacking {
                    return Err(r.err(
                        cell,
                        format!(
                            "required value is empty: a {status} row of this outcome needs {what}"
                        ),
                    ));
                }
                if r.get("status").is_some() && r.get(src_col).is_none() {
                    return Err(r.err(src_col, format!("a {status} number needs its source")));
                }
            }
            "missing" => {
                if given {
                    return Err(r.err("status", "status missing but data are given"));
                }
            }
            other => {
                return Err(r.err(
                    "status",
                    format!("{other:?}: expected reported, derived or missing"),
                ))
            }
        }
        if let (Some(e), Some(n)) = (et, nt) {
            if e > n {
                return Err(r.err("events_treat", format!("{e} events > n_treat {n}")));
            }
        }
        if let (Some(e), Some(n)) = (ec, nc) {
            if e > n {
                return Err(r.err("events_ctrl", format!("{e} events > n_ctrl {n}")));
            }
        }
        for (name, v) in [("sd_treat", sdt), ("sd_ctrl", sdc), ("se", se)] {
            if v.is_some_and(|x| x < 0.0 || (name == "se" && x == 0.0)) {
                return Err(r.err(name, format!("{} must be > 0", v.unwrap_or_default())));
            }
        }
        if let (Some(e), Some(l), Some(u)) = (est, lb, ub) {
            if !(l <= e && e <= u) {
                return Err(r.err(
                    "ci_lb",
                    format!("the interval {l} to {u} does not contain the estimate {e}"),
                ));
            }
        }
        t.row(vec![
            s(&sid),
            s(&outcome),
            i(et),
            i(nt),
            i(ec),
            i(nc),
            s(status),
            so(r.get(src_col)),
            so(r.get("timepoint")),
            so(r.get("evidence")),
            f(mt),
            f(sdt),
            f(mc),
            f(sdc),
            f(est),
            f(se),
            f(lb),
            f(ub),
        ]);
    }
    t.finish()
}

#[cfg(test)]
mod tests;
