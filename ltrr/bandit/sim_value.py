"""The realized value of a plan policy on the simulated world: serve a day with it, score it as the nightly job would.

Off-policy estimates are checked against this ground truth: the same world (seed, scale,
catalog, customers, query stream; the simulator draws traffic from its own random stream, so
every engine sees the same requests) is served for one day by the policy under test, and its
logs are turned into bandit rows by the nightly job's own SQL (``ltrr.bandit.dataset``). The
mean reward of those rows is the policy's realized value; the share of searches whose candidate
union holds the intended entity (``sim/truth``) is its realized hit rate.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ltrr.bandit.context import ContextLookups
from ltrr.bandit.dataset import BanditDatasetParams, bandit_rows
from ltrr.bandit.policy import PlanPolicy
from ltrr.rank.training_set import HISTORY_SCHEMA, empty_memory, with_query_keys
from ltrr.retrieval.lexical import LexicalIndex
from ltrr.retrieval.plans import DAY0_MENU, EpsilonGreedyPolicy
from ltrr.retrieval.popular import PopularIndex
from ltrr.schemas import CATALOG, ENGAGEMENTS, SEARCHES, TRUTH
from ltrr.serving.day0 import Day0Engine
from ltrr.serving.engine import EngineFactory, PlanChooser
from ltrr.serving.plan_choice import LearnedPlanChooser
from ltrr.sim.world import simulate
from ltrr.zones import partition_path


def chooser_engine_factory(make_chooser: Callable[[], PlanChooser], randomized_share: float = 0.05) -> EngineFactory:
    """An engine factory: the day-0 retrieval and scorer, with plans chosen by ``make_chooser()``.

    Args:
        make_chooser: builds the plan chooser (called once per simulated day).
        randomized_share: share of randomized result lists (the day-0 engine's default).

    Returns:
        ``(catalog, day) -> Day0Engine``.
    """

    def factory(catalog: pa.Table, day: dt.date) -> Day0Engine:
        return Day0Engine(LexicalIndex.build(catalog), PopularIndex.build(catalog), make_chooser(), randomized_share)

    return factory


def learned_engine_factory(policy: PlanPolicy, lookups: ContextLookups) -> EngineFactory:
    """Serve with a learned plan policy (context features from ``lookups``)."""
    return chooser_engine_factory(lambda: LearnedPlanChooser(policy, lookups))


def fixed_engine_factory(
    greedy: Callable[[str, Mapping[str, str]], str], epsilon: float, version: str
) -> EngineFactory:
    """Serve with an epsilon-greedy policy over the day-0 menu around another greedy rule."""
    return chooser_engine_factory(lambda: EpsilonGreedyPolicy(DAY0_MENU, greedy, epsilon, version=version))


def serve_day(world_root: Path, out: Path, ds: str, engine_factory: EngineFactory) -> dict:
    """Simulate day ``ds`` of the world under ``world_root`` again, served by ``engine_factory``.

    Args:
        world_root: data root of the original world (its ``sim/world.json`` fixes seed, scale and epoch).
        out: an empty folder for the new raw logs and truth (replaced if it exists).
        ds: the day to serve.
        engine_factory: the engine under test.

    Returns:
        The simulator's summary.
    """
    world = json.loads((Path(world_root) / "sim" / "world.json").read_text())
    out = Path(out)
    shutil.rmtree(out, ignore_errors=True)
    (out / "sim").mkdir(parents=True)
    # Same epoch as the original world, so the catalog of ``ds`` is the same; no days recorded.
    (out / "sim" / "world.json").write_text(json.dumps({**world, "days": {}}))
    return simulate(
        out, dt.date.fromisoformat(ds), 1, world["scale"], int(world["seed"]), engine_factory=engine_factory
    )


def served_rows(
    spark: SparkSession,
    root: Path,
    ds: str,
    params: BanditDatasetParams,
    *,
    zone: str = "raw",
    memory: DataFrame | None = None,
    history: DataFrame | None = None,
) -> DataFrame:
    """The bandit rows of a (re-)served day, built by the nightly job's SQL from its logs.

    Args:
        spark: the session.
        root: data root of the served logs.
        ds: the day.
        params: dataset parameters (the reward's cost per candidate).
        zone: ``raw`` (simulated logs are valid) or ``clean``.
        memory: the memory table the context features read (empty when None).
        history: the counters the context features read (empty when None).

    Returns:
        One row per search (``ltrr.bandit.dataset.DATASET_COLUMNS``).
    """

    def read(table: str, schema) -> DataFrame:
        return spark.read.schema(schema).parquet(str(partition_path(root, zone, table, ds)))

    searches = with_query_keys(read("searches", SEARCHES).withColumn("ds", F.lit(ds)))
    return bandit_rows(
        spark,
        params,
        searches=searches,
        engagements=read("engagements", ENGAGEMENTS),
        catalog=read("catalog", CATALOG),
        memory=memory if memory is not None else empty_memory(spark),
        history=history if history is not None else spark.createDataFrame([], HISTORY_SCHEMA),
    )


def intended_hits(spark: SparkSession, root: Path, ds: str, zone: str = "raw") -> DataFrame:
    """Per search of a simulated day: 1 when its candidate union holds the intended entity, else 0."""
    searches = spark.read.schema(SEARCHES).parquet(str(partition_path(root, zone, "searches", ds)))
    truth = spark.read.schema(TRUTH).parquet(str(Path(root) / "sim" / "truth" / f"ds={ds}"))
    cands = searches.select("search_id", F.explode("candidates.entity_id").alias("entity_id")).distinct()
    hit = cands.join(
        truth.select("search_id", F.col("intended_entity_id").alias("entity_id")), ["search_id", "entity_id"]
    ).select("search_id", F.lit(1).alias("intended_hit"))
    return (
        truth.select("search_id", "query_class", "intent_type")
        .join(hit, "search_id", "left")
        .fillna({"intended_hit": 0})
    )


def mean_with_se(values: np.ndarray) -> tuple[float, float]:
    """Mean and its standard error."""
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))
