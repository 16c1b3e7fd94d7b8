//! The Summary of findings (GRADE): per outcome the studies and participants, the relative
//! effect, the absolute effects at one or more assumed baseline risks, and the certainty of the
//! evidence — the review team's judgment beside the rules' suggestion (`suggest`), never one
//! taken for the other.
//!
//! The numbers are the pooled results and the stage tables as written; the absolute effects are
//! `metapipe_meta::absolute`'s formulas (the Handbook's statistical considerations for Summary
//! of findings tables; sources there).

use crate::cells::{fl, it, s};
use metapipe_meta::absolute::{corresponding_risk, Relative};
use metapipe_meta::Measure;
use metapipe_tables::schema::OutcomeKind;
use metapipe_tables::schema::{CERTAINTY, SOF};
use metapipe_tables::{f, i, s as cs, so, Builder, Cell, Result, Table};

mod suggest;
mod text;
pub use suggest::{Domain, Suggestion, DOMAINS};
pub use text::{sof_text, symbols, thousands, SofText};

/// The assumed risk without the intervention (binary outcomes).
#[derive(Debug, Clone, PartialEq)]
pub enum Baseline {
    /// the median of the analysed studies' control-group risks (the default)
    MedianControl,
    /// all control-group events over all control-group participants
    PooledControl,
    /// a risk the review gives (e.g. of a low- or high-risk population), with its label
    Given { risk: f64, label: Option<String> },
}

impl Baseline {
    fn describe(&self) -> String {
        match self {
            Baseline::MedianControl => "median control risk".into(),
            Baseline::PooledControl => "pooled control risk".into(),
            Baseline::Given { risk, label } => match label {
                Some(l) => format!("{l} ({})", num(*risk)),
                None => num(*risk),
            },
        }
    }
}

/// The review team's GRADE judgment of one outcome: per domain (in [`DOMAINS`] order) the
/// levels downgraded (0, 1 or 2) and why; upgrades (observational evidence) and why.
#[derive(Debug, Clone, Default)]
pub struct Judgment {
    /// observational evidence starts at low certainty, randomised trials at high
    pub observational: bool,
    pub domains: [Option<(u8, String)>; 5],
    pub upgrade: Option<(u8, String)>,
}

/// What the Summary of findings needs of an outcome beyond the stage tables.
#[derive(Debug, Clone)]
pub struct SofOutcome {
    pub id: String,
    pub label: String,
    pub measure: Measure,
    pub kind: OutcomeKind,
    /// the effect is a ratio (analysed on the log scale; no effect is 1)
    pub log: bool,
    /// the pooled row shown: `fixed` or `random` (default: random where both were fitted)
    pub model: Option<String>,
    pub baselines: Vec<Baseline>,
    /// absolute effects per this many participants (1000)
    pub per: i64,
    /// the effects of appreciable benefit and harm, on the effect's scale (imprecision)
    pub thresholds: Option<(f64, f64)>,
    pub judgment: Option<Judgment>,
}

/// The stage tables the Summary of findings reads.
pub struct SofInput<'a> {
    pub results: &'a Table,
    pub effects: &'a Table,
    pub outcome_data: &'a Table,
    pub rob: Option<&'a Table>,
    pub sensitivity: Option<&'a Table>,
}

/// The pooled result an outcome's Summary of findings shows: its overall row (no subgroup),
/// the model asked for, else the random-effects one, else the first.
fn result_row(results: &Table, o: &SofOutcome) -> Option<usize> {
    let rows: Vec<usize> = (0..results.num_rows())
        .filter(|&r| s(results, "outcome", r).as_deref() == Some(&o.id))
        .filter(|&r| s(results, "subgroup", r).is_none())
        .collect();
    let want = o.model.as_deref().unwrap_or("random");
    rows.iter()
        .copied()
        .find(|&r| s(results, "model_type", r).as_deref() == Some(want))
        .or_else(|| rows.first().copied())
}

/// A pooled row's figure on the natural scale (a ratio as a ratio), whatever `scale` it is on.
pub(crate) fn natural(res: &Table, c: &str, r: usize) -> Option<f64> {
    let v = fl(res, c, r)?;
    Some(if s(res, "scale", r).as_deref() == Some("log") {
        v.exp()
    } else {
        v
    })
}

/// The rows of `per_study_effects` of an outcome's overall analysis (no subgroup).
pub(crate) fn analysed(effects: &Table, id: &str) -> Vec<usize> {
    (0..effects.num_rows())
        .filter(|&r| s(effects, "outcome", r).as_deref() == Some(id))
        .filter(|&r| s(effects, "subgroup", r).is_none())
        .collect()
}

/// The control-group risks of the studies an outcome's overall analysis used.
fn control_risks(effects: &Table, id: &str) -> Vec<(i64, i64)> {
    analysed(effects, id)
        .into_iter()
        .filter_map(|r| Some((it(effects, "events_ctrl", r)?, it(effects, "n_ctrl", r)?)))
        .filter(|&(_, n)| n > 0)
        .collect()
}

/// The assumed risk of a baseline, from the studies' control groups where it is theirs.
fn assumed(b: &Baseline, risks: &[(i64, i64)]) -> Option<f64> {
    match b {
        Baseline::Given { risk, .. } => Some(*risk),
        Baseline::PooledControl => {
            let (e, n) = risks.iter().fold((0, 0), |a, r| (a.0 + r.0, a.1 + r.1));
            (n > 0).then(|| e as f64 / n as f64)
        }
        Baseline::MedianControl => {
            median(risks.iter().map(|&(e, n)| e as f64 / n as f64).collect())
        }
    }
}

/// The median (the mean of the middle two of an even count), None of nothing.
fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let m = v.len();
    match m {
        0 => None,
        _ if m % 2 == 1 => Some(v[m / 2]),
        _ => Some((v[m / 2 - 1] + v[m / 2]) / 2.0),
    }
}

/// The relative-effect kind of a measure, where absolute effects follow from one.
fn relative_kind(m: Measure) -> Option<Relative> {
    match m {
        Measure::RR => Some(Relative::Rr),
        Measure::OR => Some(Relative::Or),
        Measure::RD => Some(Relative::Rd),
        Measure::OEV => Some(Relative::Hr),
        _ => None,
    }
}

/// A certainty level from its rank (4 high … 1 very low), clamped.
fn certainty(rank: i64) -> &'static str {
    CERTAINTY[(4 - rank.clamp(1, 4)) as usize]
}

/// The Summary of findings of every outcome with a pooled comparison (one-group outcomes,
/// proportions and rates of one group, have none).
pub fn sof_table(inp: &SofInput, outcomes: &[SofOutcome]) -> Result<Table> {
    let mut b = Builder::new(&SOF);
    for o in outcomes.iter().filter(|o| !o.kind.one_group()) {
        if let Some(r) = result_row(inp.results, o) {
            for row in outcome_rows(inp, o, r) {
                b.row(row);
            }
        }
    }
    b.finish()
}

/// What a row shows of the team's judgment and the suggestion (the same at every baseline).
struct Certainty {
    judged: Option<&'static str>,
    downgrades: Option<String>,
    suggested: Option<String>,
    suggestions: String,
    flags: Option<String>,
}

impl Certainty {
    /// Nothing is suggested where nothing was pooled: the row says why.
    fn of(
        inp: &SofInput,
        o: &SofOutcome,
        r: usize,
        participants: Option<i64>,
        risks: &[(i64, i64)],
    ) -> Certainty {
        let res = inp.results;
        let start = if o.judgment.as_ref().is_some_and(|j| j.observational) {
            2
        } else {
            4
        };
        let pooled = fl(res, "estimate", r).is_some();
        let sug = if pooled {
            suggest::suggest(inp, o, r, participants, risks)
        } else {
            vec![]
        };
        let suggested: i64 = sug.iter().map(|x| x.downgrade.unwrap_or(0) as i64).sum();
        let not_pooled = match s(res, "note", r) {
            Some(n) => format!("not pooled: {n}"),
            None => "not pooled".to_string(),
        };
        Certainty {
            judged: judged(o, start),
            downgrades: o.judgment.as_ref().map(downgrades),
            suggested: pooled.then(|| certainty(start - suggested).to_string()),
            suggestions: if pooled {
                suggestions(&sug)
            } else {
                not_pooled
            },
            flags: flags(o, &sug),
        }
    }
}

/// An outcome's rows: one per baseline risk (binary outcomes), else one.
fn outcome_rows(inp: &SofInput, o: &SofOutcome, r: usize) -> Vec<Vec<Cell>> {
    let res = inp.results;
    let est = ["estimate", "ci_lb", "ci_ub"].map(|c| natural(res, c, r));
    let participants = match (it(res, "n_treat", r), it(res, "n_ctrl", r)) {
        (Some(a), Some(b)) => Some(a + b),
        _ => None,
    };
    let risks = control_risks(inp.effects, &o.id);
    let cert = Certainty::of(inp, o, r, participants, &risks);
    let continuous = o.kind == OutcomeKind::Continuous;
    let rel = relative_kind(o.measure).filter(|_| o.kind == OutcomeKind::Binary);
    // the relative effect: a ratio, or a binary outcome's risk difference
    let relative = if o.log || rel.is_some() {
        est
    } else {
        [None; 3]
    };
    let baselines: Vec<Option<&Baseline>> = match rel {
        Some(_) if !o.baselines.is_empty() => o.baselines.iter().map(Some).collect(),
        Some(_) => vec![Some(&Baseline::MedianControl)],
        None => vec![None],
    };
    let measure = if o.measure == Measure::GEN {
        "effect"
    } else {
        o.measure.name()
    };
    let mut rows = vec![];
    for base in baselines {
        let acr = base.and_then(|bl| assumed(bl, &risks));
        let per = o.per as f64;
        let corr = est.map(|e| Some(corresponding_risk(rel?, acr?, e?) * per));
        let diff = if continuous {
            est
        } else {
            corr.map(|c| Some(c? - acr? * per))
        };
        let described = base
            .map(Baseline::describe)
            .or_else(|| continuous.then(|| "median control-group mean".to_string()));
        let mut row = vec![
            cs(&o.id),
            cs(&o.label),
            i(it(res, "k", r)),
            i(participants),
            cs(measure),
            so(s(res, "model", r)),
        ];
        row.extend(relative.map(f));
        row.extend([
            so(described),
            i(rel.map(|_| o.per)),
            f(acr.map(|a| a * per)),
        ]);
        row.extend(corr.map(f));
        row.push(f(continuous.then(|| control_mean(inp, &o.id)).flatten()));
        row.extend(diff.map(f));
        row.extend([
            so(cert.judged.map(str::to_string)),
            so(cert.downgrades.clone()),
            so(cert.suggested.clone()),
            cs(&cert.suggestions),
            so(cert.flags.clone()),
            so(footnotes(o, base, acr)),
        ]);
        rows.push(row);
    }
    rows
}

/// The team's certainty, where it judged every domain.
fn judged(o: &SofOutcome, start: i64) -> Option<&'static str> {
    let j = o.judgment.as_ref()?;
    let mut rank = start;
    for d in &j.domains {
        rank -= d.as_ref()?.0 as i64;
    }
    rank += j.upgrade.as_ref().map_or(0, |u| u.0 as i64);
    Some(certainty(rank))
}

/// The team's downgrades as text: `risk of bias −1; imprecision −2`, `none`, or what is still
/// to be judged.
fn downgrades(j: &Judgment) -> String {
    let mut parts: Vec<String> = vec![];
    let mut open: Vec<&str> = vec![];
    for (d, v) in DOMAINS.iter().zip(&j.domains) {
        match v {
            Some((n, _)) if *n > 0 => parts.push(format!("{} −{n}", d.name())),
            Some(_) => {}
            None => open.push(d.name()),
        }
    }
    if let Some((n, _)) = &j.upgrade {
        if *n > 0 {
            parts.push(format!("upgraded +{n}"));
        }
    }
    if !open.is_empty() {
        parts.push(format!("not judged: {}", open.join(", ")));
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join("; ")
    }
}

/// The suggestion per domain as text: `inconsistency −1 (I² = 62%, …)`.
fn suggestions(sug: &[Suggestion]) -> String {
    sug.iter()
        .map(|x| match x.downgrade {
            Some(0) => format!("{} 0 ({})", x.domain.name(), x.why),
            Some(n) => format!("{} −{n} ({})", x.domain.name(), x.why),
            None => format!("{}: no suggestion ({})", x.domain.name(), x.why),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Each domain where the team's judgment differs from the suggestion.
fn flags(o: &SofOutcome, sug: &[Suggestion]) -> Option<String> {
    let j = o.judgment.as_ref()?;
    let v: Vec<String> = sug
        .iter()
        .zip(&j.domains)
        .filter_map(|(x, d)| {
            let (team, sugg) = (d.as_ref()?.0, x.downgrade?);
            (team != sugg)
                .then(|| format!("{}: judged −{team}, suggested −{sugg}", x.domain.name()))
        })
        .collect();
    (!v.is_empty()).then(|| v.join("; "))
}

/// GRADEpro's footnotes: the team's reasons for each downgrade and upgrade (a, b, …), then how
/// the assumed risk was chosen.
fn footnotes(o: &SofOutcome, base: Option<&Baseline>, acr: Option<f64>) -> Option<String> {
    let mut notes: Vec<String> = vec![];
    if let Some(j) = &o.judgment {
        for (d, v) in DOMAINS.iter().zip(&j.domains) {
            if let Some((n, why)) = v {
                if *n > 0 {
                    notes.push(format!("Downgraded {n} for {}: {why}", d.name()));
                }
            }
        }
        if let Some((n, why)) = &j.upgrade {
            if *n > 0 {
                notes.push(format!("Upgraded {n}: {why}"));
            }
        }
    } else {
        notes.push(
            "Certainty not judged by the review team ([[grade]]); the suggestion is shown".into(),
        );
    }
    match (base, acr) {
        (Some(Baseline::MedianControl), Some(_)) => notes.push(
            "Assumed risk: the median control-group risk of the included studies".into(),
        ),
        (Some(Baseline::PooledControl), Some(_)) => notes.push(
            "Assumed risk: the control-group events over the control-group participants of the included studies".into(),
        ),
        (Some(_), None) => notes.push("No control-group risks to assume one from".into()),
        _ => {}
    }
    if o.log && relative_kind(o.measure).is_none() {
        notes.push("No absolute effects: a generic ratio's kind (odds, risk or hazard) is not known, so no corresponding risk follows from it".into());
    }
    if o.measure == Measure::SMD {
        notes.push("SMD: 0.2 small, 0.5 moderate, 0.8 large (Cohen's rules of thumb, as the Handbook's chapter 15 gives them)".into());
    }
    let letters = "abcdefghijklmnopqrstuvwxyz";
    (!notes.is_empty()).then(|| {
        notes
            .iter()
            .zip(letters.chars())
            .map(|(n, l)| format!("{l}. {n}."))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// The median of the analysed studies' control-group means (continuous outcomes).
fn control_mean(inp: &SofInput, id: &str) -> Option<f64> {
    let ids: Vec<String> = analysed(inp.effects, id)
        .into_iter()
        .filter_map(|r| s(inp.effects, "study_id", r))
        .collect();
    let od = inp.outcome_data;
    let means = (0..od.num_rows())
        .filter(|&r| s(od, "outcome", r).as_deref() == Some(id))
        .filter(|&r| s(od, "study_id", r).is_some_and(|x| ids.contains(&x)))
        .filter_map(|r| fl(od, "mean_ctrl", r))
        .collect();
    median(means)
}

/// A number as the footnotes print it (up to four significant decimals).
fn num(v: f64) -> String {
    let t = format!("{v:.4}");
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}
