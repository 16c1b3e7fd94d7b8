//! `metapipe run`: every stage of one review, each reading the Parquet tables the previous
//! stage wrote. Outputs are staged in a temporary directory and swapped in whole at the end, so
//! a failed run leaves the previous outputs untouched and no partial file behind.

use crate::config::Config;
use metapipe_extract as extract;
use metapipe_ingest as ingest;
use metapipe_plan as plan;
use metapipe_report::audit;
use metapipe_tables::io::{read_parquet, write_atomic, write_csv, write_parquet, Input};
use metapipe_tables::schema::{self, TableSchema};
use metapipe_tables::{pe, Error, Result, Table};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use tracing::info;

struct Stage {
    dir: PathBuf,
}

impl Stage {
    fn put(&self, t: &Table) -> Result<()> {
        write_parquet(t, &self.dir.join(format!("{}.parquet", t.schema.name)))
    }
    fn get(&self, s: &'static TableSchema) -> Result<Table> {
        read_parquet(&self.dir.join(format!("{}.parquet", s.name)), s)
    }
    fn csv(&self, t: &Table, name: &str) -> Result<()> {
        write_csv(t, &self.dir.join(name))
    }
}

/// Run the pipeline described by `cfg` into `out_root/<name>/`.
pub fn run(cfg: &Config, out_root: &Path, fail_after: Option<&str>) -> Result<PathBuf> {
    let name = &cfg.review.name;
    let final_dir = out_root.join(name);
    let staging = out_root.join(format!(".{name}.staging-{}", std::process::id()));
    recover(out_root, name)?;
    std::fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
    let st = Stage { dir: staging.clone() };
    let res = stages(cfg, &st, fail_after);
    if let Err(e) = res {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    swap_in(&staging, &final_dir, out_root, name)?;
    Ok(final_dir)
}

/// Undo what a run killed mid-way may have left: a staging directory (never complete, or the
/// previous outputs after an exchange) is removed; a previous output directory moved aside by
/// the fallback swap is put back if no output directory exists.
fn recover(out_root: &Path, name: &str) -> Result<()> {
    let final_dir = out_root.join(name);
    let Ok(entries) = std::fs::read_dir(out_root) else { return Ok(()) };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let n = e.file_name().to_string_lossy().to_string();
        if n.starts_with(&format!(".{name}.staging-")) {
            let _ = std::fs::remove_dir_all(e.path());
        } else if n.starts_with(&format!(".{name}.old-")) {
            if final_dir.exists() {
                let _ = std::fs::remove_dir_all(e.path());
            } else {
                std::fs::rename(e.path(), &final_dir).map_err(|x| Error::io(&final_dir, x))?;
            }
        }
    }
    Ok(())
}

/// Replace `final_dir` by `staging` in one step where the OS allows (Linux renameat2
/// RENAME_EXCHANGE): a reader, or a run killed at any instant, sees the old outputs or the new
/// ones, never none and never a mixture.
fn swap_in(staging: &Path, final_dir: &Path, out_root: &Path, name: &str) -> Result<()> {
    if !final_dir.exists() {
        return std::fs::rename(staging, final_dir).map_err(|e| Error::io(final_dir, e));
    }
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let a = CString::new(staging.as_os_str().as_bytes()).map_err(|e| Error::io(staging, e))?;
        let b = CString::new(final_dir.as_os_str().as_bytes()).map_err(|e| Error::io(final_dir, e))?;
        // SAFETY: two valid NUL-terminated paths; renameat2 does not retain them.
        let rc = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
        if rc == 0 {
            // `staging` now holds the previous outputs
            let _ = std::fs::remove_dir_all(staging);
            return Ok(());
        }
    }
    // fallback: move the old outputs aside, move the new ones in (recover() repairs a crash
    // between the two renames)
    let old = out_root.join(format!(".{name}.old-{}", std::process::id()));
    std::fs::rename(final_dir, &old).map_err(|e| Error::io(final_dir, e))?;
    std::fs::rename(staging, final_dir).map_err(|e| Error::io(final_dir, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

fn inject(fail_after: Option<&str>, stage: &str) -> Result<()> {
    // test hook: slow the run down so a test can kill it mid-way
    if let Some(ms) = std::env::var("METAPIPE_STAGE_DELAY_MS").ok().and_then(|v| v.parse::<u64>().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    if fail_after == Some(stage) {
        return Err(Error::data(format!("injected failure after stage {stage} (test hook)")));
    }
    Ok(())
}

/// Every input file of a review, read once by the shell: the stages never touch the filesystem.
struct Inputs {
    sources: Vec<ingest::Source>,
    dedup_decisions: Option<Input>,
    title_abstract: Input,
    full_text: Input,
    studies: Input,
    arms: Input,
    outcomes: Input,
    rob: Input,
    published: Option<Input>,
}

impl Inputs {
    fn read(cfg: &Config) -> Result<Inputs> {
        let opt = |p: &Option<PathBuf>| p.as_deref().map(Input::read).transpose();
        Ok(Inputs {
            sources: cfg.sources.iter().map(|s| Ok(ingest::Source { database: s.database.clone(), input: Input::read(&s.file)? })).collect::<Result<_>>()?,
            dedup_decisions: opt(&cfg.dedup.decisions)?,
            title_abstract: Input::read(&cfg.screening.title_abstract)?,
            full_text: Input::read(&cfg.screening.full_text)?,
            studies: Input::read(&cfg.extraction.studies)?,
            arms: Input::read(&cfg.extraction.arms)?,
            outcomes: Input::read(&cfg.extraction.outcomes)?,
            rob: Input::read(&cfg.rob.answers)?,
            published: opt(&cfg.review.published)?,
        })
    }
}

/// The run: read the inputs, then each stage in turn, each writing its tables into the staging
/// directory (later stages read the Parquet earlier ones wrote).
fn stages(cfg: &Config, st: &Stage, fail_after: Option<&str>) -> Result<()> {
    info!(review = %cfg.review.title, protocol = cfg.review.protocol.as_deref().unwrap_or("none"), "run");
    let inputs = Inputs::read(cfg)?;
    let ing = ingest_stage(&inputs, st)?;
    inject(fail_after, "ingest")?;
    let ex = extract_stage(cfg, &inputs, &ing, st)?;
    inject(fail_after, "extract")?;
    rob_stage(&inputs, &ex, st)?;
    inject(fail_after, "rob")?;
    pool_stage(cfg, &ex, st)?;
    inject(fail_after, "pool")?;
    report_stage(cfg, &inputs, &ex, st)?;
    inject(fail_after, "report")
}

fn ingest_stage(inputs: &Inputs, st: &Stage) -> Result<ingest::Ingested> {
    let _g = tracing::info_span!("ingest").entered();
    let ing = ingest::ingest(&inputs.sources, inputs.dedup_decisions.as_ref(), &inputs.title_abstract, &inputs.full_text)?;
    for w in &ing.warnings {
        tracing::warn!("{w}");
    }
    let records = ingest::records_table(&ing.records)?;
    let (clusters, merged, maybe) = ingest::dedup_tables(&ing.records, &ing.dedup)?;
    let agreement = ingest::agreement_table(&ing.ta, &ing.ft)?;
    st.csv(&agreement, "screening_agreement.csv")?;
    info!(records = records.num_rows(), clusters = merged.num_rows(), maybe_pairs = maybe.num_rows(), screened = ing.ta.len(), kappa = ing.kappa_title_abstract, "ingest done");
    for t in [&records, &clusters, &merged, &maybe, &ingest::screening_table(&ing.ta, &ing.ft)?, &ingest::prisma_table(&ing.prisma)?, &agreement] {
        st.put(t)?;
    }
    Ok(ing)
}

/// What the extract stage read (the audit and consistency stages use the structs).
struct Extracted {
    studies: Vec<extract::Study>,
    arms: Vec<extract::Arm>,
    outcomes: Vec<extract::OutcomeRow>,
    ids: Vec<String>,
}

fn extract_stage(cfg: &Config, inputs: &Inputs, ing: &ingest::Ingested, st: &Stage) -> Result<Extracted> {
    let _g = tracing::info_span!("extract").entered();
    let (studies, arms) = extract::read_studies(&inputs.studies, &inputs.arms, &cfg.extraction.comparison_factor)?;
    let included: std::collections::BTreeSet<String> = ing.ft.iter().filter_map(|d| d.study_id.clone()).collect();
    let listed: std::collections::BTreeSet<String> = studies.iter().map(|s| s.study_id.clone()).collect();
    if included != listed {
        return Err(Error::data(format!("included studies {:?} and extracted studies {:?} differ", included, listed)).file(&cfg.extraction.studies));
    }
    let outcomes = extract::read_outcomes(&inputs.outcomes, &studies)?;
    for o in &outcomes {
        if !cfg.outcomes.iter().any(|c| c.id == o.outcome) {
            return Err(Error::data(format!("outcome {:?} is not in the pipeline's outcomes", o.outcome)).file(&cfg.extraction.outcomes).field("outcome"));
        }
    }
    st.put(&extract::studies_table(&studies)?)?;
    st.put(&extract::arms_table(&arms)?)?;
    st.put(&extract::outcome_table(&outcomes)?)?;
    info!(studies = studies.len(), arms = arms.len(), outcome_rows = outcomes.len(), "extract done");
    let ids = studies.iter().map(|s| s.study_id.clone()).collect();
    Ok(Extracted { studies, arms, outcomes, ids })
}

fn rob_stage(inputs: &Inputs, ex: &Extracted, st: &Stage) -> Result<()> {
    let _g = tracing::info_span!("rob").entered();
    let rob = metapipe_rob::rob_stage(&inputs.rob, &ex.ids)?;
    st.put(&rob)?;
    info!(judgments = rob.num_rows(), "rob done");
    Ok(())
}

/// The analysis plan on the extract stage's tables (read back from Parquet).
fn pool_stage(cfg: &Config, ex: &Extracted, st: &Stage) -> Result<()> {
    let _g = tracing::info_span!("pool").entered();
    let (studies_t, od) = (st.get(&schema::STUDIES)?, st.get(&schema::OUTCOME_DATA)?);
    let plans: Vec<plan::OutcomePlan> = cfg
        .outcomes
        .iter()
        .map(|o| plan::OutcomePlan { id: o.id.clone(), studies: o.studies.clone(), subgroups: o.subgroups.iter().map(|s| subgroup(s)).collect(), pool_available: o.pool_available })
        .collect();
    for p in &plans {
        for sid in p.studies.iter().flatten() {
            if !ex.ids.contains(sid) {
                return Err(Error::data(format!("outcome {} names study {sid:?}, which is not an included study", p.id)).field("outcomes.studies"));
            }
        }
    }
    let rule = plan::ModelRule { i2_above: cfg.analysis.random_if_i2_above, q_p_below: cfg.analysis.random_if_q_p_below, level: cfg.analysis.level };
    let mut analyses = plan::run(&plans, &studies_t, &od, &rule)?;
    // an outcome the review does not attribute: say which studies do have sourced data
    for a in analyses.iter_mut().filter(|a| a.studies.is_empty() && a.fit.is_none() && a.subgroup.is_none()) {
        let with = od.df.clone().lazy().filter(col("outcome").eq(lit(a.outcome.as_str())).and(col("events_treat").is_not_null())).select([col("study_id")]).collect().map_err(pe)?;
        let with: Vec<&str> = with.column("study_id").map_err(pe)?.str().map_err(pe)?.iter().flatten().collect();
        if !with.is_empty() {
            a.note = Some(format!("not computable: the review does not say which studies it pooled; sourced data exist only for {}", with.join(", ")));
        }
    }
    st.put(&plan::results_table(&analyses)?)?;
    st.put(&plan::effects_table(&analyses, cfg.analysis.level)?)?;
    let pooled_n = analyses.iter().filter(|a| a.fit.is_some()).count();
    info!(analyses = analyses.len(), pooled = pooled_n, not_pooled = analyses.len() - pooled_n, "pool done");
    Ok(())
}

/// The CSV outputs, the audit and consistency stages, and the report, from the stage tables.
fn report_stage(cfg: &Config, inputs: &Inputs, ex: &Extracted, st: &Stage) -> Result<()> {
    let _g = tracing::info_span!("report").entered();
    // the earlier stages' tables, read back once
    let written = Written {
        results: st.get(&schema::RESULTS)?,
        prisma: st.get(&schema::PRISMA)?,
        outcome_data: st.get(&schema::OUTCOME_DATA)?,
        effects: st.get(&schema::EFFECTS)?,
        rob: st.get(&schema::ROB)?,
        studies: st.get(&schema::STUDIES)?,
    };
    let prisma_counts = csv_outputs(cfg, &written, st)?;
    let (cons_t, audit_rows) = audit_stage(cfg, inputs, ex, &written.results, &prisma_counts, st)?;
    write_report(cfg, &written, &cons_t, st)?;
    info!(audit_rows = audit_rows.len(), mismatches = audit_rows.iter().filter(|r| r.status == "mismatch").count(), "report done");
    Ok(())
}

/// The stage tables the report stage draws from, as the earlier stages wrote them.
struct Written {
    results: Table,
    prisma: Table,
    outcome_data: Table,
    effects: Table,
    rob: Table,
    studies: Table,
}

/// The CSV outputs, from the stage tables as written; returns the overall PRISMA flow.
fn csv_outputs(cfg: &Config, w: &Written, st: &Stage) -> Result<Vec<(String, i64)>> {
    st.csv(&w.results, "results.csv")?;
    st.csv(&w.outcome_data, "outcome_data.csv")?;
    st.csv(&w.rob, "rob_judgments.csv")?;
    st.csv(&w.effects, "per_study_effects.csv")?;
    // prisma.csv: the overall flow as stage,count; the per-database rows stay in prisma.parquet
    let flow = w.prisma.df.clone().lazy().filter(col("database").is_null()).select([col("stage"), col("count")]).collect().map_err(pe)?;
    let flow = Table::new(&schema::PRISMA_FLOW, flow)?;
    st.csv(&flow, "prisma.csv")?;
    let prisma_counts: Vec<(String, i64)> = flow.str("stage").iter().flatten().zip(flow.int("count").into_no_null_iter()).map(|(s, n)| (s.to_string(), n)).collect();
    // clusters.csv in the dedup benchmark's format: one row per cluster of two or more
    let merged = st.get(&schema::MERGED)?;
    let cl = merged.df.clone().lazy().filter(col("merged_ids").str().split(lit(";")).list().len().gt(lit(1))).select([col("merged_ids")]).collect().map_err(pe)?;
    st.csv(&Table::new(&schema::CLUSTER_LIST, cl)?, "clusters.csv")?;
    st.csv(&outcomes_table(cfg)?, "outcomes.csv")?;
    Ok(prisma_counts)
}

/// The audit (published figures against recomputed ones) and the consistency search.
fn audit_stage(cfg: &Config, inputs: &Inputs, ex: &Extracted, results: &Table, prisma_counts: &[(String, i64)], st: &Stage) -> Result<(Table, Vec<audit::AuditRow>)> {
    let published = match &inputs.published {
        Some(p) => read_published(p)?,
        None => vec![],
    };
    let (studies, arms, outcomes, ids) = (&ex.studies, &ex.arms, &ex.outcomes, &ex.ids);
    let st_rows: Vec<(String, String, i64, i64)> = studies.iter().map(|s| (s.study_id.clone(), s.drug.clone(), s.n_treat, s.n_ctrl)).collect();
    let mut margins = vec![];
    for s in studies {
        let factors: std::collections::BTreeSet<&str> = arms.iter().filter(|a| a.study_id == s.study_id).flat_map(|a| a.factors.iter().map(|(f, _)| f.as_str())).collect();
        for f in factors {
            if let Some((t, c)) = extract::factor_margins(arms, &s.study_id, f) {
                margins.push((s.study_id.clone(), f.to_string(), t, c));
            }
        }
    }
    let ctrl: Vec<(String, String, i64, i64)> = outcomes.iter().filter_map(|o| o.events_ctrl.map(|e| (o.study_id.clone(), o.outcome.clone(), e, o.n_ctrl))).collect();
    let pooled: Vec<audit::PooledView> = (0..results.num_rows())
        .map(|r| {
            let fcol = |n: &str| results.float(n).get(r);
            audit::PooledView {
                outcome: results.str_at("outcome", r).unwrap_or_default(),
                subgroup: results.str_at("subgroup", r),
                estimate: match (fcol("estimate"), fcol("ci_lb"), fcol("ci_ub"), fcol("I2")) {
                    (Some(a), Some(b), Some(c), Some(d)) => Some((a, b, c, d)),
                    _ => None,
                },
                note: results.str_at("note", r),
                studies: results.str_at("studies", r).unwrap_or_default().split(';').filter(|s| !s.is_empty()).map(String::from).collect(),
            }
        })
        .collect();
    let facts = audit::Facts { prisma: prisma_counts, studies: &st_rows, factor_margins: &margins, control_events: &ctrl, pooled: &pooled };
    let mut audit_rows = audit::audit(&published, &facts);
    // consistency of published pooled results with the sourced study data (searched in parallel)
    let checks: Vec<metapipe_report::consistency::Check> = cfg
        .consistency
        .iter()
        .map(|c| metapipe_report::consistency::Check {
            outcome: c.outcome.clone(),
            subgroup: c.subgroup.clone(),
            published_item: c.published.clone(),
            studies: c.studies.clone(),
            basis: c.basis.clone(),
            max_nodes: c.max_nodes,
        })
        .collect();
    for c in &checks {
        for sid in &c.studies {
            if !ids.contains(sid) {
                return Err(Error::data(format!("consistency check {:?} names study {sid:?}, which is not an included study", c.published_item)).field("consistency.studies"));
            }
        }
    }
    let od_rows: Vec<metapipe_report::consistency::Row> = outcomes.iter().map(|o| (o.study_id.clone(), o.outcome.clone(), o.events_treat, o.n_treat, o.events_ctrl, o.n_ctrl)).collect();
    let pub_pairs: Vec<(String, String)> = published.iter().map(|p| (p.item.clone(), p.value.clone())).collect();
    let found: Vec<metapipe_report::consistency::Found> = std::thread::scope(|sc| {
        let hs: Vec<_> = checks.iter().map(|c| sc.spawn(|| metapipe_report::consistency::run(std::slice::from_ref(c), &od_rows, &pub_pairs))).collect();
        hs.into_iter().flat_map(|h| h.join().expect("consistency worker panicked")).collect()
    });
    let cons_t = metapipe_report::consistency::table(&found)?;
    st.put(&cons_t)?;
    st.csv(&cons_t, "consistency.csv")?;
    audit_rows.extend(metapipe_report::consistency::audit_rows(&found));
    let audit_t = audit::audit_table(&audit_rows)?;
    st.put(&audit_t)?;
    st.csv(&audit_t, "audit.csv")?;
    Ok((cons_t, audit_rows))
}

/// Figures and the HTML report, drawn from the stage tables as written.
fn write_report(cfg: &Config, w: &Written, cons_t: &Table, st: &Stage) -> Result<()> {
    // the audit as the audit stage wrote it
    let audit_back = st.get(&schema::AUDIT)?;
    let input = metapipe_report::html::ReportInput {
        title: &cfg.review.title,
        results: &w.results,
        effects: &w.effects,
        outcome_data: &w.outcome_data,
        prisma: &w.prisma,
        rob: &w.rob,
        studies: &w.studies,
        audit: &audit_back,
        consistency: cons_t,
        outcomes: cfg.outcomes.iter().map(|o| (o.id.clone(), o.label.clone())).collect(),
        treat_label: "IL-1 blockade",
        ctrl_label: "Control",
    };
    for (name, body) in metapipe_report::html::build(&input)? {
        write_atomic(&st.dir.join("report").join(&name), body.as_bytes())?;
    }
    Ok(())
}

/// `outcomes.csv`: the protocol's outcomes, as run.
fn outcomes_table(cfg: &Config) -> Result<Table> {
    use metapipe_tables::{s, so};
    let mut ob = metapipe_tables::Builder::new(&schema::OUTCOMES);
    for o in &cfg.outcomes {
        ob.row(vec![
            s(&o.id),
            s(&o.label),
            so(o.timepoint.clone()),
            s(&o.definition),
            so(o.studies.as_ref().map(|v| v.join(";"))),
            s(o.studies_source.as_deref().unwrap_or("not stated by the review")),
            so(Some(o.subgroups.join(";"))),
        ]);
    }
    ob.finish()
}

/// A subgroup as the config writes it: `column:value` (a studies column equal to a value), a
/// bare yes/no column name of the studies table (the studies where it is true), or a drug name.
fn subgroup(s: &str) -> plan::Subgroup {
    let yes_no = schema::STUDIES.fields.iter().any(|f| f.name == s && f.ty == metapipe_tables::ColType::Bool);
    match s.split_once(':') {
        Some((c, v)) => plan::Subgroup { column: c.to_string(), value: v.to_string(), name: v.to_string() },
        None if yes_no => plan::Subgroup { column: s.to_string(), value: "true".into(), name: s.to_string() },
        None => plan::Subgroup { column: "drug".into(), value: s.to_string(), name: s.to_string() },
    }
}

fn read_published(input: &Input) -> Result<Vec<audit::Published>> {
    let (path, text) = (input.path.as_path(), input.text()?);
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut out = vec![];
    for (n, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| Error::data(e.to_string()).file(path).line(n + 2))?;
        let get = |i: usize| r.get(i).unwrap_or("").to_string();
        if get(1).is_empty() {
            return Err(Error::data("empty item").file(path).line(n + 2).field("item"));
        }
        out.push(audit::Published { source: get(0), item: get(1), value: get(2), location: get(3) });
    }
    Ok(out)
}
