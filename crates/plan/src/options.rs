//! Every analysis option, defined once: the keys a user gives (the config's `[analysis]` and
//! `[[outcomes]]` keys, `metapipe pool`'s flags and the Python keywords all fill an
//! [`AnalysisCfg`]) and the one function that checks them into a [`Spec`], so that the three
//! give the same result or the same error.

use crate::fit::{Choice, Convention, Spec};
use metapipe_meta::analysis::Zeros;
use metapipe_meta::model::{Control, Method, Options, Pi, Test};
use metapipe_meta::Measure;
use serde::Deserialize;

/// The values each option takes, as its errors and `metapipe pool --help` list them.
pub const MEASURES: &str =
    "OR, RR, RD, MD, SMD, ROM, GEN, PR, PLO, PAS, PFT, IR, IRR, IRD, ZCOR, COR or OEV";
pub const METHODS: &str = "MH, PETO, FE, GLMM_FE, DL, REML, PM, ML, SJ, HE, EB or GLMM";
pub const TESTS: &str = "z, knha or knha_adhoc";
pub const CONVENTIONS: &str = "metafor, revman or cochrane";
pub const PREDICTIONS: &str = "true, false, \"t\", \"z\" or \"hksj\"";
pub const PI_KINDS: &str = "t, z or hksj";

/// `prediction`: shown or not (`true`: the convention's kind), or the interval's kind.
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(untagged)]
pub enum PredictionCfg {
    Shown(bool),
    Kind(String),
}
pub const MODELS: &str = "fixed, random, both or rule";

/// The analysis keys, listed once. `[analysis]` takes them ([`AnalysisCfg`]) and so does every
/// `[[outcomes]]` entry (`config::OutcomeCfg`, whose own keys come first): `analysis_keys!(m! {
/// tokens })` calls `m! { tokens key: Type, … }`, each key with its doc comment.
#[macro_export]
macro_rules! analysis_keys {
    ($callback:ident ! { $($args:tt)* }) => {
        $callback! { $($args)*
            measure: String,
            /// one method: a fixed-effect one (MH, PETO, FE) or a τ² estimator (DL, REML, …); sets
            /// `model` to fixed or random
            method: String,
            fixed: String,
            random: String,
            /// fixed | random | both | rule
            model: String,
            /// metafor | revman | cochrane
            convention: String,
            random_if_i2_above: f64,
            random_if_q_p_below: f64,
            level: f64,
            /// z | knha
            test: String,
            /// true | false | "t" | "z" | "hksj"
            prediction: $crate::options::PredictionCfg,
            /// double-zero studies not estimable for OR and RR
            drop00: bool,
            /// generic outcomes: `log` (estimates and CIs are ratios, pooled on the log scale; `se` is
            /// the SE of the log ratio) or `natural`
            scale: String,
        }
    };
}

macro_rules! analysis_cfg {
    ($($(#[$doc:meta])* $key:ident: $ty:ty,)*) => {
        /// Analysis settings; `[analysis]` gives the defaults, each `[[outcomes]]` entry may override.
        #[derive(Debug, Deserialize, Default, Clone, PartialEq)]
        #[serde(deny_unknown_fields)]
        pub struct AnalysisCfg {
            $($(#[$doc])* pub $key: Option<$ty>,)*
        }

        impl AnalysisCfg {
            /// `self` with every unset key taken from `d`.
            pub fn or(&self, d: &AnalysisCfg) -> AnalysisCfg {
                AnalysisCfg { $($key: self.$key.clone().or(d.$key.clone()),)* }
            }
        }
    };
}
analysis_keys!(analysis_cfg! {});

impl AnalysisCfg {
    /// Whether `key` is set here.
    pub fn sets(&self, key: &str) -> bool {
        match key {
            "measure" => self.measure.is_some(),
            "method" => self.method.is_some(),
            "fixed" => self.fixed.is_some(),
            "random" => self.random.is_some(),
            "model" => self.model.is_some(),
            "convention" => self.convention.is_some(),
            "level" => self.level.is_some(),
            "test" => self.test.is_some(),
            "scale" => self.scale.is_some(),
            "prediction" => self.prediction.is_some(),
            "drop00" => self.drop00.is_some(),
            _ => self.random_if_i2_above.is_some() || self.random_if_q_p_below.is_some(),
        }
    }
}

/// An invalid analysis key: (key, message).
type Bad = (&'static str, String);

/// An outcome's analysis keys (its own over `[analysis]`'s) as a checked [`Spec`]; an error is
/// (key, message).
pub fn outcome_spec(a: &AnalysisCfg) -> Result<Spec, Bad> {
    let measure_s = a.measure.as_deref().ok_or((
        "measure",
        format!("no measure ({MEASURES}) for this outcome or in [analysis]"),
    ))?;
    let measure = Measure::parse(measure_s)
        .ok_or(("measure", format!("{measure_s:?}: expected {MEASURES}")))?;
    let convention = match a.convention.as_deref() {
        None | Some("metafor") => Convention::Metafor,
        Some("revman") => Convention::RevMan5,
        Some("cochrane") => Convention::Cochrane,
        Some(c) => return Err(("convention", format!("{c:?}: expected {CONVENTIONS}"))),
    };
    let (fixed, random, choice) = models(a, measure, convention)?;
    // only the models the outcome reports are checked against the convention
    let (uses_fixed, uses_random) = (choice != Choice::Random, choice != Choice::Fixed);
    let test = test(a, convention, uses_random, random)?;
    if convention == Convention::RevMan5
        && (!matches!(measure, Measure::OR | Measure::RR)
            || (uses_random && random != Method::DL)
            || test != Test::Z
            || (uses_fixed && fixed == Method::Peto))
    {
        return Err(("convention", "the RevMan 5 convention is implemented for OR and RR with MH or FE fixed effect, DL random effects and the z test".into()));
    }
    let (prediction, pi) = prediction(a, convention, uses_random)?;
    let opts = Options {
        level: level(a)?,
        test,
        control: Control::default(),
        extras: true,
        pi,
    };
    Ok(Spec {
        measure,
        log_scale: log_scale(a, measure)?,
        fixed,
        random,
        choice,
        convention,
        zeros: zeros(convention, a.drop00)?,
        opts,
        prediction,
        study_ci_level: 0.95,
    })
}

/// The fixed-effect and random-effects methods and which models are reported.
fn models(
    a: &AnalysisCfg,
    measure: Measure,
    convention: Convention,
) -> Result<(Method, Method, Choice), Bad> {
    let method = |key: &'static str, v: &str| {
        Method::parse(v).ok_or((key, format!("{v:?}: expected {METHODS}")))
    };
    let mut fixed = match &a.fixed {
        Some(f) => method("fixed", f)?,
        None if measure.is_binary() => Method::MH,
        None => Method::FE,
    };
    // the convention's random-effects method unless one is given
    let mut random = match &a.random {
        Some(r) => method("random", r)?,
        None if convention == Convention::RevMan5 => Method::DL,
        None => Method::REML,
    };
    if fixed.is_random() {
        return Err((
            "fixed",
            format!(
                "{} is a random-effects method; fixed takes MH, PETO, FE or GLMM_FE",
                fixed.name()
            ),
        ));
    }
    if !random.is_random() {
        return Err((
            "random",
            format!(
                "{} is a fixed-effect method; random takes DL, REML, PM, ML, SJ, HE, EB or GLMM",
                random.name()
            ),
        ));
    }
    let mut choice = match a.model.as_deref() {
        None | Some("random") => Choice::Random,
        Some("fixed") => Choice::Fixed,
        Some("both") => Choice::Both,
        Some("rule") => Choice::Rule {
            i2_above: a.random_if_i2_above.unwrap_or(50.0),
            q_p_below: a.random_if_q_p_below.unwrap_or(0.10),
        },
        Some(m) => return Err(("model", format!("{m:?}: expected {MODELS}"))),
    };
    if let Some(m) = &a.method {
        let m = method("method", m)?;
        if a.model.is_some() {
            return Err((
                "method",
                "give either method (one model) or model with fixed/random, not both".into(),
            ));
        }
        if m.is_random() {
            random = m;
            choice = Choice::Random;
        } else {
            fixed = m;
            choice = Choice::Fixed;
        }
    }
    fixed_fits(a, measure, fixed, choice)?;
    glmm_fits(a, measure, convention, (fixed, random, choice))?;
    Ok((fixed, random, choice))
}

/// The GLMMs pool odds ratios and logit proportions, on the counts, under metafor's or
/// Cochrane's convention.
fn glmm_fits(
    a: &AnalysisCfg,
    measure: Measure,
    convention: Convention,
    (fixed, random, choice): (Method, Method, Choice),
) -> Result<(), Bad> {
    for (key, m, used) in [
        (
            if a.method.is_some() {
                "method"
            } else {
                "fixed"
            },
            fixed,
            choice != Choice::Random,
        ),
        (
            if a.method.is_some() {
                "method"
            } else {
                "random"
            },
            random,
            choice != Choice::Fixed,
        ),
    ] {
        if used && m.is_glmm() && !matches!(measure, Measure::OR | Measure::PLO) {
            return Err((
                key,
                format!(
                    "{} pools odds ratios (OR, from 2x2 counts) and logit proportions (PLO); not {}",
                    m.name(),
                    measure.name()
                ),
            ));
        }
        if used && m.is_glmm() && convention == Convention::RevMan5 {
            return Err((key, format!("{} is not RevMan 5's", m.name())));
        }
    }
    Ok(())
}

/// A fixed-effect method the measure allows (MH and Peto pool binary data; Peto odds ratios).
fn fixed_fits(a: &AnalysisCfg, measure: Measure, fixed: Method, choice: Choice) -> Result<(), Bad> {
    // an error about a model's method names the key that gave it
    let fixed_key = if a.method.is_some() && choice == Choice::Fixed {
        "method"
    } else {
        "fixed"
    };
    if matches!(fixed, Method::MH | Method::Peto) && !measure.is_binary() {
        return Err((
            fixed_key,
            format!(
                "{} needs binary data (OR, RR, RD); use FE for {}",
                fixed.name(),
                measure.name()
            ),
        ));
    }
    if fixed == Method::Peto && measure != Measure::OR {
        return Err((
            fixed_key,
            "Peto's method pools odds ratios only (measure = \"OR\")".into(),
        ));
    }
    Ok(())
}

/// The test and CI of the summary (Knapp-Hartung needs a random-effects model).
fn test(
    a: &AnalysisCfg,
    convention: Convention,
    uses_random: bool,
    random: Method,
) -> Result<Test, Bad> {
    let mut test = match a.test.as_deref() {
        None if convention == Convention::Cochrane => Test::Knha,
        None | Some("z") => Test::Z,
        Some("knha") | Some("hksj") => Test::Knha,
        Some("knha_adhoc") | Some("adhoc") => Test::Adhoc,
        Some(t) => return Err(("test", format!("{t:?}: expected {TESTS}"))),
    };
    if test != Test::Z && uses_random && random.is_glmm() {
        if a.test.is_none() {
            // the GLMM's interval is Wald's (rma.glmm); Knapp-Hartung is rma.uni's
            test = Test::Z;
        } else {
            return Err(("test", "the GLMM's test is z (Wald, as rma.glmm's); Knapp-Hartung applies to the inverse-variance models".into()));
        }
    }
    if test != Test::Z && !uses_random {
        if a.test.is_none() {
            // Cochrane's default test is for its random-effects model; a fixed-effect one uses z
            test = Test::Z;
        } else {
            return Err(("test", "Knapp-Hartung is a random-effects test: a fixed-effect model uses z (give model = \"random\", \"both\" or \"rule\", or test = \"z\")".into()));
        }
    }
    Ok(test)
}

/// Whether a prediction interval is shown, and its kind.
fn prediction(
    a: &AnalysisCfg,
    convention: Convention,
    uses_random: bool,
) -> Result<(bool, Pi), Bad> {
    let revman = convention == Convention::RevMan5;
    // the prediction interval: shown by default under Cochrane's methods; `true` is the
    // convention's kind (metafor's predict(); t with k - 2 df for RevMan and Cochrane)
    let default_pi = match convention {
        Convention::Metafor => Pi::Metafor,
        Convention::RevMan5 | Convention::Cochrane => Pi::T,
    };
    let (prediction, pi) = match &a.prediction {
        None => (
            convention == Convention::Cochrane && uses_random,
            default_pi,
        ),
        Some(PredictionCfg::Shown(b)) => (*b, default_pi),
        Some(PredictionCfg::Kind(k)) => match k.as_str() {
            "t" => (true, Pi::T),
            "z" => (true, Pi::Z),
            "hksj" | "knha" => (true, Pi::Hksj),
            _ => return Err(("prediction", format!("{k:?}: expected {PREDICTIONS}"))),
        },
    };
    if prediction && !uses_random {
        return Err(("prediction", "a prediction interval is a random-effects model's (give model = \"random\", \"both\" or \"rule\")".into()));
    }
    if prediction && revman && pi == Pi::Hksj {
        return Err(("prediction", "the HKSJ-based interval needs the Knapp-Hartung SE, which the RevMan 5 convention does not use (give \"t\" or \"z\")".into()));
    }
    Ok((prediction, pi))
}

/// Double-zero studies under the convention and the `drop00` key.
fn zeros(convention: Convention, drop00: Option<bool>) -> Result<Zeros, Bad> {
    // double-zero studies: metafor keeps them (escalc's 0.5); RevMan 5, RevMan Web, meta and the
    // Handbook do not estimate OR or RR from them
    Ok(match (convention, drop00) {
        (Convention::RevMan5, Some(false)) => return Err(("drop00", "RevMan 5's zero-cell rule always drops studies without events (or with only events) in both arms".into())),
        (Convention::RevMan5, _) => Zeros::RevMan5,
        (Convention::Metafor, None | Some(false)) | (Convention::Cochrane, Some(false)) => Zeros::Escalc,
        (Convention::Metafor, Some(true)) | (Convention::Cochrane, None | Some(true)) => Zeros::Drop00,
    })
}

/// The confidence level, as a fraction.
fn level(a: &AnalysisCfg) -> Result<f64, Bad> {
    match a.level {
        None => Ok(0.95),
        Some(l) => metapipe_meta::types::level_fraction(l).ok_or((
            "level",
            format!("{l}: expected a confidence level such as 95 or 0.95"),
        )),
    }
}

/// Whether a generic outcome is pooled on the log scale.
fn log_scale(a: &AnalysisCfg, measure: Measure) -> Result<bool, Bad> {
    Ok(match (measure, a.scale.as_deref()) {
        (Measure::GEN, None | Some("natural")) => false,
        (Measure::GEN, Some("log")) => true,
        (Measure::GEN, Some(s)) => {
            return Err((
                "scale",
                format!("{s:?}: expected log (ratios, pooled on the log scale) or natural"),
            ))
        }
        (_, None) => false,
        (m, Some(_)) => {
            return Err((
                "scale",
                format!(
                    "scale applies to generic outcomes (measure = \"GEN\"); {} has its own scale",
                    m.name()
                ),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(f: impl FnOnce(&mut AnalysisCfg)) -> AnalysisCfg {
        let mut a = AnalysisCfg {
            measure: Some("OR".into()),
            ..Default::default()
        };
        f(&mut a);
        a
    }

    #[test]
    fn defaults_are_metafors() {
        let s = outcome_spec(&cfg(|_| {})).unwrap();
        assert_eq!(
            (s.fixed, s.random, s.choice, s.revman(), s.opts.level),
            (Method::MH, Method::REML, Choice::Random, false, 0.95)
        );
        let s = outcome_spec(&cfg(|a| a.measure = Some("MD".into()))).unwrap();
        assert_eq!(s.fixed, Method::FE);
    }

    #[test]
    fn method_sets_the_model_and_level_takes_percent() {
        let s = outcome_spec(&cfg(|a| {
            a.method = Some("FE".into());
            a.level = Some(90.0);
        }))
        .unwrap();
        assert_eq!(
            (s.choice, s.fixed, s.opts.level),
            (Choice::Fixed, Method::FE, 0.90)
        );
    }

    #[test]
    fn bad_combinations_name_their_key() {
        let cases: Vec<(AnalysisCfg, &str)> = vec![
            (cfg(|a| a.measure = None), "measure"),
            (cfg(|a| a.measure = Some("HR".into())), "measure"),
            (cfg(|a| a.fixed = Some("DL".into())), "fixed"),
            (cfg(|a| a.random = Some("MH".into())), "random"),
            (cfg(|a| a.model = Some("sometimes".into())), "model"),
            (
                cfg(|a| {
                    a.measure = Some("SMD".into());
                    a.fixed = Some("MH".into())
                }),
                "fixed",
            ),
            (cfg(|a| a.fixed = Some("PETO".into())).clone(), "none"),
            (
                cfg(|a| {
                    a.measure = Some("RR".into());
                    a.fixed = Some("PETO".into())
                }),
                "fixed",
            ),
            (
                cfg(|a| {
                    a.convention = Some("revman".into());
                    a.random = Some("REML".into())
                }),
                "convention",
            ),
            (cfg(|a| a.scale = Some("log".into())), "scale"),
            (cfg(|a| a.level = Some(0.0)), "level"),
            (cfg(|a| a.test = Some("t".into())), "test"),
        ];
        for (a, key) in cases {
            match outcome_spec(&a) {
                Ok(_) => assert_eq!(key, "none", "{a:?} should fail on {key}"),
                Err((k, _)) => assert_eq!(k, key, "{a:?}"),
            }
        }
    }
}
