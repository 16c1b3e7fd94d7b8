//! Sensitivity and small-study analyses of an outcome's overall analysis, as the protocol asks
//! for them. Leave-one-out, cumulative and excluding studies at high risk of bias refit the
//! outcome's own models (its measure, convention, model choice) on the subset and report the
//! model the outcome reports last (the random-effects one when it reports both); Egger's test,
//! trim-and-fill and meta-regression are inverse-variance analyses of the per-study effects
//! (metafor's `regtest`, `trimfill`, `rma(mods = ~ x)`).

use crate::fit::{models, Model};
use crate::{Analysis, OutcomePlan};
use metapipe_meta::extras::{egger, trimfill};
use metapipe_meta::model::Method;
use metapipe_tables::schema::SENSITIVITY;
use metapipe_tables::{f, i, s, Builder, Error, Result, Table};
use polars::prelude::*;

/// What a protocol asks for beyond the main analysis.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sensitivity {
    pub leave_one_out: bool,
    /// a studies column to order a cumulative meta-analysis by (e.g. year)
    pub cumulative_by: Option<String>,
    pub exclude_high_rob: bool,
    /// Egger's test (k >= 10) and trim-and-fill
    pub small_study: bool,
    /// covariates for one-moderator meta-regressions
    pub metaregression: Vec<String>,
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
        let back = |x: f64| if a.spec.ratio() { x.exp() } else { x };
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
fn iv_method(a: &Analysis) -> Method {
    match a.models.last() {
        Some(m) if m.kind == "random" => a.spec.random,
        _ => Method::FE,
    }
}

/// A studies column as numbers by study id (yes/no as 1/0); text is an error.
fn covariate(studies: &Table, column: &str) -> Result<std::collections::HashMap<String, f64>> {
    let c = studies.df.column(column).map_err(|_| {
        Error::data(format!(
            "the studies table has no column {column:?} (declare it in [extraction.covariates])"
        ))
        .field("outcomes.metaregression")
    })?;
    if c.dtype() == &DataType::String {
        return Err(Error::data(format!("{column} is text; a meta-regression needs a number or yes/no covariate (use subgroup_by for text)")).field("outcomes.metaregression"));
    }
    let x = c.cast(&DataType::Float64)?;
    let x = x.f64()?;
    Ok(studies
        .str("study_id")
        .iter()
        .zip(x.iter())
        .filter_map(|(id, v)| Some((id?.to_string(), v?)))
        .collect())
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
            out.small_study(a);
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
                let high: Vec<&str> = (0..rob.num_rows())
                    .filter(|&r| {
                        rob.str("domain").get(r) == Some("overall")
                            && rob.str("judgment").get(r) == Some("high")
                    })
                    .filter_map(|r| rob.str("study_id").get(r))
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

    /// Egger's test and trim-and-fill, under the k >= 10 gate.
    fn small_study(&mut self, a: &Analysis) {
        let out = self;
        let (yi, vi) = effects(a);
        let method = iv_method(a);
        let opts = a.spec.opts;
        if yi.len() < 10 {
            out.note(
                a,
                "egger",
                format!(
                    "not run: Egger's test needs at least 10 studies (k = {})",
                    yi.len()
                ),
            );
        } else {
            match egger(&yi, &vi) {
                Some(e) => {
                    let back = |x: f64| if a.spec.ratio() { x.exp() } else { x };
                    out.t.row(vec![
                        s(&a.outcome),
                        s("egger"),
                        s("regression of effects on their standard errors"),
                        i(yi.len() as i64),
                        f(back(e.intercept)),
                        f(None),
                        f(None),
                        f(e.p),
                        f(None),
                        f(None),
                        s("natural"),
                        s(format!("test for funnel-plot asymmetry: t = {:.4}, df = {}; estimate is the limit estimate (effect as SE -> 0)", e.z, e.df)),
                    ]);
                }
                None => out.note(a, "egger", "not estimable".into()),
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

    /// The meta-regression on one covariate (inverse-variance, the analysis's τ² method).
    fn metaregression(&mut self, a: &Analysis, studies: &Table, c: &str) -> Result<()> {
        let out = self;
        let method = iv_method(a);
        let opts = a.spec.opts;
        let scale = if a.spec.ratio() { "log" } else { "natural" };
        let xs = covariate(studies, c)?;
        let mut y = vec![];
        let mut v = vec![];
        let mut x = vec![];
        for r in a.per_study.iter() {
            if let (Some((yy, vv)), Some(xx)) = (r.1, xs.get(&r.0.study_id)) {
                y.push(yy);
                v.push(vv);
                x.push(*xx);
            }
        }
        let missing = a.per_study.len() - y.len();
        match metapipe_meta::metareg::fit(&y, &v, &x, method, opts.level, &opts.control) {
            Ok(m) => out.t.row(vec![
                s(&a.outcome),
                s("metaregression"),
                s(format!("slope per unit of {c}")),
                i(m.k as i64),
                f(m.beta[1]),
                f(m.ci_lb[1]),
                f(m.ci_ub[1]),
                f(m.p[1]),
                f(None),
                f(m.tau2),
                s(scale),
                s(format!(
                    "{}; intercept {:.4} (SE {:.4}); QM = {:.4} (p = {:.4}); residual QE = {:.4}, df = {} (p = {:.4}){}",
                    method.name(),
                    m.beta[0],
                    m.se[0],
                    m.qm,
                    m.qm_p,
                    m.qe,
                    m.k - 2,
                    m.qe_p,
                    if missing > 0 { format!("; {missing} studies without {c} left out") } else { String::new() }
                )),
            ]),
            Err(e) => out.note(a, "metaregression", format!("{c}: not estimable: {e}")),
        }
        Ok(())
    }
}
