"""Row rules of the input validation: which rows of a raw frame are quarantined, and why.

The verdict of a row is the struct column ``_q`` = ``(reason, column, raw_value)``, null
for an accepted row. Rules are applied in :data:`ltrr.validate.reasons.PRECEDENCE` order
and the first failing rule wins, so each input row gets at most one reason.

Rules are Spark SQL text built from the contract schema (no Python UDFs, and one call to
the JVM per expression rather than hundreds of Column objects). Checks on the elements of
array columns (``candidates``, ``shown``, ``plan``, ``genres`` ...) do not use lambda
functions (``exists``, ``filter``), which Spark interprets element by element; the arrays
are exploded instead, the element predicates run as generated code, and the few failing
elements are aggregated back per row.

Stages (each only looks at rows that passed the previous ones):

1. row-local rules (:func:`row_verdicts`): cast failures, required fields null,
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
        condition: a Spark SQL boolean expression on the row; null counts as false.
        raw_value: a Spark SQL expression of the offending value (shown as text), or None.
        array: for a check on array elements, the top-level array column; else None.
        element: for a check on array elements, the SQL predicate on one element ``x0``
            (``condition`` is then ``exists(array, x0 -> element)``, kept for reading).
    """

    reason: str
    column: str | None
    condition: str
    raw_value: str | None = None
    array: str | None = None
    element: str | None = None


def element_check(reason: str, column: str, array: str, element: str, raw_value: str | None = None) -> Check:
    """A check on the elements of a top-level array column: the row fails when any does.

    Args:
        reason: the reason code.
        column: the blamed path, e.g. ``candidates.rank``.
        array: the top-level array column.
        element: SQL predicate on one element, named ``x0``, true when it is bad.
        raw_value: SQL (on ``x0``) of the value to show, or None.
    """
    return Check(reason, column, f"exists({ident(array)}, x0 -> {element})", raw_value, array, element)


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


def _first_sql(indexed: list[tuple[int, Check]], value: str) -> str:
    """A ``CASE`` giving, for the first check that holds, its index (``value="index"``) or
    its raw value as text (``value="raw"``); null when none holds.

    Element checks are written on the element ``x0`` (for exploded arrays).
    """
    branches = []
    for index, check in indexed:
        if value == "index":
            result = str(index)
        else:
            result = f"CAST({check.raw_value} AS STRING)" if check.raw_value else "CAST(NULL AS STRING)"
        branches.append(f"WHEN {check.element if check.array else check.condition} THEN {result}")
    if not branches:
        return "CAST(NULL AS INT)" if value == "index" else "CAST(NULL AS STRING)"
    return "CASE " + " ".join(branches) + " END"


def case_sql(checks: list[Check]) -> str:
    """One ``CASE WHEN`` over row-level checks giving the verdict of the first that holds."""
    branches = [f"WHEN {c.condition} THEN {_verdict_sql(sql_str(c.reason), c.column, c.raw_value)}" for c in checks]
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
    nested: list[Check] = []
    for f in schema.fields:
        if isinstance(f.dataType, T.ArrayType):  # checked per element, on the exploded array
            if not f.dataType.containsNull:
                nested.append(element_check(R.NULL_ID, f.name, f.name, "x0 IS NULL"))
            for path, predicate in _null_tests(f.dataType.elementType, "x0", f.name, 1):
                nested.append(element_check(R.NULL_ID, path, f.name, predicate))
        else:
            nested.extend(Check(R.NULL_ID, p, c) for p, c in _null_tests(f.dataType, ident(f.name), f.name, 0))
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
    first offending one (lowest position in the array).
    """
    value = f"x0.{ident(field)}"
    path = f"{array}.{field}"
    return element_check(R.malformed(path), path, array, bad.format(v=value), value)


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


def _element_failures(df: DataFrame, indexed: list[tuple[int, Check]]) -> DataFrame | None:
    """Rows with a failing array element: ``_src``, ``_row``, ``_e`` = (index, pos, raw).

    Each array column is exploded with positions; per element, the first failing check in
    precedence order is kept; per row, the smallest (check index, position).
    """
    by_array: dict[str, list[tuple[int, Check]]] = {}
    for index, check in indexed:
        by_array.setdefault(check.array or "", []).append((index, check))
    failures: DataFrame | None = None
    for array, array_checks in by_array.items():
        first = (
            f"named_struct('index', {_first_sql(array_checks, 'index')}, 'pos', pos, "
            f"'raw', {_first_sql(array_checks, 'raw')})"
        )
        part = (
            df.select("_src", "_row", F.posexplode(array).alias("pos", "x0"))
            .select("_src", "_row", F.expr(first).alias("_e"))
            .filter(F.col("_e.index").isNotNull())
        )
        failures = part if failures is None else failures.unionByName(part)
    if failures is None:
        return None
    return failures.groupBy("_src", "_row").agg(F.min("_e").alias("_e"))


def row_verdicts(df: DataFrame, table: str, ds: str, keep: list[str]) -> DataFrame:
    """The verdict of the row-local rules, cast failures first, for every raw row.

    Args:
        df: a conformed raw frame (``ltrr.validate.read.read_raw``).
        table: its table name.
        ds: the day.
        keep: columns of ``df`` to carry along (``_src`` and ``_row`` always are).

    Returns:
        ``_src``, ``_row``, the ``keep`` columns and ``_q`` (null for rows that pass every
        row-local rule).
    """
    checks = row_checks(table, ds)
    indexed = list(enumerate(checks))
    row_level = [(i, c) for i, c in indexed if c.array is None]
    element_level = [(i, c) for i, c in indexed if c.array is not None]
    carried = list(dict.fromkeys(["_src", "_row", *keep]))
    columns = [*carried, "_cast_col", "_cast_raw"]
    out = df.select(
        *columns,
        F.expr(_first_sql(row_level, "index")).alias("_i"),
        F.expr(_first_sql(row_level, "raw")).alias("_r"),
    )
    failures = _element_failures(df, element_level)
    if failures is not None:
        element_first = "`_e`.`index` < `_i` OR (`_i` IS NULL AND `_e` IS NOT NULL)"
        out = out.join(failures, ["_src", "_row"], "left").select(
            *columns,
            F.expr(f"CASE WHEN {element_first} THEN `_e`.`index` ELSE `_i` END").alias("_i"),
            F.expr(f"CASE WHEN {element_first} THEN `_e`.`raw` ELSE `_r` END").alias("_r"),
        )
    reasons = ", ".join(sql_str(c.reason) for c in checks)
    blamed = ", ".join(sql_str(c.column) if c.column else "CAST(NULL AS STRING)" for c in checks)
    verdict = (
        "CASE WHEN `_cast_col` IS NOT NULL THEN named_struct("
        f"'reason', concat('{R.MALFORMED_VALUE}:', `_cast_col`), 'column', `_cast_col`, 'raw_value', `_cast_raw`) "
        "WHEN `_i` IS NOT NULL THEN named_struct("
        f"'reason', element_at(array({reasons}), `_i` + 1), 'column', element_at(array({blamed}), `_i` + 1), "
        "'raw_value', `_r`) END"
    )
    return out.select(*carried, F.expr(verdict).alias(VERDICT))


# --- references ---------------------------------------------------------------------------


def check_search_entities(verdicts: DataFrame, searches: DataFrame, catalog_ids: DataFrame) -> DataFrame:
    """Quarantine searches that reference an entity missing from the day's clean catalog.

    The candidate and shown entity ids of every search are exploded (Parquet reads only
    those nested fields), anti-joined with the catalog, and the (few) rows with a miss are
    joined to the verdicts; rows already quarantined keep their earlier reason.

    Args:
        verdicts: ``_src``, ``_row``, ``_q`` (and any other columns) of the searches.
        searches: the conformed raw searches (``_src``, ``_row``, ``candidates``, ``shown``).
        catalog_ids: one column ``entity_id``, distinct (the clean catalog of the day).

    Returns:
        ``verdicts`` with ``_q`` set to ``unknown_entity`` (column ``candidates.entity_id``
        or ``shown.entity_id``, raw value the smallest unknown id) where it applies.
    """
    refs = None
    for array in ("candidates", "shown"):
        column = f"{array}.entity_id"
        part = searches.select("_src", "_row", F.lit(column).alias("column"), F.explode(column).alias("entity_id"))
        refs = part if refs is None else refs.unionByName(part)
    flagged = (
        refs.join(catalog_ids, "entity_id", "left_anti")
        .groupBy("_src", "_row")
        .agg(F.min(F.struct("column", "entity_id")).alias("_ref"))
    )
    out = verdicts.join(flagged, ["_src", "_row"], "left")
    ref_verdict = _verdict(R.UNKNOWN_ENTITY, F.col("_ref.column"), F.col("_ref.entity_id"))
    verdict = F.coalesce(F.col(VERDICT), F.when(F.col("_ref").isNotNull(), ref_verdict))
    return out.withColumn(VERDICT, verdict).drop("_ref")


def check_engagement_refs(engagements: DataFrame, search_status: DataFrame, catalog_ids: DataFrame) -> DataFrame:
    """Quarantine engagements whose search or entity is not available in clean data.

    Args:
        engagements: verdicts with ``_q`` and the ``search_id`` and ``entity_id`` columns.
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
