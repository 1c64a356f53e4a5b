"""Verification: a tampered, partial, escaping or newer-format bundle is refused, clearly."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from bundle_days import DaySpec, commit_day

from ltrr.bundle import (
    BundleError,
    BundleFormatError,
    BundleIntegrityError,
    PartialBundleError,
    verify_bundle,
)
from ltrr.cli import main
from ltrr.config import Settings
from ltrr.serving import load_bundle


@pytest.fixture()
def bundle_dir(settings: Settings) -> Path:
    url, _ = commit_day(settings, DaySpec("2026-01-07"))
    return Path(url)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _rewrite_manifest(root: Path, edit) -> None:
    """Edit manifest.json and re-seal it (a valid self-checksum), so only the edit is judged."""
    data = json.loads((root / "manifest.json").read_text())
    edit(data)
    body = {k: v for k, v in data.items() if k != "manifest_sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    data["manifest_sha256"] = hashlib.sha256(canonical).hexdigest()
    (root / "manifest.json").write_text(json.dumps(data, indent=2))


def test_untouched_bundle_verifies(bundle_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = verify_bundle(bundle_dir)
    on_disk = {p.relative_to(bundle_dir).as_posix() for p in _files(bundle_dir)} - {"manifest.json"}
    assert {f.path for f in manifest.files} == on_disk
    assert main(["bundle", "verify", str(bundle_dir)]) == 0
    assert capsys.readouterr().out.startswith(f"OK {manifest.bundle_version}")


def test_flipping_one_byte_of_any_file_is_refused(
    bundle_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _files(bundle_dir)
    assert len(files) >= 10
    for i, original in enumerate(files):
        rel = original.relative_to(bundle_dir).as_posix()
        copy = tmp_path / f"flip{i}"
        shutil.copytree(bundle_dir, copy)
        data = bytearray((copy / rel).read_bytes())
        data[len(data) // 2] ^= 0x01
        (copy / rel).write_bytes(bytes(data))
        with pytest.raises(BundleError) as caught:
            load_bundle(copy)
        if rel != "manifest.json":
            assert isinstance(caught.value, BundleIntegrityError)
            assert f"tampered file: {rel}" in str(caught.value)
        assert main(["bundle", "verify", str(copy)]) == 1
        captured = capsys.readouterr()
        assert (rel if rel != "manifest.json" else "manifest") in captured.out + captured.err


def test_missing_and_extra_files_are_named(bundle_dir: Path) -> None:
    victim = next(p for p in _files(bundle_dir) if p.suffix == ".parquet")
    victim.unlink()
    (bundle_dir / "q2e" / "notes.txt").write_text("not in the manifest")
    with pytest.raises(BundleIntegrityError) as caught:
        load_bundle(bundle_dir)
    problems = caught.value.problems
    assert f"missing file: {victim.relative_to(bundle_dir).as_posix()}" in problems
    assert "extra file not in the manifest: q2e/notes.txt" in problems


def test_bundle_without_manifest_is_partial(bundle_dir: Path) -> None:
    (bundle_dir / "manifest.json").unlink()
    with pytest.raises(PartialBundleError, match="partial bundle"):
        load_bundle(bundle_dir)


@pytest.mark.parametrize("bad", ["../x", "q2e/../../etc/passwd", "/etc/passwd", "q2e//x.json", "./x.json"])
def test_manifest_paths_cannot_escape(bundle_dir: Path, bad: str) -> None:
    def edit(data: dict) -> None:
        data["files"][0]["path"] = bad

    _rewrite_manifest(bundle_dir, edit)
    with pytest.raises(BundleFormatError, match="unsafe path"):
        load_bundle(bundle_dir)


def test_newer_format_is_refused_with_a_message_saying_so(bundle_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _rewrite_manifest(bundle_dir, lambda data: data.update(format_version="2.0.0"))
    with pytest.raises(BundleFormatError, match=r"bundle format 2\.0\.0 is newer than this ltrr reads"):
        load_bundle(bundle_dir)
    assert main(["bundle", "verify", str(bundle_dir)]) == 1
    assert "newer" in capsys.readouterr().err


def test_newer_minor_format_with_unknown_fields_still_loads(bundle_dir: Path) -> None:
    _rewrite_manifest(bundle_dir, lambda data: data.update(format_version="1.7.0", added_later={"x": 1}))
    assert load_bundle(bundle_dir).manifest.format_version == "1.7.0"


def test_unknown_format_is_refused(bundle_dir: Path) -> None:
    _rewrite_manifest(bundle_dir, lambda data: data.update(format_version="one"))
    with pytest.raises(BundleFormatError, match="unknown bundle format version 'one'"):
        load_bundle(bundle_dir)


def test_edited_manifest_value_is_detected(bundle_dir: Path) -> None:
    data = json.loads((bundle_dir / "manifest.json").read_text())
    data["promotion"] = {"eligible": True, "reasons": []}
    data["metrics"]["q2e"]["global_rate"] = 0.99
    (bundle_dir / "manifest.json").write_text(json.dumps(data, indent=2, sort_keys=True))
    with pytest.raises(BundleFormatError, match="modified after publishing"):
        load_bundle(bundle_dir)


def test_pickle_files_are_refused(bundle_dir: Path, settings: Settings) -> None:
    # In a manifest: refused on load, even when the checksum is right.
    (bundle_dir / "q2e" / "model.pkl").write_bytes(b"\x80\x04K\x01.")

    def edit(data: dict) -> None:
        data["files"].append(
            {"path": "q2e/model.pkl", "sha256": hashlib.sha256(b"\x80\x04K\x01.").hexdigest(), "size": 5}
        )

    _rewrite_manifest(bundle_dir, edit)
    with pytest.raises(BundleFormatError, match=r"file type '\.pkl'"):
        load_bundle(bundle_dir)
    # In an artifact: refused when assembling.
    from ltrr.bundle.assemble import assemble_day
    from ltrr.bundle.store import BundleStore

    (settings.data_root / "artifacts" / "q2e" / "ds=2026-01-07" / "model.pkl").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"q2e/model\.pkl"):
        assemble_day(settings, "2026-01-07", BundleStore(settings.bundle_store).new_staging())
