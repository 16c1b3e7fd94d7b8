//! Brent's root finder as R's `uniroot()` runs it (R's `R_zeroin2`, after Brent 1973,
//! "Algorithms for Minimization without Derivatives", ch. 4, and the netlib `zeroin.c`).
//!
//! metafor finds the Paule-Mandel estimate and the Q-profile limits with `uniroot()` at its
//! default tolerance (`.Machine$double.eps^0.25`), so its answers carry that tolerance. To agree
//! with metafor to 1e-6 we follow the same iterates, not merely the same root.

/// R's default `uniroot` tolerance, `.Machine$double.eps^0.25`.
pub const R_UNIROOT_TOL: f64 = 0.0001220703125;

/// Find a root of `f` in `[ax, bx]` given `fa = f(ax)`, `fb = f(bx)` of opposite signs.
/// Returns `None` when the iteration limit is reached (R reports a failure then).
pub fn zeroin2(
    ax: f64,
    bx: f64,
    fa: f64,
    fb: f64,
    mut f: impl FnMut(f64) -> f64,
    tol: f64,
    max_iter: usize,
) -> Option<f64> {
    let eps = f64::EPSILON;
    let (mut a, mut b) = (ax, bx);
    let (mut fa, mut fb) = (fa, fb);
    let (mut c, mut fc) = (a, fa);
    if fa == 0.0 {
        return Some(a);
    }
    if fb == 0.0 {
        return Some(b);
    }
    let mut maxit = max_iter + 1;
    while maxit > 0 {
        maxit -= 1;
        let prev_step = b - a;
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol_act = 2.0 * eps * b.abs() + tol / 2.0;
        let mut new_step = (c - b) / 2.0;
        if new_step.abs() <= tol_act || fb == 0.0 {
            return Some(b);
        }
        if prev_step.abs() >= tol_act && fa.abs() > fb.abs() {
            let cb = c - b;
            let (mut p, mut q);
            if a == c {
                let t1 = fb / fa;
                p = cb * t1;
                q = 1.0 - t1;
            } else {
                let qq = fa / fc;
                let t1 = fb / fc;
                let t2 = fb / fa;
                p = t2 * (cb * qq * (qq - t1) - (b - a) * (t1 - 1.0));
                q = (qq - 1.0) * (t1 - 1.0) * (t2 - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if p < (0.75 * cb * q - (tol_act * q).abs() / 2.0) && p < (prev_step * q / 2.0).abs() {
                new_step = p / q;
            }
        }
        if new_step.abs() < tol_act {
            new_step = if new_step > 0.0 { tol_act } else { -tol_act };
        }
        a = b;
        fa = fb;
        b += new_step;
        fb = f(b);
        if (fb > 0.0 && fc > 0.0) || (fb < 0.0 && fc < 0.0) {
            c = a;
            fc = fa;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sqrt2() {
        let f = |x: f64| x * x - 2.0;
        let r = zeroin2(0.0, 2.0, f(0.0), f(2.0), f, 1e-12, 1000).unwrap();
        assert!((r - 2f64.sqrt()).abs() < 1e-10);
    }

    #[test]
    fn root_at_endpoint() {
        let f = |x: f64| x - 1.0;
        assert_eq!(zeroin2(1.0, 3.0, 0.0, 2.0, f, 1e-8, 100), Some(1.0));
    }
}
