"""metapipe: meta-analysis pooling that agrees with R's metafor, for Python.

The engine of the ``metapipe`` command-line tool (Rust), on tables from pandas, polars or
pyarrow. Tables cross into Rust through the Arrow C stream interface: numeric study columns are
not copied on the way in.

* :func:`pool` -- ``rma.uni`` / ``rma.mh`` / ``rma.peto`` for one analysis or one per group
  (``metapipe pool``), the same columns and values as the command line.
* :func:`escalc` -- effect sizes ``yi`` and sampling variances ``vi`` (metafor's ``escalc``).
* :func:`run` -- a whole review from its config (``metapipe run``), its tables as DataFrames.
* :mod:`metapipe.spark` -- the same pooling over a Spark DataFrame, one task per partition.

Column names are metafor's (``ai, bi, ci, di`` or ``ai, n1i, ci, n2i``; ``m1i, sd1i, n1i, m2i,
sd2i, n2i``; ``yi`` with ``vi`` or ``sei``; ``xi, ni`` for proportions (PR, PLO, PAS, PFT);
``xi, ti`` (IR); ``x1i, t1i, x2i, t2i`` (IRR, IRD); ``ri, ni`` (ZCOR, COR); ``o_minus_e, v``
(OEV)) or the pipeline's (``events_treat, n_treat, events_ctrl, n_ctrl``; ``mean_treat,
sd_treat, ...``; ``yi`` with ``se``; ``events, n``; ``events, time``; ``events_treat, time_treat,
events_ctrl, time_ctrl``; ``r, n``). Estimates are on the model's scale, as metafor reports them
(log for OR, RR, ROM, IRR, OEV; logit for PLO; Fisher's z for ZCOR; ...).
"""

from __future__ import annotations

import os
import pathlib
from typing import Any, Dict, Literal, Optional, Union

import pyarrow as pa

from . import _native
from ._native import MetapipeError, __version__

__all__ = ["pool", "escalc", "run", "MetapipeError", "__version__"]

Measure = Literal["OR", "RR", "RD", "MD", "SMD", "ROM", "GEN", "PR", "PLO", "PAS", "PFT", "IR", "IRR", "IRD", "ZCOR", "COR", "OEV"]
Method = Literal["FE", "EE", "DL", "REML", "ML", "PM", "SJ", "HE", "EB", "MH", "PETO"]
Output = Literal["pandas", "polars", "pyarrow"]


def _kind(data: Any) -> str:
    mod = type(data).__module__.split(".")[0]
    if mod in ("pandas", "polars"):
        return mod
    return "pyarrow"


def _stream(data: Any) -> Any:
    """An ``arrow_array_stream`` capsule for a pandas, polars or pyarrow table (or a dict of
    columns)."""
    if _kind(data) == "pandas":
        # without the index: rows are positions, as errors report them
        return pa.Table.from_pandas(data, preserve_index=False).__arrow_c_stream__()
    if _kind(data) == "polars" and hasattr(data, "collect"):
        data = data.collect()  # a LazyFrame: its result
    if isinstance(data, dict):
        data = pa.table(data)
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if hasattr(data, "__arrow_c_stream__"):
        return data.__arrow_c_stream__()
    raise TypeError(f"expected a pandas, polars or pyarrow table (or a dict of columns), got {type(data).__name__}")


def _as(table: pa.Table, kind: str) -> Any:
    """A pyarrow table as `kind`: pandas, polars or pyarrow."""
    if kind == "pandas":
        return table.to_pandas()
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table


def _back(capsule: Any, kind: str) -> Any:
    return _as(pa.RecordBatchReader._import_from_c_capsule(capsule).read_all(), kind)


def pool(
    data: Any,
    measure: Measure = "OR",
    method: Method = "REML",
    *,
    test: Optional[Literal["z", "knha", "knha_adhoc"]] = None,
    group: Optional[str] = None,
    level: float = 0.95,
    convention: Literal["metafor", "revman", "cochrane"] = "metafor",
    prediction: Optional[Literal["t", "z", "hksj"]] = None,
    engine: Literal["auto", "single"] = "auto",
    tau2_max: Optional[float] = None,
    maxiter: int = 100,
    stepadj: float = 1.0,
    threshold: float = 1e-5,
    output: Optional[Output] = None,
) -> Any:
    """Pool a table of studies, as metafor's ``rma()`` (or ``rma.mh()``, ``rma.peto()``).

    Args:
        data: the studies (pandas/polars DataFrame or polars LazyFrame, pyarrow Table or
            RecordBatch, or a dict of columns).
        measure: effect measure, as ``escalc(measure=)``: OR, RR, RD (2x2 counts), MD, SMD, ROM
            (means, SDs, sizes) or GEN (``yi`` with ``vi`` or ``sei``).
        method: ``rma(method=)``: FE (= EE), DL, REML, ML, PM, SJ, HE, EB; or MH (Mantel-Haenszel)
            and PETO (OR only) for 2x2 counts.
        test: ``"z"`` (normal), ``"knha"`` (Knapp-Hartung, ``test="knha"``) or ``"knha_adhoc"``
            (its ad hoc variant, never narrower than the Wald interval: ``test="adhoc"``);
            random-effects methods only; by default the convention's (``"knha"`` under ``"cochrane"``, else ``"z"``).
        group: a column naming the meta-analysis each row belongs to: one analysis per group,
            in order of first appearance (the ``pooled_groups`` table of ``metapipe pool
            --group``). Without it, one analysis of every row.
        level: confidence level, 0.95 or 95 (``level=``).
        convention: ``"metafor"``; ``"revman"`` for RevMan 5's MH/DL conventions; ``"cochrane"``
            for the Cochrane methods of RevMan since 2025 (REML, HKSJ, double-zero studies not
            estimable for OR and RR, prediction interval by t with k - 2 df).
        prediction: the prediction interval of a random-effects model: ``"t"`` (t with k - 2 df,
            Higgins-Thompson-Spiegelhalter, Handbook 10.10.4.3), ``"z"``, or ``"hksj"`` (t with
            k - 1 df on the Knapp-Hartung SE); by default the convention's (metafor's
            ``predict()``; ``"t"`` under ``"revman"`` and ``"cochrane"``). Below 3 studies (but
            for metafor's) there is none.
        engine: ``"auto"`` (allocation-free batch kernels where they apply) or ``"single"``.
        tau2_max, maxiter, stepadj, threshold: metafor's ``control=list(...)``.
        output: ``"pandas"``, ``"polars"`` or ``"pyarrow"``; by default the type of ``data``.

    Returns:
        With ``group``: one row per group -- group, measure, scale, k, estimate, se, ci_lb,
        ci_ub, z, p, Q, Q_df, Q_p, I2, H2, tau2, pi_lb, pi_ub, error (a group that cannot be
        pooled has its reason in ``error`` and missing numbers). Without: one row with the fit's
        fields (``metapipe pool --format csv``).

    Raises:
        MetapipeError: bad input; the message and the ``row`` (0-based position) and
            ``column`` attributes say where.
    """
    capsule = _native.pool(
        _stream(data), measure, method, test, convention, prediction, float(level), engine, group, tau2_max, int(maxiter), float(stepadj), float(threshold)
    )
    return _back(capsule, output or _kind(data))


def escalc(data: Any, measure: Measure = "OR", *, output: Optional[Output] = None) -> Any:
    """Effect sizes and sampling variances, as metafor's ``escalc()``: the table with ``yi`` and
    ``vi`` appended (log scale for OR, RR and ROM; SMD is Hedges' g; zero cells in 2x2 tables
    get 1/2 added, metafor's ``add=1/2, to="only0"``). A row whose effect is not estimable has
    missing ``yi`` and ``vi``. For GEN with ``sei``, ``vi = sei**2`` is appended.

    Raises:
        MetapipeError: bad input (``row``, ``column`` attributes).
    """
    kind = _kind(data)
    out = _back(_native.escalc(_stream(data), measure), output or kind)
    if kind == "pandas" and (output or kind) == "pandas":
        out.index = data.index
    return out


def run(config: Union[str, "os.PathLike[str]"], out: Union[str, "os.PathLike[str]"] = "out", *, output: Output = "pandas") -> Dict[str, Any]:
    """Run a whole review from its config (``metapipe run CONFIG --out OUT``): every stage,
    incremental as on the command line, outputs written atomically under ``OUT/<name>/``.

    Returns:
        Every table the run wrote (``records``, ``clusters``, ``prisma``, ``outcome_data``,
        ``results``, ...) by name, as ``output`` DataFrames; a table written per search round
        (``records/round-001.parquet``, ...) as one, rounds in order.

    Raises:
        MetapipeError: bad config or input; ``file``, ``line`` and ``column`` say where.
    """
    d = pathlib.Path(_native.run(os.fspath(config), os.fspath(out)))
    import pyarrow.parquet as pq

    import pyarrow as pa

    tables = {p.stem: _as(pq.read_table(p), output) for p in sorted(d.glob("*.parquet"))}
    # record-level tables are written per search round: <table>/round-NNN.parquet
    for sub in sorted(x for x in d.iterdir() if x.is_dir() and not x.name.startswith(".")):
        parts = sorted(sub.glob("round-*.parquet"))
        if parts:
            tables[sub.name] = _as(pa.concat_tables([pq.read_table(p) for p in parts]), output)
    return tables
