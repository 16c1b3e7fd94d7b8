//! The `metapipe` binary: a thin shell over the library crates.
//!
//! Exit status: 0 success; 1 bad input data (the message names file, line and field); 2 bad
//! usage. Nothing is printed on stdout on failure, and no output file is left half-written.

use metapipe_pool as pool_cmd;
use metapipe_run::{config, init, run};

use clap::{Parser, Subcommand};
use metapipe_meta::model::{Control, Method};
use metapipe_tables::Error;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "metapipe",
    version,
    about = "Systematic review and meta-analysis as a reproducible batch pipeline"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run one review: `metapipe run pipelines/<name>.toml`
    Run {
        config: PathBuf,
        /// output root (the review's tables go to OUT/<name>/)
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Start a review: write pipelines/NAME.toml (every key, commented) and data/NAME/ templates
    Init {
        name: String,
        /// the project directory holding pipelines/ and data/
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// Pool a study table (CSV or Parquet; metafor's column names or the pipeline's)
    Pool(PoolOpts),
    /// Parse search exports into one records table (.parquet or .csv)
    Parse {
        files: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Generate a SYNTHETIC record set with duplicate noise (benchmark CSV layout) and its truth
    GenRecords {
        #[arg(long)]
        n: usize,
        #[arg(long, default_value_t = 0.3)]
        dup_rate: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// the true duplicate clusters (merged_ids)
        #[arg(long)]
        truth: PathBuf,
    },
    /// Generate SYNTHETIC batches of meta-analyses (Parquet or CSV by extension) for benchmarks
    GenMeta {
        #[arg(long)]
        groups: usize,
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// binary (ai, n1i, ci, n2i) or generic (yi, vi)
        #[arg(long, default_value = "binary")]
        kind: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Benchmark the in-memory DL kernel against a straight-line loop (ns per meta-analysis)
    #[command(hide = true)]
    BenchKernel {
        #[arg(long, default_value_t = 1_000_000)]
        groups: usize,
        #[arg(long, default_value_t = 10)]
        k: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Benchmark `pool --group` in memory: FILE read once, then the in-memory pooling (the code
    /// the Python package calls) timed; seconds per run, min/median/max, as CSV
    #[command(hide = true)]
    BenchPool {
        file: PathBuf,
        #[arg(long, default_value = "OR")]
        measure: String,
        #[arg(long, default_value = "DL")]
        method: String,
        #[arg(long, default_value = "group")]
        group: String,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Deduplicate search exports; writes one row per cluster of two or more (merged_ids)
    Dedup(DedupOpts),
}

#[derive(clap::Args)]
struct PoolOpts {
    file: PathBuf,
    #[arg(long, default_value = "OR")]
    measure: String,
    #[arg(long, default_value = "REML")]
    method: String,
    #[arg(long, default_value = "z")]
    test: String,
    #[arg(long, default_value = "metafor")]
    convention: String,
    /// pool every group of this column in one pass
    #[arg(long)]
    group: Option<String>,
    #[arg(long, default_value = "table")]
    format: String,
    #[arg(long)]
    out: Option<PathBuf>,
    /// confidence level: 0.95 or 95
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// `auto`: the allocation-free batch kernels where they cover the measure × method;
    /// `single`: the single-analysis path for every group (for checking the kernels)
    #[arg(long, default_value = "auto")]
    engine: String,
    /// metafor control: upper end of the tau^2 search (default: metafor's)
    #[arg(long)]
    tau2_max: Option<f64>,
    /// metafor control: iteration limit
    #[arg(long, default_value_t = 100)]
    maxiter: usize,
    /// metafor control: Fisher-scoring step adjustment
    #[arg(long, default_value_t = 1.0)]
    stepadj: f64,
    /// metafor control: convergence threshold
    #[arg(long, default_value_t = 1e-5)]
    threshold: f64,
}

#[derive(clap::Args)]
struct DedupOpts {
    files: Vec<PathBuf>,
    #[arg(long)]
    out: PathBuf,
    /// a person's decisions on maybe-pairs (record_a, record_b, duplicate)
    #[arg(long)]
    decisions: Option<PathBuf>,
    /// the rules' title-similarity thresholds: near,doi,locus (the config's [dedup.thresholds])
    #[arg(long, default_value = "0.95,0.80,0.90")]
    thresholds: String,
    /// also write the maybe-pairs here
    #[arg(long)]
    maybe: Option<PathBuf>,
    /// explain the decision on one pair of record ids (as written in --out) and exit
    #[arg(long, num_args = 2, value_names = ["ID_A", "ID_B"])]
    explain: Option<Vec<String>>,
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("METAPIPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| metapipe_run::incremental::LogWriter)
        .without_time()
        .with_target(false)
        .init();
}

fn sources_from(files: &[PathBuf]) -> Result<Vec<metapipe_ingest::Source>, Error> {
    files
        .iter()
        .map(|f| {
            Ok(metapipe_ingest::Source {
                database: f
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_default(),
                input: metapipe_tables::io::Input::read(f)?,
                round: 1,
            })
        })
        .collect()
}

fn write_table(t: &metapipe_tables::Table, out: &std::path::Path) -> Result<(), Error> {
    if out.extension().is_some_and(|e| e == "parquet") {
        metapipe_tables::io::write_parquet(t, out)
    } else {
        metapipe_tables::io::write_csv(t, out)
    }
}

fn real_main() -> Result<String, Error> {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) {
                return Ok(e.to_string());
            }
            return Err(Error::usage(e.to_string().trim_end().to_string()));
        }
    };
    match cli.cmd {
        Cmd::Run { config, out } => {
            init_tracing();
            let cfg = config::Config::load(&config)?;
            let fail_after = std::env::var("METAPIPE_FAIL_AFTER").ok();
            let dir = run::run(&cfg, &out, fail_after.as_deref())?;
            tracing::info!("outputs in {}", dir.display());
            Ok(String::new())
        }
        Cmd::Init { name, root } => init::init(&root, &name),
        Cmd::Pool(o) => pool_cmd::pool(&pool_args(o)?),
        Cmd::GenRecords {
            n,
            dup_rate,
            seed,
            out,
            truth,
        } => {
            if !(0.0..=1.0).contains(&dup_rate) {
                return Err(Error::usage("--dup-rate must be between 0 and 1"));
            }
            let (recs, clusters) = metapipe_ingest::synth::generate(n, dup_rate, seed);
            metapipe_tables::io::write_atomic(
                &out,
                metapipe_ingest::synth::to_csv(&recs).as_bytes(),
            )?;
            metapipe_tables::io::write_atomic(
                &truth,
                metapipe_ingest::synth::clusters_csv(&clusters).as_bytes(),
            )?;
            Ok(String::new())
        }
        Cmd::GenMeta {
            groups,
            k,
            kind,
            seed,
            out,
        } => {
            let binary = match kind.as_str() {
                "binary" => true,
                "generic" => false,
                x => {
                    return Err(Error::usage(format!(
                        "--kind {x:?}: expected binary or generic"
                    )))
                }
            };
            if k == 0 {
                return Err(Error::usage("--k must be >= 1"));
            }
            gen_meta_to(groups, k, binary, seed, &out)?;
            Ok(String::new())
        }
        Cmd::BenchKernel { groups, k, runs } => Ok(bench_kernel(groups, k, runs)),
        Cmd::BenchPool {
            file,
            measure,
            method,
            group,
            runs,
        } => {
            let o = pool_cmd::UserOptions {
                measure: &measure,
                method: &method,
                test: "z",
                convention: "metafor",
                level: 0.95,
                engine: "auto",
                control: Control::default(),
            };
            let a = pool_cmd::PoolArgs {
                group: Some(group),
                ..pool_cmd::PoolArgs::new(&o)?
            };
            let df = metapipe_tables::io::open_user(&file)?.read_all()?;
            let mut times = vec![];
            for _ in 0..runs.max(1) {
                let t = std::time::Instant::now();
                let out = pool_cmd::pool_frame(&df, &file.display().to_string(), &a)?;
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
        Cmd::Parse { files, out } => {
            if files.is_empty() {
                return Err(Error::usage("parse: give at least one file"));
            }
            let (recs, _, _, warnings) = metapipe_ingest::parse_sources(&sources_from(&files)?)?;
            for w in warnings {
                eprintln!("warning: {w}");
            }
            write_table(&metapipe_ingest::records_table(&recs)?, &out)?;
            Ok(String::new())
        }
        Cmd::Dedup(o) => dedup_cmd(o),
    }
}

/// `pool`'s options checked and parsed (bad usage: exit 2).
fn pool_args(o: PoolOpts) -> Result<pool_cmd::PoolArgs, Error> {
    let PoolOpts {
        file,
        measure,
        method,
        test,
        convention,
        group,
        format,
        out,
        level,
        engine,
        tau2_max,
        maxiter,
        stepadj,
        threshold,
    } = o;
    if !["json", "csv", "table"].contains(&format.as_str()) {
        return Err(Error::usage(format!(
            "--format {format:?}: expected json, csv or table"
        )));
    }
    let control = Control {
        tau2_max,
        maxiter,
        stepadj,
        threshold,
        ..Control::default()
    };
    let o = pool_cmd::UserOptions {
        measure: &measure,
        method: &method,
        test: &test,
        convention: &convention,
        level,
        engine: &engine,
        control,
    };
    // the library names the option; on the command line it is a flag
    let checked = pool_cmd::PoolArgs::new(&o).map_err(|e| Error {
        field: e.field.as_ref().map(|f| format!("--{f}")),
        ..e
    })?;
    Ok(pool_cmd::PoolArgs {
        file,
        group,
        format,
        out,
        ..checked
    })
}

/// `dedup`: clusters of two or more records (the benchmark's `merged_ids` format), or one pair's
/// decision explained.
fn dedup_cmd(o: DedupOpts) -> Result<String, Error> {
    let DedupOpts {
        files,
        out,
        decisions,
        thresholds,
        maybe,
        explain,
    } = o;
    if files.is_empty() {
        return Err(Error::usage("dedup: give at least one file"));
    }
    let th = metapipe_ingest::dedup::Thresholds::parse(&thresholds)
        .map_err(|m| Error::usage(format!("--thresholds {m}")))?;
    let sources = sources_from(&files)?;
    let (recs, _, _, warnings) = metapipe_ingest::parse_sources(&sources)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    if let Some(pair) = explain {
        let find = |id: &str| {
            recs.iter().position(|r| {
                r.record_id == id || r.record_id.split_once(':').map(|(_, x)| x) == Some(id)
            })
        };
        let (a, b) = match (find(&pair[0]), find(&pair[1])) {
            (Some(a), Some(b)) => (a, b),
            _ => {
                return Err(Error::usage(format!(
                    "--explain: record {:?} or {:?} not found",
                    pair[0], pair[1]
                )))
            }
        };
        let (ka, kb) = (
            metapipe_ingest::dedup::keys(&recs[a]),
            metapipe_ingest::dedup::keys(&recs[b]),
        );
        let (d, sim) = metapipe_ingest::dedup::decide(&ka, &kb, &th);
        return Ok(format!(
            "{:#?}\n{:#?}\ndecision: {d:?} (title similarity {sim:.3})\n",
            ka, kb
        ));
    }
    let human = match &decisions {
        Some(p) => {
            metapipe_ingest::read_human_decisions(Some(&metapipe_tables::io::Input::read(p)?))?
        }
        None => vec![],
    };
    let order: std::collections::HashMap<&str, usize> = sources
        .iter()
        .enumerate()
        .map(|(k, s)| (s.database.as_str(), k))
        .collect();
    let d = metapipe_ingest::dedup::dedup(&recs, |k| order[recs[k].database.as_str()], &human, &th);
    // the stage tables only when they are written (building them costs polars' first-use set-up,
    // most of the run time on small exports)
    let tables = if out.extension().is_some_and(|e| e == "parquet") || maybe.is_some() {
        Some(metapipe_ingest::dedup_tables(
            &recs,
            &metapipe_ingest::records_table(&recs)?,
            &d,
            &Default::default(),
        )?)
    } else {
        None
    };
    // benchmark format: source ids without the database prefix when there is one source
    let strip = files.len() == 1;
    let mut list = metapipe_tables::Builder::new(&metapipe_tables::schema::CLUSTER_LIST);
    for members in d.clusters.iter().filter(|c| c.len() > 1) {
        let mut ids: Vec<String> = members
            .iter()
            .map(|&i| {
                let id = &recs[i].record_id;
                if strip {
                    id.split_once(':')
                        .map(|(_, x)| x.to_string())
                        .unwrap_or(id.clone())
                } else {
                    id.clone()
                }
            })
            .collect();
        ids.sort();
        list.row(vec![metapipe_tables::s(ids.join(";"))]);
    }
    match (&tables, out.extension().is_some_and(|e| e == "parquet")) {
        (Some((_, merged, _)), true) => metapipe_tables::io::write_parquet(merged, &out)?,
        _ => metapipe_tables::io::write_csv(&list.finish()?, &out)?,
    }
    if let (Some(m), Some((_, _, maybe_t))) = (maybe, &tables) {
        write_table(maybe_t, &m)?;
    }
    Ok(String::new())
}

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
    fn batch(&mut self, first: usize, groups: usize) -> Result<metapipe_tables::Table, Error> {
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

fn gen_meta(
    groups: usize,
    k: usize,
    binary: bool,
    seed: u64,
) -> Result<metapipe_tables::Table, Error> {
    GenMeta {
        state: seed,
        k,
        binary,
    }
    .batch(0, groups)
}

/// `gen-meta` into a file, in batches of 10^5 groups (bounded memory for 10^8 rows).
fn gen_meta_to(
    groups: usize,
    k: usize,
    binary: bool,
    seed: u64,
    out: &std::path::Path,
) -> Result<(), Error> {
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
fn bench_kernel(groups: usize, k: usize, runs: usize) -> String {
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

fn main() -> ExitCode {
    match real_main() {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("metapipe: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
