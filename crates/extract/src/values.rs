//! An outcome-sheet row's numbers (`Values`: read, converted, checked) and a parsed row
//! (`Parsed`) as the outcome sheet's reader and the multi-arm merge share them.

use crate::{OutcomeKind, Spec};
use metapipe_tables::sheet::Row;
use metapipe_tables::{f, i, s, so, Result};

/// One parsed row of the outcome sheet.
pub(crate) struct Parsed {
    pub line: usize,
    pub arm: Option<String>,
    pub status: String,
    pub source: Option<String>,
    pub timepoint: Option<String>,
    pub evidence: Option<String>,
    pub derivation: Option<String>,
    pub v: Values,
}

impl Parsed {
    /// The `outcome_data` row of (study, outcome) `key`.
    pub(crate) fn cells(&self, key: &(String, String)) -> Vec<metapipe_tables::Cell> {
        let v = &self.v;
        vec![
            s(&key.0),
            s(&key.1),
            i(v.et),
            i(v.nt),
            i(v.ec),
            i(v.nc),
            s(&self.status),
            so(self.source.clone()),
            so(self.timepoint.clone()),
            so(self.evidence.clone()),
            f(v.mt),
            f(v.sdt),
            f(v.mc),
            f(v.sdc),
            f(v.est),
            f(v.se),
            f(v.lb),
            f(v.ub),
            i(v.events),
            i(v.n),
            f(v.time),
            f(v.tt),
            f(v.tc),
            f(v.r),
            f(v.oe),
            f(v.v),
            f(v.md),
            f(v.md_se),
            f(v.est_p),
            so(self.derivation.clone()),
        ]
    }
}

/// The numbers of an outcome row (binary denominators default to the study's arm sizes).
pub(crate) struct Values {
    pub(crate) et: Option<i64>,
    pub(crate) nt: Option<i64>,
    pub(crate) ec: Option<i64>,
    pub(crate) nc: Option<i64>,
    pub(crate) mt: Option<f64>,
    pub(crate) sdt: Option<f64>,
    pub(crate) mc: Option<f64>,
    pub(crate) sdc: Option<f64>,
    pub(crate) est: Option<f64>,
    pub(crate) se: Option<f64>,
    pub(crate) lb: Option<f64>,
    pub(crate) ub: Option<f64>,
    pub(crate) events: Option<i64>,
    pub(crate) n: Option<i64>,
    pub(crate) time: Option<f64>,
    pub(crate) tt: Option<f64>,
    pub(crate) tc: Option<f64>,
    pub(crate) r: Option<f64>,
    pub(crate) oe: Option<f64>,
    pub(crate) v: Option<f64>,
    /// a study's mean difference and its SE (continuous outcomes without arm data)
    pub(crate) md: Option<f64>,
    pub(crate) md_se: Option<f64>,
    /// a generic estimate's two-sided p-value
    pub(crate) est_p: Option<f64>,
}

impl Values {
    /// No numbers at all.
    pub(crate) fn empty() -> Values {
        Values {
            et: None,
            nt: None,
            ec: None,
            nc: None,
            mt: None,
            sdt: None,
            mc: None,
            sdc: None,
            est: None,
            se: None,
            lb: None,
            ub: None,
            events: None,
            n: None,
            time: None,
            tt: None,
            tc: None,
            r: None,
            oe: None,
            v: None,
            md: None,
            md_se: None,
            est_p: None,
        }
    }

    pub(crate) fn read(r: &Row, n_treat: Option<i64>, n_ctrl: Option<i64>) -> Result<Values> {
        Ok(Values {
            nt: r.count("n_treat")?.or(n_treat),
            nc: r.count("n_ctrl")?.or(n_ctrl),
            et: r.count("events_treat")?,
            ec: r.count("events_ctrl")?,
            mt: r.number("mean_treat")?,
            sdt: r.number("sd_treat")?,
            mc: r.number("mean_ctrl")?,
            sdc: r.number("sd_ctrl")?,
            est: r.number("estimate")?,
            se: r.number("se")?,
            lb: r.number("ci_lb")?,
            ub: r.number("ci_ub")?,
            events: r.count("events")?,
            n: r.count("n")?,
            time: r.number("time")?,
            tt: r.number("time_treat")?,
            tc: r.number("time_ctrl")?,
            r: r.number("r")?,
            oe: r.number("o_minus_e")?,
            v: r.number("v")?,
            md: r.number("md")?,
            md_se: r.number("md_se")?,
            est_p: r.number("estimate_p")?,
        })
    }

    /// Means, SDs and events the row leaves empty, from the statistics it reports
    /// ([`crate::derive`]); how, when any was derived.
    /// Then, for a cluster-randomised trial, the effective sizes ([`crate::derive::cluster`],
    /// after the conversions, which use the real sizes).
    pub(crate) fn derive(&mut self, r: &Row, spec: &Spec) -> Result<Option<String>> {
        let m = spec.conversions;
        let mut notes = crate::derive::derive(
            r,
            crate::derive::Arm {
                suffix: "treat",
                n: self.nt,
                mean: &mut self.mt,
                sd: &mut self.sdt,
                events: &mut self.et,
            },
            m,
        )?;
        notes.extend(crate::derive::derive(
            r,
            crate::derive::Arm {
                suffix: "ctrl",
                n: self.nc,
                mean: &mut self.mc,
                sd: &mut self.sdc,
                events: &mut self.ec,
            },
            m,
        )?);
        // crossover trials: the paired difference, used before the periods' means
        if self.md_se.is_none() {
            let arms = [self.mt, self.sdt, self.mc, self.sdc];
            if let Some((md, se, note)) = crate::derive::crossover(r, self.md, arms, self.nt)? {
                (self.md, self.md_se) = (Some(md), Some(se));
                notes.push(note);
            }
        }
        if let (Some(md), None) = (self.md, self.md_se) {
            notes.extend(
                crate::derive::md_se(r, md, self.nt, self.nc)?.map(|(se, note)| {
                    self.md_se = Some(se);
                    note
                }),
            );
        }
        let icc = spec.icc.as_ref().map(|(i, s)| (*i, s.as_str()));
        let counts = [
            ("events_treat", &mut self.et),
            ("n_treat", &mut self.nt),
            ("events_ctrl", &mut self.ec),
            ("n_ctrl", &mut self.nc),
        ];
        notes.extend(crate::derive::cluster(r, icc, counts)?);
        if let (Some(est), Some(p), None, None) = (self.est, self.est_p, self.se, self.lb) {
            let log = r
                .get("outcome")
                .is_some_and(|o| spec.log_outcomes.iter().any(|l| l == o));
            let (se, note) = crate::derive::se_from_p(r, est, p, log)?;
            self.se = Some(se);
            notes.push(note);
        }
        notes.extend(crate::derive::split_ctrl(
            r,
            [("events_ctrl", &mut self.ec), ("n_ctrl", &mut self.nc)],
        )?);
        Ok((!notes.is_empty()).then(|| notes.join("; ")))
    }

    /// Whether the cell of `outcome_data` column `c` has a value.
    fn has(&self, c: &str) -> bool {
        match c {
            "events_treat" => self.et.is_some(),
            "n_treat" => self.nt.is_some(),
            "events_ctrl" => self.ec.is_some(),
            "n_ctrl" => self.nc.is_some(),
            "mean_treat" => self.mt.is_some(),
            "sd_treat" => self.sdt.is_some(),
            "mean_ctrl" => self.mc.is_some(),
            "sd_ctrl" => self.sdc.is_some(),
            "estimate" => self.est.is_some(),
            "se" => self.se.is_some(),
            "ci_lb" => self.lb.is_some(),
            "ci_ub" => self.ub.is_some(),
            "events" => self.events.is_some(),
            "n" => self.n.is_some(),
            "time" => self.time.is_some(),
            "time_treat" => self.tt.is_some(),
            "time_ctrl" => self.tc.is_some(),
            "r" => self.r.is_some(),
            "o_minus_e" => self.oe.is_some(),
            "md" => self.md.is_some(),
            "md_se" => self.md_se.is_some(),
            "v" => self.v.is_some(),
            _ => false,
        }
    }

    /// Whether the row gives any of its outcome type's data, the first cell it needs and leaves
    /// empty, and what the type needs.
    pub(crate) fn needs(&self, kind: OutcomeKind) -> (bool, Option<&'static str>, &'static str) {
        let cols = kind.columns();
        let lacking = |cs: &[&'static str]| cs.iter().copied().find(|c| !self.has(c));
        // the data a row gives: the type's own cells, not its sizes (arm sizes default to the
        // studies'; a size or person-time alone states no result)
        let own = |c: &str| {
            !matches!(
                c,
                "n_treat" | "n_ctrl" | "n" | "time" | "time_treat" | "time_ctrl"
            )
        };
        let given = cols.iter().any(|c| own(c) && self.has(c));
        // a continuous row may give the study's mean difference with its SE instead of arm data
        let arm_complete = lacking(cols).is_none();
        if kind == OutcomeKind::Continuous && self.md.is_some() && !arm_complete {
            return (
                true,
                lacking(&["md_se"]),
                "mean, SD and n per arm, or the mean difference md with md_se (or its CI, t or p)",
            );
        }
        match kind {
            OutcomeKind::Generic => (
                ["estimate", "se", "ci_lb", "ci_ub"]
                    .iter()
                    .any(|c| self.has(c)),
                lacking(&["estimate"]).or_else(|| {
                    (!(self.has("se") || (self.has("ci_lb") && self.has("ci_ub")))).then_some("se")
                }),
                "an estimate with its se, or with ci_lb and ci_ub",
            ),
            _ => (
                given,
                lacking(cols),
                match kind {
                    OutcomeKind::Binary => "events and totals per arm",
                    OutcomeKind::Continuous => "mean, SD and n per arm",
                    OutcomeKind::Proportion => "events and n (one group)",
                    OutcomeKind::Rate => "events and person-time (one group)",
                    OutcomeKind::RatePair => "events and person-time per arm",
                    OutcomeKind::Correlation => "r and n",
                    _ => "o_minus_e and v",
                },
            ),
        }
    }

    /// Events within totals, positive SDs and SEs, an estimate within its CI.
    pub(crate) fn check(&self, r: &Row) -> Result<()> {
        if let (Some(e), Some(n)) = (self.et, self.nt) {
            if e > n {
                return Err(r.err("events_treat", format!("{e} events > n_treat {n}")));
            }
        }
        if let (Some(e), Some(n)) = (self.ec, self.nc) {
            if e > n {
                return Err(r.err("events_ctrl", format!("{e} events > n_ctrl {n}")));
            }
        }
        for (name, v) in [
            ("sd_treat", self.sdt),
            ("sd_ctrl", self.sdc),
            ("se", self.se),
        ] {
            if v.is_some_and(|x| x < 0.0 || (name == "se" && x == 0.0)) {
                return Err(r.err(name, format!("{} must be > 0", v.unwrap_or_default())));
            }
        }
        if let (Some(e), Some(n)) = (self.events, self.n) {
            if e > n {
                return Err(r.err("events", format!("{e} events > n {n}")));
            }
        }
        for (name, v) in [
            ("time", self.time),
            ("time_treat", self.tt),
            ("time_ctrl", self.tc),
            ("v", self.v),
        ] {
            if v.is_some_and(|x| x <= 0.0) {
                return Err(r.err(name, format!("{} must be > 0", v.unwrap_or_default())));
            }
        }
        if let Some(x) = self.r.filter(|x| !(-1.0 < *x && *x < 1.0)) {
            return Err(r.err("r", format!("{x}: a correlation must be within (-1, 1)")));
        }
        if let (Some(e), Some(l), Some(u)) = (self.est, self.lb, self.ub) {
            if !(l <= e && e <= u) {
                return Err(r.err(
                    "ci_lb",
                    format!("the interval {l} to {u} does not contain the estimate {e}"),
                ));
            }
        }
        Ok(())
    }
}
