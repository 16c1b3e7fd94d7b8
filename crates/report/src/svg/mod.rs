//! SVG figures drawn from the stage tables: RevMan-style forest plots, funnel plots, the PRISMA
//! 2020 flow diagram, and RoB 2 traffic-light and summary plots in the robvis style. Nothing here
//! computes a statistic: every number comes from `results`, `per_study_effects`, `prisma`,
//! `rob_judgments` as the earlier stages wrote them.

use std::fmt::Write;

mod axis;
mod forest;
mod funnel;
mod prisma;
mod rob;

pub(crate) use axis::*;
pub use forest::*;
pub use funnel::*;
pub use prisma::*;
pub use rob::*;

/// XML-escape text.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) fn f2(x: f64) -> String {
    format!("{x:.2}")
}

pub(crate) const FONT: &str = "font-family=\"Helvetica, Arial, sans-serif\"";

/// A text element's font size, anchor and weight.
#[derive(Clone, Copy)]
pub(crate) struct Style(pub f64, pub &'static str, pub &'static str);

pub(crate) const TITLE: Style = Style(14.0, "start", "bold");
pub(crate) const BOLD_L: Style = Style(11.0, "start", "bold");
pub(crate) const BOLD_R: Style = Style(11.0, "end", "bold");
pub(crate) const BOLD_C: Style = Style(11.0, "middle", "bold");
pub(crate) const PLAIN_L: Style = Style(11.0, "start", "normal");
pub(crate) const PLAIN_R: Style = Style(11.0, "end", "normal");
pub(crate) const PLAIN_C: Style = Style(11.0, "middle", "normal");
pub(crate) const SMALL_L: Style = Style(10.0, "start", "normal");
pub(crate) const SMALL_R: Style = Style(10.0, "end", "normal");
pub(crate) const SMALL_C: Style = Style(10.0, "middle", "normal");

pub(crate) fn text(out: &mut String, x: f64, y: f64, s: &str, Style(size, anchor, weight): Style) {
    let _ = writeln!(
        out,
        r##"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" {FONT}>{}</text>"##,
        esc(s)
    );
}
