"""The closed-loop experiment: LTR&R served day after day, against static plans, uniform and an oracle.

``ltrr experiment --days N --scale S --seed K --out DIR`` (docs/results.md):

1. **Day 0** is simulated with the exploring day-0 logging policy (lexical + popular), and the
   nightly pipeline runs on it (``ltrr.orchestration.inprocess``: the DAG's steps and gates)
   and publishes bundle 0.
2. **Each following day D** is served by ``Searcher`` with the champion bundle the pipeline
   published the night before; the world records what customers did. Then every evaluated plan
   is replayed on the same requests with the same bundle (``ltrr.experiment.plan_outcomes``),
   which gives the baselines on the same query stream: each static plan, the uniform-random plan
   policy and the oracle (``ltrr.experiment.arms``), beside the plan LTR&R actually served.
   The served policy's value is estimated off-policy on the logs of D − 1
   (``ltrr.experiment.served_value``) and, once D's nightly has run, shown beside its realised
   value. Then the nightly pipeline runs on D and publishes the bundle that serves D + 1.
3. The results (``results.json``) and a self-contained HTML report (``report.html``) are
   rewritten after every day; the report as of day D also goes into the bundle of D
   (``report.html``, from ``artifacts/report/ds=D/report.html``).

Output folder: ``data/`` (the world and every zone), ``state/`` (MLflow), ``bundles/``,
``results.json``, ``report.html``. A run is resumable: started again with the same arguments
on the same folder, it continues after the last finished day.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ltrr.config import Settings
from ltrr.experiment import arms as A

RESULTS_FILE = "results.json"
REPORT_FILE = "report.html"
GOAL_POINTS = 10.0
GOAL_GAP_SHARE = 0.5


@dataclass(frozen=True)
class ExperimentParams:
    """What an experiment runs.

    Attributes:
        days: days in all, day 0 included (>= 2: day 0 plus at least one served day).
        scale: world scale (``small``, ``medium``, ``large``).
        seed: world seed.
        start: day 0.
        max_ranked: searches per day whose plans are ranked for NDCG and engagement (None: all).
        run_gx: run the input-validation GX suites every night (the artifact suites always run).
        day0_exploration: epsilon of the day-0 logging policy.
        randomized_share: share of day-0 searches shown in random order.
    """

    days: int
    scale: str
    seed: int
    start: dt.date
    max_ranked: int | None = 3000
    run_gx: bool = True
    day0_exploration: float = 0.2
    randomized_share: float = 0.05

    def to_dict(self) -> dict:
        """JSON-ready form (``results.json``)."""
        out = asdict(self)
        out["start"] = self.start.isoformat()
        return out


def experiment_settings(base: Settings, out: Path) -> Settings:
    """The run settings of an experiment: ``base`` with its data, state and bundles under ``out``."""
    out = out.resolve()
    return base.model_copy(
        update={"data_root": out / "data", "state_dir": out / "state", "bundle_store": str(out / "bundles")}
    )


def command_line(params: ExperimentParams, out: Path) -> str:
    """The ``ltrr experiment`` command that runs these parameters."""
    parts = [
        "ltrr experiment",
        f"--days {params.days}",
        f"--scale {params.scale}",
        f"--seed {params.seed}",
        f"--start {params.start.isoformat()}",
        f"--out {out}",
    ]
    if params.max_ranked != 3000:
        parts.append(f"--max-ranked {params.max_ranked if params.max_ranked is not None else 0}")
    if not params.run_gx:
        parts.append("--no-input-gx")
    return " ".join(parts)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=False, default=float) + "\n")
    os.replace(tmp, path)


class Experiment:
    """One experiment's state: its settings, parameters, results so far (see the module docstring).

    Args:
        spark: the Spark session every nightly step shares.
        base_settings: settings to start from (pipeline parameters); data, state and bundles are
            moved under ``out``.
        params: the experiment's parameters.
        out: the output folder.
        log: receives progress lines.
    """

    def __init__(
        self,
        spark: Any,
        base_settings: Settings,
        params: ExperimentParams,
        out: Path,
        log: Callable[[str], None] = print,
    ) -> None:
        if params.days < 2:
            raise ValueError(f"an experiment needs day 0 and at least one served day: days >= 2, got {params.days}")
        self.spark = spark
        self.out = out.resolve()
        self.settings = experiment_settings(base_settings, self.out)
        self.params = params
        self.log = log
        self.results = self._load_or_start()

    # --- state ---------------------------------------------------------------------------------
    def _load_or_start(self) -> dict:
        path = self.out / RESULTS_FILE
        fresh = {
            "experiment": {
                **self.params.to_dict(),
                "command": command_line(self.params, self.out),
                "finished": False,
            },
            "arms": [],
            "days": [],
            "summary": None,
        }
        if not path.is_file():
            return fresh
        existing = json.loads(path.read_text())
        same = {k: v for k, v in existing.get("experiment", {}).items() if k not in ("command", "finished", "days")}
        mine = {k: v for k, v in fresh["experiment"].items() if k not in ("command", "finished", "days")}
        if same != mine:
            raise ValueError(
                f"{path} belongs to an experiment with other parameters ({same}); use another --out folder"
            )
        existing["experiment"].update({"days": self.params.days, "command": fresh["experiment"]["command"]})
        return existing

    def _save(self) -> None:
        from ltrr.experiment.report import render_report

        self.out.mkdir(parents=True, exist_ok=True)
        _write_json(self.out / RESULTS_FILE, self.results)
        render_report(self.results, self.out / REPORT_FILE)

    def day_list(self) -> list[str]:
        """Every day of the experiment, ``YYYY-MM-DD``."""
        return [(self.params.start + dt.timedelta(days=i)).isoformat() for i in range(self.params.days)]

    # --- the loop ------------------------------------------------------------------------------
    def run(self) -> dict:
        """Run (or resume) the experiment; returns the results."""
        done = {d["ds"] for d in self.results["days"] if d.get("complete")}
        self.results["days"] = [d for d in self.results["days"] if d.get("complete")]
        for index, ds in enumerate(self.day_list()):
            if ds in done:
                continue
            clock = time.perf_counter()
            entry = self._serve_day(index, ds)
            self.results["days"].append(entry)
            self._nightly(entry)
            entry["complete"] = True
            entry["seconds"] = round(time.perf_counter() - clock, 1)
            self.results["summary"] = summarize(self.results)
            self._save()
            self.log(f"{ds}: done in {entry['seconds']:.0f} s ({entry['served_by']})")
        self.results["experiment"]["finished"] = True
        self._save()
        return self.results

    def _serve_day(self, index: int, ds: str) -> dict:
        from ltrr.sim import simulate

        root = self.settings.data_root
        day = dt.date.fromisoformat(ds)
        entry: dict[str, Any] = {
            "ds": ds,
            "index": index,
            "served_by": "day-0 engine",
            "policy_outcome": None,
            "arms": {},
            "strategy_hit_rate": None,
            "ope": None,
            "ranker": None,
            "memory": None,
            "data_docs": [],
        }
        bundle = self._champion(ds) if index > 0 else None
        common = {"out": root, "start": day, "days": 1, "scale": self.params.scale, "seed": self.params.seed}
        if bundle is None:
            if index > 0:
                entry["served_by"] = "day-0 engine (no champion bundle yet)"
            self.log(f"{ds}: serving with the day-0 engine")
            simulate(**common, exploration=self.params.day0_exploration, randomized_share=self.params.randomized_share)
            return entry
        from ltrr.serving.searcher import SearcherParams, searcher_factory

        policy = bundle.read_json("policy/report.json").get("outcome") if bundle.has("policy") else None
        entry["served_by"] = f"bundle {bundle.version} (policy: {policy or 'none, day-0 rule'})"
        entry["policy_outcome"] = policy
        self.log(f"{ds}: serving with Searcher({entry['served_by']})")
        searcher_params = SearcherParams.from_settings(self.settings)
        simulate(**common, engine_factory=searcher_factory(bundle, searcher_params))
        self._evaluate(entry, bundle, searcher_params, day)
        return entry

    def _champion(self, ds: str) -> Any:
        """The champion published before ``ds`` (a resumed day must not be served by its own bundle)."""
        from ltrr.bundle.store import BundleStore
        from ltrr.serving import load_bundle

        store = BundleStore(self.settings.bundle_store)
        earlier = [v for v in store.read_state().champions if v[: len(ds)] < ds]
        return load_bundle(store.url_of(earlier[-1])) if earlier else None

    def _evaluate(self, entry: dict, bundle: Any, searcher_params: Any, day: dt.date) -> None:
        import numpy as np

        from ltrr.experiment.plan_outcomes import evaluated_plans, plan_outcomes
        from ltrr.experiment.served_value import served_policy_estimates
        from ltrr.retrieval.plans import menu_for
        from ltrr.serving.plan_choice import LearnedPlanChooser
        from ltrr.serving.searcher import Searcher, day0_rule_chooser
        from ltrr.sim.replay import WorldDay

        root = self.settings.data_root
        clock = time.perf_counter()
        world = WorldDay(root, day)
        searcher = Searcher(bundle, searcher_params, serving_day=day, catalog=world.catalog)
        runnable = menu_for(searcher.strategies)
        plans = evaluated_plans(runnable, sorted(searcher.strategies))
        previous = (day - dt.timedelta(days=1)).isoformat()
        ungated = self._ungated_chooser(searcher, previous)
        # The day-0 rule without exploration: the logging policy a learned policy must beat.
        choosers: dict[str, Any] = {A.DAY0_RULE: day0_rule_chooser()}
        served = searcher.policy.base  # the bundle's chooser under serving exploration
        if isinstance(served, LearnedPlanChooser):
            choosers[A.LTRR_GREEDY] = served
        if ungated is not None:
            choosers[A.LEARNED_UNGATED] = ungated
        outcomes = plan_outcomes(
            searcher,
            world,
            plans,
            menu_size=len(runnable),
            max_ranked=self.params.max_ranked,
            seed=self.params.seed,
            choosers=choosers,
            cost_per_candidate=self.settings.bandit_cost_per_candidate,
        )
        choices = A.arm_choices(
            outcomes,
            logged_plan_ids(root, entry["ds"], outcomes.search_ids),
            seed=self.params.seed,
            day_ordinal=day.toordinal(),
        )
        entry["arms"] = A.day_arms(outcomes, choices)
        # How often each replayed chooser picks the plan that actually served the search.
        entry["agreement_with_served"] = {
            name: float(np.mean(choices[name] == choices[A.LTRR])) for name in outcomes.chosen
        }
        # Paired true-value differences against the logging rule: issue 6's "beats the logging policy".
        entry["value_vs_day0_rule"] = {
            name: A.value_difference(outcomes, choice, choices[A.DAY0_RULE])
            for name, choice in choices.items()
            if name in (A.LTRR, A.LEARNED_UNGATED)
        }
        entry["policy_sweep"] = self._policy_sweep(
            outcomes, choosers, choices[A.DAY0_RULE], searcher.policy, served=choices[A.LTRR]
        )
        entry["strategy_hit_rate"] = A.strategy_hit_rates(outcomes)
        entry["plans"] = list(outcomes.plan_ids)
        entry["menu_size"] = outcomes.menu_size
        entry["evaluation_seconds"] = round(time.perf_counter() - clock, 1)
        for arm in choices:
            if arm not in self.results["arms"]:
                self.results["arms"].append(arm)
        estimate = served_policy_estimates(root, searcher.policy, previous)
        if estimate is not None:
            entry["ope"] = {"realised": None, **estimate}
        self.log(
            f"{entry['ds']}: evaluated {len(plans)} plans on {len(outcomes)} searches "
            f"({int(outcomes.ranked.sum())} ranked) in {entry['evaluation_seconds']:.0f} s"
        )

    @staticmethod
    def _policy_sweep(
        outcomes: Any, choosers: dict[str, Any], reference: Any, serving: Any, *, served: Any = None
    ) -> dict:
        """Each learned policy's exact expected value as it would serve, at the sweep's temperatures and its own.

        Row ``T=t``: the policy at temperature t with its own floor ε, under the serving
        exploration η over its menu and every runnable plan (``MenuExploration``), so the served
        policy's row at its own temperature is the distribution its ``ltrr`` plans were drawn
        from. Row ``greedy``: its most probable plan, no exploration at all (its arm's value).
        Every row has ``vs_day0_rule`` and, given ``served`` (the ``ltrr`` arm's plans: what the
        day's logging policy drew), ``vs_served``: the paired difference against the policy
        that logged the day, which is the comparison issue 6 asks for.
        """
        versus = {} if served is None else {"served": served}
        runnable = list(range(outcomes.menu_size))  # the first menu_size plans are the serving menu
        sweep: dict[str, dict] = {}
        for name, scores in outcomes.chosen_scores.items():
            policy = choosers[name].policy
            menu = outcomes.plan_index(policy.plan_ids)
            explored = sorted(set(menu.tolist()) | set(runnable))
            rows = {
                f"T={t:g}": A.softmax_policy_value(
                    outcomes,
                    scores,
                    reference,
                    temperature=t,
                    epsilon=policy.epsilon,
                    eta=serving.eta,
                    eta_columns=explored,
                    versus=versus,
                )
                for t in sorted({*A.SWEEP_TEMPERATURES, policy.temperature})
            }
            rows["greedy"] = A.softmax_policy_value(
                outcomes, scores, reference, temperature=0.0, epsilon=0.0, versus=versus
            )
            sweep[name] = {
                "policy_temperature": policy.temperature,
                "policy_epsilon": policy.epsilon,
                "serving_exploration": serving.eta,
                **rows,
            }
        return sweep

    def _ungated_chooser(self, searcher: Any, logs_ds: str) -> Any:
        """The policy learned on the bandit rows up to ``logs_ds``, gate or no gate (None without rows)."""
        from ltrr.bandit.context import BANDIT_CONTEXT_SPEC
        from ltrr.bandit.plan_features import BANDIT_COLUMNS
        from ltrr.bandit.policy import learn_policy
        from ltrr.bandit.policy_day import logged_menu, params_from_settings, read_window
        from ltrr.serving.plan_choice import LearnedPlanChooser

        try:
            train, _ = read_window(self.settings.data_root, logs_ds, self.settings.bandit_train_days)
        except FileNotFoundError:
            return None
        train = train[[*BANDIT_COLUMNS, "plan", *BANDIT_CONTEXT_SPEC.names]]
        policy, _ = learn_policy(train, BANDIT_CONTEXT_SPEC, logged_menu(train), params_from_settings(self.settings))
        return LearnedPlanChooser(policy, searcher.policy_lookups())

    def _nightly(self, entry: dict) -> None:
        from ltrr.orchestration.inprocess import NightlyFailed, run_nightly_inprocess

        ds = entry["ds"]

        def before_publish() -> None:
            self._fill_from_artifacts(entry)
            self.results["summary"] = summarize(self.results)
            self._write_day_report(ds)

        try:
            result = run_nightly_inprocess(
                self.spark, self.settings, ds, run_gx=self.params.run_gx, log=self.log, before_publish=before_publish
            )
            entry["nightly"] = result.to_dict()
        except NightlyFailed as exc:
            # As in the DAG: no bundle for this day, the champion keeps serving tomorrow.
            entry["nightly"] = {**(exc.result.to_dict() if exc.result else {"ds": ds}), "failed": exc.task}
            entry["nightly"]["reason"] = exc.reason
            self.log(f"{ds}: nightly stopped at {exc.task}, nothing published: {exc.reason}")

    def _fill_from_artifacts(self, entry: dict) -> None:
        from ltrr.experiment.served_value import realised_value

        root = self.settings.data_root
        ds = entry["ds"]
        if entry.get("ope") is not None:
            entry["ope"]["realised"] = realised_value(root, ds)
        entry["ranker"] = ranker_figures(root, ds)
        entry["memory"] = memory_figures(root, ds)
        entry["data_docs"] = data_docs(root, ds, self.out)

    def _write_day_report(self, ds: str) -> None:
        """The report so far, as the day's ``report`` artifact (it goes into the day's bundle)."""
        from ltrr.experiment.report import render_report
        from ltrr.zones import artifact_dir

        folder = artifact_dir(self.settings.data_root, ds, "report")
        folder.mkdir(parents=True, exist_ok=True)
        # Links relative to the report's own folder: they resolve in the data root, and the
        # bundle's bytes do not depend on where the experiment's folder is.
        render_report(_relinked(self.results, self.out, folder), folder / REPORT_FILE)


def _relinked(results: dict, out: Path, folder: Path) -> dict:
    """A copy of the results whose Data Docs links (relative to ``out``) are relative to ``folder``."""
    copy = json.loads(json.dumps(results, default=float))
    for day in copy["days"]:
        for doc in day.get("data_docs") or []:
            doc["href"] = Path(os.path.relpath(out / doc["href"], folder)).as_posix()
    return copy


def ranker_figures(root: Path, ds: str) -> dict | None:
    """NDCG@10 against true relevance of the model trained for the day (debiased ``model``, ``naive``, baselines).

    The figures are the day's own model's, whether it was published or refused (then read from
    its refusal record, or from the ``refused`` part of a kept artifact, whose other figures are
    the champion's from its own day).
    """
    from ltrr.zones import artifact_dir, validation_dir

    path = artifact_dir(root, ds, "ranker") / "report.json"
    rejected = validation_dir(root, ds) / "ranker_rejected.json"
    if path.is_file():
        report = json.loads(path.read_text())
        if report.get("outcome") == "kept":
            report = {**(report.get("refused") or {}), "kept_from": report.get("kept_from"), "passed": False}
    elif rejected.is_file():
        report = {**json.loads(rejected.read_text()), "passed": False}
    else:
        return None
    truth = (report.get("ndcg@10") or {}).get("truth")
    if not truth:
        return None
    figures = {"truth_ndcg10": truth, "gate_passed": bool(report.get("passed"))}
    if report.get("kept_from"):
        figures["kept_from"] = report["kept_from"]
    return figures


def memory_figures(root: Path, ds: str) -> dict | None:
    """Coverage and intended-entity recall of the previous day's memory table on this day's searches."""
    from ltrr.zones import artifact_dir

    path = artifact_dir(root, ds, "q2e") / "report.json"
    if not path.is_file():
        return None
    prev = json.loads(path.read_text()).get("previous_table_on_this_day")
    if not prev:
        return None
    recall = prev.get("recall") or {}
    return {
        "coverage": (prev.get("coverage") or {}).get("rate"),
        "recall_overall": (recall.get("overall") or {}).get("rate"),
        "recall_by_query_class": {k: v.get("rate") for k, v in (recall.get("by_query_class") or {}).items()},
    }


def data_docs(root: Path, ds: str, out: Path) -> list[dict]:
    """Links (relative to ``out``) to the day's Great Expectations Data Docs pages."""
    from ltrr.zones import validation_dir

    docs = []
    for page in sorted((validation_dir(root, ds) / "gx").glob("*.html")):
        docs.append({"label": f"{page.stem} (input validation)", "href": os.path.relpath(page, out)})
    for page in sorted((root / "artifacts").glob(f"*/ds={ds}/*.html")):
        kind = page.parent.parent.name
        if kind == "report":
            continue
        docs.append({"label": f"{kind} ({page.stem})", "href": os.path.relpath(page, out)})
    return docs


def logged_plan_ids(root: Path, ds: str, search_ids: Sequence[str]) -> list[str]:
    """The plan each of ``search_ids`` was served with on ``ds``, from the day's raw search logs.

    Args:
        root: the experiment's data root.
        ds: the served day.
        search_ids: replayed searches (``PlanOutcomes.search_ids``).

    Returns:
        Their logged plan ids, in the same order.

    Raises:
        RuntimeError: when a replayed search is not in the day's logs.
    """
    import pyarrow.parquet as pq

    from ltrr.zones import partition_path

    logged = pq.read_table(partition_path(root, "raw", "searches", ds), columns=["search_id", "plan_id"])
    plan_of = dict(zip(logged.column("search_id").to_pylist(), logged.column("plan_id").to_pylist(), strict=True))
    missing = [s for s in search_ids if s not in plan_of]
    if missing:
        raise RuntimeError(f"{len(missing)} replayed searches of {ds} are not in its logs (e.g. {missing[0]})")
    return [plan_of[s] for s in search_ids]


def summarize(results: dict) -> dict | None:
    """The headline figures of the last day that has LTR&R and its baselines (or None)."""
    served = [d for d in results["days"] if A.LTRR in (d.get("arms") or {})]
    if not served:
        return None
    day = served[-1]
    arms = day["arms"]
    best = A.best_static(arms)
    ltrr, oracle, uniform = (arms[a]["overall"] for a in (A.LTRR, A.ORACLE, A.UNIFORM))
    best_m = arms[best]["overall"] if best else None
    lift = (ltrr["hit_rate"] - best_m["hit_rate"]) * 100 if best_m else None
    gap = oracle["hit_rate"] - best_m["hit_rate"] if best_m else None
    gap_closed = (ltrr["hit_rate"] - best_m["hit_rate"]) / gap if gap and gap > 0 else None
    ungated = arms.get(A.LEARNED_UNGATED, {}).get("overall") or {}
    versus = day.get("value_vs_day0_rule") or {}
    day0 = arms.get(A.DAY0_RULE, {}).get("overall") or {}
    learned = (day.get("policy_sweep") or {}).get(A.LEARNED_UNGATED) or {}
    as_served = learned.get(f"T={learned['policy_temperature']:g}") if learned else None
    return {
        "ds": day["ds"],
        "day0_rule_hit_rate": day0.get("hit_rate"),
        "day0_rule_mean_candidates": day0.get("mean_candidates"),
        "day0_rule_value": day0.get("value"),
        "ltrr_value": ltrr.get("value"),
        "learned_ungated_value": ungated.get("value"),
        "ltrr_value_vs_day0_rule": versus.get(A.LTRR),
        "learned_ungated_value_vs_day0_rule": versus.get(A.LEARNED_UNGATED),
        # The policy learned that night, as it would serve (its T, ε and the serving η), against
        # the policy that logged the day (issue 6's check), paired on the same searches.
        "learned_policy_vs_served": (as_served or {}).get("vs_served"),
        "learned_ungated_hit_rate": ungated.get("hit_rate"),
        "learned_ungated_mean_candidates": ungated.get("mean_candidates"),
        "ltrr_hit_rate": ltrr["hit_rate"],
        "ltrr_mean_candidates": ltrr["mean_candidates"],
        "best_static_arm": best,
        "best_static_hit_rate": best_m["hit_rate"] if best_m else None,
        "best_static_mean_candidates": best_m["mean_candidates"] if best_m else None,
        "uniform_hit_rate": uniform["hit_rate"],
        "oracle_hit_rate": oracle["hit_rate"],
        "oracle_mean_candidates": oracle["mean_candidates"],
        "lift_points": lift,
        "gap_closed": gap_closed,
        "goal": f"+{GOAL_POINTS:.0f} points over the best static plan and {GOAL_GAP_SHARE:.0%} of the gap to "
        "the oracle closed",
        "goal_met": bool(
            lift is not None and gap_closed is not None and lift >= GOAL_POINTS and gap_closed >= GOAL_GAP_SHARE
        ),
    }
