"""Every kind of bad row lands in quarantine with its reason; counts add up.

One crafted day (the tiny valid day of ``conftest.py`` with bad rows written in by hand)
is validated once for the whole module, without GX and with the threshold off. Expected
values are counted by hand from the changes below.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from validate_helpers import DAY_START, DS, count_rows, load_report, read_zone, valid_day, write_raw

from ltrr import schemas
from ltrr.config import Settings, load_settings
from ltrr.faults import writable_schema
from ltrr.validate import validate_day

SECOND = dt.timedelta(seconds=1)


def crafted_day() -> tuple[dict[str, list[dict[str, Any]]], dict[str, pa.Table]]:
    """The valid day with hand-placed bad rows (see the expected counts below)."""
    day = valid_day()
    cat, srch, eng = day["catalog"], day["searches"], day["engagements"]
    # catalog: 20 valid rows + 4 bad ones appended (rows 20..23)
    cat.append({**cat[3], "entity_id": None})  # row 20: null_id
    cat.append(dict(cat[5]))  # row 21: duplicate of e05 (later in the file)
    cat.append({**cat[6], "entity_id": "e90", "entity_type": "gizmo"})
    cat.append({**cat[7], "entity_id": "e91", "popularity": math.nan})
    # searches: s01..s11 broken in place, two duplicates appended (rows 30, 31)
    srch[1]["propensity"] = 0.0
    srch[2]["propensity"] = 1.5
    srch[3]["propensity"] = math.nan
    srch[4]["user_id"] = None
    srch[5]["ts"] = DAY_START + dt.timedelta(days=1)  # exactly D+1 00:00: outside
    srch[6]["candidates"][0]["entity_id"] = "zz-missing"
    srch[7]["device"] = "fridge"
    srch[8]["plan"] = [{"strategy": "lexical", "budget": 0}]
    srch[9]["plan"] = []
    srch[10]["candidates"][1]["rank"] = 0
    srch[11].update(propensity=1.5, user_id=None)  # two faults: null_id comes first
    srch.append({**srch[12], "ts": srch[12]["ts"] + SECOND})  # row 30: later copy of s12
    srch.append({**srch[13], "ts": srch[13]["ts"] - SECOND})  # row 31: earlier copy of s13
    # engagements: g12..g19 broken in place (their searches are fine), g20 duplicated
    eng[12]["action"] = "dance"
    eng[13]["engagement_id"] = None
    eng[14]["search_id"] = "s-missing"
    eng[15]["entity_id"] = "zz-missing"
    eng[16]["ts"] = DAY_START - SECOND
    eng[17]["position"] = 0
    eng[18]["amount_ms"] = -5
    eng[19].update(action="dance", search_id="s-missing")  # row-local rule comes first
    eng.append(dict(eng[20]))  # row 40: duplicate of g20
    # files whose column types differ from the contract
    more = valid_day(n_searches=32, n_engagements=42)
    s_extra = [{**more["searches"][30], "propensity": "0.25"}, {**more["searches"][31], "propensity": "high"}]
    s_schema = writable_schema("searches")
    s_schema = s_schema.set(s_schema.get_field_index("propensity"), pa.field("propensity", pa.string()))
    g_extra = [
        {**more["engagements"][20], "engagement_id": "g40", "position": "2"},
        {**more["engagements"][21], "engagement_id": "g41", "position": "third"},
    ]
    g_schema = writable_schema("engagements")
    g_schema = g_schema.set(g_schema.get_field_index("position"), pa.field("position", pa.string()))
    extra = {
        "searches/part-1.parquet": pa.Table.from_pylist(s_extra, schema=s_schema),
        "engagements/part-1.parquet": pa.Table.from_pylist(g_extra, schema=g_schema),
    }
    return day, extra


BAD_SEARCHES = range(1, 12)
SEARCH_QUARANTINED = [f"g{j:02d}" for j in range(40) if j % 30 in BAD_SEARCHES]  # g01..g11, g31..g39

EXPECTED_BY_REASON = {
    "catalog": {
        "null_id": 1,
        "duplicate_id": 1,
        "malformed_value:entity_type": 1,
        "malformed_value:popularity": 1,
    },
    "searches": {
        "propensity_out_of_range": 3,
        "null_id": 2,
        "duplicate_id": 2,
        "timestamp_outside_day": 1,
        "unknown_entity": 1,
        "malformed_value:device": 1,
        "malformed_value:plan.budget": 1,
        "malformed_value:plan": 1,
        "malformed_value:candidates.rank": 1,
        "malformed_value:propensity": 1,
    },
    "engagements": {
        "search_quarantined": 20,
        "malformed_value:action": 2,
        "malformed_value:position": 2,
        "null_id": 1,
        "unknown_search": 1,
        "unknown_entity": 1,
        "timestamp_outside_day": 1,
        "malformed_value:amount_ms": 1,
        "duplicate_id": 1,
    },
}
EXPECTED_ROWS = {  # table: (in, accepted)
    "catalog": (24, 20),
    "searches": (34, 20),
    "engagements": (43, 13),
}


def lenient_settings(data_root: Path) -> Settings:
    """Settings of this module's runs: the threshold off, so every bad row is fine for the day."""
    return load_settings(data_root=data_root, max_rejected_share=1.0, spark_master="local[2]")


@pytest.fixture(scope="module")
def validated(spark, tmp_path_factory) -> tuple[Path, Any]:
    """The crafted day, validated once: (data_root, report)."""
    settings = lenient_settings(tmp_path_factory.mktemp("rules") / "data")
    day, extra = crafted_day()
    write_raw(settings.data_root, day, extra_files=extra)
    report = validate_day(spark, settings, DS, run_gx=False)
    return settings.data_root, report


def quarantine_rows(data_root: Path, table: str) -> list[dict[str, Any]]:
    return read_zone(data_root, "quarantine", table).to_pylist()


def test_day_passes_under_lenient_threshold(validated):
    data_root, report = validated
    assert report.passed
    assert load_report(data_root)["status"] == "accepted"


@pytest.mark.parametrize("table", list(EXPECTED_BY_REASON))
def test_reason_counts_match_hand_count(validated, table):
    data_root, report = validated
    written = quarantine_rows(data_root, table)
    by_reason: dict[str, int] = {}
    for row in written:
        by_reason[row["reason"]] = by_reason.get(row["reason"], 0) + 1
    assert by_reason == EXPECTED_BY_REASON[table]
    assert load_report(data_root)["tables"][table]["by_reason"] == EXPECTED_BY_REASON[table]
    assert report.tables[table].by_reason == EXPECTED_BY_REASON[table]


@pytest.mark.parametrize("table", list(EXPECTED_ROWS))
def test_counts_are_conserved(validated, table):
    data_root, _ = validated
    rows_in, accepted = EXPECTED_ROWS[table]
    raw = count_rows(data_root, "raw", table)
    clean = count_rows(data_root, "clean", table)
    quarantined = count_rows(data_root, "quarantine", table)
    assert (raw, clean, quarantined) == (rows_in, accepted, rows_in - accepted)
    entry = load_report(data_root)["tables"][table]
    assert (entry["in"], entry["accepted"], entry["quarantined"]) == (rows_in, accepted, rows_in - accepted)


# (table, key, reason, column, raw_value); raw_value None means "not checked"
CASES = [
    ("catalog", None, "null_id", "entity_id", None),
    ("catalog", "e90", "malformed_value:entity_type", "entity_type", "gizmo"),
    ("catalog", "e91", "malformed_value:popularity", "popularity", "NaN"),
    ("catalog", "e05", "duplicate_id", "entity_id", "e05"),
    ("searches", "s01", "propensity_out_of_range", "propensity", "0.0"),
    ("searches", "s02", "propensity_out_of_range", "propensity", "1.5"),
    ("searches", "s03", "propensity_out_of_range", "propensity", "NaN"),
    ("searches", "s04", "null_id", "user_id", None),
    ("searches", "s05", "timestamp_outside_day", "ts", "2026-01-08T00:00:00.000000Z"),
    ("searches", "s06", "unknown_entity", "candidates.entity_id", "zz-missing"),
    ("searches", "s07", "malformed_value:device", "device", "fridge"),
    ("searches", "s08", "malformed_value:plan.budget", "plan.budget", "0"),
    ("searches", "s09", "malformed_value:plan", "plan", None),
    ("searches", "s10", "malformed_value:candidates.rank", "candidates.rank", "0"),
    ("searches", "s11", "null_id", "user_id", None),
    ("searches", "s31", "malformed_value:propensity", "propensity", "high"),
    ("engagements", "g12", "malformed_value:action", "action", "dance"),
    ("engagements", None, "null_id", "engagement_id", None),
    ("engagements", "g14", "unknown_search", "search_id", "s-missing"),
    ("engagements", "g15", "unknown_entity", "entity_id", "zz-missing"),
    ("engagements", "g16", "timestamp_outside_day", "ts", "2026-01-06T23:59:59.000000Z"),
    ("engagements", "g17", "malformed_value:position", "position", "0"),
    ("engagements", "g18", "malformed_value:amount_ms", "amount_ms", "-5"),
    ("engagements", "g19", "malformed_value:action", "action", "dance"),
    ("engagements", "g20", "duplicate_id", "engagement_id", "g20"),
    ("engagements", "g41", "malformed_value:position", "position", "third"),
]


@pytest.mark.parametrize(("table", "key", "reason", "column", "raw_value"), CASES)
def test_bad_row_has_its_reason(validated, table, key, reason, column, raw_value):
    data_root, _ = validated
    rows = [r for r in quarantine_rows(data_root, table) if r["key"] == key and r["reason"] == reason]
    assert len(rows) == 1, f"{table} {key}: {quarantine_rows(data_root, table)}"
    row = rows[0]
    assert row["rule"] == reason.split(":")[0]
    assert row["column"] == column
    if raw_value is not None:
        assert row["raw_value"] == raw_value
    json.loads(row["record"])  # the record is valid JSON


def test_engagements_of_quarantined_searches(validated):
    data_root, _ = validated
    keys = sorted(r["key"] for r in quarantine_rows(data_root, "engagements") if r["reason"] == "search_quarantined")
    assert keys == SEARCH_QUARANTINED


def test_duplicates_keep_the_earliest_row(validated):
    data_root, _ = validated
    clean = read_zone(data_root, "clean", "searches").to_pylist()
    kept = {r["search_id"]: r for r in clean if r["search_id"] in ("s12", "s13")}
    assert len([r for r in clean if r["search_id"] in ("s12", "s13")]) == 2
    # s12: the original (earlier ts) stays; s13: the appended copy had the earlier ts
    assert kept["s12"]["ts"] == DAY_START + dt.timedelta(minutes=30 + 46 * 12)
    assert kept["s13"]["ts"] == DAY_START + dt.timedelta(minutes=30 + 46 * 13) - SECOND
    dups = {r["key"]: r["row_index"] for r in quarantine_rows(data_root, "searches") if r["reason"] == "duplicate_id"}
    assert dups == {"s12": 30, "s13": 13}
    catalog_dup = [r for r in quarantine_rows(data_root, "catalog") if r["reason"] == "duplicate_id"]
    assert [(r["key"], r["row_index"]) for r in catalog_dup] == [("e05", 21)]
    assert [r["entity_id"] for r in read_zone(data_root, "clean", "catalog").to_pylist()].count("e05") == 1


def test_cast_failure_keeps_the_original_value(validated):
    data_root, _ = validated
    row = next(r for r in quarantine_rows(data_root, "searches") if r["key"] == "s31")
    assert row["source_file"] == "part-1.parquet"
    assert row["row_index"] == 1
    assert json.loads(row["record"])["propensity"] == "high"
    clean = {r["search_id"]: r for r in read_zone(data_root, "clean", "searches").to_pylist()}
    assert clean["s30"]["propensity"] == 0.25  # the castable string was cast, not rejected
    engagement = {r["engagement_id"]: r for r in read_zone(data_root, "clean", "engagements").to_pylist()}
    assert engagement["g40"]["position"] == 2


def test_accepted_rows_are_exactly_the_good_ones(validated):
    data_root, _ = validated
    searches = sorted(r["search_id"] for r in read_zone(data_root, "clean", "searches").to_pylist())
    assert searches == ["s00"] + [f"s{i}" for i in range(12, 31)]
    engagements = sorted(r["engagement_id"] for r in read_zone(data_root, "clean", "engagements").to_pylist())
    assert engagements == ["g00"] + [f"g{j}" for j in range(20, 31)] + ["g40"]


def test_clean_files_have_the_contract_schema(spark, validated):
    data_root, _ = validated
    for table, contract in schemas.LOG_TABLES.items():
        df = spark.read.parquet(str(data_root / "clean" / table / f"ds={DS}"))
        got = [(f.name, f.dataType.simpleString()) for f in df.schema.fields]
        assert got == [(f.name, f.dataType.simpleString()) for f in contract.fields]


def test_report_records_schema_drift(validated):
    data_root, _ = validated
    report = load_report(data_root)
    assert report["tables"]["searches"]["schema_drift"] == [
        {"files": ["part-1.parquet"], "cast": ["propensity"], "missing": [], "extra": []}
    ]
    assert report["tables"]["catalog"]["schema_drift"] == []
    assert report["threshold"] == 1.0
    assert report["gx_ran"] is False


def test_rerun_gives_the_same_outputs(spark, validated):
    """Runs last in this module: re-validating the day rewrites identical partitions."""
    data_root, first = validated

    def snapshot() -> dict[str, Any]:
        out: dict[str, Any] = {"report": load_report(data_root)}
        for zone in ("clean", "quarantine"):
            for table in schemas.LOG_TABLES:
                rows = read_zone(data_root, zone, table).to_pylist()
                out[f"{zone}/{table}"] = sorted(json.dumps(r, default=str, sort_keys=True) for r in rows)
        return out

    before = snapshot()
    second = validate_day(spark, lenient_settings(data_root), DS, run_gx=False)

    assert second == first
    assert snapshot() == before
