//! The `metapipe` binary: a thin shell over the library crates.
//!
//! Exit status: 0 success; 1 bad input data (the message names file, line and field); 2 bad
//! usage. Nothing is printed on stdout on failure, and no output file is left half-written.

use metapipe_plan::options;
use metapipe_pool as pool_cmd;
use metapipe_run::{config, init, run};

use clap::{Parser, Subcommand};
use metapipe_meta::model::Control;
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
enum ImportCmd {
    /// A RevMan review (RevMan 5 .rm5, RevMan 5's "Data and analyses" CSV export, or a RevMan Web
    /// data package .zip) as pipelines/NAME.toml and data/NAME/, RevMan's results in published.csv
    Revman {
        file: PathBuf,
        #[arg(long)]
        name: String,
        /// the project directory holding pipelines/ and data/
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

#[derive(Subcommand)]
enum ExportCmd {
    /// A review's studies, outcome data, settings and results as a RevMan 5 file (.rm5)
    Revman {
        config: PathBuf,
        /// the .rm5 to write
        #[arg(long)]
        out: PathBuf,
        /// the output root the review was run into (its tables in RESULTS/<name>/)
        #[arg(long, default_value = "out")]
        results: PathBuf,
    },
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
    /// Bring a review in from another tool: `metapipe import revman FILE --name NAME`
    #[command(subcommand)]
    Import(ImportCmd),
    /// Write a review that has been run to another tool's file: `metapipe export revman CONFIG --out FILE.rm5`
    #[command(subcommand)]
    Export(ExportCmd),
    /// Pool a study table (CSV or Parquet; metafor's column names or the pipeline's)
    Pool(PoolOpts),
    /// Replay a labelled review (title, abstract, label_included) with the screening model and
    /// the stopping rule: WSS@95, recall after 10%, where the rule stops (docs/screening.md)
    ScreenSim(ScreenSimOpts),
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
    #[arg(long, default_value = "OR", help = format!("the effect measure, as escalc's: {}", options::MEASURES))]
    measure: String,
    #[arg(long, default_value = "REML", help = format!("a fixed-effect method (MH, PETO: 2x2 counts) or a tau^2 estimator: {}", options::METHODS))]
    method: String,
    #[arg(long, help = format!("the test (knha: Knapp-Hartung, random-effects methods only; default: knha under cochrane, else z): {}", options::TESTS))]
    test: Option<String>,
    #[arg(long, default_value = "metafor", help = format!("revman: RevMan 5's zero-cell rule and DL (OR, RR; MH or DL; z); cochrane: REML, HKSJ, t(k-2) prediction interval, double zeros not estimable: {}", options::CONVENTIONS))]
    convention: String,
    #[arg(long, help = format!("the prediction interval of a random-effects model (default: the convention's: metafor's predict(), t with k-2 df under revman and cochrane): {}", options::PI_KINDS))]
    prediction: Option<String>,
    /// pool every group of this column in one pass
    #[arg(long)]
    group: Option<String>,
    /// json, csv or table
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
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    // METAPIPE_LOG: a level ("debug") or per-target levels ("metapipe_ingest=debug,info"); a
    // filter without regular expressions (tracing-subscriber's env-filter would build regex with
    // other features than the Python wheel's build, and polars with them: built twice)
    let filter = std::env::var("METAPIPE_LOG")
        .ok()
        .and_then(|s| s.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(|| metapipe_run::incremental::LogWriter)
                .without_time()
                .with_target(false),
        )
        .with(filter)
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

/// `gen-records`: SYNTHETIC bibliographic records with known duplicates, and the true clusters.
fn gen_records(
    n: usize,
    dup_rate: f64,
    seed: u64,
    out: &std::path::Path,
    truth: &std::path::Path,
) -> Result<String, Error> {
    if !(0.0..=1.0).contains(&dup_rate) {
        return Err(Error::usage("--dup-rate must be between 0 and 1"));
    }
    let (recs, clusters) = metapipe_ingest::synth::generate(n, dup_rate, seed);
    let csv = metapipe_ingest::synth::to_csv(&recs);
    metapipe_tables::io::write_atomic(out, csv.as_bytes())?;
    let truth_csv = metapipe_ingest::synth::clusters_csv(&clusters);
    metapipe_tables::io::write_atomic(truth, truth_csv.as_bytes())?;
    Ok(String::new())
}

/// `gen-meta`: SYNTHETIC meta-analyses (binary or generic) for the pooling benchmarks.
fn gen_meta(
    groups: usize,
    k: usize,
    kind: &str,
    seed: u64,
    out: &std::path::Path,
) -> Result<String, Error> {
    let binary = match kind {
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
    pool_cmd::bench::gen_meta_to(groups, k, binary, seed, out)?;
    Ok(String::new())
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
        Cmd::Export(ExportCmd::Revman {
            config,
            out,
            results,
        }) => metapipe_run::export::export_revman(&config, &results, &out),
        Cmd::Import(ImportCmd::Revman { file, name, root }) => {
            metapipe_run::import::import_revman(&file, &root, &name)
        }
        Cmd::Pool(o) => pool_cmd::pool(&pool_args(o)?),
        Cmd::GenRecords {
            n,
            dup_rate,
            seed,
            out,
            truth,
        } => gen_records(n, dup_rate, seed, &out, &truth),
        Cmd::GenMeta {
            groups,
            k,
            kind,
            seed,
            out,
        } => gen_meta(groups, k, &kind, seed, &out),
        Cmd::BenchKernel { groups, k, runs } => Ok(pool_cmd::bench::kernel_times(groups, k, runs)),
        Cmd::BenchPool {
            file,
            measure,
            method,
            group,
            runs,
        } => pool_cmd::bench::pool_frame_times(&file, &measure, &method, &group, runs),
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
        Cmd::ScreenSim(o) => screen_sim_cmd(o),
    }
}

#[derive(clap::Args)]
struct ScreenSimOpts {
    dataset: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// json (one object) or text
    #[arg(long, default_value = "text")]
    format: String,
    /// the stopping rule's recall target and confidence
    #[arg(long, default_value_t = 0.95)]
    target: f64,
    #[arg(long, default_value_t = 0.95)]
    confidence: f64,
    /// write the screening order here (record,label)
    #[arg(long)]
    order: Option<PathBuf>,
    /// start from these records (1-based, comma-separated) instead of drawing the priors: the
    /// priors another tool drew, to compare from the same start
    #[arg(long, value_delimiter = ',')]
    priors: Option<Vec<usize>>,
    /// screen in batches: refit after every N decisions (ASReview's --n-query)
    #[arg(long)]
    n_query: Option<usize>,
    /// the model's cost C and the relevant records' weight ratio (defaults: the chosen model,
    /// docs/screening.md; for the experiments that chose it)
    #[arg(long, hide = true)]
    c: Option<f64>,
    #[arg(long, hide = true)]
    ratio: Option<f64>,
    /// how many times the title's terms count (default: the chosen model's)
    #[arg(long, hide = true)]
    title_weight: Option<u32>,
}

/// `screen-sim`: one replay, as JSON or a line of text.
fn screen_sim_cmd(o: ScreenSimOpts) -> Result<String, Error> {
    let share = |v: f64| v > 0.0 && v < 1.0;
    if !share(o.target) || !share(o.confidence) {
        return Err(Error::usage(
            "--target and --confidence: a share between 0 and 1",
        ));
    }
    if o.n_query == Some(0) {
        return Err(Error::usage("--n-query: at least 1"));
    }
    let stopping = metapipe_ingest::rank::sim::Stopping {
        target: o.target,
        confidence: o.confidence,
    };
    let d = metapipe_ingest::rank::Model::default();
    let model = metapipe_ingest::rank::Model {
        c: o.c.unwrap_or(d.c),
        ratio: o.ratio.unwrap_or(d.ratio),
        title_weight: o.title_weight.unwrap_or(d.title_weight),
        batch: o.n_query,
        ..d
    };
    let r = metapipe_run::screen_sim::screen_sim(
        &o.dataset,
        o.seed,
        o.priors.as_deref(),
        &model,
        stopping,
        o.order.as_deref(),
    )?;
    match o.format.as_str() {
        "json" => Ok(r.json(o.seed) + "\n"),
        "text" => Ok(format!(
            "{} records, {} relevant; WSS@95 {:.3}, recall after 10% {:.3}; the stopping rule stops after {} records (recall {}); {:.2} s\n",
            r.records,
            r.relevant,
            r.wss95,
            r.recall_at_10,
            r.stop_at.map_or("no".into(), |s| s.to_string()),
            r.recall_at_stop.map_or("-".into(), |x| format!("{x:.3}")),
            r.seconds
        )),
        f => Err(Error::usage(format!("--format {f}: json or text"))),
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
        prediction,
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
        test: test.as_deref(),
        prediction: prediction.as_deref(),
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
    let list = metapipe_ingest::dedup_cluster_list(&recs, &d, files.len() == 1)?;
    match (&tables, out.extension().is_some_and(|e| e == "parquet")) {
        (Some((_, merged, _)), true) => metapipe_tables::io::write_parquet(merged, &out)?,
        _ => metapipe_tables::io::write_csv(&list, &out)?,
    }
    if let (Some(m), Some((_, _, maybe_t))) = (maybe, &tables) {
        write_table(maybe_t, &m)?;
    }
    Ok(String::new())
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
