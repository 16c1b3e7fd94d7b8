//! SYNTHETIC data and timings for `make bench`: seeded meta-analyses (`metapipe gen-meta`), the
//! batch kernel against a straight-line DL loop (`metapipe bench-kernel`) and `pool_frame` in
//! memory (`metapipe bench-pool`).

use metapipe_meta::model::{Control, Method};
use metapipe_tables::{Result, Table};
use std::path::Path;

/// SYNTHETIC meta-analyses: group g has k studies with a true effect drawn per group and
/// between-study heterogeneity; seeded splitmix64 + Box-Muller, reproducible everywhere. Batches
/// continue one random sequence, so the data do not depend on the batch size.
struct GenMeta {
    state: u64,
    k: usize,
    binary: bool,
}

impl GenMeta {
    fn uniform(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E3779B97F4A7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D049BB133111EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * self.uniform()).cos()
    }
    /// Groups `first + 1 ..= first + groups`.
    fn batch(&mut self, first: usize, groups: usize) -> Result<Table> {
        use metapipe_tables::schema::{GEN_BINARY, GEN_GENERIC};
        use polars::prelude::{Column, DataFrame};
        let (k, n) = (self.k, groups * self.k);
        let mut g = Vec::with_capacity(n);
        let mut study = Vec::with_capacity(n);
        let (mut c1, mut c2, mut c3, mut c4) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for gi in first..first + groups {
            let key = gi as i64 + 1;
            let mu = 0.3 * self.normal();
            let tau = 0.3 * self.uniform();
            for s in 0..k {
                g.push(key);
                study.push(s as i64 + 1);
                let theta = mu + tau * self.normal();
                if self.binary {
                    let n1 = 20 + (self.uniform() * 180.0) as i64;
                    let n2 = 20 + (self.uniform() * 180.0) as i64;
                    let p2 = 0.05 + 0.3 * self.uniform();
                    let odds = p2 / (1.0 - p2) * theta.exp();
                    let p1 = odds / (1.0 + odds);
                    let a = (0..n1).filter(|_| self.uniform() < p1).count() as i64;
                    let c = (0..n2).filter(|_| self.uniform() < p2).count() as i64;
                    c1.push(a as f64);
                    c2.push(n1 as f64);
                    c3.push(c as f64);
                    c4.push(n2 as f64);
                } else {
                    let v = 0.01 + 0.3 * self.uniform();
                    c1.push(theta + v.sqrt() * self.normal());
                    c2.push(v);
                }
            }
        }
        let to_int = |name: &str, v: Vec<f64>| {
            Column::new(
                name.into(),
                v.into_iter().map(|y| y as i64).collect::<Vec<_>>(),
            )
        };
        let (schema, cols) = if self.binary {
            (
                &GEN_BINARY,
                vec![
                    Column::new("group".into(), g),
                    Column::new("study".into(), study),
                    to_int("ai", c1),
                    to_int("n1i", c2),
                    to_int("ci", c3),
                    to_int("n2i", c4),
                ],
            )
        } else {
            (
                &GEN_GENERIC,
                vec![
                    Column::new("group".into(), g),
                    Column::new("study".into(), study),
                    Column::new("yi".into(), c1),
                    Column::new("vi".into(), c2),
                ],
            )
        };
        let df = DataFrame::new(n, cols).map_err(metapipe_tables::pe)?;
        metapipe_tables::Table::new(schema, df)
    }
}

pub fn gen_meta(groups: usize, k: usize, binary: bool, seed: u64) -> Result<Table> {
    GenMeta {
        state: seed,
        k,
        binary,
    }
    .batch(0, groups)
}

/// `gen-meta` into a file, in batches of 10^5 groups (bounded memory for 10^8 rows).
pub fn gen_meta_to(groups: usize, k: usize, binary: bool, seed: u64, out: &Path) -> Result<()> {
    use metapipe_tables::io::{SinkFormat, TableSink};
    use metapipe_tables::schema::{GEN_BINARY, GEN_GENERIC};
    let format = if out.extension().is_some_and(|e| e == "parquet") {
        SinkFormat::Parquet
    } else {
        SinkFormat::Csv
    };
    let mut sink = TableSink::create(out, format, if binary { &GEN_BINARY } else { &GEN_GENERIC })?;
    let mut gen = GenMeta {
        state: seed,
        k,
        binary,
    };
    let step = 100_000;
    for first in (0..groups).step_by(step) {
        sink.write(&gen.batch(first, step.min(groups - first))?)?;
    }
    sink.finish()
}

/// Timings of DL over `groups` in-memory meta-analyses of `k` studies: a straight-line loop
/// (estimate, se, τ² only) and metapipe's batch kernel (every output column), ns per analysis,
/// min/median/max of `runs`, as CSV.
pub fn kernel_times(groups: usize, k: usize, runs: usize) -> String {
    let t = gen_meta(groups, k, false, 7).expect("generate");
    let yi: Vec<f64> = t.float("yi").into_no_null_iter().collect();
    let vi: Vec<f64> = t.float("vi").into_no_null_iter().collect();
    let straight = |yi: &[f64], vi: &[f64]| -> f64 {
        let mut acc = 0.0;
        for g in 0..groups {
            let (y, v) = (&yi[g * k..(g + 1) * k], &vi[g * k..(g + 1) * k]);
            let (mut sw, mut swy, mut sw2) = (0.0, 0.0, 0.0);
            for j in 0..k {
                let w = 1.0 / v[j];
                sw += w;
                swy += w * y[j];
                sw2 += w * w;
            }
            let m = swy / sw;
            let mut q = 0.0;
            for j in 0..k {
                q += (y[j] - m) * (y[j] - m) / v[j];
            }
            let tau2 = ((q - (k as f64 - 1.0)) / (sw - sw2 / sw)).max(0.0);
            let (mut a, mut b) = (0.0, 0.0);
            for j in 0..k {
                let w = 1.0 / (v[j] + tau2);
                a += w;
                b += w * y[j];
            }
            acc += b / a + (1.0 / a).sqrt() + tau2;
        }
        acc
    };
    let control = metapipe_meta::Control::default();
    let crit = metapipe_meta::batch::crit(0.95);
    let kernel = |yi: &[f64], vi: &[f64], full: bool| -> f64 {
        let mut acc = 0.0;
        for g in 0..groups {
            let (y, v) = (&yi[g * k..(g + 1) * k], &vi[g * k..(g + 1) * k]);
            let r = metapipe_meta::batch::iv(y, v, Method::DL, &control, crit).unwrap();
            acc += r.estimate + if full { r.p + r.q_p } else { 0.0 };
        }
        acc
    };
    let time = |f: &dyn Fn() -> f64| -> Vec<f64> {
        let mut ts: Vec<f64> = (0..runs)
            .map(|_| {
                let t0 = std::time::Instant::now();
                std::hint::black_box(f());
                t0.elapsed().as_secs_f64() * 1e9 / groups as f64
            })
            .collect();
        ts.sort_by(|a, b| a.total_cmp(b));
        ts
    };
    let mut out = String::from("what,ns_min,ns_median,ns_max\n");
    for (name, ts) in [
        ("straight_line_dl_loop", time(&|| straight(&yi, &vi))),
        ("metapipe_batch_dl_kernel", time(&|| kernel(&yi, &vi, true))),
    ] {
        out.push_str(&format!(
            "{name},{:.1},{:.1},{:.1}\n",
            ts[0],
            ts[ts.len() / 2],
            ts[ts.len() - 1]
        ));
    }
    out
}

/// `pool_frame` on a table read once into memory, `runs` times: min/median/max seconds, as CSV.
pub fn pool_frame_times(
    file: &Path,
    measure: &str,
    method: &str,
    group: &str,
    runs: usize,
) -> Result<String> {
    let o = crate::UserOptions {
        measure,
        method,
        test: Some("z"),
        convention: "metafor",
        prediction: None,
        level: 0.95,
        engine: "auto",
        control: Control::default(),
    };
    let a = crate::PoolArgs {
        group: Some(group.to_string()),
        ..crate::PoolArgs::new(&o)?
    };
    let df = metapipe_tables::io::open_user(file)?.read_all()?;
    let mut times = vec![];
    for _ in 0..runs.max(1) {
        let t = std::time::Instant::now();
        let out = crate::pool_frame(&df, &file.display().to_string(), &a)?;
        times.push(t.elapsed().as_secs_f64());
        std::hint::black_box(out);
    }
    times.sort_by(f64::total_cmp);
    Ok(format!(
        "what,s_min,s_median,s_max\nin-memory pool_frame,{:.4},{:.4},{:.4}\n",
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    ))
}
