//! `metapipe pool FILE`: pool any study table with metafor's column names.

use metapipe_meta::effect::{escalc_binary, escalc_continuous, Binary, Continuous, Measure, ZeroCell};
use metapipe_meta::model::{mantel_haenszel, peto, revman_dl, revman_mh, rma_uni, Control, Fit, Method, Options, Test};
use metapipe_tables::io::{read_raw, write_atomic, write_csv, write_parquet, RawCol, RawTable};
use metapipe_tables::schema::POOL_GROUPS;
use metapipe_tables::{f, i, s, so, Builder, Error, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct PoolArgs {
    pub file: PathBuf,
    pub measure: Measure,
    pub method: Method,
    pub test: Test,
    pub revman: bool,
    pub group: Option<String>,
    pub format: String,
    pub out: Option<PathBuf>,
    pub control: Control,
    pub level: f64,
}

/// Study-level input for one analysis.
enum Input {
    Tables(Vec<Binary>),
    Cont(Vec<Continuous>),
    Gen(Vec<f64>, Vec<f64>),
}

fn num_col<'a>(t: &'a RawTable, name: &str, path: &Path) -> Result<&'a [Option<f64>]> {
    let k = t.index(name).ok_or_else(|| Error::data(format!("missing column (have: {})", t.names.join(","))).file(path).line(1).field(name))?;
    match &t.cols[k] {
        RawCol::Num(v) => Ok(v),
        RawCol::Text(v) => {
            let r = v.iter().position(|x| x.as_ref().is_some_and(|s| s.parse::<f64>().is_err())).unwrap_or(0);
            Err(Error::data(format!("{:?} is not a number", v[r].clone().unwrap_or_default())).file(path).line(t.row_label(r)).field(name))
        }
    }
}

fn value(col: &[Option<f64>], r: usize, t: &RawTable, name: &str, path: &Path) -> Result<f64> {
    let v = col[r].ok_or_else(|| Error::data("missing value").file(path).line(t.row_label(r)).field(name))?;
    if !v.is_finite() {
        return Err(Error::data(format!("{v} is not finite")).file(path).line(t.row_label(r)).field(name));
    }
    Ok(v)
}

fn count(col: &[Option<f64>], r: usize, t: &RawTable, name: &str, path: &Path) -> Result<f64> {
    let v = value(col, r, t, name, path)?;
    if v < 0.0 || v.fract() != 0.0 {
        return Err(Error::data(format!("{v} is not a count (a whole number >= 0)")).file(path).line(t.row_label(r)).field(name));
    }
    Ok(v)
}

/// Validate and collect every row of the table, per measure.
fn rows_of(t: &RawTable, a: &PoolArgs, rows: &[usize]) -> Result<Input> {
    let p = &a.file;
    if a.measure.is_binary() {
        let ai = num_col(t, "ai", p)?;
        let ci = num_col(t, "ci", p)?;
        let has_n = t.index("n1i").is_some() && t.index("n2i").is_some();
        let (c1, c2, n1name, n2name) = if has_n { (num_col(t, "n1i", p)?, num_col(t, "n2i", p)?, "n1i", "n2i") } else { (num_col(t, "bi", p)?, num_col(t, "di", p)?, "bi", "di") };
        let mut out = vec![];
        for &r in rows {
            let (x1, x2) = (count(ai, r, t, "ai", p)?, count(ci, r, t, "ci", p)?);
            let (y1, y2) = (count(c1, r, t, n1name, p)?, count(c2, r, t, n2name, p)?);
            let (n1, n2) = if has_n { (y1, y2) } else { (x1 + y1, x2 + y2) };
            if x1 > n1 {
                return Err(Error::data(format!("events ai = {x1} > n1i = {n1}")).file(p).line(t.row_label(r)).field("ai"));
            }
            if x2 > n2 {
                return Err(Error::data(format!("events ci = {x2} > n2i = {n2}")).file(p).line(t.row_label(r)).field("ci"));
            }
            if n1 == 0.0 || n2 == 0.0 {
                return Err(Error::data("an arm has no participants").file(p).line(t.row_label(r)).field(n1name));
            }
            out.push(Binary::new(x1, n1, x2, n2));
        }
        Ok(Input::Tables(out))
    } else if a.measure.is_continuous() {
        let names = ["m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"];
        let cols: Vec<&[Option<f64>]> = names.iter().map(|n| num_col(t, n, p)).collect::<Result<_>>()?;
        let mut out = vec![];
        for &r in rows {
            let v: Vec<f64> = names.iter().zip(&cols).map(|(n, c)| value(c, r, t, n, p)).collect::<Result<_>>()?;
            for (k, n) in [(1, "sd1i"), (4, "sd2i")] {
                if v[k] < 0.0 {
                    return Err(Error::data(format!("{} is negative", v[k])).file(p).line(t.row_label(r)).field(n));
                }
            }
            for (k, n) in [(2, "n1i"), (5, "n2i")] {
                if v[k] < 1.0 || v[k].fract() != 0.0 {
                    return Err(Error::data(format!("{} is not a group size (a whole number >= 1)", v[k])).file(p).line(t.row_label(r)).field(n));
                }
            }
            out.push(Continuous { m1i: v[0], sd1i: v[1], n1i: v[2], m2i: v[3], sd2i: v[4], n2i: v[5] });
        }
        Ok(Input::Cont(out))
    } else {
        let yi = num_col(t, "yi", p)?;
        let (vcol, vname, is_se) = if t.index("vi").is_some() { (num_col(t, "vi", p)?, "vi", false) } else { (num_col(t, "sei", p).map_err(|e| e.field("vi"))?, "sei", true) };
        let (mut ys, mut vs) = (vec![], vec![]);
        for &r in rows {
            let y = value(yi, r, t, "yi", p)?;
            let v = value(vcol, r, t, vname, p)?;
            if v <= 0.0 {
                return Err(Error::data(format!("{v}: a sampling {} must be > 0", if is_se { "standard error" } else { "variance" })).file(p).line(t.row_label(r)).field(vname));
            }
            ys.push(y);
            vs.push(if is_se { v * v } else { v });
        }
        Ok(Input::Gen(ys, vs))
    }
}

/// Fit one analysis.
fn fit(input: &Input, a: &PoolArgs) -> std::result::Result<Fit, String> {
    let opts = Options { level: a.level, test: a.test, control: a.control, extras: true };
    match (input, a.method) {
        (Input::Tables(t), Method::MH) if a.revman => revman_mh(t, a.measure, a.level).map_err(|e| e.to_string()),
        (Input::Tables(t), Method::MH) => mantel_haenszel(t, a.measure, a.level).map_err(|e| e.to_string()),
        (Input::Tables(t), Method::Peto) => {
            if a.measure != Measure::OR {
                return Err("Peto's method is for OR only".into());
            }
            peto(t, a.level).map_err(|e| e.to_string())
        }
        (Input::Tables(t), Method::DL) if a.revman => revman_dl(t, a.measure, a.level).map_err(|e| e.to_string()),
        (_, Method::MH | Method::Peto) => Err(format!("{} needs 2x2 counts (ai, n1i, ci, n2i)", a.method.name())),
        (input, m) => {
            let effects = match input {
                Input::Tables(t) => escalc_binary(a.measure, t, ZeroCell::ESCALC),
                Input::Cont(c) => escalc_continuous(a.measure, c),
                Input::Gen(y, v) => y.iter().zip(v).map(|(y, v)| Some(metapipe_meta::Effect { yi: *y, vi: *v })).collect(),
            };
            let (yi, vi): (Vec<f64>, Vec<f64>) = effects.iter().flatten().map(|e| (e.yi, e.vi)).unzip();
            rma_uni(&yi, &vi, m, &opts).map_err(|e| e.to_string())
        }
    }
}

fn json_of(fit: &Fit) -> String {
    let mut m = serde_json::Map::new();
    for (k, v) in fit.fields() {
        let val = if k == "k" || k == "Q_df" { serde_json::json!(v as i64) } else if v.is_finite() { serde_json::json!(v) } else { serde_json::Value::Null };
        m.insert(k.to_string(), val);
    }
    serde_json::to_string_pretty(&serde_json::Value::Object(m)).unwrap()
}

/// The batch fast path: Parquet in, contiguous groups, allocation-free kernels on all cores.
/// `None` when it does not apply (other measures/methods, HKSJ, non-contiguous groups, CSV).
fn pool_groups_fast(a: &PoolArgs, g: &str) -> Result<Option<metapipe_tables::Table>> {
    use metapipe_meta::batch;
    let generic = a.measure == Measure::GEN && matches!(a.method, Method::FE | Method::DL | Method::REML | Method::ML | Method::EB | Method::HE | Method::SJ);
    let mh = a.measure == Measure::OR && a.method == Method::MH && !a.revman;
    if a.test != Test::Z || !(generic || mh) {
        return Ok(None);
    }
    let cols: Vec<&str> = if generic { vec!["yi", "vi"] } else { vec!["ai", "n1i", "ci", "n2i"] };
    let Some(gr) = metapipe_tables::io::read_grouped(&a.file, g, &cols)? else { return Ok(None) };
    if gr.rows == 0 {
        return Err(Error::data("empty table: no studies").file(&a.file));
    }
    // validate every row first (rows numbered from 1 in Parquet)
    let bad = |r: usize, col: &str, msg: String| Err(Error::data(msg).file(&a.file).line(r + 1).field(col.to_string()));
    if generic {
        for r in 0..gr.rows {
            let (y, v) = (gr.cols[0][r], gr.cols[1][r]);
            if !y.is_finite() {
                return bad(r, "yi", format!("{y} is not finite"));
            }
            if !v.is_finite() || v <= 0.0 {
                return bad(r, "vi", format!("{v}: a sampling variance must be finite and > 0"));
            }
        }
    } else {
        for r in 0..gr.rows {
            for (c, name) in cols.iter().enumerate() {
                let x = gr.cols[c][r];
                if !x.is_finite() || x < 0.0 || x.fract() != 0.0 {
                    return bad(r, name, format!("{x} is not a count (a whole number >= 0)"));
                }
            }
            if gr.cols[0][r] > gr.cols[1][r] {
                return bad(r, "ai", format!("events ai = {} > n1i = {}", gr.cols[0][r], gr.cols[1][r]));
            }
            if gr.cols[2][r] > gr.cols[3][r] {
                return bad(r, "ci", format!("events ci = {} > n2i = {}", gr.cols[2][r], gr.cols[3][r]));
            }
            if gr.cols[1][r] == 0.0 || gr.cols[3][r] == 0.0 {
                return bad(r, "n1i", "an arm has no participants".into());
            }
        }
    }
    let crit = batch::crit(a.level);
    let n = gr.keys.len();
    let fit_group = |i: usize| -> std::result::Result<batch::Row, String> {
        let (lo, hi) = (gr.offsets[i], gr.offsets[i + 1]);
        if generic {
            batch::iv(&gr.cols[0][lo..hi], &gr.cols[1][lo..hi], a.method, &a.control, crit).map_err(|e| e.to_string())
        } else {
            batch::mh_or(&gr.cols[0][lo..hi], &gr.cols[1][lo..hi], &gr.cols[2][lo..hi], &gr.cols[3][lo..hi], crit).map_err(|e| e.to_string())
        }
    };
    let threads = std::thread::available_parallelism().map(|x| x.get()).unwrap_or(1).min(16);
    let chunk = n.div_ceil(threads.max(1)).max(1);
    let results: Vec<std::result::Result<batch::Row, String>> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..n).step_by(chunk).map(|start| sc.spawn(move || (start..(start + chunk).min(n)).map(fit_group).collect::<Vec<_>>())).collect();
        hs.into_iter().flat_map(|h| h.join().expect("pool worker panicked")).collect()
    });
    use metapipe_tables::Column;
    let fcol = |f: &dyn Fn(&batch::Row) -> f64| Column::Float(results.iter().map(|r| r.as_ref().ok().map(f).filter(|x| x.is_finite())).collect());
    let icol = |f: &dyn Fn(&batch::Row) -> i64| Column::Int(results.iter().map(|r| r.as_ref().ok().map(f)).collect());
    let columns = vec![
        Column::Str(gr.keys.into_iter().map(Some).collect()),
        Column::Int(results.iter().enumerate().map(|(i, r)| Some(r.as_ref().map(|x| x.k as i64).unwrap_or((gr.offsets[i + 1] - gr.offsets[i]) as i64))).collect()),
        fcol(&|r| r.estimate),
        fcol(&|r| r.se),
        fcol(&|r| r.ci_lb),
        fcol(&|r| r.ci_ub),
        fcol(&|r| r.z),
        fcol(&|r| r.p),
        fcol(&|r| r.q),
        icol(&|r| r.q_df as i64),
        fcol(&|r| r.q_p),
        fcol(&|r| r.i2),
        fcol(&|r| r.h2),
        fcol(&|r| r.tau2),
        fcol(&|r| r.pi_lb),
        fcol(&|r| r.pi_ub),
        Column::Str(results.iter().map(|r| r.as_ref().err().cloned()).collect()),
    ];
    Ok(Some(metapipe_tables::Table::new(&POOL_GROUPS, columns)?))
}

fn emit_groups(table: &metapipe_tables::Table, a: &PoolArgs) -> Result<String> {
    match &a.out {
        Some(o) if o.extension().is_some_and(|e| e == "parquet") => {
            write_parquet(table, o)?;
            Ok(String::new())
        }
        Some(o) => {
            write_csv(table, o)?;
            Ok(String::new())
        }
        None => Ok(String::from_utf8(metapipe_tables::io::csv_bytes(table)?).unwrap()),
    }
}

/// Run `metapipe pool`; returns what goes to stdout.
pub fn pool(a: &PoolArgs) -> Result<String> {
    if let Some(g) = &a.group {
        if let Some(table) = pool_groups_fast(a, g)? {
            return emit_groups(&table, a);
        }
    }
    let t = read_raw(&a.file)?;
    if t.rows == 0 {
        return Err(Error::data("empty table: no studies").file(&a.file));
    }
    if a.measure != Measure::GEN && a.measure.is_binary() == false && a.measure.is_continuous() == false {
        return Err(Error::usage("unknown measure"));
    }
    match &a.group {
        None => {
            let all: Vec<usize> = (0..t.rows).collect();
            let input = rows_of(&t, a, &all)?;
            let fit = fit(&input, a).map_err(|e| Error::data(e).file(&a.file))?;
            let out = match a.format.as_str() {
                "json" => json_of(&fit) + "\n",
                "csv" => {
                    let fields = fit.fields();
                    format!("{}\n{}\n", fields.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(","), fields.iter().map(|(_, v)| format!("{v}")).collect::<Vec<_>>().join(","))
                }
                _ => {
                    let fmt = |v: f64| if v != 0.0 && v.abs() < 1e-4 { format!("{v:.4e}") } else { format!("{v:.6}") };
                    let mut s: String = fit.fields().iter().map(|(k, v)| format!("{k:<12} {}\n", fmt(*v))).collect();
                    if a.measure.is_ratio() {
                        s.push_str(&format!("{} = {:.4} [{:.4}, {:.4}]\n", a.measure.name(), fit.estimate.exp(), fit.ci_lb.exp(), fit.ci_ub.exp()));
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
        Some(g) => {
            let k = t.index(g).ok_or_else(|| Error::data(format!("missing group column (have: {})", t.names.join(","))).file(&a.file).line(1).field(g.clone()))?;
            let keys: Vec<String> = match &t.cols[k] {
                RawCol::Text(v) => v.iter().map(|x| x.clone().unwrap_or_default()).collect(),
                RawCol::Num(v) => v.iter().map(|x| x.map(|y| format!("{y}")).unwrap_or_default()).collect(),
            };
            // groups in order of first appearance (as the Parquet fast path)
            let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
            let mut groups: Vec<(&str, Vec<usize>)> = vec![];
            for (r, key) in keys.iter().enumerate() {
                let gi = *index.entry(key.as_str()).or_insert_with(|| {
                    groups.push((key.as_str(), vec![]));
                    groups.len() - 1
                });
                groups[gi].1.push(r);
            }
            // validate the whole table first: bad input anywhere fails the run
            let all: Vec<usize> = (0..t.rows).collect();
            rows_of(&t, a, &all)?;
            let mut b = Builder::new(&POOL_GROUPS);
            for (key, rows) in &groups {
                let input = rows_of(&t, a, rows)?;
                match fit(&input, a) {
                    Ok(ft) => b.row(vec![
                        s(*key),
                        i(ft.k as i64),
                        f(ft.estimate),
                        f(ft.se),
                        f(ft.ci_lb),
                        f(ft.ci_ub),
                        f(ft.z),
                        f(ft.p),
                        f(ft.q),
                        i(ft.q_df as i64),
                        f(ft.q_p),
                        f(ft.i2),
                        f(ft.h2),
                        f(ft.tau2),
                        f(ft.pi_lb),
                        f(ft.pi_ub),
                        so(None::<String>),
                    ]),
                    Err(e) => b.row(vec![s(*key), i(rows.len() as i64), f(None), f(None), f(None), f(None), f(None), f(None), f(None), i(None), f(None), f(None), f(None), f(None), f(None), f(None), s(e)]),
                }
            }
            let table = b.finish()?;
            emit_groups(&table, a)
        }
    }
}
