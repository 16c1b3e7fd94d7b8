//! The pooling options as a user gives them and as the engine runs them, checked by the
//! pipeline's one definition (`metapipe_plan::options`).

use metapipe_meta::analysis::Zeros;
use metapipe_meta::effect::Measure;
use metapipe_meta::model::{Control, Method, Pi, Test};
use metapipe_plan::options::{outcome_spec, AnalysisCfg, PredictionCfg};
use metapipe_plan::Choice;
use metapipe_tables::{Error, Result};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct PoolArgs {
    pub file: PathBuf,
    pub measure: Measure,
    pub method: Method,
    pub test: Test,
    pub revman: bool,
    /// how binary studies with zero cells enter the inverse-variance methods
    pub zeros: Zeros,
    /// the prediction interval's kind (random-effects methods)
    pub pi: Pi,
    pub group: Option<String>,
    pub format: String,
    pub out: Option<PathBuf>,
    pub control: Control,
    pub level: f64,
    /// use the batch kernels where they apply (else the single-analysis path everywhere)
    pub kernels: bool,
}

/// The analysis options as a user gives them (the CLI's flags, the Python package's keywords),
/// before checking.
#[derive(Debug, Clone)]
pub struct UserOptions<'a> {
    pub measure: &'a str,
    pub method: &'a str,
    /// `z` or `knha` (`hksj`); `None`: the convention's (knha under cochrane, else z)
    pub test: Option<&'a str>,
    /// `metafor`, `revman` or `cochrane`
    pub convention: &'a str,
    /// the prediction interval's kind (`t`, `z`, `hksj`); `None`: the convention's
    pub prediction: Option<&'a str>,
    /// 0.95 or 95
    pub level: f64,
    /// `auto` (batch kernels where they apply) or `single`
    pub engine: &'a str,
    pub control: Control,
}

impl PoolArgs {
    /// Checked options (bad usage: [`Error::usage`], naming the option); no file, group or
    /// output yet.
    pub fn new(o: &UserOptions) -> Result<PoolArgs> {
        // the analysis options are checked by the one definition the config's keys use
        let raw = AnalysisCfg {
            measure: Some(o.measure.to_string()),
            method: Some(o.method.to_string()),
            test: o.test.map(str::to_string),
            convention: Some(o.convention.to_string()),
            prediction: o.prediction.map(|p| PredictionCfg::Kind(p.to_string())),
            level: Some(o.level),
            ..AnalysisCfg::default()
        };
        let spec = outcome_spec(&raw).map_err(|(key, msg)| Error::usage(msg).field(key))?;
        let method = if spec.choice == Choice::Fixed {
            spec.fixed
        } else {
            spec.random
        };
        let (measure, test, revman, level) =
            (spec.measure, spec.opts.test, spec.revman(), spec.opts.level);
        let kernels = match o.engine {
            "auto" => true,
            "single" => false,
            e => {
                return Err(Error::usage(format!(
                    "engine {e:?}: expected auto or single"
                )))
            }
        };
        Ok(PoolArgs {
            file: PathBuf::new(),
            measure,
            method,
            test,
            revman,
            zeros: spec.zeros,
            pi: spec.opts.pi,
            group: None,
            format: "table".into(),
            out: None,
            control: o.control,
            level,
            kernels,
        })
    }
}
