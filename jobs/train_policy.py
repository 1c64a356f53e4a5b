"""Job: learn, estimate off-policy, gate and publish the retrieval-plan policy of one day (``artifacts/policy/ds=D/``).

Reads the bandit rows (``jobs/build_bandit_dataset.py``) of the ``LTRR_BANDIT_TRAIN_DAYS`` days up
to D with pyarrow; the days before D train, D is the holdout. No Spark session: the fit runs on
one machine (LightGBM), and the DAG runs it as a Python task. See docs/bandit.md.

Run by hand::

    LTRR_DATA_ROOT=$PWD/data .venv/bin/python jobs/train_policy.py --ds 2026-01-07

Prints a one-line JSON summary; exit code 0 for every outcome (published, kept, refused,
skipped: a refused policy keeps the champion and never blocks the bundle), anything else is a crash.
"""

from __future__ import annotations

import json
import sys

from jobkit import day_arguments, settings_from_env


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the day's policy job, print a one-line JSON summary."""
    args = day_arguments("Learn, gate and publish the retrieval-plan policy of one day.", argv)
    settings = settings_from_env()
    from ltrr.bandit.policy_day import PolicySkipped, train_policy_day

    summary = {"job": "train_policy", "ds": args.ds}
    try:
        report = train_policy_day(settings, args.ds)
    except PolicySkipped as exc:
        print(json.dumps({**summary, "outcome": "skipped", "message": str(exc)}))
        return 0
    gate = report["gate"]
    print(
        json.dumps(
            {
                **summary,
                "outcome": report["outcome"],
                "dr": gate["new"]["value"],
                "dr_ci_low": gate["new"]["ci_low"],
                "logged": gate["champion"]["value"],
                "reasons": report["reasons"],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
