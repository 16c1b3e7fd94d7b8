//! The forest plot, in the RevMan 5 layout.

use super::*;
use std::fmt::Write;

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
