"""Run the nightly pipeline of one day in this process, on one Spark session: the DAG's tasks in
the DAG's order, with the DAG's gates.

``ltrr run`` runs the real DAG (``dag.test()``, one ``spark-submit`` per Spark job); a
multi-day experiment runs the same steps many times, and a JVM per job per day would dominate
its time. This runner calls the same ``ltrr`` day functions the jobs call and the same gate checks
the DAG's gate tasks call, so a day it completes is the day the DAG would have produced, with the
same outcomes. As in Airflow, a failed gate stops the tasks downstream of it (their state is
``upstream_failed``) while independent branches still run: a refused ranker still lets the bandit
dataset and the policy of the day be built, but nothing is published (:class:`NightlyFailed`). A
refused or skipped policy (or a skipped ranker) does not stop anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ltrr.config import Settings


class NightlyFailed(RuntimeError):
    """A step or gate stopped the day's run (nothing was published)."""

    def __init__(self, ds: str, task: str, reason: str, result: NightlyResult | None = None) -> None:
        super().__init__(f"nightly {ds}: {task} stopped the run: {reason}")
        self.ds = ds
        self.task = task
        self.reason = reason
        self.result = result


@dataclass
class NightlyResult:
    """What one in-process nightly run did.

    Attributes:
        ds: the day.
        tasks: task id -> outcome (``success``, ``skipped: ...``, or a policy outcome).
        seconds: task id -> wall time.
        bundle_version: the published bundle.
        champion: whether that bundle became the champion (every gate passed).
        policy_outcome: ``published``, ``kept``, ``refused`` or ``skipped``.
    """

    ds: str
    tasks: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    bundle_version: str | None = None
    champion: bool = False
    policy_outcome: str | None = None

    def to_dict(self) -> dict:
        """A JSON-ready form."""
        return {
            "ds": self.ds,
            "tasks": self.tasks,
            "seconds": {k: round(v, 1) for k, v in self.seconds.items()},
            "bundle_version": self.bundle_version,
            "champion": self.champion,
            "policy_outcome": self.policy_outcome,
        }


def run_nightly_inprocess(
    spark: Any,
    settings: Settings,
    ds: str,
    *,
    run_gx: bool = True,
    log: Callable[[str], None] | None = None,
    before_publish: Callable[[], None] | None = None,
) -> NightlyResult:
    """Run every step of ``ltrr_nightly`` for ``ds`` (see the module docstring).

    Args:
        spark: the Spark session every Spark step shares.
        settings: run settings (data root, bundle store, parameters).
        ds: the day, ``YYYY-MM-DD``.
        run_gx: run the Great Expectations suites of input validation (the quarantine rules
            always run); the artifact suites always run.
        log: receives one line per finished task.
        before_publish: called after every model step, before the bundle is assembled (the
            experiment writes the day's report artifact there, so the bundle carries it); also
            called when a gate failed, before :class:`NightlyFailed` is raised.

    Returns:
        What ran and what was published.

    Raises:
        NightlyFailed: a step or gate stopped the run.
    """
    from ltrr.bandit.dataset_day import BanditDatasetRejected, build_bandit_dataset_day
    from ltrr.bandit.policy_day import PolicySkipped, train_policy_day
    from ltrr.bundle import publish_day
    from ltrr.embed.day import EmbeddingsRejected, train_embeddings_day
    from ltrr.embed.gate import require_published_embeddings
    from ltrr.embed.interactions import build_interactions_day
    from ltrr.memory.day import MemoryRejected, build_q2e_day
    from ltrr.orchestration import checks
    from ltrr.rank.ranker_day import RankerRejected, RankerSkipped, build_ranker_day
    from ltrr.rank.training_day import TrainingSetRejected, build_training_set_day
    from ltrr.retrieval.day import RetrievalRejected, build_retrieval_day
    from ltrr.validate.day import validate_day

    result = NightlyResult(ds=ds)
    failures: list[tuple[str, str]] = []

    def step(
        task: str, fn: Callable[[], Any], needs: tuple[str, ...] = (), recorded: tuple[type[BaseException], ...] = ()
    ) -> Any:
        """Run one task unless an upstream task did not succeed (Airflow's ``upstream_failed``).

        ``recorded``: rejections the job records and exits 0 on (``--exit-zero-on-reject``); the
        gate task after it fails the branch.
        """
        blocked = [n for n in needs if not result.tasks.get(n, "").startswith(("success", "skipped", "rejected"))]
        if blocked:
            result.tasks[task] = "upstream_failed"
            return None
        # Each job of the DAG is its own spark-submit: start every step from an empty cache.
        spark.catalog.clearCache()
        clock = time.perf_counter()
        try:
            out = fn()
        except recorded as exc:
            result.tasks[task] = f"rejected (recorded): {exc}"
            out = None
        except checks.DayRejected as exc:
            result.tasks[task] = "failed"
            failures.append((task, str(exc)))
            out = None
        result.seconds[task] = time.perf_counter() - clock
        result.tasks.setdefault(task, "success")
        if log:
            log(f"  {ds} {task}: {result.tasks[task][:160]} ({result.seconds[task]:.0f} s)")
        return out

    step("check_raw_inputs", lambda: checks.require_raw_partitions(settings, ds))
    step("validate_inputs", lambda: validate_day(spark, settings, ds, run_gx=run_gx), ("check_raw_inputs",))
    step("validation_gate", lambda: checks.require_accepted_day(settings, ds), ("validate_inputs",))
    accepted = ("validation_gate",)
    step("build_q2e", lambda: build_q2e_day(spark, settings, ds), accepted, (MemoryRejected,))
    step("memory_gate", lambda: checks.require_published_memory(settings, ds), ("build_q2e",))
    step("build_interactions", lambda: build_interactions_day(spark, settings, ds), accepted)
    step(
        "train_embeddings",
        lambda: train_embeddings_day(spark, settings, ds),
        ("build_interactions",),
        (EmbeddingsRejected,),
    )
    step("embeddings_gate", lambda: require_published_embeddings(settings, ds), ("train_embeddings",))
    step("build_training_set", lambda: build_training_set_day(spark, settings, ds), accepted, (TrainingSetRejected,))
    step("training_set_gate", lambda: checks.require_training_set(settings, ds), ("build_training_set",))

    def ranker() -> None:
        try:
            report = build_ranker_day(spark, settings, ds)
        except RankerSkipped as exc:
            result.tasks["train_ranker"] = f"skipped: {exc}"
            return
        if report.get("outcome") == "kept":
            refused = "; ".join((report.get("refused") or {}).get("reasons", []))
            result.tasks["train_ranker"] = f"success: kept the ranker of {report['kept_from']}; refused: {refused}"

    step("train_ranker", ranker, ("training_set_gate",), (RankerRejected,))
    step("ranker_gate", lambda: checks.require_ranker_outcome(settings, ds), ("train_ranker",))

    def retrieval() -> None:
        try:
            build_retrieval_day(settings, ds)
        except RetrievalRejected as exc:  # the DAG's build_retrieval task fails the run on it
            raise checks.DayRejected(str(exc)) from exc

    step("build_retrieval", retrieval, ("training_set_gate",))
    step(
        "build_bandit_dataset",
        lambda: build_bandit_dataset_day(spark, settings, ds),
        accepted,
        (BanditDatasetRejected,),
    )
    step("bandit_dataset_gate", lambda: checks.require_bandit_dataset(settings, ds), ("build_bandit_dataset",))

    def policy() -> None:
        try:
            report = train_policy_day(settings, ds)
        except PolicySkipped as exc:
            result.policy_outcome = "skipped"
            result.tasks["train_policy"] = f"skipped: {exc}"
            return
        result.policy_outcome = str(report["outcome"])
        result.tasks["train_policy"] = f"success: {result.policy_outcome}"

    step("train_policy", policy, ("bandit_dataset_gate",))
    if before_publish is not None:
        before_publish()
    if failures:
        result.tasks["publish_bundle"] = "upstream_failed"
        task, reason = failures[0]
        raise NightlyFailed(ds, task, reason, result)
    published = step(
        "publish_bundle",
        lambda: publish_day(settings, ds),
        ("memory_gate", "embeddings_gate", "ranker_gate", "build_retrieval", "train_policy"),
    )
    result.bundle_version = published.version
    result.champion = bool(published.promoted)
    return result
