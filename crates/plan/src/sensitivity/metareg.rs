//! Meta-regression models of the protocol (`metaregression = ["ablat", "ablat + year + alloc"]`):
//! each entry one mixed-effects model (metafor `rma(yi, vi, mods = ~ a + b)`) by the outcome's
//! τ² method and test (Knapp-Hartung t and F tests under `knha`/`knha_adhoc`). A number or
//! yes/no covariate enters as it is; a text covariate as a factor, coded as R's `factor()`
//! (levels sorted, the first the reference).

use super::{iv_method, Rows};
use crate::Analysis;
use metapipe_meta::metareg::{fit, Design, MetaReg};
use metapipe_tables::{f, i, s, Error, Result, Table};
use polars::prelude::*;
use std::collections::HashMap;

/// The terms of a model entry (`"a + b"`), or why it is not one.
pub fn model_terms(model: &str) -> std::result::Result<Vec<&str>, String> {
    let terms: Vec<&str> = model.split('+').map(str::trim).collect();
    if terms.iter().any(|t| t.is_empty()) {
        return Err(format!(
            "{model:?}: a model is covariates joined by +, e.g. \"ablat + year\""
        ));
    }
    for (n, t) in terms.iter().enumerate() {
        if terms[..n].contains(t) {
            return Err(format!("{model:?}: {t} appears twice"));
        }
    }
    Ok(terms)
}

/// A covariate's values by study id.
enum Term {
    Number(HashMap<String, f64>),
    Factor(HashMap<String, String>),
}

fn term(studies: &Table, column: &str) -> Result<Term> {
    let c = studies.df.column(column).map_err(|_| {
        Error::data(format!(
            "the studies table has no column {column:?} (declare it in [extraction.covariates])"
        ))
        .field("outcomes.metaregression")
    })?;
    let ids = studies.str("study_id");
    if c.dtype() == &DataType::String {
        let x = c.str()?;
        return Ok(Term::Factor(
            ids.iter()
                .zip(x.iter())
                .filter_map(|(id, v)| Some((id?.to_string(), v?.to_string())))
                .collect(),
        ));
    }
    let x = c.cast(&DataType::Float64)?;
    Ok(Term::Number(
        ids.iter()
            .zip(x.f64()?.iter())
            .filter_map(|(id, v)| Some((id?.to_string(), v?)))
            .collect(),
    ))
}

/// The design of a model over the analysis's studies with an effect and every covariate:
/// (y, v, design, coefficient labels, studies left out).
struct Data {
    y: Vec<f64>,
    v: Vec<f64>,
    x: Design,
    /// per coefficient after the intercept: the row's step text
    labels: Vec<String>,
    left_out: usize,
}

fn data(
    a: &Analysis,
    studies: &Table,
    terms: &[&str],
) -> Result<std::result::Result<Data, String>> {
    let ts = terms
        .iter()
        .map(|t| term(studies, t))
        .collect::<Result<Vec<Term>>>()?;
    let (mut y, mut v, mut ids) = (vec![], vec![], vec![]);
    for r in a.per_study.iter() {
        let id = &r.0.study_id;
        let has = |t: &Term| match t {
            Term::Number(m) => m.contains_key(id),
            Term::Factor(m) => m.contains_key(id),
        };
        if let (Some((yy, vv)), true) = (r.1, ts.iter().all(has)) {
            y.push(yy);
            v.push(vv);
            ids.push(id.as_str());
        }
    }
    let (mut cols, mut names, mut labels) = (vec![], vec![], vec![]);
    for (t, name) in ts.iter().zip(terms) {
        match t {
            Term::Number(m) => {
                cols.push(ids.iter().map(|id| m[*id]).collect());
                names.push(name.to_string());
                labels.push(format!("slope per unit of {name}"));
            }
            Term::Factor(m) => {
                let vals: Vec<&str> = ids.iter().map(|id| m[*id].as_str()).collect();
                let mut levels = vals.clone();
                levels.sort_unstable();
                levels.dedup();
                if levels.len() < 2 {
                    return Ok(Err(format!(
                        "{name} has one level among the studies with data"
                    )));
                }
                for l in &levels[1..] {
                    cols.push(vals.iter().map(|v| f64::from(u8::from(v == l))).collect());
                    names.push(format!("{name}{l}"));
                    labels.push(format!("{name} = {l} (vs {})", levels[0]));
                }
            }
        }
    }
    let x = match Design::with_intercept(&cols, names) {
        Ok(x) => x,
        Err(e) => return Ok(Err(e.to_string())),
    };
    Ok(Ok(Data {
        left_out: a.per_study.len() - y.len(),
        y,
        v,
        x,
        labels,
    }))
}

impl Rows {
    /// One meta-regression model: a row per coefficient (and, with more than one, a row for the
    /// test of all moderators first), or a note saying why it is not estimable.
    pub(super) fn metaregression(
        &mut self,
        a: &Analysis,
        studies: &Table,
        model: &str,
    ) -> Result<()> {
        let terms =
            model_terms(model).map_err(|e| Error::data(e).field("outcomes.metaregression"))?;
        let d = match data(a, studies, &terms)? {
            Ok(d) => d,
            Err(why) => {
                self.note(
                    a,
                    "metaregression",
                    format!("{model}: not estimable: {why}"),
                );
                return Ok(());
            }
        };
        let method = iv_method(a);
        let m = match fit(&d.y, &d.v, &d.x, method, &a.spec.opts) {
            Ok(m) => m,
            Err(e) => {
                self.note(a, "metaregression", format!("{model}: not estimable: {e}"));
                return Ok(());
            }
        };
        let scale = a.model_scale();
        let note = summary(&m, d.left_out, model);
        let single = d.labels.len() == 1;
        let within = |l: &str| {
            if terms.len() == 1 {
                l.to_string()
            } else {
                format!("{l} in {model}")
            }
        };
        if !single {
            self.t.row(vec![
                s(&a.outcome),
                s("metaregression"),
                s(format!("test of moderators {model}")),
                i(m.k as i64),
                f(None),
                f(None),
                f(None),
                f(m.qm_p),
                f(m.i2),
                f(m.tau2),
                s(scale),
                s(note.clone()),
            ]);
        }
        for (j, label) in d.labels.iter().enumerate() {
            self.t.row(vec![
                s(&a.outcome),
                s("metaregression"),
                s(within(label)),
                i(m.k as i64),
                f(m.beta[j + 1]),
                f(m.ci_lb[j + 1]),
                f(m.ci_ub[j + 1]),
                f(m.p[j + 1]),
                f(None),
                f(m.tau2),
                s(scale),
                s(note.clone()),
            ]);
        }
        Ok(())
    }
}

/// The note of a model's rows: method and test, the intercept, QM, residual QE, R².
fn summary(m: &MetaReg, left_out: usize, model: &str) -> String {
    let test = match m.df {
        Some(d) => format!(", Knapp-Hartung (t, df = {d})"),
        None => String::new(),
    };
    let qm = match m.qm_df {
        (d1, Some(d2)) => format!("F({d1}, {d2}) = {:.4} (p = {:.4})", m.qm, m.qm_p),
        (d1, None) => format!("QM = {:.4}, df = {d1} (p = {:.4})", m.qm, m.qm_p),
    };
    format!(
        "{}{test}; intercept {:.4} (SE {:.4}); {qm}; residual QE = {:.4}, df = {} (p = {:.4}); R2 = {:.1}%{}",
        m.method.name(),
        m.beta[0],
        m.se[0],
        m.qe,
        m.qe_df,
        m.qe_p,
        m.r2,
        if left_out > 0 {
            format!("; {left_out} studies without {model} left out")
        } else {
            String::new()
        }
    )
}
