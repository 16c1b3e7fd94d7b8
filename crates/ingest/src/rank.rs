//! Screening prioritisation: the records awaiting title/abstract screening ranked by a model
//! trained on the team's decisions so far (TF-IDF features of title and abstract, `tfidf`; a
//! linear SVM with class-balanced costs, `svm`), the stopping rule (`stop`) and the replay of a
//! labelled review (`sim`). docs/screening.md says how each choice was made, with its figures.

pub mod sim;
pub mod stop;
pub mod svm;
pub mod tfidf;

/// A record as the model reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    pub title: String,
    pub abstract_text: String,
}

impl Doc {
    pub fn new(title: impl Into<String>, abstract_text: impl Into<String>) -> Doc {
        Doc {
            title: title.into(),
            abstract_text: abstract_text.into(),
        }
    }
}

/// The model's settings (docs/screening.md says how they were chosen): ASReview LAB 3's default
/// model (ELAS u4: TF-IDF of word uni- and bigrams, a linear SVM with the relevant records
/// weighted by `ratio` times the class ratio) with the title's terms counted twice and a smaller
/// cost C (0.03 against ELAS u4's 0.11).
#[derive(Debug, Clone, Copy)]
pub struct Model {
    pub c: f64,
    pub ratio: f64,
    pub max_df: f64,
    /// how many times a title's words and word pairs count (ELAS u4: 1)
    pub title_weight: u32,
    /// a replay's batches: the model refitted after every `batch` decisions (ASReview's
    /// `simulate --n-query`); `None`, metapipe's schedule (`sim`)
    pub batch: Option<usize>,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            c: 0.03,
            ratio: 9.8,
            max_df: 0.95,
            title_weight: 2,
            batch: None,
        }
    }
}

impl Model {
    /// The costs of a relevant and an irrelevant record for `pos` relevant and `neg` irrelevant
    /// labelled ones: ASReview's balanced sample weights (relevant 1, irrelevant
    /// pos / (ratio · neg), scaled to a mean of 1) times C.
    pub fn costs(&self, pos: usize, neg: usize) -> (f64, f64) {
        let (p, n) = (pos.max(1) as f64, neg.max(1) as f64);
        let w_neg = p / (self.ratio * n);
        let scale = (p + n) / (p + n * w_neg);
        (self.c * scale, self.c * scale * w_neg)
    }
}

/// A small seeded generator (SplitMix64): the same draws for the same seed on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// The scores of the records awaiting screening (`awaiting`) by the model fitted on the decided
/// ones (`decided`: record, relevant), None without a decision of each kind. The TF-IDF is
/// fitted on both together, as in the simulation; deterministic for the seed.
pub fn score_awaiting(
    decided: &[(Doc, bool)],
    awaiting: &[Doc],
    model: &Model,
    seed: u64,
) -> Option<Vec<f64>> {
    let pos = decided.iter().filter(|d| d.1).count();
    let neg = decided.len() - pos;
    if pos == 0 || neg == 0 || awaiting.is_empty() {
        return None;
    }
    let texts: Vec<Doc> = decided
        .iter()
        .map(|d| d.0.clone())
        .chain(awaiting.iter().cloned())
        .collect();
    let x = tfidf::tfidf(&texts, model.max_df, model.title_weight);
    let relevant: Vec<bool> = decided
        .iter()
        .map(|d| d.1)
        .chain(awaiting.iter().map(|_| false))
        .collect();
    let idx: Vec<usize> = (0..decided.len()).collect();
    let mut svm = svm::Svm::new(x.terms, texts.len());
    svm.fit(
        &x,
        &idx,
        &relevant,
        model.costs(pos, neg),
        &mut Rng::new(seed),
    );
    Some(
        (decided.len()..texts.len())
            .map(|i| svm.score(&x, i))
            .collect(),
    )
}
