//! # metapipe-plan
//!
//! The analysis plan applied to the extracted data: which studies each outcome pools, which
//! model, which subgroups. An outcome whose stated studies lack data is never pooled from a
//! silent subset: its row names the studies that lack data and leaves the estimate empty (or,
//! when the plan allows pooling the available studies, says so in `note`).
//!
//! The relational part (study sets, subgroup membership, the outcome-data join) is one polars
//! query ([`plan_frame`]); the models are [`fit`]'s; the output tables are [`tables`]'.

mod between;
pub mod fit;
pub mod options;
mod rob;
mod sensitivity;
mod tables;

pub use fit::{Choice, Convention, Model, Spec, StudyData};
pub use rob::{per_result as rob_per_result, rob_overall};
pub use sensitivity::{model_terms, sensitivity_table, Sensitivity, SmallStudyTest};
pub use tables::{effects_table, results_table};

use metapipe_tables::schema::OutcomeKind;
use metapipe_tables::{frame, pe, Error, Result, Table};
use polars::prelude::*;

/// A subgroup: the studies whose `column` (a column of the studies table) reads `value`
/// (yes/no columns read `true`/`false`), shown as `name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Subgroup {
    pub column: String,
    pub value: String,
    pub name: String,
}

/// Which studies an outcome pools.
#[derive(Debug, Clone, PartialEq)]
pub enum StudySet {
    /// the studies the review states, in its order
    Listed(Vec<String>),
    /// every study with a row for the outcome, in the studies table's order
    All,
    /// the review pooled a set it does not name: nothing is pooled
    Unstated,
}

#[derive(Debug, Clone)]
pub struct OutcomePlan {
    pub id: String,
    pub studies: StudySet,
    /// a studies column whose levels are subgroups, with the test for subgroup differences;
    /// the levels to show (default: every level among the outcome's studies, in table order)
    pub subgroup_by: Option<(String, Option<Vec<String>>)>,
    /// the subgroups' random-effects rows and their test share one τ² (`subgroup_tau2 =
    /// "common"`), else each subgroup has its own
    pub common_tau2: bool,
    /// further single subgroups
    pub subgroups: Vec<Subgroup>,
    /// Pool the studies with data when some lack it (and say so), instead of leaving it empty.
    pub pool_available: bool,
    pub spec: Spec,
    /// sensitivity and small-study analyses of the overall analysis
    pub sensitivity: Sensitivity,
}

/// The test for subgroup differences on an outcome's overall row.
#[derive(Debug, Clone, PartialEq)]
pub struct Between {
    pub by: String,
    /// per model kind ("fixed", "random"): (Q, df, p)
    pub tests: Vec<(&'static str, f64, usize, f64)>,
}

/// One pooled analysis (outcome × subgroup).
#[derive(Debug, Clone)]
pub struct Analysis {
    pub outcome: String,
    pub subgroup: Option<String>,
    /// the column of a `subgroup_by` subgroup
    pub subgroup_by: Option<String>,
    pub spec: Spec,
    pub studies: Vec<String>,
    pub missing: Vec<String>,
    /// the models reported (one results row each; none when not pooled)
    pub models: Vec<Model>,
    pub note: Option<String>,
    /// every study with data: its data, (yi, vi) on the analysis scale, weight when pooled
    pub per_study: Vec<(StudyData, Option<(f64, f64)>, Option<f64>)>,
    /// on an outcome's overall analysis with `subgroup_by`
    pub between: Option<Between>,
    /// the studies with data were put to the models (the totals describe them)
    pub attempted: bool,
}

/// One analysis of the plan: an outcome, optionally restricted to a subgroup.
struct Cell<'a> {
    plan: &'a OutcomePlan,
    /// the outcome's study set ([`study_set`], built once per outcome); `None`: unstated
    set: Option<DataFrame>,
    subgroup: Option<Subgroup>,
    by: bool,
}

/// The outcome-data columns a study's data come from: the counts first (read as integers),
/// then the numbers.
const DATA_COLS: [&str; 22] = [
    "events_treat",
    "n_treat",
    "events_ctrl",
    "n_ctrl",
    "events",
    "n",
    "mean_treat",
    "sd_treat",
    "mean_ctrl",
    "sd_ctrl",
    "estimate",
    "se",
    "ci_lb",
    "ci_ub",
    "time",
    "time_treat",
    "time_ctrl",
    "r",
    "o_minus_e",
    "v",
    "md",
    "md_se",
];
/// How many of [`DATA_COLS`] are counts.
const INT_COLS: usize = 6;

/// The outcome data family a measure reads (which `outcome_data` columns its rows use).
pub fn outcome_kind(m: metapipe_meta::Measure) -> OutcomeKind {
    use metapipe_meta::effect::Family;
    match m.family() {
        Family::Binary => OutcomeKind::Binary,
        Family::Continuous => OutcomeKind::Continuous,
        Family::Generic => OutcomeKind::Generic,
        Family::Proportion => OutcomeKind::Proportion,
        Family::Rate => OutcomeKind::Rate,
        Family::RatePair => OutcomeKind::RatePair,
        Family::Correlation => OutcomeKind::Correlation,
        Family::OMinusE => OutcomeKind::OMinusE,
    }
}

/// Whether each row of `df` has the data its outcome's type needs.
fn has_data(
    df: &DataFrame,
    measure: metapipe_meta::effect::Measure,
) -> PolarsResult<BooleanChunked> {
    let present = |c: &str| df.column(c).map(|c| c.is_not_null());
    let all = |cs: &[&str]| {
        cs.iter().try_fold(
            BooleanChunked::full("has".into(), true, df.height()),
            |acc, c| Ok::<_, PolarsError>(&acc & &present(c)?),
        )
    };
    match outcome_kind(measure) {
        OutcomeKind::Generic => {
            Ok(&present("estimate")? & &(&present("se")? | &all(&["ci_lb", "ci_ub"])?))
        }
        // a mean difference may come as the study's md with its SE
        OutcomeKind::Continuous if measure == metapipe_meta::Measure::MD => {
            Ok(&all(OutcomeKind::Continuous.columns())? | &all(&["md", "md_se"])?)
        }
        kind => all(kind.columns()),
    }
}

/// The study set of one outcome (`pos`, `study_id`), in plan order.
fn study_set(p: &OutcomePlan, studies: &Table, outcome_data: &Table) -> Result<Option<DataFrame>> {
    Ok(Some(match &p.studies {
        StudySet::Unstated => return Ok(None),
        StudySet::Listed(set) => {
            let n = set.len();
            DataFrame::new(
                n,
                vec![
                    Column::new("pos".into(), (0..n as IdxSize).collect::<Vec<_>>()),
                    Column::new("study_id".into(), set.clone()),
                ],
            )?
        }
        StudySet::All => {
            let rows = frame::rows_equal(&outcome_data.df, "outcome", &p.id)
                .and_then(|d| d.select(["study_id"]))?;
            let all = frame::numbered(&studies.df.select(["study_id"])?, "pos")?;
            frame::join(&all, &rows, &["study_id"], JoinType::Semi, false)?
        }
    }))
}

/// The levels of `column` among an outcome's studies, in studies-table order.
fn levels(set: &DataFrame, studies: &Table, column: &str) -> Result<Vec<String>> {
    let numbered = frame::numbered(&studies.df, "row")?;
    let members = frame::join(&numbered, set, &["study_id"], JoinType::Semi, false)
        .and_then(|d| d.sort(["row"], SortMultipleOptions::default()))?;
    let values = members
        .column(column)
        .and_then(|c| c.cast(&DataType::String))?;
    let mut lv: Vec<String> = vec![];
    for v in values.str()?.iter().flatten() {
        if !lv.iter().any(|l| l == v) {
            lv.push(v.to_string());
        }
    }
    Ok(lv)
}

fn check_column(studies: &Table, column: &str, what: &str) -> Result<()> {
    if studies.df.column(column).is_err() {
        return Err(Error::data(format!("{what}: the studies table has no column {column:?} (declare it in [extraction.covariates])")).field("outcomes.subgroups"));
    }
    Ok(())
}

/// The plan's analyses (cells): per outcome the overall analysis, its `subgroup_by` levels and
/// its further subgroups.
fn cells<'a>(
    plans: &'a [OutcomePlan],
    studies: &Table,
    outcome_data: &Table,
) -> Result<Vec<Cell<'a>>> {
    let mut out = vec![];
    for p in plans {
        let set = study_set(p, studies, outcome_data)?;
        out.push(Cell {
            plan: p,
            set: set.clone(),
            subgroup: None,
            by: false,
        });
        if let Some((column, given)) = &p.subgroup_by {
            check_column(studies, column, "subgroup_by")?;
            let lv = match (given, &set) {
                (Some(l), _) => l.clone(),
                (None, Some(set)) => levels(set, studies, column)?,
                (None, None) => vec![],
            };
            out.extend(lv.into_iter().map(|v| Cell {
                plan: p,
                set: set.clone(),
                subgroup: Some(Subgroup {
                    column: column.clone(),
                    value: v.clone(),
                    name: v,
                }),
                by: true,
            }));
        }
        for sg in &p.subgroups {
            check_column(studies, &sg.column, &format!("subgroup {:?}", sg.name))?;
            out.push(Cell {
                plan: p,
                set: set.clone(),
                subgroup: Some(sg.clone()),
                by: false,
            });
        }
    }
    Ok(out)
}

/// The plan as a table: one row per (analysis, study) it names, in plan order, with the
/// outcome data joined on (outcome, study_id) and `has` = the row has what its type needs.
/// Subgroups are semi-joins with the studies whose column reads the subgroup's value.
fn plan_frame(cells: &[Cell], studies: &Table, outcome_data: &Table) -> Result<DataFrame> {
    let mut plan: Option<DataFrame> = None;
    for (a, c) in cells.iter().enumerate() {
        let Some(set) = &c.set else { continue };
        let mut rows = set.clone();
        rows.with_column(Column::new(
            "analysis".into(),
            vec![a as u32; rows.height()],
        ))?;
        rows.with_column(Column::new(
            "outcome".into(),
            vec![c.plan.id.as_str(); rows.height()],
        ))?;
        if let Some(sg) = &c.subgroup {
            let members = frame::rows_equal(&studies.df, &sg.column, &sg.value)
                .and_then(|d| d.select(["study_id"]))?;
            rows = frame::join(&rows, &members, &["study_id"], JoinType::Semi, false)?;
        }
        let mut rows = frame::join(
            &rows,
            &outcome_data.df,
            &["outcome", "study_id"],
            JoinType::Left,
            false,
        )?;
        let has = has_data(&rows, c.plan.spec.measure)?;
        rows.with_column(has.with_name("has".into()).into_column())?;
        let rows = rows.select(
            ["analysis", "pos", "study_id", "has"]
                .into_iter()
                .chain(DATA_COLS),
        )?;
        match &mut plan {
            None => plan = Some(rows),
            Some(p) => {
                p.vstack_mut(&rows)?;
            }
        }
    }
    let Some(plan) = plan else {
        return Ok(DataFrame::empty());
    };
    plan.sort(["analysis", "pos"], SortMultipleOptions::default())
        .map_err(pe)
}

/// The rows of a [`plan_frame`] as study data.
fn study_rows(df: &DataFrame) -> Result<Vec<(u32, bool, StudyData)>> {
    if df.height() == 0 {
        return Ok(vec![]);
    }
    let c = |n: &str| df.column(n).map_err(pe);
    let (an, id, has) = (
        c("analysis")?.u32()?,
        c("study_id")?.str()?,
        c("has")?.bool()?,
    );
    let ints: Vec<&Int64Chunked> = DATA_COLS[..INT_COLS]
        .iter()
        .map(|n| c(n).and_then(|x| x.i64().map_err(pe)))
        .collect::<Result<_>>()?;
    let fls: Vec<&Float64Chunked> = DATA_COLS[INT_COLS..]
        .iter()
        .map(|n| c(n).and_then(|x| x.f64().map_err(pe)))
        .collect::<Result<_>>()?;
    Ok((0..df.height())
        .map(|r| {
            let d = StudyData {
                study_id: id.get(r).unwrap_or_default().to_string(),
                events_treat: ints[0].get(r),
                n_treat: ints[1].get(r),
                events_ctrl: ints[2].get(r),
                n_ctrl: ints[3].get(r),
                events: ints[4].get(r),
                n: ints[5].get(r),
                mean_treat: fls[0].get(r),
                sd_treat: fls[1].get(r),
                mean_ctrl: fls[2].get(r),
                sd_ctrl: fls[3].get(r),
                estimate: fls[4].get(r),
                se: fls[5].get(r),
                ci_lb: fls[6].get(r),
                ci_ub: fls[7].get(r),
                time: fls[8].get(r),
                time_treat: fls[9].get(r),
                time_ctrl: fls[10].get(r),
                r: fls[11].get(r),
                o_minus_e: fls[12].get(r),
                v: fls[13].get(r),
                md: fls[14].get(r),
                md_se: fls[15].get(r),
            };
            (an.get(r).unwrap_or(u32::MAX), has.get(r) == Some(true), d)
        })
        .collect())
}

/// Run every outcome and its subgroups.
pub fn run(plans: &[OutcomePlan], studies: &Table, outcome_data: &Table) -> Result<Vec<Analysis>> {
    let cells = cells(plans, studies, outcome_data)?;
    let rows = study_rows(&plan_frame(&cells, studies, outcome_data)?)?;
    let mut out: Vec<Analysis> = vec![];
    let mut start = 0usize;
    // under the heterogeneity rule, the model chosen on each outcome's overall analysis (its
    // subgroups use it, so that the test for subgroup differences compares like with like)
    let mut chosen: Vec<(&str, Choice)> = vec![];
    for (a, c) in cells.iter().enumerate() {
        let end = start + rows[start..].iter().take_while(|r| r.0 == a as u32).count();
        let mine = &rows[start..end];
        start = end;
        let set = mine.iter().map(|r| r.2.study_id.clone()).collect();
        let have: Vec<StudyData> = mine.iter().filter(|r| r.1).map(|r| r.2.clone()).collect();
        let missing = mine
            .iter()
            .filter(|r| !r.1)
            .map(|r| r.2.study_id.clone())
            .collect();
        let mut spec = c.plan.spec;
        if let (Choice::Rule { .. }, Some(_)) = (spec.choice, &c.subgroup) {
            if let Some((_, pick)) = chosen.iter().find(|(id, _)| *id == c.plan.id) {
                spec.choice = *pick;
            }
        }
        let mut an = analyse(c, &spec, set, have, missing);
        if an.subgroup.is_none() && c.plan.studies == StudySet::Unstated {
            an.note = Some(unstated_note(&c.plan.id, outcome_data)?);
        }
        if let (Choice::Rule { .. }, None, Some(m)) = (spec.choice, &c.subgroup, an.models.first())
        {
            chosen.push((
                &c.plan.id,
                if m.kind == "random" {
                    Choice::Random
                } else {
                    Choice::Fixed
                },
            ));
        }
        out.push(an);
    }
    // the test for subgroup differences, on each overall row with `subgroup_by`
    between::subgroup_tests(plans, &mut out);
    Ok(out)
}

/// The note of an outcome whose pooled set the review does not state: which studies do have
/// sourced data for it.
fn unstated_note(outcome: &str, outcome_data: &Table) -> Result<String> {
    let (ids, outcomes, status) = (
        outcome_data.str("study_id"),
        outcome_data.str("outcome"),
        outcome_data.str("status"),
    );
    let with: Vec<&str> = (0..outcome_data.num_rows())
        .filter(|&r| {
            outcomes.get(r) == Some(outcome) && status.get(r).is_some_and(|s| s != "missing")
        })
        .filter_map(|r| ids.get(r))
        .collect();
    Ok(if with.is_empty() {
        "not computable: the review does not say which studies it pooled, and no study-level data for this outcome are available here".into()
    } else {
        format!("not computable: the review does not say which studies it pooled; sourced data exist only for {}", with.join(", "))
    })
}

/// One outcome × subgroup, given its study set (plan order), the studies with data and those
/// without.
fn analyse(
    c: &Cell,
    spec: &Spec,
    set: Vec<String>,
    have: Vec<StudyData>,
    missing: Vec<String>,
) -> Analysis {
    let plan = c.plan;
    let mut a = Analysis {
        outcome: plan.id.clone(),
        subgroup: c.subgroup.as_ref().map(|s| s.name.clone()),
        subgroup_by: c
            .subgroup
            .as_ref()
            .filter(|_| c.by)
            .map(|s| s.column.clone()),
        spec: *spec,
        studies: set,
        missing,
        models: vec![],
        note: None,
        per_study: vec![],
        between: None,
        attempted: false,
    };
    if plan.studies == StudySet::Unstated {
        return a;
    }
    if a.studies.is_empty() {
        a.note = Some(if c.subgroup.is_some() {
            "no study in this subgroup".into()
        } else {
            "no study has a row for this outcome".into()
        });
        return a;
    }
    // per-study effects of the studies with data (drawn in forest and funnel plots even when the
    // outcome is not pooled)
    let effects = fit::study_effects(spec, &have);
    if !a.missing.is_empty() && (!plan.pool_available || have.is_empty()) {
        a.per_study = have
            .into_iter()
            .zip(effects)
            .map(|(d, e)| (d, e, None))
            .collect();
        a.note = Some(format!(
            "incomplete: no sourced data for {} ({} of {} studies have data); not pooled",
            a.missing.join(", "),
            a.per_study.len(),
            a.studies.len()
        ));
        return a;
    }
    a.attempted = true;
    match fit::models(spec, &have, &effects) {
        Ok(models) => a.pooled(spec, have, effects, models),
        Err(e) => {
            a.per_study = have
                .into_iter()
                .zip(effects)
                .map(|(d, e)| (d, e, None))
                .collect();
            a.note = Some(format!("not estimable: {e}"));
        }
    }
    a
}

impl Analysis {
    /// An estimate of this analysis (pooled) on the natural scale ([`Spec::back`]), with the
    /// harmonic mean of its studies' sizes where the double arcsine needs one.
    pub fn back(&self) -> impl Fn(f64) -> f64 + '_ {
        let n = if self.spec.measure.back().needs_n() {
            let ns: Vec<f64> = self
                .per_study
                .iter()
                .filter(|r| r.1.is_some())
                .filter_map(|r| r.0.size())
                .collect();
            metapipe_meta::measures::harmonic_mean(&ns)
        } else {
            f64::NAN
        };
        move |x| self.spec.back(x, n)
    }

    /// The scale estimates of this analysis are modelled on (the sensitivity table's `scale`
    /// for a meta-regression's coefficients).
    pub fn model_scale(&self) -> &'static str {
        use metapipe_meta::Measure;
        match self.spec.measure {
            _ if self.spec.ratio() => "log",
            Measure::PLO => "logit",
            Measure::PAS => "arcsine",
            Measure::PFT => "double arcsine",
            Measure::ZCOR => "Fisher z",
            _ => "natural",
        }
    }

    /// Take the fitted models: the studies' weights (the last model's), and a note on studies
    /// without data and on a prediction interval asked for but not given.
    fn pooled(
        &mut self,
        spec: &Spec,
        have: Vec<StudyData>,
        effects: Vec<Option<(f64, f64)>>,
        models: Vec<Model>,
    ) {
        let a = self;
        let w = &models.last().expect("at least one model").fit.weights;
        a.per_study = have
            .into_iter()
            .zip(effects)
            .zip(w)
            .map(|((d, e), w)| (d, e, Some(*w)))
            .collect();
        if !a.missing.is_empty() {
            a.note = Some(format!(
                "pooled the {} studies with data; no sourced data for {}",
                a.per_study.len(),
                a.missing.join(", ")
            ));
        }
        // a prediction interval asked for but not given says why
        let min_k = spec.opts.pi.min_k();
        if let Some(r) = models
            .iter()
            .find(|m| m.kind == "random" && m.fit.pi_lb.is_none())
        {
            if spec.prediction && r.fit.k < min_k {
                let why = format!("no prediction interval with fewer than {min_k} studies");
                a.note = Some(match a.note.take() {
                    Some(n) => format!("{n}; {why}"),
                    None => why,
                });
            }
        }
        a.models = models;
    }
}

#[cfg(test)]
mod tests;
