#!/usr/bin/env python3
"""Run bib-dedupe (the peer) on one benchmark set and write its clusters as merged_ids.
usage: bib_dedupe_run.py records_pre_merged.csv out.csv
Prints the wall time of prep + block + match + cluster (one process, cpu=1 as the README's
"one process" figures) on stderr."""
import sys, time, csv
import pandas as pd
from bib_dedupe.bib_dedupe import prep, block, match, cluster

rec, out = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
df = pd.read_csv(rec)
df = prep(df, verbosity_level=0, cpu=1)
pairs = block(df, verbosity_level=0, cpu=1)
matched = match(pairs, verbosity_level=0, cpu=1)
sets = cluster(matched, verbosity_level=0)
wall = time.perf_counter() - t0
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["merged_ids"])
    for s in sets:
        if len(s) > 1:
            w.writerow([";".join(sorted(s))])
print(f"{wall:.3f}", file=sys.stderr)
