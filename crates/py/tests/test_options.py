"""Every analysis option has one definition: for every measure x method x test x convention
(and a few levels), the Python package gives the same numbers as `metapipe pool`, or the same
error naming the same option. (`crates/cli/tests/options.rs` holds the review config to
`metapipe pool` the same way.)"""

import subprocess

import pyarrow.csv as pacsv
import pytest

import metapipe
from conftest import FIXTURES, cli_path

METHODS = ["MH", "PETO", "FE", "DL", "REML", "PM", "ML", "SJ", "HE", "EB", "GLMM", "GLMM_FE"]
DATA = {"OR": "oracle/data/bcg", "RR": "oracle/data/bcg", "RD": "oracle/data/bcg", "MD": "oracle/data/normand1999",
        "SMD": "oracle/data/normand1999", "ROM": "oracle/data/normand1999", "GEN": "oracle/data/hackshaw1998",
        "PR": "measures/data/pritz1997", "PLO": "measures/data/pritz1997", "PAS": "measures/data/pritz1997",
        "PFT": "measures/data/pritz1997", "IR": "measures/data/nielweise2008_ir", "IRR": "measures/data/nielweise2008",
        "IRD": "measures/data/nielweise2008", "ZCOR": "measures/data/molloy2014", "COR": "measures/data/molloy2014",
        "OEV": "measures/data/bcg_oev"}


def cases():
    for measure in DATA:
        for method in METHODS:
            for test in ["z", "knha", "knha_adhoc"]:
                for convention in ["metafor", "revman"]:
                    yield measure, method, test, convention, 95.0
    yield from [("OR", "DL", "z", "metafor", 90.0), ("MD", "REML", "knha", "metafor", 0.9), ("OR", "DL", "z", "metafor", 100.0), ("GEN", "FE", "z", "metafor", 0.0)]


def test_package_and_cli_agree_on_every_option():
    tables = {name: pacsv.read_csv(FIXTURES / f"{name}.csv") for name in set(DATA.values())}
    agreed, refused, failures = 0, 0, []
    for measure, method, test, convention, level in cases():
        name = DATA[measure]
        case = f"{measure} {method} {test} {convention} {level}"
        args = [str(cli_path()), "pool", str(FIXTURES / f"{name}.csv"), "--measure", measure, "--method", method,
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
