"""How well a memory table serves the searches of the following day.

A table built for day D is used by serving on day D+1, so it is judged on D+1's searches:
- coverage: share of searches whose normalized query has an entry in the table;
- recall (simulated world only, from the ``truth`` table): share of searches whose intended
  entity is in the table's top-N for their query, by query class (head/torso/tail) and by
  intent type;
- recall bound (simulated world only): the same shares for the best table any memory of N
  entities per query could be, chosen in hindsight from D+1's own intents (the N most
  intended entities of each query; in-sample, so optimistic). Memory can only serve needs
  shared by the people typing a query; where a query's intents are personal (``chill`` means
  jazz to one customer and techno to another), the bound drops below 1 and the other
  retrieval strategies must serve the rest.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from ltrr.memory.keys import query_keys


def _rate(df: DataFrame, flag: str, by: str | None = None) -> dict:
    if by is None:
        row = df.agg(F.count(F.lit(1)).alias("n"), F.sum(F.col(flag).cast("int")).alias("hits")).collect()[0]
        n = int(row["n"])
        return {"n": n, "rate": (int(row["hits"] or 0) / n) if n else None}
    rows = df.groupBy(by).agg(F.count(F.lit(1)).alias("n"), F.sum(F.col(flag).cast("int")).alias("hits")).collect()
    return {
        str(r[by]): {"n": int(r["n"]), "rate": int(r["hits"] or 0) / int(r["n"])}
        for r in sorted(rows, key=lambda r: str(r[by]))
    }


def _hindsight_best(joined: DataFrame, top_n: int) -> DataFrame:
    """(query_key, intended_entity_id) pairs of the best top-N table for these very searches."""
    counts = (
        joined.where(F.col("query_key").isNotNull() & (F.col("query_key") != ""))
        .groupBy("query_key", "intended_entity_id")
        .agg(F.count(F.lit(1)).alias("n"))
    )
    order = Window.partitionBy("query_key").orderBy(F.desc("n"), F.col("intended_entity_id"))
    return (
        counts.withColumn("rank", F.row_number().over(order))
        .where(F.col("rank") <= top_n)
        .select("query_key", "intended_entity_id", F.lit(True).alias("in_bound"))
    )


def evaluate_next_day(
    table: DataFrame, searches: DataFrame, truth: DataFrame | None = None, top_n: int | None = None
) -> dict:
    """Coverage and (with truth) recall of a memory table on a later day's searches.

    Args:
        table: the memory table (``query_key, entity_id``).
        searches: the later day's clean searches (``search_id, query``).
        truth: the simulator's truth of that day (``search_id, intended_entity_id,
            query_class, intent_type``), or None outside simulation.

    Returns:
        ``{"coverage": {n, rate}, "recall": {...}}``; recall is absent without truth.
    """
    keys = query_keys(searches)
    with_keys = searches.select("search_id", "query").join(keys, "query", "left")
    covered_keys = table.select("query_key").distinct().withColumn("covered", F.lit(True))
    flagged = with_keys.join(covered_keys, "query_key", "left").fillna(False, subset=["covered"])
    result: dict = {"coverage": _rate(flagged, "covered")}
    if truth is not None:
        pairs = table.select("query_key", F.col("entity_id").alias("intended_entity_id"), F.lit(True).alias("hit"))
        joined = (
            flagged.join(truth.select("search_id", "intended_entity_id", "query_class", "intent_type"), "search_id")
            .join(pairs, ["query_key", "intended_entity_id"], "left")
            .fillna(False, subset=["hit"])
            .cache()
        )
        result["recall"] = {
            "overall": _rate(joined, "hit"),
            "by_query_class": _rate(joined, "hit", "query_class"),
            "by_intent_type": _rate(joined, "hit", "intent_type"),
        }
        if top_n is not None:
            bound = joined.join(_hindsight_best(joined, top_n), ["query_key", "intended_entity_id"], "left").fillna(
                False, subset=["in_bound"]
            )
            result["recall_bound"] = {
                "top_n": top_n,
                "overall": _rate(bound, "in_bound"),
                "by_query_class": _rate(bound, "in_bound", "query_class"),
                "by_intent_type": _rate(bound, "in_bound", "intent_type"),
            }
        joined.unpersist()
    return result
