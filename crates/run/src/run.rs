//! `metapipe run`: every stage of one review, each reading the Parquet tables the previous
//! stage wrote. Outputs are staged in a temporary directory and swapped in whole at the end, so
//! a failed run leaves the previous outputs untouched and no partial file behind.

use crate::config::Config;
use crate::incremental::Stage;
use crate::inputs::Inputs;
use crate::protocol;
use crate::stages::{
    changes::changes_stage,
    extract::{extract_stage, rob_stage},
    ingest::ingest_stages,
    pool::pool_stage,
    report::report_stage,
};
use metapipe_extract as extract;
use metapipe_plan as plan;
use metapipe_tables::{Error, Result};
use std::path::{Path, PathBuf};
use tracing::info;

/// Run the pipeline described by `cfg` into `out_root/<name>/`.
pub fn run(cfg: &Config, out_root: &Path, fail_after: Option<&str>) -> Result<PathBuf> {
    let name = &cfg.review.name;
    let final_dir = out_root.join(name);
    let staging = out_root.join(format!(".{name}.staging-{}", std::process::id()));
    recover(out_root, name)?;
    std::fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
    let st = Stage {
        dir: staging.clone(),
        previous: final_dir.clone(),
        written: Default::default(),
    };
    let cache_path = out_root.join(format!(".{name}.stages.json"));
    let mut cache = crate::incremental::Cache::load(&cache_path, &final_dir);
    let res = stages(cfg, &st, &mut cache, fail_after);
    if let Err(e) = res {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    swap_in(&staging, &final_dir, out_root, name)?;
    // the record of what each stage read and wrote, beside (not inside) the outputs
    cache.save(&cache_path)?;
    Ok(final_dir)
}

/// Undo what a run killed mid-way may have left: a staging directory (never complete, or the
/// previous outputs after an exchange) and a half-written stage record are removed; a previous
/// output directory moved aside by the fallback swap is put back if no output directory exists.
fn recover(out_root: &Path, name: &str) -> Result<()> {
    let final_dir = out_root.join(name);
    let Ok(entries) = std::fs::read_dir(out_root) else {
        return Ok(());
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let n = e.file_name().to_string_lossy().to_string();
        if n.starts_with(&format!(".{name}.staging-")) {
            let _ = std::fs::remove_dir_all(e.path());
        } else if metapipe_tables::io::is_write_leftover(&n, &format!(".{name}.stages.json")) {
            // the stage record's temporary file of a run killed while saving it
            let _ = std::fs::remove_file(e.path());
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
        let b =
            CString::new(final_dir.as_os_str().as_bytes()).map_err(|e| Error::io(final_dir, e))?;
        // SAFETY: two valid NUL-terminated paths; renameat2 does not retain them.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
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

pub(crate) fn inject(fail_after: Option<&str>, stage: &str) -> Result<()> {
    // test hook: slow the run down so a test can kill it mid-way
    if let Some(ms) = std::env::var("METAPIPE_STAGE_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    if fail_after == Some(stage) {
        return Err(Error::data(format!(
            "injected failure after stage {stage} (test hook)"
        )));
    }
    Ok(())
}

/// What the extract stage reads: the studies the full-text log includes (its only dependence on
/// ingest), the sheets, `[extraction]` and the outcome types.
fn extract_inputs(
    cfg: &Config,
    inputs: &Inputs,
    included: &Option<std::collections::BTreeSet<String>>,
    kinds: &[(String, extract::OutcomeKind)],
) -> Vec<(String, u64)> {
    use crate::incremental::{h, h_debug as dbg};
    let mut extract_in = vec![
        (
            "included studies (full-text log)".to_string(),
            dbg(included),
        ),
        ("studies sheet".into(), h(&inputs.studies.bytes)),
        ("outcome sheet".into(), h(&inputs.outcomes.bytes)),
    ];
    extract_in.extend(
        inputs
            .arms
            .iter()
            .map(|a| ("arms sheet".to_string(), h(&a.bytes))),
    );
    extract_in.extend(inputs.extractors.iter().flat_map(|(kind, a, b)| {
        [
            (format!("extractor A's {} sheet", kind.name()), h(&a.bytes)),
            (format!("extractor B's {} sheet", kind.name()), h(&b.bytes)),
        ]
    }));
    extract_in.push((
        "[extraction] and outcome types".into(),
        dbg(&(&cfg.extraction, kinds)),
    ));
    extract_in.push((
        "generic outcomes on the log scale".into(),
        dbg(&crate::stages::extract::log_outcomes(cfg)),
    ));
    extract_in
}

/// The run: read the inputs, then each stage in turn, each writing its tables into the staging
/// directory (later stages read the Parquet earlier ones wrote). Search, screening, RoB and the
/// audit are optional stages.
fn stages(
    cfg: &Config,
    st: &Stage,
    cache: &mut crate::incremental::Cache,
    fail_after: Option<&str>,
) -> Result<()> {
    info!(review = %cfg.review.title, protocol = cfg.review.protocol.as_deref().unwrap_or("none"), "run");
    // the typed plan of every outcome, built before any stage (its errors name the outcome)
    let plans: Vec<plan::OutcomePlan> = cfg
        .outcomes
        .iter()
        .map(|o| protocol::outcome_plan(cfg, o))
        .collect::<Result<_>>()?;
    let kinds: Vec<(String, extract::OutcomeKind)> = plans
        .iter()
        .map(|p| (p.id.clone(), protocol::outcome_kind(p.spec.measure)))
        .collect();
    let inputs = Inputs::read(cfg)?;
    // each stage's inputs, content-hashed: a stage whose inputs did not change is not run, its
    // outputs are taken from the previous run (crate::incremental)
    use crate::incremental::{h, h_debug as dbg};
    let (included, ingest_key) = ingest_stages(cfg, &inputs, st, cache)?;
    inject(fail_after, "ingest")?;
    let extract_in = extract_inputs(cfg, &inputs, &included, &kinds);
    let ids = cache.stage(st, "extract", extract_in, || {
        extract_stage(cfg, &kinds, &inputs, included.as_ref(), st)
    })?;
    inject(fail_after, "extract")?;
    let outcome_ids: Vec<String> = cfg.outcomes.iter().map(|o| o.id.clone()).collect();
    let rob_in = vec![
        ("upstream: extract".to_string(), cache.key("extract")),
        (
            "RoB answers".into(),
            inputs.rob.as_ref().map(|r| h(&r.bytes)).unwrap_or(0),
        ),
        ("outcomes".into(), h(outcome_ids.join("\n").as_bytes())),
    ];
    cache.stage(st, "rob", rob_in, || {
        rob_stage(&inputs, &ids, &outcome_ids, st)
    })?;
    inject(fail_after, "rob")?;
    let pool_in = vec![
        ("upstream: extract".to_string(), cache.key("extract")),
        ("upstream: rob".into(), cache.key("rob")),
        // the typed plan only: a key only the report reads (a label, a favours text) does not rerun the pooling
        ("the outcomes' analysis plans".into(), dbg(&plans)),
    ];
    cache.stage(st, "pool", pool_in, || pool_stage(cfg, &plans, &ids, st))?;
    inject(fail_after, "pool")?;
    cache.stage(
        st,
        "changes",
        vec![("upstream: pool".to_string(), cache.key("pool"))],
        || changes_stage(cfg, st),
    )?;
    let mut report_in = vec![
        ("upstream: pool".to_string(), cache.key("pool")),
        ("upstream: changes".into(), cache.key("changes")),
        ("upstream: screening".into(), ingest_key),
        ("the config".into(), dbg(cfg)),
    ];
    report_in.extend(
        inputs
            .published
            .iter()
            .map(|p| ("published figures".to_string(), h(&p.bytes))),
    );
    cache.stage(st, "report", report_in, || {
        report_stage(cfg, &inputs, &ids, st)
    })?;
    inject(fail_after, "report")
}
