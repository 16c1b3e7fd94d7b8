//! The report stage: the CSV views of the stage tables, the consistency search, the audit of
//! the published figures, the figures and the HTML report.

use crate::config::Config;
use crate::incremental::Stage;
use crate::inputs::Inputs;
use crate::protocol;
use metapipe_extract as extract;
use metapipe_plan as plan;
use metapipe_report::audit;
use metapipe_tables::schema;
use metapipe_tables::{s, so, Builder, Error, Result, Table};
use tracing::info;

/// The stage tables the report stage draws from, as the earlier stages wrote them.
pub(crate) struct Written {
    pub(crate) results: Table,
    pub(crate) prisma: Option<Table>,
    pub(crate) outcome_data: Table,
    pub(crate) effects: Table,
    pub(crate) rob: Option<Table>,
    pub(crate) studies: Table,
    pub(crate) arms: Table,
    pub(crate) sensitivity: Option<Table>,
    pub(crate) changes: Option<Table>,
    /// where title/abstract screening stands by the stopping rule
    pub(crate) progress: Option<Table>,
    /// dual extraction: the conflicts and the agreement per column
    pub(crate) extraction: Option<(Table, Table)>,
}

/// The CSV outputs, the audit and consistency stages, and the report, from the stage tables.
pub(crate) fn report_stage(
    cfg: &Config,
    inputs: &Inputs,
    ids: &[String],
    st: &Stage,
) -> Result<()> {
    let _g = tracing::info_span!("report").entered();
    // the earlier stages' tables, read back once
    let written = Written {
        results: st.get(&schema::RESULTS)?,
        prisma: st.maybe(&schema::PRISMA)?,
        outcome_data: st.get(&schema::OUTCOME_DATA)?,
        effects: st.get(&schema::EFFECTS)?,
        rob: st.maybe(&schema::ROB)?,
        studies: st.get(&schema::STUDIES)?,
        arms: st.get(&schema::ARMS)?,
        sensitivity: st.maybe(&schema::SENSITIVITY)?,
        changes: st.maybe(&schema::CHANGES)?,
        progress: st.maybe(&schema::SCREENING_PROGRESS)?,
        extraction: st
            .maybe(&schema::EXTRACTION_CONFLICTS)?
            .zip(st.maybe(&schema::EXTRACTION_AGREEMENT)?),
    };
    let prisma_counts = csv_outputs(cfg, &written, st)?;
    let sof = sof_stage(cfg, &written, st)?;
    let checklist = checklist_stage(cfg, &written, st)?;
    let cons = consistency_stage(cfg, inputs, ids, &written, st)?;
    let audit_t = audit_stage(
        inputs,
        &written,
        &prisma_counts,
        cons.as_ref().map(|c| c.1.as_slice()),
        st,
    )?;
    write_report(
        cfg,
        &written,
        (&sof, &checklist),
        cons.as_ref().map(|c| &c.0),
        audit_t.as_ref(),
        st,
    )?;
    if let Some(a) = &audit_t {
        info!(
            audit_rows = a.num_rows(),
            mismatches = a
                .str("status")
                .iter()
                .filter(|s| *s == Some("mismatch"))
                .count(),
            "report done"
        );
    }
    Ok(())
}

/// The CSV outputs, from the stage tables as written; returns the overall PRISMA flow.
pub(crate) fn csv_outputs(cfg: &Config, w: &Written, st: &Stage) -> Result<Vec<(String, i64)>> {
    st.csv(&w.results, "results.csv")?;
    st.csv(&w.outcome_data, "outcome_data.csv")?;
    if let Some(rob) = &w.rob {
        st.csv(rob, "rob_judgments.csv")?;
    }
    st.csv(&w.effects, "per_study_effects.csv")?;
    if let Some(t) = &w.sensitivity {
        st.csv(t, "sensitivity.csv")?;
    }
    st.csv(&outcomes_table(cfg, &w.results)?, "outcomes.csv")?;
    let Some(prisma) = &w.prisma else {
        return Ok(vec![]);
    };
    // prisma.csv: the overall flow as stage,count; the per-database rows stay in prisma.parquet
    let flow = prisma
        .df
        .filter(&prisma.df.column("database")?.is_null())
        .and_then(|d| d.select(["stage", "count"]))?;
    let flow = Table::new(&schema::PRISMA_FLOW, flow)?;
    st.csv(&flow, "prisma.csv")?;
    let prisma_counts: Vec<(String, i64)> = flow
        .str("stage")
        .iter()
        .flatten()
        .zip(flow.int("count").into_no_null_iter())
        .map(|(s, n)| (s.to_string(), n))
        .collect();
    Ok(prisma_counts)
}

/// The Summary of findings (`sof.parquet`, `sof.csv`): GRADE's table per outcome.
pub(crate) fn sof_stage(cfg: &Config, w: &Written, st: &Stage) -> Result<Table> {
    use metapipe_report::sof;
    let input = sof::SofInput {
        results: &w.results,
        effects: &w.effects,
        outcome_data: &w.outcome_data,
        rob: w.rob.as_ref(),
        sensitivity: w.sensitivity.as_ref(),
    };
    let t = sof::sof_table(&input, &cfg.sof_outcomes()?)?;
    st.put(&t)?;
    st.csv(&t, "sof.csv")?;
    Ok(t)
}

/// The PRISMA 2020 checklist (`prisma_checklist.csv`): what the run can answer, located.
pub(crate) fn checklist_stage(cfg: &Config, w: &Written, st: &Stage) -> Result<Table> {
    use metapipe_report::checklist;
    let agreement = st.maybe(&schema::AGREEMENT)?;
    let o = &cfg.outcomes;
    let measures: Vec<(String, String)> = o
        .iter()
        .map(|x| Ok((x.label.clone(), cfg.spec(x)?.measure.name().to_string())))
        .collect::<Result<_>>()?;
    let input = checklist::ChecklistInput {
        title: &cfg.review.title,
        sources: cfg
            .sources
            .iter()
            .map(|s| (s.database.clone(), s.searched.clone()))
            .collect(),
        protocol: cfg.review.protocol.as_deref(),
        outcomes: measures,
        covariates: cfg.extraction.covariates.keys().cloned().collect(),
        dual_extraction: cfg.extraction.outcomes_extractors.is_some()
            || cfg.extraction.studies_extractors.is_some(),
        grade: !cfg.grade.is_empty(),
        small_study: o.iter().any(|x| x.small_study),
        sensitivity: o
            .iter()
            .any(|x| x.leave_one_out || x.cumulative_by.is_some() || x.exclude_high_rob),
        subgroups: o.iter().any(|x| {
            x.subgroup_by.is_some() || !x.subgroups.is_empty() || !x.metaregression.is_empty()
        }),
        prisma: w.prisma.as_ref(),
        agreement: agreement.as_ref(),
        rob: w.rob.is_some(),
        version: env!("CARGO_PKG_VERSION"),
    };
    let t = checklist::checklist(&input)?;
    st.put(&t)?;
    st.csv(&t, "prisma_checklist.csv")?;
    Ok(t)
}

/// Consistency of published pooled results with the sourced study data (searched in parallel).
pub(crate) fn consistency_stage(
    cfg: &Config,
    inputs: &Inputs,
    ids: &[String],
    w: &Written,
    st: &Stage,
) -> Result<Option<(Table, Vec<audit::AuditRow>)>> {
    use metapipe_report::consistency;
    if cfg.consistency.is_empty() {
        return Ok(None);
    }
    let published = match &inputs.published {
        Some(p) => audit::read_published(p)?,
        None => {
            return Err(Error::data("[[consistency]] checks need review.published")
                .field("review.published"))
        }
    };
    let checks = consistency_checks(cfg)?;
    for c in &checks {
        for sid in &c.studies {
            if !ids.contains(sid) {
                return Err(Error::data(format!(
                    "consistency check {:?} names study {sid:?}, which is not an included study",
                    c.published_item
                ))
                .field("consistency.studies"));
            }
        }
    }
    let od = &w.outcome_data;
    let od_rows: Vec<consistency::Row> = (0..od.num_rows())
        .map(|r| {
            (
                od.str_at("study_id", r).unwrap_or_default(),
                od.str_at("outcome", r).unwrap_or_default(),
                od.int("events_treat").get(r),
                od.int("n_treat").get(r).unwrap_or(0),
                od.int("events_ctrl").get(r),
                od.int("n_ctrl").get(r).unwrap_or(0),
            )
        })
        .collect();
    let pub_pairs: Vec<(String, String)> = published
        .iter()
        .map(|p| (p.item.clone(), p.value.clone()))
        .collect();
    let found: Vec<consistency::Found> = metapipe_tables::par::par_map(&checks, usize::MAX, |c| {
        consistency::run(std::slice::from_ref(c), &od_rows, &pub_pairs)
    })
    .into_iter()
    .flatten()
    .collect();
    let t = consistency::table(&found)?;
    st.put(&t)?;
    st.csv(&t, "consistency.csv")?;
    Ok(Some((t, consistency::audit_rows(&found))))
}

/// The configured consistency checks, an m-of-n check expanded into every reading.
fn consistency_checks(cfg: &Config) -> Result<Vec<metapipe_report::consistency::Check>> {
    use metapipe_report::consistency;
    let mut checks: Vec<consistency::Check> = vec![];
    for c in &cfg.consistency {
        let check = |studies: Vec<String>, basis: String| consistency::Check {
            outcome: c.outcome.clone(),
            subgroup: c.subgroup.clone(),
            published_item: c.published.clone(),
            studies,
            basis,
            max_nodes: c.max_nodes,
        };
        match c.choose {
            None => checks.push(check(c.studies.clone(), c.basis.clone())),
            Some(m) if m == 0 || m > c.studies.len() => {
                return Err(Error::data(format!(
                    "choose = {m}: expected 1 to {} (the studies listed)",
                    c.studies.len()
                ))
                .field("consistency.choose"))
            }
            Some(m) => {
                // every m-of-n reading, each its own row
                let readings = subsets(c.studies.len(), m);
                let total = readings.len();
                for (i, keep) in readings.into_iter().enumerate() {
                    let omitted: Vec<&str> = (0..c.studies.len())
                        .filter(|j| !keep.contains(j))
                        .map(|j| c.studies[j].as_str())
                        .collect();
                    let basis = format!(
                        "{}: reading {} of {total}, without {}",
                        c.basis,
                        i + 1,
                        omitted.join(", ")
                    );
                    checks.push(check(
                        keep.iter().map(|&j| c.studies[j].clone()).collect(),
                        basis,
                    ));
                }
            }
        }
    }
    Ok(checks)
}

/// Every subset of `m` of `0..n` (sorted index lists), the one without the last index first.
pub(crate) fn subsets(n: usize, m: usize) -> Vec<Vec<usize>> {
    fn go(start: usize, n: usize, m: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if cur.len() == m {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(i);
            go(i + 1, n, m, cur, out);
            cur.pop();
        }
    }
    let mut out = vec![];
    go(0, n, m, &mut vec![], &mut out);
    out
}

/// The audit: every published figure against the recomputed one (when the review has them).
pub(crate) fn audit_stage(
    inputs: &Inputs,
    w: &Written,
    prisma_counts: &[(String, i64)],
    cons: Option<&[audit::AuditRow]>,
    st: &Stage,
) -> Result<Option<Table>> {
    let Some(p) = &inputs.published else {
        return Ok(None);
    };
    let published = audit::read_published(p)?;
    let margins = extract::factor_margins(&w.arms)?;
    let facts = audit::Facts {
        prisma: prisma_counts,
        studies: &w.studies,
        arms: &w.arms,
        outcome_data: &w.outcome_data,
        margins: &margins,
        results: &w.results,
        effects: &w.effects,
    };
    let mut rows = audit::audit(&published, &facts);
    if let Some(c) = cons {
        rows.extend(c.iter().cloned());
    }
    let t = audit::audit_table(&rows)?;
    st.put(&t)?;
    st.csv(&t, "audit.csv")?;
    Ok(Some(t))
}

/// Figures and the HTML report, drawn from the stage tables as written.
pub(crate) fn write_report(
    cfg: &Config,
    w: &Written,
    (sof, checklist): (&Table, &Table),
    cons: Option<&Table>,
    audit_t: Option<&Table>,
    st: &Stage,
) -> Result<()> {
    let input = metapipe_report::html::ReportInput {
        title: &cfg.review.title,
        results: &w.results,
        effects: &w.effects,
        outcome_data: &w.outcome_data,
        prisma: w.prisma.as_ref(),
        rob: w.rob.as_ref(),
        studies: &w.studies,
        audit: audit_t,
        consistency: cons,
        sensitivity: w.sensitivity.as_ref(),
        sof: Some(sof),
        checklist: Some(checklist),
        changes: w.changes.as_ref(),
        progress: w.progress.as_ref(),
        extraction: w.extraction.as_ref().map(|(c, a)| (c, a)),
        outcomes: cfg
            .outcomes
            .iter()
            .map(|o| outcome_view(cfg, o))
            .collect::<Result<_>>()?,
    };
    for (name, body) in metapipe_report::html::build(&input)? {
        st.write(&format!("report/{name}"), body.as_bytes())?;
    }
    st.write(
        "report/review.docx",
        &metapipe_report::word::review_docx(&input)?,
    )?;
    Ok(())
}

/// How the report draws an outcome: the effect's name, its axis, its per-arm cells.
pub(crate) fn outcome_view(
    cfg: &Config,
    o: &crate::config::OutcomeCfg,
) -> Result<metapipe_report::html::OutcomeView> {
    use metapipe_meta::Measure;
    let spec = cfg.spec(o)?;
    let effect = match spec.measure {
        Measure::OR => "Odds Ratio",
        Measure::RR => "Risk Ratio",
        Measure::RD => "Risk Difference",
        Measure::MD => "Mean Difference",
        Measure::SMD => "Std. Mean Difference",
        Measure::ROM => "Ratio of Means",
        Measure::GEN if spec.log_scale => "Ratio",
        Measure::GEN => "Effect",
        Measure::PR | Measure::PLO | Measure::PAS | Measure::PFT => "Proportion",
        Measure::IR => "Incidence Rate",
        Measure::IRR => "Rate Ratio",
        Measure::IRD => "Rate Difference",
        Measure::ZCOR | Measure::COR => "Correlation",
        Measure::OEV => "Hazard Ratio",
    };
    let kind = protocol::outcome_kind(spec.measure);
    // the model planned: the fixed-effect one where the rule starts from it
    let planned = metapipe_meta::ModelId {
        method: match spec.choice {
            plan::Choice::Fixed | plan::Choice::Rule { .. } => spec.fixed,
            plan::Choice::Random | plan::Choice::Both => spec.random,
        },
        convention: spec.convention,
        test: spec.opts.test,
    };
    Ok(metapipe_report::html::OutcomeView {
        planned_model: planned.revman_short(),
        level_pct: format!("{}%", (spec.opts.level * 100.0 * 1e6).round() / 1e6),
        id: o.id.clone(),
        label: o.label.clone(),
        effect: o.effect_label.clone().unwrap_or_else(|| effect.to_string()),
        log: spec.ratio(),
        kind,
        short: if spec.measure == Measure::GEN {
            "effect".to_string()
        } else {
            spec.measure.name().to_string()
        },
        // one group's data favour nothing unless the review says so
        favours: (
            o.favours_left
                .clone()
                .unwrap_or_else(|| favours(kind, o.groups(&cfg.review).0)),
            o.favours_right
                .clone()
                .unwrap_or_else(|| favours(kind, o.groups(&cfg.review).1)),
        ),
        groups: (
            o.groups(&cfg.review).0.to_string(),
            o.groups(&cfg.review).1.to_string(),
        ),
    })
}

/// The default axis label of an arm: "Favours <label>", none for one group's data.
fn favours(kind: schema::OutcomeKind, label: &str) -> String {
    if kind.one_group() {
        String::new()
    } else {
        format!("Favours {label}")
    }
}

/// `outcomes.csv`: the protocol's outcomes, as run (subgroups as the plan made them).
pub(crate) fn outcomes_table(cfg: &Config, results: &Table) -> Result<Table> {
    let mut ob = Builder::new(&schema::OUTCOMES);
    for o in &cfg.outcomes {
        let mut subgroups: Vec<&str> = vec![];
        for (out, sg) in results
            .str("outcome")
            .iter()
            .zip(results.str("subgroup").iter())
        {
            if let (Some(out), Some(sg)) = (out, sg) {
                if out == o.id && !subgroups.contains(&sg) {
                    subgroups.push(sg);
                }
            }
        }
        let (studies, source) = match &o.studies {
            Some(crate::config::StudySet::List(v)) => (
                Some(v.join(";")),
                o.studies_source
                    .as_deref()
                    .unwrap_or("listed in the config"),
            ),
            Some(crate::config::StudySet::Word(w)) if w == "unstated" => (
                None,
                o.studies_source
                    .as_deref()
                    .unwrap_or("not stated by the review"),
            ),
            _ => (
                None,
                o.studies_source
                    .as_deref()
                    .unwrap_or("every study with a row for this outcome"),
            ),
        };
        ob.row(vec![
            s(&o.id),
            s(&o.label),
            so(o.timepoint.clone()),
            so(o.definition.clone()),
            so(studies),
            s(source),
            so(Some(subgroups.join(";"))),
        ]);
    }
    ob.finish()
}
