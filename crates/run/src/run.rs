//! `metapipe run`: every stage of one review, each reading the Parquet tables the previous
//! stage wrote. Outputs are staged in a temporary directory and swapped in whole at the end, so
//! a failed run leaves the previous outputs untouched and no partial file behind.

use crate::config::{Config, OutcomeCfg};
use crate::incremental::Stage;
use crate::protocol;
use metapipe_extract as extract;
use metapipe_ingest as ingest;
use metapipe_plan as plan;
use metapipe_report::audit;
use metapipe_tables::io::{read_parquet, Input};
use metapipe_tables::schema;
use metapipe_tables::{frame, i, pe, s, so, Builder, Error, Result, Table};
use polars::prelude::*;
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

fn inject(fail_after: Option<&str>, stage: &str) -> Result<()> {
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

/// A search export, read when its round is parsed: a round that is not rerun is not read (its
/// hash comes from the run record while the file's size and modification time are unchanged).
struct SourceFile {
    database: String,
    path: PathBuf,
    round: usize,
    input: std::cell::OnceCell<Input>,
}

impl SourceFile {
    fn input(&self) -> Result<&Input> {
        if let Some(i) = self.input.get() {
            return Ok(i);
        }
        let i = Input::read(&self.path)?;
        Ok(self.input.get_or_init(|| i))
    }
}

/// Every input file of a review, read by the shell (search exports when their round is parsed):
/// the stages never touch the filesystem.
struct Inputs {
    sources: Vec<SourceFile>,
    dedup_decisions: Option<Input>,
    /// title/abstract and full-text logs
    screening: Option<(Input, Input)>,
    studies: Input,
    arms: Option<Input>,
    outcomes: Input,
    rob: Option<Input>,
    published: Option<Input>,
}

impl Inputs {
    fn read(cfg: &Config) -> Result<Inputs> {
        let opt = |p: Option<&Path>| p.map(Input::read).transpose();
        Ok(Inputs {
            sources: cfg
                .sources
                .iter()
                .map(|s| SourceFile {
                    database: s.database.clone(),
                    path: s.file.clone(),
                    round: cfg.round_of(s),
                    input: Default::default(),
                })
                .collect(),
            dedup_decisions: opt(cfg.dedup.decisions.as_deref())?,
            screening: cfg
                .screening
                .as_ref()
                .map(|s| {
                    Ok::<_, Error>((Input::read(&s.title_abstract)?, Input::read(&s.full_text)?))
                })
                .transpose()?,
            studies: Input::read(&cfg.extraction.studies)?,
            arms: opt(cfg.extraction.arms.as_deref())?,
            outcomes: Input::read(&cfg.extraction.outcomes)?,
            rob: opt(cfg.rob.as_ref().map(|r| r.answers.as_path()))?,
            published: opt(cfg.review.published.as_deref())?,
        })
    }
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
        .map(|o| outcome_plan(cfg, o))
        .collect::<Result<_>>()?;
    let kinds: Vec<(String, extract::OutcomeKind)> = plans
        .iter()
        .map(|p| (p.id.clone(), protocol::outcome_kind(p.spec.measure)))
        .collect();
    let inputs = Inputs::read(cfg)?;
    // each stage's inputs, content-hashed: a stage whose inputs did not change is not run, its
    // outputs are taken from the previous run (crate::incremental)
    use crate::incremental::h;
    let dbg = |x: &dyn std::fmt::Debug| h(format!("{x:?}").as_bytes());
    let (included, ingest_key) = ingest_stages(cfg, &inputs, st, cache)?;
    inject(fail_after, "ingest")?;
    // extract depends on ingest only through the studies the full-text log includes
    let mut extract_in = vec![
        (
            "included studies (full-text log)".to_string(),
            dbg(&included),
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
    extract_in.push((
        "[extraction] and outcome types".into(),
        dbg(&(&cfg.extraction, &kinds)),
    ));
    let ids = cache.stage(st, "extract", extract_in, || {
        extract_stage(cfg, &kinds, &inputs, included.as_ref(), st)
    })?;
    inject(fail_after, "extract")?;
    let rob_in = vec![
        ("upstream: extract".to_string(), cache.key("extract")),
        (
            "RoB answers".into(),
            inputs.rob.as_ref().map(|r| h(&r.bytes)).unwrap_or(0),
        ),
    ];
    cache.stage(st, "rob", rob_in, || rob_stage(&inputs, &ids, st))?;
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

/// Search exports and screening logs → records, clusters, screening, PRISMA, the records
/// awaiting a decision; or the PRISMA counts typed into the config; or nothing. Each search
/// round is a stage of its own, deduplicated against the rounds before it (their state read
/// back from `.state/`), so a new round reruns only itself; then the screening logs over every
/// round's clusters; then the records awaiting a decision, per round, and the whole lists.
/// Returns the studies the full-text log includes, and the key the later stages depend on.
fn ingest_stages(
    cfg: &Config,
    inputs: &Inputs,
    st: &Stage,
    cache: &mut crate::incremental::Cache,
) -> Result<(Option<std::collections::BTreeSet<String>>, u64)> {
    use crate::incremental::h;
    let dbg = |x: &dyn std::fmt::Debug| h(format!("{x:?}").as_bytes());
    let Some((ta, ft)) = &inputs.screening else {
        cache.stage(
            st,
            "prisma",
            vec![("[prisma]".into(), dbg(&cfg.prisma))],
            || {
                if let Some(counts) = &cfg.prisma {
                    st.put(&typed_prisma(counts)?)?;
                    info!("PRISMA counts from the config");
                }
                Ok(())
            },
        )?;
        return Ok((None, cache.key("prisma")));
    };
    let human = ingest::read_human_decisions(inputs.dedup_decisions.as_ref())?;
    // a database's priority for representatives: its first source in the config
    let mut priority: Vec<(&str, usize)> = vec![];
    for s in &inputs.sources {
        if !priority.iter().any(|(d, _)| *d == s.database) {
            priority.push((&s.database, priority.len()));
        }
    }
    let prio = |db: &str| {
        priority
            .iter()
            .find(|(d, _)| *d == db)
            .map_or(usize::MAX, |p| p.1)
    };
    let mut numbers: Vec<usize> = inputs.sources.iter().map(|s| s.round).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let mut all = ingest::state::Earlier::default();
    let mut rounds: Vec<ingest::RoundSummary> = vec![];
    let mut round_keys = vec![];
    for &r in &numbers {
        let srcs: Vec<&SourceFile> = inputs.sources.iter().filter(|s| s.round == r).collect();
        let mut ins: Vec<(String, u64)> = vec![(
            "earlier rounds".into(),
            round_keys.last().copied().unwrap_or(0),
        )];
        for s in &srcs {
            ins.push((
                format!("source {} {}", s.database, s.path.display()),
                cache.input_hash(&s.path, || s.input())?,
            ));
        }
        ins.push((
            "dedup decisions".into(),
            inputs
                .dedup_decisions
                .as_ref()
                .map_or(Ok(0), |i| cache.input_hash(&i.path, || Ok(i)))?,
        ));
        // the priorities of the databases searched so far
        let so_far: Vec<&(&str, usize)> = priority
            .iter()
            .filter(|(d, _)| {
                inputs
                    .sources
                    .iter()
                    .any(|s| s.round <= r && s.database == *d)
            })
            .collect();
        ins.push(("database order".into(), dbg(&so_far)));
        ins.push(("[dedup.thresholds]".into(), dbg(&cfg.dedup.thresholds)));
        let name = format!("round {r}");
        let summary: ingest::RoundSummary = cache.stage(st, &name, ins, || {
            round_stage(r, &srcs, &all, &prio, &human, &cfg.dedup.thresholds, st)
        })?;
        for w in &summary.warnings {
            tracing::warn!(round = r, "{w}");
        }
        if summary.seen_again > 0 {
            info!(
                round = r,
                records = summary.seen_again,
                "records exported again under an id an earlier round had (already seen; not added)"
            );
        }
        let path = st.dir.join(round_file(".state", r, "bin"));
        let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        // SAFETY: a file of the staging directory, written whole (write_atomic) or hard-linked
        // from the previous outputs, never written again: the mapping reads fixed bytes; only the
        // pages a lookup touches are read
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(&path, e))?;
        all.push(
            ingest::state::RoundState::decode(map, &path.display().to_string())
                .map_err(Error::data)?,
        );
        round_keys.push(cache.key(&name));
        rounds.push(summary);
    }
    // the screening logs over every round's clusters
    let mut scr_in = vec![(
        "search rounds".to_string(),
        round_keys.last().copied().unwrap_or(0),
    )];
    scr_in.extend([
        (
            "title/abstract log".to_string(),
            cache.input_hash(&ta.path, || Ok(ta))?,
        ),
        (
            "full-text log".to_string(),
            cache.input_hash(&ft.path, || Ok(ft))?,
        ),
    ]);
    let screened: std::cell::OnceCell<ingest::Screened> = std::cell::OnceCell::new();
    let screen = || -> Result<&ingest::Screened> {
        if let Some(s) = screened.get() {
            return Ok(s);
        }
        let s = ingest::screen(&rounds, &all, ta, ft)?;
        Ok(screened.get_or_init(|| s))
    };
    let value: ScreeningValue = cache.stage(st, "screening", scr_in, || {
        screening_stage(&rounds, &all, screen()?, st)
    })?;
    let screening_key = cache.key("screening");
    // the records awaiting a decision: per round (a round whose open records did not change is
    // not rewritten), then the whole lists for the screening app
    let mut pieces = vec![];
    for (k, (r, &(n, hash))) in rounds.iter().zip(&value.awaiting).enumerate() {
        if n == 0 {
            continue;
        }
        let name = format!("to_screen round {}", r.round);
        let ins = vec![
            (format!("round {}", r.round), round_keys[k]),
            ("awaiting".to_string(), hash),
        ];
        cache.stage(st, &name, ins, || {
            to_screen_round(r, &all.rounds()[k], screen()?.awaiting_in(r), st)
        })?;
        pieces.push((r.round, cache.key(&name)));
    }
    if !pieces.is_empty() {
        let ins = pieces
            .iter()
            .map(|(r, k)| (format!("to_screen round {r}"), *k))
            .collect();
        cache.stage(st, "to_screen", ins, || to_screen_all(&pieces, st))?;
    }
    Ok((Some(value.included), screening_key))
}

/// `<dir>/round-NNN.<ext>`: a per-round file (zero-padded, so that names sort in round order).
fn round_file(dir: &str, round: usize, ext: &str) -> String {
    format!("{dir}/round-{round:03}.{ext}")
}

/// One search round: parse its sources, deduplicate against the earlier rounds, write its
/// records, clusters, merged records and maybe-pairs (`<table>/round-NNN.parquet`) and its
/// state for the later rounds.
fn round_stage(
    r: usize,
    srcs: &[&SourceFile],
    all: &ingest::state::Earlier,
    prio: &dyn Fn(&str) -> usize,
    human: &[ingest::dedup::HumanDecision],
    th: &ingest::dedup::Thresholds,
    st: &Stage,
) -> Result<ingest::RoundSummary> {
    let _g = tracing::info_span!("round", round = r).entered();
    let srcs: Vec<(&str, &Input)> = srcs
        .iter()
        .map(|s| Ok((s.database.as_str(), s.input()?)))
        .collect::<Result<_>>()?;
    let round = ingest::ingest_round(r, &srcs, all, prio, human, th)?;
    let records = ingest::records_table(&round.records)?;
    let (clusters, merged, maybe) =
        ingest::dedup_tables(&round.records, &records, &round.dedup, all)?;
    for t in [&records, &clusters, &merged, &maybe] {
        st.put_at(t, &round_file(t.schema.name, r, "parquet"))?;
    }
    st.write(&round_file(".state", r, "bin"), &round.state(all))?;
    let s = &round.summary;
    info!(
        records = s.records,
        new_clusters = s.clusters_after - s.clusters_before,
        joined_earlier = round
            .dedup
            .cluster_of
            .iter()
            .filter(|&&c| c < s.clusters_before)
            .count(),
        maybe_pairs = s.maybe_pairs,
        "search round deduplicated"
    );
    Ok(round.summary)
}

/// What the screening stage hands on: the studies the full-text log includes, and per round
/// the number of records awaiting a decision and a hash of which (the per-round to_screen
/// files depend on it).
#[derive(serde::Serialize, serde::Deserialize)]
struct ScreeningValue {
    included: std::collections::BTreeSet<String>,
    awaiting: Vec<(usize, u64)>,
}

/// The screening logs over every round's clusters → screening, agreement, PRISMA (with the
/// updated-review flow when there is more than one round) and the cluster list.
fn screening_stage(
    rounds: &[ingest::RoundSummary],
    all: &ingest::state::Earlier,
    sc: &ingest::Screened,
    st: &Stage,
) -> Result<ScreeningValue> {
    let _g = tracing::info_span!("screening").entered();
    let agreement = ingest::agreement_table(&sc.ta, &sc.ft)?;
    st.csv(&agreement, "screening_agreement.csv")?;
    let mut prisma = ingest::prisma_table(&sc.prisma)?;
    if !sc.update.is_empty() {
        let mut b = metapipe_tables::Builder::new(&schema::PRISMA);
        for (stage, detail, n) in &sc.update {
            b.row(vec![s(stage), so(detail.clone()), i(*n as i64)]);
        }
        let df = prisma.df.vstack(&b.finish()?.df)?;
        prisma = Table::new(&schema::PRISMA, df)?;
    }
    for t in [
        &ingest::screening_table(&sc.ta, &sc.ft)?,
        &prisma,
        &agreement,
    ] {
        st.put(t)?;
    }
    // clusters.csv in the dedup benchmark's format: one row per cluster of two or more
    st.csv(&ingest::cluster_list(all)?, "clusters.csv")?;
    info!(
        records = sc.prisma.records_identified,
        clusters = all.n_clusters(),
        screened = sc.ta.len(),
        kappa = sc.kappa_title_abstract,
        "screening done"
    );
    if !sc.awaiting.is_empty() {
        info!(
            awaiting_screening = sc.prisma.awaiting_screening,
            awaiting_full_text = sc.prisma.awaiting_full_text,
            "records await a decision: to_screen.csv, to_screen.ris"
        );
    }
    let hash = |a: &[(usize, &str)]| {
        crate::incremental::h(
            &a.iter()
                .flat_map(|(c, stage)| {
                    (*c as u64)
                        .to_le_bytes()
                        .into_iter()
                        .chain([stage.as_bytes()[0]])
                })
                .collect::<Vec<u8>>(),
        )
    };
    let awaiting = rounds
        .iter()
        .map(|r| sc.awaiting_in(r))
        .map(|a| (a.len(), hash(a)))
        .collect();
    Ok(ScreeningValue {
        included: sc.ft.iter().filter_map(|d| d.study_id.clone()).collect(),
        awaiting,
    })
}

/// The records a round found that await a decision: `to_screen/round-NNN.parquet`, `.csv`,
/// `.ris` (import the latest round's into the screening app).
fn to_screen_round(
    r: &ingest::RoundSummary,
    state: &ingest::state::RoundState,
    awaiting: &[(usize, &str)],
    st: &Stage,
) -> Result<usize> {
    let records = read_parquet(
        &st.dir
            .join(round_file(schema::RECORDS.name, r.round, "parquet")),
        &schema::RECORDS,
    )?;
    let t = ingest::to_screen_table(&records, state, awaiting, r.round)?;
    st.put_at(&t, &round_file("to_screen", r.round, "parquet"))?;
    st.csv(&t, &round_file("to_screen", r.round, "csv"))?;
    st.write(
        &round_file("to_screen", r.round, "ris"),
        ingest::to_screen_ris(&t).as_bytes(),
    )?;
    Ok(t.num_rows())
}

/// `to_screen.csv` and `to_screen.ris`: every round's records awaiting a decision, rounds in
/// order (the per-round files joined; one CSV header).
fn to_screen_all(pieces: &[(usize, u64)], st: &Stage) -> Result<()> {
    let (mut csv, mut ris) = (vec![], vec![]);
    for (k, (r, _)) in pieces.iter().enumerate() {
        let part = round_file("to_screen", *r, "csv");
        // the header once: the later parts from their second line
        let skip = if k == 0 {
            0
        } else {
            let p = st.dir.join(&part);
            let mut first = String::new();
            std::io::BufRead::read_line(
                &mut std::io::BufReader::new(
                    std::fs::File::open(&p).map_err(|e| Error::io(&p, e))?,
                ),
                &mut first,
            )
            .map_err(|e| Error::io(&p, e))?;
            first.len() as u64
        };
        csv.push((part, skip));
        ris.push((round_file("to_screen", *r, "ris"), 0));
    }
    st.write_parts("to_screen.csv", &csv)?;
    st.write_parts("to_screen.ris", &ris)
}

/// The `[prisma]` counts (checked by [`crate::config::prisma_problem`] when the config was loaded) as the
/// prisma table.
fn typed_prisma(counts: &std::collections::BTreeMap<String, i64>) -> Result<Table> {
    if let Some((k, m)) = crate::config::prisma_problem(counts) {
        return Err(Error::data(m).field(format!("prisma.{k}")));
    }
    let g = |k: &str| counts.get(k).copied();
    let mut t = Builder::new(&schema::PRISMA);
    for k in crate::config::PRISMA_STAGES {
        if let Some(v) = g(k) {
            t.row(vec![s(k), so(None::<String>), i(v)]);
        }
    }
    t.finish()
}

fn extract_stage(
    cfg: &Config,
    kinds: &[(String, extract::OutcomeKind)],
    inputs: &Inputs,
    included: Option<&std::collections::BTreeSet<String>>,
    st: &Stage,
) -> Result<Vec<String>> {
    let _g = tracing::info_span!("extract").entered();
    let covariates = cfg.covariates();
    let spec = extract::Spec {
        covariates: &covariates,
        comparison_factor: cfg.extraction.comparison_factor.as_deref(),
        outcomes: kinds,
    };
    let ex = extract::extract(
        &inputs.studies,
        inputs.arms.as_ref(),
        &inputs.outcomes,
        &spec,
    )?;
    let ids: Vec<String> = ex
        .studies
        .str("study_id")
        .iter()
        .flatten()
        .map(String::from)
        .collect();
    if let Some(included) = included {
        // every extracted study was included; an included study not yet extracted awaits
        // extraction (a living review's new trial): a warning, not an error
        let listed: std::collections::BTreeSet<String> = ids.iter().cloned().collect();
        if let Some(x) = listed.difference(included).next() {
            return Err(Error::data(format!("extracted study {x:?} is not included in the full-text log (included: {included:?})")).file(&cfg.extraction.studies).field("study_id"));
        }
        let waiting: Vec<&String> = included.difference(&listed).collect();
        if !waiting.is_empty() {
            tracing::warn!("included studies awaiting extraction: {waiting:?}");
        }
    }
    for t in [&ex.studies, &ex.arms, &ex.outcome_data] {
        st.put(t)?;
    }
    info!(
        studies = ids.len(),
        arms = ex.arms.num_rows(),
        outcome_rows = ex.outcome_data.num_rows(),
        "extract done"
    );
    Ok(ids)
}

fn rob_stage(inputs: &Inputs, ids: &[String], st: &Stage) -> Result<()> {
    let Some(answers) = &inputs.rob else {
        return Ok(());
    };
    let _g = tracing::info_span!("rob").entered();
    let rob = metapipe_rob::rob_stage(answers, ids)?;
    st.put(&rob)?;
    info!(judgments = rob.num_rows(), "rob done");
    Ok(())
}

/// The analysis plan on the extract stage's tables (read back from Parquet).
fn pool_stage(cfg: &Config, plans: &[plan::OutcomePlan], ids: &[String], st: &Stage) -> Result<()> {
    let _g = tracing::info_span!("pool").entered();
    let (studies_t, od) = (st.get(&schema::STUDIES)?, st.get(&schema::OUTCOME_DATA)?);
    let rob = st.maybe(&schema::ROB)?;
    // RoB judgments join to the studies: the overall judgment is a column subgroups can split on
    let studies_t = match &rob {
        None => studies_t,
        Some(rob) => {
            let df = (|| {
                let mut overall = frame::rows_equal(&rob.df, "domain", "overall")?
                    .select(["study_id", "judgment"])?;
                overall.rename("judgment", "rob_overall".into())?;
                frame::join(
                    &frame::numbered(&studies_t.df, "row")?,
                    &overall,
                    &["study_id"],
                    JoinType::Left,
                    false,
                )?
                .sort(["row"], SortMultipleOptions::default())?
                .drop("row")
            })()?;
            Table::new(&schema::STUDIES, df)?
        }
    };
    for o in &cfg.outcomes {
        for sid in o.study_list().into_iter().flatten() {
            if !ids.contains(sid) {
                return Err(Error::data(format!(
                    "outcome {} names study {sid:?}, which is not an included study",
                    o.id
                ))
                .field("outcomes.studies"));
            }
        }
    }
    let analyses = plan::run(plans, &studies_t, &od)?;
    st.put(&plan::results_table(&analyses)?)?;
    st.put(&plan::effects_table(&analyses)?)?;
    if plans.iter().any(|p| p.sensitivity.any()) {
        st.put(&plan::sensitivity_table(
            plans,
            &analyses,
            &studies_t,
            rob.as_ref(),
        )?)?;
    }
    let pooled_n = analyses.iter().filter(|a| !a.models.is_empty()).count();
    info!(
        analyses = analyses.len(),
        pooled = pooled_n,
        not_pooled = analyses.len() - pooled_n,
        "pool done"
    );
    Ok(())
}

/// The stage tables the report stage draws from, as the earlier stages wrote them.
struct Written {
    results: Table,
    prisma: Option<Table>,
    outcome_data: Table,
    effects: Table,
    rob: Option<Table>,
    studies: Table,
    arms: Table,
    sensitivity: Option<Table>,
    changes: Option<Table>,
}

/// The CSV outputs, the audit and consistency stages, and the report, from the stage tables.
fn report_stage(cfg: &Config, inputs: &Inputs, ids: &[String], st: &Stage) -> Result<()> {
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
    };
    let prisma_counts = csv_outputs(cfg, &written, st)?;
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
fn csv_outputs(cfg: &Config, w: &Written, st: &Stage) -> Result<Vec<(String, i64)>> {
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

/// Consistency of published pooled results with the sourced study data (searched in parallel).
fn consistency_stage(
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
        Some(p) => read_published(p)?,
        None => {
            return Err(Error::data("[[consistency]] checks need review.published")
                .field("review.published"))
        }
    };
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
    let found: Vec<consistency::Found> = std::thread::scope(|sc| {
        let hs: Vec<_> = checks
            .iter()
            .map(|c| sc.spawn(|| consistency::run(std::slice::from_ref(c), &od_rows, &pub_pairs)))
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().expect("consistency worker panicked"))
            .collect()
    });
    let t = consistency::table(&found)?;
    st.put(&t)?;
    st.csv(&t, "consistency.csv")?;
    Ok(Some((t, consistency::audit_rows(&found))))
}

/// What moved since the previous results (`changes.csv`, `previous_results.parquet`). A rerun
/// whose results are byte-identical to the previous ones keeps the previous comparison, so a
/// rerun with no change writes the same files.
fn changes_stage(cfg: &Config, st: &Stage) -> Result<()> {
    let _g = tracing::info_span!("changes").entered();
    let (prev_path, new_path) = (
        st.previous.join("results.parquet"),
        st.dir.join("results.parquet"),
    );
    let Ok(prev_bytes) = std::fs::read(&prev_path) else {
        return Ok(());
    };
    let new_bytes = std::fs::read(&new_path).map_err(|e| Error::io(&new_path, e))?;
    if prev_bytes == new_bytes {
        for f in ["changes.csv", "changes.parquet", "previous_results.parquet"] {
            if let Ok(b) = std::fs::read(st.previous.join(f)) {
                st.write(f, &b)?;
            }
        }
        return Ok(());
    }
    // results of an older layout cannot be compared: say so and start afresh
    let Ok(prev) = read_parquet(&prev_path, &schema::RESULTS) else {
        tracing::warn!("the previous results.parquet has another layout; no changes.csv this time");
        return Ok(());
    };
    st.write("previous_results.parquet", &prev_bytes)?;
    let new = st.get(&schema::RESULTS)?;
    let null_of = |outcome: &str| {
        cfg.outcomes
            .iter()
            .find(|o| o.id == outcome)
            .and_then(|o| cfg.spec(o).ok())
            .map(|s| if s.ratio() { 1.0 } else { 0.0 })
            .unwrap_or(0.0)
    };
    let t = changes_table(&prev, &new, &null_of)?;
    info!(
        rows = t.num_rows(),
        moved = t
            .str("change")
            .iter()
            .filter(|c| *c != Some("unchanged"))
            .count(),
        "changes since the previous results"
    );
    st.put(&t)?;
    st.csv(&t, "changes.csv")
}

/// Previous and new results joined (polars full join on outcome, subgroup, model type; missing
/// keys match missing keys), compared row by row.
fn changes_table(prev: &Table, new: &Table, null_of: &dyn Fn(&str) -> f64) -> Result<Table> {
    let side = |t: &Table, suffix: &str| -> PolarsResult<DataFrame> {
        let mut d = t.df.select([
            "outcome",
            "subgroup",
            "model_type",
            "studies",
            "model",
            "estimate",
            "ci_lb",
            "ci_ub",
            "I2",
        ])?;
        for c in ["studies", "model", "estimate", "ci_lb", "ci_ub", "I2"] {
            d.rename(c, format!("{c}{suffix}").into())?;
        }
        d.with_column(Column::new(
            format!("in{suffix}").into(),
            vec![true; d.height()],
        ))?;
        frame::numbered(&d, &format!("order{suffix}"))
    };
    let keys = ["outcome", "subgroup", "model_type"];
    let mut args = JoinArgs::new(JoinType::Full);
    args.nulls_equal = true;
    args.coalesce = JoinCoalesce::CoalesceColumns;
    let df = side(new, "_after")
        .and_then(|after| after.join(&side(prev, "_before")?, keys, keys, args, None))
        .and_then(|d| {
            d.sort(
                ["order_after", "order_before"],
                SortMultipleOptions::default().with_nulls_last(true),
            )
        })?;
    let c = |n: &str| df.column(n).map_err(pe);
    let (outcome, subgroup, model_type) = (
        c("outcome")?.str()?,
        c("subgroup")?.str()?,
        c("model_type")?.str()?,
    );
    let (in_a, in_b) = (c("in_after")?.bool()?, c("in_before")?.bool()?);
    let (st_a, st_b, m_a, m_b) = (
        c("studies_after")?.str()?,
        c("studies_before")?.str()?,
        c("model_after")?.str()?,
        c("model_before")?.str()?,
    );
    let f = |n: &str| c(n).and_then(|x| x.f64().map_err(pe).cloned());
    let (e_a, e_b, l_a, l_b, u_a, u_b, i_a, i_b) = (
        f("estimate_after")?,
        f("estimate_before")?,
        f("ci_lb_after")?,
        f("ci_lb_before")?,
        f("ci_ub_after")?,
        f("ci_ub_before")?,
        f("I2_after")?,
        f("I2_before")?,
    );
    let mut t = Builder::new(&schema::CHANGES);
    for r in 0..df.height() {
        let set = |x: Option<&str>| {
            x.unwrap_or("")
                .split(';')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        };
        let (after, before) = (set(st_a.get(r)), set(st_b.get(r)));
        let added: Vec<&str> = after
            .iter()
            .filter(|s| !before.contains(s))
            .map(String::as_str)
            .collect();
        let removed: Vec<&str> = before
            .iter()
            .filter(|s| !after.contains(s))
            .map(String::as_str)
            .collect();
        let o = outcome.get(r).unwrap_or_default();
        let null = null_of(o);
        let crosses =
            |l: Option<f64>, u: Option<f64>| l.zip(u).map(|(l, u)| l <= null && null <= u);
        let mut flags = vec![];
        match (
            crosses(l_b.get(r), u_b.get(r)),
            crosses(l_a.get(r), u_a.get(r)),
        ) {
            (Some(true), Some(false)) => {
                flags.push("the CI no longer includes the null".to_string())
            }
            (Some(false), Some(true)) => flags.push("the CI now includes the null".to_string()),
            (None, Some(_)) if in_b.get(r).is_some() => flags.push("newly pooled".to_string()),
            (Some(_), None) if in_a.get(r).is_some() => flags.push("no longer pooled".to_string()),
            _ => {}
        }
        if let (Some(x), Some(y)) = (m_b.get(r), m_a.get(r)) {
            if x != y {
                flags.push(format!("model changed: {x} -> {y}"));
            }
        }
        let same = |a: Option<f64>, b: Option<f64>| a == b;
        let change = match (in_b.get(r).is_some(), in_a.get(r).is_some()) {
            (false, _) => "new",
            (_, false) => "removed",
            _ if added.is_empty()
                && removed.is_empty()
                && same(e_a.get(r), e_b.get(r))
                && same(l_a.get(r), l_b.get(r))
                && same(u_a.get(r), u_b.get(r))
                && same(i_a.get(r), i_b.get(r))
                && flags.is_empty() =>
            {
                "unchanged"
            }
            _ => "updated",
        };
        t.row(vec![
            s(o),
            so(subgroup.get(r)),
            so(model_type.get(r)),
            s(change),
            so(Some(added.join(";"))),
            so(Some(removed.join(";"))),
            metapipe_tables::f(e_b.get(r)),
            metapipe_tables::f(e_a.get(r)),
            metapipe_tables::f(l_b.get(r)),
            metapipe_tables::f(l_a.get(r)),
            metapipe_tables::f(u_b.get(r)),
            metapipe_tables::f(u_a.get(r)),
            metapipe_tables::f(i_b.get(r)),
            metapipe_tables::f(i_a.get(r)),
            so(Some(flags.join("; "))),
        ]);
    }
    t.finish()
}

/// Every subset of `m` of `0..n` (sorted index lists), the one without the last index first.
fn subsets(n: usize, m: usize) -> Vec<Vec<usize>> {
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
fn audit_stage(
    inputs: &Inputs,
    w: &Written,
    prisma_counts: &[(String, i64)],
    cons: Option<&[audit::AuditRow]>,
    st: &Stage,
) -> Result<Option<Table>> {
    let Some(p) = &inputs.published else {
        return Ok(None);
    };
    let published = read_published(p)?;
    let margins = extract::factor_margins(&w.arms)?;
    let facts = audit::Facts {
        prisma: prisma_counts,
        studies: &w.studies,
        arms: &w.arms,
        outcome_data: &w.outcome_data,
        margins: &margins,
        results: &w.results,
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
fn write_report(
    cfg: &Config,
    w: &Written,
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
        changes: w.changes.as_ref(),
        outcomes: cfg
            .outcomes
            .iter()
            .map(|o| outcome_view(cfg, o))
            .collect::<Result<_>>()?,
        treat_label: &cfg.review.treat_label,
        ctrl_label: &cfg.review.ctrl_label,
    };
    for (name, body) in metapipe_report::html::build(&input)? {
        st.write(&format!("report/{name}"), body.as_bytes())?;
    }
    Ok(())
}

/// How the report draws an outcome: the effect's name, its axis, its per-arm cells.
fn outcome_view(
    cfg: &Config,
    o: &crate::config::OutcomeCfg,
) -> Result<metapipe_report::html::OutcomeView> {
    use metapipe_meta::Measure;
    use metapipe_report::html::Kind;
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
    };
    let kind = match protocol::outcome_kind(spec.measure) {
        extract::OutcomeKind::Binary => Kind::Binary,
        extract::OutcomeKind::Continuous => Kind::Continuous,
        extract::OutcomeKind::Generic => Kind::Generic,
    };
    // the model planned: the fixed-effect one where the rule starts from it
    let planned = match spec.choice {
        plan::Choice::Fixed | plan::Choice::Rule { .. } => format!(
            "fixed effect: {}{}",
            spec.fixed.name(),
            if spec.revman() { " (RevMan 5)" } else { "" }
        ),
        plan::Choice::Random | plan::Choice::Both => format!(
            "random effects: {}{}",
            spec.random.name(),
            if spec.revman() { " (RevMan 5)" } else { "" }
        ),
    };
    let planned = planned
        .replace("fixed effect: MH", "fixed effect: Mantel-Haenszel")
        .replace("fixed effect: PETO", "fixed effect: Peto");
    Ok(metapipe_report::html::OutcomeView {
        planned_model: metapipe_report::html::model_short(&planned),
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
        favours: (
            o.favours_left
                .clone()
                .unwrap_or_else(|| format!("Favours {}", cfg.review.treat_label)),
            o.favours_right
                .clone()
                .unwrap_or_else(|| format!("Favours {}", cfg.review.ctrl_label)),
        ),
    })
}

/// `outcomes.csv`: the protocol's outcomes, as run (subgroups as the plan made them).
fn outcomes_table(cfg: &Config, results: &Table) -> Result<Table> {
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

/// A further subgroup as the config writes it: `column:value` (a studies column equal to a
/// value), or a yes/no covariate's name (the studies where it is yes).
fn subgroup(cfg: &Config, s: &str) -> std::result::Result<plan::Subgroup, String> {
    if let Some((c, v)) = s.split_once(':') {
        return Ok(plan::Subgroup {
            column: c.to_string(),
            value: v.to_string(),
            name: v.to_string(),
        });
    }
    match cfg.covariates().into_iter().find(|c| c.name == s) {
        Some(c) if c.kind == extract::CovKind::YesNo => Ok(plan::Subgroup {
            column: s.to_string(),
            value: "true".into(),
            name: s.to_string(),
        }),
        _ => Err(format!(
            "{s:?}: expected column:value or the name of a yes/no covariate"
        )),
    }
}

/// The typed plan of one outcome.
fn outcome_plan(cfg: &Config, o: &OutcomeCfg) -> Result<plan::OutcomePlan> {
    let err = |msg: String| {
        metapipe_tables::Error::data(format!("outcome {}: {msg}", o.id)).field("outcomes.subgroups")
    };
    let spec = cfg.spec(o)?;
    let studies = match &o.studies {
        Some(crate::config::StudySet::List(v)) => metapipe_plan::StudySet::Listed(v.clone()),
        Some(crate::config::StudySet::Word(w)) if w == "unstated" => {
            metapipe_plan::StudySet::Unstated
        }
        _ => metapipe_plan::StudySet::All,
    };
    Ok(plan::OutcomePlan {
        id: o.id.clone(),
        studies,
        subgroup_by: o
            .subgroup_by
            .clone()
            .map(|b| (b, o.subgroup_levels.clone())),
        subgroups: o
            .subgroups
            .iter()
            .map(|s| subgroup(cfg, s).map_err(err))
            .collect::<std::result::Result<_, _>>()?,
        pool_available: o.pool_available,
        spec,
        sensitivity: plan::Sensitivity {
            leave_one_out: o.leave_one_out,
            cumulative_by: o.cumulative_by.clone(),
            exclude_high_rob: o.exclude_high_rob,
            small_study: o.small_study,
            metaregression: o.metaregression.clone(),
        },
    })
}

/// `published.csv`: `source, item, kind, of, value, where` and optionally `note`.
fn read_published(input: &Input) -> Result<Vec<audit::Published>> {
    let (path, text) = (input.path.as_path(), input.text()?);
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::data(e.to_string()).file(path).line(1))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let idx = |n: &str| headers.iter().position(|h| h == n);
    for need in ["item", "kind", "value"] {
        if idx(need).is_none() {
            return Err(
                Error::data(format!("missing column (have: {})", headers.join(",")))
                    .file(path)
                    .line(1)
                    .field(need),
            );
        }
    }
    let mut out = vec![];
    for (n, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| Error::data(e.to_string()).file(path).line(n + 2))?;
        let get = |c: &str| {
            idx(c)
                .and_then(|i| r.get(i))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let p = audit::Published {
            source: get("source"),
            item: get("item"),
            kind: get("kind"),
            of: get("of"),
            value: get("value"),
            location: get("where"),
            note: get("note"),
        };
        if p.item.is_empty() {
            return Err(Error::data("empty item")
                .file(path)
                .line(n + 2)
                .field("item"));
        }
        if !audit::KINDS.contains(&p.kind.as_str()) {
            return Err(
                Error::data(format!("{:?}: expected one of {:?}", p.kind, audit::KINDS))
                    .file(path)
                    .line(n + 2)
                    .field("kind"),
            );
        }
        if p.kind != "other" && p.of.is_empty() {
            return Err(Error::data(format!(
                "a {} figure needs `of` (what it is a figure of)",
                p.kind
            ))
            .file(path)
            .line(n + 2)
            .field("of"));
        }
        out.push(p);
    }
    Ok(out)
}
