"""Checksums of bundle files and the bundle's content hash.

Two digests per file: ``sha256`` over the exact bytes (what verification checks) and, for
files whose bytes carry run-specific noise, a *content* digest over their meaning. Great
Expectations result files hold clock times and random ids (``run_time``, ``validation_time``,
``ge_load_time``, ``validation_id``, expectation ``id``), so re-validating the same data gives
other bytes; their content digest is the sha256 of the canonical JSON with those keys
removed. Parquet files written by Spark (parquet-mr) list each column chunk's encodings in
the order of a Java ``HashSet`` of enums, which changes from one JVM to the next, so the same
rows written by two runs differ in a few footer bytes; their content digest is taken over the
decoded schema and rows instead (``parquet_content_digest``). The content hash of a bundle uses
content digests, so the same inputs and config give the same hash (and the same bundle version)
even though GX wrote new timestamps and another JVM wrote the Parquet footers.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

CHUNK = 1 << 20
VOLATILE_KEYS = frozenset({"run_time", "validation_time", "ge_load_time", "validation_id", "id"})
"""Keys of GX result JSON whose values change from run to run for the same data."""


def sha256_stream(stream: BinaryIO) -> tuple[str, int]:
    """Hash a binary stream.

    Args:
        stream: an open binary file (local or fsspec).

    Returns:
        ``(hex sha256, size in bytes)``.
    """
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def sha256_file(path: Path) -> tuple[str, int]:
    """``(hex sha256, size)`` of a local file."""
    with open(path, "rb") as stream:
        return sha256_stream(stream)


def copy_and_hash(src: Path, dst: Path) -> tuple[str, int]:
    """Copy a file and hash it in one pass (the bytes are read once).

    Args:
        src: the source file.
        dst: the destination (its folder must exist).

    Returns:
        ``(hex sha256, size)`` of the copied bytes.
    """
    digest = hashlib.sha256()
    size = 0
    with open(src, "rb") as reader, open(dst, "wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    shutil.copymode(src, dst)
    return digest.hexdigest(), size


def _strip_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_strip_volatile(v) for v in value]
    return value


def canonical_json(value: Any) -> bytes:
    """The canonical bytes of a JSON value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def volatile_json_digest(path: Path) -> str:
    """Content digest of a GX result JSON: sha256 of its canonical form without volatile keys.

    Args:
        path: the local JSON file.

    Returns:
        The hex digest.

    Raises:
        ValueError: when the file is not valid JSON (its name is in the message).
    """
    try:
        data = json.loads(Path(path).read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is marked as a GX result but is not valid JSON: {exc}") from None
    return hashlib.sha256(canonical_json(_strip_volatile(data))).hexdigest()


def parquet_content_digest(path: Path) -> str:
    """Content digest of a Parquet file: sha256 over its Arrow schema and its rows, row group by row group.

    Two files with the same schema (metadata included), the same row groups and the same values
    in the same order get the same digest, whatever their encodings, page layout, compression or
    footer order. Rows are serialised as Arrow IPC, which is deterministic for the same arrays.

    Args:
        path: the local Parquet file.

    Returns:
        The hex digest.

    Raises:
        ValueError: when the file is not readable Parquet (its name is in the message).
    """
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValueError(f"{path} is not a readable Parquet file: {exc}") from None
    digest = hashlib.sha256()
    schema = parquet.schema_arrow
    digest.update(schema.serialize().to_pybytes())
    for group in range(parquet.num_row_groups):
        table = parquet.read_row_group(group).combine_chunks()
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, schema) as writer:
            writer.write_table(table)
        digest.update(sink.getvalue().to_pybytes())
    return digest.hexdigest()


def content_hash(
    *, format_version: str, ds: str, parameters: Mapping[str, Any], files: Iterable[tuple[str, str]]
) -> str:
    """The bundle's content hash: what it contains, not when or by whom it was built.

    Args:
        format_version: the manifest format; only its major enters the hash (the hash is
            defined the same way by every minor of a major, so readers can recompute it).
        ds: the bundle's day.
        parameters: the parameters of every artifact (JSON-ready).
        files: ``(relative path, content digest)`` of every file; order does not matter.

    Returns:
        ``sha256:<hex>`` over the canonical JSON of these four (timestamps, code version and
        input lineage are deliberately left out; see docs/bundle.md).
    """
    payload = {
        "format_major": format_version.split(".", 1)[0],
        "ds": ds,
        "parameters": parameters,
        "files": sorted([path, digest] for path, digest in files),
    }
    return "sha256:" + hashlib.sha256(canonical_json(payload)).hexdigest()
