//! The design matrix of a meta-regression and the weighted projection `P = W − W X M⁻¹ XᵀW`
//! (`M = XᵀWX`, inverted through its Cholesky factor as metafor's `chol2inv(chol(·))`).

use crate::types::MetaError;

/// A k × p design matrix (row-major), the intercept its first column, with the coefficients'
/// names.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    k: usize,
    p: usize,
    x: Vec<f64>,
    pub names: Vec<String>,
}

impl Design {
    /// From its rows (each of the same length, the intercept column included).
    pub fn from_rows(rows: &[Vec<f64>], names: Vec<String>) -> Result<Design, MetaError> {
        let p = names.len();
        if rows.iter().any(|r| r.len() != p) {
            return Err(MetaError::BadInput(
                "design rows differ in length from the coefficient names".into(),
            ));
        }
        Ok(Design {
            k: rows.len(),
            p,
            x: rows.concat(),
            names,
        })
    }

    /// An intercept and the moderator columns `cols` (each of length k), named `names`.
    pub fn with_intercept(cols: &[Vec<f64>], names: Vec<String>) -> Result<Design, MetaError> {
        let k = cols.first().map_or(0, |c| c.len());
        if cols.iter().any(|c| c.len() != k) || names.len() != cols.len() {
            return Err(MetaError::BadInput(
                "moderator columns differ in length".into(),
            ));
        }
        let p = cols.len() + 1;
        let mut x = Vec::with_capacity(k * p);
        for i in 0..k {
            x.push(1.0);
            x.extend(cols.iter().map(|c| c[i]));
        }
        let mut all = vec!["intrcpt".to_string()];
        all.extend(names);
        Ok(Design {
            k,
            p,
            x,
            names: all,
        })
    }

    /// An intercept and the dummy columns of a factor, as R's `factor()`: the levels sorted
    /// (byte order), the first the reference; each dummy named `level`.
    pub fn factor(values: &[&str]) -> Result<Design, MetaError> {
        let mut levels: Vec<&str> = values.to_vec();
        levels.sort_unstable();
        levels.dedup();
        let cols = levels[1..]
            .iter()
            .map(|l| values.iter().map(|v| f64::from(u8::from(v == l))).collect())
            .collect::<Vec<Vec<f64>>>();
        Design::with_intercept(&cols, levels[1..].iter().map(|l| l.to_string()).collect())
    }

    pub fn k(&self) -> usize {
        self.k
    }
    pub fn p(&self) -> usize {
        self.p
    }
    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.p..(i + 1) * self.p]
    }
}

/// The projection for weights `w`.
pub(super) struct Proj<'a> {
    d: &'a Design,
    pub w: Vec<f64>,
    /// M⁻¹ = (XᵀWX)⁻¹, p × p row-major
    pub minv: Vec<f64>,
    /// log det M
    log_det: f64,
    /// rows of X M⁻¹
    xm: Vec<f64>,
}

impl<'a> Proj<'a> {
    pub fn new(d: &'a Design, w: Vec<f64>) -> Result<Proj<'a>, MetaError> {
        let p = d.p;
        let mut m = vec![0.0; p * p];
        for (i, wi) in w.iter().enumerate() {
            let r = d.row(i);
            for a in 0..p {
                for b in 0..=a {
                    m[a * p + b] += wi * r[a] * r[b];
                }
            }
        }
        let (minv, log_det) = chol_inverse(&mut m, p).ok_or_else(|| {
            MetaError::NotEstimable("the moderators are collinear (or one is constant)".into())
        })?;
        let mut xm = vec![0.0; d.k * p];
        for i in 0..d.k {
            let r = d.row(i);
            for b in 0..p {
                xm[i * p + b] = (0..p).map(|a| r[a] * minv[a * p + b]).sum();
            }
        }
        Ok(Proj {
            d,
            w,
            minv,
            log_det,
            xm,
        })
    }
    /// x_iᵀ M⁻¹ x_j
    fn h(&self, i: usize, j: usize) -> f64 {
        let p = self.d.p;
        let a = &self.xm[i * p..(i + 1) * p];
        a.iter().zip(self.d.row(j)).map(|(a, b)| a * b).sum()
    }
    pub fn p(&self, i: usize, j: usize) -> f64 {
        (if i == j { self.w[i] } else { 0.0 }) - self.w[i] * self.w[j] * self.h(i, j)
    }
    /// M⁻¹ XᵀW y
    pub fn beta(&self, y: &[f64]) -> Vec<f64> {
        let p = self.d.p;
        let mut b = vec![0.0; p];
        for (i, (wi, yi)) in self.w.iter().zip(y).enumerate() {
            for (bj, xm) in b.iter_mut().zip(&self.xm[i * p..(i + 1) * p]) {
                *bj += xm * wi * yi;
            }
        }
        b
    }
    fn fitted(&self, i: usize, beta: &[f64]) -> f64 {
        self.d.row(i).iter().zip(beta).map(|(x, b)| x * b).sum()
    }
    /// P y
    pub fn py(&self, y: &[f64]) -> Vec<f64> {
        let b = self.beta(y);
        (0..y.len())
            .map(|i| self.w[i] * (y[i] - self.fitted(i, &b)))
            .collect()
    }
    pub fn ypy(&self, y: &[f64]) -> f64 {
        y.iter().zip(self.py(y)).map(|(a, b)| a * b).sum()
    }
    /// Σ wᵢ (yᵢ − xᵢβ)²
    pub fn rss(&self, y: &[f64], beta: &[f64]) -> f64 {
        (0..y.len())
            .map(|i| self.w[i] * (y[i] - self.fitted(i, beta)).powi(2))
            .sum()
    }
    pub fn tr(&self) -> f64 {
        (0..self.w.len()).map(|i| self.p(i, i)).sum()
    }
    pub fn tr_pp(&self) -> f64 {
        let k = self.w.len();
        let mut s = 0.0;
        for i in 0..k {
            for j in 0..k {
                s += self.p(i, j).powi(2);
            }
        }
        s
    }
    pub fn log_det_m(&self) -> f64 {
        self.log_det
    }
}

/// The inverse and log determinant of the symmetric positive definite p × p matrix whose lower
/// triangle is in `m` (overwritten by its Cholesky factor); `None` when it is not positive
/// definite to working precision.
fn chol_inverse(m: &mut [f64], p: usize) -> Option<(Vec<f64>, f64)> {
    // L in the lower triangle
    for j in 0..p {
        let diag = m[j * p + j];
        let mut d = diag;
        for c in 0..j {
            d -= m[j * p + c] * m[j * p + c];
        }
        // a pivot lost to cancellation: the column is (nearly) a combination of the earlier ones
        if d.is_nan() || d <= 1e-12 * diag.abs() {
            return None;
        }
        let l = d.sqrt();
        m[j * p + j] = l;
        for i in j + 1..p {
            let mut s = m[i * p + j];
            for c in 0..j {
                s -= m[i * p + c] * m[j * p + c];
            }
            m[i * p + j] = s / l;
        }
    }
    let log_det = 2.0 * (0..p).map(|i| m[i * p + i].ln()).sum::<f64>();
    // L⁻¹ (lower), then M⁻¹ = L⁻ᵀ L⁻¹
    let mut li = vec![0.0; p * p];
    for i in 0..p {
        li[i * p + i] = 1.0 / m[i * p + i];
        for j in 0..i {
            let s: f64 = (j..i).map(|c| m[i * p + c] * li[c * p + j]).sum();
            li[i * p + j] = -s / m[i * p + i];
        }
    }
    let mut inv = vec![0.0; p * p];
    for a in 0..p {
        for b in 0..p {
            inv[a * p + b] = (a.max(b)..p).map(|c| li[c * p + a] * li[c * p + b]).sum();
        }
    }
    Some((inv, log_det))
}

/// The Wald statistic `bᵀ V⁻¹ b` of the coefficients 1..p (all but the intercept), `vb` the full
/// p × p covariance.
pub(super) fn wald(b: &[f64], vb: &[f64], p: usize) -> Option<f64> {
    let m = b.len();
    let mut sub = vec![0.0; m * m];
    for a in 0..m {
        for c in 0..m {
            sub[a * m + c] = vb[(a + 1) * p + c + 1];
        }
    }
    let (inv, _) = chol_inverse(&mut sub, m)?;
    let mut s = 0.0;
    for a in 0..m {
        for c in 0..m {
            s += b[a] * inv[a * m + c] * b[c];
        }
    }
    Some(s)
}
