#!/usr/bin/env bash
# Dedup accuracy and wall time, metapipe vs bib-dedupe, on every labelled benchmark set, in one
# run on this machine. Writes bench/dedup_compare.md and .csv.
# usage: bench/dedup_compare.sh [RUNS]   (needs target/release/metapipe; installs bib-dedupe if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
SETS=tests/fixtures/dedup-benchmark
BIN=target/release/metapipe
[ -x "$BIN" ] || cargo build --release --bin metapipe
python3 -c "import bib_dedupe" 2>/dev/null || pip install -q bib-dedupe
work=$(mktemp -d)
csv=bench/dedup_compare.csv
echo "set,tool,runs,wall_min_s,wall_median_s,wall_max_s,FP,sensitivity,f1" > "$csv"
TIMEFORMAT=%R
secs() { { time "$@" >/dev/null 2>&1; } 2>&1; }
for set in stroke haematology cytology_screening special_cases; do
  rec=$SETS/$set/records_pre_merged.csv; truth=$SETS/$set/merged_record_ids.csv
  for tool in metapipe bib-dedupe; do
    times=()
    for r in $(seq "$RUNS"); do
      if [ $tool = metapipe ]; then
        times+=("$(secs "$BIN" dedup "$rec" --out "$work/$set.$tool.csv")")
      else
        # whole process, import included, as a user runs it
        times+=("$(secs python3 bench/bib_dedupe_run.py "$rec" "$work/$set.$tool.csv")")
      fi
    done
    score=$(python3 $SETS/eval_dedup.py "$rec" "$truth" "$work/$set.$tool.csv")
    python3 - "$set" "$tool" "$RUNS" "$score" "${times[@]}" >> "$csv" <<'PY'
import json, statistics, sys
s, tool, runs, score = sys.argv[1:5]; t = sorted(float(x) for x in sys.argv[5:]); d = json.loads(score)
print(f"{s},{tool},{runs},{t[0]:.4f},{statistics.median(t):.4f},{t[-1]:.4f},{d['FP']},{d['sensitivity']:.4f},{d['f1']:.4f}")
PY
  done
done
python3 - "$csv" > bench/dedup_compare.md <<'PY'
import csv, sys, subprocess, platform, os
rows = list(csv.DictReader(open(sys.argv[1])))
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
print("# Dedup: metapipe vs bib-dedupe 0.11 (same machine, same run)\n")
print(f"commit {commit}; {platform.machine()}, {os.cpu_count()} cores; wall time of the whole process (min/median/max of {rows[0]['runs']} runs); accuracy by `eval_dedup.py` (record level, as the bib-dedupe benchmark counts).\n")
print("| set | tool | FP | sensitivity | F1 | wall median (s) | speed-up |")
print("|---|---|---|---|---|---|---|")
by = {(r['set'], r['tool']): r for r in rows}
for s in dict.fromkeys(r['set'] for r in rows):
    m, b = by[(s, 'metapipe')], by[(s, 'bib-dedupe')]
    ratio = float(b['wall_median_s']) / float(m['wall_median_s'])
    for r in (m, b):
        print(f"| {s} | {r['tool']} | {r['FP']} | {r['sensitivity']} | {r['f1']} | {r['wall_median_s']} ({r['wall_min_s']}–{r['wall_max_s']}) | {f'{ratio:.0f}x' if r is m else ''} |")
PY
cat bench/dedup_compare.md
rm -rf "$work"
