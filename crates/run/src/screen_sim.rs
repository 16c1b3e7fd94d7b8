//! `metapipe screen-sim DATASET.csv`: replay a labelled review with the screening model and the
//! stopping rule (`metapipe_ingest::rank`), the IO shell around `rank::sim`.

use metapipe_ingest::rank::{sim, Doc, Model};
use metapipe_tables::io::{write_atomic, Input};
use metapipe_tables::sheet::Sheet;
use metapipe_tables::{Error, Result};
use std::path::Path;
use std::time::Instant;

/// A replay's figures (the priors counted as screened).
#[derive(Debug, Clone)]
pub struct SimOut {
    pub records: usize,
    pub relevant: usize,
    pub wss95: f64,
    pub recall_at_10: f64,
    pub stop_at: Option<usize>,
    pub recall_at_stop: Option<f64>,
    pub seconds: f64,
}

impl SimOut {
    /// One JSON object (the interface `make bench` reads).
    pub fn json(&self, seed: u64) -> String {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "null".into());
        format!(
            "{{\"records\": {}, \"relevant\": {}, \"seed\": {seed}, \"wss95\": {}, \"recall_at_10\": {}, \"stop_at\": {}, \"recall_at_stop\": {}, \"seconds\": {}}}",
            self.records,
            self.relevant,
            self.wss95,
            self.recall_at_10,
            opt(self.stop_at.map(|s| s.to_string())),
            opt(self.recall_at_stop.map(|r| r.to_string())),
            self.seconds
        )
    }
}

/// Replay `dataset` (columns `title`, `abstract`, `label_included` 0/1; others ignored) from
/// `seed` (or from `priors`, 1-based record numbers); with `order`, the screening order is written there as `record,label` (the row's
/// 1-based number in the dataset and its label).
pub fn screen_sim(
    dataset: &Path,
    seed: u64,
    priors: Option<&[usize]>,
    model: &Model,
    stopping: sim::Stopping,
    order: Option<&Path>,
) -> Result<SimOut> {
    let sheet = Sheet::parse(
        &Input::read(dataset)?,
        &["title", "abstract", "label_included"],
    )?;
    let mut texts = vec![];
    let mut relevant = vec![];
    for row in sheet.rows() {
        let label = match row.get("label_included") {
            Some("1") => true,
            Some("0") => false,
            other => {
                let m = format!("{other:?}: expected 0 or 1");
                return Err(row.err("label_included", m));
            }
        };
        let title = row.get("title").unwrap_or_default();
        let abs = row.get("abstract").unwrap_or_default();
        texts.push(Doc::new(title, abs));
        relevant.push(label);
    }
    if !relevant.iter().any(|&x| x) || relevant.iter().all(|&x| x) {
        return Err(
            Error::data("need relevant and irrelevant records (label_included)").file(dataset),
        );
    }
    // priors as the dataset's 1-based record numbers
    let priors: Option<Vec<usize>> = match priors {
        None => None,
        Some(p) => Some(
            p.iter()
                .map(|&k| {
                    (1..=texts.len())
                        .contains(&k)
                        .then(|| k - 1)
                        .ok_or_else(|| {
                            Error::usage(format!(
                                "--priors {k}: the dataset has records 1 to {}",
                                texts.len()
                            ))
                        })
                })
                .collect::<Result<_>>()?,
        ),
    };
    let t0 = Instant::now();
    let r = sim::replay(&texts, &relevant, seed, priors.as_deref(), model, stopping);
    let seconds = t0.elapsed().as_secs_f64();
    let (wss95, recall_at_10, recall_at_stop) = sim::metrics(&r.order, &relevant, r.stop_at);
    if let Some(p) = order {
        let mut text = String::from("record,label\n");
        for &i in &r.order {
            text.push_str(&format!("{},{}\n", i + 1, relevant[i] as u8));
        }
        write_atomic(p, text.as_bytes())?;
    }
    Ok(SimOut {
        records: texts.len(),
        relevant: relevant.iter().filter(|&&x| x).count(),
        wss95,
        recall_at_10,
        stop_at: r.stop_at,
        recall_at_stop,
        seconds,
    })
}
