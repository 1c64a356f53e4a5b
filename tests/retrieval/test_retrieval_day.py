"""The nightly retrieval artifact: what it holds, its gate, and that a rebuild is byte-identical."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ltrr.config import load_settings
from ltrr.retrieval.day import COUNTER_SCHEMA, RetrievalRejected, build_retrieval_day, rejection_path
from ltrr.retrieval.lexical import LexicalIndex
from ltrr.retrieval.semantic import SemanticIndex
from ltrr.sim.catalog import initial_catalog
from ltrr.sim.scales import get_scale
from ltrr.zones import artifact_dir, partition_path

DS = "2026-01-05"


def _world(tmp_path: Path, counters: list[tuple] | None):
    settings = load_settings(data_root=tmp_path / "data", state_dir=tmp_path / "state", semantic_dims=16)
    catalog = initial_catalog(get_scale("small"), 3, dt.date(2026, 1, 1)).to_arrow()
    folder = partition_path(settings.data_root, "clean", "catalog", DS)
    folder.mkdir(parents=True)
    # Shuffled on disk: the artifact sorts by entity id, so row order cannot change its bytes.
    pq.write_table(catalog.take(list(range(catalog.num_rows))[::-1]), folder / "part-0.parquet")
    if counters is not None:
        history = artifact_dir(settings.data_root, DS, "training_set") / "history"
        history.mkdir(parents=True)
        table = pa.Table.from_pylist(
            [dict(zip(COUNTER_SCHEMA.names, c, strict=True)) for c in counters], schema=COUNTER_SCHEMA
        )
        pq.write_table(table, history / "part-0.parquet")
    return settings, catalog


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("validation.json", "validation.html")  # GX timestamps
    }


COUNTERS = [
    ("entity", "trk_0000001", None, 12, 3),
    ("user", "u000001", None, 5, 2),
    ("artist", "u000001", "art_0000001", 0, 2),
    ("genre", "u000001", "rock", 0, 2),
    ("query", "halo", None, 4, 0),
]


def test_the_artifact_holds_what_serving_reads_and_rebuilds_byte_identical(tmp_path: Path) -> None:
    settings, catalog = _world(tmp_path, COUNTERS)
    report = build_retrieval_day(settings, DS)
    folder = artifact_dir(settings.data_root, DS, "retrieval")
    assert report["passed"] and report["entities"] == catalog.num_rows
    assert report["counters"] == {"rows": len(COUNTERS), "source": "training_set"}
    assert report["lexical"]["title_recall@10"]["recall"] >= settings.retrieval_min_title_recall
    assert 0.9 < report["semantic"]["share_with_vector"] <= 1.0
    assert json.loads((folder / "report.json").read_text())["passed"] is True
    assert pq.read_table(folder / "counters.parquet").num_rows == len(COUNTERS)
    lexical = LexicalIndex.open(folder / "lexical")
    title, entity = catalog.column("title")[0].as_py(), catalog.column("entity_id")[0].as_py()
    assert entity in [e for e, _ in lexical.search(title, 10)]
    assert SemanticIndex.open(folder / "semantic").entity_ids == lexical.entity_ids == sorted(lexical.entity_ids)
    first = _digests(folder)
    assert any(name.endswith(".term") for name in first)  # the tantivy segment is in the artifact
    build_retrieval_day(settings, DS)  # a retried night
    assert _digests(folder) == first


def test_a_day_without_counters_publishes_empty_counters_and_says_so(tmp_path: Path) -> None:
    from ltrr.report.summary import day_summary, format_day_summary

    settings, catalog = _world(tmp_path, None)
    report = build_retrieval_day(settings, DS)
    assert report["counters"] == {"rows": 0, "source": "absent"}
    text = format_day_summary(day_summary(settings, DS))  # what `ltrr summary` prints
    assert f"retrieval artifact: {catalog.num_rows:,} entities indexed" in text and "counters 0 rows (absent)" in text


def test_bad_counters_are_refused_with_a_reason_and_nothing_is_published(tmp_path: Path) -> None:
    settings, _ = _world(tmp_path, [*COUNTERS, ("entity", "trk_0000002", None, -1, 0), ("bogus", "x", None, 1, 1)])
    with pytest.raises(RetrievalRejected, match="counters suite"):
        build_retrieval_day(settings, DS)
    assert not artifact_dir(settings.data_root, DS, "retrieval").exists()
    record = json.loads(rejection_path(settings.data_root, DS).read_text())
    assert record["passed"] is False
    from ltrr.report.summary import day_summary, format_day_summary

    assert "retrieval artifact: refused (counters suite" in format_day_summary(day_summary(settings, DS))
    assert any("n1" in r for r in record["reasons"]) and any("table" in r for r in record["reasons"])
