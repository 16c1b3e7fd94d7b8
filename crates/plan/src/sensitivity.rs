//! Sensitivity and small-study analyses of an outcome's overall analysis, as the protocol asks
//! for them. Leave-one-out, cumulative and excluding studies at high risk of bias refit the
//! outcome's own models (its measure, convention, model choice) on the subset and report the
//! model the outcome reports last (the random-effects one when it reports both); Egger's test,
//! trim-and-fill and meta-regression are inverse-variance analyses of the per-study effects
//! (metafor's `regtest`, `trimfill`, `rma(mods = ~ x)`).

use crate::fit::{models, Model};
use crate::{Analysis, OutcomePlan};
use metapipe_meta::extras::{egger, harbord, regtest_lm, trimfill};
use metapipe_meta::model::Method;
use metapipe_tables::schema::SENSITIVITY;
use metapipe_tables::{f, i, s, Builder, Error, Result, Table};

mod metareg;
pub use metareg::model_terms;

/// What a protocol asks for beyond the main analysis.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sensitivity {
    pub leave_one_out: bool,
    /// a studies column to order a cumulative meta-analysis by (e.g. year)
    pub cumulative_by: Option<String>,
    pub exclude_high_rob: bool,
    /// a test for funnel-plot asymmetry (k >= 10) and trim-and-fill
    pub small_study: bool,
    /// which test
    pub small_study_test: SmallStudyTest,
    /// meta-regression models, each covariates joined by `+`
    pub metaregression: Vec<String>,
}

/// The test for funnel-plot asymmetry (`small_study_test`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SmallStudyTest {
    /// Egger's classical test: metafor `regtest(model = "lm", predictor = "sei")`
    #[default]
    Egger,
    /// the τ²-based test: metafor `regtest(model = "rma", predictor = "sei")` (z test)
    EggerRma,
    /// metafor `regtest(model = "lm", predictor = "ninv")`: effects on 1/n (2x2 or continuous
    /// data)
    Peters,
    /// Harbord's score test (odds ratios from 2x2 counts)
    Harbord,
}

impl SmallStudyTest {
    /// The values `small_study_test` takes.
    pub const NAMES: &'static str = "egger, egger_rma, peters or harbord";

    pub fn parse(s: &str) -> Option<SmallStudyTest> {
        Some(match s {
            "egger" => SmallStudyTest::Egger,
            "egger_rma" => SmallStudyTest::EggerRma,
            "peters" => SmallStudyTest::Peters,
            "harbord" => SmallStudyTest::Harbord,
            _ => return None,
        })
    }

    /// Its name in the config and in the sensitivity table's `analysis` column.
    pub fn name(self) -> &'static str {
        match self {
            SmallStudyTest::Egger => "egger",
            SmallStudyTest::EggerRma => "egger_rma",
            SmallStudyTest::Peters => "peters",
            SmallStudyTest::Harbord => "harbord",
        }
    }

    fn title(self) -> &'static str {
        match self {
            SmallStudyTest::Egger => "Egger's test",
            SmallStudyTest::EggerRma => "Egger's test (tau2-based)",
            SmallStudyTest::Peters => "the 1/n regression test",
            SmallStudyTest::Harbord => "Harbord's test",
        }
    }
}

impl Sensitivity {
    pub fn any(&self) -> bool {
        self.leave_one_out
            || self.cumulative_by.is_some()
            || self.exclude_high_rob
            || self.small_study
            || !self.metaregression.is_empty()
    }
}

struct Rows {
    t: Builder,
}

impl Rows {
    fn fit(&mut self, a: &Analysis, analysis: &str, step: String, m: Option<&Model>, note: String) {
        // (the double arcsine's back-transform with the sizes of all the analysis's studies)
        let back = a.back();
        let fit = m.map(|m| &m.fit);
        self.t.row(vec![
            s(&a.outcome),
            s(analysis),
            s(step),
            i(fit.map(|f| f.k as i64)),
            f(fit.map(|f| back(f.estimate))),
            f(fit.map(|f| back(f.ci_lb))),
            f(fit.map(|f| back(f.ci_ub))),
            f(fit.map(|f| f.p)),
            f(fit.map(|f| f.i2)),
            f(fit.map(|f| f.tau2)),
            s("natural"),
            s(note),
        ]);
    }
    fn note(&mut self, a: &Analysis, analysis: &str, note: String) {
        self.fit(a, analysis, String::new(), None, note);
    }
}

/// The outcome's models refitted on the studies `keep` selects; the last model reported.
fn refit(a: &Analysis, keep: &[bool]) -> (Option<Model>, String) {
    let rows: Vec<_> = a
        .per_study
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(r, _)| r.0.clone())
        .collect();
    let eff: Vec<_> = a
        .per_study
        .iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(r, _)| r.1)
        .collect();
    match models(&a.spec, &rows, &eff) {
        Ok(mut m) => (m.pop(), String::new()),
        Err(e) => (None, format!("not estimable: {e}")),
    }
}

/// The τ² method of the inverse-variance analyses: the outcome's random-effects method when it
/// reports one, else the fixed (inverse-variance) model.
pub(crate) fn iv_method(a: &Analysis) -> Method {
    match a.models.last() {
        // a GLMM outcome's analyses of per-study effects use ML (Method::iv)
        Some(m) if m.kind == "random" => a.spec.random.iv(),
        _ => Method::FE,
    }
}

/// The sensitivity table of every outcome whose plan asks for any.
pub fn sensitivity_table(
    plans: &[OutcomePlan],
    analyses: &[Analysis],
    studies: &Table,
    rob: Option<&Table>,
) -> Result<Table> {
    let mut out = Rows {
        t: Builder::new(&SENSITIVITY),
    };
    for p in plans.iter().filter(|p| p.sensitivity.any()) {
        let Some(a) = analyses
            .iter()
            .find(|a| a.outcome == p.id && a.subgroup.is_none())
        else {
            continue;
        };
        let sv = &p.sensitivity;
        if a.models.is_empty() {
            let why = a.note.clone();
            let why = why.unwrap_or_else(|| "the outcome is not pooled".into());
            out.note(a, "leave_one_out", format!("not run: {why}"));
            continue;
        }
        if sv.leave_one_out {
            out.leave_one_out(a);
        }
        if let Some(by) = &sv.cumulative_by {
            out.cumulative(a, studies, by)?;
        }
        if sv.exclude_high_rob {
            out.exclude_high_rob(a, rob);
        }
        if sv.small_study {
            out.small_study(a, sv.small_study_test);
        }
        for c in &sv.metaregression {
            out.metaregression(a, studies, c)?;
        }
    }
    out.t.finish()
}

/// The study ids of an analysis, in its order.
fn study_ids(a: &Analysis) -> Vec<&str> {
    a.per_study.iter().map(|r| r.0.study_id.as_str()).collect()
}

/// The per-study effects and variances of the studies that have one.
fn effects(a: &Analysis) -> (Vec<f64>, Vec<f64>) {
    a.per_study.iter().filter_map(|r| r.1).unzip()
}

impl Rows {
    /// The analysis refitted without each study in turn.
    fn leave_one_out(&mut self, a: &Analysis) {
        let out = self;
        let ids = study_ids(a);
        let n = ids.len();
        for k in 0..n {
            let keep: Vec<bool> = (0..n).map(|j| j != k).collect();
            let (m, note) = refit(a, &keep);
            out.fit(
                a,
                "leave_one_out",
                format!("omitting {}", ids[k]),
                m.as_ref(),
                note,
            );
        }
    }

    /// The analysis refitted as the studies are added in the order of a column.
    fn cumulative(&mut self, a: &Analysis, studies: &Table, by: &str) -> Result<()> {
        let out = self;
        let ids = study_ids(a);
        let n = ids.len();
        let x = studies.df.column(by).map_err(|_| {
            Error::data(format!(
                "cumulative_by: the studies table has no column {by:?}"
            ))
            .field("outcomes.cumulative_by")
        })?;
        let key: Vec<Option<String>> = ids
            .iter()
            .map(|id| {
                studies
                    .str("study_id")
                    .iter()
                    .position(|s| s == Some(*id))
                    .and_then(|r| x.get(r).ok())
                    .filter(|v| !v.is_null())
                    .map(|v| v.to_string().trim_matches('"').to_string())
            })
            .collect();
        let num: Vec<Option<f64>> = key
            .iter()
            .map(|k| k.as_ref().and_then(|v| v.parse().ok()))
            .collect();
        // whole numbers shown as such (a year is 1948, not 1948.0)
        let key: Vec<Option<String>> = key
            .into_iter()
            .zip(&num)
            .map(|(k, x)| match x {
                Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => Some(format!("{}", *x as i64)),
                _ => k,
            })
            .collect();
        let mut order: Vec<usize> = (0..n).collect();
        // ascending by the column (numbers as numbers), missing last, ties in plan order
        order.sort_by(|&i, &j| match (num[i], num[j]) {
            (Some(a), Some(b)) => a.total_cmp(&b),
            _ => (key[i].is_none(), &key[i]).cmp(&(key[j].is_none(), &key[j])),
        });
        for (step, _) in order.iter().enumerate() {
            let mut keep = vec![false; n];
            for &o in &order[..=step] {
                keep[o] = true;
            }
            let (m, note) = refit(a, &keep);
            let added = order[step];
            out.fit(
                a,
                "cumulative",
                format!(
                    "adding {} ({by} = {})",
                    ids[added],
                    key[added].as_deref().unwrap_or("missing")
                ),
                m.as_ref(),
                note,
            );
        }
        Ok(())
    }

    /// The analysis refitted without the studies at high overall risk of bias.
    fn exclude_high_rob(&mut self, a: &Analysis, rob: Option<&Table>) {
        let out = self;
        let ids = study_ids(a);
        match rob {
            None => out.note(
                a,
                "exclude_high_rob",
                "not run: the review has no risk-of-bias assessments ([rob])".into(),
            ),
            Some(rob) => {
                // the judgment of this outcome's result where the answers give one
                let overall = crate::rob::rob_overall(rob, Some(&a.outcome));
                let high: Vec<&str> = overall
                    .iter()
                    .filter(|(_, j)| j.as_str() == "high")
                    .map(|(id, _)| id.as_str())
                    .collect();
                let keep: Vec<bool> = ids.iter().map(|id| !high.contains(id)).collect();
                let dropped: Vec<&str> = ids
                    .iter()
                    .zip(&keep)
                    .filter(|(_, k)| !**k)
                    .map(|(id, _)| *id)
                    .collect();
                if dropped.is_empty() {
                    out.note(
                        a,
                        "exclude_high_rob",
                        "no study of this analysis is at high overall risk of bias".into(),
                    );
                } else {
                    let (m, note) = refit(a, &keep);
                    out.fit(
                        a,
                        "exclude_high_rob",
                        format!("excluding {}", dropped.join(", ")),
                        m.as_ref(),
                        note,
                    );
                }
            }
        }
    }

    /// The test for funnel-plot asymmetry and trim-and-fill, under the k >= 10 gate.
    fn small_study(&mut self, a: &Analysis, test: SmallStudyTest) {
        let out = self;
        let (yi, vi) = effects(a);
        let method = iv_method(a);
        let opts = a.spec.opts;
        if yi.len() < 10 {
            let why = format!(
                "not run: {} needs at least 10 studies (k = {})",
                test.title(),
                yi.len()
            );
            out.note(a, test.name(), why);
        } else {
            match asymmetry(a, test, &yi, &vi) {
                Ok(row) => out.t.row(row),
                Err(why) => out.note(a, test.name(), why),
            }
        }
        // trim-and-fill under the small-study tests' gate (Cochrane Handbook chapter 13, tests for funnel-plot asymmetry: too few
        // studies to tell asymmetry from chance below 10)
        let tf = if yi.len() < 10 {
            Err(format!(
                "not run: trim-and-fill needs at least 10 studies (k = {})",
                yi.len()
            ))
        } else {
            trimfill(&yi, &vi, method, &opts).map_err(|e| format!("not estimable: {e}"))
        };
        match tf {
            Ok(tf) => {
                let m = Model {
                    kind: if method == Method::FE {
                        "fixed"
                    } else {
                        "random"
                    },
                    label: String::new(),
                    fit: tf.fit,
                };
                let mh =
                    if matches!(a.spec.fixed, Method::MH | Method::Peto) && method == Method::FE {
                        "; inverse-variance model (trim-and-fill has no MH form)"
                    } else {
                        ""
                    };
                out.fit(
                    a,
                    "trimfill",
                    format!("{} studies filled on the {} side", tf.k0, tf.side),
                    Some(&m),
                    format!("Duval & Tweedie L0, {}{mh}", method.name()),
                );
            }
            Err(why) => out.note(a, "trimfill", why),
        }
    }
}

/// The sensitivity row of a test for funnel-plot asymmetry, or why there is none.
fn asymmetry(
    a: &Analysis,
    test: SmallStudyTest,
    yi: &[f64],
    vi: &[f64],
) -> std::result::Result<Vec<metapipe_tables::Cell>, String> {
    let back = a.back();
    let row = |k: usize, step: &str, estimate: Option<f64>, p: f64, note: String| {
        vec![
            s(&a.outcome),
            s(test.name()),
            s(step),
            i(k as i64),
            f(estimate),
            f(None),
            f(None),
            f(p),
            f(None),
            f(None),
            s("natural"),
            s(note),
        ]
    };
    let limit = "estimate is the limit estimate (effect as SE -> 0)";
    let none = || "not estimable".to_string();
    match test {
        SmallStudyTest::Egger => {
            let e = egger(yi, vi).ok_or_else(none)?;
            let note = format!(
                "test for funnel-plot asymmetry: t = {:.4}, df = {}; {limit}",
                e.z, e.df
            );
            let step = "regression of effects on their standard errors";
            Ok(row(yi.len(), step, Some(back(e.intercept)), e.p, note))
        }
        SmallStudyTest::EggerRma => {
            let method = iv_method(a);
            let sei: Vec<f64> = vi.iter().map(|v| v.sqrt()).collect();
            let x = metapipe_meta::metareg::Design::with_intercept(&[sei], vec!["sei".into()])
                .map_err(|e| format!("not estimable: {e}"))?;
            // the outcome's test, as metafor's regtest() takes it from the fitted model
            let m = metapipe_meta::metareg::fit(yi, vi, &x, method, &a.spec.opts)
                .map_err(|e| format!("not estimable: {e}"))?;
            let stat = match m.df {
                Some(d) => format!("t = {:.4}, df = {d}", m.z[1]),
                None => format!("z = {:.4}", m.z[1]),
            };
            let note = format!(
                "test for funnel-plot asymmetry: {stat} ({}, tau2 = {:.4}); {limit}",
                method.name(),
                m.tau2
            );
            let step = "meta-regression of effects on their standard errors (tau2-based)";
            Ok(row(m.k, step, Some(back(m.beta[0])), m.p[1], note))
        }
        SmallStudyTest::Peters => {
            let ninv = inverse_sizes(a)?;
            let e = regtest_lm(yi, vi, &ninv).ok_or_else(none)?;
            let note = format!(
                "test for funnel-plot asymmetry: t = {:.4}, df = {}; estimate is the limit estimate (effect as 1/n -> 0)",
                e.z, e.df
            );
            let step = "regression of effects on 1/n (weights 1/variance)";
            Ok(row(yi.len(), step, Some(back(e.intercept)), e.p, note))
        }
        SmallStudyTest::Harbord => {
            let tables = tables_of(a);
            let e = harbord(&tables).ok_or_else(none)?;
            let note = format!(
                "test for funnel-plot asymmetry: t = {:.4}, df = {} (intercept {:.4})",
                e.z, e.df, e.intercept
            );
            let step = "regression of the efficient score over its SE on the SE";
            Ok(row(e.df + 2, step, None, e.p, note))
        }
    }
}

/// 1/n of each study with an effect (n its total sample size), for the 1/n test.
fn inverse_sizes(a: &Analysis) -> std::result::Result<Vec<f64>, String> {
    let n: Option<Vec<f64>> = a
        .per_study
        .iter()
        .filter(|r| r.1.is_some())
        .map(|r| Some((r.0.n_treat? + r.0.n_ctrl?) as f64))
        .collect();
    let n = n.ok_or("not run: the 1/n test needs every study's arm sizes")?;
    Ok(n.iter().map(|n| 1.0 / n).collect())
}

/// The 2x2 tables of the studies with counts, for Harbord's test.
fn tables_of(a: &Analysis) -> Vec<metapipe_meta::Binary> {
    a.per_study
        .iter()
        .filter_map(|r| {
            let d = &r.0;
            let (et, nt) = (d.events_treat? as f64, d.n_treat? as f64);
            let (ec, nc) = (d.events_ctrl? as f64, d.n_ctrl? as f64);
            Some(metapipe_meta::Binary::new(et, nt, ec, nc))
        })
        .collect()
}
