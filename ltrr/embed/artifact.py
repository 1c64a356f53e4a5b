"""Write the embeddings artifact of one day.

Layout (``<data_root>/artifacts/embeddings/ds=D/``)::

    item_factors.parquet   entity_idx, entity_id, weight (decayed engagement), norm, factors list<float>
    user_factors.parquet   user_idx, user_id, norm, factors list<float>
    query_vectors.parquet  query_idx, query_key, weight, entities, norm, vector list<float>
    items.ann              Annoy MIPS index over the entity vectors (item i = entity_idx i)
    metrics.json           parameters, sizes, recall gate, next-day hit rates, timings
    validation.json        summary of the GX suites; their full results under validation/

The ``*_idx`` columns are the id maps (dense 0..n-1, the Annoy item ids for entities). No
pickles: Parquet, JSON and Annoy's own file. Written under a staging name and renamed into
place by ``ltrr.memory.artifact.publish``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ARTIFACT = "embeddings"


def _vectors(vectors: np.ndarray) -> pa.Array:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    rows, dims = vectors.shape
    offsets = pa.array(np.arange(0, rows * dims + 1, dims, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(vectors.reshape(-1)))


def write_vectors(
    path: Path, idx_name: str, id_name: str, ids: np.ndarray, vectors: np.ndarray, vector_name: str = "factors", **extra
) -> None:
    """Write one factor table (rows in index order; reproducible bytes for the same input).

    Args:
        path: the Parquet file.
        idx_name: name of the dense index column.
        id_name: name of the id column.
        ids: ids in index order.
        vectors: one vector per id.
        vector_name: name of the list<float> column.
        **extra: further numeric columns, one value per row.
    """
    columns = {
        idx_name: pa.array(np.arange(len(ids), dtype=np.int32)),
        id_name: pa.array([str(i) for i in ids], type=pa.string()),
        **{name: pa.array(np.asarray(values)) for name, values in extra.items()},
        "norm": pa.array(np.linalg.norm(np.asarray(vectors, dtype=np.float64), axis=1)),
        vector_name: _vectors(vectors),
    }
    pq.write_table(pa.table(columns), path, compression="zstd")
