//! A forest plot's axis and the text helpers the figures share.

/// A forest plot's axis: log (ratios, about 1, from decade to decade covering every CI and at
/// least 0.1 to 10) or linear (about 0, covering every CI, with round ticks).
pub(crate) struct Axis {
    pub(crate) log: bool,
    pub(crate) lo: f64,
    pub(crate) hi: f64,
}

impl Axis {
    pub(crate) fn new(cis: impl Iterator<Item = (f64, f64)>, log: bool) -> Axis {
        if log {
            let (mut lo, mut hi) = (0.1f64, 10.0f64);
            for (l, u) in cis {
                lo = lo.min(l.max(0.002));
                hi = hi.max(u.min(500.0));
            }
            Axis {
                log,
                lo: 10f64.powf(lo.log10().floor()),
                hi: 10f64.powf(hi.log10().ceil()),
            }
        } else {
            let (mut lo, mut hi) = (0.0f64, 0.0f64);
            for (l, u) in cis.filter(|(l, u)| l.is_finite() && u.is_finite()) {
                lo = lo.min(l);
                hi = hi.max(u);
            }
            let m = lo.abs().max(hi.abs()).max(1e-9);
            let step = nice_step(2.0 * m / 4.0);
            let m = (m / step).ceil() * step;
            Axis { log, lo: -m, hi: m }
        }
    }
    /// The plotting transform.
    pub(crate) fn t(&self, v: f64) -> f64 {
        if self.log {
            v.ln()
        } else {
            v
        }
    }
    pub(crate) fn null(&self) -> f64 {
        if self.log {
            1.0
        } else {
            0.0
        }
    }
    pub(crate) fn ticks(&self) -> Vec<(f64, String)> {
        let mut out = vec![];
        if self.log {
            let mut tick = self.lo;
            while tick <= self.hi * 1.0001 {
                out.push((
                    tick,
                    if tick < 1.0 {
                        format!("{tick}")
                    } else {
                        format!("{}", tick as i64)
                    },
                ));
                tick *= 10.0;
            }
        } else {
            let step = nice_step((self.hi - self.lo) / 4.0);
            let mut k = (self.lo / step).round() as i64;
            while k as f64 * step <= self.hi + 1e-9 {
                let v = k as f64 * step;
                out.push((v, format!("{}", (v * 1e6).round() / 1e6)));
                k += 1;
            }
        }
        out
    }
}

/// 1, 2 or 5 times a power of ten, at least `x`.
pub(crate) fn nice_step(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= x - 1e-12)
        .unwrap_or(10.0 * p)
}

pub(crate) fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    for w in s.split(' ') {
        if !cur.is_empty() && cur.len() + 1 + w.len() > width {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}
