"""How metapipe's screening model was chosen, and how sensitive its figures are to the choice:
`screen-sim --title-weight T --c C --ratio R` (T: how many times the title's terms count; C: the
SVM's cost; R: the relevant records' weight ratio) over SEEDS seeds (metapipe's own priors) on
every labelled set in ../shared/screening-benchmark/, each setting's mean WSS@95 beside ASReview's
default model's settings (ELAS u4: T 1, C 0.11, R 9.8), paired by seed. The rule that chose the
default: the setting whose smallest gain over the five sets is largest (maximin: no set left
worse off); then leave-one-set-out — for each set, the setting the rule picks on the other four,
and what it gives on the set left out. Writes bench/screening_grid.md.

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
ELAS = (1, 0.11, 9.8)
DEFAULT = (2, 0.03, 9.8)
GRID = [ELAS] + [(t, c, r) for t in (1, 2, 3) for c in (0.05, 0.03, 0.02) for r in (5, 9.8, 20)]


def wss(args):
    data, seed, (t, c, r) = args
    out = subprocess.run(
        [BIN, "screen-sim", data, "--seed", str(seed), "--format", "json",
         "--title-weight", str(t), "--c", str(c), "--ratio", str(r)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)["wss95"]


def main():
    seeds = range(1, int(sys.argv[1]) + 1) if len(sys.argv) > 1 else range(1, 21)
    jobs = [(d, s, g) for g in GRID for d in SETS for s in seeds]
    with ThreadPoolExecutor(2) as ex:
        got = list(ex.map(wss, jobs))
    mean = {}
    for (d, s, g), w in zip(jobs, got):
        mean.setdefault((g, d.name), []).append(w)
    mean = {k: sum(v) / len(v) for k, v in mean.items()}
    names = [d.name for d in SETS]
    gain = {(g, n): mean[(g, n)] - mean[(ELAS, n)] for g in GRID for n in names}

    def rule(among):
        # maximin over the sets `among`; ties by the mean gain
        return max(GRID, key=lambda g: (min(gain[(g, n)] for n in among), sum(gain[(g, n)] for n in among)))

    short = [n.removeprefix("cohen2006_").removesuffix(".csv") for n in names]
    out = [f"Mean WSS@95 over seeds 1-{seeds[-1]} (metapipe's own priors); in brackets, the change from "
           "ELAS u4's settings (title weight 1, C 0.11, ratio 9.8), paired by seed; the last column, the "
           "smallest change over the five sets.", "",
           "| title weight | C | ratio | " + " | ".join(short) + " | smallest |",
           "|---|---|---|" + "---|" * (len(names) + 1)]
    for g in GRID:
        cells = [f"{mean[(g, n)]:.4f} ({gain[(g, n)]:+.4f})" for n in names]
        mark = " (default)" if g == DEFAULT else " (ELAS u4)" if g == ELAS else ""
        out.append(f"| {g[0]}{mark} | {g[1]} | {g[2]} | " + " | ".join(cells)
                   + f" | {min(gain[(g, n)] for n in names):+.4f} |")
    best = rule(names)
    out += ["", f"The rule on all five sets picks title weight {best[0]}, C {best[1]}, ratio {best[2]}"
            f"{' (the default)' if best == DEFAULT else ' (not the default: see docs/screening.md)'}.", "",
            "Leave one set out (the rule applied to the other four sets):", "",
            "| set left out | chosen title weight, C, ratio | its WSS@95 there | change from ELAS u4's |", "|---|---|---|---|"]
    for h, s in zip(names, short):
        g = rule([n for n in names if n != h])
        out.append(f"| {s} | {g[0]}, {g[1]}, {g[2]} | {mean[(g, h)]:.4f} | {gain[(g, h)]:+.4f} |")
    (ROOT / "bench" / "screening_grid.md").write_text("\n".join(out) + "\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
