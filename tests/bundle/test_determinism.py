"""Same inputs and config give the same content hash; any content change gives another."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bundle_days import DaySpec, gx_result, write_day

from ltrr.bundle.assemble import assemble_day, bundle_file_name
from ltrr.bundle.hashing import parquet_content_digest, volatile_json_digest
from ltrr.bundle.manifest import Manifest
from ltrr.bundle.store import BundleStore
from ltrr.config import Settings, load_settings


def _assemble(settings: Settings, ds: str = "2026-01-07") -> Manifest:
    return assemble_day(settings, ds, BundleStore(settings.bundle_store).new_staging())


def _settings(root: Path) -> Settings:
    return load_settings(data_root=root / "data", state_dir=root / "state", bundle_store=str(root / "bundles"))


def test_same_inputs_give_the_same_content_hash(tmp_path: Path) -> None:
    # Two separate runs of the "pipeline": the Spark part files get other random ids and
    # GX writes other timestamps and ids, the data is the same.
    a, b = _settings(tmp_path / "a"), _settings(tmp_path / "b")
    write_day(a.data_root, DaySpec("2026-01-07", seed=5))
    write_day(b.data_root, DaySpec("2026-01-07", seed=5))
    part_a = next((a.data_root / "artifacts/q2e/ds=2026-01-07/serving").glob("part-*.parquet")).name
    part_b = next((b.data_root / "artifacts/q2e/ds=2026-01-07/serving").glob("part-*.parquet")).name
    assert part_a != part_b
    gx_a = (a.data_root / "artifacts/q2e/ds=2026-01-07/validation.json").read_bytes()
    assert gx_a != (b.data_root / "artifacts/q2e/ds=2026-01-07/validation.json").read_bytes()

    ma, mb = _assemble(a), _assemble(b)
    assert ma.content_hash == mb.content_hash
    assert ma.bundle_version == mb.bundle_version == f"2026-01-07-{ma.content_hash[7:19]}"
    # ... and a second assembly of the same folder, later, too.
    assert _assemble(a).content_hash == ma.content_hash


def test_a_changed_value_or_parameter_changes_the_hash(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    write_day(settings.data_root, DaySpec("2026-01-07", seed=5))
    before = _assemble(settings).content_hash

    report = settings.data_root / "artifacts/q2e/ds=2026-01-07/report.json"
    data = json.loads(report.read_text())
    data["params"]["top_n"] = 49
    report.write_text(json.dumps(data))
    after_param = _assemble(settings).content_hash
    assert after_param != before

    shutil.rmtree(settings.data_root)  # the jobs replace a day's folders as a whole
    write_day(settings.data_root, DaySpec("2026-01-07", seed=6))  # other data, same layout
    assert _assemble(settings).content_hash not in (before, after_param)


def test_gx_noise_is_ignored_but_gx_outcome_is_not(tmp_path: Path) -> None:
    one, two, failed = tmp_path / "1.json", tmp_path / "2.json", tmp_path / "3.json"
    one.write_text(json.dumps(gx_result(True, 10)))
    two.write_text(json.dumps(gx_result(True, 10)))
    failed.write_text(json.dumps(gx_result(False, 10)))
    assert one.read_bytes() != two.read_bytes()
    assert volatile_json_digest(one) == volatile_json_digest(two)
    assert volatile_json_digest(one) != volatile_json_digest(failed)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("part-00000-0552869e-fd0d-44b8-8cd3-d80d6f2c432a-c000.zstd.parquet", "part-00000-c000.zstd.parquet"),
        ("part-00012-29d45a0e-597e-4096-a2c5-ac2437119d9a-c001.snappy.parquet", "part-00012-c001.snappy.parquet"),
        ("part-00003-29d45a0e-597e-4096-a2c5-ac2437119d9a.parquet", "part-00003.parquet"),
        ("items.ann", "items.ann"),
        ("part-00000.parquet", "part-00000.parquet"),
    ],
)
def test_spark_part_names_lose_their_random_id(name: str, expected: str) -> None:
    assert bundle_file_name(name) == expected


def test_data_docs_pages_are_hashed_as_the_result_they_render(tmp_path: Path) -> None:
    # GX stamps every rendering with a time and random element ids: two renderings of one
    # result differ byte for byte, and must not change the bundle's content hash.
    a, b = _settings(tmp_path / "a"), _settings(tmp_path / "b")
    for settings, noise in ((a, "rendered 00:01 id 1b2c"), (b, "rendered 00:02 id 9f8e")):
        write_day(settings.data_root, DaySpec("2026-01-07", seed=5))
        page = settings.data_root / "artifacts/q2e/ds=2026-01-07/validation.html"
        page.write_text(f"<html>{noise}</html>")
    ma, mb = _assemble(a), _assemble(b)
    assert "q2e/validation.html" in {f.path for f in ma.files}
    assert ma.content_hash == mb.content_hash
    # The page's own bytes are still checksummed (tampering is caught on load).
    sha = {f.path: f.sha256 for f in ma.files}["q2e/validation.html"]
    assert sha != {f.path: f.sha256 for f in mb.files}["q2e/validation.html"]


def _rewrite(path: Path, table: pa.Table, **options: object) -> None:
    path.unlink()
    pq.write_table(table, path, **options)


def test_parquet_digest_is_over_rows_not_footer_bytes(tmp_path: Path) -> None:
    # Spark's parquet-mr lists each column chunk's encodings in a JVM-dependent order, so the
    # same rows written by two runs differ in their footers; other writer settings do too.
    table = pa.table({"query_key": ["a", "b", "b", None], "score": [0.5, 0.25, 0.125, 1.0]})
    one, two, other = tmp_path / "1.parquet", tmp_path / "2.parquet", tmp_path / "3.parquet"
    pq.write_table(table, one, compression="zstd", use_dictionary=True)
    pq.write_table(table, two, compression="snappy", use_dictionary=False, data_page_size=64)
    assert one.read_bytes() != two.read_bytes()
    assert parquet_content_digest(one) == parquet_content_digest(two)
    pq.write_table(table.set_column(1, "score", pa.array([0.5, 0.25, 0.125, 1.0000001])), other)
    assert parquet_content_digest(other) != parquet_content_digest(one)
    # Row order and row groups are content: a reordered table is another file.
    pq.write_table(table.take([1, 0, 2, 3]), other)
    assert parquet_content_digest(other) != parquet_content_digest(one)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(ValueError, match=r"broken\.parquet"):
        parquet_content_digest(tmp_path / "broken.parquet")


def test_parquet_rewritten_by_another_writer_keeps_the_bundle_version(tmp_path: Path) -> None:
    # The backfill re-run of a day (tests/dags/test_backfill_services.py) rewrote the memory
    # table with the same rows and another footer: the bundle must keep its version.
    a, b = _settings(tmp_path / "a"), _settings(tmp_path / "b")
    for settings in (a, b):
        write_day(settings.data_root, DaySpec("2026-01-07", seed=5))
    part = next((b.data_root / "artifacts/q2e/ds=2026-01-07/serving").glob("part-*.parquet"))
    table = pq.read_table(part)
    _rewrite(part, table, compression="gzip", use_dictionary=False)
    ma, mb = _assemble(a), _assemble(b)
    rel = "q2e/serving/" + bundle_file_name(part.name)
    assert {f.path: f.sha256 for f in ma.files}[rel] != {f.path: f.sha256 for f in mb.files}[rel]
    assert ma.content_hash == mb.content_hash
    # Changed rows still change it.
    _rewrite(part, table.slice(1))
    assert _assemble(b).content_hash != ma.content_hash
