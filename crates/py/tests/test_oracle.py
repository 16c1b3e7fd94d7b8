"""Every analysis of the shared metafor fixtures through the Python package: equal to metafor
3.8 to 1e-6 (relative) and identical to the CLI's numbers (`metapipe pool --format json`)."""

import json

import pyarrow.csv as pacsv
import pytest

import metapipe
from conftest import FIXTURES, ORACLE_CONTROL

ANALYSES = {
    "fixed_iv": ("FE", {}),
    "dl": ("DL", {}),
    "reml": ("REML", {}),
    "pm": ("PM", {}),
    "sj": ("SJ", {}),
    "he": ("HE", {}),
    "ml": ("ML", {}),
    "eb": ("EB", {}),
    "dl_hksj": ("DL", {"test": "knha"}),
    "reml_hksj": ("REML", {"test": "knha"}),
    "mh": ("MH", {}),
    "mh_revman": ("MH", {"convention": "revman"}),
    "peto": ("PETO", {}),
}


POOL_NAME = {"tau2_ci_lb": "tau2_lb", "tau2_ci_ub": "tau2_ub", "I2_ci_lb": "I2_lb", "I2_ci_ub": "I2_ub"}

def cases():
    for s in ["oracle", "oracle-extra"]:
        for path in sorted((FIXTURES / s / "metafor").glob("*.json")):
            yield pytest.param(s, path.stem, id=f"{s}/{path.stem}")


def close(a, b):
    if b is None:
        return a is None or a != a
    return a is not None and abs(a - b) <= 1e-6 * max(abs(b), 1e-3)


@pytest.mark.parametrize("set_name,name", list(cases()))
def test_fixture_equals_metafor_and_cli(set_name, name, cli):
    data_path = FIXTURES / set_name / "data" / f"{name}.csv"
    expected = json.loads((FIXTURES / set_name / "metafor" / f"{name}.json").read_text())
    table = pacsv.read_csv(data_path)
    checked, failures = 0, []
    for measure, analyses in expected.items():
        if measure == "dataset":
            continue
        # escalc: every study's yi and vi
        es = metapipe.escalc(table, measure).to_pylist()
        assert "studies" in analyses or measure == "GEN"
        for i, (ours, theirs) in enumerate(zip(es, analyses.get("studies", []))):
            for k in ["yi", "vi"]:
                checked += 1
                if not close(ours[k], theirs[k]):
                    failures.append(f"{measure} studies[{i}] {k}: {ours[k]} vs {theirs[k]}")
        for key, exp in analyses.items():
            if key not in ANALYSES or exp is None:
                continue
            method, extra = ANALYSES[key]
            ours = metapipe.pool(table, measure, method, **extra, **ORACLE_CONTROL).to_pylist()[0]
            # the fixtures' names of the Q-profile limits; metapipe's are results.csv's
            exp = {POOL_NAME.get(k, k): v for k, v in exp.items()}
            assert sorted(ours) == sorted(exp), f"{measure} {key}: keys {sorted(ours)} vs {sorted(exp)}"
            for k, v in exp.items():
                # rma.mh/rma.peto fixtures write Q_df as k - 1; the meta crate checks metafor's own
                if k == "Q_df" and key in ("mh", "peto", "mh_revman"):
                    continue
                checked += 1
                if not close(ours[k], v):
                    failures.append(f"{measure} {key} {k}: {ours[k]} vs metafor {v}")
            # the CLI on the same file: the same numbers, bit for bit
            args = [str(data_path), "--measure", measure, "--method", method, "--format", "json"]
            for k, v in extra.items():
                args += [f"--{k}", v]
            args += ["--maxiter", "1000", "--stepadj", "0.5", "--tau2-max", "10000"]
            theirs = json.loads(cli("pool", *args))
            for k, v in theirs.items():
                o = ours[k]
                if not (o == v or (v is None and (o is None or o != o))):
                    failures.append(f"{measure} {key} {k}: package {o!r} vs CLI {v!r}")
    assert checked > 50
    assert not failures, "\n".join(failures[:40])
