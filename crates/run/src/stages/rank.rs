//! `to_screen.csv` ranked: when the team has decided on records of both kinds at title/abstract,
//! the records awaiting that decision are ordered by the relevance model trained on every
//! decision so far (`metapipe_ingest::rank::score_awaiting`; docs/screening.md), reports awaiting
//! full-text assessment first; the score and rank are columns. Without such decisions the
//! per-round lists are joined in file order (`ingest::to_screen_all`).

use super::round_file;
use crate::incremental::Cache;
use crate::incremental::Stage;
use metapipe_ingest as ingest;
use metapipe_ingest::rank::{score_awaiting, Doc, Model};
use metapipe_tables::io::read_parquet;
use metapipe_tables::schema;
use metapipe_tables::{Error, Result, Table};
use polars::prelude::*;
use std::collections::HashMap;

/// The model's seed (the order it visits the decisions in while fitting).
const SEED: u64 = 1;

/// The `to_screen` stage: `to_screen.csv`/`.ris` ranked where the decisions allow, else every
/// round's list joined in file order. Its inputs: the rounds' lists and the screening decisions.
pub(crate) fn to_screen_stage(
    pieces: &[(usize, u64)],
    screening_key: u64,
    rounds: usize,
    cache: &mut Cache,
    st: &Stage,
) -> Result<()> {
    let mut ins: Vec<(String, u64)> = pieces
        .iter()
        .map(|(r, k)| (format!("to_screen round {r}"), *k))
        .collect();
    // the ranking learns from every decision so far
    ins.push(("screening".into(), screening_key));
    cache.stage(st, "to_screen", ins, || {
        if !rank_to_screen(pieces, rounds, st)? {
            to_screen_all(pieces, st)?;
        }
        Ok(())
    })
}

/// Write the ranked `to_screen.csv`/`.ris`; false (nothing written) when the decisions so far
/// cannot train the model.
fn rank_to_screen(pieces: &[(usize, u64)], rounds: usize, st: &Stage) -> Result<bool> {
    let decided = decided_texts(st, rounds)?;
    let parts: Vec<Table> = pieces
        .iter()
        .map(|(r, _)| {
            let p = st.dir.join(round_file("to_screen", *r, "parquet"));
            read_parquet(&p, &schema::TO_SCREEN)
        })
        .collect::<Result<_>>()?;
    let mut df = parts[0].df.clone();
    for p in &parts[1..] {
        df.vstack_mut(&p.df)?;
    }
    let all = Table::new(&schema::TO_SCREEN, df)?;
    let n = all.num_rows();
    let is_ta: Vec<bool> = (0..n)
        .map(|r| all.str_at("stage", r).as_deref() == Some("title_abstract"))
        .collect();
    let ta: Vec<usize> = (0..n).filter(|&r| is_ta[r]).collect();
    let text = |r: usize| {
        let t = all.str_at("title", r).unwrap_or_default();
        Doc::new(t, all.str_at("abstract", r).unwrap_or_default())
    };
    let texts: Vec<Doc> = ta.iter().map(|&r| text(r)).collect();
    let Some(scores) = score_awaiting(&decided, &texts, &Model::default(), SEED) else {
        return Ok(false);
    };
    // full text first (as listed), then title/abstract by score, highest first
    let mut by_score: Vec<(usize, f64)> = ta.iter().copied().zip(scores).collect();
    by_score.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut order: Vec<usize> = (0..n).filter(|&r| !is_ta[r]).collect();
    let first_ta = order.len();
    order.extend(by_score.iter().map(|x| x.0));
    let idx = IdxCa::from_vec("i".into(), order.iter().map(|&r| r as IdxSize).collect());
    let mut df = all.df.take(&idx)?;
    let mut score: Vec<Option<f64>> = vec![None; first_ta];
    score.extend(by_score.iter().map(|x| Some(x.1)));
    let mut rank: Vec<Option<i64>> = vec![None; first_ta];
    rank.extend((1..=by_score.len() as i64).map(Some));
    df.with_column(Column::new("score".into(), score))?;
    df.with_column(Column::new("rank".into(), rank))?;
    let t = Table::new(&schema::TO_SCREEN, df)?;
    st.csv(&t, "to_screen.csv")?;
    st.write("to_screen.ris", ingest::to_screen_ris(&t).as_bytes())?;
    Ok(true)
}

/// Every title/abstract decision (include or exclude) with its record's title and abstract, in
/// the order of the rounds' records.
fn decided_texts(st: &Stage, rounds: usize) -> Result<Vec<(Doc, bool)>> {
    let sc = st.get(&schema::SCREENING)?;
    let mut label: HashMap<String, bool> = HashMap::new();
    for r in 0..sc.num_rows() {
        if sc.str_at("stage", r).as_deref() != Some("title_abstract") {
            continue;
        }
        let include = match sc.str_at("decision", r).as_deref() {
            Some("include") => true,
            Some("exclude") => false,
            _ => continue,
        };
        if let Some(id) = sc.str_at("record_id", r) {
            label.insert(id, include);
        }
    }
    let mut out = vec![];
    for round in 1..=rounds {
        let p = st
            .dir
            .join(round_file(schema::RECORDS.name, round, "parquet"));
        let recs = read_parquet(&p, &schema::RECORDS)?;
        for r in 0..recs.num_rows() {
            let Some(id) = recs.str_at("record_id", r) else {
                continue;
            };
            if let Some(l) = label.remove(&id) {
                let t = recs.str_at("title", r).unwrap_or_default();
                let a = recs.str_at("abstract", r).unwrap_or_default();
                out.push((Doc::new(t, a), l));
            }
        }
    }
    Ok(out)
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

/// The stopping rule's recall target and confidence in the pipeline.
const TARGET: f64 = 0.95;
const CONFIDENCE: f64 = 0.95;

/// `screening_progress`: the stopping rule on the title/abstract decisions in the log's order.
pub(crate) fn progress_table(sc: &ingest::Screened) -> Result<Table> {
    use metapipe_tables::{f, i, s};
    let mut ta: Vec<&ingest::screening::TaDecision> = sc.ta.iter().collect();
    ta.sort_by_key(|d| d.line);
    let seen: Vec<bool> = ta
        .iter()
        .map(|d| d.decision == ingest::screening::Verdict::Include)
        .collect();
    let awaiting = sc
        .awaiting
        .iter()
        .filter(|a| a.1 == "title_abstract")
        .count();
    let p = ingest::rank::stop::progress(&seen, awaiting, TARGET, CONFIDENCE);
    let found = seen.iter().filter(|&&x| x).count();
    let note = if awaiting == 0 {
        "every record has a title/abstract decision".to_string()
    } else if p.stop {
        format!("the rule allows stopping: recall ≥ {TARGET} with {CONFIDENCE} confidence, if the log lists the decisions in the order the records were screened, in ranked order; {awaiting} records would not be screened")
    } else {
        format!("keep screening: recall ≥ {TARGET} is not yet shown with {CONFIDENCE} confidence (the log's order taken as the screening order)")
    };
    let mut b = metapipe_tables::Builder::new(&schema::SCREENING_PROGRESS);
    b.row(vec![
        i((seen.len() + awaiting) as i64),
        i(seen.len() as i64),
        i(found as i64),
        i(awaiting as i64),
        f(TARGET),
        f(CONFIDENCE),
        f(p.p),
        s(if p.stop { "yes" } else { "no" }),
        f(p.recall_lower),
        s(note),
    ]);
    b.finish()
}
