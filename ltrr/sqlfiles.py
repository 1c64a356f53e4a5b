"""Load the Spark SQL kept in ``sql/`` and fill in its named parameters.

Queries live in files so they can be read, reviewed and run on their own; parameters are
written ``${name}`` and substituted from a dict of already-validated values (days, numbers),
never from user text.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

SQL_ROOT = Path(__file__).resolve().parent.parent / "sql"
_PARAM = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")


def load_sql(name: str, **params: object) -> str:
    """Read ``sql/<name>.sql`` and substitute its ``${param}`` placeholders.

    Args:
        name: path below ``sql/`` without the extension, e.g. ``"q2e/pair_stats"``.
        **params: values for every placeholder (numbers or strings; strings are inserted
            verbatim, so pass only values the caller produced itself, such as dates).

    Returns:
        The SQL text, ready for ``spark.sql``.

    Raises:
        KeyError: when a placeholder has no value or a value has no placeholder.
    """
    text = _read_text(SQL_ROOT / f"{name}.sql")
    wanted = set(_PARAM.findall(text))
    missing = wanted - params.keys()
    extra = params.keys() - wanted
    if missing or extra:
        raise KeyError(f"sql/{name}.sql: missing parameters {sorted(missing)}, unknown {sorted(extra)}")
    return _PARAM.sub(lambda m: str(params[m.group(1)]), text)


def _read_text(path: Path) -> str:
    """Read a file, also when it lies inside a zip on the path (ltrr imported from a zip).

    Under ``spark-submit --py-files ltrr-<hash>.zip`` the driver imports ltrr from the zip, so
    ``SQL_ROOT`` is ``<zip>/sql``; the zip built by ``ltrr.orchestration.package`` carries
    ``sql/`` for that reason.
    """
    if not path.is_file():
        for archive in path.parents:
            if archive.is_file() and zipfile.is_zipfile(archive):
                with zipfile.ZipFile(archive) as opened:
                    return opened.read(path.relative_to(archive).as_posix()).decode()
    return path.read_text()
