"""The ``ltrr`` command line: simulate a world, run the nightly DAG, inspect a day, manage bundles.

Every command builds one ``Settings`` from ``LTRR_*`` variables (flags override them) and
passes it down. Heavy libraries are imported inside the commands, so ``ltrr --help`` is fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from ltrr.config import ConfigError, Settings, load_settings


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a day as YYYY-MM-DD, got {value!r}") from None


def _share(value: str) -> float:
    share = float(value)
    if not 0 <= share <= 1:
        raise argparse.ArgumentTypeError(f"expected a share in [0, 1], got {value}")
    return share


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``ltrr`` command."""
    parser = argparse.ArgumentParser(
        prog="ltrr",
        description="Learning-to-rank-and-retrieve: simulate search logs, run the nightly pipeline, inspect results.",
        epilog="Settings come from LTRR_* environment variables (see docs/configuration.md); flags override them.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sim = sub.add_parser("simulate", help="generate simulated search logs (catalog, searches, engagements, truth)")
    sim.add_argument("--start", type=_date, help="first day, YYYY-MM-DD (default LTRR_SIM_START)")
    sim.add_argument("--days", type=int, help="number of days (default LTRR_SIM_DAYS)")
    sim.add_argument("--scale", choices=["small", "medium", "large"], help="world size (default LTRR_SIM_SCALE)")
    sim.add_argument("--seed", type=int, help="random seed (default LTRR_SEED)")
    sim.add_argument("--out", type=Path, help="data root to write raw/ and sim/ under (default LTRR_DATA_ROOT)")
    sim.add_argument("--exploration", type=_share, help="share of uniformly drawn retrieval plans")
    sim.add_argument("--randomized-share", type=_share, help="share of searches shown in random order")
    sim.add_argument(
        "--bundle",
        metavar="BUNDLE",
        help="serve the days with Searcher(bundle) instead of the day-0 engine: champion, candidate "
        "(aliases of LTRR_BUNDLE_STORE) or a bundle path/URL",
    )

    run = sub.add_parser(
        "run",
        help="run the nightly DAG (real Airflow, dag.test) for a day; simulates the world first if data/ is empty",
    )
    run.add_argument("--ds", type=_date, help="day to run (default: the last simulated day)")
    run.add_argument("--quiet", action="store_true", help="send Airflow's output to a log file")

    summary = sub.add_parser("summary", help="print what the pipeline produced for a day")
    summary.add_argument("--ds", type=_date, help="day (default: the last validated day)")

    sub.add_parser("config", help="print the effective settings")

    airflow = sub.add_parser(
        "airflow",
        help="start the real Airflow services (api-server, scheduler, dag-processor) on 127.0.0.1 with the DAG "
        "loaded, print the URL and login, stop them on Ctrl-C",
    )
    airflow.add_argument("--port", type=int, default=8080, help="port of the UI and REST API (default 8080)")

    exp = sub.add_parser(
        "experiment",
        help="closed-loop experiment: LTR&R served day after day against static plans, uniform and an oracle "
        "(docs/results.md)",
    )
    exp.add_argument("--days", type=int, default=7, help="days in all, day 0 included (default 7)")
    exp.add_argument("--scale", choices=["small", "medium", "large"], help="world size (default LTRR_SIM_SCALE)")
    exp.add_argument("--seed", type=int, help="world seed (default LTRR_SEED)")
    exp.add_argument("--start", type=_date, help="day 0, YYYY-MM-DD (default LTRR_SIM_START)")
    exp.add_argument("--out", type=Path, help="output folder (default experiments/<scale>-seed<K>-<N>d); resumable")
    exp.add_argument(
        "--max-ranked",
        type=int,
        default=3000,
        help="searches per day ranked under every plan for NDCG and engagement (0: all; default 3000)",
    )
    exp.add_argument(
        "--no-input-gx", action="store_true", help="skip the input-validation GX suites (quarantine rules still run)"
    )

    faults = sub.add_parser("inject-faults", help="add known bad rows to a day's raw logs (to see quarantine work)")
    faults.add_argument("--ds", type=_date, required=True, help="day to corrupt")
    faults.add_argument("--share", type=_share, default=0.01, help="share of rows to corrupt per table")
    faults.add_argument("--seed", type=int, default=0, help="random seed of the corruption")

    bundle = sub.add_parser(
        "bundle", help="published bundles: list, show, verify, promote, rollback, diff (see docs/bundle.md)"
    )
    bundle_sub = bundle.add_subparsers(dest="bundle_command", required=True, metavar="ACTION")
    b_list = bundle_sub.add_parser("list", help="bundles in the store, newest first, with gates and aliases")
    b_list.add_argument("--json", action="store_true", help="print JSON instead of a table")
    b_show = bundle_sub.add_parser("show", help="a bundle's manifest: lineage, gates, metrics")
    b_show.add_argument("version", metavar="VERSION", help="a version, champion or candidate")
    b_show.add_argument("--json", action="store_true", help="print manifest.json")
    b_verify = bundle_sub.add_parser("verify", help="check the manifest and every file's checksum")
    b_verify.add_argument("version", metavar="VERSION", help="a version, champion, candidate, or a bundle path/URL")
    b_promote = bundle_sub.add_parser("promote", help="make a bundle the champion (MLflow alias and store)")
    b_promote.add_argument("version", metavar="VERSION", help="a version or candidate")
    b_promote.add_argument("--force", action="store_true", help="promote even though a gate failed")
    bundle_sub.add_parser("rollback", help="move champion back to the previous champion")
    b_diff = bundle_sub.add_parser("diff", help="metric, parameter and file changes from bundle A to bundle B")
    b_diff.add_argument("a", metavar="A", help="a version, champion or candidate")
    b_diff.add_argument("b", metavar="B", help="a version, champion or candidate")
    b_publish = bundle_sub.add_parser("publish", help="publish the bundle of a day (what the nightly DAG does)")
    b_publish.add_argument("--ds", type=_date, required=True, help="day to publish")
    return parser


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:
    """Generate the simulated world (``ltrr simulate``)."""
    from ltrr.sim import simulate

    out = (args.out or settings.data_root).resolve()
    factory = None
    if args.bundle:
        from ltrr.serving import load_bundle
        from ltrr.serving.searcher import SearcherParams, searcher_factory

        if args.bundle in ("champion", "candidate"):
            bundle = load_bundle(settings.bundle_store, alias=args.bundle)
        else:
            bundle = load_bundle(args.bundle)
        params = SearcherParams.from_settings(settings)
        if args.exploration is not None or args.randomized_share is not None:
            params = SearcherParams(
                exploration=params.exploration if args.exploration is None else args.exploration,
                randomized_share=params.randomized_share if args.randomized_share is None else args.randomized_share,
            )
        factory = searcher_factory(bundle, params)
        print(f"serving with Searcher(bundle {bundle.version} of {bundle.ds})")
    summary = simulate(
        out=out,
        start=args.start or settings.sim_start,
        days=args.days or settings.sim_days,
        scale=args.scale or settings.sim_scale,
        seed=settings.seed if args.seed is None else args.seed,
        exploration=settings.sim_exploration if args.exploration is None else args.exploration,
        randomized_share=settings.sim_randomized_share if args.randomized_share is None else args.randomized_share,
        engine_factory=factory,
    )
    for day in summary["days"]:
        print(
            f"{day['ds']}: {day['searches']:,} searches, {day['engagements']:,} engagements, "
            f"{day['catalog']:,} catalog entities"
        )
    print(f"wrote {out}")
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Simulate if needed, then run the nightly DAG for one day and print a summary."""
    from ltrr.orchestration.local_run import run_dag_locally
    from ltrr.report.summary import day_summary, format_day_summary
    from ltrr.zones import raw_days

    days = raw_days(settings.data_root)
    if not days:
        print(
            f"no raw logs under {settings.data_root}: simulating {settings.sim_days} {settings.sim_scale} day(s) "
            f"from {settings.sim_start} (seed {settings.seed})"
        )
        from ltrr.sim import simulate

        simulate(
            out=settings.data_root,
            start=settings.sim_start,
            days=settings.sim_days,
            scale=settings.sim_scale,
            seed=settings.seed,
            exploration=settings.sim_exploration,
            randomized_share=settings.sim_randomized_share,
        )
        days = raw_days(settings.data_root)
    # Without --ds: catch up on every simulated day the pipeline has not finished (the memory
    # window needs the earlier days' clean logs), then run the last day (again: idempotent).
    catch_up = [d for d in days[:-1] if not _day_done(settings, d)] + [days[-1]]
    todo = [args.ds.isoformat()] if args.ds else catch_up
    results = []
    for ds in todo:
        print(f"running DAG ltrr_nightly for {ds} (Airflow home {settings.airflow_home})", flush=True)
        result = run_dag_locally(settings, ds, quiet=args.quiet)
        results.append(result)
        print(f"DAG ltrr_nightly {ds}: {result.state}", flush=True)
        if not result.ok:
            break
    print()
    for result in results:
        print(f"DAG ltrr_nightly {result.ds}: {result.state}")
        for task_id, state in result.task_states.items():
            print(f"  {task_id:<20} {state}")
    print(format_day_summary(day_summary(settings, results[-1].ds)))
    return 0 if all(r.ok for r in results) else 1


def _day_done(settings: Settings, ds: str) -> bool:
    from ltrr.zones import artifact_dir

    return (artifact_dir(settings.data_root, ds) / "report.json").is_file()


def cmd_summary(settings: Settings, args: argparse.Namespace) -> int:
    """Print a day's outputs (``ltrr summary``)."""
    from ltrr.report.summary import day_summary, format_day_summary, validated_days

    if args.ds:
        ds = args.ds.isoformat()
    else:
        days = validated_days(settings)
        if not days:
            print(f"no validated day under {settings.data_root}; run `ltrr run` first", file=sys.stderr)
            return 1
        ds = days[-1]
    print(format_day_summary(day_summary(settings, ds)))
    return 0


def cmd_experiment(settings: Settings, args: argparse.Namespace) -> int:
    """Run (or resume) the closed-loop experiment (``ltrr experiment``).

    Like a job entry point, this wrapper owns the Spark session every nightly step shares.
    """
    import os

    from ltrr.experiment.run import Experiment, ExperimentParams
    from ltrr.spark_conf import session_conf

    scale = args.scale or settings.sim_scale
    seed = settings.seed if args.seed is None else args.seed
    params = ExperimentParams(
        days=args.days,
        scale=scale,
        seed=seed,
        start=args.start or settings.sim_start,
        max_ranked=args.max_ranked or None,
        run_gx=not args.no_input_gx,
        day0_exploration=settings.sim_exploration,
        randomized_share=settings.sim_randomized_share,
    )
    out = args.out or Path("experiments") / f"{scale}-seed{seed}-{args.days}d"
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(settings.spark_master).appName("ltrr-experiment")
    for key, value in session_conf(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        results = Experiment(spark, settings, params, out, log=lambda line: print(line, flush=True)).run()
    except ValueError as exc:
        print(f"ltrr experiment: {exc}", file=sys.stderr)
        return 2
    finally:
        spark.stop()
    print(format_experiment_summary(results))
    print(f"report: {(out / 'report.html').resolve()}")
    return 0


def format_experiment_summary(results: dict) -> str:
    """A few lines on the experiment's last served day."""
    s = results.get("summary")
    if not s:
        return "no served day yet"
    gap = "n/a" if s["gap_closed"] is None else f"{s['gap_closed']:.0%}"
    return "\n".join(
        [
            f"last served day {s['ds']}: candidate hit rate of the intended entity",
            f"  LTR&R       {s['ltrr_hit_rate']:.1%} ({s['ltrr_mean_candidates']:.1f} candidates)",
            f"  best static {s['best_static_hit_rate']:.1%} ({s['best_static_arm']}, "
            f"{s['best_static_mean_candidates']:.1f} candidates)",
            f"  uniform     {s['uniform_hit_rate']:.1%}",
            f"  oracle      {s['oracle_hit_rate']:.1%} ({s['oracle_mean_candidates']:.1f} candidates)",
            *(
                [
                    f"  learned policy without its gate {s['learned_ungated_hit_rate']:.1%} "
                    f"({s['learned_ungated_mean_candidates']:.1f} candidates)"
                ]
                if s.get("learned_ungated_hit_rate") is not None
                else []
            ),
            *(
                [
                    f"  value (bandit reward per search): LTR&R {s['ltrr_value']:.4f}, "
                    f"day-0 rule {s['day0_rule_value']:.4f}" + _versus_line(s.get("ltrr_value_vs_day0_rule"))
                ]
                if s.get("ltrr_value") is not None and s.get("day0_rule_value") is not None
                else []
            ),
            *(
                [
                    "  policy learned that night, as it would serve, against the policy that logged the day"
                    + _versus_line(s["learned_policy_vs_served"]).replace(";", ":", 1)
                ]
                if _versus_line(s.get("learned_policy_vs_served"))
                else []
            ),
            f"  lift {s['lift_points']:+.1f} points, gap to the oracle closed {gap}; goal "
            f"({s['goal']}) {'met' if s['goal_met'] else 'not met'}",
        ]
    )


def _versus_line(versus: dict | None) -> str:
    """``; difference +0.0123 [+0.0050, +0.0196]`` from a paired value difference, or ''."""
    if not versus or versus.get("difference") is None or versus["ci"][0] is None:
        return ""
    low, high = versus["ci"]
    return f"; difference {versus['difference']:+.4f} [{low:+.4f}, {high:+.4f}]"


def cmd_config(settings: Settings, args: argparse.Namespace) -> int:
    """Print the effective settings as ``LTRR_*`` variables."""
    for key, value in sorted(settings.to_env().items()):
        print(f"{key}={value}")
    return 0


def cmd_airflow(settings: Settings, args: argparse.Namespace) -> int:
    """Run the Airflow services until Ctrl-C (``ltrr airflow``, ``make airflow``).

    Exit codes: 0 stopped by Ctrl-C; 1 a service failed to start or exited.
    """
    import signal
    import time

    from ltrr.orchestration.local_run import DAG_ID
    from ltrr.orchestration.services import AirflowServices, ServicesError
    from ltrr.zones import raw_days

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # `kill <pid>` must stop the services too, not only Ctrl-C.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    services = AirflowServices(settings, port=args.port)
    print(f"starting Airflow (home {settings.airflow_home}) on {services.url} ...", flush=True)
    try:
        services.start()
        token = services.token()
        dag = services.wait_for_dag(DAG_ID, token)
        days = raw_days(settings.data_root)
        # The simulated days, or the days `ltrr run` would simulate.
        first, last = (
            (days[0], days[-1])
            if days
            else (
                settings.sim_start.isoformat(),
                (settings.sim_start + dt.timedelta(days=settings.sim_days - 1)).isoformat(),
            )
        )
        body = json.dumps(
            {
                "dag_id": DAG_ID,
                "from_date": f"{first}T00:00:00Z",
                "to_date": f"{last}T00:00:00Z",
                "max_active_runs": 1,
                "reprocess_behavior": "none",
            }
        )
        login = json.dumps({"username": services.username, "password": services.password})
        auth = '-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json"'
        paused = "paused" if dag.get("is_paused") else "unpaused"
        print(
            f"""
Airflow is up in {services.startup_seconds:.0f} s: api-server, scheduler, dag-processor (LocalExecutor)
  UI and REST API  {services.url}
  username         {services.username}
  password         {services.password}   (from {services.passwords_file})
  logs             {services.log_dir}
DAG {DAG_ID} is loaded ({paused}). Raw logs under {settings.data_root}: {", ".join(days) if days else "none yet"}

Backfill {first}..{last} (both days included):
  UI:   Dags -> {DAG_ID} -> Trigger -> Backfill; pick the dates, tick "Unpause {DAG_ID} on trigger",
        Run Backfill (runs of a paused DAG never start).
  REST: TOKEN=$(curl -s -X POST {services.url}/auth/token -H "Content-Type: application/json" \\
          -d '{login}' | {sys.executable} -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
        curl -s -X PATCH {services.url}/api/v2/dags/{DAG_ID} {auth} -d '{{"is_paused": false}}'
        curl -s -X POST {services.url}/api/v2/backfills {auth} \\
          -d '{body}'
        (POST {services.url}/api/v2/backfills/dry_run with the same body lists the days without running them)

Ctrl-C stops every Airflow process.""",
            flush=True,
        )
        while not services.exited():
            time.sleep(1.0)
        print(f"ltrr airflow: a service exited: {services.exited()}\n{services.logs_tail()}", file=sys.stderr)
        return 1
    except ServicesError as exc:
        print(f"ltrr airflow: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping Airflow ...", flush=True)
        return 0
    finally:
        # A second Ctrl-C must not cut the shutdown short and leave processes behind.
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        was_running = bool(services.pids)
        services.stop()
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous)
        if was_running:
            print("Airflow stopped.", flush=True)


def cmd_inject_faults(settings: Settings, args: argparse.Namespace) -> int:
    """Corrupt a day's raw logs with a known number of bad rows of each kind."""
    from ltrr.faults import inject_bad_rows

    counts = inject_bad_rows(settings.data_root, args.ds.isoformat(), args.share, args.seed)
    for (table, reason), n in sorted(counts.items()):
        print(f"{table:<12} {reason:<32} {n}")
    print(json.dumps({"injected": sum(counts.values())}))
    return 0


def cmd_bundle(settings: Settings, args: argparse.Namespace) -> int:
    """Bundle commands (``ltrr bundle list|show|verify|promote|rollback|diff|publish``).

    Exit codes: 0 done; 1 refused (verification failed, gate failed, unknown version, nothing to publish).
    """
    from ltrr.bundle.cli import run_bundle_command
    from ltrr.bundle.errors import BundleError

    try:
        return run_bundle_command(settings, args)
    except BundleError as exc:
        print(f"ltrr bundle {args.bundle_command}: {exc}", file=sys.stderr)
        return 1


COMMANDS = {
    "simulate": cmd_simulate,
    "run": cmd_run,
    "summary": cmd_summary,
    "config": cmd_config,
    "airflow": cmd_airflow,
    "experiment": cmd_experiment,
    "inject-faults": cmd_inject_faults,
    "bundle": cmd_bundle,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ltrr`` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"ltrr: {exc}", file=sys.stderr)
        return 2
    return COMMANDS[args.command](settings, args)


if __name__ == "__main__":
    sys.exit(main())
