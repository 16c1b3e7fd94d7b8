//! The PRISMA 2020 flow diagram (new and updated reviews).

use super::*;
use std::fmt::Write;

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

pub(crate) fn boxed(out: &mut String, x: f64, y: f64, w: f64, lines: &[String]) -> f64 {
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

pub(crate) fn arrow(out: &mut String, x1: f64, y1: f64, x2: f64, y2: f64) {
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
