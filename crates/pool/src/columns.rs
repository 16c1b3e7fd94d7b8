//! The study columns a measure needs: which of the table's columns serve each role (metafor's
//! names or the pipeline's), read where polars holds them (borrowed f64, i64 or i32 chunks),
//! checked in blocks of rows.

use metapipe_meta::effect::{Family, Measure};
use metapipe_tables::io::{NumberParts, UserTable};
use metapipe_tables::{Error, Result};
use std::path::Path;

/// Each input role with the column names accepted for it: metafor's first, then the pipeline's.
pub(crate) const ROLES: &[(&str, &[&str])] = &[
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
    ("xi", &["xi", "events"]),
    ("ni", &["ni", "n"]),
    ("ti", &["ti", "time"]),
    ("x1i", &["x1i", "events_treat"]),
    ("t1i", &["t1i", "time_treat"]),
    ("x2i", &["x2i", "events_ctrl"]),
    ("t2i", &["t2i", "time_ctrl"]),
    ("ri", &["ri", "r"]),
    ("o_minus_e", &["o_minus_e"]),
    ("v", &["v"]),
];

/// The roles of a family's rows, in the order [`metapipe_meta::measures::effect_of_row`] reads
/// them.
pub(crate) fn family_roles(f: Family) -> &'static [&'static str] {
    match f {
        Family::Proportion => &["xi", "ni"],
        Family::Rate => &["xi", "ti"],
        Family::RatePair => &["x1i", "t1i", "x2i", "t2i"],
        Family::Correlation => &["ri", "ni"],
        Family::OMinusE => &["o_minus_e", "v"],
        _ => &[],
    }
}

/// The table's column for `role`, if it has one.
pub(crate) fn column_for(have: &[String], role: &str) -> Option<String> {
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
pub(crate) enum Layout {
    /// events and totals per arm
    Totals,
    /// events and non-events per arm (n1i = ai + bi)
    NonEvents,
    Continuous,
    /// yi with sampling variances
    Var,
    /// yi with standard errors
    Se,
    /// the rows of a family of [`metapipe_meta::measures`]: proportions, rates, correlations,
    /// O − E and V
    Rows(Family),
}

/// The study data of a table, validated: one column per role in the order of `Layout`, rows as
/// in the file (NaN never appears: every cell was checked). Columns are read where the table
/// holds them (f64, i64 or i32 chunks, borrowed): a group's rows are converted to f64 only when
/// it is pooled, into a worker's scratch, so a table of 10^7 rows is never copied whole.
pub(crate) struct Studies<'a> {
    pub(crate) layout: Layout,
    pub(crate) cols: Vec<Col<'a>>,
}

/// One study column: borrowed chunks, or owned values (a column converted by polars, or derived:
/// totals from non-events, variances from standard errors, rows put in group order).
pub(crate) enum Col<'a> {
    F64(Parts<'a, f64>),
    I64(Parts<'a, i64>),
    I32(Parts<'a, i32>),
    Own(Vec<f64>),
}

/// A column's chunks (none empty) and the first row of each.
pub(crate) struct Parts<'a, T> {
    pub(crate) parts: Vec<&'a [T]>,
    pub(crate) starts: Vec<usize>,
}

impl<'a, T: Copy> Parts<'a, T> {
    pub(crate) fn new(parts: Vec<&'a [T]>) -> Self {
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
    pub(crate) fn part_of(&self, r: usize) -> usize {
        self.starts.partition_point(|&s| s <= r) - 1
    }
    /// Rows `lo..hi` (lo < hi) when one chunk holds them all.
    pub(crate) fn within_one(&self, lo: usize, hi: usize) -> Option<&'a [T]> {
        let i = self.part_of(lo);
        let p = self.parts[i];
        (hi - self.starts[i] <= p.len()).then(|| &p[lo - self.starts[i]..hi - self.starts[i]])
    }
    /// Rows `lo..hi` (lo < hi), converted, appended to `buf`.
    pub(crate) fn extend(&self, lo: usize, hi: usize, buf: &mut Vec<f64>, conv: impl Fn(T) -> f64) {
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
    pub(crate) fn of(t: &'a UserTable, name: &str) -> Result<Col<'a>> {
        Ok(match t.number_parts(name) {
            Some(NumberParts::F64(p)) => Col::F64(Parts::new(p)),
            Some(NumberParts::I64(p)) => Col::I64(Parts::new(p)),
            Some(NumberParts::I32(p)) => Col::I32(Parts::new(p)),
            None => Col::Own(t.numbers(name)?),
        })
    }
    /// Rows `lo..hi` as f64: borrowed where they lie in one f64 chunk, else converted into `buf`.
    pub(crate) fn rows<'s>(&'s self, lo: usize, hi: usize, buf: &'s mut Vec<f64>) -> &'s [f64] {
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
    pub(crate) fn to_vec(&self, n: usize) -> Vec<f64> {
        let mut buf = Vec::with_capacity(n);
        self.rows(0, n, &mut buf).to_vec()
    }
}

/// Rows of block size at a time: `f(first row, the columns' values of the block)`.
pub(crate) fn by_blocks(
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
pub(crate) fn layout_and_columns(
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
    let roles = family_roles(measure.family());
    if !roles.is_empty() {
        let cols = roles.iter().map(|r| need(r)).collect::<Result<Vec<_>>>()?;
        return Ok((Layout::Rows(measure.family()), cols));
    }
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
pub(crate) fn read_studies<'a>(
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
    let at = At { t, cols };
    match layout {
        Layout::Totals | Layout::NonEvents => counts(&at, layout, &mut vals, n)?,
        Layout::Continuous => continuous(&at, &vals, n)?,
        Layout::Var | Layout::Se => variances(&at, layout, &mut vals, n)?,
        Layout::Rows(f) => family_rows(&at, f, &vals, n)?,
    }
    Ok(Studies { layout, cols: vals })
}

/// A user table's columns, for errors at a row and column.
struct At<'t> {
    t: &'t UserTable,
    cols: &'t [(&'static str, String)],
}

impl At<'_> {
    fn bad(&self, r: usize, k: usize, msg: String) -> Result<()> {
        Err(Error::data(msg)
            .file(&self.t.path)
            .line(self.t.row_label(r))
            .field(self.cols[k].1.clone()))
    }
}

/// 2x2 counts: whole numbers, events within totals, no empty arm; non-events made totals.
fn counts(at: &At, layout: Layout, vals: &mut [Col], n: usize) -> Result<()> {
    let all: Vec<&Col> = vals.iter().collect();
    by_blocks(&all, n, |lo, v| {
        for r in 0..v[0].len() {
            for k in 0..4 {
                let x = v[k][r];
                if x < 0.0 || x.fract() != 0.0 {
                    return at.bad(
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
                return at.bad(
                    lo + r,
                    0,
                    format!("events {} = {a} > {} = {n1}", at.cols[0].1, at.cols[1].1),
                );
            }
            if c > n2 {
                return at.bad(
                    lo + r,
                    2,
                    format!("events {} = {c} > {} = {n2}", at.cols[2].1, at.cols[3].1),
                );
            }
            if n1 == 0.0 || n2 == 0.0 {
                return at.bad(
                    lo + r,
                    if n1 == 0.0 { 1 } else { 3 },
                    "an arm has no participants".into(),
                );
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// Means, SDs and group sizes: SDs not negative, sizes whole numbers >= 1.
fn continuous(at: &At, vals: &[Col], n: usize) -> Result<()> {
    let all: Vec<&Col> = vals.iter().collect();
    by_blocks(&all, n, |lo, v| {
        for r in 0..v[0].len() {
            for k in [1, 4] {
                if v[k][r] < 0.0 {
                    return at.bad(lo + r, k, format!("{} is negative", v[k][r]));
                }
            }
            for k in [2, 5] {
                if v[k][r] < 1.0 || v[k][r].fract() != 0.0 {
                    return at.bad(
                        lo + r,
                        k,
                        format!("{} is not a group size (a whole number >= 1)", v[k][r]),
                    );
                }
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// The rows of the other families: counts whole numbers >= 0 (events within the total),
/// totals and person-time > 0, correlations within (−1, 1), V > 0.
fn family_rows(at: &At, f: Family, vals: &[Col], n: usize) -> Result<()> {
    let all: Vec<&Col> = vals.iter().collect();
    let count = |x: f64| x >= 0.0 && x.fract() == 0.0;
    by_blocks(&all, n, |lo, v| {
        for r in 0..v[0].len() {
            let x = |k: usize| v[k][r];
            let bad = |k: usize, why: String| at.bad(lo + r, k, why);
            match f {
                Family::Proportion => {
                    if !count(x(0)) {
                        return bad(0, format!("{} is not a count (a whole number >= 0)", x(0)));
                    }
                    if !(count(x(1)) && x(1) >= 1.0) {
                        return bad(
                            1,
                            format!("{} is not a group size (a whole number >= 1)", x(1)),
                        );
                    }
                    if x(0) > x(1) {
                        let (e, t) = (&at.cols[0].1, &at.cols[1].1);
                        return bad(0, format!("events {e} = {} > {t} = {}", x(0), x(1)));
                    }
                }
                Family::Rate | Family::RatePair => {
                    for k in (0..v.len()).step_by(2) {
                        if !count(x(k)) {
                            return bad(
                                k,
                                format!("{} is not a count (a whole number >= 0)", x(k)),
                            );
                        }
                        if x(k + 1) <= 0.0 {
                            return bad(k + 1, format!("{}: person-time must be > 0", x(k + 1)));
                        }
                    }
                }
                Family::Correlation => {
                    if !(x(0) > -1.0 && x(0) < 1.0) {
                        return bad(0, format!("{}: a correlation must be within (-1, 1)", x(0)));
                    }
                    if !(count(x(1)) && x(1) >= 1.0) {
                        return bad(
                            1,
                            format!("{} is not a sample size (a whole number >= 1)", x(1)),
                        );
                    }
                }
                Family::OMinusE if x(1) <= 0.0 => {
                    return bad(1, format!("{}: the variance V must be > 0", x(1)));
                }
                _ => {}
            }
        }
        Ok(())
    })
}

/// Effects with variances or standard errors (> 0); standard errors squared.
fn variances(at: &At, layout: Layout, vals: &mut [Col], n: usize) -> Result<()> {
    let all: Vec<&Col> = vals.iter().collect();
    by_blocks(&all[1..2], n, |lo, v| {
        match v[0].iter().position(|&x| x <= 0.0) {
            Some(r) => at.bad(
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
    Ok(())
}

impl Studies<'_> {
    /// Rows `lo..hi` of every column (see [`Col::rows`]; `bufs`: one scratch per column).
    pub(crate) fn rows<'s>(
        &'s self,
        lo: usize,
        hi: usize,
        bufs: &'s mut [Vec<f64>],
    ) -> Vec<&'s [f64]> {
        self.cols
            .iter()
            .zip(bufs.iter_mut())
            .map(|(c, b)| c.rows(lo, hi, b))
            .collect()
    }
    /// One scratch buffer per column for [`Studies::rows`].
    pub(crate) fn scratch(&self) -> Vec<Vec<f64>> {
        vec![Vec::new(); self.cols.len()]
    }
}
