//! One analysis, for every measure, method and convention: the studies' effects and the fit of
//! one method. The pipeline's plan and `metapipe pool` (and so the Python package) both call
//! these two functions: there is one method dispatcher.

use crate::effect::{
    binary_effect, escalc_binary, escalc_continuous, Binary, Continuous, Measure, ZeroCell,
};
use crate::model::{
    mantel_haenszel, peto, revman_dl, revman_mh, rma_uni, Fit, Method, Options, Pi, Test,
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
    /// one row per study of the other families (proportions, rates, correlations, O − E and
    /// V), its columns as [`crate::measures::effect_of_row`] reads them
    Rows(&'a [Vec<f64>]),
}

/// How binary studies with zero cells enter the inverse-variance analyses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zeros {
    /// metafor's `escalc` defaults: 0.5 added to the cells of a study with a zero cell, a study
    /// without events (or with only events) in both arms kept (OR = RR = 1)
    Escalc,
    /// as `Escalc`, but a study without events in both arms (or only events) is not estimable
    /// for OR and RR (metafor `drop00 = TRUE`, meta, RevMan Web, Handbook 10.4.4.1); kept for RD
    Drop00,
    /// RevMan 5's rule: such studies dropped, 0.5 added to every cell of a study with a zero
    RevMan5,
}

/// Each study's (yi, vi) on the analysis scale (`None`: not estimable): binary studies under
/// the zero-cell rule `zeros`; continuous by `escalc`; generic as given.
pub fn effects(measure: Measure, studies: Studies, zeros: Zeros) -> Vec<Option<(f64, f64)>> {
    let pair = |e: Option<crate::effect::Effect>| e.map(|e| (e.yi, e.vi));
    match studies {
        Studies::Binary(t) if zeros == Zeros::RevMan5 => revman_tables(t)
            .iter()
            .map(|t| pair(t.as_ref().and_then(|t| binary_effect(measure, t))))
            .collect(),
        Studies::Binary(t) if zeros == Zeros::Drop00 && measure != Measure::RD => {
            escalc_binary(measure, t, ZeroCell::ESCALC_DROP00)
                .into_iter()
                .map(pair)
                .collect()
        }
        Studies::Binary(t) => escalc_binary(measure, t, ZeroCell::ESCALC)
            .into_iter()
            .map(pair)
            .collect(),
        Studies::Continuous(r) => escalc_continuous(measure, r)
            .into_iter()
            .map(pair)
            .collect(),
        Studies::Effects(e) => e.to_vec(),
        Studies::Rows(r) => r
            .iter()
            .map(|row| {
                pair(crate::measures::effect_of_row(
                    measure,
                    row,
                    zeros != Zeros::Escalc,
                ))
            })
            .collect(),
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
    if method.is_glmm() {
        return glmm(measure, method, studies, effects, opts);
    }
    let fit = match (method, tables) {
        (Method::MH, Some(t)) if revman => revman_mh(t, measure, opts.level),
        (Method::MH, Some(t)) => mantel_haenszel(t, measure, opts.level),
        (Method::Peto, Some(_)) if measure != Measure::OR => {
            return Err("Peto's method pools odds ratios only (OR)".into())
        }
        (Method::Peto, Some(t)) => peto(t, opts.level),
        (Method::DL, Some(t)) if revman => {
            revman_dl(t, measure, opts.level).map(|f| with_pi(f, opts))
        }
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

/// RevMan 5's DerSimonian-Laird fit with the prediction interval a review asks for (RevMan 5
/// gives none; this is RevMan Web's: t with k − 2 df, or z, on the Wald SE); none below its
/// fewest studies or for a kind that needs the Knapp-Hartung SE.
fn with_pi(mut f: Fit, opts: &Options) -> Fit {
    if opts.pi == Pi::Metafor || !opts.extras {
        return f;
    }
    let se2 = f.se * f.se;
    if let Some((lb, ub)) =
        crate::rma::prediction_interval(f.estimate, f.tau2, f.k, se2, se2, None, opts)
    {
        (f.pi_lb, f.pi_ub) = (Some(lb), Some(ub));
    }
    f
}

/// The GLMM (`rma.glmm`) of one analysis: OR from 2×2 tables, PLO from `[xi, ni]` rows.
fn glmm(
    measure: Measure,
    method: Method,
    studies: Studies,
    effects: &[Option<(f64, f64)>],
    opts: &Options,
) -> Result<Fit, String> {
    use crate::glmm::{glmm_or, glmm_plo, to_fit};
    let random = method == Method::Glmm;
    let g = match (measure, studies) {
        (Measure::OR, Studies::Binary(t)) => glmm_or(t, random, opts.level),
        (Measure::PLO, Studies::Rows(r)) => {
            let rows: Vec<(f64, f64)> = r.iter().map(|r| (r[0], r[1])).collect();
            glmm_plo(&rows, random, opts.level)
        }
        _ => {
            return Err("the GLMM pools odds ratios from 2x2 tables (OR) and proportions on the logit scale (PLO)".into())
        }
    }
    .map_err(|e| e.to_string())?;
    Ok(to_fit(&g, method, effects, opts))
}
