"""Item embeddings and ANN indexes: the personalized and related retrieval strategies.

- ``interactions``: the Spark side — the user × entity confidence matrix of a look-back
  window of clean engagements, with dense id maps, and the query × entity weights.
- ``train``: implicit ALS (default) or BPR on that matrix, and the query vectors.
- ``ann``: the Annoy index for maximum inner product search and the recall gate.
- ``checks``: the GX suites of the factor tables.
- ``evaluate``: next-day hit rate of the personalized strategy beside popularity.
- ``artifact`` / ``day``: one night's build, validated and published atomically.
- ``index``: ``EmbeddingIndex``, the loader serving uses (with explicit fallbacks).

See docs/embeddings.md.
"""
