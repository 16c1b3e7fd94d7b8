#!/usr/bin/env python3
"""`make bench`: every speed comparison in one run on this machine.
Writes bench/results.md and bench/results.csv. Timings are never asserted anywhere.
Peers: bib-dedupe (pip) and metafor (Debian r-cran-metafor), installed by `make bench` if missing."""
import csv, json, math, os, platform, statistics, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(root)
BIN = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "metapipe")
work = tempfile.mkdtemp(prefix="metapipe-bench-")
rows = []  # (section, what, value, unit, note)

def run_timed(cmd, stdout=subprocess.DEVNULL):
    """Wall seconds and peak RSS (MiB) of one child process."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, ru.ru_maxrss / 1024.0

def timed_runs(cmd, runs):
    ws, rss = [], 0.0
    for _ in range(runs):
        w, r = run_timed(cmd)
        ws.append(w)
        rss = max(rss, r)
    ws.sort()
    return ws[0], statistics.median(ws), ws[-1], rss

def add(section, what, value, unit, note=""):
    rows.append(dict(section=section, what=what, value=value, unit=unit, note=note))
    print(f"[{section}] {what}: {value} {unit} {note}", file=sys.stderr)

# 1. dedup against bib-dedupe ----------------------------------------------------------------
subprocess.run([sys.executable, "bench/dedup_compare.py"], check=True, stdout=subprocess.DEVNULL)
for r in csv.DictReader(open("bench/dedup_compare.csv")):
    add("dedup vs bib-dedupe", f"{r['set']} {r['tool']}", r["wall_median_s"], "s", f"FP {r['FP']}, sensitivity {r['sensitivity']} (min {r['wall_min_s']}, max {r['wall_max_s']}, {r['runs']} runs)")

# 2. dedup at scale -------------------------------------------------------------------------------
scale = []
for n in [10_000, 100_000, 1_000_000]:
    recs, truth, out = f"{work}/g{n}.csv", f"{work}/t{n}.csv", f"{work}/p{n}.csv"
    subprocess.run([BIN, "gen-records", "--n", str(n), "--seed", "1", "--out", recs, "--truth", truth], check=True)
    runs = 3 if n < 1_000_000 else 2
    tmin, tmed, tmax, rss = timed_runs([BIN, "dedup", recs, "--out", out], runs)
    score = json.loads(subprocess.run([sys.executable, "tests/fixtures/dedup-benchmark/eval_dedup.py", recs, truth, out], check=True, capture_output=True, text=True).stdout)
    scale.append((n, tmed))
    add("dedup at scale", f"{n} synthetic records", f"{tmed:.3f}", "s", f"min {tmin:.3f}, max {tmax:.3f}; peak RSS {rss:.0f} MiB; FP {score['FP']}, sensitivity {score['sensitivity']:.4f}")
xs = [math.log(n) for n, _ in scale]; ys = [math.log(t) for _, t in scale]
mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
add("dedup at scale", "fitted scaling exponent (log time on log n)", f"{slope:.2f}", "", "target <= 1.2")

# 3. batch pooling: every measure x method case a user would run, against metafor ----------------------
G = 1_000_000
for kind in ["binary", "generic"]:
    subprocess.run([BIN, "gen-meta", "--groups", str(G), "--k", "10", "--kind", kind, "--seed", "1", "--out", f"{work}/{kind}.parquet"], check=True)
    subprocess.run([BIN, "gen-meta", "--groups", "1000", "--k", "10", "--kind", kind, "--seed", "1", "--out", f"{work}/{kind}_sample.csv"], check=True)
# (kind, measure, method, target speed-up over metafor per analysis; None: no target set)
CASES = [("binary", "OR", m, 10_000 if m in ("DL", "REML", "MH") else None) for m in ["MH", "PETO", "FE", "DL", "REML", "PM", "SJ", "HE", "EB", "ML"]]
CASES += [("binary", meas, m, None) for meas in ["RR", "RD"] for m in ["MH", "DL", "REML"]]
CASES += [("generic", "GEN", m, 10_000 if m in ("DL", "REML") else None) for m in ["FE", "DL", "REML", "PM", "SJ", "HE", "EB", "ML"]]
with open(f"{work}/cases.csv", "w") as f:
    f.write("kind,measure,method\n" + "".join(f"{k},{me},{m}\n" for k, me, m, _ in CASES))
ours = {}
for kind, measure, method, _ in CASES:
    runs = 3 if method not in ("PETO", "PM") and measure in ("OR", "GEN") else 1
    tmin, tmed, tmax, rss = timed_runs([BIN, "pool", f"{work}/{kind}.parquet", "--measure", measure, "--method", method, "--group", "group", "--out", f"{work}/out.parquet"], runs)
    ours[(kind, measure, method)] = (tmed / G, rss)
metafor = {}
if subprocess.run(["which", "Rscript"], capture_output=True).returncode == 0:
    subprocess.run(["Rscript", "bench/metafor_cases.R", f"{work}/binary_sample.csv", f"{work}/generic_sample.csv", f"{work}/cases.csv", f"{work}/metafor.csv"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for r in csv.DictReader(open(f"{work}/metafor.csv")):
        metafor[(r["kind"], r["measure"], r["method"])] = float(r["seconds_per_analysis"])
for kind, measure, method, target in CASES:
    t, rss = ours[(kind, measure, method)]
    mf = metafor.get((kind, measure, method))
    how = "escalc + rma" if kind == "binary" and method not in ("MH", "PETO") else ("rma.mh" if method == "MH" else "rma.peto" if method == "PETO" else "rma")
    if mf:
        ratio = mf / t
        met = "" if target is None else (f"; target >= {target}x: {'met' if ratio >= target else 'NOT met'}")
        add("batch pooling", f"{kind} {measure} {method}: speed-up over metafor ({how})", f"{ratio:,.0f}", "x", f"metapipe {t * 1e6:.2f} µs, metafor {mf * 1e3:.3f} ms per analysis; peak RSS {rss:.0f} MiB{met}")
    else:
        add("batch pooling", f"{kind} {measure} {method}: metapipe", f"{t * 1e6:.2f}", "µs per analysis", f"peak RSS {rss:.0f} MiB; metafor not run (no Rscript)")
kern = subprocess.run([BIN, "bench-kernel", "--groups", str(G), "--runs", "5"], check=True, capture_output=True, text=True).stdout
kr = {r["what"]: r for r in csv.DictReader(kern.splitlines())}
for w, r in kr.items():
    add("batch pooling", f"in-memory {w.replace('_', ' ')}", r["ns_median"], "ns per analysis", f"min {r['ns_min']}, max {r['ns_max']}")
ratio = float(kr["metapipe_batch_dl_kernel"]["ns_median"]) / float(kr["straight_line_dl_loop"]["ns_median"])
add("batch pooling", "kernel / straight-line loop", f"{ratio:.2f}", "x", "target <= 2")

# 4. streaming: 10^8 study rows (10^7 meta-analyses of 10), Parquet to Parquet, bounded memory ---------
if os.environ.get("BENCH_SKIP_1E8") is None:
    big = f"{work}/big.parquet"
    gmin, gmed, gmax, grss = timed_runs([BIN, "gen-meta", "--groups", "10000000", "--k", "10", "--kind", "generic", "--seed", "2", "--out", big], 1)
    add("streaming", "gen-meta: 10^8 generic study rows to Parquet (batches of 10^5 groups)", f"{gmed:.1f}", "s", f"peak RSS {grss:.0f} MiB; file {os.path.getsize(big) / 2**20:.0f} MiB")
    for method in ["DL", "REML"]:
        tmin, tmed, tmax, rss = timed_runs([BIN, "pool", big, "--measure", "GEN", "--method", method, "--group", "group", "--out", f"{work}/big_out.parquet"], 1)
        add("streaming", f"pool --group {method}: 10^8 study rows, 10^7 meta-analyses, Parquet to Parquet", f"{tmed:.1f}", "s", f"peak RSS {rss:.0f} MiB (target < 2048 MiB): {'met' if rss < 2048 else 'NOT met'}; {tmed / 1e7 * 1e6:.2f} µs per analysis")
    os.remove(big)

# 5. the IL-1 pipeline ---------------------------------------------------------------------------------
# a full run each time (a fresh output directory: no previous run to reuse), then the rerun with no
# change (every stage skipped by the incremental reruns)
fulls = []
for k in range(5):
    w_, r_ = run_timed([BIN, "run", "pipelines/il1-covid19.toml", "--out", f"{work}/full{k}"])
    fulls.append(w_)
fulls.sort()
add("pipeline", "il1-covid19 full run (fresh output directory, after the build)", f"{statistics.median(fulls):.3f}", "s", f"min {fulls[0]:.3f}, max {fulls[-1]:.3f}; target < 1 s; most of it is the consistency search")
tmin, tmed, tmax, rss = timed_runs([BIN, "run", "pipelines/il1-covid19.toml", "--out", f"{work}/full0"], 5)
add("pipeline", "il1-covid19 rerun with no change (incremental: no stage runs)", f"{tmed:.3f}", "s", f"min {tmin:.3f}, max {tmax:.3f}")

# 5b. a living review at scale: full run, rerun after a new round, rerun with no change ----------------
out = subprocess.run([sys.executable, "bench/living_bench.py", "100000", "1000"], check=True, capture_output=True, text=True).stdout
for line in out.strip().splitlines():
    what, secs, note = line.split(",", 2)
    add("living review (SYNTHETIC 10^5 records)", what, secs, "s", note)

# 5c. the Python package and Spark (issue 15): call overhead, throughput per core ---------------------
out = subprocess.run([sys.executable, "bench/python_bench.py", "1000000", "1000000"], check=True, capture_output=True, text=True).stdout
for line in out.strip().splitlines():
    what, secs, note = line.split(",", 2)
    add("Python package and Spark (SYNTHETIC, OR by DL, k = 10)", what, secs, "s", note)

# 6. the clean CI run (measured by tools/measure_ci.sh, too long to repeat here) ----------------------
if os.path.exists("bench/ci_run.csv"):
    last = list(csv.DictReader(open("bench/ci_run.csv")))[-1]
    secs = int(last["seconds"])
    add("build", f"clean .ci/run on {last['cores']} cores (fresh clone, no target/; commit {last['commit']})", f"{secs // 60}m {secs % 60:02d}s", "", f"first release build (polars included) {last['first_release_build']}; target < 35 min: {'met' if secs < 35 * 60 else 'NOT met'}")

# ---- write ---------------------------------------------------------------------------------------------
with open("bench/results.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=["section", "what", "value", "unit", "note"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
mem = next((l.split(":", 1)[1].strip() for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
lines = ["# Benchmarks (`make bench`)", "", f"commit {commit}; {cpu}; {os.cpu_count()} cores; {mem} RAM; {platform.platform()}.",
         "One run of `bench/run_bench.py`; the peers ran in the same session on the same machine.", ""]
section = None
for r in rows:
    if r["section"] != section:
        section = r["section"]
        lines += ["", f"## {section}", "", "| what | value | note |", "|---|---|---|"]
    lines.append(f"| {r['what']} | {r['value']} {r['unit']} | {r['note']} |")
open("bench/results.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
