//! Is a published pooled result consistent with the study data we have? Search the completions
//! of the missing per-arm event counts (whole numbers, 0 ≤ events ≤ n) and keep those that
//! reproduce every printed figure (OR and 95% CI limits to the printed decimals, I² to the
//! printed whole percent) under RevMan 5's conventions (Mantel-Haenszel OR with RevMan's zero-cell
//! rule; DerSimonian-Laird random effects when I² > 50% or the heterogeneity p < 0.10, the seed
//! review's rule).
//!
//! The search uses the structure of the Mantel-Haenszel sums. R = Σ aᵢdᵢ/Nᵢ, S = Σ bᵢcᵢ/Nᵢ and
//! the Robins–Breslow–Greenland variance terms ΣPR, Σ(PS+QR), ΣQS are additive over studies, so
//! for a partial completion the per-study minima and maxima of the remaining studies bound the
//! pooled OR and its variance; a branch that cannot reach the printed OR or CI is cut. At the last
//! study the OR window is found by bisection over the control events (R/S falls as they rise).
//! When the printed I² does not settle which model RevMan used, the bounds are not applied and
//! every completion is checked exactly. Completions describe what the published numbers imply;
//! they are never data.

use crate::effect::{Binary, Measure};
use crate::revman::{revman_dl, revman_mh};
use crate::types::Fit;

/// A study in the stated set: counts known, or only arm sizes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Arm2 {
    Known(Binary),
    /// events missing in both arms: (n1, n2)
    Missing(u32, u32),
}

/// The printed figures: OR and CI limits with `dp` decimals, I² in whole percent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Printed {
    pub or: f64,
    pub lb: f64,
    pub ub: f64,
    pub dp: i32,
    pub i2: f64,
}

/// What the search found.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// completions reproducing every printed figure (exact when `complete`)
    pub completions: u64,
    /// for each missing study (in input order): (min a, max a, min c, max c) over the completions
    pub ranges: Vec<Option<(u32, u32, u32, u32)>>,
    /// the search ran to the end (else it stopped at the node budget)
    pub complete: bool,
    pub nodes: u64,
    /// the model RevMan would have used, for the first completion found
    pub model: Option<&'static str>,
    /// bounds were applied (the printed I² settles the fixed-effect model)
    pub pruned: bool,
}

const Z: f64 = 1.959963984540054;

/// Does a completed set of tables reproduce the printed figures? Returns the model used.
pub fn reproduces(tables: &[Binary], p: &Printed) -> Option<&'static str> {
    let h = 0.5 * 10f64.powi(-p.dp) + 1e-9;
    let mh = revman_mh(tables, Measure::OR, 0.95).ok()?;
    let random = mh.k > 1 && (mh.i2 > 50.0 || mh.q_p < 0.10);
    let (fit, model): (Fit, &'static str) = if random {
        (revman_dl(tables, Measure::OR, 0.95).ok()?, "DL")
    } else {
        (mh, "MH")
    };
    let ok = (fit.estimate.exp() - p.or).abs() <= h
        && (fit.ci_lb.exp() - p.lb).abs() <= h
        && (fit.ci_ub.exp() - p.ub).abs() <= h
        && (fit.i2 - p.i2).abs() <= 0.5 + 1e-9;
    ok.then_some(model)
}

use crate::mh::{mh_or_terms, mh_or_var};
use crate::revman::revman_correct as corrected;

/// A study's log OR and inverse-variance weight after RevMan's correction (None: dropped).
fn yw(t: &Binary) -> Option<(f64, f64)> {
    corrected(t).map(|t| {
        let (a, b, c, d) = (t.ai, t.bi(), t.ci, t.di());
        (
            (a * d / (b * c)).ln(),
            1.0 / (1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d),
        )
    })
}

/// min and max of w(y − β)² over β in [b0, b1].
fn q_range(y: f64, w: f64, b0: f64, b1: f64) -> (f64, f64) {
    let at = |b: f64| w * (y - b) * (y - b);
    let lo = if y >= b0 && y <= b1 {
        0.0
    } else {
        at(b0).min(at(b1))
    };
    (lo, at(b0).max(at(b1)))
}

/// Additive contributions: R, S, ΣPR, Σ(PS+QR), ΣQS (MH estimate and its variance) and Σwy²,
/// Σwy, Σw (Q about the MH estimate β is Σwy² − 2βΣwy + β²Σw).
const NS: usize = 8;
fn contrib(t: &Binary) -> [f64; NS] {
    match corrected(t) {
        None => [0.0; NS],
        Some(t) => {
            let (a, b, c, d) = (t.ai, t.bi(), t.ci, t.di());
            let [r, s, pr, psqr, qs] = mh_or_terms(a, b, c, d);
            let (y, w) = (
                (a * d / (b * c)).ln(),
                1.0 / (1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d),
            );
            [r, s, pr, psqr, qs, w * y * y, w * y, w]
        }
    }
}

/// Whether the printed I² (with rounding) can only come from the fixed-effect model, whatever
/// the number of studies between `k_min` and `k_max`: I² ≤ 50 and the heterogeneity p ≥ 0.10.
fn fixed_certain(p: &Printed, k_min: usize, k_max: usize) -> bool {
    let i2_hi = p.i2 + 0.5;
    if i2_hi > 50.0 {
        return false;
    }
    (k_min.max(2)..=k_max).all(|k| {
        let df = (k - 1) as f64;
        // largest Q with I² ≤ i2_hi: Q = df / (1 − I²)
        let q_max = df / (1.0 - i2_hi / 100.0);
        crate::dist::pchisq_upper(q_max, df) >= 0.10
    })
}

/// Search every completion of the missing studies (node budget `max_nodes`).
pub fn search(studies: &[Arm2], p: &Printed, max_nodes: u64) -> Outcome {
    let (known, missing) = split(studies);
    // enumerate the studies with most completions first
    let mut order: Vec<usize> = (0..missing.len()).collect();
    order.sort_by_key(|&m| (missing[m].1 + 1) * (missing[m].2 + 1));
    let k_known = known.iter().filter(|t| corrected(t).is_some()).count();
    let pruned = fixed_certain(p, k_known, k_known + missing.len());
    // bounds of each missing study's contributions
    let bounds: Vec<([f64; NS], [f64; NS])> = missing
        .iter()
        .map(|&(_, n1, n2)| contrib_bounds(n1, n2))
        .collect();
    let h = 0.5 * 10f64.powi(-p.dp);
    let (or_lo, or_hi) = (p.or - h, p.or + h);
    let (b0, b1) = (or_lo.ln(), or_hi.ln());
    // per missing study: the range of its term w(y − β)² over its completions and β
    let q_bounds: Vec<(f64, f64)> = missing
        .iter()
        .map(|&(_, n1, n2)| q_bound(n1, n2, b0, b1))
        .collect();
    // the Q the printed I² allows, over every possible number of studies
    let (qa_lo, qa_hi) = q_allowed(p, k_known, missing.len());
    let se_lo = (((p.ub - h).ln() - (p.lb + h).ln()) / (2.0 * Z)).max(0.0);
    let se_hi = ((p.ub + h).ln() - (p.lb - h).max(1e-12).ln()) / (2.0 * Z);
    let mut st = State {
        out: Outcome {
            completions: 0,
            ranges: vec![None; missing.len()],
            complete: true,
            nodes: 0,
            model: None,
            pruned,
        },
        max_nodes,
    };
    let mut base = [0.0; NS];
    for t in &known {
        let v = contrib(t);
        for j in 0..NS {
            base[j] += v[j];
        }
    }
    let mut chosen: Vec<(u32, u32)> = vec![(0, 0); missing.len()];
    let (ev, nn) = known
        .iter()
        .fold((0.0, 0.0), |(e, n), t| (e + t.ai + t.ci, n + t.n1i + t.n2i));
    let risk = if nn > 0.0 { ev / nn } else { 0.1 };
    let ctx = Ctx {
        known: &known,
        missing: &missing,
        order: &order,
        bounds: &bounds,
        q_bounds: &q_bounds,
        risk,
        printed: p,
        or_lo,
        or_hi,
        b0,
        b1,
        qa_lo,
        qa_hi,
        var_lo: se_lo * se_lo,
        var_hi: se_hi * se_hi,
        pruned,
    };
    dfs(&ctx, 0, base, &mut chosen, &mut st);
    st.out
}

/// The bounds of each contribution of a study with `n1` and `n2` patients over its completions.
fn contrib_bounds(n1: u32, n2: u32) -> ([f64; NS], [f64; NS]) {
    let mut lo = [f64::INFINITY; NS];
    let mut hi = [f64::NEG_INFINITY; NS];
    for a in 0..=n1 {
        for c in 0..=n2 {
            let v = contrib(&Binary::new(a as f64, n1 as f64, c as f64, n2 as f64));
            for j in 0..NS {
                lo[j] = lo[j].min(v[j]);
                hi[j] = hi[j].max(v[j]);
            }
        }
    }
    (lo, hi)
}

/// The range of a study's term w(y − β)² over its completions and β in [b0, b1].
fn q_bound(n1: u32, n2: u32, b0: f64, b1: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for a in 0..=n1 {
        for c in 0..=n2 {
            match yw(&Binary::new(a as f64, n1 as f64, c as f64, n2 as f64)) {
                Some((y, w)) => {
                    let (l, u) = q_range(y, w, b0, b1);
                    lo = lo.min(l);
                    hi = hi.max(u);
                }
                None => lo = lo.min(0.0),
            }
        }
    }
    (lo, hi)
}

/// The Q the printed I² allows, over every possible number of studies.
fn q_allowed(p: &Printed, k_known: usize, n_missing: usize) -> (f64, f64) {
    let (i2_lo, i2_hi) = ((p.i2 - 0.5).max(0.0) / 100.0, (p.i2 + 0.5) / 100.0);
    let (mut qa_lo, mut qa_hi) = (f64::INFINITY, 0.0f64);
    for k in k_known.max(1)..=(k_known + n_missing) {
        let df = (k as f64 - 1.0).max(0.0);
        let lo = if i2_lo <= 0.0 {
            0.0
        } else {
            df / (1.0 - i2_lo)
        };
        let hi = if i2_hi >= 1.0 {
            f64::INFINITY
        } else {
            df / (1.0 - i2_hi)
        };
        qa_lo = qa_lo.min(lo);
        qa_hi = qa_hi.max(hi);
    }
    (qa_lo, qa_hi)
}

/// The known studies' tables, and the missing ones as (index, n1, n2).
#[allow(clippy::type_complexity)]
fn split(studies: &[Arm2]) -> (Vec<Binary>, Vec<(usize, u32, u32)>) {
    let known: Vec<Binary> = studies
        .iter()
        .filter_map(|s| {
            if let Arm2::Known(t) = s {
                Some(*t)
            } else {
                None
            }
        })
        .collect();
    let missing: Vec<(usize, u32, u32)> = studies
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            if let Arm2::Missing(a, b) = s {
                Some((i, *a, *b))
            } else {
                None
            }
        })
        .collect();
    (known, missing)
}

struct Ctx<'a> {
    known: &'a [Binary],
    missing: &'a [(usize, u32, u32)],
    order: &'a [usize],
    bounds: &'a [([f64; NS], [f64; NS])],
    q_bounds: &'a [(f64, f64)],
    /// event risk of the known studies: values near it are tried first (order only)
    risk: f64,
    printed: &'a Printed,
    or_lo: f64,
    or_hi: f64,
    b0: f64,
    b1: f64,
    qa_lo: f64,
    qa_hi: f64,
    var_lo: f64,
    var_hi: f64,
    pruned: bool,
}

struct State {
    out: Outcome,
    max_nodes: u64,
}

/// Can sums in [lo, hi] reach the printed OR and variance?
fn feasible(ctx: &Ctx, lo: &[f64; NS], hi: &[f64; NS]) -> bool {
    if !ctx.pruned {
        return true;
    }
    let (r_lo, r_hi, s_lo, s_hi) = (lo[0], hi[0], lo[1], hi[1]);
    if s_hi <= 0.0 || r_hi <= 0.0 {
        return false;
    }
    // OR = R/S
    let or_max = r_hi / s_lo.max(1e-300);
    let or_min = r_lo / s_hi;
    if or_max < ctx.or_lo - 1e-12 || or_min > ctx.or_hi + 1e-12 {
        return false;
    }
    // RBG variance, each term bounded separately
    let var_min =
        lo[2] / (2.0 * r_hi * r_hi) + lo[3] / (2.0 * r_hi * s_hi) + lo[4] / (2.0 * s_hi * s_hi);
    if var_min > ctx.var_hi + 1e-12 {
        return false;
    }
    if r_lo > 0.0 && s_lo > 0.0 {
        let var_max =
            hi[2] / (2.0 * r_lo * r_lo) + hi[3] / (2.0 * r_lo * s_lo) + hi[4] / (2.0 * s_lo * s_lo);
        if var_max < ctx.var_lo - 1e-12 {
            return false;
        }
    }
    true
}

/// Can Q about the MH estimate (β in the printed window) reach the range the printed I² allows,
/// given the fixed studies' sums and the remaining studies' per-study term bounds?
fn q_feasible(ctx: &Ctx, sums: &[f64; NS], rest: &[usize]) -> bool {
    if !ctx.pruned {
        return true;
    }
    let (a, b, c) = (sums[5], sums[6], sums[7]);
    let at = |beta: f64| a - 2.0 * beta * b + beta * beta * c;
    let (mut lo, mut hi) = (at(ctx.b0).min(at(ctx.b1)), at(ctx.b0).max(at(ctx.b1)));
    if c > 0.0 {
        let v = b / c;
        if v > ctx.b0 && v < ctx.b1 {
            lo = lo.min(at(v));
        }
    }
    for &m in rest {
        lo += ctx.q_bounds[m].0;
        hi += ctx.q_bounds[m].1;
    }
    // rounding slack
    hi + 1e-6 >= ctx.qa_lo && lo - 1e-6 <= ctx.qa_hi
}

fn dfs(ctx: &Ctx, depth: usize, sums: [f64; NS], chosen: &mut Vec<(u32, u32)>, st: &mut State) {
    if !st.out.complete {
        return;
    }
    st.out.nodes += 1;
    if st.out.nodes > st.max_nodes {
        st.out.complete = false;
        return;
    }
    if depth == ctx.order.len() {
        // cheap exact screens from the sums before the full model (fixed-effect case)
        if ctx.pruned && !fixed_in_window(ctx, &sums) {
            return;
        }
        leaf(ctx, chosen, st);
        return;
    }
    // bounds of everything not yet chosen
    let (lo, hi) = bounds_after(ctx, depth, sums);
    if !feasible(ctx, &lo, &hi) || !q_feasible(ctx, &sums, &ctx.order[depth..]) {
        return;
    }
    let m = ctx.order[depth];
    let (_, n1, n2) = ctx.missing[m];
    // the rest after this study
    let (rlo, rhi) = bounds_after(ctx, depth + 1, [0.0; NS]);
    let last = depth + 1 == ctx.order.len();
    // try plausible counts first (near the known studies' risk): the same completions are
    // counted, a search stopped at its budget has found the likely ones
    let mut avals: Vec<u32> = (0..=n1).collect();
    let centre = ctx.risk * n1 as f64;
    avals.sort_by(|x, y| {
        (*x as f64 - centre)
            .abs()
            .total_cmp(&(*y as f64 - centre).abs())
    });
    for a in avals {
        let (c_from, c_to) = if ctx.pruned {
            c_window(ctx, &sums, a, n1, n2, &rlo, &rhi)
        } else {
            (0, n2)
        };
        if c_from > c_to {
            continue;
        }
        for c in c_from..=c_to.min(n2) {
            let v = contrib(&Binary::new(a as f64, n1 as f64, c as f64, n2 as f64));
            let mut next = sums;
            for j in 0..NS {
                next[j] += v[j];
            }
            let (mut l2, mut h2) = (next, next);
            for j in 0..NS {
                l2[j] += rlo[j];
                h2[j] += rhi[j];
            }
            if !last
                && (!feasible(ctx, &l2, &h2) || !q_feasible(ctx, &next, &ctx.order[depth + 1..]))
            {
                continue;
            }
            chosen[m] = (a, c);
            dfs(ctx, depth + 1, next, chosen, st);
            if !st.out.complete {
                return;
            }
        }
    }
}

/// `sums` plus the bounds of the contributions of the studies from `depth` on in the order.
#[inline]
fn bounds_after(ctx: &Ctx, depth: usize, sums: [f64; NS]) -> ([f64; NS], [f64; NS]) {
    let mut lo = sums;
    let mut hi = sums;
    for &m in &ctx.order[depth..] {
        for j in 0..NS {
            lo[j] += ctx.bounds[m].0[j];
            hi[j] += ctx.bounds[m].1[j];
        }
    }
    (lo, hi)
}

/// A completion's Mantel-Haenszel OR and its variance inside the printed windows.
#[inline]
fn fixed_in_window(ctx: &Ctx, sums: &[f64; NS]) -> bool {
    let (r, s) = (sums[0], sums[1]);
    if r <= 0.0 || s <= 0.0 {
        return false;
    }
    let or = r / s;
    let var = mh_or_var(&sums[..5]);
    !(or < ctx.or_lo - 1e-9
        || or > ctx.or_hi + 1e-9
        || var < ctx.var_lo - 1e-9
        || var > ctx.var_hi + 1e-9)
}

/// The control events c of this study for which the pooled R/S can still reach the printed OR
/// window, given the bounds [rlo, rhi] of the studies after it: this study's R falls and its S
/// rises with c, so both the largest and the smallest reachable ratio fall with c. Widened by one
/// step on each side for the zero-cell correction's jumps.
fn c_window(
    ctx: &Ctx,
    sums: &[f64; NS],
    a: u32,
    n1: u32,
    n2: u32,
    rlo: &[f64; NS],
    rhi: &[f64; NS],
) -> (u32, u32) {
    let parts = |c: u32| {
        let v = contrib(&Binary::new(a as f64, n1 as f64, c as f64, n2 as f64));
        (sums[0] + v[0], sums[1] + v[1])
    };
    let max_ratio = |c: u32| {
        let (r, s) = parts(c);
        let den = s + rlo[1];
        if den <= 0.0 {
            f64::INFINITY
        } else {
            (r + rhi[0]) / den
        }
    };
    let min_ratio = |c: u32| {
        let (r, s) = parts(c);
        let den = s + rhi[1];
        if den <= 0.0 {
            f64::INFINITY
        } else {
            (r + rlo[0]) / den
        }
    };
    // need max_ratio(c) >= or_lo (true for small c) and min_ratio(c) <= or_hi (true for large c)
    let first = partition(0, n2 + 1, |c| min_ratio(c) <= ctx.or_hi + 1e-9);
    let last_plus = partition(0, n2 + 1, |c| max_ratio(c) < ctx.or_lo - 1e-9);
    if last_plus == 0 && first > n2 {
        return (1, 0);
    }
    (first.saturating_sub(1), last_plus.min(n2))
}

/// Smallest x in [lo, hi) with pred(x) true (pred monotone false→true), or hi.
fn partition(mut lo: u32, mut hi: u32, pred: impl Fn(u32) -> bool) -> u32 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

fn leaf(ctx: &Ctx, chosen: &[(u32, u32)], st: &mut State) {
    let mut tables: Vec<Binary> = ctx.known.to_vec();
    for (m, &(_, n1, n2)) in ctx.missing.iter().enumerate() {
        let (a, c) = chosen[m];
        tables.push(Binary::new(a as f64, n1 as f64, c as f64, n2 as f64));
    }
    if let Some(model) = reproduces(&tables, ctx.printed) {
        st.out.completions += 1;
        st.out.model.get_or_insert(model);
        for (m, r) in st.out.ranges.iter_mut().enumerate() {
            let (a, c) = chosen[m];
            *r = Some(match *r {
                None => (a, a, c, c),
                Some((a0, a1, c0, c1)) => (a0.min(a), a1.max(a), c0.min(c), c1.max(c)),
            });
        }
    }
}

#[cfg(test)]
mod tests;
