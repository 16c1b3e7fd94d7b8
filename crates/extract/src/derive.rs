//! The statistics trials report, converted in the outcome sheet (Cochrane Handbook 6.5.2): per
//! arm (`_treat`, `_ctrl`) a median with its quartiles (`q1_`, `q3_`) and/or range (`min_`,
//! `max_`), an SE of the mean (`se_`), a CI of the mean (`mean_ci_lb_`, `mean_ci_ub_`, at the
//! sheet's `ci_level`, 95% by default), a percentage with events (`events_pct_`), each with the
//! arm's size. A reported mean, SD or count is never overwritten: only what the row leaves empty
//! is derived, and the row says how (`derivation`). Formulas: `metapipe_meta::conversions`.

use metapipe_meta::conversions::{
    events_from_percent, md_se as md_se_of, sd_from_ci, sd_from_se, FiveNum, MdStat, MeanMethod,
    SdMethod,
};
use metapipe_tables::sheet::Row;
use metapipe_tables::Result;

/// How medians are converted (`[extraction]`'s `mean_from_median`, `sd_from_median`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Methods {
    pub mean: MeanMethod,
    pub sd: SdMethod,
}

/// One arm's cells the conversions fill: mean, SD, events (each `None` when not reported).
pub(crate) struct Arm<'a> {
    pub suffix: &'static str,
    pub n: Option<i64>,
    pub mean: &'a mut Option<f64>,
    pub sd: &'a mut Option<f64>,
    pub events: &'a mut Option<i64>,
}

/// What a row reports for one arm besides its mean, SD and events.
struct Reported {
    median: Option<f64>,
    q1: Option<f64>,
    q3: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    se: Option<f64>,
    lb: Option<f64>,
    ub: Option<f64>,
    pct: Option<f64>,
    /// the level of `lb`, `ub` (the row's `ci_level`, 95% by default)
    level: f64,
}

impl Reported {
    fn read(r: &Row, s: &str) -> Result<Reported> {
        let num = |c: &str| r.number(&format!("{c}_{s}"));
        let level = ci_level(r)?;
        Ok(Reported {
            median: num("median")?,
            q1: num("q1")?,
            q3: num("q3")?,
            min: num("min")?,
            max: num("max")?,
            se: num("se")?,
            lb: num("mean_ci_lb")?,
            ub: num("mean_ci_ub")?,
            pct: num("events_pct")?,
            level,
        })
    }
}

/// The level of the row's reported CIs (`ci_level`, a percentage or a fraction; 95% by default).
fn ci_level(r: &Row) -> Result<f64> {
    match r.number("ci_level")? {
        None => Ok(0.95),
        Some(l) => metapipe_meta::types::level_fraction(l).ok_or_else(|| {
            r.err(
                "ci_level",
                format!("{l}: expected a level such as 95 or 0.95"),
            )
        }),
    }
}

fn fmt(x: f64) -> String {
    format!("{}", (x * 1e6).round() / 1e6)
}

/// Fill what `arm` leaves empty from the statistics the row reports; the derivations, each
/// "cell = value: method from inputs".
pub(crate) fn derive(r: &Row, arm: Arm, m: Methods) -> Result<Vec<String>> {
    let s = arm.suffix;
    let col = |c: &str| format!("{c}_{s}");
    let rep = Reported::read(r, s)?;
    let wants_mean =
        arm.mean.is_none() && (rep.median.is_some() || (rep.lb.is_some() && rep.ub.is_some()));
    let wants_sd = arm.sd.is_none()
        && (rep.median.is_some() || rep.se.is_some() || rep.lb.is_some() || rep.ub.is_some());
    let wants_events = arm.events.is_none() && rep.pct.is_some();
    if !(wants_mean || wants_sd || wants_events) {
        return Ok(vec![]);
    }
    // every conversion needs the arm's size
    let n = arm.n.ok_or_else(|| {
        let what = if rep.median.is_some() {
            "a median"
        } else {
            "a reported statistic"
        };
        r.err(
            &col("n"),
            format!("{what} of this arm needs its group size n_{s}"),
        )
    })? as f64;
    let mut out = vec![];
    if let Some(md) = rep.median {
        out.extend(from_median(r, &rep, md, n, s, (arm.mean, arm.sd), m)?);
    }
    if arm.sd.is_none() {
        out.extend(sd_from_se_or_ci(r, &rep, n, s, *arm.mean, arm.sd)?);
    }
    if let (None, Some(l), Some(u)) = (*arm.mean, rep.lb, rep.ub) {
        let v = (l + u) / 2.0;
        *arm.mean = Some(v);
        let lv = fmt(rep.level * 100.0);
        out.push(format!("mean_{s} = {}: the middle of its {lv}% CI", fmt(v)));
    }
    if let (true, Some(p)) = (wants_events, rep.pct) {
        let v = events_from_percent(p, n).map_err(|e| r.err(&col("events_pct"), e))?;
        *arm.events = Some(v as i64);
        out.push(format!("events_{s} = {v}: {}% of n {n}, rounded", fmt(p)));
    }
    Ok(out)
}

/// The mean and (without an SE or a CI) the SD from a median with its quartiles and/or range.
fn from_median(
    r: &Row,
    rep: &Reported,
    md: f64,
    n: f64,
    s: &str,
    (mean, sd): (&mut Option<f64>, &mut Option<f64>),
    m: Methods,
) -> Result<Vec<String>> {
    let five = FiveNum {
        n,
        min: rep.min,
        q1: rep.q1,
        median: md,
        q3: rep.q3,
        max: rep.max,
    };
    let inputs = [
        ("min", rep.min),
        ("q1", rep.q1),
        ("median", Some(md)),
        ("q3", rep.q3),
        ("max", rep.max),
    ]
    .iter()
    .filter_map(|(k, v)| v.map(|v| format!("{k} {}", fmt(v))))
    .collect::<Vec<_>>()
    .join(", ");
    let err = |e: String| r.err(&format!("median_{s}"), e);
    let mut out = vec![];
    if mean.is_none() {
        let v = five.mean(m.mean).map_err(err)?;
        *mean = Some(v);
        out.push(format!(
            "mean_{s} = {}: {} from {inputs}, n {n}",
            fmt(v),
            m.mean.name()
        ));
    }
    if sd.is_none() && rep.se.is_none() && rep.lb.is_none() {
        let v = five.sd(m.sd).map_err(err)?;
        *sd = Some(v);
        out.push(format!(
            "sd_{s} = {}: {} from {inputs}, n {n}",
            fmt(v),
            m.sd.name()
        ));
    }
    Ok(out)
}

/// The SD from an SE of the mean, else from a CI of the mean (Handbook 6.5.2.2).
fn sd_from_se_or_ci(
    r: &Row,
    rep: &Reported,
    n: f64,
    s: &str,
    mean: Option<f64>,
    sd: &mut Option<f64>,
) -> Result<Vec<String>> {
    let col = |c: &str| format!("{c}_{s}");
    let note = if let Some(se) = rep.se {
        let v = sd_from_se(se, n).map_err(|e| r.err(&col("se"), e))?;
        *sd = Some(v);
        format!("sd_{s} = {}: SE {} x sqrt(n {n})", fmt(v), fmt(se))
    } else if let (Some(l), Some(u)) = (rep.lb, rep.ub) {
        let v = sd_from_ci(mean, l, u, n, rep.level).map_err(|e| r.err(&col("mean_ci_lb"), e))?;
        *sd = Some(v);
        let c = if n < 60.0 { "t" } else { "z" };
        let (w, lv) = (fmt(u - l), fmt(rep.level * 100.0));
        format!(
            "sd_{s} = {}: sqrt(n {n}) x CI width {w} / (2 {c}), {lv}% CI",
            fmt(v)
        )
    } else if rep.lb.is_some() || rep.ub.is_some() {
        let missing = col(if rep.lb.is_some() {
            "mean_ci_ub"
        } else {
            "mean_ci_lb"
        });
        return Err(r.err(&missing, "a CI of a mean needs both its limits"));
    } else {
        return Ok(vec![]);
    };
    Ok(vec![note])
}

/// The SE of a study's mean difference `md` from its CI (`md_ci_lb`, `md_ci_ub` at `ci_level`),
/// t (`md_t`) or two-sided p (`md_p`), with the arms' sizes (Handbook 6.5.2.3); `None` when the
/// row gives none of them.
pub(crate) fn md_se(
    r: &Row,
    md: f64,
    n1: Option<i64>,
    n2: Option<i64>,
) -> Result<Option<(f64, String)>> {
    let (lb, ub, t, p) = (
        r.number("md_ci_lb")?,
        r.number("md_ci_ub")?,
        r.number("md_t")?,
        r.number("md_p")?,
    );
    let level = ci_level(r)?;
    let (stat, col, how) = match (lb, ub, t, p) {
        (Some(lb), Some(ub), _, _) => (
            MdStat::Ci { lb, ub, level },
            "md_ci_lb",
            format!("CI {} to {} ({}%)", fmt(lb), fmt(ub), fmt(level * 100.0)),
        ),
        (Some(_), None, _, _) => return Err(r.err("md_ci_ub", "a CI needs both its limits")),
        (None, Some(_), _, _) => return Err(r.err("md_ci_lb", "a CI needs both its limits")),
        (None, None, Some(t), _) => (MdStat::T(t), "md_t", format!("t {}", fmt(t))),
        (None, None, None, Some(p)) => (MdStat::P(p), "md_p", format!("p {}", fmt(p))),
        (None, None, None, None) => return Ok(None),
    };
    let (Some(n1), Some(n2)) = (n1, n2) else {
        let c = if n1.is_none() { "n_treat" } else { "n_ctrl" };
        return Err(r.err(
            c,
            "the SE of a mean difference from its CI, t or p needs both arms' sizes",
        ));
    };
    let se = md_se_of(md, n1 as f64, n2 as f64, stat).map_err(|e| r.err(col, e))?;
    let note = format!(
        "md_se = {}: from md {} and its {how}, n {n1} + {n2}",
        fmt(se),
        fmt(md)
    );
    Ok(Some((se, note)))
}

/// A cluster-randomised trial's effective sample size (Cochrane Handbook 23.1.4): a row with
/// `cluster_size` (the mean cluster size m) has its arms' sizes and events divided by the design
/// effect 1 + (m − 1)·ICC and rounded (half to even), the ICC the row's (`icc`, with
/// `icc_source`) or the review's (`[extraction]`'s `icc`, `icc_source`). Means and SDs stay.
pub(crate) fn cluster(
    r: &Row,
    review_icc: Option<(f64, &str)>,
    counts: [(&str, &mut Option<i64>); 4],
) -> Result<Option<String>> {
    let Some(m) = r.number("cluster_size")? else {
        if r.number("icc")?.is_some() {
            return Err(r.err(
                "cluster_size",
                "an ICC needs the mean cluster size (cluster_size)",
            ));
        }
        return Ok(None);
    };
    if m < 1.0 {
        return Err(r.err(
            "cluster_size",
            format!("{m}: a mean cluster size is at least 1"),
        ));
    }
    let (icc, source) = match (r.number("icc")?, r.get("icc_source"), review_icc) {
        (Some(icc), Some(src), _) => (icc, src.to_string()),
        (Some(_), None, _) => {
            return Err(r.err("icc_source", "an ICC needs its source (where the value comes from)"))
        }
        (None, _, Some((icc, src))) => (icc, format!("{src} (the review's)")),
        (None, _, None) => {
            return Err(r.err(
                "icc",
                "a cluster-randomised row needs an ICC: the icc column (with icc_source) or [extraction] icc",
            ))
        }
    };
    if !(0.0..=1.0).contains(&icc) {
        return Err(r.err("icc", format!("{icc}: an ICC is within 0 to 1")));
    }
    let de = 1.0 + (m - 1.0) * icc;
    let mut changed = vec![];
    for (name, c) in counts {
        if let Some(x) = *c {
            let eff = (x as f64 / de).round_ties_even() as i64;
            changed.push(format!("{name} {x} -> {eff}"));
            *c = Some(eff);
        }
    }
    Ok((!changed.is_empty()).then(|| {
        format!(
            "cluster-randomised: design effect {} (mean cluster size {}, ICC {} from {source}): {}",
            fmt(de),
            fmt(m),
            fmt(icc),
            changed.join(", ")
        )
    }))
}

/// A crossover trial's paired mean difference (Cochrane Handbook 23.2, crossover trials): from
/// the reported within-participant differences (`md` with `sd_diff`: SE = sd_diff/√n), or from
/// the periods' means and SDs with the within-participant correlation `corr` (md = mean_treat −
/// mean_ctrl, SE = √((sd_t² + sd_c² − 2·corr·sd_t·sd_c)/n)); n the participants (`n_treat`).
/// `None` for a row without `sd_diff` or `corr`.
pub(crate) fn crossover(
    r: &Row,
    md: Option<f64>,
    arms: [Option<f64>; 4],
    n: Option<i64>,
) -> Result<Option<(f64, f64, String)>> {
    let (sd_diff, corr) = (r.number("sd_diff")?, r.number("corr")?);
    if sd_diff.is_none() && corr.is_none() {
        return Ok(None);
    }
    let n = n.ok_or_else(|| {
        r.err(
            "n_treat",
            "a crossover trial needs its participants (n_treat)",
        )
    })?;
    let nf = n as f64;
    if let Some(sd) = sd_diff {
        let md = md.ok_or_else(|| r.err("md", "sd_diff needs the mean of the differences (md)"))?;
        if sd <= 0.0 {
            return Err(r.err("sd_diff", format!("{sd}: an SD must be > 0")));
        }
        let se = sd / nf.sqrt();
        let note = format!(
            "md_se = {}: paired, sd_diff {} / sqrt(n {n})",
            fmt(se),
            fmt(sd)
        );
        return Ok(Some((md, se, note)));
    }
    let r_ = corr.unwrap_or_default();
    if !(-1.0..=1.0).contains(&r_) {
        return Err(r.err("corr", format!("{r_}: a correlation is within -1 to 1")));
    }
    let [Some(mt), Some(sdt), Some(mc), Some(sdc)] = arms else {
        return Err(r.err(
            "corr",
            "corr needs both periods' means and SDs (mean_treat, sd_treat, mean_ctrl, sd_ctrl)",
        ));
    };
    let md = mt - mc;
    let se = ((sdt * sdt + sdc * sdc - 2.0 * r_ * sdt * sdc) / nf).sqrt();
    let note = format!(
        "md = {}, md_se = {}: paired from the periods' means and SDs, corr {}, n {n}",
        fmt(md),
        fmt(se),
        fmt(r_)
    );
    Ok(Some((md, se, note)))
}

/// A control group shared by `split_ctrl` = k comparisons (Cochrane Handbook 23.3.4): its size
/// and events divided by k (rounded half to even), so that no control participant is counted
/// twice; means and SDs stay.
pub(crate) fn split_ctrl(r: &Row, counts: [(&str, &mut Option<i64>); 2]) -> Result<Option<String>> {
    let Some(k) = r.count("split_ctrl")? else {
        return Ok(None);
    };
    if k < 2 {
        return Err(r.err(
            "split_ctrl",
            format!("{k}: a shared control is split between 2 or more comparisons"),
        ));
    }
    let mut changed = vec![];
    for (name, c) in counts {
        if let Some(x) = *c {
            let part = (x as f64 / k as f64).round_ties_even() as i64;
            changed.push(format!("{name} {x} -> {part}"));
            *c = Some(part);
        }
    }
    Ok(Some(format!(
        "control shared by {k} comparisons, split (Handbook 23.3.4): {}",
        changed.join(", ")
    )))
}

/// The SE of a generic estimate from its two-sided p-value (Cochrane Handbook 6.3.2; Altman &
/// Bland 2011): z = Φ⁻¹(1 − p/2), SE = |estimate|/z, on the outcome's scale (the log of a ratio
/// for an outcome with `scale = "log"`).
pub(crate) fn se_from_p(r: &Row, est: f64, p: f64, log: bool) -> Result<(f64, String)> {
    if !(p > 0.0 && p < 1.0) {
        return Err(r.err(
            "estimate_p",
            format!("{p}: a p-value gives an SE when 0 < p < 1"),
        ));
    }
    let y = if log {
        if est <= 0.0 {
            return Err(r.err("estimate", format!("{est}: a ratio is > 0")));
        }
        est.ln()
    } else {
        est
    };
    if y == 0.0 {
        return Err(r.err(
            "estimate_p",
            "an estimate of no effect has no SE from its p-value",
        ));
    }
    let z = metapipe_meta::dist::qnorm_two_sided(1.0 - p);
    let se = y.abs() / z;
    let scale = if log { " of the log" } else { "" };
    Ok((
        se,
        format!(
            "se = {}: SE{scale} from p {} (z {}), |{}| / z",
            fmt(se),
            fmt(p),
            fmt(z),
            fmt(y)
        ),
    ))
}
