//! The forest plot, in the RevMan 5 layout.

use super::*;
use std::fmt::Write;

/// One study row of a forest plot.
#[derive(Debug, Clone)]
pub struct ForestStudy {
    pub id: String,
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
    /// RoB 2 judgments for this result, one per column of `Forest::rob` (empty: none)
    pub rob: Vec<String>,
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
    /// RoB 2 columns beside the plot (RevMan's layout: D1–D5 and overall); empty: none
    pub rob: Vec<String>,
}

/// The legend of the RoB 2 columns, as RevMan prints it under the plot.
const ROB_LEGEND: &str = "Risk of bias (RoB 2): D1 randomization process; D2 deviations from intended interventions; D3 missing outcome data; D4 measurement of the outcome; D5 selection of the reported result; O overall. + low risk, - some concerns, X high risk, ? not judged";

/// A forest plot in the RevMan 5 layout, on a log axis from 0.01 to 100 clipped to the data.
pub fn forest(f: &Forest) -> String {
    let plot = Plot::new(f);
    let mut body = String::new();
    text(&mut body, X_STUDY, 20.0, &f.title, TITLE);
    let mut y = plot.header(&mut body, 62.0);
    let plot_top = y - 12.0;
    for s in &f.sections {
        y = plot.section(&mut body, s, y);
    }
    if let Some(t) = &f.subgroup_test {
        let line = format!("Test for subgroup differences: {t}");
        text(&mut body, X_STUDY, y, &line, SMALL_L);
        y += ROW_H;
    }
    let mut height = plot.axis(&mut body, plot_top, y + 4.0);
    if !f.rob.is_empty() {
        for chunk in wrap(ROB_LEGEND, 150) {
            text(&mut body, X_STUDY, height, &chunk, SMALL_L);
            height += ROW_H - 3.0;
        }
        height += 6.0;
    }
    let total_w = plot.right + 20.0;
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total_w:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {total_w:.0} {height:.0}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n")
}

const ROW_H: f64 = 18.0;
const X_STUDY: f64 = 10.0;

/// A forest plot's columns (the right edge of each) and its axis.
struct Plot<'a> {
    f: &'a Forest,
    x_te: f64,
    x_tn: f64,
    x_ce: f64,
    x_cn: f64,
    x_w: f64,
    x_or: f64,
    plot_l: f64,
    plot_r: f64,
    /// the first RoB column's centre, and the figure's right edge
    x_rob: f64,
    right: f64,
    ax: Axis,
}

/// The width of a RoB column.
const ROB_W: f64 = 18.0;

impl<'a> Plot<'a> {
    fn new(f: &'a Forest) -> Plot<'a> {
        let studies = || f.sections.iter().flat_map(|s| s.studies.iter());
        // the study column is as wide as the longest label (about 6.3 px a character at 11 px)
        let longest = studies().map(|st| st.label.chars().count()).max();
        let longest = longest.unwrap_or(10).max(18);
        let x0 = X_STUDY + 6.0 + longest as f64 * 6.3 + 10.0;
        // the first per-arm column is as wide as its widest cell (events: 40 px; "mean (SD)" wider)
        let widest = studies()
            .flat_map(|st| [st.treat[0].chars().count(), st.ctrl[0].chars().count()])
            .max()
            .unwrap_or(0);
        let w1 = (widest as f64 * 6.3 + 12.0).max(40.0);
        let x_te = x0 + w1;
        let (x_tn, x_ce) = (x_te + 45.0, x_te + 45.0 + w1 + 15.0);
        let (x_cn, x_w) = (x_ce + 45.0, x_ce + 100.0);
        let x_or = x_w + 130.0;
        let cis = f
            .sections
            .iter()
            .flat_map(|s| {
                let pi = s.prediction.map(|(l, u)| (l, l, u));
                let studies = s.studies.iter().filter_map(|st| st.est);
                studies.chain(s.pooled).chain(pi)
            })
            .map(|(_, l, u)| (l, u));
        let plot_r = x_or + 300.0;
        let x_rob = plot_r + 24.0;
        Plot {
            f,
            x_te,
            x_tn,
            x_ce,
            x_cn,
            x_w,
            x_or,
            plot_l: x_or + 40.0,
            plot_r,
            x_rob,
            right: plot_r.max(x_rob + ROB_W * f.rob.len() as f64 - ROB_W / 2.0),
            ax: Axis::new(cis, f.log),
        }
    }

    /// The x of a value on the axis (clipped to it).
    fn xs(&self, v: f64) -> f64 {
        let ax = &self.ax;
        self.plot_l
            + (ax.t(v.max(ax.lo).min(ax.hi)) - ax.t(ax.lo)) / (ax.t(ax.hi) - ax.t(ax.lo))
                * (self.plot_r - self.plot_l)
    }

    /// The column headers; the y of the first row below them.
    fn header(&self, body: &mut String, y: f64) -> f64 {
        let f = self.f;
        text(body, X_STUDY, y, "Study or Subgroup", BOLD_L);
        text(
            body,
            (self.x_te + self.x_tn) / 2.0,
            y - 13.0,
            &f.treat,
            BOLD_C,
        );
        text(
            body,
            (self.x_ce + self.x_cn) / 2.0,
            y - 13.0,
            &f.ctrl,
            BOLD_C,
        );
        for (x, h) in [
            (self.x_te, f.columns[0].as_str()),
            (self.x_tn, f.columns[1].as_str()),
            (self.x_ce, f.columns[0].as_str()),
            (self.x_cn, f.columns[1].as_str()),
            (self.x_w, "Weight"),
        ] {
            text(body, x, y, h, BOLD_R);
        }
        let model = format!("{}, {} CI", f.model, f.level);
        let mid = (self.plot_l + self.plot_r) / 2.0;
        text(body, self.x_or, y - 13.0, &f.effect, BOLD_R);
        text(body, self.x_or, y, &model, BOLD_R);
        text(body, mid, y - 13.0, &f.effect, BOLD_C);
        text(body, mid, y, &model, BOLD_C);
        if !f.rob.is_empty() {
            let mid = self.x_rob + ROB_W * (f.rob.len() as f64 - 1.0) / 2.0;
            text(body, mid, y - 13.0, "Risk of Bias", BOLD_C);
            for (i, d) in f.rob.iter().enumerate() {
                let head = if d == "overall" { "O" } else { d.as_str() };
                text(body, self.x_rob + ROB_W * i as f64, y, head, BOLD_C);
            }
        }
        let _ = writeln!(
            body,
            r##"<line x1="{X_STUDY}" y1="{:.1}" x2="{}" y2="{:.1}" stroke="black" stroke-width="1"/>"##,
            y + 5.0,
            self.plot_r,
            y + 5.0
        );
        y + ROW_H + 4.0
    }

    /// A section: its title, studies, total rows, prediction interval and notes; the y after it.
    fn section(&self, body: &mut String, s: &ForestSection, mut y: f64) -> f64 {
        if let Some(t) = &s.title {
            text(body, X_STUDY, y, t, BOLD_L);
            y += ROW_H;
        }
        for st in &s.studies {
            self.study(body, st, y);
            y += ROW_H;
        }
        y = self.total(body, s, y);
        // the prediction interval: a row of its own, a line with end ticks (RevMan Web, meta)
        if let Some((l, u)) = s.prediction {
            self.prediction(body, l, u, y);
            y += ROW_H;
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
                text(body, X_STUDY, y, &chunk, SMALL_L);
                y += ROW_H - 3.0;
            }
        }
        y + 6.0
    }

    /// A study's row: its cells, weight, effect with CI and square.
    fn study(&self, body: &mut String, st: &ForestStudy, y: f64) {
        text(body, X_STUDY + 6.0, y, &st.label, PLAIN_L);
        text(body, self.x_te, y, &st.treat[0], PLAIN_R);
        text(body, self.x_tn, y, &st.treat[1], PLAIN_R);
        text(body, self.x_ce, y, &st.ctrl[0], PLAIN_R);
        text(body, self.x_cn, y, &st.ctrl[1], PLAIN_R);
        if let Some(w) = st.weight {
            text(body, self.x_w, y, &format!("{w:.1}%"), PLAIN_R);
        }
        self.rob(body, st, y);
        let Some((or, l, u)) = st.est else {
            let why = st.note.clone().unwrap_or_else(|| "not estimable".into());
            text(body, self.x_or, y, &why, PLAIN_R);
            return;
        };
        let est = format!("{} [{}, {}]", f2(or), f2(l), f2(u));
        text(body, self.x_or, y, &est, PLAIN_R);
        let yc = y - 4.0;
        let _ = writeln!(
            body,
            r##"<line x1="{:.1}" y1="{yc:.1}" x2="{:.1}" y2="{yc:.1}" stroke="black" stroke-width="1"/>"##,
            self.xs(l),
            self.xs(u)
        );
        let side = st.weight.map(|w| 4.0 + (w / 100.0).sqrt() * 12.0);
        let side = side.unwrap_or(5.0);
        let fill = if st.weight.is_some() {
            "#1f5fa8"
        } else {
            "#9bb3cf"
        };
        let _ = writeln!(
            body,
            r##"<rect x="{:.1}" y="{:.1}" width="{side:.1}" height="{side:.1}" fill="{fill}"/>"##,
            self.xs(or) - side / 2.0,
            yc - side / 2.0
        );
    }

    /// A study's RoB 2 judgments: a coloured circle with its sign per column.
    fn rob(&self, body: &mut String, st: &ForestStudy, y: f64) {
        for (i, j) in st.rob.iter().enumerate() {
            let (col, sym) = super::rob::rob_color(j);
            let x = self.x_rob + ROB_W * i as f64;
            let _ = writeln!(
                body,
                r##"<circle cx="{x:.1}" cy="{:.1}" r="7" fill="{col}"/>"##,
                y - 4.0
            );
            text(body, x, y, sym, BOLD_C);
        }
    }

    /// The subtotal or total row (with "Total events" under it for binary outcomes) and the
    /// pooled diamond; the y after them.
    fn total(&self, body: &mut String, s: &ForestSection, mut y: f64) -> f64 {
        let what = if s.title.is_some() {
            "Subtotal"
        } else {
            "Total"
        };
        let label = format!("{what} ({} CI)", self.f.level);
        text(body, X_STUDY, y, &label, BOLD_L);
        let events_row = s.totals.is_some_and(|t| t[0].is_some() && t[2].is_some());
        if let Some([et, nt, ec, nc]) = s.totals {
            let cell = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
            text(body, self.x_tn, y, &cell(nt), BOLD_R);
            text(body, self.x_cn, y, &cell(nc), BOLD_R);
            if events_row {
                text(body, X_STUDY + 6.0, y + ROW_H, "Total events", PLAIN_L);
                text(body, self.x_te, y + ROW_H, &cell(et), PLAIN_R);
                text(body, self.x_ce, y + ROW_H, &cell(ec), PLAIN_R);
            }
        }
        match s.pooled {
            Some((or, l, u)) => {
                let weight = format!("{:.1}%", s.weight.unwrap_or(100.0));
                text(body, self.x_w, y, &weight, BOLD_R);
                let est = format!("{} [{}, {}]", f2(or), f2(l), f2(u));
                text(body, self.x_or, y, &est, BOLD_R);
                let yc = y - 4.0;
                let _ = writeln!(
                    body,
                    r##"<polygon points="{:.1},{yc:.1} {:.1},{:.1} {:.1},{yc:.1} {:.1},{:.1}" fill="black"/>"##,
                    self.xs(l),
                    self.xs(or),
                    yc - 6.0,
                    self.xs(u),
                    self.xs(or),
                    yc + 6.0
                );
            }
            None => text(body, self.x_or, y, "not pooled", BOLD_R),
        }
        y += ROW_H;
        if events_row {
            y += ROW_H;
        }
        y
    }

    /// The prediction interval's row: a line with end ticks.
    fn prediction(&self, body: &mut String, l: f64, u: f64, y: f64) {
        text(body, X_STUDY, y, "Prediction interval", PLAIN_L);
        let ci = format!("[{}, {}]", f2(l), f2(u));
        text(body, self.x_or, y, &ci, PLAIN_R);
        let yc = y - 4.0;
        let (xl, xu) = (self.xs(l), self.xs(u));
        let _ = writeln!(
            body,
            r##"<path d="M{xl:.1},{:.1} V{:.1} M{xl:.1},{yc:.1} H{xu:.1} M{xu:.1},{:.1} V{:.1}" stroke="black" stroke-width="1.5" fill="none"/>"##,
            yc - 4.0,
            yc + 4.0,
            yc - 4.0,
            yc + 4.0
        );
    }

    /// The null line, the axis with its ticks and the "favours" labels; the figure's height.
    fn axis(&self, body: &mut String, plot_top: f64, axis_y: f64) -> f64 {
        let (plot_l, plot_r) = (self.plot_l, self.plot_r);
        let null = self.xs(self.ax.null());
        let _ = writeln!(
            body,
            r##"<line x1="{null}" y1="{plot_top:.1}" x2="{null}" y2="{axis_y:.1}" stroke="black" stroke-width="1"/>"##
        );
        let _ = writeln!(
            body,
            r##"<line x1="{plot_l}" y1="{axis_y:.1}" x2="{plot_r}" y2="{axis_y:.1}" stroke="black" stroke-width="1"/>"##
        );
        for (tick, lab) in self.ax.ticks() {
            let x = self.xs(tick);
            let _ = writeln!(
                body,
                r##"<line x1="{x:.1}" y1="{axis_y:.1}" x2="{x:.1}" y2="{:.1}" stroke="black"/>"##,
                axis_y + 4.0
            );
            text(body, x, axis_y + 16.0, &lab, SMALL_C);
        }
        let favours = &self.f.favours;
        text(
            body,
            (plot_l + null) / 2.0,
            axis_y + 30.0,
            &favours.0,
            SMALL_C,
        );
        text(
            body,
            (null + plot_r) / 2.0,
            axis_y + 30.0,
            &favours.1,
            SMALL_C,
        );
        axis_y + 44.0
    }
}
