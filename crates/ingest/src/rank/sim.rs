//! Replaying a labelled review: priors (one relevant and one irrelevant record drawn by the
//! seed, as ASReview's `simulate --n-prior-included 1 --n-prior-excluded 1`), then the record the
//! model ranks highest, one at a time, the model refitted after every decision while fewer than
//! `BATCH_FROM` are labelled and after every 1% more after that — or, in batches
//! ([`Model::batch`], ASReview's `--n-query`), the model's top `batch` records screened before
//! each refit; the stopping rule checked after
//! every 0.5% of the records (so it may stop up to that many records later than it could). The
//! metrics count the priors as screened.

use super::stop::{stop_p, LnFact};
use super::svm::Svm;
use super::tfidf::{tfidf, Features};
use super::{Doc, Model, Rng};

/// Refit after every decision up to this many labelled records.
const BATCH_FROM: usize = 200;

/// What a replay gives.
#[derive(Debug, Clone)]
pub struct Replay {
    /// record indices in screening order (priors first), until every relevant record was found
    /// (as ASReview's simulation stops)
    pub order: Vec<usize>,
    /// the records screened when the stopping rule first allowed stopping: past the last
    /// relevant record every record screened is irrelevant, whichever the model picks, so the
    /// rule is followed on without the model
    pub stop_at: Option<usize>,
}

/// The stopping rule's settings: recall target and confidence.
#[derive(Debug, Clone, Copy)]
pub struct Stopping {
    pub target: f64,
    pub confidence: f64,
}

/// Replay the review `texts` with labels `relevant` from `seed`; `priors`, when given, are the
/// records known first (another tool's draw, to compare from the same start), else one relevant
/// and one irrelevant record drawn by the seed.
pub fn replay(
    texts: &[Doc],
    relevant: &[bool],
    seed: u64,
    priors: Option<&[usize]>,
    m: &Model,
    st: Stopping,
) -> Replay {
    let n = texts.len();
    let total: usize = relevant.iter().filter(|&&x| x).count();
    let x = tfidf(texts, m.max_df, m.title_weight);
    let mut rng = Rng::new(seed);
    let mut order = match priors {
        Some(p) => p.to_vec(),
        None => draw_priors(relevant, &mut rng),
    };
    let mut done = vec![false; n];
    order.iter().for_each(|&i| done[i] = true);
    let lf = LnFact::new(n);
    let mut svm = Svm::new(x.terms, n);
    let mut queue: Vec<usize> = vec![];
    let mut since = usize::MAX;
    let mut stop_at = None;
    let mut found = order.iter().filter(|&&i| relevant[i]).count();
    // the stopping rule is checked after every `check` records (0.5% of the set)
    let check = n.div_ceil(200).max(1);
    let mut seen: Vec<bool> = order.iter().map(|&i| relevant[i]).collect();
    let stop_check = |seen: &[bool], stop_at: &mut Option<usize>| {
        if stop_at.is_none()
            && seen.len().is_multiple_of(check)
            && stop_p(seen, n, st.target, &lf) < 1.0 - st.confidence
        {
            *stop_at = Some(seen.len());
        }
    };
    while order.len() < n && found < total {
        let labelled = order.len();
        let due = match m.batch {
            Some(q) => since >= q,
            None => since >= (labelled / 100).max(1) || labelled < BATCH_FROM,
        };
        if due || queue.is_empty() {
            // `found`: the relevant records among the `labelled` so far
            svm.fit(
                &x,
                &order,
                relevant,
                m.costs(found, labelled - found),
                &mut rng,
            );
            queue = ranked(&svm, &x, &done, queue_len(m, labelled));
            since = 0;
        }
        let next = queue.pop().expect("a record left");
        done[next] = true;
        order.push(next);
        since += 1;
        found += relevant[next] as usize;
        seen.push(relevant[next]);
        stop_check(&seen, &mut stop_at);
    }
    while seen.len() < n && stop_at.is_none() {
        seen.push(false);
        stop_check(&seen, &mut stop_at);
    }
    Replay { order, stop_at }
}

/// One relevant and one irrelevant record drawn by the seed (ASReview's
/// `--n-prior-included 1 --n-prior-excluded 1`).
fn draw_priors(relevant: &[bool], rng: &mut Rng) -> Vec<usize> {
    let pos: Vec<usize> = (0..relevant.len()).filter(|&i| relevant[i]).collect();
    let neg: Vec<usize> = (0..relevant.len()).filter(|&i| !relevant[i]).collect();
    let mut order = vec![];
    if !pos.is_empty() {
        order.push(pos[rng.below(pos.len())]);
    }
    if !neg.is_empty() {
        order.push(neg[rng.below(neg.len())]);
    }
    order
}

/// How many records the queue must hold after a refit with `labelled` records labelled: the
/// decisions before the next refit is due (past `BATCH_FROM`, every 1% of the labelled ones,
/// which grow meanwhile: at most twice the 1% of now, plus two).
fn queue_len(m: &Model, labelled: usize) -> usize {
    match m.batch {
        Some(q) => q,
        None if labelled < BATCH_FROM => 1,
        None => 2 * (labelled / 100).max(1) + 2,
    }
}

/// The `take` best records not `done`, best last (to pop): highest score first, ties by record
/// order (the first `take` of the ranking of every record).
fn ranked(svm: &Svm, x: &Features, done: &[bool], take: usize) -> Vec<usize> {
    let scored = (0..done.len())
        .filter(|&i| !done[i])
        .map(|i| (svm.score(x, i), i));
    let first = |a: &(f64, usize), b: &(f64, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    if take == 1 {
        return scored.min_by(first).map(|s| s.1).into_iter().collect();
    }
    let mut all: Vec<(f64, usize)> = scored.collect();
    if take < all.len() {
        all.select_nth_unstable_by(take - 1, first);
        all.truncate(take);
    }
    all.sort_by(first);
    all.into_iter().rev().map(|s| s.1).collect()
}

/// The replay's metrics: (WSS@95, recall after 10% of the records, recall at the stop).
pub fn metrics(
    order: &[usize],
    relevant: &[bool],
    stop_at: Option<usize>,
) -> (f64, f64, Option<f64>) {
    let n = relevant.len();
    let total = relevant.iter().filter(|&&x| x).count().max(1);
    let found = |k: usize| order.iter().take(k).filter(|&&i| relevant[i]).count();
    let need = (0.95 * total as f64).ceil() as usize;
    let mut seen = 0;
    let n95 = order
        .iter()
        .position(|&i| {
            seen += relevant[i] as usize;
            seen >= need
        })
        .map_or(n, |p| p + 1);
    let wss = (n - n95) as f64 / n as f64 - 0.05;
    let ten = (0.1 * n as f64).round() as usize;
    let at_ten = found(ten) as f64 / total as f64;
    (wss, at_ten, stop_at.map(|s| found(s) as f64 / total as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wss_and_recall_by_hand() {
        // 20 records, 4 relevant (0, 1, 2, 3); screened 0, 5, 1, 6, 2, 7, 3, …
        let relevant: Vec<bool> = (0..20).map(|i| i < 4).collect();
        let order = vec![0, 5, 1, 6, 2, 7, 3, 8, 9, 10];
        // 95% of 4 is 3.8: all 4, found at the 7th record: WSS = 13/20 − 0.05 = 0.6
        let (wss, ten, stop) = metrics(&order, &relevant, Some(5));
        assert!((wss - 0.6).abs() < 1e-12);
        // 10% of 20 = 2 records: 1 of 4 found
        assert!((ten - 0.25).abs() < 1e-12);
        // stopping after 5 records: 3 of 4
        assert!((stop.unwrap() - 0.75).abs() < 1e-12);
    }

    #[test]
    fn a_replay_is_the_same_for_the_same_seed() {
        let texts: Vec<Doc> = (0..60)
            .map(|i| {
                if i % 6 == 0 {
                    Doc::new("aspirin trial", format!("randomised {i}"))
                } else {
                    Doc::new("cohort study", format!("of diet {i}"))
                }
            })
            .collect();
        let rel: Vec<bool> = (0..60).map(|i| i % 6 == 0).collect();
        let st = Stopping {
            target: 0.95,
            confidence: 0.95,
        };
        let a = replay(&texts, &rel, 7, None, &Model::default(), st);
        let b = replay(&texts, &rel, 7, None, &Model::default(), st);
        assert_eq!(a.order, b.order);
        // the relevant records, all alike, come first after the priors
        let (wss, _, _) = metrics(&a.order, &rel, a.stop_at);
        assert!(wss > 0.7, "{wss}");
    }

    /// In batches of q the model is refitted after every q decisions: with q at least the set's
    /// size, one model fitted on the priors orders every other record.
    #[test]
    fn a_batch_is_screened_in_the_order_of_one_fit() {
        let texts: Vec<Doc> = (0..40)
            .map(|i| match i % 4 {
                0 => Doc::new("aspirin randomised trial", format!("stroke {i}")),
                1 => Doc::new("aspirin cohort", format!("{i}")),
                _ => Doc::new("diet survey", format!("{i}")),
            })
            .collect();
        let rel: Vec<bool> = (0..40).map(|i| i % 4 == 0).collect();
        let st = Stopping {
            target: 0.95,
            confidence: 0.95,
        };
        let once = Model {
            batch: Some(1000),
            ..Model::default()
        };
        let r = replay(&texts, &rel, 3, Some(&[0, 2]), &once, st);
        // the same fit by hand: the priors, then every other record by score, ties by record
        let x = super::super::tfidf::tfidf(&texts, once.max_df, once.title_weight);
        let mut svm = Svm::new(x.terms, texts.len());
        let mut rng = Rng::new(3);
        svm.fit(&x, &[0, 2], &rel, once.costs(1, 1), &mut rng);
        let mut rest: Vec<(f64, usize)> = (0..40)
            .filter(|i| ![0, 2].contains(i))
            .map(|i| (svm.score(&x, i), i))
            .collect();
        rest.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let by_hand: Vec<usize> = [0, 2].into_iter().chain(rest.iter().map(|s| s.1)).collect();
        assert_eq!(r.order, by_hand[..r.order.len()]);
        // a batch of 1 is a refit after every decision, unlike metapipe's schedule past 200
        // decisions — here (40 records) the two agree
        let one = Model {
            batch: Some(1),
            ..Model::default()
        };
        let r1 = replay(&texts, &rel, 3, Some(&[0, 2]), &one, st);
        let r0 = replay(&texts, &rel, 3, Some(&[0, 2]), &Model::default(), st);
        assert_eq!(r1.order, r0.order);
    }

    /// The best `take` are the first `take` of the whole ranking, ties by record order.
    #[test]
    fn the_best_few_are_the_head_of_the_whole_ranking() {
        let texts: Vec<Doc> = (0..30)
            .map(|i| match i % 3 {
                0 => Doc::new("aspirin trial", "stroke"),
                1 => Doc::new("aspirin cohort", format!("{}", i % 2)),
                _ => Doc::new("diet survey", format!("{i}")),
            })
            .collect();
        let rel: Vec<bool> = (0..30).map(|i| i % 3 == 0).collect();
        let x = super::super::tfidf::tfidf(&texts, 0.95, 2);
        let mut svm = Svm::new(x.terms, texts.len());
        let m = Model::default();
        svm.fit(&x, &[0, 2], &rel, m.costs(1, 1), &mut Rng::new(5));
        let mut done = vec![false; 30];
        done[0] = true;
        done[2] = true;
        let all = ranked(&svm, &x, &done, 30);
        assert_eq!(all.len(), 28);
        for take in [1, 3, 5, 9] {
            let head = ranked(&svm, &x, &done, take);
            assert_eq!(head, all[all.len() - take..], "take {take}");
        }
        // records 3, 6, 9, … share one text: tied, by record order (best last)
        assert_eq!(&all[all.len() - 3..], [9, 6, 3]);
    }
}
