"""Screening prioritisation side by side: metapipe's `screen-sim` and ASReview LAB 3's
`asreview simulate` (default model ELAS u4) on every labelled review in
../shared/screening-benchmark/, the same seeds, in one run. Both tools' screening orders are
scored by the same function here (WSS@95, recall after 10% of the records; the priors counted as
screened), metapipe's own figures checked against it; wall time per simulation as each tool's
process takes it. Both start from the same priors: ASReview draws them by the seed
(`--prior-seed`), metapipe is given them (`--priors`). Writes bench/screening.csv (one row per set, seed and tool) and
bench/screening.md (means per set).

With `--n-query Q` both tools screen in batches of Q (the model refitted after every Q
decisions: metapipe's `screen-sim --n-query`; for ASReview a `--config-file` with ELAS u4's
settings and `n_query` — ASReview 3.0.8's `simulate --n-query` is ignored unless the model's
parts are named, and then their parameters are sklearn's defaults, not ELAS u4's), written to
bench/screening_q{Q}.csv and .md; without it each tool keeps its own schedule (ASReview refits
after every decision; metapipe after every decision up to 200, then every 1%).

With `--stopping N`, metapipe alone: the stopping rule replayed over seeds 1..N on every set
(metapipe's own priors), how often it stopped at ≥ 95% recall and how many records it saved
(bench/screening_stop.md).

usage: python3 bench/screening_bench.py [--n-query Q] [SEEDS] [SET ...]   (asreview from $ASREVIEW_PYTHON)
       python3 bench/screening_bench.py --stopping N
"""
import csv
import json
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = ROOT.parent / "shared" / "screening-benchmark"
BIN = ROOT / "target" / "release" / "metapipe"
ASREVIEW_PY = os.environ.get("ASREVIEW_PYTHON", str(ROOT / "target" / "check-venv" / "bin" / "python"))


def metrics(labels, n, total):
    """(WSS@95, recall after 10%) of a screening order's labels (priors first; it may stop once
    every relevant record is found) in a set of `n` records, `total` relevant."""
    need = math.ceil(0.95 * total)
    found, n95 = 0, n
    for i, x in enumerate(labels):
        found += x
        if found >= need:
            n95 = i + 1
            break
    ten = round(0.1 * n)
    return (n - n95) / n - 0.05, sum(labels[:ten]) / total


N_QUERY = []
# ASReview LAB 3's ELAS u4 (asreview.models.models.get_ai_config("elas_u4")), with the batch
ELAS_U4 = {
    "querier": "max", "classifier": "svm", "balancer": "balanced", "feature_extractor": "tfidf",
    "classifier_param": {"loss": "squared_hinge", "C": 0.11}, "balancer_param": {"ratio": 9.8},
    "feature_extractor_param": {"ngram_range": [1, 2], "sublinear_tf": True, "min_df": 1, "max_df": 0.95},
}


def run_metapipe(data, seed, labels, tmp, priors):
    out = tmp / f"order-{seed}.csv"
    t0 = time.perf_counter()
    r = subprocess.run(
        [BIN, "screen-sim", data, "--seed", str(seed), "--format", "json", "--order", out,
         "--priors", ",".join(str(p) for p in priors)] + N_QUERY,
        check=True, capture_output=True, text=True,
    )
    wall = time.perf_counter() - t0
    j = json.loads(r.stdout)
    with open(out) as f:
        order = [(int(x["record"]), int(x["label"])) for x in csv.DictReader(f)]
    assert [x for _, x in order[:2]] == [labels[p - 1] for p in priors], (order[:2], priors)
    wss, ten = metrics([x for _, x in order], len(labels), sum(labels))
    assert abs(wss - j["wss95"]) < 1e-9 and abs(ten - j["recall_at_10"]) < 1e-9, (wss, ten, j)
    return wss, ten, wall, j


def asreview_batch(tmp):
    if not N_QUERY:
        return []
    cfg = tmp / "elas_u4_batch.json"
    cfg.write_text(json.dumps(dict(ELAS_U4, n_query=int(N_QUERY[1]))))
    return ["--config-file", cfg]


def run_asreview(data, seed, tmp):
    # ASReview reads record_id, title, abstract, label_included
    out = tmp / f"sim-{seed}.asreview"
    t0 = time.perf_counter()
    subprocess.run(
        [ASREVIEW_PY, "-m", "asreview", "simulate", data, "--seed", str(seed), "--prior-seed", str(seed),
         "--n-prior-included", "1", "--n-prior-excluded", "1", "-o", out] + asreview_batch(tmp),
        check=True, capture_output=True, text=True,
    )
    wall = time.perf_counter() - t0
    with zipfile.ZipFile(out) as z:
        db = tmp / f"results-{seed}.db"
        db.write_bytes(z.read("results.db"))
    con = sqlite3.connect(db)
    rows = con.execute("select record_id, label from results order by rowid").fetchall()
    con.close()
    # the priors are the first two labelled; ASReview's record_id is the 0-based row
    return [int(lab) for _, lab in rows], [int(r) + 1 for r, _ in rows[:2]], wall


def stopping(n_seeds):
    """The stopping rule over seeds 1..n_seeds per set: stopped at ≥ 95% recall in how many runs,
    and the records it saved (the set's size less the records screened when it stopped)."""
    out = ["| set | records | runs | stopped at ≥ 95% recall | records saved, mean (share) | fewest saved | most saved |",
           "|---|---|---|---|---|---|---|"]
    for data in sorted(SETS.glob("*.csv")):
        runs = []
        for seed in range(1, n_seeds + 1):
            r = subprocess.run([BIN, "screen-sim", data, "--seed", str(seed), "--format", "json"],
                               check=True, capture_output=True, text=True)
            runs.append(json.loads(r.stdout))
        n = runs[0]["records"]
        ok = sum(1 for j in runs if j["recall_at_stop"] is not None and j["recall_at_stop"] >= 0.95)
        saved = [n - (j["stop_at"] if j["stop_at"] is not None else n) for j in runs]
        mean = sum(saved) / len(saved)
        out.append(f"| {data.name} | {n} | {len(runs)} | {ok} of {len(runs)} | {mean:.0f} ({mean / n:.1%}) | {min(saved)} | {max(saved)} |")
    text = "\n".join(out) + "\n"
    (ROOT / "bench" / "screening_stop.md").write_text(text)
    print(text)


def main():
    args = sys.argv[1:]
    if args[:1] == ["--stopping"]:
        return stopping(int(args[1]))
    suffix = ""
    if args[:1] == ["--n-query"]:
        N_QUERY.extend(["--n-query", args[1]])
        suffix = f"_q{int(args[1])}"
        args = args[2:]
    seeds = range(1, int(args[0]) + 1) if args else range(1, 6)
    names = args[1:] or sorted(p.name for p in SETS.glob("*.csv"))
    rows = []
    for name in names:
        data = SETS / name
        with open(data, newline="") as f:
            recs = list(csv.DictReader(f))
        labels = [int(r["label_included"]) for r in recs]
        with tempfile.TemporaryDirectory() as t:
            tmp = Path(t)
            small = tmp / "data.csv"
            with open(small, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["record_id", "title", "abstract", "label_included"])
                for i, r in enumerate(recs, 1):
                    w.writerow([i, r["title"], r["abstract"], r["label_included"]])
            for seed in seeds:
                # ASReview first: metapipe starts from the priors ASReview drew for the seed
                order, priors, awall = run_asreview(small, seed, tmp)
                assert order[:2] == [labels[p - 1] for p in priors], "ASReview's priors misread"
                wss, ten, wall, j = run_metapipe(small, seed, labels, tmp, priors)
                rows.append([name, seed, "metapipe", wss, ten, wall, j["stop_at"], j["recall_at_stop"]])
                awss, aten = metrics(order, len(labels), sum(labels))
                rows.append([name, seed, "asreview", awss, aten, awall, "", ""])
                print(f"{name} seed {seed}: metapipe {wss:.3f} {ten:.3f} {wall:.2f}s | asreview {awss:.3f} {aten:.3f} {awall:.1f}s", flush=True)
    with open(ROOT / "bench" / f"screening{suffix}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["set", "seed", "tool", "wss95", "recall_at_10", "seconds", "stop_at", "recall_at_stop"])
        w.writerows(rows)
    summary(rows, suffix)


def summary(rows, suffix):
    out = ["| set | seeds | metapipe WSS@95 | ASReview WSS@95 | metapipe recall@10% | ASReview recall@10% | metapipe s | ASReview s | speed ratio | rule stopped at ≥ 95% recall |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name in sorted(set(r[0] for r in rows)):
        mine = [r for r in rows if r[0] == name and r[2] == "metapipe"]
        peer = [r for r in rows if r[0] == name and r[2] == "asreview"]
        mean = lambda v: sum(v) / len(v)
        ok = sum(1 for r in mine if r[7] not in ("", None) and r[7] >= 0.95)
        out.append(
            f"| {name} | {len(mine)} | {mean([r[3] for r in mine]):.3f} | {mean([r[3] for r in peer]):.3f} "
            f"| {mean([r[4] for r in mine]):.3f} | {mean([r[4] for r in peer]):.3f} "
            f"| {mean([r[5] for r in mine]):.2f} | {mean([r[5] for r in peer]):.1f} "
            f"| {mean([r[5] for r in peer]) / mean([r[5] for r in mine]):.0f}× | {ok} of {len(mine)} |"
        )
    (ROOT / "bench" / f"screening{suffix}.md").write_text("\n".join(out) + "\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
