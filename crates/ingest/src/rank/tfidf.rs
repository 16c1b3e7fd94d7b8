//! TF-IDF features of titles and abstracts: word unigrams and bigrams (tokens of two or more
//! letters or digits, lowercased, as scikit-learn's default `token_pattern`), sublinear term
//! frequency 1 + ln tf, smoothed idf ln((1 + N) / (1 + df)) + 1, terms in more than `max_df` of
//! the documents dropped, rows scaled to unit length — scikit-learn's `TfidfVectorizer(
//! ngram_range=(1, 2), sublinear_tf=True, max_df=0.95)`, the features ASReview's default model
//! uses — except that a title's words and word pairs may count more than once (`title_weight`;
//! with 1, ASReview's features exactly). Term ids are given in order of first appearance (the
//! shared ones then renumbered by document frequency), so the features are the same on every
//! run.

use super::Doc;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a: a fast hash for the vocabulary (no adversarial input to guard against here).
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type Map<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// Rows of unit length, split in two: the terms shared with another record, stored sparse one
/// row after another (row `i` is `terms_of[start[i]..start[i + 1]]` with `weight_of` the same
/// range, sorted by term), and the squared length of the record's own terms (in no other
/// record). A linear model's weight on an own term moves only with its record's dual variable
/// (w_t = y_i α_i x_it), so w·x_i = (shared part) + y_i α_i `own_sq[i]`, and a record not yet
/// labelled gets nothing from its own terms: they need no column and no product. With word
/// bigrams most terms are a single record's.
#[derive(Debug, Clone)]
pub struct Features {
    start: Vec<usize>,
    terms_of: Vec<u32>,
    weight_of: Vec<f32>,
    own_sq: Vec<f64>,
    /// the shared terms
    pub terms: usize,
}

impl Features {
    /// Row `i`'s shared terms and their weights.
    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let r = self.start[i]..self.start[i + 1];
        (&self.terms_of[r.clone()], &self.weight_of[r])
    }

    /// The squared length of row `i`'s own terms.
    pub fn own_sq(&self, i: usize) -> f64 {
        self.own_sq[i]
    }

    /// w·x over row `i`'s shared terms, `w` indexed by term (four running sums, so that the
    /// additions need not wait for one another).
    pub fn dot(&self, i: usize, w: &[f64]) -> f64 {
        let (t, v) = self.row(i);
        let mut s = [0.0f64; 4];
        let (tc, vc) = (t.chunks_exact(4), v.chunks_exact(4));
        let (tr, vr) = (tc.remainder(), vc.remainder());
        for (t4, v4) in tc.zip(vc) {
            for k in 0..4 {
                s[k] += w[t4[k] as usize] * v4[k] as f64;
            }
        }
        for (&t, &v) in tr.iter().zip(vr) {
            s[0] += w[t as usize] * v as f64;
        }
        (s[0] + s[1]) + (s[2] + s[3])
    }

    pub fn len(&self) -> usize {
        self.own_sq.len()
    }

    pub fn is_empty(&self) -> bool {
        self.own_sq.is_empty()
    }
}

/// Calls `f` with each token of a text: runs of two or more alphanumeric characters,
/// lowercased (into one buffer, reused).
fn each_token(text: &str, lower: &mut String, mut f: impl FnMut(&str)) {
    for t in text.split(|c: char| !c.is_alphanumeric()) {
        if t.len() < 2 || (!t.is_ascii() && t.chars().count() < 2) {
            continue;
        }
        lower.clear();
        if t.is_ascii() {
            lower.extend(t.bytes().map(|b| b.to_ascii_lowercase() as char));
        } else {
            lower.push_str(&t.to_lowercase());
        }
        f(lower);
    }
}

/// Term counts per document, (term, count) sorted by term, and each term's document frequency.
/// The document is its title followed by its abstract (one bigram spans the two); the title's
/// unigrams and bigrams count `title_weight` times each.
fn count_terms(docs: &[Doc], title_weight: u32) -> (Vec<Vec<(u32, u32)>>, Vec<u32>) {
    // ids in order of first appearance, a document's unigrams before its bigrams; a bigram is
    // keyed by its two words' ids (no string built)
    let mut uni: Map<String, u32> = Map::default();
    let mut bi: Map<(u32, u32), u32> = Map::default();
    let mut df: Vec<u32> = vec![];
    let mut counts: Vec<Vec<(u32, u32)>> = Vec::with_capacity(docs.len());
    let (mut lower, mut words, mut ids) = (String::new(), vec![], vec![]);
    for doc in docs {
        words.clear();
        let mut word = |t: &str| match uni.get(t) {
            Some(&id) => id,
            None => {
                let id = df.len() as u32;
                df.push(0);
                uni.insert(t.to_string(), id);
                id
            }
        };
        each_token(&doc.title, &mut lower, |t| words.push(word(t)));
        let in_title = words.len();
        each_token(&doc.abstract_text, &mut lower, |t| words.push(word(t)));
        ids.clear();
        for (k, &w) in words.iter().enumerate() {
            let times = if k < in_title { title_weight } else { 1 };
            ids.extend(std::iter::repeat_n(w, times as usize));
        }
        for (k, w) in words.windows(2).enumerate() {
            let id = *bi.entry((w[0], w[1])).or_insert_with(|| {
                df.push(0);
                df.len() as u32 - 1
            });
            // a bigram of two title words is the title's; the one spanning title and abstract
            // is the abstract's
            let times = if k + 1 < in_title { title_weight } else { 1 };
            ids.extend(std::iter::repeat_n(id, times as usize));
        }
        // term frequencies: runs of equal ids, sorted
        ids.sort_unstable();
        let mut row: Vec<(u32, u32)> = vec![];
        for &id in &ids {
            match row.last_mut() {
                Some((last, tf)) if *last == id => *tf += 1,
                _ => {
                    row.push((id, 1));
                    df[id as usize] += 1;
                }
            }
        }
        counts.push(row);
    }
    (counts, df)
}

/// TF-IDF features of `docs`, dropping terms in more than `max_df` (a share) of them, the
/// title's terms counted `title_weight` times.
pub fn tfidf(docs: &[Doc], max_df: f64, title_weight: u32) -> Features {
    let (counts, df) = count_terms(docs, title_weight);
    let n = docs.len() as f64;
    let idf: Vec<Option<f64>> = df
        .iter()
        .map(|&d| (d as f64 <= max_df * n).then(|| ((1.0 + n) / (1.0 + d as f64)).ln() + 1.0))
        .collect();
    // shared terms numbered by document frequency, the commonest first (ties by first
    // appearance): the weights most products read then share a few cache lines
    let mut by_df: Vec<usize> = (0..df.len())
        .filter(|&id| df[id] >= 2 && idf[id].is_some())
        .collect();
    by_df.sort_by_key(|&id| std::cmp::Reverse(df[id]));
    let mut shared = vec![u32::MAX; df.len()];
    for (t, &id) in by_df.iter().enumerate() {
        shared[id] = t as u32;
    }
    let terms = by_df.len();
    let mut pairs: Vec<(u32, f32)> = vec![];
    let mut x = Features {
        start: vec![0],
        terms_of: vec![],
        weight_of: vec![],
        own_sq: Vec::with_capacity(counts.len()),
        terms,
    };
    for row in counts {
        let mut v: Vec<(u32, f64)> = row
            .into_iter()
            .filter_map(|(id, tf)| Some((id, (1.0 + (tf as f64).ln()) * idf[id as usize]?)))
            .collect();
        let norm = v.iter().map(|x| x.1 * x.1).sum::<f64>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| x.1 /= norm);
        }
        let mut own = 0.0;
        pairs.clear();
        for (id, w) in v {
            let (t, w) = (shared[id as usize], w as f32);
            if t == u32::MAX {
                own += w as f64 * w as f64;
            } else {
                pairs.push((t, w));
            }
        }
        pairs.sort_unstable_by_key(|p| p.0);
        x.terms_of.extend(pairs.iter().map(|p| p.0));
        x.weight_of.extend(pairs.iter().map(|p| p.1));
        x.own_sq.push(own);
        x.start.push(x.terms_of.len());
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unigrams_bigrams_and_unit_rows() {
        let f = tfidf(
            &[
                Doc::new("Aspirin for", "pain"),
                Doc::new("", "aspirin, pain"),
            ],
            1.0,
            1,
        );
        // aspirin, for, pain, "aspirin for", "for pain", "aspirin pain": two shared
        assert_eq!(f.terms, 2);
        assert_eq!(f.row(1).0, [0, 1]);
        for i in 0..f.len() {
            let n: f64 = f.row(i).1.iter().map(|&x| x as f64 * x as f64).sum();
            assert!((n + f.own_sq(i) - 1.0).abs() < 1e-6);
        }
        assert!(f.own_sq(0) > 0.0 && f.own_sq(1) > 0.0);
        // a term in every document is dropped above max_df: nothing shared is left
        let g = tfidf(&[Doc::new("a1", "b2"), Doc::new("a1 c3", "")], 0.95, 1);
        assert_eq!(g.terms, 0);
        assert!((0..g.len()).all(|i| (g.own_sq(i) - 1.0).abs() < 1e-6));
    }

    /// The title counted twice: its words and word pairs have term frequency 2 (1 + ln 2 under
    /// sublinear tf); the pair spanning title and abstract counts once, as an abstract's.
    #[test]
    fn title_terms_count_title_weight_times() {
        let docs = [
            Doc::new("statin trial", "statin cohort"),
            Doc::new("trial cohort", "placebo statin"),
        ];
        let f = tfidf(&docs, 1.0, 2);
        // shared: statin, trial, cohort (ids 0, 1, 2); every pair is one record's own
        let (t, v) = f.row(0);
        assert_eq!(t, [0, 1, 2]);
        // record 0: statin tf 3, trial tf 2, cohort tf 1; own: "statin trial" tf 2,
        // "trial statin" tf 1, "statin cohort" tf 1; idf 1 + ln(3/3) = 1 for the shared
        // words, 1 + ln(3/2) for the pairs
        let idf2 = 1.0 + (1.5f64).ln();
        let raw = [1.0 + 3f64.ln(), 1.0 + 2f64.ln(), 1.0];
        let own = [(1.0 + 2f64.ln()) * idf2, idf2, idf2];
        let norm = (raw.iter().chain(&own).map(|x| x * x).sum::<f64>()).sqrt();
        for (k, &w) in v.iter().enumerate() {
            assert!((w as f64 - raw[k] / norm).abs() < 1e-6, "{k}: {w}");
        }
        let own_sq: f64 = own.iter().map(|x| (x / norm).powi(2)).sum();
        assert!((f.own_sq(0) - own_sq).abs() < 1e-6);
        // weight 1 reads the record as the title and abstract joined
        let once = tfidf(&docs, 1.0, 1);
        let joined: Vec<Doc> = docs
            .iter()
            .map(|d| Doc::new("", format!("{} {}", d.title, d.abstract_text)))
            .collect();
        let j = tfidf(&joined, 1.0, 1);
        for i in 0..2 {
            assert_eq!(once.row(i), j.row(i));
            assert_eq!(once.own_sq(i), j.own_sq(i));
        }
    }
}
