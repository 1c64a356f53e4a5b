"""The log contracts: the Spark schemas, their Arrow form and docs/schemas.md agree."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from ltrr import schemas

REPO = Path(__file__).resolve().parents[1]


def _documented_fields(table: str) -> dict[str, tuple[str, bool]]:
    doc = (REPO / "docs" / "schemas.md").read_text()
    section = re.split(r"^## ", doc, flags=re.M)
    body = next(s for s in section if s.split("\n", 1)[0].split()[0] == table)
    rows = re.findall(r"^\| `([a-z_]+)` \| `([^`]+)` \| (yes|no) \|", body, flags=re.M)
    return {name: (dtype, nullable == "yes") for name, dtype, nullable in rows}


@pytest.mark.parametrize("table", sorted(schemas.ALL_TABLES))
def test_doc_matches_schema(table: str) -> None:
    documented = _documented_fields(table)
    actual = {f.name: (f.dataType.simpleString(), f.nullable) for f in schemas.ALL_TABLES[table].fields}
    assert documented == actual


@pytest.mark.parametrize("table", sorted(schemas.ALL_TABLES))
def test_arrow_schema_mirrors_spark_schema(table: str) -> None:
    arrow = schemas.arrow_schema(table)
    spark = schemas.ALL_TABLES[table]
    assert arrow.names == spark.names
    assert arrow.metadata[b"ltrr.schema_version"] == schemas.SCHEMA_VERSION.encode()
    for field in spark.fields:
        assert arrow.field(field.name).nullable == field.nullable


def test_timestamps_are_utc_microseconds() -> None:
    assert schemas.arrow_schema("searches").field("ts").type == pa.timestamp("us", tz="UTC")


def test_truth_is_not_a_log_table() -> None:
    assert "truth" not in schemas.LOG_TABLES
    assert set(schemas.PRIMARY_KEYS) == set(schemas.ALL_TABLES)


def test_arrow_schema_round_trips_through_spark(spark, tmp_path: Path) -> None:
    """A file written with the Arrow schema reads back in Spark with the contract schema."""
    import datetime as dt

    import pyarrow.parquet as pq

    row = {
        "engagement_id": "e1",
        "search_id": "s1",
        "ts": dt.datetime(2026, 1, 5, 12, 30, 1, 123456, tzinfo=dt.UTC),
        "user_id": "u1",
        "entity_id": "trk_1",
        "position": 3,
        "action": "play",
        "amount_ms": 61000,
    }
    path = tmp_path / "eng" / "ds=2026-01-05"
    path.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([row], schema=schemas.arrow_schema("engagements")), path / "p.parquet")
    df = spark.read.schema(schemas.ENGAGEMENTS).parquet(str(path))
    got = df.collect()[0].asDict()
    assert got["ts"].replace(tzinfo=None) == dt.datetime(2026, 1, 5, 12, 30, 1, 123456)
    assert got["amount_ms"] == 61000 and got["position"] == 3
