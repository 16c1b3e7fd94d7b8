//! The test for subgroup differences on an outcome's overall row (`subgroup_by`): Q across the
//! subgroups' pooled estimates, per model kind. With separate τ² (the default; RevMan's and
//! meta's) each subgroup is fitted on its own; with a common τ² (`subgroup_tau2 = "common"`:
//! meta's `tau.common`, metafor's `rma(mods = ~ factor(subgroup))`) τ² is that of the
//! mixed-effects model with the subgroup as a factor, every subgroup's random-effects row is
//! refitted with it, and the random-effects test is that model's QM (a Wald χ² on the number of
//! subgroups − 1 df, equal to Q between the refitted estimates with their Wald SEs).

use crate::{Analysis, Between, OutcomePlan};
use metapipe_meta::extras::subgroup_difference;
use metapipe_meta::metareg::{fit, Design};
use metapipe_meta::model::{Options, Test};

/// Set the test on the overall row of each outcome with `subgroup_by` (refitting its subgroups'
/// random-effects rows first under a common τ²).
pub(crate) fn subgroup_tests(plans: &[OutcomePlan], out: &mut [Analysis]) {
    for p in plans {
        let Some((by, _)) = &p.subgroup_by else {
            continue;
        };
        let subs: Vec<usize> = (0..out.len())
            .filter(|&i| out[i].outcome == p.id && out[i].subgroup_by.as_deref() == Some(by))
            .collect();
        let common = if p.common_tau2 {
            common_tau2(p, &subs, out)
        } else {
            None
        };
        let mut tests = vec![];
        for kind in ["fixed", "random"] {
            if let (Some(c), "random") = (&common, kind) {
                if let Ok(c) = c {
                    tests.push((kind, c.qm, c.df, c.p));
                }
                continue;
            }
            let est: Vec<(f64, f64)> = subs
                .iter()
                .filter_map(|&i| out[i].models.iter().find(|m| m.kind == kind))
                .map(|m| (m.fit.estimate, m.fit.se))
                .collect();
            if let Some(t) = subgroup_difference(&est) {
                tests.push((kind, t.q, t.df, t.p));
            }
        }
        if let Some(overall) = out
            .iter_mut()
            .find(|a| a.outcome == p.id && a.subgroup.is_none())
        {
            overall.between = Some(Between {
                by: by.clone(),
                tests,
            });
            match common {
                Some(Ok(c)) => append_note(overall, c.note),
                Some(Err(why)) => append_note(overall, why),
                None => {}
            }
        }
    }
}

struct Common {
    qm: f64,
    df: usize,
    p: f64,
    note: String,
}

fn append_note(a: &mut Analysis, note: String) {
    a.note = Some(match a.note.take() {
        Some(n) => format!("{n}; {note}"),
        None => note,
    });
}

/// τ² common to the subgroups `subs` (those with a random-effects row), their random-effects
/// rows refitted with it, and the moderator test; `None` with fewer than two such subgroups.
fn common_tau2(
    p: &OutcomePlan,
    subs: &[usize],
    out: &mut [Analysis],
) -> Option<Result<Common, String>> {
    let spec = p.spec;
    let with: Vec<usize> = subs
        .iter()
        .copied()
        .filter(|&i| out[i].models.iter().any(|m| m.kind == "random"))
        .collect();
    let (mut y, mut v, mut g) = (vec![], vec![], vec![]);
    for &i in &with {
        let name = out[i].subgroup.clone().unwrap_or_default();
        for (yy, vv) in out[i].per_study.iter().filter_map(|r| r.1) {
            y.push(yy);
            v.push(vv);
            g.push(name.clone());
        }
    }
    let groups: Vec<&str> = g.iter().map(String::as_str).collect();
    if with.len() < 2 {
        return None;
    }
    let x = match Design::factor(&groups) {
        Ok(x) => x,
        Err(e) => return Some(Err(e.to_string())),
    };
    let z = Options {
        test: Test::Z,
        ..spec.opts
    };
    let m = match fit(&y, &v, &x, spec.random.iv(), &z) {
        Ok(m) => m,
        Err(e) => {
            return Some(Err(format!(
                "test for subgroup differences with a common tau2: not estimable: {e}"
            )))
        }
    };
    for &i in &with {
        let a = &mut out[i];
        let (yi, vi): (Vec<f64>, Vec<f64>) = a.per_study.iter().filter_map(|r| r.1).unzip();
        let f = crate::fit::random_with_tau2(&spec, &yi, &vi, m.tau2);
        // the studies' weights are the last model's: the random-effects one when it is reported
        if a.models.last().is_some_and(|l| l.kind == "random") {
            let mut w = f.weights.iter();
            for r in a.per_study.iter_mut() {
                r.2 = Some(if r.1.is_some() {
                    *w.next().unwrap_or(&0.0)
                } else {
                    0.0
                });
            }
        }
        if let Some(r) = a.models.iter_mut().find(|m| m.kind == "random") {
            r.fit = f;
        }
        append_note(
            a,
            format!(
                "random effects with the tau2 common to the subgroups ({:.4})",
                m.tau2
            ),
        );
    }
    Some(Ok(Common {
        qm: m.qm,
        df: m.qm_df.0,
        p: m.qm_p,
        note: format!(
            "test for subgroup differences (random effects) with a common tau2 = {:.4} ({}, mixed-effects model with {} as a factor)",
            m.tau2,
            spec.random.name(),
            p.subgroup_by.as_ref().map_or("", |b| b.0.as_str())
        ),
    }))
}
