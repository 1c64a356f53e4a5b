"""Row rules of the input validation: which rows of a raw frame are quarantined, and why.

The verdict of a row is the struct column ``_q`` = ``(reason, column, raw_value)``, null
for an accepted row. Rules are applied in :data:`ltrr.validate.reasons.PRECEDENCE` order
and the first failing rule wins, so each input row gets at most one reason.

Row-local rules are Spark SQL text (one ``CASE WHEN`` per table, built from the contract
schema), not Python UDFs and not hundreds of Column objects: building the expression is
one call to the JVM, and the rules read like the documentation.

Stages (each only looks at rows that passed the previous ones):

1. row-local rules (:func:`apply_row_rules`): cast failures, required fields null,
   values outside their domain, timestamp outside the day, propensity out of range;
2. references to other tables (:func:`check_search_entities`, :func:`check_engagement_refs`);
3. duplicates (:func:`mark_duplicates`): the first valid row of a key (earliest ``ts``,
   then source file name, then row index in the file) is kept, later ones are quarantined.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ltrr import schemas
from ltrr.validate import reasons as R
from ltrr.zones import parse_ds

VERDICT = "_q"
"""Name of the verdict struct column (``reason``, ``column``, ``raw_value``); null = accepted."""


@dataclass(frozen=True)
class Check:
    """One row rule: rows where ``condition`` holds get ``reason``.

    Attributes:
        reason: the stable reason code (see ``ltrr.validate.reasons``).
        column: the column (dotted path) the rule blames, or None for the whole row.
        condition: a Spark SQL boolean expression; null counts as false.
        raw_value: a Spark SQL expression of the offending value (shown as text), or None.
    """

    reason: str
    column: str | None
    condition: str
    raw_value: str | None = None


def sql_str(value: str) -> str:
    """A Spark SQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ident(name: str) -> str:
    """A quoted Spark SQL identifier."""
    return "`" + name.replace("`", "``") + "`"


def _verdict_sql(reason: str, column: str | None, raw_value: str | None) -> str:
    column_sql = sql_str(column) if column is not None else "CAST(NULL AS STRING)"
    raw_sql = f"CAST({raw_value} AS STRING)" if raw_value is not None else "CAST(NULL AS STRING)"
    return f"named_struct('reason', {reason}, 'column', {column_sql}, 'raw_value', {raw_sql})"


def case_sql(checks: list[Check], first: tuple[str, str] | None = None) -> str:
    """One ``CASE WHEN`` giving the verdict of the first check that holds (else null).

    Args:
        checks: the checks, in precedence order.
        first: an optional ``(condition, verdict)`` pair of SQL texts tried before them.
    """
    branches = [f"WHEN {first[0]} THEN {first[1]}"] if first else []
    branches += [f"WHEN {c.condition} THEN {_verdict_sql(sql_str(c.reason), c.column, c.raw_value)}" for c in checks]
    return "CASE " + " ".join(branches) + " END"


def _verdict(reason: str, column: Column, raw_value: Column) -> Column:
    return F.struct(F.lit(reason).alias("reason"), column.alias("column"), raw_value.cast("string").alias("raw_value"))


# --- required fields ---------------------------------------------------------------------


def _null_tests(dtype: T.DataType, expr: str, path: str, depth: int) -> list[tuple[str, str]]:
    """(path, SQL condition) for every non-nullable part nested in a value of ``dtype``."""
    tests: list[tuple[str, str]] = []
    var = f"x{depth}"
    if isinstance(dtype, T.StructType):
        for fld in dtype.fields:
            sub, sub_path = f"{expr}.{ident(fld.name)}", f"{path}.{fld.name}"
            if not fld.nullable:
                tests.append((sub_path, f"{sub} IS NULL"))
            tests.extend(_null_tests(fld.dataType, sub, sub_path, depth))
    elif isinstance(dtype, T.ArrayType):
        if not dtype.containsNull:
            tests.append((path, f"exists({expr}, {var} -> {var} IS NULL)"))
        for inner_path, inner in _null_tests(dtype.elementType, var, path, depth + 1):
            tests.append((inner_path, f"exists({expr}, {var} -> {inner})"))
    elif isinstance(dtype, T.MapType) and not dtype.valueContainsNull:
        tests.append((path, f"exists(map_values({expr}), {var} -> {var} IS NULL)"))
    return tests


def null_checks(schema: T.StructType) -> list[Check]:
    """``null_id`` checks for every non-nullable field of the contract, nested ones included.

    Top-level fields come first, in schema order; nested paths read like
    ``candidates.entity_id`` (a null field in some element of the ``candidates`` array).
    """
    top = [Check(R.NULL_ID, f.name, f"{ident(f.name)} IS NULL") for f in schema.fields if not f.nullable]
    nested = [
        Check(R.NULL_ID, path, condition)
        for f in schema.fields
        for path, condition in _null_tests(f.dataType, ident(f.name), f.name, 0)
    ]
    return top + nested


# --- domain rules ------------------------------------------------------------------------


def _not_in(column: str, values: tuple[str, ...]) -> Check:
    listed = ", ".join(sql_str(v) for v in values)
    return Check(R.malformed(column), column, f"NOT ({ident(column)} IN ({listed}))", ident(column))


def _bad_number(column: str, condition: str) -> Check:
    return Check(R.malformed(column), column, condition.format(v=ident(column)), ident(column))


def _element_check(array: str, field: str, bad: str) -> Check:
    """A domain check on one field of the elements of an array of structs.

    ``bad`` is a SQL condition on ``{v}``, the field's value; the raw value shown is the
    first offending one.
    """
    value = f"x.{ident(field)}"
    offending = f"filter({ident(array)}, x -> {bad.format(v=value)})"
    path = f"{array}.{field}"
    return Check(R.malformed(path), path, f"size({offending}) > 0", f"try_element_at({offending}, 1).{ident(field)}")


NOT_FINITE = "(isnan({v}) OR abs({v}) = CAST('Infinity' AS DOUBLE))"


def domain_checks(table: str, ds: str) -> list[Check]:
    """``malformed_value:<column>`` checks: values of the right type outside their domain.

    Args:
        table: one of ``ltrr.schemas.LOG_TABLES``.
        ds: the day (``catalog.added_ds`` must not be after it).

    Returns:
        The checks in the order they are applied.
    """
    day = parse_ds(ds)
    if table == "catalog":
        return [
            _not_in("entity_type", schemas.ENTITY_TYPES),
            _bad_number("popularity", NOT_FINITE + " OR {v} < 0"),
            _bad_number("duration_ms", "{v} < 0"),
            _bad_number("added_ds", f"{{v}} > DATE'{day.isoformat()}'"),
        ]
    if table == "searches":
        strategies = ", ".join(sql_str(s) for s in schemas.STRATEGIES)
        return [
            _not_in("device", schemas.DEVICES),
            Check(R.malformed("plan"), "plan", "size(`plan`) = 0", "'[]'"),
            _element_check("plan", "strategy", f"NOT ({{v}} IN ({strategies}))"),
            _element_check("plan", "budget", "{v} <= 0"),
            _element_check("candidates", "strategy", f"NOT ({{v}} IN ({strategies}))"),
            _element_check("candidates", "rank", "{v} < 1"),
            _element_check("candidates", "score", NOT_FINITE),
            _element_check("shown", "position", "{v} < 1"),
            _element_check("shown", "score", NOT_FINITE),
        ]
    if table == "engagements":
        return [
            _not_in("action", schemas.ACTIONS),
            _bad_number("position", "{v} < 1"),
            _bad_number("amount_ms", "{v} < 0"),
        ]
    raise ValueError(f"no validation rules for table {table!r}")


def day_bounds(ds: str) -> tuple[dt.datetime, dt.datetime]:
    """``[D 00:00, D+1 00:00)`` in UTC, the window every ``ts`` of day D must fall in."""
    day = parse_ds(ds)
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def _ts_literal(moment: dt.datetime) -> str:
    return f"TIMESTAMP'{moment.strftime('%Y-%m-%d %H:%M:%S')}Z'"


def row_checks(table: str, ds: str) -> list[Check]:
    """All row-local checks of a table after the cast check, in precedence order."""
    checks = null_checks(schemas.LOG_TABLES[table]) + domain_checks(table, ds)
    if "ts" in schemas.LOG_TABLES[table].fieldNames():
        start, end = day_bounds(ds)
        outside = f"`ts` < {_ts_literal(start)} OR `ts` >= {_ts_literal(end)}"
        shown = "date_format(`ts`, \"yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX\")"
        checks.append(Check(R.TIMESTAMP_OUTSIDE_DAY, "ts", outside, shown))
    if table == "searches":
        bad = "isnan(`propensity`) OR `propensity` <= 0 OR `propensity` > 1"
        checks.append(Check(R.PROPENSITY_OUT_OF_RANGE, "propensity", bad, "`propensity`"))
    return checks


CAST_FAILED = (
    "`_cast_col` IS NOT NULL",
    "named_struct('reason', concat('malformed_value:', `_cast_col`), 'column', `_cast_col`, 'raw_value', `_cast_raw`)",
)
"""The first row rule: a value that could not be cast to the contract type (from ``read``)."""


def apply_row_rules(df: DataFrame, table: str, ds: str) -> DataFrame:
    """Add the verdict of the row-local rules (cast failures first) as column ``_q``.

    Args:
        df: a conformed raw frame (``ltrr.validate.read.read_raw``).
        table: its table name.
        ds: the day.

    Returns:
        ``df`` with ``_q`` (null for rows that pass every row-local rule).
    """
    return df.withColumn(VERDICT, F.expr(case_sql(row_checks(table, ds), first=CAST_FAILED)))


# --- references ---------------------------------------------------------------------------


def check_search_entities(searches: DataFrame, catalog_ids: DataFrame) -> DataFrame:
    """Quarantine searches that reference an entity missing from the day's clean catalog.

    Only rows still accepted are looked at: their candidate and shown entity ids are
    exploded, anti-joined with the catalog, and the (few) rows with a miss are joined back.

    Args:
        searches: frame with ``_q`` from :func:`apply_row_rules` (best persisted: it is
            read twice).
        catalog_ids: one column ``entity_id``, distinct (the clean catalog of the day).

    Returns:
        ``searches`` with ``_q`` set to ``unknown_entity`` (column ``candidates.entity_id``
        or ``shown.entity_id``, raw value the smallest unknown id) where it applies.
    """
    refs = searches.filter(F.col(VERDICT).isNull()).select(
        "_src",
        "_row",
        F.expr(
            "explode(concat("
            "transform(candidates, c -> named_struct('column', 'candidates.entity_id', 'entity_id', c.entity_id)), "
            "transform(shown, s -> named_struct('column', 'shown.entity_id', 'entity_id', s.entity_id))))"
        ).alias("ref"),
    )
    flagged = (
        refs.join(catalog_ids, F.col("ref.entity_id") == catalog_ids["entity_id"], "left_anti")
        .groupBy("_src", "_row")
        .agg(F.min("ref").alias("_ref"))
    )
    out = searches.join(flagged, ["_src", "_row"], "left")
    ref_verdict = _verdict(R.UNKNOWN_ENTITY, F.col("_ref.column"), F.col("_ref.entity_id"))
    verdict = F.coalesce(F.col(VERDICT), F.when(F.col("_ref").isNotNull(), ref_verdict))
    return out.withColumn(VERDICT, verdict).drop("_ref")


def check_engagement_refs(engagements: DataFrame, search_status: DataFrame, catalog_ids: DataFrame) -> DataFrame:
    """Quarantine engagements whose search or entity is not available in clean data.

    Args:
        engagements: frame with ``_q`` from :func:`apply_row_rules`.
        search_status: columns ``search_id`` (distinct) and ``_search_clean`` (boolean):
            every search id of the day's raw searches, true when a row of it was accepted.
        catalog_ids: one column ``entity_id``, distinct (the clean catalog of the day).

    Returns:
        ``engagements`` with ``_q`` set, in this order, to ``unknown_search`` (search id
        not in the day's searches), ``search_quarantined`` (its search was quarantined) or
        ``unknown_entity`` (entity not in the clean catalog).
    """
    known = catalog_ids.select("entity_id", F.lit(True).alias("_entity_known"))
    out = engagements.join(search_status, "search_id", "left").join(known, "entity_id", "left")
    refs = case_sql(
        [
            Check(R.UNKNOWN_SEARCH, "search_id", "`_search_clean` IS NULL", "`search_id`"),
            Check(R.SEARCH_QUARANTINED, "search_id", "NOT `_search_clean`", "`search_id`"),
            Check(R.UNKNOWN_ENTITY, "entity_id", "`_entity_known` IS NULL", "`entity_id`"),
        ]
    )
    verdict = F.coalesce(F.col(VERDICT), F.expr(refs))
    return out.withColumn(VERDICT, verdict).drop("_search_clean", "_entity_known")


# --- duplicates ---------------------------------------------------------------------------


def mark_duplicates(df: DataFrame, table: str) -> DataFrame:
    """Quarantine all but the first still-accepted row of each primary key.

    "First" is deterministic: earliest ``ts`` (when the table has one), then source file
    name, then row index within the file. Rows already quarantined do not take part, so
    the kept row is the first *valid* one.

    Args:
        df: frame with ``_q``.
        table: its table name (gives the primary key).

    Returns:
        ``df`` with ``_q`` = ``duplicate_id`` (raw value: the key) for the later rows.
    """
    key = schemas.PRIMARY_KEYS[table]
    order = (["ts"] if "ts" in df.columns else []) + ["_src", "_row"]
    accepted = F.col(VERDICT).isNull()
    rank = F.row_number().over(Window.partitionBy(F.col(key), accepted).orderBy(*order))
    dup = _verdict(R.DUPLICATE_ID, F.lit(key), F.col(key))
    return df.withColumn(VERDICT, F.when(accepted & (rank > 1), dup).otherwise(F.col(VERDICT)))
