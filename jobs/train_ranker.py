"""Job: fit, evaluate, gate and publish the LambdaMART ranker of one day (``artifacts/ranker/ds=D/``).

Reads the training rows (``jobs/build_training_set.py``) of the days before D to learn, and
of D to evaluate; the fit itself runs on one machine (LightGBM). See docs/ranker.md.

Run by hand::

    LTRR_DATA_ROOT=$PWD/data .venv/bin/python jobs/train_ranker.py --ds 2026-01-07

Exit codes: 0 published, or skipped for lack of history (the summary says which); 3 the gate
refused the model (``--exit-zero-on-reject`` makes it 0 so the DAG's gate task fails the run
without retries); anything else is a crash.
"""

from __future__ import annotations

import json
import sys

from jobkit import day_arguments, settings_from_env, spark_session


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the day's ranker, print a one-line JSON summary."""
    args = day_arguments(
        "Fit, evaluate, gate and publish the ranker of one day.",
        argv,
        **{"--exit-zero-on-reject": {"action": "store_true", "help": "exit 0 when the gate refuses the model"}},
    )
    settings = settings_from_env()
    from ltrr.rank.ranker_day import RankerRejected, RankerSkipped, build_ranker_day

    summary = {"job": "train_ranker", "ds": args.ds}
    with spark_session(f"ltrr-train-ranker-{args.ds}", settings) as spark:
        try:
            report = build_ranker_day(spark, settings, args.ds)
        except RankerSkipped as exc:
            print(json.dumps({**summary, "status": "skipped", "message": str(exc)}))
            return 0
        except RankerRejected as exc:
            print(json.dumps({**summary, "status": "rejected", "message": str(exc)}))
            return 0 if args.exit_zero_on_reject else 3
    if report.get("outcome") == "kept":
        refused = (report.get("refused") or {}).get("reasons", [])
        print(json.dumps({**summary, "status": "kept", "kept_from": report["kept_from"], "refused_because": refused}))
        return 0 if args.exit_zero_on_reject else 3
    print(json.dumps({**summary, "status": "published", "gate": report["gate"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
