"""How sensitive metapipe's screening figures are to the model's cost C and the relevant records'
weight ratio (ASReview's ELAS u4: C = 0.11, ratio 9.8, metapipe's default): `screen-sim --c C
--ratio R` over SEEDS seeds (metapipe's own priors) on every labelled set in
../shared/screening-benchmark/, each setting's mean WSS@95 beside the default's (paired by seed),
then leave-one-set-out: for each set, the setting with the best mean over the other four, and
what it gives on the set left out. Writes bench/screening_grid.md.

usage: python3 bench/screening_grid.py [SEEDS]
"""
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = sorted((ROOT.parent / "shared" / "screening-benchmark").glob("*.csv"))
BIN = ROOT / "target" / "release" / "metapipe"
GRID = [(0.11, 9.8), (0.05, 20), (0.03, 20), (0.05, 40), (0.03, 40), (0.02, 20), (0.08, 20)]


def wss(args):
    data, seed, c, r = args
    out = subprocess.run(
        [BIN, "screen-sim", data, "--seed", str(seed), "--format", "json", "--c", str(c), "--ratio", str(r)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)["wss95"]


def main():
    seeds = range(1, int(sys.argv[1]) + 1) if len(sys.argv) > 1 else range(1, 21)
    jobs = [(d, s, c, r) for c, r in GRID for d in SETS for s in seeds]
    with ThreadPoolExecutor(2) as ex:
        got = list(ex.map(wss, jobs))
    mean = {}
    for (d, s, c, r), w in zip(jobs, got):
        mean.setdefault((c, r, d.name), []).append(w)
    mean = {k: sum(v) / len(v) for k, v in mean.items()}
    names = [d.name for d in SETS]
    out = [f"Mean WSS@95 over seeds 1-{seeds[-1]} (metapipe's own priors); in brackets, the change from the default (C 0.11, ratio 9.8).", "",
           "| C | ratio | " + " | ".join(n.removeprefix("cohen2006_").removesuffix(".csv") for n in names) + " |",
           "|---|---|" + "---|" * len(names)]
    for c, r in GRID:
        cells = [f"{mean[(c, r, n)]:.4f} ({mean[(c, r, n)] - mean[(0.11, 9.8, n)]:+.4f})" for n in names]
        out.append(f"| {c} | {r} | " + " | ".join(cells) + " |")
    out += ["", "Leave one set out (the setting with the best mean WSS@95 over the other four sets):", "",
            "| set left out | chosen C, ratio | its WSS@95 there | change from the default |", "|---|---|---|---|"]
    for h in names:
        c, r = max(GRID, key=lambda g: sum(mean[(g[0], g[1], n)] for n in names if n != h))
        out.append(f"| {h} | {c}, {r} | {mean[(c, r, h)]:.4f} | {mean[(c, r, h)] - mean[(0.11, 9.8, h)]:+.4f} |")
    (ROOT / "bench" / "screening_grid.md").write_text("\n".join(out) + "\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
