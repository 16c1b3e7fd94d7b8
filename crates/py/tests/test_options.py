"""Every analysis option has one definition: for every measure x method x test x convention
(and a few levels), the Python package gives the same numbers as `metapipe pool`, or the same
error naming the same option. (`crates/cli/tests/options.rs` holds the review config to
`metapipe pool` the same way.)"""

import subprocess

import pyarrow.csv as pacsv
import pytest

import metapipe
from conftest import FIXTURES, cli_path

METHODS = ["MH", "PETO", "FE", "DL", "REML", "PM", "ML", "SJ", "HE", "EB"]
DATA = {"OR": "bcg", "RR": "bcg", "RD": "bcg", "MD": "normand1999", "SMD": "normand1999", "ROM": "normand1999", "GEN": "hackshaw1998"}


def cases():
    for measure in DATA:
        for method in METHODS:
            for test in ["z", "knha", "knha_adhoc"]:
                for convention in ["metafor", "revman"]:
                    yield measure, method, test, convention, 95.0
    yield from [("OR", "DL", "z", "metafor", 90.0), ("MD", "REML", "knha", "metafor", 0.9), ("OR", "DL", "z", "metafor", 100.0), ("GEN", "FE", "z", "metafor", 0.0)]


def test_package_and_cli_agree_on_every_option():
    tables = {name: pacsv.read_csv(FIXTURES / "oracle" / "data" / f"{name}.csv") for name in set(DATA.values())}
    agreed, refused, failures = 0, 0, []
    for measure, method, test, convention, level in cases():
        name = DATA[measure]
        case = f"{measure} {method} {test} {convention} {level}"
        args = [str(cli_path()), "pool", str(FIXTURES / "oracle" / "data" / f"{name}.csv"), "--measure", measure, "--method", method,
                "--test", test, "--convention", convention, "--level", str(level), "--format", "json"]
        p = subprocess.run(args, capture_output=True, text=True)
        try:
            ours = metapipe.pool(tables[name], measure, method, test=test, convention=convention, level=level).to_pylist()[0]
        except metapipe.MetapipeError as e:
            if p.returncode != 2:
                failures.append(f"{case}: package refused ({e}), CLI exit {p.returncode}")
                continue
            cli_msg = p.stderr.strip().removeprefix("metapipe: error: ")
            if f"--{e}" != cli_msg or not str(e).startswith(f"{e.option}: "):
                failures.append(f"{case}: package {str(e)!r} (option {e.option!r}) vs CLI {cli_msg!r}")
            refused += 1
            continue
        if p.returncode != 0:
            failures.append(f"{case}: package pooled, CLI said {p.stderr.strip()}")
            continue
        import json

        theirs = json.loads(p.stdout)
        for k, v in theirs.items():
            o = ours[k]
            if not (o == v or (v is None and (o is None or o != o))):
                failures.append(f"{case} {k}: package {o!r} vs CLI {v!r}")
        agreed += 1
    assert agreed > 100 and refused > 50, (agreed, refused)
    assert not failures, "\n".join(failures[:40])
