//! One analysis, for every measure, method and convention: the studies' effects and the fit of
//! one method. The pipeline's plan and `metapipe pool` (and so the Python package) both call
//! these two functions: there is one method dispatcher.

use crate::effect::{
    binary_effect, escalc_binary, escalc_continuous, Binary, Continuous, Measure, ZeroCell,
};
use crate::model::{
    mantel_haenszel, peto, revman_dl, revman_mh, rma_uni, Fit, Method, Options, Test,
};
use crate::revman::revman_tables;

/// The studies of one analysis, as their type gives them.
#[derive(Debug, Clone, Copy)]
pub enum Studies<'a> {
    /// 2×2 tables (OR, RR, RD)
    Binary(&'a [Binary]),
    /// means, SDs and sizes (MD, SMD, ROM)
    Continuous(&'a [Continuous]),
    /// effects with their variances on the analysis scale (generic); `None`: not estimable
    Effects(&'a [Option<(f64, f64)>]),
}

/// Each study's (yi, vi) on the analysis scale (`None`: not estimable): binary studies under
/// RevMan 5's zero-cell rule (`revman`) or metafor's `escalc` (0.5 added to the cells of a
/// study with a zero cell, double zeros kept); continuous by `escalc`; generic as given.
pub fn effects(measure: Measure, studies: Studies, revman: bool) -> Vec<Option<(f64, f64)>> {
    let pair = |e: Option<crate::effect::Effect>| e.map(|e| (e.yi, e.vi));
    match studies {
        Studies::Binary(t) if revman => revman_tables(t)
            .iter()
            .map(|t| pair(t.as_ref().and_then(|t| binary_effect(measure, t))))
            .collect(),
        Studies::Binary(t) => escalc_binary(measure, t, ZeroCell::ESCALC)
            .into_iter()
            .map(pair)
            .collect(),
        Studies::Continuous(r) => escalc_continuous(measure, r)
            .into_iter()
            .map(pair)
            .collect(),
        Studies::Effects(e) => e.to_vec(),
    }
}

/// Fit `method` to one analysis. MH and Peto work on the 2×2 tables (RevMan 5's MH under
/// `revman`); DL under `revman` is RevMan 5's (τ² from the MH heterogeneity Q); every other
/// method is `rma.uni` on `effects` (from [`effects`]), whose weights come back aligned to the
/// studies (0 for a study without an effect). Knapp-Hartung (`opts.test`) is a random-effects
/// test: a fixed-effect fit uses z.
pub fn fit(
    measure: Measure,
    method: Method,
    studies: Studies,
    effects: &[Option<(f64, f64)>],
    revman: bool,
    opts: &Options,
) -> Result<Fit, String> {
    let tables = match studies {
        Studies::Binary(t) => Some(t),
        _ => None,
    };
    let fit = match (method, tables) {
        (Method::MH, Some(t)) if revman => revman_mh(t, measure, opts.level),
        (Method::MH, Some(t)) => mantel_haenszel(t, measure, opts.level),
        (Method::Peto, Some(_)) if measure != Measure::OR => {
            return Err("Peto's method pools odds ratios only (OR)".into())
        }
        (Method::Peto, Some(t)) => peto(t, opts.level),
        (Method::DL, Some(t)) if revman => revman_dl(t, measure, opts.level),
        (Method::MH | Method::Peto, None) => {
            return Err(format!("{} needs 2x2 counts (binary data)", method.name()))
        }
        (m, _) => {
            if effects.iter().all(Option::is_none) {
                return Err("no study has an estimable effect".into());
            }
            let (yi, vi): (Vec<f64>, Vec<f64>) = effects.iter().flatten().copied().unzip();
            let opts = if m.is_random() {
                *opts
            } else {
                Options {
                    test: Test::Z,
                    ..*opts
                }
            };
            return rma_uni(&yi, &vi, m, &opts)
                .map(|mut f| {
                    let mut w = f.weights.iter();
                    f.weights = effects
                        .iter()
                        .map(|e| {
                            if e.is_some() {
                                w.next().copied().unwrap_or(0.0)
                            } else {
                                0.0
                            }
                        })
                        .collect();
                    f
                })
                .map_err(|e| e.to_string());
        }
    };
    fit.map_err(|e| e.to_string())
}
