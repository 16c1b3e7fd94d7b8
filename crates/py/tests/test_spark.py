"""Spark (local mode): 10^5 SYNTHETIC meta-analyses (`metapipe gen-meta`) pooled with
metapipe.spark.pool_groups equal the CLI's single-machine results, group by group."""

import os

import pyarrow.parquet as pq
import pytest

from conftest import cli_path

GROUPS = 100_000


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    s = (
        SparkSession.builder.master("local[2]")
        .appName("metapipe-test")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    yield s
    s.stop()


@pytest.mark.parametrize("measure,method,kind", [("OR", "REML", "binary"), ("GEN", "DL", "generic")])
def test_spark_equals_cli_on_1e5_meta_analyses(spark, cli, tmp_path, measure, method, kind):
    from metapipe.spark import pool_groups

    data = tmp_path / "meta.parquet"
    cli("gen-meta", "--groups", str(GROUPS), "--k", "5", "--kind", kind, "--seed", "11", "--out", str(data))
    single = tmp_path / "single.parquet"
    cli("pool", str(data), "--measure", measure, "--method", method, "--group", "group", "--out", str(single))
    want = pq.read_table(single).to_pandas().set_index("group").sort_index()

    got = pool_groups(spark.read.parquet(str(data)), "group", measure=measure, method=method).toArrow().to_pandas()
    got = got.set_index("group").sort_index()
    assert len(got) == GROUPS == len(want)
    assert list(got.index) == list(want.index)
    assert list(got.columns) == list(want.columns)
    for c in want.columns:
        a, b = got[c], want[c]
        same = (a == b) | (a.isna() & b.isna())
        assert same.all(), f"{c}: {int((~same).sum())} groups differ, e.g. {a[~same].head(3).tolist()} vs {b[~same].head(3).tolist()}"
