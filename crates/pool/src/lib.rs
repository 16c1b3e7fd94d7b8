//! # metapipe-pool
//!
//! The pooling engine behind `metapipe pool FILE` and the Python package's `pool`: any study
//! table, from a file ([`pool`]) or in memory ([`pool_frame`], [`escalc_frame`]), one analysis
//! or one per group. The options are checked by the pipeline's one definition
//! (`metapipe_plan::options`) and a single analysis is fitted by the pipeline's dispatcher
//! (`metapipe_meta::analysis`), so the three entry points agree.
//!
//! Column names: metafor's (`ai, n1i, ci, n2i` or `ai, bi, ci, di`; `m1i, sd1i, n1i, m2i, sd2i,
//! n2i`; `yi` with `vi` or `sei`) or the pipeline's (`events_treat, n_treat, events_ctrl,
//! n_ctrl`; `mean_treat, sd_treat, n_treat, mean_ctrl, sd_ctrl, n_ctrl`; `yi` with `se`). Only
//! the columns the measure needs (and the group column) are read.
//!
//! `--group` pools every group in one pass: groups in order of first appearance (grouping by
//! polars when the file's groups are not contiguous), the allocation-free kernels of
//! `metapipe_meta::batch` on all cores for every measure × method they cover (escalc fused into
//! the kernel), the single-analysis path for the rest (Peto, PM, Knapp-Hartung, RevMan, MH for
//! RR/RD).

pub mod bench;

use metapipe_meta::analysis::{self, Studies as Data, Zeros};
use metapipe_meta::batch::{self, Scratch};
use metapipe_meta::effect::{Binary, Continuous, Measure};
use metapipe_meta::model::{Control, Fit, Method, Options, Pi, Test};
use metapipe_plan::options::{outcome_spec, AnalysisCfg, PredictionCfg};
use metapipe_plan::Choice;
use metapipe_tables::io::{
    open_user, write_atomic, Keys, NumberParts, SinkFormat, TableSink, UserSource, UserTable,
};
use metapipe_tables::schema::POOL_GROUPS;
use metapipe_tables::{pe, Error, Result, Table};
use polars::prelude::*;
use std::path::{Path, PathBuf};

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

/// Each input role with the column names accepted for it: metafor's first, then the pipeline's.
const ROLES: &[(&str, &[&str])] = &[
    ("ai", &["ai", "events_treat"]),
    ("n1i", &["n1i", "n_treat"]),
    ("ci", &["ci", "events_ctrl"]),
    ("n2i", &["n2i", "n_ctrl"]),
    ("bi", &["bi", "nonevents_treat"]),
    ("di", &["di", "nonevents_ctrl"]),
    ("m1i", &["m1i", "mean_treat"]),
    ("sd1i", &["sd1i", "sd_treat"]),
    ("m2i", &["m2i", "mean_ctrl"]),
    ("sd2i", &["sd2i", "sd_ctrl"]),
    ("yi", &["yi"]),
    ("vi", &["vi"]),
    ("sei", &["sei", "se"]),
];

/// The table's column for `role`, if it has one.
fn column_for(have: &[String], role: &str) -> Option<String> {
    let names = ROLES
        .iter()
        .find(|(r, _)| *r == role)
        .map(|(_, n)| *n)
        .unwrap_or(&[]);
    names
        .iter()
        .find(|n| have.iter().any(|h| h == *n))
        .map(|n| n.to_string())
}

/// How the study rows of a measure are given.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Layout {
    /// events and totals per arm
    Totals,
    /// events and non-events per arm (n1i = ai + bi)
    NonEvents,
    Continuous,
    /// yi with sampling variances
    Var,
    /// yi with standard errors
    Se,
}

/// The study data of a table, validated: one column per role in the order of `Layout`, rows as
/// in the file (NaN never appears: every cell was checked). Columns are read where the table
/// holds them (f64, i64 or i32 chunks, borrowed): a group's rows are converted to f64 only when
/// it is pooled, into a worker's scratch, so a table of 10^7 rows is never copied whole.
struct Studies<'a> {
    layout: Layout,
    cols: Vec<Col<'a>>,
}

/// One study column: borrowed chunks, or owned values (a column converted by polars, or derived:
/// totals from non-events, variances from standard errors, rows put in group order).
enum Col<'a> {
    F64(Parts<'a, f64>),
    I64(Parts<'a, i64>),
    I32(Parts<'a, i32>),
    Own(Vec<f64>),
}

/// A column's chunks (none empty) and the first row of each.
struct Parts<'a, T> {
    parts: Vec<&'a [T]>,
    starts: Vec<usize>,
}

impl<'a, T: Copy> Parts<'a, T> {
    fn new(parts: Vec<&'a [T]>) -> Self {
        let parts: Vec<&[T]> = parts.into_iter().filter(|p| !p.is_empty()).collect();
        let mut starts = Vec::with_capacity(parts.len());
        let mut at = 0;
        for p in &parts {
            starts.push(at);
            at += p.len();
        }
        Parts { parts, starts }
    }
    /// The chunk holding row `r` (r below the column's length).
    fn part_of(&self, r: usize) -> usize {
        self.starts.partition_point(|&s| s <= r) - 1
    }
    /// Rows `lo..hi` (lo < hi) when one chunk holds them all.
    fn within_one(&self, lo: usize, hi: usize) -> Option<&'a [T]> {
        let i = self.part_of(lo);
        let p = self.parts[i];
        (hi - self.starts[i] <= p.len()).then(|| &p[lo - self.starts[i]..hi - self.starts[i]])
    }
    /// Rows `lo..hi` (lo < hi), converted, appended to `buf`.
    fn extend(&self, lo: usize, hi: usize, buf: &mut Vec<f64>, conv: impl Fn(T) -> f64) {
        let (mut i, mut r) = (self.part_of(lo), lo);
        while r < hi {
            let p = self.parts[i];
            let off = r - self.starts[i];
            let take = (p.len() - off).min(hi - r);
            buf.extend(p[off..off + take].iter().map(|&x| conv(x)));
            r += take;
            i += 1;
        }
    }
}

impl<'a> Col<'a> {
    fn of(t: &'a UserTable, name: &str) -> Result<Col<'a>> {
        Ok(match t.number_parts(name) {
            Some(NumberParts::F64(p)) => Col::F64(Parts::new(p)),
            Some(NumberParts::I64(p)) => Col::I64(Parts::new(p)),
            Some(NumberParts::I32(p)) => Col::I32(Parts::new(p)),
            None => Col::Own(t.numbers(name)?),
        })
    }
    /// Rows `lo..hi` as f64: borrowed where they lie in one f64 chunk, else converted into `buf`.
    fn rows<'s>(&'s self, lo: usize, hi: usize, buf: &'s mut Vec<f64>) -> &'s [f64] {
        if lo >= hi {
            return &[];
        }
        match self {
            Col::Own(v) => &v[lo..hi],
            Col::F64(p) => match p.within_one(lo, hi) {
                Some(s) => s,
                None => {
                    buf.clear();
                    p.extend(lo, hi, buf, |x| x);
                    buf
                }
            },
            Col::I64(p) => {
                buf.clear();
                p.extend(lo, hi, buf, |x| x as f64);
                buf
            }
            Col::I32(p) => {
                buf.clear();
                p.extend(lo, hi, buf, f64::from);
                buf
            }
        }
    }
    /// Every row as f64 (a copy).
    fn to_vec(&self, n: usize) -> Vec<f64> {
        let mut buf = Vec::with_capacity(n);
        self.rows(0, n, &mut buf).to_vec()
    }
}

/// Rows of block size at a time: `f(first row, the columns' values of the block)`.
fn by_blocks(
    cols: &[&Col],
    n: usize,
    mut f: impl FnMut(usize, &[&[f64]]) -> Result<()>,
) -> Result<()> {
    const BLOCK: usize = 4096;
    let mut bufs: Vec<Vec<f64>> = vec![Vec::with_capacity(BLOCK); cols.len()];
    let mut lo = 0;
    while lo < n {
        let hi = (lo + BLOCK).min(n);
        let block: Vec<&[f64]> = cols
            .iter()
            .zip(bufs.iter_mut())
            .map(|(c, b)| c.rows(lo, hi, b))
            .collect();
        f(lo, &block)?;
        lo = hi;
    }
    Ok(())
}

/// Which columns of a table (its column names `have`, from `path`) give the study data of
/// `measure`.
fn layout_and_columns(
    have: &[String],
    path: &Path,
    measure: Measure,
) -> Result<(Layout, Vec<(&'static str, String)>)> {
    let need = |role: &'static str| -> Result<(&'static str, String)> {
        let alts = ROLES
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, n)| n.join(" or "))
            .unwrap_or_default();
        column_for(have, role).map(|c| (role, c)).ok_or_else(|| {
            Error::data(format!("missing column {alts} (have: {})", have.join(",")))
                .file(path)
                .line(1)
                .field(role)
        })
    };
    if measure.is_binary() {
        if column_for(have, "n1i").is_some() || column_for(have, "bi").is_none() {
            Ok((
                Layout::Totals,
                vec![need("ai")?, need("n1i")?, need("ci")?, need("n2i")?],
            ))
        } else {
            Ok((
                Layout::NonEvents,
                vec![need("ai")?, need("bi")?, need("ci")?, need("di")?],
            ))
        }
    } else if measure.is_continuous() {
        Ok((
            Layout::Continuous,
            vec![
                need("m1i")?,
                need("sd1i")?,
                need("n1i")?,
                need("m2i")?,
                need("sd2i")?,
                need("n2i")?,
            ],
        ))
    } else if column_for(have, "vi").is_some() || column_for(have, "sei").is_none() {
        Ok((Layout::Var, vec![need("yi")?, need("vi")?]))
    } else {
        Ok((Layout::Se, vec![need("yi")?, need("sei")?]))
    }
}

/// Read and check every study row; errors name the file, row and the file's column name.
fn read_studies<'a>(
    t: &'a UserTable,
    layout: Layout,
    cols: &[(&'static str, String)],
) -> Result<Studies<'a>> {
    let n = t.rows();
    let mut vals: Vec<Col<'a>> = Vec::with_capacity(cols.len());
    for (_, name) in cols {
        let v = Col::of(t, name)?;
        if !matches!(v, Col::I64(_) | Col::I32(_)) {
            by_blocks(&[&v], n, |lo, b| {
                match b[0].iter().position(|x| !x.is_finite()) {
                    Some(r) => Err(Error::data(format!("{} is not finite", b[0][r]))
                        .file(&t.path)
                        .line(t.row_label(lo + r))
                        .field(name.clone())),
                    None => Ok(()),
                }
            })?;
        }
        vals.push(v);
    }
    let bad = |r: usize, k: usize, msg: String| {
        Err(Error::data(msg)
            .file(&t.path)
            .line(t.row_label(r))
            .field(cols[k].1.clone()))
    };
    let all: Vec<&Col> = vals.iter().collect();
    match layout {
        Layout::Totals | Layout::NonEvents => {
            by_blocks(&all, n, |lo, v| {
                for r in 0..v[0].len() {
                    for k in 0..4 {
                        let x = v[k][r];
                        if x < 0.0 || x.fract() != 0.0 {
                            return bad(
                                lo + r,
                                k,
                                format!("{x} is not a count (a whole number >= 0)"),
                            );
                        }
                    }
                }
                Ok(())
            })?;
            if layout == Layout::NonEvents {
                // to totals: n1i = ai + bi, n2i = ci + di
                for (to, from) in [(1, 0), (3, 2)] {
                    let mut sum = Vec::with_capacity(n);
                    by_blocks(&[&vals[from], &vals[to]], n, |_, v| {
                        sum.extend(v[0].iter().zip(v[1]).map(|(x, y)| x + y));
                        Ok(())
                    })?;
                    vals[to] = Col::Own(sum);
                }
            }
            let all: Vec<&Col> = vals.iter().collect();
            by_blocks(&all, n, |lo, v| {
                for r in 0..v[0].len() {
                    let (a, n1, c, n2) = (v[0][r], v[1][r], v[2][r], v[3][r]);
                    if a > n1 {
                        return bad(
                            lo + r,
                            0,
                            format!("events {} = {a} > {} = {n1}", cols[0].1, cols[1].1),
                        );
                    }
                    if c > n2 {
                        return bad(
                            lo + r,
                            2,
                            format!("events {} = {c} > {} = {n2}", cols[2].1, cols[3].1),
                        );
                    }
                    if n1 == 0.0 || n2 == 0.0 {
                        return bad(
                            lo + r,
                            if n1 == 0.0 { 1 } else { 3 },
                            "an arm has no participants".into(),
                        );
                    }
                }
                Ok(())
            })?;
        }
        Layout::Continuous => {
            by_blocks(&all, n, |lo, v| {
                for r in 0..v[0].len() {
                    for k in [1, 4] {
                        if v[k][r] < 0.0 {
                            return bad(lo + r, k, format!("{} is negative", v[k][r]));
                        }
                    }
                    for k in [2, 5] {
                        if v[k][r] < 1.0 || v[k][r].fract() != 0.0 {
                            return bad(
                                lo + r,
                                k,
                                format!("{} is not a group size (a whole number >= 1)", v[k][r]),
                            );
                        }
                    }
                }
                Ok(())
            })?;
        }
        Layout::Var | Layout::Se => {
            by_blocks(&all[1..2], n, |lo, v| {
                match v[0].iter().position(|&x| x <= 0.0) {
                    Some(r) => bad(
                        lo + r,
                        1,
                        format!(
                            "{}: a sampling {} must be > 0",
                            v[0][r],
                            if layout == Layout::Se {
                                "standard error"
                            } else {
                                "variance"
                            }
                        ),
                    ),
                    None => Ok(()),
                }
            })?;
            if layout == Layout::Se {
                let mut squared = Vec::with_capacity(n);
                by_blocks(&all[1..2], n, |_, v| {
                    squared.extend(v[0].iter().map(|x| x * x));
                    Ok(())
                })?;
                vals[1] = Col::Own(squared);
            }
        }
    }
    Ok(Studies { layout, cols: vals })
}

impl Studies<'_> {
    /// Rows `lo..hi` of every column (see [`Col::rows`]; `bufs`: one scratch per column).
    fn rows<'s>(&'s self, lo: usize, hi: usize, bufs: &'s mut [Vec<f64>]) -> Vec<&'s [f64]> {
        self.cols
            .iter()
            .zip(bufs.iter_mut())
            .map(|(c, b)| c.rows(lo, hi, b))
            .collect()
    }
    /// One scratch buffer per column for [`Studies::rows`].
    fn scratch(&self) -> Vec<Vec<f64>> {
        vec![Vec::new(); self.cols.len()]
    }
}

/// Each study's (yi, vi) as metafor's `escalc` gives them (`None`: not estimable); generic rows
/// as given (their variances: `read_studies` squared standard errors).
fn effects(
    cols: &[&[f64]],
    layout: Layout,
    measure: Measure,
    zeros: Zeros,
) -> Vec<Option<(f64, f64)>> {
    let n = cols[0].len();
    match layout {
        Layout::Totals | Layout::NonEvents => {
            let rows: Vec<Binary> = (0..n)
                .map(|j| Binary::new(cols[0][j], cols[1][j], cols[2][j], cols[3][j]))
                .collect();
            analysis::effects(measure, Data::Binary(&rows), zeros)
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
    }
}

/// Fit one analysis on the single-analysis path (every measure × method × option): the
/// pipeline's dispatcher ([`analysis::fit`]) on the table's columns.
fn fit(cols: &[&[f64]], layout: Layout, a: &PoolArgs) -> std::result::Result<Fit, String> {
    let opts = Options {
        level: a.level,
        test: a.test,
        control: a.control,
        extras: true,
        pi: a.pi,
    };
    let n = cols[0].len();
    match layout {
        Layout::Totals | Layout::NonEvents => {
            let tables: Vec<Binary> = (0..n)
                .map(|j| Binary::new(cols[0][j], cols[1][j], cols[2][j], cols[3][j]))
                .collect();
            let studies = Data::Binary(&tables);
            analysis::fit(
                a.measure,
                a.method,
                studies,
                &analysis::effects(a.measure, studies, a.zeros),
                a.revman,
                &opts,
            )
        }
        _ => analysis::fit(
            a.measure,
            a.method,
            Data::Effects(&[]),
            &effects(cols, layout, a.measure, a.zeros),
            a.revman,
            &opts,
        ),
    }
}

/// Does an allocation-free kernel cover this measure × method × option?
fn kernel_covers(a: &PoolArgs) -> bool {
    let iv = matches!(
        a.method,
        Method::FE | Method::DL | Method::REML | Method::ML | Method::EB | Method::HE | Method::SJ
    );
    let mh = a.measure == Measure::OR && a.method == Method::MH;
    // the kernels fuse escalc's zero-cell rule and metafor's prediction interval
    let metafor_rules = a.zeros == Zeros::Escalc && a.pi == Pi::Metafor;
    a.kernels && a.test == Test::Z && !a.revman && metafor_rules && (iv || mh)
}

fn kernel_fit(
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
    };
    r.map_err(|e| e.to_string())
}

/// The row of `pool --group` for one group.
fn row_of_fit(f: &Fit) -> batch::Row {
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

fn json_of(fit: &Fit) -> String {
    let mut m = serde_json::Map::new();
    for (k, v) in fit.fields() {
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

/// Group keys in first-appearance order and each group's rows as one contiguous run: the
/// permutation that makes the groups contiguous (`None` when they already are), a row of each
/// group (original order; its key names the group) and the offsets. No text per row: integer
/// keys are compared as integers.
fn group_rows(keys: &Keys) -> Result<(Option<Vec<IdxSize>>, Vec<IdxSize>, Vec<usize>)> {
    // contiguous already (the common case, e.g. files sorted by analysis id)? one linear pass
    let starts = keys.run_starts();
    // runs in increasing key order (a file sorted by its group) are distinct without hashing
    let contiguous = match keys {
        // integer keys compared as integers (hashing their text costs more than the pooling)
        Keys::Int(v) => {
            starts.windows(2).all(|w| v[w[0]] < v[w[1]]) || {
                let mut seen = std::collections::HashSet::with_capacity(starts.len());
                starts.iter().all(|&s| seen.insert(v[s]))
            }
        }
        // a missing key is the group "" (as `Keys::runs` names it)
        Keys::Text(ca) => {
            let key = |s: usize| ca.get(s).unwrap_or("");
            starts.windows(2).all(|w| key(w[0]) < key(w[1])) || {
                let mut seen = std::collections::HashSet::with_capacity(starts.len());
                starts.iter().all(|&s| seen.insert(key(s)))
            }
        }
    };
    if contiguous {
        let rows = starts.iter().map(|&s| s as IdxSize).collect();
        let mut offsets = starts;
        offsets.push(keys.len());
        return Ok((None, rows, offsets));
    }
    // polars' stable group-by: groups by first appearance, each group's rows in order
    let df = DataFrame::new(keys.len(), vec![keys.column("g")])?;
    let g = metapipe_tables::frame::groups(&df, &["g"])?;
    let rows = g.iter().map(|rows| rows[0]).collect();
    Ok((Some(g.rows), rows, g.offsets))
}

/// The float columns of `pooled_groups`, in the order [`Results::floats`] holds them.
const FLOATS: [&str; 13] = [
    "estimate", "se", "ci_lb", "ci_ub", "z", "p", "Q", "Q_p", "I2", "H2", "tau2", "pi_lb", "pi_ub",
];

/// The pooled results of every group, column by column (the workers write each group's values
/// in place: no row structs collected and copied again). A group that failed has NaN in every
/// float column (missing in the table) and its message in `errors`.
struct Results {
    floats: Vec<Vec<f64>>,
    k: Vec<i64>,
    q_df: Vec<i64>,
    /// (group, message), in group order
    errors: Vec<(usize, String)>,
}

/// Pool every group; results in group order.
fn pool_groups(st: &Studies, offsets: &[usize], a: &PoolArgs) -> Results {
    let n = offsets.len().saturating_sub(1);
    let crit = batch::crit(a.level);
    let kernel = kernel_covers(a);
    let fit_group = |i: usize,
                     s: &mut Scratch,
                     bufs: &mut [Vec<f64>]|
     -> std::result::Result<batch::Row, String> {
        let cols = st.rows(offsets[i], offsets[i + 1], bufs);
        if kernel {
            kernel_fit(&cols, st.layout, a, crit, s)
        } else {
            fit(&cols, st.layout, a).map(|f| row_of_fit(&f))
        }
    };
    let threads = std::thread::available_parallelism()
        .map(|x| x.get())
        .unwrap_or(1)
        .min(16);
    let chunk = n.div_ceil(threads.max(1)).max(1);
    let mut floats: Vec<Vec<f64>> = FLOATS.iter().map(|_| vec![0.0; n]).collect();
    let (mut k, mut q_df) = (vec![0i64; n], vec![0i64; n]);
    // each worker's share: its groups' slice of every column
    let mut shares: Vec<Vec<&mut [f64]>> = (0..n.div_ceil(chunk))
        .map(|_| Vec::with_capacity(FLOATS.len()))
        .collect();
    for col in floats.iter_mut() {
        for (share, part) in shares.iter_mut().zip(col.chunks_mut(chunk)) {
            share.push(part);
        }
    }
    let errors = std::thread::scope(|sc| {
        let hs: Vec<_> = shares
            .into_iter()
            .zip(k.chunks_mut(chunk).zip(q_df.chunks_mut(chunk)))
            .enumerate()
            .map(|(j, (mut cols, (ks, dfs)))| {
                let fit_group = &fit_group;
                sc.spawn(move || {
                    let (mut s, mut bufs) = (Scratch::default(), st.scratch());
                    let mut errors = vec![];
                    let start = j * chunk;
                    for i in 0..ks.len() {
                        match fit_group(start + i, &mut s, &mut bufs) {
                            Ok(x) => {
                                let values = [
                                    x.estimate, x.se, x.ci_lb, x.ci_ub, x.z, x.p, x.q, x.q_p, x.i2,
                                    x.h2, x.tau2, x.pi_lb, x.pi_ub,
                                ];
                                for (col, v) in cols.iter_mut().zip(values) {
                                    col[i] = v;
                                }
                                ks[i] = x.k as i64;
                                dfs[i] = x.q_df as i64;
                            }
                            Err(e) => {
                                for col in cols.iter_mut() {
                                    col[i] = f64::NAN;
                                }
                                ks[i] = (offsets[start + i + 1] - offsets[start + i]) as i64;
                                errors.push((start + i, e));
                            }
                        }
                    }
                    errors
                })
            })
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().expect("pool worker panicked"))
            .collect()
    });
    Results {
        floats,
        k,
        q_df,
        errors,
    }
}

/// The `pooled_groups` table: one row per group (estimates on the analysis scale: log for
/// ratio measures, as the `scale` column says).
fn groups_table(group: Column, results: Results, a: &PoolArgs) -> Result<Table> {
    let n = group.len();
    let Results {
        floats,
        k,
        q_df,
        errors,
    } = results;
    // Q_df and error: missing but for the groups that failed
    let (q_df, error) = if errors.is_empty() {
        (
            Column::new("Q_df".into(), q_df),
            Column::full_null("error".into(), n, &DataType::String),
        )
    } else {
        let mut df: Vec<Option<i64>> = q_df.into_iter().map(Some).collect();
        let mut msg: Vec<Option<&str>> = vec![None; n];
        for (i, e) in &errors {
            df[*i] = None;
            msg[*i] = Some(e.as_str());
        }
        (
            Column::new("Q_df".into(), df),
            Column::new("error".into(), msg),
        )
    };
    let scale = if a.measure.is_ratio() {
        "log"
    } else {
        "natural"
    };
    // non-finite values (NaN for a group that failed) become missing in Table::new
    let mut by_name: std::collections::HashMap<&str, Column> = FLOATS
        .iter()
        .zip(floats)
        .map(|(name, v)| (*name, Column::new((*name).into(), v)))
        .collect();
    by_name.extend([
        ("group", group),
        (
            "measure",
            Column::new("measure".into(), vec![a.measure.name(); n]),
        ),
        ("scale", Column::new("scale".into(), vec![scale; n])),
        ("k", Column::new("k".into(), k)),
        ("Q_df", q_df),
        ("error", error),
    ]);
    // in the schema's order
    let columns: Vec<Column> = POOL_GROUPS
        .names()
        .iter()
        .map(|c| by_name.remove(c).expect("every pooled_groups column built"))
        .collect();
    Table::new(&POOL_GROUPS, DataFrame::new(n, columns)?)
}

/// A table as JSON: an array of objects, one per row.
fn json_rows(t: &Table) -> String {
    let lines = metapipe_tables::io::json_lines(t);
    if lines.is_empty() {
        return "[]\n".into();
    }
    format!("[\n  {}\n]\n", lines.join(",\n  "))
}

/// How `--group` output is written to `out`: Parquet by its extension, else JSON or CSV by
/// `--format`.
fn sink_format(out: &std::path::Path, a: &PoolArgs) -> SinkFormat {
    if out.extension().is_some_and(|e| e == "parquet") {
        SinkFormat::Parquet
    } else if a.format == "json" {
        SinkFormat::Json
    } else {
        SinkFormat::Csv
    }
}

/// The `--group` table to `--out` (the same writer as the streaming path) or to stdout.
fn emit_groups(table: &Table, a: &PoolArgs) -> Result<String> {
    match &a.out {
        Some(o) => {
            let mut sink = TableSink::create(o, sink_format(o, a), &POOL_GROUPS)?;
            sink.write(table)?;
            sink.finish().map(|_| String::new())
        }
        None if a.format == "json" => Ok(json_rows(table)),
        None => Ok(String::from_utf8(metapipe_tables::io::csv_bytes(table)?).expect("CSV text")),
    }
}

/// What pooling a table gives: one analysis, or the `pooled_groups` table.
pub enum Pooled {
    One(Fit),
    Groups(Table),
}

/// Run `metapipe pool`; returns what goes to stdout.
pub fn pool(a: &PoolArgs) -> Result<String> {
    let src = open_user(&a.file)?;
    let (layout, roles) = layout_and_columns(&src.names, &src.path, a.measure)?;
    let read = columns_to_read(&src.names, &src.path, &roles, a)?;
    // a Parquet file larger than one chunk, pooled by group into a file: read chunk by chunk
    let streamed =
        a.group.is_some() && a.out.is_some() && src.rows.is_some_and(|n| n > stream_above());
    if streamed {
        return pool_stream(
            a,
            &src,
            layout,
            &roles,
            &read,
            a.group.as_deref().unwrap_or_default(),
        );
    }
    let t = src.read(&read)?;
    match pool_read(&t, layout, &roles, a)? {
        Pooled::One(fit) => {
            let out = match a.format.as_str() {
                "json" => json_of(&fit) + "\n",
                "csv" => {
                    let fields = fit.fields();
                    format!(
                        "{}\n{}\n",
                        fields.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(","),
                        fields
                            .iter()
                            .map(|(_, v)| format!("{v}"))
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                }
                _ => {
                    let fmt = |v: f64| {
                        if v != 0.0 && v.abs() < 1e-4 {
                            format!("{v:.4e}")
                        } else {
                            format!("{v:.6}")
                        }
                    };
                    let mut s: String = fit
                        .fields()
                        .iter()
                        .map(|(k, v)| format!("{k:<12} {}\n", fmt(*v)))
                        .collect();
                    if a.measure.is_ratio() {
                        s.push_str(&format!(
                            "{} = {:.4} [{:.4}, {:.4}]\n",
                            a.measure.name(),
                            fit.estimate.exp(),
                            fit.ci_lb.exp(),
                            fit.ci_ub.exp()
                        ));
                    }
                    s
                }
            };
            if let Some(o) = &a.out {
                write_atomic(o, out.as_bytes())?;
                return Ok(String::new());
            }
            Ok(out)
        }
        Pooled::Groups(table) => emit_groups(&table, a),
    }
}

/// The columns to read: the measure's roles and the group column (which must exist).
fn columns_to_read<'a>(
    have: &[String],
    path: &Path,
    roles: &'a [(&'static str, String)],
    a: &'a PoolArgs,
) -> Result<Vec<&'a str>> {
    let mut read: Vec<&str> = roles.iter().map(|(_, c)| c.as_str()).collect();
    if let Some(g) = &a.group {
        if !have.iter().any(|h| h == g) {
            return Err(
                Error::data(format!("missing group column (have: {})", have.join(",")))
                    .file(path)
                    .line(1)
                    .field(g.clone()),
            );
        }
        read.push(g);
    }
    Ok(read)
}

/// Pool a table read whole: one analysis, or one per group.
fn pool_read(
    t: &UserTable,
    layout: Layout,
    roles: &[(&'static str, String)],
    a: &PoolArgs,
) -> Result<Pooled> {
    if t.rows() == 0 {
        return Err(Error::data("empty table: no studies").file(&t.path));
    }
    let studies = read_studies(t, layout, roles)?;
    match &a.group {
        None => {
            let mut bufs = studies.scratch();
            let cols = studies.rows(0, t.rows(), &mut bufs);
            fit(&cols, layout, a)
                .map(Pooled::One)
                .map_err(|e| Error::data(e).file(&t.path))
        }
        Some(g) => {
            let keys = t.keys(g)?;
            let (perm, rows, offsets) = group_rows(&keys)?;
            let studies = match perm {
                None => studies,
                Some(p) => Studies {
                    layout: studies.layout,
                    cols: studies
                        .cols
                        .iter()
                        .map(|c| {
                            let v = c.to_vec(t.rows());
                            Col::Own(p.iter().map(|&i| v[i as usize]).collect())
                        })
                        .collect(),
                },
            };
            let results = pool_groups(&studies, &offsets, a);
            drop(studies);
            groups_table(keys.column_at("group", &rows), results, a).map(Pooled::Groups)
        }
    }
}

/// An in-memory table (the Python package's path) as a user table named `label`: only the
/// columns read, each once. Rows are numbered from 1 in errors.
fn in_memory(df: &DataFrame, label: &str, read: &[&str]) -> Result<UserTable> {
    let mut want: Vec<&str> = vec![];
    for c in read {
        if !want.contains(c) {
            want.push(c);
        }
    }
    let df = df
        .select(want.iter().copied())
        .map_err(|e| pe(e).file(label))?;
    Ok(UserTable {
        path: PathBuf::from(label),
        df,
        csv: false,
        first_row: 0,
    })
}

/// An in-memory table has no header line: a missing column names no row.
fn no_header(e: Error) -> Error {
    Error { line: None, ..e }
}

/// `metapipe pool` on an in-memory table: the `pooled_groups` table with a group column, else
/// the one analysis's fields (the columns of `pool --format csv`) as one row.
pub fn pool_frame(df: &DataFrame, label: &str, a: &PoolArgs) -> Result<DataFrame> {
    let have: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let (layout, roles) =
        layout_and_columns(&have, Path::new(label), a.measure).map_err(no_header)?;
    let read = columns_to_read(&have, Path::new(label), &roles, a).map_err(no_header)?;
    let t = in_memory(df, label, &read)?;
    match pool_read(&t, layout, &roles, a)? {
        Pooled::Groups(t) => Ok(t.df),
        Pooled::One(fit) => {
            let cols: Vec<Column> = fit
                .fields()
                .into_iter()
                .map(|(k, v)| {
                    if k == "k" || k == "Q_df" {
                        Column::new(k.into(), [v as i64])
                    } else {
                        Column::new(k.into(), [Some(v).filter(|x| x.is_finite())])
                    }
                })
                .collect();
            DataFrame::new(1, cols).map_err(pe)
        }
    }
}

/// metafor's `escalc` on an in-memory table: the table with `yi` and `vi` appended (log scale
/// for ratio measures; zero cells as metafor's default, 1/2 added to the study's cells). Rows
/// whose effect is not estimable get missing `yi` and `vi`.
pub fn escalc_frame(df: &DataFrame, label: &str, measure: Measure) -> Result<DataFrame> {
    let have: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let (layout, roles) =
        layout_and_columns(&have, Path::new(label), measure).map_err(no_header)?;
    for out in ["yi", "vi"] {
        if have.iter().any(|h| h == out) && !matches!(layout, Layout::Var | Layout::Se) {
            return Err(Error::data(format!(
                "the table has a column {out} already (escalc appends yi and vi)"
            ))
            .file(label)
            .field(out));
        }
    }
    let read: Vec<&str> = roles.iter().map(|(_, c)| c.as_str()).collect();
    let t = in_memory(df, label, &read)?;
    let st = read_studies(&t, layout, &roles)?;
    let mut bufs = st.scratch();
    let effects = effects(
        &st.rows(0, t.rows(), &mut bufs),
        layout,
        measure,
        Zeros::Escalc,
    );
    let mut out = df.clone();
    if matches!(layout, Layout::Var | Layout::Se) {
        // generic effects: yi as given, vi from the standard errors when only those are given
        if !have.iter().any(|h| h == "vi") {
            out.with_column(Column::new(
                "vi".into(),
                effects.iter().map(|e| e.map(|x| x.1)).collect::<Vec<_>>(),
            ))?;
        }
        return Ok(out);
    }
    out.with_column(Column::new(
        "yi".into(),
        effects
            .iter()
            .map(|e| e.map(|x| x.0).filter(|x| x.is_finite()))
            .collect::<Vec<_>>(),
    ))?;
    out.with_column(Column::new(
        "vi".into(),
        effects
            .iter()
            .map(|e| e.map(|x| x.1).filter(|x| x.is_finite()))
            .collect::<Vec<_>>(),
    ))?;
    Ok(out)
}

/// Parquet inputs with more rows than this stream (16.8M rows: about 0.5 GiB per four f64
/// columns held in memory otherwise); smaller ones are read whole, which is faster. With
/// `METAPIPE_STREAM_CHUNK` set (tests), anything over one chunk streams.
fn stream_above() -> usize {
    if std::env::var_os("METAPIPE_STREAM_CHUNK").is_some() {
        stream_chunk()
    } else {
        1 << 24
    }
}

/// Rows per chunk of the streaming path (with the open group carried over, memory stays near
/// this many rows of the columns read, whatever the file's size). `METAPIPE_STREAM_CHUNK`
/// overrides it (tests use small chunks on small files).
fn stream_chunk() -> usize {
    std::env::var("METAPIPE_STREAM_CHUNK")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1 << 22)
}

/// `pool --group` over a Parquet file larger than one chunk, into `--out`: chunks of
/// [`stream_chunk`] rows are read (only their row groups decoded), checked, pooled and appended
/// to the output; the group still open at a chunk's end is carried into the next. Groups must be
/// contiguous here (a group seen again later is an error that says to sort by the group
/// column). The output is renamed into place only when every chunk has been pooled.
fn pool_stream(
    a: &PoolArgs,
    src: &UserSource,
    layout: Layout,
    roles: &[(&'static str, String)],
    read: &[&str],
    g: &str,
) -> Result<String> {
    let out = a.out.as_ref().expect("streaming writes to --out");
    let n = src.rows.unwrap_or(0);
    let chunk = stream_chunk();
    let mut sink = TableSink::create(out, sink_format(out, a), &POOL_GROUPS)?;
    // finished groups, by a 128-bit hash of the key (a collision is ~1e-20 likely at 10^8 groups)
    let mut finished: std::collections::HashSet<u128> = std::collections::HashSet::new();
    // two FNV-1a passes with different offset bases make a 128-bit key hash
    let hash = |k: &str| {
        let h = |basis: u64| {
            k.bytes().fold(basis, |h, b| {
                (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3)
            })
        };
        ((h(0xCBF2_9CE4_8422_2325) as u128) << 64) | h(0x6C62_272E_07BB_0142) as u128
    };
    let mut carry: Option<(String, Vec<Vec<f64>>)> = None;
    let mut off = 0;
    while off < n {
        let len = chunk.min(n - off);
        let t = src.read_slice(read, off, len)?;
        let st = read_studies(&t, layout, roles)?;
        let mut bufs = st.scratch();
        let (starts, run_names) = t.keys(g)?.runs();
        off += len;
        let last_chunk = off >= n;
        // this chunk's rows, after the carried-over rows of the open group
        let (mut names, mut offsets) = (vec![], vec![0usize]);
        let mut cols: Vec<Vec<f64>> = vec![Vec::with_capacity(len); st.cols.len()];
        let mut open: Option<String> = None;
        if let Some((k, c)) = carry.take() {
            for (dst, src) in cols.iter_mut().zip(c) {
                dst.extend(src);
            }
            names.push(k.clone());
            open = Some(k);
        }
        for (i, name) in run_names.into_iter().enumerate() {
            let (lo, hi) = (starts[i], starts.get(i + 1).copied().unwrap_or(len));
            if open.as_deref() != Some(name.as_str()) {
                if let Some(prev) = open.take() {
                    finished.insert(hash(&prev));
                    offsets.push(cols[0].len());
                }
                if finished.contains(&hash(&name)) {
                    return Err(Error::data(format!("group {name:?} appears again after other groups; for files over {chunk} rows the groups must be contiguous (sort the file by {g})"))
                        .file(&a.file)
                        .line(t.row_label(lo))
                        .field(g.to_string()));
                }
                names.push(name.clone());
                open = Some(name);
            }
            for (dst, c) in cols.iter_mut().zip(st.rows(lo, hi, &mut bufs)) {
                dst.extend_from_slice(c);
            }
        }
        offsets.push(cols[0].len());
        // the open group waits for the next chunk, unless this is the last
        if !last_chunk {
            let lo = offsets[offsets.len() - 2];
            let tail: Vec<Vec<f64>> = cols.iter_mut().map(|c| c.split_off(lo)).collect();
            carry = Some((names.pop().unwrap_or_default(), tail));
            offsets.pop();
        }
        let studies = Studies {
            layout,
            cols: cols.into_iter().map(Col::Own).collect(),
        };
        let results = pool_groups(&studies, &offsets, a);
        sink.write(&groups_table(
            Column::new("group".into(), names),
            results,
            a,
        )?)?;
    }
    sink.finish()?;
    Ok(String::new())
}
