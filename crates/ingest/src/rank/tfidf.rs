//! TF-IDF features of titles and abstracts: word unigrams and bigrams (tokens of two or more
//! letters or digits, lowercased, as scikit-learn's default `token_pattern`), sublinear term
//! frequency 1 + ln tf, smoothed idf ln((1 + N) / (1 + df)) + 1, terms in more than `max_df` of
//! the documents dropped, rows scaled to unit length — scikit-learn's `TfidfVectorizer(
//! ngram_range=(1, 2), sublinear_tf=True, max_df=0.95)`, the features ASReview's default model
//! uses. Term ids are given in order of first appearance, so the features are the same on
//! every run.

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

/// Sparse rows of unit length: (term, weight) sorted by term.
#[derive(Debug, Clone)]
pub struct Features {
    pub rows: Vec<Vec<(u32, f32)>>,
    pub terms: usize,
}

/// The tokens of a text: runs of two or more alphanumeric characters, lowercased.
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| t.chars().count() >= 2)
        .map(str::to_lowercase)
        .collect()
}

/// TF-IDF features of `texts`, dropping terms in more than `max_df` (a share) of them.
pub fn tfidf(texts: &[String], max_df: f64) -> Features {
    // ids in order of first appearance, a document's unigrams before its bigrams; a bigram is
    // keyed by its two words' ids (no string built)
    let mut uni: Map<String, u32> = Map::default();
    let mut bi: Map<(u32, u32), u32> = Map::default();
    let mut df: Vec<u32> = vec![];
    let mut counts: Vec<Vec<(u32, u32)>> = Vec::with_capacity(texts.len());
    for text in texts {
        let mut tf: Map<u32, u32> = Map::default();
        let mut words: Vec<u32> = vec![];
        for t in tokens(text) {
            let id = match uni.get(t.as_str()) {
                Some(&id) => id,
                None => {
                    let id = df.len() as u32;
                    df.push(0);
                    uni.insert(t, id);
                    id
                }
            };
            words.push(id);
            *tf.entry(id).or_insert(0) += 1;
        }
        for w in words.windows(2) {
            let id = *bi.entry((w[0], w[1])).or_insert_with(|| {
                df.push(0);
                df.len() as u32 - 1
            });
            *tf.entry(id).or_insert(0) += 1;
        }
        let mut row: Vec<(u32, u32)> = tf.into_iter().collect();
        row.sort_unstable();
        for &(id, _) in &row {
            df[id as usize] += 1;
        }
        counts.push(row);
    }
    let n = texts.len() as f64;
    let idf: Vec<Option<f64>> = df
        .iter()
        .map(|&d| (d as f64 <= max_df * n).then(|| ((1.0 + n) / (1.0 + d as f64)).ln() + 1.0))
        .collect();
    let rows = counts
        .into_iter()
        .map(|row| {
            let mut v: Vec<(u32, f64)> = row
                .into_iter()
                .filter_map(|(id, tf)| Some((id, (1.0 + (tf as f64).ln()) * idf[id as usize]?)))
                .collect();
            let norm = v.iter().map(|x| x.1 * x.1).sum::<f64>().sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|x| x.1 /= norm);
            }
            v.into_iter().map(|(id, w)| (id, w as f32)).collect()
        })
        .collect();
    Features {
        rows,
        terms: df.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unigrams_bigrams_and_unit_rows() {
        let f = tfidf(&["Aspirin for pain".into(), "aspirin, pain".into()], 1.0);
        // aspirin, for, pain, "aspirin for", "for pain", "aspirin pain"
        assert_eq!(f.terms, 6);
        for r in &f.rows {
            let n: f32 = r.iter().map(|x| x.1 * x.1).sum();
            assert!((n - 1.0).abs() < 1e-6);
        }
        // a term in every document is dropped above max_df
        let g = tfidf(&["a1 b2".into(), "a1 c3".into()], 0.95);
        assert!(g.rows.iter().all(|r| r.iter().all(|&(id, _)| id != 0)));
    }
}
