#!/usr/bin/env python3
"""Write tests/fixtures/foreign-parquet/: the BCG trials (metafor's dat.bcg, as in
tests/fixtures/oracle/data/bcg.csv) as Parquet files from the writers users have -- pandas via
pyarrow, pyarrow directly with every codec, polars and DuckDB -- each with extra columns of other
types (bool, date, timestamp, decimal, categorical/dictionary, string views) that `metapipe pool`
must read past. The counts are real (dat.bcg); the extra columns are SYNTHETIC and a `synthetic`
column in every file says so. Run once by hand (pip install pyarrow pandas polars duckdb); the files are
committed, so the tests need none of these packages.
"""
import csv
import datetime as dt
import decimal
import pathlib

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

root = pathlib.Path(__file__).resolve().parent.parent
out = root / "tests/fixtures/foreign-parquet"
out.mkdir(parents=True, exist_ok=True)
rows = list(csv.DictReader(open(root / "tests/fixtures/oracle/data/bcg.csv")))
n = len(rows)


def frame():
    df = pd.DataFrame({
        "study": [r["study"] for r in rows],
        "ai": pd.array([int(r["ai"]) for r in rows], dtype="int32"),
        "n1i": pd.array([int(r["n1i"]) for r in rows], dtype="int64"),
        "ci": pd.array([int(r["ci"]) for r in rows], dtype="int16"),
        "n2i": pd.array([int(r["n2i"]) for r in rows], dtype="uint32"),
    })
    # two analyses: the trials split by allocation order, as a categorical group column
    df["analysis"] = pd.Categorical(["early" if i < 7 else "late" for i in range(n)])
    df["blinded"] = [i % 2 == 0 for i in range(n)]
    df["published"] = [dt.date(1948 + i, 1, 1) for i in range(n)]
    df["entered"] = pd.to_datetime([f"2024-01-{i + 1:02d} 12:00:00" for i in range(n)])
    df["weight_hint"] = [decimal.Decimal(f"{i}.25") for i in range(n)]
    # the counts are metafor's dat.bcg; every other column is invented, and says so
    df["synthetic"] = "SYNTHETIC columns: analysis, blinded, published, entered, weight_hint (reader tests); counts are dat.bcg"
    return df


df = frame()
# pandas -> pyarrow (snappy, dictionary-encoded strings, pandas metadata)
df.to_parquet(out / "pandas_pyarrow.parquet", engine="pyarrow", index=False)
table = pa.Table.from_pandas(df, preserve_index=False)
for codec in ["zstd", "gzip", "brotli", "lz4", "none"]:
    pq.write_table(table, out / f"pyarrow_{codec}.parquet", compression=codec)
# pyarrow with the counts as decimals and the study names as a dictionary column
dec = table.set_column(table.schema.get_field_index("ai"), "ai", pa.array([decimal.Decimal(r["ai"]) for r in rows], type=pa.decimal128(10, 0)))
dec = dec.set_column(dec.schema.get_field_index("study"), "study", pa.array([r["study"] for r in rows]).dictionary_encode())
pq.write_table(dec, out / "pyarrow_decimal_dictionary.parquet")
# polars (zstd by default, string views, categorical, enum)
pdf = pl.from_pandas(df).with_columns(pl.col("study").cast(pl.Categorical), pl.col("analysis").cast(pl.Enum(["early", "late"])))
pdf.write_parquet(out / "polars.parquet")
# DuckDB (snappy by default; DECIMAL, DATE, TIMESTAMP, BOOLEAN, VARCHAR)
con = duckdb.connect()
con.register("bcg", df)
con.execute(
    "COPY (SELECT study, ai::INTEGER AS ai, n1i::BIGINT AS n1i, ci::SMALLINT AS ci, n2i::UINTEGER AS n2i, "
    "analysis::VARCHAR AS analysis, blinded, published, entered, CAST(weight_hint AS DECIMAL(8,2)) AS weight_hint, synthetic, "
    "[1, 2] AS a_list, {'x': 1} AS a_struct FROM bcg) TO '" + str(out / "duckdb.parquet") + "' (FORMAT PARQUET)"
)
print("wrote", sorted(p.name for p in out.glob("*.parquet")))
