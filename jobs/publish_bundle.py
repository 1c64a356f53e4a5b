"""Publish the bundle of one day: assemble, commit atomically, register in MLflow, promote.

Not a Spark job (publishing copies and hashes files and talks to MLflow), but run the same
way as the others, with ``--ds``. Calls ``ltrr.bundle.publish_day``; see docs/bundle.md.

Run by hand::

    LTRR_DATA_ROOT=$PWD/data .venv/bin/python jobs/publish_bundle.py --ds 2026-01-07

Prints one JSON line (version, URL, content hash, champion decision). Exit codes: 0
published (as candidate, and as champion when every gate passed); 3 nothing to publish
(no artifact of the day was built); 1 publishing failed (message on stderr); anything else
is a crash.
"""

from __future__ import annotations

import json
import sys

from jobkit import day_arguments, settings_from_env


def main(argv: list[str] | None = None) -> int:
    """Parse ``--ds``, publish the day's bundle, print a one-line JSON summary."""
    args = day_arguments("Publish the bundle of one day.", argv)
    settings = settings_from_env()
    from ltrr.bundle import BundleError, NothingToPublishError, publish_day

    try:
        result = publish_day(settings, args.ds)
    except NothingToPublishError as exc:
        print(f"publish_bundle: {exc}", file=sys.stderr)
        return 3
    except BundleError as exc:
        print(f"publish_bundle: {args.ds}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"job": "publish_bundle", "status": "published", **result.to_dict()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
