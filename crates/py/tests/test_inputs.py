"""pandas, polars, pyarrow and dict inputs give the same results, returned as the input's type;
group keys of any type; escalc keeps the caller's rows."""

import math

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import metapipe
from conftest import FIXTURES, ORACLE_CONTROL


def bcg():
    return pacsv.read_csv(FIXTURES / "oracle" / "data" / "bcg.csv")


def stacked():
    """Three fixture sets stacked, with a text and an integer group column, rows interleaved so
    that the groups are not contiguous."""
    parts = []
    for gi, name in enumerate(["bcg", "lee2004", "li2007"]):
        t = pacsv.read_csv(FIXTURES / "oracle" / "data" / f"{name}.csv").select(["ai", "n1i", "ci", "n2i"]).to_pandas()
        t.insert(0, "analysis", name)
        t.insert(1, "analysis_no", gi + 10)
        parts.append(t)
    df = pd.concat(parts, ignore_index=True)
    return df.iloc[[i for r in range(3) for i in range(r, len(df), 3)]].reset_index(drop=True)


def test_types_in_types_out_same_values():
    t = bcg()
    from_arrow = metapipe.pool(t, "RR", "REML", **ORACLE_CONTROL)
    assert isinstance(from_arrow, pa.Table)
    from_pandas = metapipe.pool(t.to_pandas(), "RR", "REML", **ORACLE_CONTROL)
    assert isinstance(from_pandas, pd.DataFrame)
    from_polars = metapipe.pool(pl.from_arrow(t), "RR", "REML", **ORACLE_CONTROL)
    assert isinstance(from_polars, pl.DataFrame)
    from_dict = metapipe.pool({c: t[c].to_pylist() for c in t.column_names}, "RR", "REML", **ORACLE_CONTROL)
    want = from_arrow.to_pylist()
    assert from_pandas.to_dict("records") == want
    assert from_polars.to_dicts() == want
    assert from_dict.to_pylist() == want
    # metafor (the oracle's control): rma(measure="RR", ...) on dat.bcg, REML: -0.7145
    assert math.isclose(want[0]["estimate"], -0.714533161733383, rel_tol=1e-6)
    assert metapipe.pool(t, "RR", "REML", output="polars", **ORACLE_CONTROL).to_dicts() == want
    assert metapipe.pool(pl.from_arrow(t).lazy(), "RR", "REML", **ORACLE_CONTROL).to_dicts() == want
    # a table of several chunks (batches) reads as one
    chunked = pa.concat_tables([t.slice(0, 5), t.slice(5)])
    assert chunked.column("ai").num_chunks == 2
    assert metapipe.pool(chunked, "RR", "REML", **ORACLE_CONTROL).to_pylist() == want


def test_groups_text_and_integer_keys_first_appearance_order():
    df = stacked()
    by_text = metapipe.pool(df, "OR", "DL", group="analysis")
    assert list(by_text["group"]) == ["bcg", "lee2004", "li2007"]
    by_int = metapipe.pool(pl.from_pandas(df), "OR", "DL", group="analysis_no")
    assert by_int["group"].to_list() == ["10", "11", "12"]
    for col in ["k", "estimate", "se", "tau2", "I2", "Q"]:
        assert list(by_text[col]) == by_int[col].to_list()
    assert by_text["error"].isna().all() and by_int["error"].is_null().all()
    # each group equals pooling its rows alone (the batch kernel vs the single-analysis path:
    # equal to rounding)
    for name, row in zip(["bcg", "lee2004", "li2007"], by_text.to_dict("records")):
        alone = metapipe.pool(df[df.analysis == name], "OR", "DL").to_dict("records")[0]
        for k in ["estimate", "se", "tau2", "Q", "I2"]:
            assert math.isclose(row[k], alone[k], rel_tol=1e-12), (name, k, row[k], alone[k])
    assert list(by_text.columns) == ["group", "measure", "scale", "k", "estimate", "se", "ci_lb", "ci_ub", "z", "p", "Q", "Q_df", "Q_p", "I2", "H2", "tau2", "pi_lb", "pi_ub", "error"]


def test_categorical_and_missing_group_keys():
    df = pd.DataFrame({"g": pd.Categorical(["a", "a", "b", "b"]), "ai": [1, 2, 3, 4], "n1i": [10] * 4, "ci": [2, 3, 4, 5], "n2i": [10] * 4})
    out = metapipe.pool(df, "OR", "DL", group="g")
    assert list(out["group"]) == ["a", "b"] and list(out["k"]) == [2, 2]
    # a missing key is the empty group, as on the command line
    df["g"] = ["a", None, "b", "b"]
    out = metapipe.pool(df, "OR", "DL", group="g")
    assert list(out["group"]) == ["a", "", "b"] and list(out["k"]) == [1, 1, 2]


def test_group_that_cannot_be_pooled_says_why_others_still_pool():
    df = pd.DataFrame({"g": ["a", "a", "b"], "ai": [1, 2, 0], "n1i": [10, 10, 10], "ci": [3, 4, 0], "n2i": [10, 10, 10]})
    out = metapipe.pool(df, "OR", "MH", group="g").set_index("group")
    assert out.loc["a", "k"] == 2 and pd.isna(out.loc["a", "error"])
    assert out.loc["b", "error"], "double-zero group: the reason is given"
    assert pd.isna(out.loc["b", "estimate"])


def test_escalc_appends_yi_vi_and_keeps_the_index():
    df = bcg().to_pandas()
    df.index = [f"r{i}" for i in range(len(df))]
    out = metapipe.escalc(df, "OR")
    assert list(out.index) == list(df.index)
    assert list(out.columns) == list(df.columns) + ["yi", "vi"]
    # metafor: escalc("OR", ai=4, n1i=123, ci=11, n2i=139): yi = log((4*128)/(119*11))
    assert math.isclose(out["yi"].iloc[0], math.log(4 * 128 / (119 * 11)), rel_tol=1e-12)
    assert math.isclose(out["vi"].iloc[0], 1 / 4 + 1 / 119 + 1 / 11 + 1 / 128, rel_tol=1e-12)
    # pooling what escalc gave (GEN) equals pooling the counts
    a = metapipe.pool(out[["yi", "vi"]], "GEN", "REML").iloc[0]
    b = metapipe.pool(df, "OR", "REML").iloc[0]
    assert math.isclose(a["estimate"], b["estimate"], rel_tol=1e-12)


def test_continuous_and_generic_with_standard_errors():
    t = pacsv.read_csv(FIXTURES / "oracle" / "data" / "normand1999.csv").to_pandas()
    smd = metapipe.pool(t, "SMD", "REML")
    assert smd["k"].iloc[0] == len(t)
    es = metapipe.escalc(t, "MD")
    gen = pd.DataFrame({"yi": es["yi"], "sei": es["vi"] ** 0.5})
    a = metapipe.pool(gen, "GEN", "DL").iloc[0]
    b = metapipe.pool(t, "MD", "DL").iloc[0]
    assert math.isclose(a["estimate"], b["estimate"], rel_tol=1e-9)
