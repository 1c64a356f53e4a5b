"""Day-level behaviour of ``validate_day``: pass, reject, missing input, GX failure."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from validate_helpers import DS, count_rows, load_report, valid_day, write_raw

from ltrr.faults import writable_schema
from ltrr.orchestration.checks import DayRejected, require_accepted_day
from ltrr.validate import DayRejectedError, MissingPartitionError, validate_day
from ltrr.zones import partition_path

TABLES = ("catalog", "searches", "engagements")


def clean_dir(data_root: Path, table: str) -> Path:
    return partition_path(data_root, "clean", table, DS)


def test_clean_day_passes_with_zero_quarantine_and_gx_success(spark, settings):
    write_raw(settings.data_root, valid_day())

    report = validate_day(spark, settings, DS)

    assert report.passed, report.message
    assert report.gx_ran
    root = settings.data_root
    assert {t: count_rows(root, "clean", t) for t in TABLES} == {"catalog": 20, "searches": 30, "engagements": 40}
    assert {t: count_rows(root, "quarantine", t) for t in TABLES} == {t: 0 for t in TABLES}
    written = load_report(root)
    assert written["status"] == "accepted"
    assert written["problems"] == []
    for table in TABLES:
        entry = written["tables"][table]
        assert entry["quarantined"] == 0 and entry["by_reason"] == {}
        assert entry["gx"]["success"] is True and entry["gx"]["failed"] == []
        gx_result = json.loads((root / "validation" / f"ds={DS}" / entry["gx"]["result_file"]).read_text())
        assert gx_result["success"] is True
        assert gx_result["statistics"]["evaluated_expectations"] >= 4
    # the DAG's gate reads the same report
    assert require_accepted_day(settings, DS)["engagements"] == {"in": 40, "accepted": 40, "quarantined": 0}


def test_day_over_threshold_is_rejected_and_unpublished(spark, settings):
    root = settings.data_root
    day = valid_day()
    for i, bad in zip((1, 2, 3), (0.0, 1.5, math.nan), strict=True):
        day["searches"][i]["propensity"] = bad  # 3 of 30 searches: 10% > 2%
    write_raw(root, day)
    # a clean partition left by an earlier run of the day must not survive the rejection
    earlier = clean_dir(root, "searches")
    earlier.mkdir(parents=True)
    shutil.copy(partition_path(root, "raw", "searches", DS) / "part-0.parquet", earlier / "part-0.parquet")

    report = validate_day(spark, settings, DS)

    assert not report.passed
    assert not report.gx_ran
    # searches s01..s03 have engagements g01..g03 and g31..g33: 6 of 40
    assert report.problems == (
        "searches: 10.0% of 30 rows quarantined > threshold 2.0% (propensity_out_of_range: 3)",
        "engagements: 15.0% of 40 rows quarantined > threshold 2.0% (search_quarantined: 6)",
    )
    with pytest.raises(DayRejectedError, match=r"searches: 10\.0% of 30 rows .*propensity_out_of_range: 3"):
        report.raise_for_status()
    for table in TABLES:  # no clean data of a rejected day, not even the earlier run's
        assert not clean_dir(root, table).exists()
        assert not (root / "clean" / table / "_staging" / f"ds={DS}").exists()
    assert count_rows(root, "quarantine", "searches") == 3
    assert count_rows(root, "quarantine", "engagements") == 6
    written = load_report(root)
    assert written["status"] == "rejected"
    assert written["problems"] == list(report.problems)
    assert written["tables"]["searches"]["over_threshold"] is True
    assert written["tables"]["catalog"]["over_threshold"] is False
    with pytest.raises(DayRejected, match="propensity_out_of_range"):
        require_accepted_day(settings, DS)


def test_missing_partition_names_the_path(spark, settings):
    day = valid_day()
    del day["engagements"]
    write_raw(settings.data_root, day)
    expected = partition_path(settings.data_root, "raw", "engagements", DS)

    with pytest.raises(MissingPartitionError, match=str(expected)):
        validate_day(spark, settings, DS, run_gx=False)
    assert not (settings.data_root / "quarantine").exists()  # nothing written


def test_gx_failure_on_clean_data_rejects_the_day(spark, settings):
    root = settings.data_root
    write_raw(root, {k: v for k, v in valid_day().items() if k != "engagements"})
    path = partition_path(root, "raw", "engagements", DS)
    path.mkdir(parents=True)
    schema = writable_schema("engagements")
    pq.write_table(pa.Table.from_pylist([], schema=schema), path / "part-0.parquet")  # no engagements at all

    report = validate_day(spark, settings, DS)

    assert not report.passed
    assert report.gx_ran
    assert report.problems == ("engagements: GX expect_table_row_count_to_be_between: observed 0",)
    assert report.tables["searches"].gx is not None and report.tables["searches"].gx.success
    assert not any(clean_dir(root, t).exists() for t in TABLES)
    assert load_report(root)["tables"]["engagements"]["gx"]["success"] is False
