"""Pool many meta-analyses on Spark with the metapipe engine.

Recipe (PySpark >= 3.3 for ``mapInArrow``)::

    from metapipe.spark import pool_groups
    results = pool_groups(studies, "analysis_id", measure="OR", method="REML")

The studies are repartitioned by the group column and sorted within each partition, so every
meta-analysis lies whole in one partition; ``mapInArrow`` hands each partition's Arrow batches to
:func:`metapipe.pool` (no pandas conversion), which pools all of the partition's groups in one
call. The result has the columns of ``metapipe pool --group`` (``RESULT_SCHEMA``), in partition
order: sort by ``group`` for a stable order. Spark must have the ``metapipe`` wheel on every
worker (``pip install`` it in the executors' Python environment).

One Python call per partition, not per group: ``groupBy().applyInArrow`` would call Python once
for every meta-analysis, which costs more than pooling a small one.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

import pyarrow as pa

RESULT_SCHEMA = (
    "group string, measure string, scale string, k long, estimate double, se double, ci_lb double, ci_ub double, "
    "z double, p double, Q double, Q_df long, Q_p double, I2 double, H2 double, tau2 double, pi_lb double, pi_ub double, error string"
)

_ARROW_SCHEMA = pa.schema(
    [("group", pa.string()), ("measure", pa.string()), ("scale", pa.string()), ("k", pa.int64())]
    + [(c, pa.float64()) for c in ["estimate", "se", "ci_lb", "ci_ub", "z", "p", "Q"]]
    + [("Q_df", pa.int64())]
    + [(c, pa.float64()) for c in ["Q_p", "I2", "H2", "tau2", "pi_lb", "pi_ub"]]
    + [("error", pa.string())]
)


def _pool_partition(group: str, kwargs: dict):
    def fn(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import metapipe

        batches = [b for b in batches if b.num_rows > 0]
        if not batches:
            return
        table = pa.Table.from_batches(batches)
        out = metapipe.pool(table, group=group, output="pyarrow", **kwargs)
        yield from out.cast(_ARROW_SCHEMA).to_batches()

    return fn


def pool_groups(df: Any, group: str, *, partitions: Optional[int] = None, **kwargs: Any) -> Any:
    """Pool every meta-analysis (rows sharing ``group``) of a Spark DataFrame.

    Args:
        df: a Spark DataFrame of studies (the columns :func:`metapipe.pool` reads).
        group: the meta-analysis id column.
        partitions: number of partitions (default: Spark's default parallelism).
        **kwargs: :func:`metapipe.pool`'s options (measure, method, test, level, ...).

    Returns:
        A Spark DataFrame with ``RESULT_SCHEMA``, one row per meta-analysis.
    """
    n = partitions or df.sparkSession.sparkContext.defaultParallelism
    parts = df.repartition(n, group).sortWithinPartitions(group)
    return parts.mapInArrow(_pool_partition(group, kwargs), RESULT_SCHEMA)
