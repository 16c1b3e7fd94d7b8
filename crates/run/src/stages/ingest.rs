//! The ingest stages: each search round a stage of its own (parse its exports, deduplicate
//! against the earlier rounds through their state files), then the screening logs over every
//! round's clusters, the records awaiting a decision per round and in whole, and the PRISMA
//! counts (or the counts typed into the config).

use crate::config::Config;
use crate::incremental::{h_debug as dbg, Cache, Stage};
use crate::inputs::{Inputs, SourceFile};
use metapipe_ingest as ingest;
use metapipe_tables::io::{read_parquet, Input};
use metapipe_tables::schema;
use metapipe_tables::{i, s, so, Builder, Error, Result, Table};
use tracing::info;

/// Search exports and screening logs → records, clusters, screening, PRISMA, the records
/// awaiting a decision; or the PRISMA counts typed into the config; or nothing. Each search
/// round is a stage of its own, deduplicated against the rounds before it (their state read
/// back from `.state/`), so a new round reruns only itself; then the screening logs over every
/// round's clusters; then the records awaiting a decision, per round, and the whole lists.
/// Returns the studies the full-text log includes, and the key the later stages depend on.
pub(crate) fn ingest_stages(
    cfg: &Config,
    inputs: &Inputs,
    st: &Stage,
    cache: &mut Cache,
) -> Result<(Option<std::collections::BTreeSet<String>>, u64)> {
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
    let (all, rounds, round_keys) = search_rounds(cfg, inputs, st, cache)?;
    let (ta_format, ft_format) = cfg
        .screening
        .as_ref()
        .map_or(Default::default(), |s| (s.ta_format(), s.ft_format()));
    // the screening logs over every round's clusters
    let mut scr_in = vec![(
        "search rounds".to_string(),
        round_keys.last().copied().unwrap_or(0),
    )];
    scr_in.extend([
        (
            format!("title/abstract log ({})", ta_format.name()),
            cache.input_hash(&ta.path, || Ok(ta))?,
        ),
        (
            match ft_format {
                ingest::screening::TaFormat::Metapipe => "full-text log".to_string(),
                f => format!("full-text log ({})", f.name()),
            },
            cache.input_hash(&ft.path, || Ok(ft))?,
        ),
    ]);
    let screened: std::cell::OnceCell<ingest::Screened> = std::cell::OnceCell::new();
    let screen = || -> Result<&ingest::Screened> {
        if let Some(s) = screened.get() {
            return Ok(s);
        }
        let s = ingest::screen(&rounds, &all, ta, ta_format, ft, ft_format)?;
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
        super::rank::to_screen_stage(&pieces, screening_key, rounds.len(), cache, st)?;
    }
    Ok((Some(value.included), screening_key))
}

/// Each search round a stage: its records deduplicated against the earlier rounds'. Returns
/// every round's state, summaries and stage keys.
fn search_rounds(
    cfg: &Config,
    inputs: &Inputs,
    st: &Stage,
    cache: &mut Cache,
) -> Result<(ingest::state::Earlier, Vec<ingest::RoundSummary>, Vec<u64>)> {
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
        let earlier = round_keys.last().copied().unwrap_or(0);
        let ins = round_inputs(cfg, inputs, cache, r, &srcs, earlier, &priority)?;
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
        all.push(round_state(st, r)?);
        round_keys.push(cache.key(&name));
        rounds.push(summary);
    }
    Ok((all, rounds, round_keys))
}

/// What a round's stage reads: the earlier rounds' key, its exports, the dedup decisions, the
/// priorities of the databases searched so far, the dedup thresholds.
fn round_inputs(
    cfg: &Config,
    inputs: &Inputs,
    cache: &mut Cache,
    r: usize,
    srcs: &[&SourceFile],
    earlier: u64,
    priority: &[(&str, usize)],
) -> Result<Vec<(String, u64)>> {
    let mut ins: Vec<(String, u64)> = vec![("earlier rounds".into(), earlier)];
    for s in srcs {
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
    Ok(ins)
}

/// A round's state file, memory-mapped.
fn round_state(st: &Stage, r: usize) -> Result<ingest::state::RoundState> {
    let path = st.dir.join(super::round_file(".state", r, "bin"));
    let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
    // SAFETY: a file of the staging directory, written whole (write_atomic) or hard-linked
    // from the previous outputs, never written again: the mapping reads fixed bytes; only the
    // pages a lookup touches are read
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(&path, e))?;
    ingest::state::RoundState::decode(map, &path.display().to_string()).map_err(Error::data)
}

/// One search round: parse its sources, deduplicate against the earlier rounds, write its
/// records, clusters, merged records and maybe-pairs (`<table>/round-NNN.parquet`) and its
/// state for the later rounds.
pub(crate) fn round_stage(
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
        st.put_at(t, &super::round_file(t.schema.name, r, "parquet"))?;
    }
    st.write(&super::round_file(".state", r, "bin"), &round.state(all))?;
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
pub(crate) struct ScreeningValue {
    pub(crate) included: std::collections::BTreeSet<String>,
    pub(crate) awaiting: Vec<(usize, u64)>,
}

/// The screening logs over every round's clusters → screening, agreement, PRISMA (with the
/// updated-review flow when there is more than one round) and the cluster list.
pub(crate) fn screening_stage(
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
    let progress = super::rank::progress_table(sc)?;
    st.put(&progress)?;
    st.csv(&progress, "screening_progress.csv")?;
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
pub(crate) fn to_screen_round(
    r: &ingest::RoundSummary,
    state: &ingest::state::RoundState,
    awaiting: &[(usize, &str)],
    st: &Stage,
) -> Result<usize> {
    let records = read_parquet(
        &st.dir
            .join(super::round_file(schema::RECORDS.name, r.round, "parquet")),
        &schema::RECORDS,
    )?;
    let t = ingest::to_screen_table(&records, state, awaiting, r.round)?;
    st.put_at(&t, &super::round_file("to_screen", r.round, "parquet"))?;
    st.csv(&t, &super::round_file("to_screen", r.round, "csv"))?;
    st.write(
        &super::round_file("to_screen", r.round, "ris"),
        ingest::to_screen_ris(&t).as_bytes(),
    )?;
    Ok(t.num_rows())
}

/// The `[prisma]` counts (checked by [`crate::config::prisma_problem`] when the config was loaded) as the
/// prisma table.
pub(crate) fn typed_prisma(counts: &std::collections::BTreeMap<String, i64>) -> Result<Table> {
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
