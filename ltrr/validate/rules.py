"""Row rules of the input validation: which rows of a raw frame are quarantined, and why.

Every function here takes and returns DataFrames (Spark SQL expressions only, no Python
UDFs). The verdict of a row is the struct column ``_q`` = ``(reason, column, raw_value)``,
null for an accepted row. Rules are applied in :data:`ltrr.validate.reasons.PRECEDENCE`
order and the first failing rule wins, so each input row gets at most one reason.

Stages (each only looks at rows that passed the previous ones):

1. row-local rules (:func:`apply_row_rules`): cast failures, required fields null,
   values outside their domain, timestamp outside the day, propensity out of range;
2. references to other tables (:func:`check_search_entities`, :func:`check_engagement_refs`);
3. duplicates (:func:`mark_duplicates`): the first valid row of a key (earliest ``ts``,
   then source file name, then row index in the file) is kept, later ones are quarantined.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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
    """One row rule: rows where ``condition`` is true get ``reason``.

    Attributes:
        reason: the stable reason code (see ``ltrr.validate.reasons``).
        column: the column (dotted path) the rule blames, or None for the whole row.
        condition: a boolean Column; null counts as false.
        raw_value: the offending value (cast to text), or None.
    """

    reason: str
    column: str | None
    condition: Column
    raw_value: Column | None = None


def _verdict(reason: Column | str, column: Column | str | None, raw_value: Column | None) -> Column:
    reason_col = reason if isinstance(reason, Column) else F.lit(reason)
    column_col = column if isinstance(column, Column) else F.lit(column).cast("string")
    raw_col = raw_value.cast("string") if raw_value is not None else F.lit(None).cast("string")
    return F.struct(reason_col.alias("reason"), column_col.alias("column"), raw_col.alias("raw_value"))


def first_failing(checks: list[Check]) -> Column:
    """The verdict of the first check whose condition holds (null when none does)."""
    expr: Column | None = None
    for check in checks:
        value = _verdict(check.reason, check.column, check.raw_value)
        expr = F.when(check.condition, value) if expr is None else expr.when(check.condition, value)
    return expr if expr is not None else F.lit(None)


# --- required fields ---------------------------------------------------------------------

NullTest = Callable[[Column], Column]


def _field_is_null(name: str) -> NullTest:
    return lambda v: v[name].isNull()


def _in_field(name: str, test: NullTest) -> NullTest:
    return lambda v: test(v[name])


def _in_some_element(test: NullTest) -> NullTest:
    # Spark binds a lambda by its arity: pass exactly one argument.
    return lambda v: F.exists(v, lambda x: test(x))


def _null_tests(dtype: T.DataType, path: str) -> list[tuple[str, NullTest]]:
    """For a value of ``dtype`` at ``path``: (path, test) for every nested non-nullable part."""
    tests: list[tuple[str, NullTest]] = []
    if isinstance(dtype, T.StructType):
        for fld in dtype.fields:
            sub = f"{path}.{fld.name}"
            if not fld.nullable:
                tests.append((sub, _field_is_null(fld.name)))
            tests.extend(
                (inner_path, _in_field(fld.name, inner)) for inner_path, inner in _null_tests(fld.dataType, sub)
            )
    elif isinstance(dtype, T.ArrayType):
        if not dtype.containsNull:
            tests.append((path, lambda v: F.exists(v, lambda x: x.isNull())))
        tests.extend(
            (inner_path, _in_some_element(inner)) for inner_path, inner in _null_tests(dtype.elementType, path)
        )
    elif isinstance(dtype, T.MapType) and not dtype.valueContainsNull:
        tests.append((path, lambda v: F.exists(F.map_values(v), lambda x: x.isNull())))
    return tests


def null_checks(schema: T.StructType) -> list[Check]:
    """``null_id`` checks for every non-nullable field of the contract, nested ones included.

    Top-level fields come first, in schema order; nested paths read like
    ``candidates.entity_id`` (a null field in some element of the ``candidates`` array).
    """
    checks: list[Check] = []
    nested: list[Check] = []
    for fld in schema.fields:
        if not fld.nullable:
            checks.append(Check(R.NULL_ID, fld.name, F.col(fld.name).isNull()))
        for path, test in _null_tests(fld.dataType, fld.name):
            nested.append(Check(R.NULL_ID, path, test(F.col(fld.name))))
    return checks + nested


# --- domain rules ------------------------------------------------------------------------


def _not_in(column: str, values: tuple[str, ...]) -> Check:
    return Check(R.malformed(column), column, ~F.col(column).isin(*values), F.col(column))


def _element_check(array: str, field: str, bad: Callable[[Column], Column], reason_column: str | None = None) -> Check:
    """A domain check on one field of the elements of an array of structs."""
    path = reason_column or f"{array}.{field}"
    offending = F.filter(F.col(array), lambda x: bad(x[field]))
    return Check(R.malformed(path), path, F.size(offending) > 0, F.element_at(offending, 1)[field])


def _is_nan_or_inf(column: Column) -> Column:
    return F.isnan(column) | (F.abs(column) == float("inf"))


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
            Check(
                R.malformed("popularity"),
                "popularity",
                _is_nan_or_inf(F.col("popularity")) | (F.col("popularity") < 0),
                F.col("popularity"),
            ),
            Check(R.malformed("duration_ms"), "duration_ms", F.col("duration_ms") < 0, F.col("duration_ms")),
            Check(R.malformed("added_ds"), "added_ds", F.col("added_ds") > F.lit(day), F.col("added_ds")),
        ]
    if table == "searches":
        return [
            _not_in("device", schemas.DEVICES),
            Check(R.malformed("plan"), "plan", F.size("plan") == 0, F.lit("[]")),
            _element_check("plan", "strategy", lambda v: ~v.isin(*schemas.STRATEGIES)),
            _element_check("plan", "budget", lambda v: v <= 0),
            _element_check("candidates", "strategy", lambda v: ~v.isin(*schemas.STRATEGIES)),
            _element_check("candidates", "rank", lambda v: v < 1),
            _element_check("candidates", "score", _is_nan_or_inf),
            _element_check("shown", "position", lambda v: v < 1),
            _element_check("shown", "score", _is_nan_or_inf),
        ]
    if table == "engagements":
        return [
            _not_in("action", schemas.ACTIONS),
            Check(R.malformed("position"), "position", F.col("position") < 1, F.col("position")),
            Check(R.malformed("amount_ms"), "amount_ms", F.col("amount_ms") < 0, F.col("amount_ms")),
        ]
    raise ValueError(f"no validation rules for table {table!r}")


def day_bounds(ds: str) -> tuple[dt.datetime, dt.datetime]:
    """``[D 00:00, D+1 00:00)`` in UTC, the window every ``ts`` of day D must fall in."""
    day = parse_ds(ds)
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def row_checks(table: str, ds: str) -> list[Check]:
    """All row-local checks of a table after the cast check, in precedence order."""
    checks = null_checks(schemas.LOG_TABLES[table]) + domain_checks(table, ds)
    if "ts" in schemas.LOG_TABLES[table].fieldNames():
        start, end = day_bounds(ds)
        ts = F.col("ts")
        outside = (ts < F.lit(start)) | (ts >= F.lit(end))
        shown = F.date_format(ts, "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX")
        checks.append(Check(R.TIMESTAMP_OUTSIDE_DAY, "ts", outside, shown))
    if table == "searches":
        p = F.col("propensity")
        bad = F.isnan(p) | (p <= 0) | (p > 1)
        checks.append(Check(R.PROPENSITY_OUT_OF_RANGE, "propensity", bad, p))
    return checks


def apply_row_rules(df: DataFrame, table: str, ds: str) -> DataFrame:
    """Add the verdict of the row-local rules (cast failures first) as column ``_q``.

    Args:
        df: a conformed raw frame (``ltrr.validate.read.read_raw``).
        table: its table name.
        ds: the day.

    Returns:
        ``df`` with ``_q`` (null for rows that pass every row-local rule).
    """
    cast_col = F.col("_cast_col")
    cast_verdict = _verdict(F.concat(F.lit(R.MALFORMED_VALUE + ":"), cast_col), cast_col, F.col("_cast_raw"))
    verdict = first_failing(row_checks(table, ds))
    return df.withColumn(VERDICT, F.when(cast_col.isNotNull(), cast_verdict).otherwise(verdict))


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

    def ref(column: str) -> Callable[[Column], Column]:
        return lambda x: F.struct(F.lit(column).alias("column"), x["entity_id"].alias("entity_id"))

    refs = searches.filter(F.col(VERDICT).isNull()).select(
        "_src",
        "_row",
        F.explode(
            F.concat(
                F.transform("candidates", ref("candidates.entity_id")), F.transform("shown", ref("shown.entity_id"))
            )
        ).alias("ref"),
    )
    flagged = (
        refs.join(catalog_ids, F.col("ref.entity_id") == catalog_ids["entity_id"], "left_anti")
        .groupBy("_src", "_row")
        .agg(F.min("ref").alias("_ref"))
    )
    out = searches.join(flagged, ["_src", "_row"], "left")
    ref_verdict = _verdict(R.UNKNOWN_ENTITY, F.col("_ref.column"), F.col("_ref.entity_id"))
    return out.withColumn(VERDICT, F.coalesce(F.col(VERDICT), F.when(F.col("_ref").isNotNull(), ref_verdict))).drop(
        "_ref"
    )


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
    refs = first_failing(
        [
            Check(R.UNKNOWN_SEARCH, "search_id", F.col("_search_clean").isNull(), F.col("search_id")),
            Check(R.SEARCH_QUARANTINED, "search_id", ~F.col("_search_clean"), F.col("search_id")),
            Check(R.UNKNOWN_ENTITY, "entity_id", F.col("_entity_known").isNull(), F.col("entity_id")),
        ]
    )
    return out.withColumn(VERDICT, F.coalesce(F.col(VERDICT), refs)).drop("_search_clean", "_entity_known")


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
    dup = _verdict(R.DUPLICATE_ID, key, F.col(key))
    return df.withColumn(VERDICT, F.when(accepted & (rank > 1), dup).otherwise(F.col(VERDICT)))
