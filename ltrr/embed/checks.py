"""The GX suites of the factor tables: what must hold before serving may load the vectors.

Each table is handed to GX (through the shared ``ltrr.validate.gx_runner.run_suite``) in a
slim form, one row per vector: ``idx`` (dense index), ``id`` (user, entity or query key),
``norm`` (Euclidean norm) and ``finite`` (every coordinate finite).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def vector_frame(ids: np.ndarray, vectors: np.ndarray) -> pd.DataFrame:
    """The slim form GX validates.

    Args:
        ids: id of each row, in index order.
        vectors: one vector per row.

    Returns:
        ``idx, id, norm, finite`` (a non-finite vector gets ``norm`` NaN and ``finite`` False).
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    finite = np.isfinite(vectors).all(axis=1) if vectors.size else np.ones(len(ids), dtype=bool)
    norms = np.linalg.norm(np.where(np.isfinite(vectors), vectors, 0.0), axis=1) if vectors.size else np.zeros(0)
    return pd.DataFrame(
        {
            "idx": np.arange(len(ids), dtype=np.int64),
            "id": [str(i) for i in ids],
            "norm": np.where(finite, norms, np.nan),
            "finite": finite,
        }
    )


def factor_expectations(
    gx: Any, *, rows: int, max_norm: float, index_size: int | None = None, min_norm: float = 0.0
) -> list[Any]:
    """Expectations of one factor table.

    Args:
        gx: the ``great_expectations`` module.
        rows: the number of rows the table must have (users or entities with engagement in
            the interaction matrix, or queries with engaged entities).
        max_norm: largest norm allowed (a diverged fit blows norms up).
        index_size: for entity vectors, the number of items in the Annoy index (must equal
            ``rows``: every engaged entity is searchable, and nothing else is).
        min_norm: the norm must be strictly above this (a zero vector retrieves nothing).

    Returns:
        Expectation objects: row count, ids and indexes unique, indexes dense (0..rows-1),
        every value finite, norms within (min_norm, max_norm].
    """
    E = gx.expectations
    expectations = [
        E.ExpectTableRowCountToEqual(value=rows),
        E.ExpectColumnValuesToNotBeNull(column="id"),
        E.ExpectColumnValuesToBeUnique(column="id"),
        E.ExpectColumnValuesToBeUnique(column="idx"),
        E.ExpectColumnValuesToBeBetween(column="idx", min_value=0, max_value=max(rows - 1, 0)),
        E.ExpectColumnValuesToBeInSet(column="finite", value_set=[True]),
        E.ExpectColumnValuesToNotBeNull(column="norm"),
        E.ExpectColumnValuesToBeBetween(column="norm", min_value=min_norm, max_value=max_norm, strict_min=True),
    ]
    if index_size is not None:
        # The same expectation type twice would read ambiguously in the result: state the
        # index size through a second, named check instead.
        expectations.append(
            E.ExpectColumnMaxToBeBetween(column="idx", min_value=index_size - 1, max_value=index_size - 1)
        )
    return expectations
