"""One day of the bandit-dataset job: build, validate and write ``artifacts/bandit_dataset/ds=D/``.

Layout::

    rows/            Parquet: one row per clean search of D (``ltrr.bandit.dataset.DATASET_COLUMNS``)
    validation.json  GX result of the rows suite
    report.json      inputs used, conservation counts, the plans seen, reward and hit figures

Inputs of the context features are all from before D: the counters of the window ending D - 1
(the training-set job's stored ``history/`` of D - 1, or computed from the logs), the memory
table of D - 1 and the entity names of the catalog of D - 1 (what serving on D knew). The
engagements of D give the reward only. When validation fails nothing is published and
``validation/ds=D/bandit_dataset_rejected.json`` keeps the failed result.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ltrr.bandit.context import BANDIT_CONTEXT_SPEC
from ltrr.bandit.dataset import HIT_COLUMNS, BanditDatasetParams, bandit_rows
from ltrr.config import Settings
from ltrr.memory.artifact import publish, staging_dir, write_json
from ltrr.rank.training_day import history_as_of, memory_as_of, previous_day, read_clean_day, read_clean_inputs
from ltrr.rank.training_set import with_query_keys
from ltrr.validate.gx_runner import run_suite
from ltrr.zones import artifact_dir, validation_dir

ARTIFACT = "bandit_dataset"
LABELS = (0, 1, 2, 3)


class BanditDatasetRejected(RuntimeError):
    """The day's bandit rows failed validation; the message names the expectations."""


def rejection_path(data_root: Path, ds: str) -> Path:
    """Where a rejected build leaves its failed validation result."""
    return validation_dir(data_root, ds) / "bandit_dataset_rejected.json"


def dataset_expectations(gx: Any, n_searches: int) -> list[Any]:
    """The rows suite: keys, one row per clean search, propensities, reward parts, flags, context."""
    E = gx.expectations
    numeric = [f.name for f in BANDIT_CONTEXT_SPEC.features if f.kind == "numeric"]
    out = [
        E.ExpectTableRowCountToEqual(value=n_searches),
        E.ExpectColumnValuesToNotBeNull(column="search_id"),
        E.ExpectColumnValuesToBeUnique(column="search_id"),
        E.ExpectColumnValuesToNotBeNull(column="plan_id"),
        E.ExpectColumnValuesToNotBeNull(column="propensity"),
        E.ExpectColumnValuesToBeBetween(column="propensity", min_value=0.0, max_value=1.0, strict_min=True),
        E.ExpectColumnValuesToNotBeNull(column="reward"),
        E.ExpectColumnValuesToBeBetween(column="reward", max_value=1.0),
        E.ExpectColumnValuesToBeInSet(column="best_label", value_set=list(LABELS)),
        E.ExpectColumnValuesToBeBetween(column="cost", min_value=0.0),
        E.ExpectColumnValuesToBeBetween(column="n_candidates", min_value=0),
        E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="n_candidates", column_B="n_union", or_equal=True),
        E.ExpectColumnValuesToBeBetween(column="total_budget", min_value=0.0),
        E.ExpectColumnValuesToBeBetween(column="hour", min_value=0.0, max_value=23.0),
    ]
    out += [E.ExpectColumnValuesToBeInSet(column=c, value_set=[0, 1]) for c in HIT_COLUMNS]
    out += [E.ExpectColumnValuesToNotBeNull(column=c) for c in ("device", "locale", "language", "user_top_genre")]
    out += [E.ExpectColumnValuesToBeBetween(column=c, min_value=0.0) for c in numeric if c != "hour"]
    return out


def read_rows(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a day's ``rows/`` (or any Parquet folder of bandit rows) into pandas with pyarrow."""
    return pq.read_table(path, columns=columns).to_pandas()


def plan_definitions(searches: DataFrame) -> dict[str, list[list[dict]]]:
    """Each logged plan id with its distinct step lists (one, unless the logs are inconsistent)."""
    rows = searches.groupBy("plan_id").agg(F.collect_set(F.to_json("plan")).alias("plans")).collect()
    return {r["plan_id"]: sorted((json.loads(p) for p in r["plans"]), key=json.dumps) for r in rows}


def build_bandit_dataset_day(spark: SparkSession, settings: Settings, ds: str) -> dict:
    """Build, validate and publish the bandit rows of ``ds``.

    Args:
        spark: the job's session.
        settings: run settings.
        ds: the day.

    Returns:
        The report (also written as ``report.json``).

    Raises:
        FileNotFoundError: when the day has no clean searches, engagements or catalog.
        BanditDatasetRejected: when the rows fail their suite or a plan id was logged with two
            different step lists (nothing is published).
    """
    params = BanditDatasetParams.from_settings(settings)
    root = settings.data_root
    rejected = rejection_path(root, ds)
    rejected.unlink(missing_ok=True)
    searches, engagements, catalog = read_clean_inputs(spark, root, ds)
    yesterday = previous_day(ds)
    history, history_info = history_as_of(spark, root, yesterday, params.history_days, reuse=True)
    # Entity names come from the catalog serving knew that day (the bundle of D - 1 was built
    # from it); on the first day there is none, and D's own stands in (recorded in the report).
    names_catalog = read_clean_day(spark, root, "catalog", yesterday)
    names_source = f"clean catalog of {yesterday}"
    if names_catalog is None:
        names_catalog, names_source = catalog, f"clean catalog of {ds} (no catalog of {yesterday})"
    memory, memory_source = memory_as_of(spark, root, yesterday)
    day_searches = with_query_keys(searches.withColumn("ds", F.lit(ds))).cache()
    rows = bandit_rows(
        spark,
        params,
        searches=day_searches,
        engagements=engagements,
        catalog=names_catalog,
        memory=memory,
        history=history,
    )
    final = artifact_dir(root, ds, ARTIFACT)
    staging = staging_dir(final)
    staging.mkdir(parents=True)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    try:
        rows.repartition(1).sortWithinPartitions("search_id").write.option("compression", "zstd").parquet(
            str(staging / "rows")
        )
        n_searches = day_searches.count()
        plans = plan_definitions(day_searches)
        n_engagements = engagements.count()
        timings["spark_s"] = round(time.perf_counter() - clock, 2)
        frame = read_rows(staging / "rows")
        gx_rows = run_suite(
            frame.drop(columns=["plan"]),
            suite_name="ltrr-bandit-dataset",
            expectations=lambda gx: dataset_expectations(gx, n_searches),
            result_path=staging / "validation.json",
        )
        failed = list(gx_rows.failed)
        failed += [
            f"plan {pid!r} was logged with {len(steps)} different step lists"
            for pid, steps in plans.items()
            if len(steps) > 1
        ]
        if failed:
            rejected.parent.mkdir(parents=True, exist_ok=True)
            write_json(
                rejected,
                {"ds": ds, "failed": failed, "validation": json.loads((staging / "validation.json").read_text())},
            )
            raise BanditDatasetRejected(
                f"bandit rows of {ds} failed validation: {'; '.join(failed)} (result: {rejected})"
            )
        timings["total_s"] = round(time.perf_counter() - clock, 2)
        report = {
            "ds": ds,
            "params": params.__dict__,
            "inputs": {"memory": memory_source, "history": history_info, "entity_names": names_source},
            "counts": dataset_counts(frame, n_searches, n_engagements),
            "plans": {
                pid: {"steps": steps[0], **plan_figures(frame[frame["plan_id"] == pid])}
                for pid, steps in sorted(plans.items())
            },
            "validation": gx_rows.to_dict(),
            "timings_s": timings,
        }
        write_json(staging / "report.json", report)
        publish(staging, final)
    finally:
        day_searches.unpersist()
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return json.loads((final / "report.json").read_text())


def plan_figures(rows: pd.DataFrame) -> dict:
    """Logged rows, mean reward, engagement and candidate figures, and hit rate per strategy."""
    engaged = rows["best_label"] > 0
    return {
        "rows": len(rows),
        "mean_reward": round(float(rows["reward"].mean()), 6) if len(rows) else None,
        "engaged_share": round(float(engaged.mean()), 6) if len(rows) else None,
        "mean_candidates": round(float(rows["n_candidates"].mean()), 3) if len(rows) else None,
        "hit_share_of_engaged": {
            c.removeprefix("hit_"): round(float(rows.loc[engaged, c].mean()), 6) for c in HIT_COLUMNS if engaged.any()
        },
    }


def dataset_counts(frame: pd.DataFrame, n_searches: int, n_engagements: int) -> dict:
    """Conservation figures: every clean search is one row; where the engaged entities came from."""
    engaged = frame["best_label"] > 0
    any_hit = frame[list(HIT_COLUMNS)].max(axis=1) > 0
    return {
        "searches": n_searches,
        "rows": len(frame),
        "engagements": n_engagements,
        "searches_with_engagement": int((frame["n_engaged"] > 0).sum()),
        "searches_with_positive_engagement": int(engaged.sum()),
        "engaged_entity_among_candidates": int((engaged & any_hit).sum()),
        "engaged_entity_not_among_candidates": int((engaged & ~any_hit).sum()),
        "labels": {str(k): int((frame["best_label"] == k).sum()) for k in LABELS},
        "mean_reward": round(float(frame["reward"].mean()), 6),
        "mean_cost": round(float(frame["cost"].mean()), 6),
    }
