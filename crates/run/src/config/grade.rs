//! `[[grade]]`: the review team's GRADE judgment of an outcome and its Summary of findings
//! options (docs/config.md, "Summary of findings and GRADE"), checked when the config loads and
//! turned into the report's `sof::SofOutcome`.

use super::checks::Bad;
use super::*;
use metapipe_report::sof::{Baseline, Judgment, SofOutcome, DOMAINS};

/// An assumed baseline risk: a word (`"median control risk"`, `"pooled control risk"`) or a
/// risk; or a list of them (populations at different risk), one row each.
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum BaselineCfg {
    One(BaselineItem),
    Several(Vec<BaselineItem>),
}

#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum BaselineItem {
    Word(String),
    Risk(f64),
}

impl BaselineCfg {
    fn items(&self) -> &[BaselineItem] {
        match self {
            BaselineCfg::One(i) => std::slice::from_ref(i),
            BaselineCfg::Several(v) => v,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GradeCfg {
    pub outcome: String,
    /// `randomised` (default: certainty starts high) or `observational` (starts low)
    pub design: Option<String>,
    /// the pooled model shown: `fixed` or `random` (default: random where both were fitted)
    pub model: Option<String>,
    pub baseline: Option<BaselineCfg>,
    /// labels of the given baseline risks, one each (e.g. "low risk", "high risk")
    pub baseline_labels: Option<Vec<String>>,
    /// absolute effects per this many participants (default 1000)
    pub per: Option<i64>,
    /// the effects of appreciable benefit and harm on the effect's scale (imprecision)
    pub thresholds: Option<Vec<f64>>,
    pub risk_of_bias: Option<u8>,
    pub risk_of_bias_reason: Option<String>,
    pub inconsistency: Option<u8>,
    pub inconsistency_reason: Option<String>,
    pub indirectness: Option<u8>,
    pub indirectness_reason: Option<String>,
    pub imprecision: Option<u8>,
    pub imprecision_reason: Option<String>,
    pub publication_bias: Option<u8>,
    pub publication_bias_reason: Option<String>,
    /// levels upgraded (observational evidence: large effect, dose-response, confounding)
    pub upgrade: Option<u8>,
    pub upgrade_reason: Option<String>,
}

impl GradeCfg {
    /// Each domain's (downgrade, reason) in `DOMAINS` order.
    fn domains(&self) -> [(Option<u8>, Option<&String>); 5] {
        [
            (self.risk_of_bias, self.risk_of_bias_reason.as_ref()),
            (self.inconsistency, self.inconsistency_reason.as_ref()),
            (self.indirectness, self.indirectness_reason.as_ref()),
            (self.imprecision, self.imprecision_reason.as_ref()),
            (self.publication_bias, self.publication_bias_reason.as_ref()),
        ]
    }

    fn observational(&self) -> bool {
        self.design.as_deref() == Some("observational")
    }

    /// The checked baselines (the config's check has run); the labels name the given risks.
    fn baselines(&self) -> Vec<Baseline> {
        let mut labels = self.baseline_labels.iter().flatten();
        let items = self.baseline.as_ref().map_or(&[][..], BaselineCfg::items);
        items
            .iter()
            .map(|b| match b {
                BaselineItem::Word(w) if w == "pooled control risk" => Baseline::PooledControl,
                BaselineItem::Word(_) => Baseline::MedianControl,
                BaselineItem::Risk(r) => Baseline::Given {
                    risk: *r,
                    label: labels.next().cloned(),
                },
            })
            .collect()
    }
}

/// An error in the `n`-th `[[grade]]` entry.
fn bad<T>(n: usize, key: &str, msg: String) -> Result<T, Bad> {
    Bad::nth(n, &format!("grade.{key}"), msg)
}

impl Config {
    /// `[[grade]]`: a known outcome once each, known words, risks in (0, 1), a reason for every
    /// downgrade and upgrade.
    pub(super) fn check_grade(&self) -> Result<(), Bad> {
        let mut seen = std::collections::BTreeSet::new();
        for (n, g) in self.grade.iter().enumerate() {
            if !self.outcomes.iter().any(|o| o.id == g.outcome) {
                return bad(
                    n,
                    "outcome",
                    format!("{:?} is not an outcome id", g.outcome),
                );
            }
            if !seen.insert(&g.outcome) {
                return bad(n, "outcome", format!("{:?} judged twice", g.outcome));
            }
            if let Some(d) = g.design.as_deref() {
                if d != "randomised" && d != "observational" {
                    let m = format!("{d:?}: expected \"randomised\" or \"observational\"");
                    return bad(n, "design", m);
                }
            }
            if let Some(m) = g.model.as_deref() {
                if m != "fixed" && m != "random" {
                    return bad(
                        n,
                        "model",
                        format!("{m:?}: expected \"fixed\" or \"random\""),
                    );
                }
            }
            check_baseline(n, g)?;
            if g.per.is_some_and(|p| p <= 0) {
                return bad(
                    n,
                    "per",
                    "must be a positive whole number (e.g. 1000)".into(),
                );
            }
            if let Some(t) = &g.thresholds {
                if t.len() != 2 || t[0].partial_cmp(&t[1]) != Some(std::cmp::Ordering::Less) {
                    let m = "expected two numbers, lower then upper (e.g. [0.75, 1.25])";
                    return bad(n, "thresholds", m.into());
                }
            }
            let judged = DOMAINS.iter().map(|d| d.key()).zip(g.domains());
            let judged = judged.chain([("upgrade", (g.upgrade, g.upgrade_reason.as_ref()))]);
            for (key, (level, reason)) in judged {
                match (level, reason) {
                    (Some(l), _) if l > 2 => {
                        return bad(n, key, format!("{l}: expected 0, 1 or 2 levels"))
                    }
                    (Some(l), None) if l > 0 => {
                        let m = format!("{key} = {l} needs its reason ({key}_reason)");
                        return bad(n, key, m);
                    }
                    (None, Some(_)) => {
                        let m = format!("a reason without the judgment ({key} = 0, 1 or 2)");
                        return bad(n, &format!("{key}_reason"), m);
                    }
                    _ => {}
                }
            }
            if g.upgrade.is_some_and(|u| u > 0) && !g.observational() {
                let m = "upgrading applies to observational evidence (design = \"observational\")";
                return bad(n, "upgrade", m.into());
            }
        }
        Ok(())
    }

    /// The Summary of findings options of every outcome, with the team's judgment where given.
    pub fn sof_outcomes(&self) -> Result<Vec<SofOutcome>, Error> {
        self.outcomes
            .iter()
            .map(|o| {
                let spec = self.spec(o)?;
                let g = self.grade.iter().find(|g| g.outcome == o.id);
                let judgment = g.map(|g| Judgment {
                    observational: g.observational(),
                    domains: g
                        .domains()
                        .map(|(l, r)| l.map(|l| (l, r.cloned().unwrap_or_default()))),
                    upgrade: g
                        .upgrade
                        .map(|u| (u, g.upgrade_reason.clone().unwrap_or_default())),
                });
                Ok(SofOutcome {
                    id: o.id.clone(),
                    label: o.label.clone(),
                    measure: spec.measure,
                    kind: crate::protocol::outcome_kind(spec.measure),
                    log: spec.ratio(),
                    model: g.and_then(|g| g.model.clone()),
                    baselines: g.map(GradeCfg::baselines).unwrap_or_default(),
                    per: g.and_then(|g| g.per).unwrap_or(1000),
                    thresholds: g.and_then(|g| g.thresholds.as_ref()).map(|t| (t[0], t[1])),
                    judgment,
                })
            })
            .collect()
    }
}

fn check_baseline(n: usize, g: &GradeCfg) -> Result<(), Bad> {
    let items = g.baseline.as_ref().map_or(&[][..], BaselineCfg::items);
    if g.baseline.is_some() && items.is_empty() {
        return bad(n, "baseline", "an empty list of baseline risks".into());
    }
    for b in items {
        match b {
            BaselineItem::Word(w) if w != "median control risk" && w != "pooled control risk" => {
                let m = format!(
                    "{w:?}: expected \"median control risk\", \"pooled control risk\" or a risk (0 to 1)"
                );
                return bad(n, "baseline", m);
            }
            BaselineItem::Risk(r) if !(*r > 0.0 && *r < 1.0) => {
                let m = format!("{r}: a risk is a proportion between 0 and 1");
                return bad(n, "baseline", m);
            }
            _ => {}
        }
    }
    if let Some(l) = &g.baseline_labels {
        let risks = items
            .iter()
            .filter(|b| matches!(b, BaselineItem::Risk(_)))
            .count();
        if l.len() != risks {
            let m = format!("{} labels for {risks} given risks (one each)", l.len());
            return bad(n, "baseline_labels", m);
        }
    }
    Ok(())
}
