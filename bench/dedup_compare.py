#!/usr/bin/env python3
"""Dedup accuracy and wall time, metapipe vs bib-dedupe 0.11, on every labelled benchmark set, in
one run on this machine. Wall time is the whole process as a user runs it (min/median/max).
Writes bench/dedup_compare.md and bench/dedup_compare.csv.
usage: bench/dedup_compare.py [--runs-peer N] [--runs-ours N]   (needs target/release/metapipe)"""
import argparse, csv, json, os, platform, statistics, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("--runs-peer", type=int, default=3)
ap.add_argument("--runs-ours", type=int, default=15)
args = ap.parse_args()
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(root)
sets_dir = "tests/fixtures/dedup-benchmark"
binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "metapipe")
if not os.access(binary, os.X_OK):
    subprocess.run(["cargo", "build", "--release", "--bin", "metapipe"], check=True)
try:
    import bib_dedupe  # noqa: F401
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "bib-dedupe"], check=True)

def timed(cmd, runs):
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[0], statistics.median(ts), ts[-1]

rows = []
work = tempfile.mkdtemp()
for s in ["stroke", "haematology", "cytology_screening", "special_cases"]:
    rec, truth = f"{sets_dir}/{s}/records_pre_merged.csv", f"{sets_dir}/{s}/merged_record_ids.csv"
    for tool, cmd, runs in [
        ("metapipe", [binary, "dedup", rec, "--out", f"{work}/{s}.metapipe.csv"], args.runs_ours),
        ("bib-dedupe", [sys.executable, "bench/bib_dedupe_run.py", rec, f"{work}/{s}.bib-dedupe.csv"], args.runs_peer),
    ]:
        tmin, tmed, tmax = timed(cmd, runs)
        out = cmd[-1]
        score = json.loads(subprocess.run([sys.executable, f"{sets_dir}/eval_dedup.py", rec, truth, out], check=True, capture_output=True, text=True).stdout)
        rows.append(dict(set=s, tool=tool, runs=runs, wall_min_s=f"{tmin:.4f}", wall_median_s=f"{tmed:.4f}", wall_max_s=f"{tmax:.4f}", FP=score["FP"], sensitivity=f"{score['sensitivity']:.4f}", f1=f"{score['f1']:.4f}"))
        print(rows[-1], file=sys.stderr)
with open("bench/dedup_compare.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
lines = ["# Dedup: metapipe vs bib-dedupe 0.11 (same machine, same run)", "",
         f"commit {commit}; {platform.machine()}, {os.cpu_count()} cores; wall time of the whole process, min/median/max of "
         f"{args.runs_ours} runs (metapipe) and {args.runs_peer} runs (bib-dedupe, one process, cpu=1); accuracy by "
         "`eval_dedup.py` (record level, as the bib-dedupe benchmark counts).", "",
         "| set | tool | FP | sensitivity | F1 | wall median (min–max), s | speed-up |", "|---|---|---|---|---|---|---|"]
by = {(r["set"], r["tool"]): r for r in rows}
for s in dict.fromkeys(r["set"] for r in rows):
    m, b = by[(s, "metapipe")], by[(s, "bib-dedupe")]
    ratio = float(b["wall_median_s"]) / float(m["wall_median_s"])
    for r in (m, b):
        lines.append(f"| {s} | {r['tool']} | {r['FP']} | {r['sensitivity']} | {r['f1']} | {r['wall_median_s']} ({r['wall_min_s']}–{r['wall_max_s']}) | {f'{ratio:.0f}x' if r is m else ''} |")
open("bench/dedup_compare.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
