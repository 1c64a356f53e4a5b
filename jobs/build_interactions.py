"""Spark job: build the user × entity confidence matrix of one day (``artifacts/interactions/ds=D/``).

Reads the clean engagements and searches of the look-back window (``LTRR_EMBED_WINDOW_DAYS``
days ending at D) and the clean catalog of D; writes the positive (user, entity) pairs with
their confidence, the dense id maps of users and entities, the (query, entity) weights of the
query vectors, the day's own positive pairs and a report. See docs/embeddings.md.

Run by hand::

    LTRR_DATA_ROOT=$PWD/data PYSPARK_PYTHON=$PWD/.venv/bin/python \\
        .venv/bin/spark-submit --master 'local[*]' jobs/build_interactions.py --ds 2026-01-07

Exit codes: 0 written; 3 the window holds no positive pair (nothing to train on); anything
else is a crash.
"""

from __future__ import annotations

import json
import sys

from jobkit import day_arguments, settings_from_env, spark_session


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the day's interactions artifact, print a one-line JSON summary."""
    args = day_arguments("Build the user x entity interaction matrix of one day.", argv)
    settings = settings_from_env()
    from ltrr.embed.interactions import build_interactions_day

    with spark_session(f"ltrr-build-interactions-{args.ds}", settings) as spark:
        try:
            report = build_interactions_day(spark, settings, args.ds)
        except ValueError as exc:
            print(json.dumps({"job": "build_interactions", "ds": args.ds, "status": "empty", "message": str(exc)}))
            return 3
    print(json.dumps({"job": "build_interactions", "ds": args.ds, "status": "written", "rows": report["rows"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
