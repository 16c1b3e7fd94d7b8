#!/usr/bin/env python3
"""Living review at scale (issue 14): a SYNTHETIC review of 10^5 records (metapipe gen-records),
the full run, the rerun after one new search round of 10^3 records, and the rerun with no
change, in two states of the review: nothing screened yet (every record awaits screening) and
every earlier record screened (only the new round awaits). Prints CSV rows
(what, seconds, note) for bench/run_bench.py; never asserts a time.
usage: bench/living_bench.py [N] [NEW]   (needs target/release/metapipe)"""
import os, statistics, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(root)
BIN = os.path.abspath(os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "metapipe"))
n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
new = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000
w = tempfile.mkdtemp(prefix="metapipe-living-")
subprocess.run([BIN, "gen-records", "--n", str(n), "--seed", "3", "--out", f"{w}/round1.csv", "--truth", f"{w}/t1.csv"], check=True)
subprocess.run([BIN, "gen-records", "--n", str(new), "--seed", "4", "--out", f"{w}/round2_raw.csv", "--truth", f"{w}/t2.csv"], check=True)
# the new round's records get ids of their own (the generator numbers from 1 each time)
lines = open(f"{w}/round2_raw.csv").read().splitlines()
open(f"{w}/round2.csv", "w").write("\n".join([lines[0]] + [l.replace("syn_", "new_", 1) for l in lines[1:]]) + "\n")
# one record screened, included and extracted; every other record awaits screening
first = "synthetic:" + open(f"{w}/round1.csv").read().splitlines()[1].split(",")[0]
open(f"{w}/ta.csv", "w").write(f"record_id,reviewer_1,reviewer_2,adjudicated\n{first},include,include,\n")
open(f"{w}/ft.csv", "w").write(f"record_id,decision,reason,study_id\n{first},include,,s1\n")
open(f"{w}/studies.csv", "w").write("study_id,label\ns1,Synthetic study\n")
open(f"{w}/od.csv", "w").write("study_id,outcome,events_treat,n_treat,events_ctrl,n_ctrl\ns1,death,1,10,2,10\n")
cfg = f"""[review]
name = "living"
title = "SYNTHETIC living review benchmark"
[[sources]]
database = "synthetic"
file = "round1.csv"
searched = "2024-01-01"
{{round2}}
[screening]
title_abstract = "ta.csv"
full_text = "ft.csv"
[extraction]
studies = "studies.csv"
outcomes = "od.csv"
[[outcomes]]
id = "death"
label = "Death"
measure = "OR"
"""
def run(tag):
    t = time.perf_counter()
    p = subprocess.run([BIN, "run", f"{w}/living.toml", "--out", f"{w}/out"], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    dt = time.perf_counter() - t
    if os.environ.get("LIVING_LOG"):
        sys.stderr.write(f"--- {tag}: {dt:.3f} s\n" + "".join(l + "\n" for l in p.stderr.splitlines() if "seconds=" in l or "TIMING" in l))
    ran = [l.split('stage="')[1].split('"')[0] for l in p.stderr.splitlines() if " ran: " in l]
    return dt, ran
round2 = '[[sources]]\ndatabase = "synthetic"\nfile = "round2.csv"\nsearched = "2024-06-01"\n'
def scenario(label, repeats=3):
    """full run of round 1, rerun after round 2, rerun with no change (a fresh output directory
    each time), `repeats` times: medians, min and max"""
    times = {"full": [], "rerun": [], "same": []}
    for _ in range(repeats):
        subprocess.run(["rm", "-rf", f"{w}/out"], check=True)
        open(f"{w}/living.toml", "w").write(cfg.replace("{round2}", ""))
        full, ran_full = run(f"full ({label})")
        open(f"{w}/living.toml", "w").write(cfg.replace("{round2}", round2))
        rerun, ran_rerun = run(f"round 2 ({label})")
        same, ran_same = run(f"no change ({label})")
        for k, v in [("full", full), ("rerun", rerun), ("same", same)]:
            times[k].append(v)
    med = {k: statistics.median(v) for k, v in times.items()}
    rng = {k: f"min {min(v):.3f}, max {max(v):.3f}" for k, v in times.items()}
    ratio = med["rerun"] / med["full"]
    print(f"full run: {n} records ({label}),{med['full']:.3f},median of {repeats}; {rng['full']}; stages run: {' '.join(ran_full)}")
    print(f"rerun after a new round of {new} records ({label}),{med['rerun']:.3f},{ratio:.3f} of the full run (medians; target <= 0.10: {'met' if ratio <= 0.1 else 'NOT met'}); {rng['rerun']}; stages run: {' '.join(ran_rerun)}")
    print(f"rerun with no change ({label}),{med['same']:.3f},{rng['same']}; stages run: {' '.join(ran_same) or 'none'}")

# 1. nothing screened yet: every record of round 1 awaits screening (the largest to_screen)
scenario("every earlier record awaiting screening")
# 2. a living review as it is kept: every cluster of round 1 screened (its representative, from
# the to_screen.csv of round 1: all excluded but one, included as the one trial), so the
# title/abstract log has a row per cluster and only the new round awaits screening
subprocess.run(["rm", "-rf", f"{w}/out"], check=True)
open(f"{w}/living.toml", "w").write(cfg.replace("{round2}", ""))
run("to_screen of round 1")
import csv
with open(f"{w}/out/living/to_screen.csv") as f:
    reps = [r["record_id"] for r in csv.DictReader(f)]
with open(f"{w}/ta.csv", "w") as f:
    f.write("record_id,reviewer_1,reviewer_2,adjudicated\n")
    for k, r in enumerate(reps):
        f.write(f"{r},{'include,include' if k == 0 else 'exclude,exclude'},\n")
    f.write(f"{first},exclude,exclude,\n")  # the cluster screened in the first scenario
open(f"{w}/ft.csv", "w").write(f"record_id,decision,reason,study_id\n{reps[0]},include,,s1\n")
scenario("every earlier record screened")
