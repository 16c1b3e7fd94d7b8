#!/usr/bin/env python3
"""The Python package and Spark (issue 15), on SYNTHETIC meta-analyses (`metapipe gen-meta`,
binary, k = 10, OR by DL): the package's call overhead against the CLI on 10^6 meta-analyses,
and throughput per core of Spark (local mode, `metapipe.spark.pool_groups`) against the CLI.
Prints CSV rows (what, seconds, note) for bench/run_bench.py; never asserts a time.
usage: bench/python_bench.py [GROUPS] [SPARK_GROUPS]  (needs target/release/metapipe and the
installed wheel: `make wheel`)"""
import os, statistics, subprocess, sys, tempfile, time

import pyarrow.parquet as pq

import metapipe

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(root)
BIN = os.path.abspath(os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "metapipe"))
G = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
SG = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
w = tempfile.mkdtemp(prefix="metapipe-py-bench-")
ARGS = ["--measure", "OR", "--method", "DL", "--group", "group"]


def median_of(f, runs=3):
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), min(ts), max(ts)


def cli(data, cores=None):
    cmd = [BIN, "pool", data, *ARGS, "--out", f"{w}/cli_out.parquet"]
    if cores:
        cmd = ["taskset", "-c", ",".join(str(c) for c in range(cores))] + cmd
    subprocess.run(cmd, check=True)


# 1. call overhead: the same 10^6 meta-analyses from a file (CLI), from pyarrow and from pandas
data = f"{w}/meta.parquet"
subprocess.run([BIN, "gen-meta", "--groups", str(G), "--k", "10", "--kind", "binary", "--seed", "1", "--out", data], check=True)
t_cli, lo, hi = median_of(lambda: cli(data))
mem = subprocess.run([BIN, "bench-pool", data, "--measure", "OR", "--method", "DL", "--runs", "3"], check=True, capture_output=True, text=True).stdout.splitlines()[1].split(",")
t_mem = float(mem[2])
table = pq.read_table(data)
df = table.to_pandas()
t_arrow, alo, ahi = median_of(lambda: metapipe.pool(table, "OR", "DL", group="group"))
t_pandas, plo, phi = median_of(lambda: metapipe.pool(df, "OR", "DL", group="group"))
print(f"CLI: pool --group {G} meta-analyses (k = 10) Parquet file to Parquet file,{t_cli:.3f},min {lo:.3f} max {hi:.3f}; process start-up and file IO included")
print(f"CLI in memory: the same pooling once the file is read (pool_frame; metapipe bench-pool),{t_mem:.3f},min {mem[1]} max {mem[3]}")
print(f"Python: metapipe.pool on a pyarrow Table (in memory; result as pyarrow),{t_arrow:.3f},{t_arrow / t_mem:.2f}x the CLI in memory; min {alo:.3f} max {ahi:.3f}")
print(
    f"Python: metapipe.pool on a pandas DataFrame (in memory; result as pandas),{t_pandas:.3f},"
    f"{t_pandas / t_mem:.2f}x the CLI in memory (target <= 2x: {'met' if t_pandas <= 2 * t_mem else 'NOT met'}), {t_pandas / t_cli:.2f}x the CLI file to file; min {plo:.3f} max {phi:.3f}"
)

# 2. Spark, local mode, per core, against the CLI on the same file
sdata = f"{w}/spark.parquet"
subprocess.run([BIN, "gen-meta", "--groups", str(SG), "--k", "10", "--kind", "binary", "--seed", "2", "--out", sdata], check=True)
from pyspark.sql import SparkSession  # noqa: E402

from metapipe.spark import pool_groups  # noqa: E402

ncores = os.cpu_count() or 1
for cores in sorted({1, ncores}):
    spark = SparkSession.builder.master(f"local[{cores}]").appName("metapipe-bench").config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", str(cores * 2)).getOrCreate()
    sdf = spark.read.parquet(sdata)
    # one warm-up (JVM, Python workers), then the timed runs; count() forces every partition
    pool_groups(sdf, "group", measure="OR", method="DL").count()
    t, lo, hi = median_of(lambda: pool_groups(sdf, "group", measure="OR", method="DL").write.mode("overwrite").parquet(f"{w}/spark_out"))
    spark.stop()
    print(f"Spark local[{cores}]: pool_groups {SG} meta-analyses (k = 10) Parquet to Parquet,{t:.3f},{SG / t / cores:,.0f} meta-analyses per second per core; min {lo:.3f} max {hi:.3f}; shuffle (repartition by group) included")
    tc, clo, chi = median_of(lambda: cli(sdata, cores))
    print(f"CLI on {cores} core(s) (taskset): the same file,{tc:.3f},{SG / tc / cores:,.0f} meta-analyses per second per core; Spark/CLI time {t / tc:.1f}x")
