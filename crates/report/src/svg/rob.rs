//! RoB 2 traffic-light and summary plots.

use super::*;
use std::fmt::Write;

pub(crate) fn rob_color(j: &str) -> (&'static str, &'static str) {
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
        TITLE,
    );
    for (i, c) in cols.iter().enumerate() {
        text(&mut b, x0 + cw * i as f64, y0 - 18.0, c, BOLD_C);
    }
    for (r, (study, js)) in studies.iter().enumerate() {
        let y = y0 + rh * r as f64;
        text(&mut b, 10.0, y + 4.0, study, PLAIN_L);
        for (i, j) in js.iter().enumerate() {
            let (col, sym) = rob_color(j);
            let x = x0 + cw * i as f64;
            let _ = writeln!(
                b,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="12" fill="{col}" stroke="black" stroke-width="0.5"><title>{}: {}</title></circle>"##,
                cols[i],
                esc(j)
            );
            text(&mut b, x, y + 4.0, sym, Style(13.0, "middle", "bold"));
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
        text(&mut b, 10.0, y + 14.0 * i as f64, l, SMALL_L);
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
        text(&mut b, x, y + 6.0, sym, Style(10.0, "middle", "bold"));
        text(&mut b, x + 12.0, y + 6.0, lab, SMALL_L);
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
        TITLE,
    );
    for (r, (d, p)) in domains.iter().enumerate() {
        let y = y0 + rh * r as f64;
        text(&mut b, x0 - 8.0, y + 14.0, d, PLAIN_R);
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
                        SMALL_C,
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
        text(&mut b, x + 20.0, y + 11.0, lab, SMALL_L);
    }
    let h = y + 30.0;
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"{h:.0}\" viewBox=\"0 0 760 {h:.0}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{b}</svg>\n")
}
