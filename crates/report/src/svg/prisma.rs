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
    /// reports sought for retrieval, and those not retrieved
    pub sought: i64,
    pub not_retrieved: i64,
    /// reports assessed for eligibility
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
            Style(11.0, "start", if i == 0 { "bold" } else { "normal" }),
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
    let title = if c.update.is_some() {
        "PRISMA 2020 flow diagram for updated systematic reviews"
    } else {
        "PRISMA 2020 flow diagram"
    };
    text(&mut b, 10.0, 20.0, title, TITLE);
    // an updated review has a column for the previous version's studies on the left
    let shift = if c.update.is_some() { 250.0 } else { 0.0 };
    let top = if c.update.is_some() { 70.0 } else { 40.0 };
    let flow = Flow {
        lx: 120.0 + shift,
        rx: 470.0 + shift,
        w: 300.0,
    };
    if c.update.is_some() {
        let heading = Style(12.0, "start", "bold");
        text(&mut b, 120.0, 56.0, "Previous studies", heading);
        let new = "Identification of new studies via databases and registers";
        text(&mut b, flow.lx, 56.0, new, heading);
    }
    let y5 = flow.records(&mut b, c, top);
    phase(&mut b, y5, "Included");
    let bottom = match &c.update {
        None => {
            let included = format!("Studies included in review (n = {})", c.included);
            y5 + boxed(&mut b, flow.lx, y5, flow.w, &[included])
        }
        Some(u) => flow.updated(&mut b, c, u, top, y5),
    };
    let height = bottom + 20.0;
    let width = 790.0 + shift;
    format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{b}</svg>\n")
}

/// A phase's label on the left margin.
fn phase(b: &mut String, y: f64, label: &str) {
    let _ = writeln!(
        b,
        r##"<rect x="10" y="{y}" width="90" height="24" fill="#cfe2f3" stroke="black"/>"##
    );
    text(b, 55.0, y + 16.0, label, BOLD_C);
}

/// The flow's two columns: the records' boxes at `lx`, the removed and excluded at `rx`.
struct Flow {
    lx: f64,
    rx: f64,
    w: f64,
}

impl Flow {
    /// A box of the flow at `y` and the box beside it, joined by an arrow; the flow box's height
    /// and the side box's. `level`: the arrow at the middle of the flow box (else between the
    /// two middles).
    fn step(
        &self,
        b: &mut String,
        y: f64,
        main: &[String],
        side: &[String],
        level: bool,
    ) -> (f64, f64) {
        let h = boxed(b, self.lx, y, self.w, main);
        let hs = boxed(b, self.rx, y, self.w, side);
        let ys = if level { y + h / 2.0 } else { y + hs / 2.0 };
        arrow(b, self.lx + self.w, y + h / 2.0, self.rx, ys);
        (h, hs)
    }

    /// The arrow down the flow from `y` to `y2`.
    fn down(&self, b: &mut String, y: f64, y2: f64) {
        arrow(b, self.lx + self.w / 2.0, y, self.lx + self.w / 2.0, y2);
    }

    /// Identification and screening, from records identified to reports assessed; the y of the
    /// included boxes.
    fn records(&self, b: &mut String, c: &PrismaCounts, top: f64) -> f64 {
        phase(b, top, "Identification");
        let mut lines = vec![format!("Records identified (n = {})", c.identified)];
        let databases = c.per_database.iter();
        lines.extend(databases.map(|(d, n)| format!("  {d} (n = {n})")));
        let removed = [
            "Records removed before screening".into(),
            format!("  Duplicate records (n = {})", c.duplicates),
        ];
        let h1 = boxed(b, self.lx, top, self.w, &lines);
        let hdup = boxed(b, self.rx, top, self.w, &removed);
        arrow(
            b,
            self.lx + self.w,
            top + hdup / 2.0,
            self.rx,
            top + hdup / 2.0,
        );
        let y2 = top + h1 + 40.0;
        self.down(b, top + h1, y2);
        phase(b, y2, "Screening");
        let mut screened = vec![format!("Records screened (n = {})", c.screened)];
        if c.awaiting > 0 {
            screened.push(format!("Records awaiting screening (n = {})", c.awaiting));
        }
        let excluded = [format!("Records excluded (n = {})", c.excluded_ta)];
        let (h2, _) = self.step(b, y2, &screened, &excluded, false);
        let y3 = y2 + h2 + 40.0;
        self.down(b, y2 + h2, y3);
        let sought = [format!("Reports sought for retrieval (n = {})", c.sought)];
        let not_retrieved = [format!("Reports not retrieved (n = {})", c.not_retrieved)];
        let (h3, _) = self.step(b, y3, &sought, &not_retrieved, false);
        let y4 = y3 + h3 + 40.0;
        self.down(b, y3 + h3, y4);
        let assessed = [format!(
            "Reports assessed for eligibility (n = {})",
            c.full_text
        )];
        let mut ex = vec![format!("Reports excluded (n = {})", c.excluded_ft)];
        for (r, n) in &c.reasons {
            for (i, chunk) in wrap(&format!("{r} (n = {n})"), 44).into_iter().enumerate() {
                ex.push(format!("{}{chunk}", if i == 0 { "  • " } else { "    " }));
            }
        }
        let (h4, he) = self.step(b, y4, &assessed, &ex, true);
        let y5 = (y4 + h4 + 40.0).max(y4 + he + 20.0);
        self.down(b, y4 + h4, y5);
        y5
    }

    /// An updated review's included boxes: the previous version's, the new and the totals; the
    /// bottom of the diagram.
    fn updated(
        &self,
        b: &mut String,
        c: &PrismaCounts,
        u: &PrismaUpdate,
        top: f64,
        y5: f64,
    ) -> f64 {
        let pw = 220.0;
        let previous = [
            "Studies included in previous".into(),
            format!("version of review (n = {})", u.previous_studies),
            "Reports of studies included in".into(),
            format!("previous version (n = {})", u.previous_reports),
        ];
        let hp = boxed(b, 120.0, top, pw, &previous);
        let new = [
            format!("New studies included in review (n = {})", c.included),
            format!("Reports of new included studies (n = {})", u.new_reports),
        ];
        let h5 = boxed(b, self.lx, y5, self.w, &new);
        let y6 = y5 + h5 + 40.0;
        let total = [
            format!("Total studies included in review (n = {})", u.total_studies),
            format!(
                "Reports of total included studies (n = {})",
                u.total_reports
            ),
        ];
        let h6 = boxed(b, 120.0, y6, pw + self.w + 130.0, &total);
        arrow(b, 120.0 + pw / 2.0, top + hp, 120.0 + pw / 2.0, y6);
        self.down(b, y5 + h5, y6);
        y6 + h6
    }
}
