//! A linear support vector machine with the squared hinge loss, fitted by dual coordinate
//! descent (Hsieh et al. 2008, "A dual coordinate descent method for large-scale linear SVM",
//! ICML; LIBLINEAR's solver for `L2R_L2LOSS_SVC_DUAL`, which scikit-learn's `LinearSVC` calls):
//! minimise ½‖w‖² + Σᵢ Cᵢ max(0, 1 − yᵢ w·xᵢ)², with a constant feature of 1 for the intercept
//! (LIBLINEAR's bias term) and per-record costs Cᵢ (class weights). The coordinates are visited in
//! an order drawn from a seeded generator, so a fit is the same on every run; a refit starts from
//! the previous solution (the labelled set only grows).

use super::tfidf::Features;
use super::Rng;

/// A fitted model and the dual variables it was fitted with.
#[derive(Debug, Clone)]
pub struct Svm {
    /// weights per term, the intercept last
    pub w: Vec<f64>,
    /// dual variables of the labelled records, by record index
    alpha: Vec<f64>,
    /// y α of each record: its weight on its own terms over their values ([`Features`])
    own: Vec<f64>,
    /// the last fit's largest projected gradient: a refit shrinks with it from its first epoch
    /// (the final pass over every record still checks them all)
    shrink: f64,
}

/// The tolerance on the projected gradient (LIBLINEAR's default 0.1 for this solver is loose;
/// 0.01 is scikit-learn's `tol` scaled as LIBLINEAR uses it).
const EPS: f64 = 0.1;
const MAX_EPOCHS: usize = 200;

impl Svm {
    pub fn new(terms: usize, records: usize) -> Svm {
        Svm {
            w: vec![0.0; terms + 1],
            alpha: vec![0.0; records],
            own: vec![0.0; records],
            shrink: f64::INFINITY,
        }
    }

    /// w·x + b of record `i`.
    pub fn score(&self, x: &Features, i: usize) -> f64 {
        x.dot(i, &self.w) + self.own[i] * x.own_sq(i) + self.w[self.w.len() - 1]
    }

    /// Fit on the labelled records `idx` (labels `y`: true relevant), the relevant records at
    /// cost `cost.0`, the others at `cost.1`.
    pub fn fit(
        &mut self,
        x: &Features,
        idx: &[usize],
        y: &[bool],
        cost: (f64, f64),
        rng: &mut Rng,
    ) {
        let bias = self.w.len() - 1;
        let cost = |i: usize| if y[i] { cost.0 } else { cost.1 };
        // Q_ii = x·x + 1 (the bias feature) + 1/(2 C_i); x·x is 1 (unit rows) or 0 (no terms)
        let qii: Vec<f64> = idx
            .iter()
            .map(|&i| {
                let xx = if x.row(i).0.is_empty() && x.own_sq(i) == 0.0 {
                    0.0
                } else {
                    1.0
                };
                xx + 1.0 + 0.5 / cost(i)
            })
            .collect();
        // LIBLINEAR's shrinking: a record at alpha = 0 whose gradient exceeds the last epoch's
        // largest projected gradient leaves the active set until the active set converges
        let l = idx.len();
        let mut order: Vec<usize> = (0..l).collect();
        let mut active = l;
        let mut pg_max_old = self.shrink;
        for _ in 0..MAX_EPOCHS {
            rng.shuffle(&mut order[..active]);
            let (mut hi, mut lo) = (f64::NEG_INFINITY, f64::INFINITY);
            let mut s = 0;
            while s < active {
                let k = order[s];
                let i = idx[k];
                let yi = if y[i] { 1.0 } else { -1.0 };
                let d = 0.5 / cost(i);
                let g = yi * self.score(x, i) - 1.0 + d * self.alpha[i];
                let pg = if self.alpha[i] == 0.0 {
                    if g > pg_max_old {
                        active -= 1;
                        order.swap(s, active);
                        continue;
                    }
                    g.min(0.0)
                } else {
                    g
                };
                hi = hi.max(pg);
                lo = lo.min(pg);
                if pg.abs() > 1e-12 {
                    let old = self.alpha[i];
                    self.alpha[i] = (old - g / qii[k]).max(0.0);
                    let step = (self.alpha[i] - old) * yi;
                    let (ts, vs) = x.row(i);
                    for (&t, &v) in ts.iter().zip(vs) {
                        self.w[t as usize] += step * v as f64;
                    }
                    self.w[bias] += step;
                    self.own[i] += step;
                }
                s += 1;
            }
            if hi - lo <= EPS {
                if active == l {
                    self.shrink = if hi <= 0.0 { f64::INFINITY } else { hi };
                    break;
                }
                // converged on the active set: check every record once more
                active = l;
                pg_max_old = f64::INFINITY;
                continue;
            }
            pg_max_old = if hi <= 0.0 { f64::INFINITY } else { hi };
        }
    }
}
