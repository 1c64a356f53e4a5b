"""Job: train the day's embeddings and Annoy index (``artifacts/embeddings/ds=D/``).

Reads the interactions artifact of D (``jobs/build_interactions.py``), fits implicit ALS (or
BPR) on one machine (the driver), builds the Annoy MIPS index, enforces the recall gate
(recall@10 against exact search >= ``LTRR_EMBED_RECALL_THRESHOLD``), validates the factor
tables with GX (on Spark frames, hence the session), evaluates the previous day's model on
D's engagements and publishes the artifact atomically. See docs/embeddings.md.

Run by hand::

    LTRR_DATA_ROOT=$PWD/data PYSPARK_PYTHON=$PWD/.venv/bin/python \\
        .venv/bin/spark-submit --master 'local[*]' jobs/train_embeddings.py --ds 2026-01-07

Exit codes: 0 published; 3 rejected by the recall gate or validation, nothing published
(``--exit-zero-on-reject`` makes it 0 so the DAG's gate fails the run without retries);
anything else is a crash.
"""

from __future__ import annotations

import json
import sys

from jobkit import day_arguments, settings_from_env, spark_session


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the day's embeddings artifact, print a one-line JSON summary."""
    args = day_arguments(
        "Train the embeddings and Annoy index of one day.",
        argv,
        **{"--exit-zero-on-reject": {"action": "store_true", "help": "exit 0 when a gate rejects the build"}},
    )
    settings = settings_from_env()
    from ltrr.embed.day import EmbeddingsRejected, train_embeddings_day

    with spark_session(f"ltrr-train-embeddings-{args.ds}", settings) as spark:
        try:
            metrics = train_embeddings_day(spark, settings, args.ds)
        except EmbeddingsRejected as exc:
            print(json.dumps({"job": "train_embeddings", "ds": args.ds, "status": "rejected", "message": str(exc)}))
            print(f"train_embeddings: {exc}", file=sys.stderr)
            return 0 if args.exit_zero_on_reject else 3
    summary = {
        "job": "train_embeddings",
        "ds": args.ds,
        "status": "published",
        "rows": metrics["rows"],
        "recall": metrics["recall"]["recall"],
        "timings_s": metrics["timings_s"],
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
