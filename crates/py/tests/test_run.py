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


def test_run_returns_record_tables_written_per_search_round(tmp_path, cli):
    """A review with two search rounds (SYNTHETIC records from `metapipe gen-records`): the
    record-level tables are one Parquet file per round, returned as one table, rounds in order."""
    for name, n, seed in [("r1", 60, 1), ("r2", 20, 2)]:
        cli("gen-records", "--n", str(n), "--seed", str(seed), "--out", str(tmp_path / f"{name}_raw.csv"), "--truth", str(tmp_path / f"{name}_t.csv"))
        lines = (tmp_path / f"{name}_raw.csv").read_text().splitlines()
        (tmp_path / f"{name}.csv").write_text("\n".join([lines[0]] + [line.replace("syn_", f"{name}_", 1) for line in lines[1:]]) + "\n")
    # one record screened and included as the one trial; every other awaits screening
    first = "synthetic:" + (tmp_path / "r1.csv").read_text().splitlines()[1].split(",")[0]
    (tmp_path / "ta.csv").write_text(f"record_id,reviewer_1,reviewer_2,adjudicated\n{first},include,include,\n")
    (tmp_path / "ft.csv").write_text(f"record_id,decision,reason,study_id\n{first},include,,s1\n")
    (tmp_path / "studies.csv").write_text("study_id,label\ns1,SYNTHETIC study\n")
    (tmp_path / "od.csv").write_text("study_id,outcome,events_treat,n_treat,events_ctrl,n_ctrl\ns1,death,1,10,2,10\n")
    sources = "".join(f'[[sources]]\ndatabase = "synthetic"\nfile = "{name}.csv"\nsearched = "{date}"\n' for name, date in [("r1", "2024-01-01"), ("r2", "2024-06-01")])
    cfg = tmp_path / "review.toml"
    cfg.write_text(
        f'[review]\nname = "rounds"\ntitle = "SYNTHETIC two-round review"\n{sources}'
        '[screening]\ntitle_abstract = "ta.csv"\nfull_text = "ft.csv"\n'
        '[extraction]\nstudies = "studies.csv"\noutcomes = "od.csv"\n'
        '[[outcomes]]\nid = "death"\nlabel = "Death"\nmeasure = "OR"\n'
    )
    tables = metapipe.run(cfg, tmp_path / "out", output="pyarrow")
    out = tmp_path / "out" / "rounds"
    assert sorted(p.name for p in (out / "records").iterdir()) == ["round-001.parquet", "round-002.parquet"]
    rec = tables["records"]
    assert rec.num_rows == 80
    ids = rec.column("record_id").to_pylist()
    assert all(i.startswith("synthetic:r1_") for i in ids[:60]) and all(i.startswith("synthetic:r2_") for i in ids[60:])
    # every record in one cluster; every cluster but the included one awaits, once
    assert tables["clusters"].num_rows == 80
    assert tables["to_screen"].num_rows == tables["merged_records"].num_rows - 1
    assert (out / "to_screen.csv").read_text().count("\n") == tables["to_screen"].num_rows + 1
