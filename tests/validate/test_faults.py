"""``inject_bad_rows`` corrupts a valid day so that validation quarantines exactly what it says."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from validate_helpers import DS, count_rows, valid_day, write_raw

from ltrr.faults import inject_bad_rows
from ltrr.validate import validate_day
from ltrr.zones import partition_path

TABLES = ("catalog", "searches", "engagements")
BIGGER = {"n_entities": 50, "n_searches": 200, "n_engagements": 300}


def raw_files(data_root, table) -> dict[str, object]:
    path = partition_path(data_root, "raw", table, DS)
    return {p.name: pq.read_table(p) for p in sorted(path.glob("*.parquet"))}


def fingerprint(search: dict) -> tuple:
    """The fields inject_bad_rows may change in a search."""
    ts = search["ts"].isoformat() if search["ts"] else None
    return search["user_id"], repr(search["propensity"]), ts, search["device"], search["candidates"][0]["entity_id"]


def test_injected_faults_are_exactly_what_validation_quarantines(spark, lenient):
    root = lenient.data_root
    original = valid_day(**BIGGER)
    write_raw(root, original)

    expected = inject_bad_rows(root, DS, share=0.05, seed=5)

    # per kind = max(1, round(0.05 * rows / kinds)): catalog 50/3 -> 1, searches 200/6 -> 2, engagements 300/7 -> 2
    per_kind = {"catalog": 1, "searches": 2, "engagements": 2}
    for (table, reason), count in expected.items():
        if reason != "search_quarantined":
            assert count == per_kind[table], (table, reason)
    assert len([k for k in expected if k[0] == "searches"]) == 6
    # the cascade, counted independently: engagements of searches whose row was changed in place
    before = {r["search_id"]: fingerprint(r) for r in original["searches"]}
    rewritten = pq.read_table(partition_path(root, "raw", "searches", DS)).to_pylist()
    changed = {r["search_id"] for r in rewritten if fingerprint(r) != before[r["search_id"]]}
    assert len(changed) == 5 * 2  # five in-place kinds, two rows each
    cascade = sum(1 for e in original["engagements"] if e["search_id"] in changed)
    assert expected[("engagements", "search_quarantined")] == cascade

    report = validate_day(spark, lenient, DS, run_gx=False)

    got = {(t, reason): n for t, tr in report.tables.items() for reason, n in tr.by_reason.items()}
    assert got == expected
    for table in TABLES:
        rows_in = count_rows(root, "raw", table)
        assert rows_in == count_rows(root, "clean", table) + count_rows(root, "quarantine", table)
    assert report.tables["engagements"].schema_drift[0].cast == ("position",)


def test_injection_is_deterministic_for_a_seed(tmp_path):
    roots = [tmp_path / name for name in ("a", "b", "c")]
    for root in roots:
        write_raw(root, valid_day())
    first = inject_bad_rows(roots[0], DS, share=0.1, seed=3)
    second = inject_bad_rows(roots[1], DS, share=0.1, seed=3)
    inject_bad_rows(roots[2], DS, share=0.1, seed=4)

    assert first == second
    differs = False
    for table in TABLES:
        a, b, c = (raw_files(root, table) for root in roots)
        assert a.keys() == b.keys() == c.keys()
        assert all(a[name].equals(b[name]) for name in a)
        differs = differs or any(not a[name].equals(c[name]) for name in a)
    assert differs  # another seed picks other rows


@pytest.mark.parametrize("share", [0.0, -0.1, 0.6])
def test_share_out_of_range_is_refused(tmp_path, share):
    write_raw(tmp_path, valid_day())
    with pytest.raises(ValueError, match="share"):
        inject_bad_rows(tmp_path, DS, share=share, seed=1)


def test_a_day_too_small_for_the_share_is_refused(tmp_path):
    write_raw(tmp_path, valid_day(n_entities=20, n_searches=5, n_engagements=6))
    with pytest.raises(ValueError, match="eligible"):
        inject_bad_rows(tmp_path, DS, share=0.5, seed=1)


def test_faults_cannot_be_injected_twice(tmp_path):
    write_raw(tmp_path, valid_day())
    inject_bad_rows(tmp_path, DS, share=0.1, seed=1)
    with pytest.raises(ValueError, match="contract schema"):
        inject_bad_rows(tmp_path, DS, share=0.1, seed=1)
