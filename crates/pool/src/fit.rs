//! One analysis: per-study effects, the single-analysis path (the pipeline's dispatcher) and
//! the allocation-free kernels, and their results as a row or JSON.

use crate::args::*;
use crate::columns::*;
use metapipe_meta::analysis::{self, Studies as Data, Zeros};
use metapipe_meta::batch::{self, Scratch};
use metapipe_meta::effect::{Binary, Continuous, Measure};
use metapipe_meta::model::{Fit, Method, Options, Pi, Test};

/// Each study's (yi, vi) as metafor's `escalc` gives them (`None`: not estimable); generic rows
/// as given (their variances: `read_studies` squared standard errors).
pub(crate) fn effects(
    cols: &[&[f64]],
    layout: Layout,
    measure: Measure,
    zeros: Zeros,
) -> Vec<Option<(f64, f64)>> {
    let n = cols[0].len();
    match layout {
        Layout::Totals | Layout::NonEvents => {
            analysis::effects(measure, Data::Binary(&tables(cols)), zeros)
        }
        Layout::Continuous => {
            let rows: Vec<Continuous> = (0..n)
                .map(|j| Continuous {
                    m1i: cols[0][j],
                    sd1i: cols[1][j],
                    n1i: cols[2][j],
                    m2i: cols[3][j],
                    sd2i: cols[4][j],
                    n2i: cols[5][j],
                })
                .collect();
            analysis::effects(measure, Data::Continuous(&rows), zeros)
        }
        Layout::Var | Layout::Se => (0..n).map(|j| Some((cols[0][j], cols[1][j]))).collect(),
        Layout::Rows(_) => analysis::effects(measure, Data::Rows(&rows(cols)), zeros),
    }
}

/// A family's rows (one per study, the family's columns in order) from the table's columns.
fn rows(cols: &[&[f64]]) -> Vec<Vec<f64>> {
    (0..cols[0].len())
        .map(|j| cols.iter().map(|c| c[j]).collect())
        .collect()
}

/// The 2×2 tables of the rows (`ai, n1i, ci, n2i` columns).
fn tables(cols: &[&[f64]]) -> Vec<Binary> {
    (0..cols[0].len())
        .map(|j| Binary::new(cols[0][j], cols[1][j], cols[2][j], cols[3][j]))
        .collect()
}

/// Fit one analysis on the single-analysis path (every measure × method × option): the
/// pipeline's dispatcher ([`analysis::fit`]) on the table's columns.
pub(crate) fn fit(
    cols: &[&[f64]],
    layout: Layout,
    a: &PoolArgs,
) -> std::result::Result<Fit, String> {
    let opts = Options {
        level: a.level,
        test: a.test,
        control: a.control,
        extras: true,
        pi: a.pi,
    };
    // the studies as the dispatcher takes them: 2x2 tables, a family's rows, or effects
    let (tables, family): (Vec<Binary>, Vec<Vec<f64>>) = match layout {
        Layout::Totals | Layout::NonEvents => (tables(cols), vec![]),
        Layout::Rows(_) => (vec![], rows(cols)),
        _ => (vec![], vec![]),
    };
    let (studies, effects) = match layout {
        Layout::Totals | Layout::NonEvents => {
            let s = Data::Binary(&tables);
            (s, analysis::effects(a.measure, s, a.zeros))
        }
        Layout::Rows(_) => {
            let s = Data::Rows(&family);
            (s, analysis::effects(a.measure, s, a.zeros))
        }
        _ => (
            Data::Effects(&[]),
            effects(cols, layout, a.measure, a.zeros),
        ),
    };
    analysis::fit(a.measure, a.method, studies, &effects, a.revman, &opts)
}

/// Does an allocation-free kernel cover this measure × method × option?
pub(crate) fn kernel_covers(a: &PoolArgs) -> bool {
    let iv = matches!(
        a.method,
        Method::FE | Method::DL | Method::REML | Method::ML | Method::EB | Method::HE | Method::SJ
    );
    let mh = a.measure == Measure::OR && a.method == Method::MH;
    // the kernels fuse escalc's zero-cell rule and metafor's prediction interval
    let metafor_rules = a.zeros == Zeros::Escalc && a.pi == Pi::Metafor;
    a.kernels && a.test == Test::Z && !a.revman && metafor_rules && (iv || mh)
}

pub(crate) fn kernel_fit(
    cols: &[&[f64]],
    layout: Layout,
    a: &PoolArgs,
    crit: f64,
    s: &mut Scratch,
) -> std::result::Result<batch::Row, String> {
    let r = match (layout, a.method) {
        (Layout::Totals | Layout::NonEvents, Method::MH) => {
            batch::mh_or(cols[0], cols[1], cols[2], cols[3], crit)
        }
        (Layout::Totals | Layout::NonEvents, m) => batch::binary_iv(
            a.measure, cols[0], cols[1], cols[2], cols[3], m, &a.control, crit, s,
        ),
        (Layout::Continuous, m) => batch::continuous_iv(
            a.measure,
            [cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]],
            m,
            &a.control,
            crit,
            s,
        ),
        (Layout::Var | Layout::Se, m) => batch::iv(cols[0], cols[1], m, &a.control, crit),
        (Layout::Rows(_), m) => {
            let (yi, vi): (Vec<f64>, Vec<f64>) = effects(cols, layout, a.measure, a.zeros)
                .into_iter()
                .flatten()
                .unzip();
            batch::iv(&yi, &vi, m, &a.control, crit)
        }
    };
    r.map_err(|e| e.to_string())
}

/// The row of `pool --group` for one group.
pub(crate) fn row_of_fit(f: &Fit) -> batch::Row {
    batch::Row {
        k: f.k,
        estimate: f.estimate,
        se: f.se,
        ci_lb: f.ci_lb,
        ci_ub: f.ci_ub,
        z: f.z,
        p: f.p,
        q: f.q,
        q_df: f.q_df,
        q_p: f.q_p,
        i2: f.i2,
        h2: f.h2,
        tau2: f.tau2,
        pi_lb: f.pi_lb.unwrap_or(f64::NAN),
        pi_ub: f.pi_ub.unwrap_or(f64::NAN),
    }
}

/// The fit's fields under `metapipe pool`'s names: metafor's fixtures' (`Fit::fields`), the
/// Q-profile limits as `results.csv` names them (`tau2_lb`, `tau2_ub`, `I2_lb`, `I2_ub`).
pub(crate) fn fields(fit: &Fit) -> Vec<(&'static str, f64)> {
    fit.fields()
        .into_iter()
        .map(|(k, v)| {
            let k = match k {
                "tau2_ci_lb" => "tau2_lb",
                "tau2_ci_ub" => "tau2_ub",
                "I2_ci_lb" => "I2_lb",
                "I2_ci_ub" => "I2_ub",
                k => k,
            };
            (k, v)
        })
        .collect()
}

pub(crate) fn json_of(fit: &Fit) -> String {
    let mut m = serde_json::Map::new();
    for (k, v) in fields(fit) {
        let val = if k == "k" || k == "Q_df" {
            serde_json::json!(v as i64)
        } else if v.is_finite() {
            serde_json::json!(v)
        } else {
            serde_json::Value::Null
        };
        m.insert(k.to_string(), val);
    }
    serde_json::to_string_pretty(&serde_json::Value::Object(m)).unwrap()
}
