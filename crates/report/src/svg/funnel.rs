//! The funnel plot.

use super::*;
use std::fmt::Write;

/// A funnel plot: each study's effect (on the analysis scale: log for ratios) against its
/// standard error (0 at the top), with pseudo 95% confidence limits about the pooled estimate
/// when there is one. `points` and `pooled` are on the natural scale; `effect` names it on the
/// x axis ("Odds ratio"), `short` in the SE's label ("OR": "SE(log OR)").
pub fn funnel(
    title: &str,
    points: &[(String, f64, f64)],
    pooled: Option<f64>,
    note: Option<&str>,
    effect: &str,
    log: bool,
    short: &str,
) -> String {
    let frame = Frame::new(points, pooled, log);
    let (l, r, t, b) = (L, R, T, B);
    let mut body = String::new();
    text(&mut body, 10.0, 20.0, title, TITLE);
    let _ = writeln!(
        body,
        r##"<rect x="{l}" y="{t}" width="{}" height="{}" fill="none" stroke="black"/>"##,
        r - l,
        b - t
    );
    if let Some(p) = pooled {
        frame.limits(&mut body, frame.tr(p));
    }
    for (name, or, se) in points {
        let _ = writeln!(
            body,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#1f5fa8"><title>{}</title></circle>"##,
            frame.xs(frame.tr(*or)),
            frame.ys(*se),
            esc(name)
        );
    }
    frame.x_axis(&mut body);
    frame.y_axis(&mut body);
    let (xlab, ylab) = if log {
        (format!("{effect} (log scale)"), format!("SE(log {short})"))
    } else {
        (effect.to_string(), format!("SE({short})"))
    };
    text(&mut body, (l + r) / 2.0, b + 32.0, &xlab, PLAIN_C);
    let _ = writeln!(
        body,
        r##"<text x="18" y="{:.1}" font-size="11" text-anchor="middle" transform="rotate(-90 18 {:.1})" {FONT}>{}</text>"##,
        (t + b) / 2.0,
        (t + b) / 2.0,
        esc(&ylab)
    );
    let mut h = b + 44.0;
    if let Some(n) = note {
        for chunk in wrap(n, 90) {
            text(&mut body, 10.0, h, &chunk, SMALL_L);
            h += 14.0;
        }
    }
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"580\" height=\"{h:.0}\" viewBox=\"0 0 580 {h:.0}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n")
}

/// The plot area's left, right, top and bottom edges.
const L: f64 = 70.0;
const R: f64 = 560.0;
const T: f64 = 40.0;
const B: f64 = 330.0;

/// The funnel's scales: effects (on the analysis scale) from `lo` to `hi`, SE from 0 to `max_se`.
struct Frame {
    log: bool,
    lo: f64,
    hi: f64,
    max_se: f64,
}

impl Frame {
    fn new(points: &[(String, f64, f64)], pooled: Option<f64>, log: bool) -> Frame {
        let tr = |v: f64| if log { v.ln() } else { v };
        let max_se = points.iter().map(|p| p.2).fold(0.0f64, f64::max).max(0.5) * 1.1;
        let lo = points
            .iter()
            .map(|p| tr(p.1) - 1.96 * max_se)
            .chain(pooled.map(|p| tr(p) - 1.96 * max_se))
            .fold(f64::INFINITY, f64::min)
            .min(-0.5);
        let hi = points
            .iter()
            .map(|p| tr(p.1) + 1.96 * max_se)
            .chain(pooled.map(|p| tr(p) + 1.96 * max_se))
            .fold(f64::NEG_INFINITY, f64::max)
            .max(0.5);
        Frame {
            log,
            lo,
            hi,
            max_se,
        }
    }

    /// A natural-scale effect on the analysis scale.
    fn tr(&self, v: f64) -> f64 {
        if self.log {
            v.ln()
        } else {
            v
        }
    }

    fn xs(&self, lv: f64) -> f64 {
        L + (lv - self.lo) / (self.hi - self.lo) * (R - L)
    }

    fn ys(&self, se: f64) -> f64 {
        T + se / self.max_se * (B - T)
    }

    /// The pooled estimate's line and the pseudo 95% limits about it.
    fn limits(&self, body: &mut String, c: f64) {
        let (t, b) = (T, B);
        let _ = writeln!(
            body,
            r##"<line x1="{:.1}" y1="{t}" x2="{:.1}" y2="{b}" stroke="black" stroke-dasharray="4,3"/>"##,
            self.xs(c),
            self.xs(c)
        );
        for sgn in [-1.0, 1.0] {
            let _ = writeln!(
                body,
                r##"<line x1="{:.1}" y1="{t}" x2="{:.1}" y2="{b}" stroke="#777" stroke-dasharray="2,3"/>"##,
                self.xs(c),
                self.xs(c + sgn * 1.96 * self.max_se)
            );
        }
    }

    /// The effect axis's ticks and labels.
    fn x_axis(&self, body: &mut String) {
        let (lo, hi, b) = (self.lo, self.hi, B);
        let ticks: Vec<(f64, String)> = if self.log {
            [0.01f64, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0]
                .iter()
                .map(|v| (v.ln(), format!("{v}")))
                .collect()
        } else {
            let step = nice_step((hi - lo) / 5.0);
            ((lo / step).ceil() as i64..=(hi / step).floor() as i64)
                .map(|k| {
                    let v = k as f64 * step;
                    (v, format!("{}", (v * 1e6).round() / 1e6))
                })
                .collect()
        };
        for (lv, lab) in ticks {
            if lv >= lo && lv <= hi {
                let x = self.xs(lv);
                let _ = writeln!(
                    body,
                    r##"<line x1="{x:.1}" y1="{b}" x2="{x:.1}" y2="{}" stroke="black"/>"##,
                    b + 4.0
                );
                text(body, x, b + 16.0, &lab, SMALL_C);
            }
        }
    }

    /// The SE axis's ticks and labels (0 at the top).
    fn y_axis(&self, body: &mut String) {
        let (l, max_se) = (L, self.max_se);
        let mut se = 0.0;
        while se <= max_se + 1e-9 {
            let y = self.ys(se);
            let _ = writeln!(
                body,
                r##"<line x1="{}" y1="{y:.1}" x2="{l}" y2="{y:.1}" stroke="black"/>"##,
                l - 4.0
            );
            text(body, l - 6.0, y + 3.0, &format!("{se:.1}"), SMALL_R);
            se += if max_se > 4.0 {
                1.0
            } else if max_se > 2.0 {
                0.5
            } else {
                0.2
            };
        }
    }
}
