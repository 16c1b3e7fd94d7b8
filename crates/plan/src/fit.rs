//! One analysis's models: per-study effects by the outcome's type and convention, the fixed and
//! random-effects fits, and the model choice. Every formula is `metapipe-meta`'s.

use metapipe_meta::analysis::{self, Studies, Zeros};
use metapipe_meta::effect::{Binary, Continuous, Measure};
use metapipe_meta::model::{Fit, Method, Options};

/// How the studies of an outcome are pooled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Choice {
    Fixed,
    Random,
    /// both models, one results row each
    Both,
    /// a heterogeneity rule (some published reviews', not RevMan's): random effects if I² > `i2_above` or the heterogeneity p < `q_p_below`
    /// (judged on the fixed-effect fit), else fixed effect
    Rule {
        i2_above: f64,
        q_p_below: f64,
    },
}

/// An outcome's analysis settings, checked (see `metapipe run`'s config).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    pub measure: Measure,
    /// generic outcomes: the reported estimates and CIs are ratios, pooled on the log scale
    /// (`se` is then the SE of the log ratio)
    pub log_scale: bool,
    /// MH, Peto or FE (inverse variance)
    pub fixed: Method,
    pub random: Method,
    pub choice: Choice,
    /// whose rules the analysis follows where metafor's, RevMan 5's and Cochrane's differ
    pub convention: Convention,
    /// how binary studies with zero cells enter the inverse-variance analyses
    pub zeros: Zeros,
    pub opts: Options,
    /// report the prediction interval (random-effects models)
    pub prediction: bool,
    /// the level of the CIs reported by the studies of a generic outcome
    pub study_ci_level: f64,
}

pub use metapipe_meta::Convention;

impl Spec {
    /// RevMan 5's binary-data rules (zero cells, MH, DL from the MH Q).
    pub fn revman(&self) -> bool {
        self.convention == Convention::RevMan5
    }

    /// Whether estimates are analysed on the log scale and reported exponentiated.
    pub fn ratio(&self) -> bool {
        self.measure.is_ratio() || (self.measure == Measure::GEN && self.log_scale)
    }

    /// An estimate on the analysis scale shown on the natural scale: ratios exponentiated,
    /// logits and arcsines back to proportions, Fisher's z back to r; `n` the sample size the
    /// double arcsine's inverse needs (a study's own, or the harmonic mean of a pooled set's).
    pub fn back(&self, x: f64, n: f64) -> f64 {
        if self.ratio() {
            x.exp()
        } else {
            self.measure.back().apply(x, n)
        }
    }
}

/// One study's data for one outcome (the columns its type uses are set).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StudyData {
    pub study_id: String,
    pub events_treat: Option<i64>,
    pub n_treat: Option<i64>,
    pub events_ctrl: Option<i64>,
    pub n_ctrl: Option<i64>,
    pub mean_treat: Option<f64>,
    pub sd_treat: Option<f64>,
    pub mean_ctrl: Option<f64>,
    pub sd_ctrl: Option<f64>,
    pub estimate: Option<f64>,
    pub se: Option<f64>,
    pub ci_lb: Option<f64>,
    pub ci_ub: Option<f64>,
    /// one group's events and size (proportions), or a correlation's sample size
    pub events: Option<i64>,
    pub n: Option<i64>,
    /// person-time: one group's, or per arm
    pub time: Option<f64>,
    pub time_treat: Option<f64>,
    pub time_ctrl: Option<f64>,
    pub r: Option<f64>,
    pub o_minus_e: Option<f64>,
    pub v: Option<f64>,
    /// a study's mean difference and its SE, where it gives no arm data
    pub md: Option<f64>,
    pub md_se: Option<f64>,
}

impl StudyData {
    /// The row [`metapipe_meta::measures::effect_of_row`] reads for a family (NaN where a
    /// number is missing).
    fn family_row(&self, f: metapipe_meta::effect::Family) -> Vec<f64> {
        use metapipe_meta::effect::Family;
        let i = |x: Option<i64>| x.map_or(f64::NAN, |v| v as f64);
        let g = |x: Option<f64>| x.unwrap_or(f64::NAN);
        match f {
            Family::Proportion => vec![i(self.events), i(self.n)],
            Family::Rate => vec![i(self.events), g(self.time)],
            Family::RatePair => vec![
                i(self.events_treat),
                g(self.time_treat),
                i(self.events_ctrl),
                g(self.time_ctrl),
            ],
            Family::Correlation => vec![g(self.r), i(self.n)],
            Family::OMinusE => vec![g(self.o_minus_e), g(self.v)],
            _ => vec![],
        }
    }
    /// The sample size the double arcsine's back-transform needs (one group's n).
    pub fn size(&self) -> Option<f64> {
        self.n.map(|n| n as f64)
    }
    fn binary(&self) -> Binary {
        let g = |x: Option<i64>| x.unwrap_or(0) as f64;
        Binary::new(
            g(self.events_treat),
            g(self.n_treat),
            g(self.events_ctrl),
            g(self.n_ctrl),
        )
    }
    fn continuous(&self) -> Continuous {
        let g = |x: Option<f64>| x.unwrap_or(f64::NAN);
        let n = |x: Option<i64>| x.unwrap_or(0) as f64;
        Continuous {
            m1i: g(self.mean_treat),
            sd1i: g(self.sd_treat),
            n1i: n(self.n_treat),
            m2i: g(self.mean_ctrl),
            sd2i: g(self.sd_ctrl),
            n2i: n(self.n_ctrl),
        }
    }
}

/// Per-study (yi, vi) on the analysis scale, as the outcome's models see them: binary data
/// under the outcome's zero-cell rule ([`Spec::zeros`]);
/// continuous by `escalc`; generic from the estimate with its SE, or with its CI (the CI's width
/// on the analysis scale over 2·z of the studies' CI level).
pub fn study_effects(spec: &Spec, rows: &[StudyData]) -> Vec<Option<(f64, f64)>> {
    match spec.measure {
        m if m.is_binary() => analysis::effects(
            m,
            Studies::Binary(&rows.iter().map(StudyData::binary).collect::<Vec<_>>()),
            spec.zeros,
        ),
        m if m.is_continuous() => {
            let arms = analysis::effects(
                m,
                Studies::Continuous(&rows.iter().map(StudyData::continuous).collect::<Vec<_>>()),
                spec.zeros,
            );
            // a study's own mean difference and SE (a paired or adjusted analysis, or a study
            // without arm data) before its arms' unpaired difference (MD only)
            arms.into_iter()
                .zip(rows)
                .map(|(e, r)| match (r.md, r.md_se) {
                    (Some(md), Some(se)) if m == metapipe_meta::Measure::MD && se > 0.0 => {
                        Some((md, se * se))
                    }
                    _ => e,
                })
                .collect()
        }
        m if m != metapipe_meta::Measure::GEN => analysis::effects(
            m,
            Studies::Rows(
                &rows
                    .iter()
                    .map(|r| r.family_row(m.family()))
                    .collect::<Vec<_>>(),
            ),
            spec.zeros,
        ),
        _ => {
            let z = metapipe_meta::dist::qnorm_two_sided(spec.study_ci_level);
            let t = |x: f64| if spec.log_scale { x.ln() } else { x };
            rows.iter()
                .map(|r| {
                    let yi = t(r.estimate?);
                    let se = match (r.se, r.ci_lb, r.ci_ub) {
                        (Some(se), _, _) => se,
                        (None, Some(lb), Some(ub)) => (t(ub) - t(lb)) / (2.0 * z),
                        _ => return None,
                    };
                    Some((yi, se * se)).filter(|(y, v)| y.is_finite() && v.is_finite() && *v > 0.0)
                })
                .collect()
        }
    }
}

/// A fitted model as a results row names it.
#[derive(Debug, Clone)]
pub struct Model {
    /// "fixed" or "random"
    pub kind: &'static str,
    pub label: String,
    pub fit: Fit,
}

fn label(spec: &Spec, m: Method) -> String {
    let id = metapipe_meta::ModelId {
        method: m,
        convention: spec.convention,
        test: spec.opts.test,
    };
    id.label()
}

/// One method's fit by the shared dispatcher ([`analysis::fit`]); binary outcomes pass their
/// 2×2 tables (MH, Peto and RevMan's DL use them).
fn fit_one(
    spec: &Spec,
    method: Method,
    rows: &[StudyData],
    effects: &[Option<(f64, f64)>],
) -> Result<Fit, String> {
    use metapipe_meta::effect::Family;
    let family = spec.measure.family();
    let tables: Vec<Binary> = match family {
        Family::Binary => rows.iter().map(StudyData::binary).collect(),
        _ => vec![],
    };
    let family_rows: Vec<Vec<f64>> = match family {
        Family::Binary | Family::Continuous | Family::Generic => vec![],
        f => rows.iter().map(|r| r.family_row(f)).collect(),
    };
    let studies = match family {
        Family::Binary => Studies::Binary(&tables),
        Family::Continuous | Family::Generic => Studies::Effects(effects),
        _ => Studies::Rows(&family_rows),
    };
    analysis::fit(
        spec.measure,
        method,
        studies,
        effects,
        spec.revman(),
        &spec.opts,
    )
}

/// The models an analysis reports (fixed first when both), on studies with complete data.
pub fn models(
    spec: &Spec,
    rows: &[StudyData],
    effects: &[Option<(f64, f64)>],
) -> Result<Vec<Model>, String> {
    if effects.iter().all(Option::is_none) && !matches!(spec.fixed, Method::MH | Method::Peto) {
        return Err("no study has an estimable effect".into());
    }
    let fixed = |f: Fit| Model {
        kind: "fixed",
        label: label(spec, spec.fixed),
        fit: without_pi(spec, f),
    };
    let random = |f: Fit| Model {
        kind: "random",
        label: label(spec, spec.random),
        fit: without_pi(spec, f),
    };
    Ok(match spec.choice {
        Choice::Fixed => vec![fixed(fit_one(spec, spec.fixed, rows, effects)?)],
        Choice::Random => vec![random(fit_one(spec, spec.random, rows, effects)?)],
        Choice::Both => vec![
            fixed(fit_one(spec, spec.fixed, rows, effects)?),
            random(fit_one(spec, spec.random, rows, effects)?),
        ],
        Choice::Rule {
            i2_above,
            q_p_below,
        } => {
            let f = fit_one(spec, spec.fixed, rows, effects)?;
            if f.k > 1 && (f.i2 > i2_above || f.q_p < q_p_below) {
                vec![random(fit_one(spec, spec.random, rows, effects)?)]
            } else {
                vec![fixed(f)]
            }
        }
    })
}

/// The random-effects fit of `yi`, `vi` with τ² given (a common τ² across subgroups): the
/// inverse-variance model with weights 1/(vᵢ + τ²), the outcome's test and prediction interval.
pub(crate) fn random_with_tau2(spec: &Spec, yi: &[f64], vi: &[f64], tau2: f64) -> Fit {
    let mut f = metapipe_meta::rma::fit_with_tau2(yi, vi, spec.random, tau2, &spec.opts);
    // a Q-profile interval is of a subgroup's own τ², which this fit does not estimate
    f.tau2_ci = None;
    f.i2_ci = None;
    without_pi(spec, f)
}

fn without_pi(spec: &Spec, mut f: Fit) -> Fit {
    if !spec.prediction {
        f.pi_lb = None;
        f.pi_ub = None;
    }
    f
}
