"""Bad input: a MetapipeError naming the row (0-based position) and the column."""

import pandas as pd
import polars as pl
import pytest

import metapipe


def counts(**over):
    d = {"ai": [4, 6, 3], "n1i": [123, 306, 231], "ci": [11, 29, 11], "n2i": [139, 303, 220]}
    d.update(over)
    return d


def test_negative_count_names_row_and_column():
    with pytest.raises(metapipe.MetapipeError) as e:
        metapipe.pool(pd.DataFrame(counts(ci=[11, -2, 11])), "OR", "DL")
    assert e.value.row == 1 and e.value.column == "ci"
    assert "row 1" in str(e.value) and "ci" in str(e.value) and "count" in str(e.value)


def test_events_above_total_and_missing_cell():
    with pytest.raises(metapipe.MetapipeError) as e:
        metapipe.pool(pl.DataFrame(counts(ai=[4, 6, 300])), "RR", "REML")
    assert (e.value.row, e.value.column) == (2, "ai")
    with pytest.raises(metapipe.MetapipeError) as e:
        metapipe.pool(pd.DataFrame(counts(n2i=[139, None, 220])), "RR", "REML")
    assert (e.value.row, e.value.column) == (1, "n2i")
    assert "missing" in str(e.value)
    # a nullable integer column with pd.NA, and a fractional count
    with pytest.raises(metapipe.MetapipeError) as e:
        metapipe.pool(pd.DataFrame(counts(ai=pd.array([4, pd.NA, 3], dtype="Int64"))), "OR", "DL")
    assert (e.value.row, e.value.column) == (1, "ai")
    with pytest.raises(metapipe.MetapipeError, match="not a count") as e:
        metapipe.pool(counts(ai=[4.0, 6.5, 3.0]), "OR", "DL")
    assert (e.value.row, e.value.column) == (1, "ai")


def test_missing_column_and_text_cells():
    with pytest.raises(metapipe.MetapipeError) as e:
        metapipe.pool(pd.DataFrame({"ai": [1], "n1i": [2], "ci": [1]}), "OR", "DL")
    assert e.value.row is None and "n2i" in str(e.value)
    with pytest.raises(metapipe.MetapipeError) as e:
        metapipe.pool(pd.DataFrame({"yi": ["0.1", "abc"], "vi": [0.1, 0.2]}), "GEN", "DL")
    assert (e.value.row, e.value.column) == (1, "yi") and "abc" in str(e.value)
    with pytest.raises(metapipe.MetapipeError) as e:
        metapipe.pool(pd.DataFrame({"yi": [0.1, 0.2], "vi": [0.1, 0.0]}), "GEN", "DL")
    assert (e.value.row, e.value.column) == (1, "vi")


def test_bad_options_and_types():
    with pytest.raises(metapipe.MetapipeError, match="measure"):
        metapipe.pool(counts(), "HR", "DL")
    with pytest.raises(metapipe.MetapipeError, match="method"):
        metapipe.pool(counts(), "OR", "XYZ")
    with pytest.raises(metapipe.MetapipeError, match="group column"):
        metapipe.pool(counts(), "OR", "DL", group="nope")
    with pytest.raises(metapipe.MetapipeError, match="empty"):
        metapipe.pool(pd.DataFrame({k: pd.Series([], dtype="int64") for k in counts()}), "OR", "DL")
    with pytest.raises(TypeError):
        metapipe.pool([1, 2, 3], "OR", "DL")
    assert issubclass(metapipe.MetapipeError, ValueError)


def test_run_bad_config_names_file_and_line(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[review]\nname = "x"\ntitle = "x"\nnot_a_key = 1\n')
    with pytest.raises(metapipe.MetapipeError) as e:
        metapipe.run(cfg, tmp_path / "out")
    assert e.value.file and e.value.file.endswith("bad.toml"), e.value.file
    assert e.value.line == 4, str(e.value)
    assert not (tmp_path / "out" / "x").exists()
