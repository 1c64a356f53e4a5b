"""Package ltrr's code as one zip for ``spark-submit --py-files``.

On a Spark cluster whose workers do not have ltrr installed, the executors' Python workers
can only import ``ltrr`` when the driver ships it: ``--py-files ltrr-<hash>.zip`` copies the
zip to every executor and puts it first on its Python workers' ``sys.path`` (and on the
driver's). The zip holds:

- ``ltrr/**.py``: the package, no bytecode caches;
- ``sql/**.sql``: the Spark SQL that ``ltrr.sqlfiles`` reads from ``sql/`` beside the package
  (the driver runs those queries; a driver that imports ltrr from the zip reads them from it).

The package has no other data files that it reads relative to its own location (checked with
``grep -rn __file__ ltrr/``: besides ``sqlfiles``, only the DAG folder of ``local_run`` and the
git checkout of ``bundle.lineage``, which are driver- and Airflow-side only).

The archive is deterministic (sorted entries, fixed timestamps and permissions), and its name
carries a hash of its content, so the same code gives the same file name and bytes and a
changed file gives a new name: executors never mix an old cached zip with new code.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# ``sql/`` sits next to the package in a checkout (and in the image's /opt/ltrr).
SQL_DIR = PACKAGE_DIR.parent / "sql"
# The earliest timestamp a zip entry can carry; any fixed value makes the bytes reproducible.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
HASH_CHARS = 16


def py_files_entries(package_dir: Path = PACKAGE_DIR, sql_dir: Path = SQL_DIR) -> list[tuple[str, Path]]:
    """The files that go into the zip, as (name inside the zip, file on disk), sorted by name.

    Args:
        package_dir: the ``ltrr`` package folder.
        sql_dir: the ``sql/`` folder read by ``ltrr.sqlfiles`` (skipped when it does not exist).

    Returns:
        ``ltrr/...py`` entries (no ``__pycache__``) and ``sql/...sql`` entries.
    """
    entries: list[tuple[str, Path]] = []
    for path in package_dir.rglob("*.py"):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        entries.append((f"{package_dir.name}/{path.relative_to(package_dir).as_posix()}", path))
    if sql_dir.is_dir():
        for path in sql_dir.rglob("*.sql"):
            if path.is_file():
                entries.append((f"sql/{path.relative_to(sql_dir).as_posix()}", path))
    return sorted(entries)


def _zip_bytes(entries: list[tuple[str, Path]]) -> bytes:
    """The deterministic zip archive of ``entries`` (fixed time, permissions and compression)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100644 & 0xFFFF) << 16  # regular file, rw-r--r--
            info.create_system = 3  # Unix, so the permissions above are honoured
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def build_py_files(dest_dir: Path) -> Path:
    """Zip ltrr (and the SQL it reads) into ``dest_dir/ltrr-<content hash>.zip`` for ``--py-files``.

    Building twice from the same code gives the same name and the same bytes; an existing zip
    of that name is left as it is. The file is written under a temporary name and renamed
    into place, so a reader never sees half a zip.

    Args:
        dest_dir: the folder to write to (created if missing).

    Returns:
        The path of the zip.
    """
    data = _zip_bytes(py_files_entries())
    digest = hashlib.sha256(data).hexdigest()[:HASH_CHARS]
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"ltrr-{digest}.zip"
    if target.is_file() and target.read_bytes() == data:
        return target
    partial = dest_dir / f".{target.name}.{os.getpid()}.tmp"
    partial.write_bytes(data)
    partial.replace(target)
    return target
