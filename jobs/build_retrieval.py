"""Job: build the retrieval artifact of one day (``artifacts/retrieval/ds=D/``).

Catalog snapshot, lexical (tantivy BM25) and semantic (LSA) indexes, and the counters as of D
(copied from the training-set artifact of D), gated by an exact-title recall check and a GX
suite of the counters (``ltrr.retrieval.day``). No Spark session: the indexes are built on one
machine from the day's clean catalog, and the DAG runs it as a Python task. See docs/serving.md.

Run by hand::

    LTRR_DATA_ROOT=$PWD/data .venv/bin/python jobs/build_retrieval.py --ds 2026-01-07

Prints a one-line JSON summary. Exit codes: 0 published, 3 refused by the gate (the reasons are
in ``validation/ds=D/retrieval_rejected.json``), anything else is a crash.
"""

from __future__ import annotations

import json
import sys

from jobkit import day_arguments, settings_from_env

EXIT_REJECTED = 3


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the day's retrieval artifact, print a one-line JSON summary."""
    args = day_arguments("Build the retrieval artifact (indexes and counters) of one day.", argv)
    settings = settings_from_env()
    from ltrr.retrieval.day import RetrievalRejected, build_retrieval_day

    summary = {"job": "build_retrieval", "ds": args.ds}
    try:
        report = build_retrieval_day(settings, args.ds)
    except RetrievalRejected as exc:
        print(json.dumps({**summary, "outcome": "rejected", "message": str(exc)}))
        return EXIT_REJECTED
    print(
        json.dumps(
            {
                **summary,
                "outcome": "published",
                "entities": report["entities"],
                "counters": report["counters"],
                "title_recall": report["lexical"]["title_recall@10"]["recall"],
                "timings": report["timings"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
