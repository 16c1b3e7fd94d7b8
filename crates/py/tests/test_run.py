"""run(config): a whole review from Python, the same outputs as `metapipe run`."""

import filecmp

import metapipe
from conftest import ROOT


def test_run_review_returns_its_tables_and_equals_the_cli(tmp_path, cli):
    cfg = ROOT / "pipelines" / "bcg-tb.toml"
    tables = metapipe.run(cfg, tmp_path / "py")
    cli("run", str(cfg), "--out", str(tmp_path / "cli"))
    assert {"results", "outcome_data", "studies"} <= set(tables)
    res = tables["results"]
    # Colditz 1994 / metafor dat.bcg, RR random effects (REML in the config? any model): 13 trials
    assert (res["k"] == 13).any()
    py_dir, cli_dir = tmp_path / "py" / "bcg-tb", tmp_path / "cli" / "bcg-tb"
    names = sorted(p.name for p in cli_dir.rglob("*") if p.is_file())
    assert names == sorted(p.name for p in py_dir.rglob("*") if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(cli_dir, py_dir, [str(p.relative_to(cli_dir)) for p in cli_dir.rglob("*") if p.is_file()], shallow=False)
    assert not mismatch and not errors, (mismatch, errors)
    assert set(metapipe.run(cfg, tmp_path / "py", output="polars")) == set(tables)
