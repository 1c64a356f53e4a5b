"""Both ways of computing query keys (driver and pandas UDF) give the serving function's keys."""

from __future__ import annotations

from ltrr.memory.keys import entity_keys, query_keys
from ltrr.text.normalize import normalize_query

QUERIES = ["Beyoncé", "  HELLO,  world!! ", "café del mar", "", "🎵 chill 🎵", "Ｔａｙｌｏｒ"]


def _as_dict(frame, column: str) -> dict[str, str]:
    return {row[column]: row["query_key"] for row in frame.collect()}


def test_driver_and_udf_paths_agree_with_normalize_query(spark) -> None:
    searches = spark.createDataFrame([(q,) for q in QUERIES + QUERIES[:2] + [None]], "query STRING")
    expected = {q: normalize_query(q) for q in QUERIES}
    on_driver = _as_dict(query_keys(searches), "query")
    on_executors = _as_dict(query_keys(searches, driver_limit=2), "query")
    assert on_driver == expected
    assert on_executors == expected


def test_entity_keys_paths_agree(spark) -> None:
    catalog = spark.createDataFrame(
        [("t1", "track", "Café Olé", "Señor X", "2026-01-01"), ("a1", "artist", "Señor X", None, "2026-01-01")],
        "entity_id STRING, entity_type STRING, title STRING, artist STRING, added_ds STRING",
    )
    rows = lambda frame: sorted(tuple(r) for r in frame.collect())  # noqa: E731
    on_driver = rows(entity_keys(catalog))
    assert on_driver == rows(entity_keys(catalog, driver_limit=1))
    assert ("t1", "2026-01-01", "title_artist", normalize_query("Café Olé Señor X")) in on_driver
    assert ("a1", "2026-01-01", "title", normalize_query("Señor X")) in on_driver
