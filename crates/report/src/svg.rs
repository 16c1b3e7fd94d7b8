//! SVG figures drawn from the stage tables: RevMan-style forest plots, funnel plots, the PRISMA
//! 2020 flow diagram, and RoB 2 traffic-light and summary plots in the robvis style. Nothing here
//! computes a statistic: every number comes from `results`, `per_study_effects`, `prisma`,
//! `rob_judgments` as the earlier stages wrote them.

use std::fmt::Write;

/// XML-escape text.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn f2(x: f64) -> String {
    format!("{x:.2}")
}

/// One study row of a forest plot.
#[derive(Debug, Clone)]
pub struct ForestStudy {
    pub label: String,
    /// the treatment arm's two cells (events and total; mean (SD) and total; …)
    pub treat: [String; 2],
    pub ctrl: [String; 2],
    /// effect and CI on the natural scale
    pub est: Option<(f64, f64, f64)>,
    /// weight in %, when pooled
    pub weight: Option<f64>,
    /// why a study has no estimate
    pub note: Option<String>,
}

/// One section (the whole analysis, or a subgroup) of a forest plot.
#[derive(Debug, Clone)]
pub struct ForestSection {
    pub title: Option<String>,
    pub studies: Vec<ForestStudy>,
    /// pooled effect and CI when computed
    pub pooled: Option<(f64, f64, f64)>,
    /// the prediction interval of a random-effects model, when the review asks for it
    pub prediction: Option<(f64, f64)>,
    /// events and totals per arm over the pooled studies (events for binary outcomes only)
    pub totals: Option<[Option<i64>; 4]>,
    /// heterogeneity line, e.g. "Chi² = 1.23, df = 2 (P = 0.54); I² = 0%"
    pub heterogeneity: Option<String>,
    /// test for overall effect, e.g. "Z = 1.02 (P = 0.31)"
    pub overall: Option<String>,
    /// why the section is not pooled
    pub note: Option<String>,
    /// the section's share of the total weight in % (subgroups, whose study weights are the
    /// overall analysis's, as RevMan shows them); `None`: the section is the whole (100%)
    pub weight: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Forest {
    pub title: String,
    pub model: String,
    pub treat: String,
    pub ctrl: String,
    /// the effect's name ("Odds Ratio", "Mean Difference", …)
    pub effect: String,
    /// a ratio, drawn on a log axis about 1 (else a linear axis about 0)
    pub log: bool,
    /// the CI level as printed ("95%")
    pub level: String,
    /// the two per-arm column headers
    pub columns: [String; 2],
    /// the axis's left and right labels
    pub favours: (String, String),
    pub sections: Vec<ForestSection>,
    pub subgroup_test: Option<String>,
}

const FONT: &str = "font-family=\"Helvetica, Arial, sans-serif\"";

fn text(out: &mut String, x: f64, y: f64, s: &str, size: f64, anchor: &str, weight: &str) {
    let _ = writeln!(
        out,
        r##"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" {FONT}>{}</text>"##,
        esc(s)
    );
}

/// A forest plot in the RevMan 5 layout, on a log axis from 0.01 to 100 clipped to the data.
pub fn forest(f: &Forest) -> String {
    let row_h = 18.0;
    let x_study = 10.0;
    // the study column is as wide as the longest label (about 6.3 px a character at 11 px)
    let longest = f
        .sections
        .iter()
        .flat_map(|s| s.studies.iter().map(|st| st.label.chars().count()))
        .max()
        .unwrap_or(10)
        .max(18);
    let x0 = x_study + 6.0 + longest as f64 * 6.3 + 10.0;
    // the first per-arm column is as wide as its widest cell (events: 40 px; "mean (SD)" wider)
    let widest = f
        .sections
        .iter()
        .flat_map(|s| {
            s.studies
                .iter()
                .flat_map(|st| [st.treat[0].chars().count(), st.ctrl[0].chars().count()])
        })
        .max()
        .unwrap_or(0);
    let w1 = (widest as f64 * 6.3 + 12.0).max(40.0);
    let x_te = x0 + w1;
    let (x_tn, x_ce) = (x_te + 45.0, x_te + 45.0 + w1 + 15.0);
    let (x_cn, x_w) = (x_ce + 45.0, x_ce + 100.0);
    let x_or = x_w + 130.0;
    let (plot_l, plot_r) = (x_or + 40.0, x_or + 300.0);
    let total_w = plot_r + 20.0;
    let cis = f
        .sections
        .iter()
        .flat_map(|s| {
            let pi = s.prediction.map(|(l, u)| (l, l, u));
            s.studies
                .iter()
                .filter_map(|st| st.est)
                .chain(s.pooled)
                .chain(pi)
        })
        .map(|(_, l, u)| (l, u));
    let ax = Axis::new(cis, f.log);
    let xs = |v: f64| {
        plot_l
            + (ax.t(v.max(ax.lo).min(ax.hi)) - ax.t(ax.lo)) / (ax.t(ax.hi) - ax.t(ax.lo))
                * (plot_r - plot_l)
    };
    let mut body = String::new();
    let mut y = 62.0;
    text(&mut body, x_study, 20.0, &f.title, 14.0, "start", "bold");
    // header
    text(
        &mut body,
        x_study,
        y,
        "Study or Subgroup",
        11.0,
        "start",
        "bold",
    );
    text(
        &mut body,
        (x_te + x_tn) / 2.0,
        y - 13.0,
        &f.treat,
        11.0,
        "middle",
        "bold",
    );
    text(
        &mut body,
        (x_ce + x_cn) / 2.0,
        y - 13.0,
        &f.ctrl,
        11.0,
        "middle",
        "bold",
    );
    for (x, h) in [
        (x_te, f.columns[0].as_str()),
        (x_tn, f.columns[1].as_str()),
        (x_ce, f.columns[0].as_str()),
        (x_cn, f.columns[1].as_str()),
        (x_w, "Weight"),
    ] {
        text(&mut body, x, y, h, 11.0, "end", "bold");
    }
    text(&mut body, x_or, y - 13.0, &f.effect, 11.0, "end", "bold");
    text(
        &mut body,
        x_or,
        y,
        &format!("{}, {} CI", f.model, f.level),
        11.0,
        "end",
        "bold",
    );
    text(
        &mut body,
        (plot_l + plot_r) / 2.0,
        y - 13.0,
        &f.effect,
        11.0,
        "middle",
        "bold",
    );
    text(
        &mut body,
        (plot_l + plot_r) / 2.0,
        y,
        &format!("{}, {} CI", f.model, f.level),
        11.0,
        "middle",
        "bold",
    );
    let _ = writeln!(
        body,
        r##"<line x1="{x_study}" y1="{:.1}" x2="{plot_r}" y2="{:.1}" stroke="black" stroke-width="1"/>"##,
        y + 5.0,
        y + 5.0
    );
    y += row_h + 4.0;
    let plot_top = y - 12.0;
    for s in &f.sections {
        if let Some(t) = &s.title {
            text(&mut body, x_study, y, t, 11.0, "start", "bold");
            y += row_h;
        }
        for st in &s.studies {
            text(
                &mut body,
                x_study + 6.0,
                y,
                &st.label,
                11.0,
                "start",
                "normal",
            );
            text(&mut body, x_te, y, &st.treat[0], 11.0, "end", "normal");
            text(&mut body, x_tn, y, &st.treat[1], 11.0, "end", "normal");
            text(&mut body, x_ce, y, &st.ctrl[0], 11.0, "end", "normal");
            text(&mut body, x_cn, y, &st.ctrl[1], 11.0, "end", "normal");
            if let Some(w) = st.weight {
                text(
                    &mut body,
                    x_w,
                    y,
                    &format!("{w:.1}%"),
                    11.0,
                    "end",
                    "normal",
                );
            }
            match st.est {
                Some((or, l, u)) => {
                    text(
                        &mut body,
                        x_or,
                        y,
                        &format!("{} [{}, {}]", f2(or), f2(l), f2(u)),
                        11.0,
                        "end",
                        "normal",
                    );
                    let yc = y - 4.0;
                    let _ = writeln!(
                        body,
                        r##"<line x1="{:.1}" y1="{yc:.1}" x2="{:.1}" y2="{yc:.1}" stroke="black" stroke-width="1"/>"##,
                        xs(l),
                        xs(u)
                    );
                    let side = st
                        .weight
                        .map(|w| 4.0 + (w / 100.0).sqrt() * 12.0)
                        .unwrap_or(5.0);
                    let fill = if st.weight.is_some() {
                        "#1f5fa8"
                    } else {
                        "#9bb3cf"
                    };
                    let _ = writeln!(
                        body,
                        r##"<rect x="{:.1}" y="{:.1}" width="{side:.1}" height="{side:.1}" fill="{fill}"/>"##,
                        xs(or) - side / 2.0,
                        yc - side / 2.0
                    );
                }
                None => {
                    let why = st.note.clone().unwrap_or_else(|| "not estimable".into());
                    text(&mut body, x_or, y, &why, 11.0, "end", "normal");
                }
            }
            y += row_h;
        }
        // subtotal / total
        let label = format!(
            "{} ({} CI)",
            if s.title.is_some() {
                "Subtotal"
            } else {
                "Total"
            },
            f.level
        );
        text(&mut body, x_study, y, &label, 11.0, "start", "bold");
        let events_row = s.totals.is_some_and(|t| t[0].is_some() && t[2].is_some());
        if let Some([et, nt, ec, nc]) = s.totals {
            let cell = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
            text(&mut body, x_tn, y, &cell(nt), 11.0, "end", "bold");
            text(&mut body, x_cn, y, &cell(nc), 11.0, "end", "bold");
            if events_row {
                y += row_h;
                text(
                    &mut body,
                    x_study + 6.0,
                    y,
                    "Total events",
                    11.0,
                    "start",
                    "normal",
                );
                text(&mut body, x_te, y, &cell(et), 11.0, "end", "normal");
                text(&mut body, x_ce, y, &cell(ec), 11.0, "end", "normal");
                y -= row_h;
            }
        }
        match s.pooled {
            Some((or, l, u)) => {
                text(
                    &mut body,
                    x_w,
                    y,
                    &format!("{:.1}%", s.weight.unwrap_or(100.0)),
                    11.0,
                    "end",
                    "bold",
                );
                text(
                    &mut body,
                    x_or,
                    y,
                    &format!("{} [{}, {}]", f2(or), f2(l), f2(u)),
                    11.0,
                    "end",
                    "bold",
                );
                let yc = y - 4.0;
                let _ = writeln!(
                    body,
                    r##"<polygon points="{:.1},{yc:.1} {:.1},{:.1} {:.1},{yc:.1} {:.1},{:.1}" fill="black"/>"##,
                    xs(l),
                    xs(or),
                    yc - 6.0,
                    xs(u),
                    xs(or),
                    yc + 6.0
                );
            }
            None => {
                text(&mut body, x_or, y, "not pooled", 11.0, "end", "bold");
            }
        }
        y += row_h;
        if events_row {
            y += row_h;
        }
        // the prediction interval: a row of its own, a line with end ticks (RevMan Web, meta)
        if let Some((l, u)) = s.prediction {
            text(
                &mut body,
                x_study,
                y,
                "Prediction interval",
                11.0,
                "start",
                "normal",
            );
            text(
                &mut body,
                x_or,
                y,
                &format!("[{}, {}]", f2(l), f2(u)),
                11.0,
                "end",
                "normal",
            );
            let yc = y - 4.0;
            let (xl, xu) = (xs(l), xs(u));
            let _ = writeln!(
                body,
                r##"<path d="M{xl:.1},{:.1} V{:.1} M{xl:.1},{yc:.1} H{xu:.1} M{xu:.1},{:.1} V{:.1}" stroke="black" stroke-width="1.5" fill="none"/>"##,
                yc - 4.0,
                yc + 4.0,
                yc - 4.0,
                yc + 4.0
            );
            y += row_h;
        }
        for line in [
            s.heterogeneity
                .as_ref()
                .map(|h| format!("Heterogeneity: {h}")),
            s.overall
                .as_ref()
                .map(|o| format!("Test for overall effect: {o}")),
            s.note.clone(),
        ]
        .into_iter()
        .flatten()
        {
            for chunk in wrap(&line, 105) {
                text(&mut body, x_study, y, &chunk, 10.0, "start", "normal");
                y += row_h - 3.0;
            }
        }
        y += 6.0;
    }
    if let Some(t) = &f.subgroup_test {
        text(
            &mut body,
            x_study,
            y,
            &format!("Test for subgroup differences: {t}"),
            10.0,
            "start",
            "normal",
        );
        y += row_h;
    }
    // axis
    let axis_y = y + 4.0;
    let null = xs(ax.null());
    let _ = writeln!(
        body,
        r##"<line x1="{null}" y1="{plot_top:.1}" x2="{null}" y2="{axis_y:.1}" stroke="black" stroke-width="1"/>"##
    );
    let _ = writeln!(
        body,
        r##"<line x1="{plot_l}" y1="{axis_y:.1}" x2="{plot_r}" y2="{axis_y:.1}" stroke="black" stroke-width="1"/>"##
    );
    for (tick, lab) in ax.ticks() {
        let x = xs(tick);
        let _ = writeln!(
            body,
            r##"<line x1="{x:.1}" y1="{axis_y:.1}" x2="{x:.1}" y2="{:.1}" stroke="black"/>"##,
            axis_y + 4.0
        );
        text(&mut body, x, axis_y + 16.0, &lab, 10.0, "middle", "normal");
    }
    text(
        &mut body,
        (plot_l + null) / 2.0,
        axis_y + 30.0,
        &f.favours.0,
        10.0,
        "middle",
        "normal",
    );
    text(
        &mut body,
        (null + plot_r) / 2.0,
        axis_y + 30.0,
        &f.favours.1,
        10.0,
        "middle",
        "normal",
    );
    let height = axis_y + 44.0;
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total_w:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {total_w:.0} {height:.0}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n")
}

/// A forest plot's axis: log (ratios, about 1, from decade to decade covering every CI and at
/// least 0.1 to 10) or linear (about 0, covering every CI, with round ticks).
struct Axis {
    log: bool,
    lo: f64,
    hi: f64,
}

impl Axis {
    fn new(cis: impl Iterator<Item = (f64, f64)>, log: bool) -> Axis {
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
    fn t(&self, v: f64) -> f64 {
        if self.log {
            v.ln()
        } else {
            v
        }
    }
    fn null(&self) -> f64 {
        if self.log {
            1.0
        } else {
            0.0
        }
    }
    fn ticks(&self) -> Vec<(f64, String)> {
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
fn nice_step(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= x - 1e-12)
        .unwrap_or(10.0 * p)
}

fn wrap(s: &str, width: usize) -> Vec<String> {
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
    let tr = |v: f64| if log { v.ln() } else { v };
    let (l, r, t, b) = (70.0, 560.0, 40.0, 330.0);
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
    let xs = |lv: f64| l + (lv - lo) / (hi - lo) * (r - l);
    let ys = |se: f64| t + se / max_se * (b - t);
    let mut body = String::new();
    text(&mut body, 10.0, 20.0, title, 14.0, "start", "bold");
    let _ = writeln!(
        body,
        r##"<rect x="{l}" y="{t}" width="{}" height="{}" fill="none" stroke="black"/>"##,
        r - l,
        b - t
    );
    if let Some(p) = pooled {
        let c = tr(p);
        let _ = writeln!(
            body,
            r##"<line x1="{:.1}" y1="{t}" x2="{:.1}" y2="{b}" stroke="black" stroke-dasharray="4,3"/>"##,
            xs(c),
            xs(c)
        );
        for sgn in [-1.0, 1.0] {
            let _ = writeln!(
                body,
                r##"<line x1="{:.1}" y1="{t}" x2="{:.1}" y2="{b}" stroke="#777" stroke-dasharray="2,3"/>"##,
                xs(c),
                xs(c + sgn * 1.96 * max_se)
            );
        }
    }
    for (name, or, se) in points {
        let _ = writeln!(
            body,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#1f5fa8"><title>{}</title></circle>"##,
            xs(tr(*or)),
            ys(*se),
            esc(name)
        );
    }
    // axes
    let ticks: Vec<(f64, String)> = if log {
        [0.01f64, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0]
            .iter()
            .map(|v| (v.ln(), format!("{v}")))
            .collect()
    } else {
        let step = nice_step((hi - lo) / 5.0);
        ((lo / step).ceil() as i64..=(hi / step).floor() as i64)
            .map(|k| {
                (
                    k as f64 * step,
                    format!("{}", (k as f64 * step * 1e6).round() / 1e6),
                )
            })
            .collect()
    };
    for (lv, lab) in ticks {
        if lv >= lo && lv <= hi {
            let x = xs(lv);
            let _ = writeln!(
                body,
                r##"<line x1="{x:.1}" y1="{b}" x2="{x:.1}" y2="{}" stroke="black"/>"##,
                b + 4.0
            );
            text(&mut body, x, b + 16.0, &lab, 10.0, "middle", "normal");
        }
    }
    let mut se = 0.0;
    while se <= max_se + 1e-9 {
        let y = ys(se);
        let _ = writeln!(
            body,
            r##"<line x1="{}" y1="{y:.1}" x2="{l}" y2="{y:.1}" stroke="black"/>"##,
            l - 4.0
        );
        text(
            &mut body,
            l - 6.0,
            y + 3.0,
            &format!("{se:.1}"),
            10.0,
            "end",
            "normal",
        );
        se += if max_se > 4.0 {
            1.0
        } else if max_se > 2.0 {
            0.5
        } else {
            0.2
        };
    }
    let (xlab, ylab) = if log {
        (format!("{effect} (log scale)"), format!("SE(log {short})"))
    } else {
        (effect.to_string(), format!("SE({short})"))
    };
    text(
        &mut body,
        (l + r) / 2.0,
        b + 32.0,
        &xlab,
        11.0,
        "middle",
        "normal",
    );
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
            text(&mut body, 10.0, h, &chunk, 10.0, "start", "normal");
            h += 14.0;
        }
    }
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"580\" height=\"{h:.0}\" viewBox=\"0 0 580 {h:.0}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n")
}

/// PRISMA 2020 flow diagram for databases and registers (new reviews).
pub struct PrismaCounts {
    pub identified: i64,
    pub per_database: Vec<(String, i64)>,
    pub duplicates: i64,
    pub screened: i64,
    pub excluded_ta: i64,
    pub full_text: i64,
    pub excluded_ft: i64,
    pub reasons: Vec<(String, i64)>,
    pub included: i64,
    /// records not yet screened (a living review's open work)
    pub awaiting: i64,
    /// an updated review: the previous version's studies and the totals
    pub update: Option<PrismaUpdate>,
}

/// The boxes of the PRISMA 2020 diagram for updated reviews beyond the new records' flow.
pub struct PrismaUpdate {
    pub previous_studies: i64,
    pub previous_reports: i64,
    pub new_reports: i64,
    pub total_studies: i64,
    pub total_reports: i64,
}

fn boxed(out: &mut String, x: f64, y: f64, w: f64, lines: &[String]) -> f64 {
    let h = 12.0 + 15.0 * lines.len() as f64;
    let _ = writeln!(
        out,
        r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="white" stroke="black"/>"##
    );
    for (i, l) in lines.iter().enumerate() {
        text(
            out,
            x + 8.0,
            y + 18.0 + 15.0 * i as f64,
            l,
            11.0,
            "start",
            if i == 0 { "bold" } else { "normal" },
        );
    }
    h
}

fn arrow(out: &mut String, x1: f64, y1: f64, x2: f64, y2: f64) {
    let _ = writeln!(
        out,
        r##"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="black" marker-end="url(#arrow)"/>"##
    );
}

pub fn prisma(c: &PrismaCounts) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        r##"<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="black"/></marker></defs>"##
    );
    text(
        &mut b,
        10.0,
        20.0,
        if c.update.is_some() {
            "PRISMA 2020 flow diagram for updated systematic reviews"
        } else {
            "PRISMA 2020 flow diagram"
        },
        14.0,
        "start",
        "bold",
    );
    // an updated review has a column for the previous version's studies on the left
    let shift = if c.update.is_some() { 250.0 } else { 0.0 };
    let top = if c.update.is_some() { 70.0 } else { 40.0 };
    let (lx, rx, w) = (120.0 + shift, 470.0 + shift, 300.0);
    if c.update.is_some() {
        text(
            &mut b,
            120.0,
            56.0,
            "Previous studies",
            12.0,
            "start",
            "bold",
        );
        text(
            &mut b,
            lx,
            56.0,
            "Identification of new studies via databases and registers",
            12.0,
            "start",
            "bold",
        );
    }
    // phase labels
    let phase = |b: &mut String, y: f64, label: &str| {
        let _ = writeln!(
            b,
            r##"<rect x="10" y="{y}" width="90" height="24" fill="#cfe2f3" stroke="black"/>"##
        );
        text(b, 55.0, y + 16.0, label, 11.0, "middle", "bold");
    };
    phase(&mut b, top, "Identification");
    let mut lines = vec![format!("Records identified (n = {})", c.identified)];
    lines.extend(
        c.per_database
            .iter()
            .map(|(d, n)| format!("  {d} (n = {n})")),
    );
    let h1 = boxed(&mut b, lx, top, w, &lines);
    let hdup = boxed(
        &mut b,
        rx,
        top,
        w,
        &[
            "Records removed before screening".into(),
            format!("  Duplicate records (n = {})", c.duplicates),
        ],
    );
    arrow(&mut b, lx + w, top + hdup / 2.0, rx, top + hdup / 2.0);
    let y2 = top + h1 + 40.0;
    arrow(&mut b, lx + w / 2.0, top + h1, lx + w / 2.0, y2);
    phase(&mut b, y2, "Screening");
    let mut screened = vec![format!("Records screened (n = {})", c.screened)];
    if c.awaiting > 0 {
        screened.push(format!("Records awaiting screening (n = {})", c.awaiting));
    }
    let h2 = boxed(&mut b, lx, y2, w, &screened);
    let hx = boxed(
        &mut b,
        rx,
        y2,
        w,
        &[format!("Records excluded (n = {})", c.excluded_ta)],
    );
    arrow(&mut b, lx + w, y2 + h2 / 2.0, rx, y2 + hx / 2.0);
    let y3 = y2 + h2 + 40.0;
    arrow(&mut b, lx + w / 2.0, y2 + h2, lx + w / 2.0, y3);
    let h3 = boxed(
        &mut b,
        lx,
        y3,
        w,
        &[format!(
            "Reports sought for retrieval (n = {})",
            c.full_text
        )],
    );
    let hn = boxed(&mut b, rx, y3, w, &["Reports not retrieved (n = 0)".into()]);
    arrow(&mut b, lx + w, y3 + h3 / 2.0, rx, y3 + hn / 2.0);
    let y4 = y3 + h3 + 40.0;
    arrow(&mut b, lx + w / 2.0, y3 + h3, lx + w / 2.0, y4);
    let h4 = boxed(
        &mut b,
        lx,
        y4,
        w,
        &[format!(
            "Reports assessed for eligibility (n = {})",
            c.full_text
        )],
    );
    let mut ex = vec![format!("Reports excluded (n = {})", c.excluded_ft)];
    for (r, n) in &c.reasons {
        for (i, chunk) in wrap(&format!("{r} (n = {n})"), 44).into_iter().enumerate() {
            ex.push(format!("{}{chunk}", if i == 0 { "  • " } else { "    " }));
        }
    }
    let he = boxed(&mut b, rx, y4, w, &ex);
    arrow(&mut b, lx + w, y4 + h4 / 2.0, rx, y4 + h4 / 2.0);
    let y5 = (y4 + h4 + 40.0).max(y4 + he + 20.0);
    arrow(&mut b, lx + w / 2.0, y4 + h4, lx + w / 2.0, y5);
    phase(&mut b, y5, "Included");
    let (h5, bottom) = match &c.update {
        None => {
            let h5 = boxed(
                &mut b,
                lx,
                y5,
                w,
                &[format!("Studies included in review (n = {})", c.included)],
            );
            (h5, y5 + h5)
        }
        Some(u) => {
            let pw = 220.0;
            let hp = boxed(
                &mut b,
                120.0,
                top,
                pw,
                &[
                    "Studies included in previous".into(),
                    format!("version of review (n = {})", u.previous_studies),
                    "Reports of studies included in".into(),
                    format!("previous version (n = {})", u.previous_reports),
                ],
            );
            let h5 = boxed(
                &mut b,
                lx,
                y5,
                w,
                &[
                    format!("New studies included in review (n = {})", c.included),
                    format!("Reports of new included studies (n = {})", u.new_reports),
                ],
            );
            let y6 = y5 + h5 + 40.0;
            let h6 = boxed(
                &mut b,
                120.0,
                y6,
                pw + shift + w - 120.0 - (shift - 250.0),
                &[
                    format!("Total studies included in review (n = {})", u.total_studies),
                    format!(
                        "Reports of total included studies (n = {})",
                        u.total_reports
                    ),
                ],
            );
            arrow(&mut b, 120.0 + pw / 2.0, top + hp, 120.0 + pw / 2.0, y6);
            arrow(&mut b, lx + w / 2.0, y5 + h5, lx + w / 2.0, y6);
            (h5, y6 + h6)
        }
    };
    let _ = h5;
    let height = bottom + 20.0;
    let width = 790.0 + shift;
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{b}</svg>\n")
}

fn rob_color(j: &str) -> (&'static str, &'static str) {
    match j {
        "low" => ("#02C100", "+"),
        "some concerns" => ("#E2DF07", "-"),
        "high" => ("#BF0000", "X"),
        _ => ("#cccccc", "?"),
    }
}

/// RoB 2 traffic-light plot: one row per study, one circle per domain and overall.
pub fn rob_traffic(studies: &[(String, Vec<String>)]) -> String {
    let cols = ["D1", "D2", "D3", "D4", "D5", "Overall"];
    let longest = studies
        .iter()
        .map(|(s, _)| s.chars().count())
        .max()
        .unwrap_or(10);
    let (x0, cw, y0, rh) = (10.0 + longest as f64 * 6.3 + 30.0, 56.0, 60.0, 34.0);
    let mut b = String::new();
    text(
        &mut b,
        10.0,
        20.0,
        "Risk of bias (RoB 2): traffic-light plot",
        14.0,
        "start",
        "bold",
    );
    for (i, c) in cols.iter().enumerate() {
        text(
            &mut b,
            x0 + cw * i as f64,
            y0 - 18.0,
            c,
            11.0,
            "middle",
            "bold",
        );
    }
    for (r, (study, js)) in studies.iter().enumerate() {
        let y = y0 + rh * r as f64;
        text(&mut b, 10.0, y + 4.0, study, 11.0, "start", "normal");
        for (i, j) in js.iter().enumerate() {
            let (col, sym) = rob_color(j);
            let x = x0 + cw * i as f64;
            let _ = writeln!(
                b,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="12" fill="{col}" stroke="black" stroke-width="0.5"><title>{}: {}</title></circle>"##,
                cols[i],
                esc(j)
            );
            text(&mut b, x, y + 4.0, sym, 13.0, "middle", "bold");
        }
    }
    let y = y0 + rh * studies.len() as f64 + 6.0;
    let legend = [
        "D1: randomization process",
        "D2: deviations from intended interventions",
        "D3: missing outcome data",
        "D4: measurement of the outcome",
        "D5: selection of the reported result",
    ];
    for (i, l) in legend.iter().enumerate() {
        text(
            &mut b,
            10.0,
            y + 14.0 * i as f64,
            l,
            10.0,
            "start",
            "normal",
        );
    }
    for (i, (lab, j)) in [
        ("Low", "low"),
        ("Some concerns", "some concerns"),
        ("High", "high"),
    ]
    .iter()
    .enumerate()
    {
        let (col, sym) = rob_color(j);
        let x = x0 + 110.0 * i as f64;
        let _ = writeln!(
            b,
            r##"<circle cx="{x}" cy="{:.1}" r="8" fill="{col}" stroke="black" stroke-width="0.5"/>"##,
            y + 2.0
        );
        text(&mut b, x, y + 6.0, sym, 10.0, "middle", "bold");
        text(&mut b, x + 12.0, y + 6.0, lab, 10.0, "start", "normal");
    }
    let h = y + 14.0 * legend.len() as f64 + 10.0;
    let w = (x0 + cw * 6.0).max(x0 + 360.0);
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{b}</svg>\n")
}

/// RoB 2 summary: per domain, the proportion of studies (or of weight) at each level.
pub fn rob_summary(domains: &[(String, [f64; 3])], weighted: bool) -> String {
    let (x0, wbar, y0, rh) = (300.0, 420.0, 50.0, 30.0);
    let mut b = String::new();
    text(
        &mut b,
        10.0,
        20.0,
        &format!(
            "Risk of bias (RoB 2): summary{}",
            if weighted {
                " (weighted)"
            } else {
                " (unweighted: proportion of studies)"
            }
        ),
        14.0,
        "start",
        "bold",
    );
    for (r, (d, p)) in domains.iter().enumerate() {
        let y = y0 + rh * r as f64;
        text(&mut b, x0 - 8.0, y + 14.0, d, 11.0, "end", "normal");
        let mut x = x0;
        for (k, j) in ["low", "some concerns", "high"].iter().enumerate() {
            let w = p[k] * wbar;
            if w > 0.0 {
                let _ = writeln!(
                    b,
                    r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="20" fill="{}" stroke="black" stroke-width="0.5"><title>{}: {:.0}%</title></rect>"##,
                    rob_color(j).0,
                    esc(j),
                    p[k] * 100.0
                );
                if w > 30.0 {
                    text(
                        &mut b,
                        x + w / 2.0,
                        y + 14.0,
                        &format!("{:.0}%", p[k] * 100.0),
                        10.0,
                        "middle",
                        "normal",
                    );
                }
            }
            x += w;
        }
    }
    let y = y0 + rh * domains.len() as f64 + 10.0;
    for (i, (lab, j)) in [
        ("Low risk", "low"),
        ("Some concerns", "some concerns"),
        ("High risk", "high"),
    ]
    .iter()
    .enumerate()
    {
        let x = x0 + 130.0 * i as f64;
        let _ = writeln!(
            b,
            r##"<rect x="{x}" y="{y}" width="14" height="14" fill="{}" stroke="black" stroke-width="0.5"/>"##,
            rob_color(j).0
        );
        text(&mut b, x + 20.0, y + 11.0, lab, 10.0, "start", "normal");
    }
    let h = y + 30.0;
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"{h:.0}\" viewBox=\"0 0 760 {h:.0}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{b}</svg>\n")
}
