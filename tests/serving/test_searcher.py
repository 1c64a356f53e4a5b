"""Searcher(bundle) on the shared small world: strategies, plan propensities, log records,
ranker parity with the training rows, thread safety, and a day served from a bundle."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq
import pytest

from ltrr.rank.features import FEATURE_NAMES
from ltrr.retrieval.plans import DAY0_MENU, TOTAL_BUDGET
from ltrr.serving.engine import CandidateList
from ltrr.serving.record import records_table, search_record
from ltrr.serving.searcher import Searcher, SearcherParams, searcher_factory
from ltrr.zones import artifact_dir, partition_path

from .conftest import DAY2, DAY3, ServedWorld

STRATEGIES = ("lexical", "memory", "personalized", "related", "popular", "semantic")


def _requests(world: ServedWorld, day=DAY2, n: int | None = None) -> pd.DataFrame:
    """Clean searches of a day joined with the simulator's truth (intent and intended entity)."""
    root = world.settings.data_root
    searches = pq.read_table(partition_path(root, "clean", "searches", day.isoformat())).to_pandas()
    truth = pq.read_table(root / "sim" / "truth" / f"ds={day.isoformat()}").to_pandas()
    out = searches.merge(truth, on="search_id")
    return out.head(n) if n else out


def _context(row) -> dict[str, str]:
    return {**dict(row.context), "locale": row.locale, "device": row.device}


@pytest.fixture(scope="module")
def searcher1(served_world: ServedWorld) -> Searcher:
    return Searcher(served_world.bundle1)


@pytest.fixture(scope="module")
def searcher2(served_world: ServedWorld) -> Searcher:
    return Searcher(served_world.bundle2)


def _hit_rate(searcher: Searcher, rows: pd.DataFrame, strategy: str, budget: int = 50) -> float:
    hits = [
        r.intended_entity_id in searcher.retrieve(strategy, r.query, r.user_id, budget)[0] for r in rows.itertuples()
    ]
    return float(np.mean(hits))


def test_each_strategy_finds_the_intended_entity_for_its_kind_of_query(served_world, searcher1) -> None:
    rows = _requests(served_world)
    # Bundle 1 knows the catalog of day 1: entities added on day 2 wait for the next bundle.
    rows = rows[rows.intended_entity_id.isin(set(searcher1.popular.entity_ids))]
    chance = 50 / len(searcher1.popular.entity_ids)  # a random list of 50 entities
    direct = rows[rows.intent_type == "direct"]
    typo = direct[direct.has_typo]
    head = direct[direct.query_class == "head"]
    topic = rows[rows.intent_type == "topic"]
    broad = rows[rows.intent_type == "broad"]
    assert len(typo) >= 50 and len(head) >= 50 and len(topic) >= 50 and len(broad) >= 50
    # Hit rates @50 measured on this world (seed 5) in parentheses; thresholds leave a margin.
    assert _hit_rate(searcher1, typo, "lexical") >= 0.9  # a typo'd title (0.97)
    assert _hit_rate(searcher1, head, "memory") >= 0.45  # a head query remembered (0.66)
    assert _hit_rate(searcher1, topic, "semantic") >= 0.15 > 10 * chance  # "history podcast" (0.33)
    assert _hit_rate(searcher1, broad, "popular") >= 0.25  # "rock songs" (0.41)
    assert _hit_rate(searcher1, head, "personalized") >= 0.25 > 10 * chance  # the user's taste (0.68)
    assert _hit_rate(searcher1, topic, "related") > 2 * chance  # neighbours of the top hits (0.06; chance 0.011)


def test_strategies_degrade_gracefully_and_honour_budgets(searcher1) -> None:
    for strategy in STRATEGIES:
        for query, user in [("", "u-unknown"), ("🎧🎧", ""), ("zzqx unheard words", "u-unknown"), ("rock", "u000001")]:
            ids, scores = searcher1.retrieve(strategy, query, user, 7)
            assert len(ids) == len(scores) <= 7
            assert len(set(ids)) == len(ids), (strategy, query)
        assert searcher1.retrieve(strategy, "rock", "u000001", 0) == ([], [])
    # An unknown user still gets personalized candidates (the popularity list), never an error.
    assert len(searcher1.retrieve("personalized", "", "u-unknown", 5)[0]) == 5
    outcome = searcher1.search("", "u-unknown", {}, 10, np.random.default_rng(0))
    assert len(outcome.shown) == 10


def test_a_search_record_fits_the_log_schema_with_the_exact_propensity(served_world, searcher2) -> None:
    # Bundle 2 carries a learned policy: the base of the exploration mixture is that policy.
    assert served_world.bundle2.has("policy")
    assert searcher2.versions["policy_version"] == served_world.bundle2.plan_policy().version != "day0"
    rows = _requests(served_world, n=300)
    rng = np.random.default_rng(3)
    records, plans = [], set()
    eta, menu = searcher2.params.exploration, searcher2.policy.menu
    for r in rows.itertuples():
        context = _context(r)
        outcome = searcher2.search(r.query, r.user_id, context, 10, rng)
        probs = searcher2.policy.probabilities(r.query, context, r.user_id)
        index = [p.plan_id for p in menu].index(outcome.plan_id)
        base = searcher2.policy.base.plan_probabilities(r.query, context, r.user_id)
        expected = (1 - eta) * (base[index] if index < len(base) else 0.0) + eta / len(menu)
        assert outcome.propensity == pytest.approx(probs[index], abs=1e-12)
        assert outcome.propensity == pytest.approx(expected, abs=1e-12)
        plans.add(outcome.plan_id)
        # Budgets honoured, provenance kept, shown among the candidates.
        cands = outcome.candidates
        for step in outcome.plan:
            assert sum(1 for c in cands if c.strategy == step.strategy) <= step.budget
        assert len(cands) <= TOTAL_BUDGET
        assert {s.entity_id for s in outcome.shown} <= {c.entity_id for c in cands}
        records.append(
            search_record(
                outcome,
                search_id=r.search_id,
                ts=r.ts.to_pydatetime(),
                user_id=r.user_id,
                session_id=r.session_id,
                query=r.query,
                locale=r.locale,
                device=r.device,
                context=context,
            )
        )
    table = records_table(records)  # raises when a row does not fit the schema
    assert table.num_rows == len(rows)
    assert set(table.column("bundle_version").to_pylist()) == {served_world.bundle2.version}
    assert all("locale" not in dict(c) for c in table.column("context").to_pylist())
    # Exploration reaches plans beyond the day-0 menu (memory, personalized, semantic, ...).
    assert plans - {p.plan_id for p in DAY0_MENU}


def test_ranker_features_at_serving_equal_the_training_rows(served_world) -> None:
    """Bundle 1 serves day 2 with day 2's catalog; day 2's training rows were built from the same inputs."""
    root = served_world.settings.data_root
    catalog = pq.read_table(partition_path(root, "clean", "catalog", DAY2.isoformat()))
    searcher = Searcher(served_world.bundle1, catalog=catalog)
    assert searcher.serving_day == DAY2
    rows = pq.read_table(artifact_dir(root, DAY2.isoformat(), "training_set") / "rows").to_pandas()
    searches = _requests(served_world).set_index("search_id")
    compared = 0
    for search_id, group in list(rows.groupby("search_id"))[:150]:
        s = searches.loc[search_id]
        cands = list(s.candidates)
        candidates = CandidateList(
            [c["entity_id"] for c in cands],
            [c["strategy"] for c in cands],
            [c["rank"] for c in cands],
            [c["score"] for c in cands],
        )
        context = {**dict(s.context), "locale": s.locale, "device": s.device}
        ids, matrix = searcher.features(s.query, s.user_id, context, candidates)
        served = pd.DataFrame(matrix, columns=list(FEATURE_NAMES), index=ids)
        for row in group.itertuples(index=False):
            want = np.array([getattr(row, f) for f in FEATURE_NAMES], dtype=np.float64)
            got = served.loc[row.entity_id].to_numpy()
            message = f"{search_id} {row.entity_id}"
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-9, equal_nan=True, err_msg=message)
            compared += 1
    assert compared > 1000


def test_the_bundle_ranker_orders_the_union_by_its_own_scores(served_world, searcher2) -> None:
    from ltrr.rank.export import load_ranker

    assert searcher2.ranker is not None and searcher2.versions["ranker_version"] == served_world.bundle2.version
    loaded = load_ranker(served_world.bundle2.artifact("ranker"))  # the trainer's export, loaded independently
    r = next(_requests(served_world, n=20).itertuples())
    context = _context(r)
    plan = searcher2.policy.menu[0]
    candidates = searcher2.candidates(plan, r.query, r.user_id)
    ranked = searcher2.rank(r.query, r.user_id, context, candidates)
    ids, matrix = searcher2.features(r.query, r.user_id, context, candidates)
    expected = dict(zip(ids, loaded.score(matrix), strict=True))
    assert [e for e, _ in ranked] == sorted(ids, key=lambda e: (-expected[e], ids.index(e)))
    assert all(abs(s - expected[e]) <= 1e-12 for e, s in ranked)


def test_concurrent_searches_give_the_same_results_as_sequential_ones(served_world) -> None:
    searcher = Searcher(served_world.bundle2, SearcherParams(cache_size=64))  # a small cache: evictions race
    rows = list(_requests(served_world, n=120).itertuples())

    def serve(i: int):
        r = rows[i]
        o = searcher.search(r.query, r.user_id, _context(r), 10, np.random.default_rng(i))
        return o.plan_id, o.propensity, list(o.candidates), list(o.shown)

    sequential = [serve(i) for i in range(len(rows))]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(serve, range(len(rows))))
    assert concurrent == sequential


def test_a_day_served_from_the_bundle_passes_input_validation(spark, served_world) -> None:
    from ltrr.sim import simulate
    from ltrr.validate.day import validate_day

    settings = served_world.settings
    params = SearcherParams.from_settings(settings)
    simulate(
        out=settings.data_root,
        start=DAY3,
        days=1,
        scale="small",
        seed=5,
        engine_factory=searcher_factory(served_world.bundle2, params),
    )
    report = validate_day(spark, settings, DAY3.isoformat(), run_gx=False)
    assert report.status == "accepted", report
    searches = pq.read_table(partition_path(settings.data_root, "clean", "searches", DAY3.isoformat())).to_pandas()
    raw = pq.read_table(partition_path(settings.data_root, "raw", "searches", DAY3.isoformat()))
    assert len(searches) == raw.num_rows  # nothing quarantined
    assert set(searches.bundle_version) == {served_world.bundle2.version}
    assert set(searches.ranker_version) == {served_world.bundle2.version}
    assert searches.plan_id.nunique() > 4  # exploration over the bundle's whole menu
    world = json.loads((settings.data_root / "sim" / "world.json").read_text())
    assert world["days"][DAY3.isoformat()]["versions"][0]["bundle_version"] == served_world.bundle2.version


def test_serving_leaves_the_verified_bundle_unchanged(served_world, searcher2) -> None:
    from ltrr.bundle.verify import verify_bundle

    searcher2.search("love", "u000001", {}, 10, np.random.default_rng(0))  # every index opened and used
    verify_bundle(served_world.bundle2.root)  # raises on any added, changed or missing file


def test_the_policy_can_be_switched_off_or_replaced(served_world) -> None:
    from ltrr.retrieval.plans import PLAN_MENU, EpsilonGreedyPolicy

    off = Searcher(served_world.bundle2, SearcherParams(use_policy=False))
    assert off.versions["policy_version"] == "day0" and off.policy.base.menu == DAY0_MENU
    plan = next(p for p in PLAN_MENU if p.plan_id == "sem50_lex50")
    fixed = EpsilonGreedyPolicy((plan,), lambda q, c: plan.plan_id, 0.0, version="static-sem50_lex50")
    static = Searcher(served_world.bundle2, SearcherParams(exploration=0.0), chooser=fixed)
    outcome = static.search("history podcast", "u000001", {}, 10, np.random.default_rng(0))
    assert outcome.plan_id == "sem50_lex50" and outcome.propensity == 1.0
    assert outcome.versions["policy_version"] == "static-sem50_lex50"
    assert {c.strategy for c in outcome.candidates} == {"semantic", "lexical"}


def test_entities_added_after_the_bundle_are_found_with_a_fresh_catalog(served_world, searcher1) -> None:
    """Bundle 1 (day 1) serving day 2 with day 2's catalog finds day 2's new entities."""
    root = served_world.settings.data_root
    catalog = pq.read_table(partition_path(root, "clean", "catalog", DAY2.isoformat()))
    fresh = Searcher(served_world.bundle1, catalog=catalog)
    new = catalog.filter(pa.compute.equal(catalog.column("added_ds"), pa.scalar(DAY2, pa.date32())))
    assert new.num_rows > 0 and not set(new.column("entity_id").to_pylist()) & set(searcher1.lexical.entity_ids)
    rows = new.select(["entity_id", "title"]).to_pylist()
    by_title = [r["entity_id"] in fresh.retrieve("lexical", r["title"], "", 10)[0] for r in rows]
    stale = [r["entity_id"] in searcher1.retrieve("lexical", r["title"], "", 10)[0] for r in rows]
    assert np.mean(by_title) >= 0.7 and not any(stale)
    # Folded into the bundle's semantic model: a vector from the known vocabulary, old vectors kept.
    row = {e: i for i, e in enumerate(fresh.semantic.entity_ids)}
    assert np.mean([np.any(fresh.semantic.vectors[row[r["entity_id"]]] != 0) for r in rows]) > 0.9
    old = searcher1.semantic.entity_ids[0]
    np.testing.assert_array_equal(fresh.semantic.vectors[row[old]], searcher1.semantic.vectors[0])
