"""Self-contained HTML report of a closed-loop experiment (LTR&R against static plans, uniform and an oracle).

:func:`render_report` turns the ``results`` dict written by the experiment driver into ONE HTML file
that opens anywhere, offline: the style is inline and every plot is a matplotlib PNG embedded as a
``data:`` URI, so the report can be mailed, archived or attached to a ticket without its data folder
(the only links out are the relative ``data_docs`` hrefs to the data-validation pages).

The report has seven sections, in the order of :data:`REPORT_SECTIONS`: the summary (did LTR&R beat
the best static plan and close the gap to the oracle), the learning curves of every arm over the
days, candidate hit rate by retrieval strategy and by query kind/class, the off-policy estimates
against the realised value, the ranker's NDCG@10 against true relevance, the memory table's
coverage and recall, and the links to the data docs.

Every measured number may be ``None`` (not measured that day): tables show ``n/a`` and plots skip
the point; a section without any data says so in a sentence but is always present, so links to
``#<id>`` never break. The output depends only on ``results``: the PNGs carry no ``Software`` or
time metadata and the HTML no clock, so rendering the same results twice gives the same bytes
(reports can be diffed and content-hashed).

Percentages (hit, engagement, coverage, recall, gap closed) are shown with one decimal, e.g.
``0.6234`` as ``62.3%``; NDCG@10 and off-policy values with three or four decimals; mean candidates
with one decimal.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

REPORT_SECTIONS: tuple[str, ...] = (
    "summary",
    "learning-curves",
    "hit-by-strategy",
    "ope",
    "ranker",
    "memory",
    "data-docs",
)
"""The ``<section id>`` of the report, in page order (always all present)."""

STATIC_PREFIX = "static:"
"""Arms whose name starts with this are static retrieval plans."""

NA = "n/a"
"""What a table shows for a value that was not measured."""

_STRATEGY_ORDER = ("lexical", "memory", "personalized", "related", "popular", "semantic")
_QUERY_KIND_ORDER = ("direct", "broad", "topic", "ambiguous")
_QUERY_CLASS_ORDER = ("head", "torso", "tail")
_OPE_ORDER = ("ips", "snips", "dr")
_RANKER_ORDER = ("model", "naive", "logged", "popularity", "q2e")
_RANKER_LABELS = {"model": "model (debiased)", "naive": "naive (not debiased)"}

_HIGHLIGHT = {"ltrr": "#1f77b4", "learned_ungated": "#9467bd", "uniform": "#ff7f0e", "oracle": "#d62728"}
_BEST_STATIC_COLOUR = "#2ca02c"
_OTHER_COLOUR = "#9e9e9e"

_PNG_DPI = 100
_RC = {"font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7, "axes.grid": True, "grid.alpha": 0.3}

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px;
       padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .9em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
code { background: #f4f4f4; padding: .1em .3em; border-radius: 3px; word-break: break-all; }
img { max-width: 100%; height: auto; display: block; margin: .6em 0; }
nav a { margin-right: 1em; } p.empty { color: #777; font-style: italic; }
"""


class _Cell(NamedTuple):
    """A table cell: its text (escaped when rendered) and an optional inline CSS style."""

    text: str
    style: str = ""


# --- reading the results dict -------------------------------------------------------------------


def _dict(value: Any) -> dict:
    """``value`` if it is a dict, else an empty dict (missing parts never crash the report)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    """``value`` if it is a list or tuple, else an empty list."""
    return list(value) if isinstance(value, list | tuple) else []


def _num(value: Any) -> float | None:
    """``value`` as a finite float, or None when it is missing, not a number, a bool, NaN or infinite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _days(results: dict) -> list[dict]:
    """Every day of the experiment, in the driver's order."""
    return [day for day in _list(results.get("days")) if isinstance(day, dict)]


def _served_days(results: dict) -> list[dict]:
    """The days with at least one measured arm (day 0 has only logs, no bundle to measure)."""
    return [day for day in _days(results) if _dict(day.get("arms"))]


def _ds(day: dict) -> str:
    """The day's label: its ``ds``, else ``day <index>``."""
    ds = day.get("ds")
    return str(ds) if ds is not None else f"day {day.get('index', '?')}"


def _ordered(keys: Iterable[str], preferred: Sequence[str]) -> list[str]:
    """``keys`` deduplicated: those in ``preferred`` first in that order, then the rest sorted."""
    present = {str(key) for key in keys}
    return [key for key in preferred if key in present] + sorted(present - set(preferred))


def _arm_order(results: dict) -> list[str]:
    """The display order of arms: ``results["arms"]``, then arms only found in days, sorted."""
    listed = [str(arm) for arm in _list(results.get("arms"))]
    seen = set(listed)
    extra = sorted({str(arm) for day in _days(results) for arm in _dict(day.get("arms"))} - seen)
    return list(dict.fromkeys(listed)) + extra


def _arm_overall(day: dict, arm: str) -> dict:
    """The ``overall`` metrics of ``arm`` on ``day`` (empty when the arm was not measured)."""
    return _dict(_dict(_dict(day.get("arms")).get(arm)).get("overall"))


def best_static_arm(results: dict) -> str | None:
    """The static plan with the highest mean candidate hit rate over the served days.

    Used to pick the static arm to highlight when ``results["summary"]`` is None (the driver's
    summary names it otherwise). Days where an arm has no hit rate do not count towards its mean;
    ties go to the arm listed first.

    Args:
        results: the experiment results (schema in :func:`render_report`).

    Returns:
        The arm name (starting with ``"static:"``), or None when no static arm has a hit rate.
    """
    best, best_mean = None, -math.inf
    for arm in _arm_order(results):
        if not arm.startswith(STATIC_PREFIX):
            continue
        rates = [_num(_arm_overall(day, arm).get("hit_rate")) for day in _served_days(results)]
        measured = [rate for rate in rates if rate is not None]
        if measured and sum(measured) / len(measured) > best_mean:
            best, best_mean = arm, sum(measured) / len(measured)
    return best


def _highlighted_static(results: dict) -> str | None:
    """The static arm the plots highlight: the summary's best static arm, else :func:`best_static_arm`."""
    named = _dict(results.get("summary")).get("best_static_arm")
    return str(named) if named is not None else best_static_arm(results)


# --- formatting ---------------------------------------------------------------------------------


def _pct(value: Any) -> str:
    """A rate as a percentage with one decimal (``0.6234`` -> ``62.3%``), or ``n/a``."""
    number = _num(value)
    return NA if number is None else f"{number * 100:.1f}%"


def _dec(value: Any, digits: int = 3) -> str:
    """A number with ``digits`` decimals, or ``n/a``."""
    number = _num(value)
    return NA if number is None else f"{number:.{digits}f}"


def _int(value: Any) -> str:
    """A count with thousands separators, or ``n/a``."""
    number = _num(value)
    return NA if number is None else f"{round(number):,}"


def _interval(low: Any, high: Any, fmt: Callable[[Any], str]) -> str:
    """An interval ``[low, high]`` formatted with ``fmt``, or ``n/a`` when either end is missing."""
    if _num(low) is None or _num(high) is None:
        return NA
    return f"[{fmt(low)}, {fmt(high)}]"


def _pair(value: Any) -> tuple[Any, Any]:
    """The two ends of a ``[lo, hi]`` list, or ``(None, None)``."""
    items = _list(value)
    return (items[0], items[1]) if len(items) == 2 else (None, None)


def _yes_no(value: Any) -> str:
    """``yes``/``no`` for a bool, ``n/a`` otherwise."""
    return ("yes" if value else "no") if isinstance(value, bool) else NA


def _points(value: Any) -> str:
    """A difference in percentage points with its sign (``12.34`` -> ``+12.3 points``), or ``n/a``."""
    number = _num(value)
    return NA if number is None else f"{number:+.1f} points"


def _esc(value: Any) -> str:
    """``value`` as text escaped for HTML (quotes included, so it is safe in attributes too)."""
    return html.escape(str(value), quote=True)


def _heat_style(value: Any) -> str:
    """A background whose intensity grows with a rate in [0, 1] (empty for a missing rate)."""
    number = _num(value)
    if number is None:
        return ""
    return f"background-color: rgba(31, 119, 180, {0.08 + 0.6 * min(max(number, 0.0), 1.0):.2f})"


# --- HTML building blocks -----------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Iterable[Sequence[str | _Cell]]) -> str:
    """An HTML table; every header and cell text is escaped."""
    head = "".join(f"<th>{_esc(header)}</th>" for header in headers)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            cell = cell if isinstance(cell, _Cell) else _Cell(str(cell))
            style = f' style="{_esc(cell.style)}"' if cell.style else ""
            cells.append(f"<td{style}>{_esc(cell.text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _empty(sentence: str) -> str:
    """A paragraph standing in for a plot or table that has no data."""
    return f'<p class="empty">{_esc(sentence)}</p>'


def _section(section_id: str, title: str, parts: Iterable[str]) -> str:
    """One ``<section id>`` with its ``<h2>`` title and body parts (already HTML)."""
    return f'<section id="{_esc(section_id)}">\n<h2>{_esc(title)}</h2>\n' + "\n".join(parts) + "\n</section>"


# --- plotting -----------------------------------------------------------------------------------


def _mpl_text(value: Any) -> str:
    """Text for a plot label: dollars escaped so matplotlib never parses it as mathtext."""
    return str(value).replace("$", r"\$")


def _figure_html(draw: Callable[[Figure], None], size: tuple[float, float], alt: str) -> str:
    """Draw a figure and return it as an ``<img>`` with the PNG embedded as a ``data:`` URI.

    The Figure API is used directly (no pyplot global state, no GUI backend) and the PNG is saved
    without the ``Software`` metadata, so the same drawing gives the same bytes.
    """
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=size, layout="constrained")
        draw(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=_PNG_DPI, metadata={"Software": None})
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{_esc(alt)}">'


def _nan(value: Any) -> float:
    """A value for a plot series: the number, or NaN (a gap) when it is missing."""
    number = _num(value)
    return math.nan if number is None else number


def _any_value(series: Iterable[Iterable[Any]]) -> bool:
    """Whether any of the series has at least one number to plot."""
    return any(_num(value) is not None for values in series for value in values)


def _day_axis(axes: Axes, labels: Sequence[str]) -> None:
    """Days on the x axis: one tick per day at positions 0..n-1, labelled by ds."""
    axes.set_xticks(range(len(labels)), [_mpl_text(label) for label in labels])
    if len(labels) > 5:
        axes.tick_params(axis="x", labelrotation=45)
    axes.set_xlim(-0.5, len(labels) - 0.5)


def _slot_positions(n_groups: int, slot: int, n_slots: int, span: float = 0.6) -> list[float]:
    """x positions of the ``slot``-th of ``n_slots`` side-by-side marks in each of ``n_groups`` groups.

    Groups sit at 0..n_groups-1; the slots share ``span`` of the unit gap, centred on the group,
    so estimates of the same day sit beside each other instead of on top of each other.
    """
    width = span / max(1, n_slots)
    return [index + (slot - (n_slots - 1) / 2) * width for index in range(n_groups)]


def _errorbars(axes: Axes, xs: Sequence[float], points: Sequence[tuple[Any, Any, Any]], **style: Any) -> None:
    """Points ``(value, low, high)`` with asymmetric error bars; missing values are skipped.

    Missing or inverted interval ends give no bar on that side rather than a crash.
    """
    values, below, above = [], [], []
    for value, low, high in points:
        centre, low_end, high_end = _nan(value), _num(low), _num(high)
        values.append(centre)
        measured = not math.isnan(centre)
        below.append(max(0.0, centre - low_end) if measured and low_end is not None else 0.0)
        above.append(max(0.0, high_end - centre) if measured and high_end is not None else 0.0)
    axes.errorbar(xs, values, yerr=[below, above], fmt="o", capsize=3, markersize=4, **style)


# --- section: summary ---------------------------------------------------------------------------


def _versus(value: Any) -> str:
    """A paired value difference as ``+0.0067 [+0.0021, +0.0113]``, or the not-measured mark."""
    versus = _dict(value)
    difference = _num(versus.get("difference"))
    low, high = (_num(v) for v in _pair(versus.get("ci")))
    if difference is None or low is None or high is None:
        return NA
    return f"{difference:+.4f} [{low:+.4f}, {high:+.4f}]"


def _summary_tables(results: dict, summary: dict) -> list[str]:
    """The headline comparison (hit rate, candidates and true value per arm) and the goal verdict."""
    best = summary.get("best_static_arm")
    day = next((d for d in _days(results) if d.get("ds") == summary.get("ds")), {})
    rows = []
    for label, arm in (
        ("LTR&R (ltrr)", "ltrr"),
        (f"best static plan ({best if best is not None else NA})", best),
        ("uniform random", "uniform"),
        ("oracle", "oracle"),
        ("learned policy without its gate (learned_ungated)", "learned_ungated"),
        ("day-0 rule, no exploration (day0_rule)", "day0_rule"),
    ):
        overall = _arm_overall(day, arm) if arm else {}
        if not overall and arm in ("learned_ungated", "day0_rule"):
            continue  # not measured on this day (older results, or no policy learned yet)
        rows.append(
            [
                label,
                _pct(overall.get("hit_rate")),
                _dec(overall.get("mean_candidates"), 1),
                _dec(overall.get("value"), 4),
                _versus(_dict(day.get("value_vs_day0_rule")).get(arm)),
            ]
        )
    arms = _table(
        [
            "arm",
            "candidate hit rate",
            "mean candidates",
            "value (bandit reward per search)",
            "value − day-0 rule (paired, 95% CI)",
        ],
        rows,
    )
    verdict = _table(
        ["", "value"],
        [
            ["measured on", str(summary.get("ds", NA))],
            [
                "policy learned that night, as it would serve, − the policy that logged the day (paired, 95% CI)",
                _versus(summary.get("learned_policy_vs_served")),
            ],
            ["lift over the best static plan", _points(summary.get("lift_points"))],
            ["gap to the oracle closed", _pct(summary.get("gap_closed"))],
            ["goal", str(summary.get("goal") or NA)],
            ["goal met", _yes_no(summary.get("goal_met"))],
        ],
    )
    return [arms, verdict]


def _experiment_parameters(results: dict) -> str:
    """The experiment's parameters and the command that ran it."""
    experiment = _dict(results.get("experiment"))
    rows = [
        [name, NA if experiment.get(name) is None else str(experiment.get(name))]
        for name in ("scale", "seed", "days", "start")
    ]
    rows.append(["finished", _yes_no(experiment.get("finished"))])
    command = experiment.get("command")
    command_html = f"<p>Command: <code>{_esc(command)}</code></p>" if command else ""
    return "<h3>Parameters</h3>\n" + _table(["parameter", "value"], rows) + command_html


def _summary_section(results: dict) -> str:
    """Section ``summary``: the headline numbers, or a sentence when no day was served yet."""
    summary = results.get("summary")
    if isinstance(summary, dict):
        parts = _summary_tables(results, summary)
    else:
        parts = [_empty("The experiment has no served day yet, so there is no summary.")]
    parts.append(_experiment_parameters(results))
    return _section("summary", "Summary", parts)


# --- section: learning curves -------------------------------------------------------------------

_CURVE_METRICS = (
    ("hit_rate", "candidate hit rate"),
    ("engagement_rate", "engagement rate"),
    ("ndcg10", "NDCG@10"),
    ("mean_candidates", "mean candidates"),
)


def _arm_style(arm: str, best: str | None) -> dict[str, Any]:
    """Line style of an arm: the four compared arms in colour, every other arm thin and grey."""
    if arm in _HIGHLIGHT:
        return {"color": _HIGHLIGHT[arm], "linewidth": 2, "linestyle": "--" if arm == "oracle" else "-"}
    if arm == best:
        return {"color": _BEST_STATIC_COLOUR, "linewidth": 2}
    return {"color": _OTHER_COLOUR, "linewidth": 0.8, "alpha": 0.8}


def _curve_arms(results: dict, best: str | None) -> list[str]:
    """Arms in drawing order: grey ones first so the highlighted ones are drawn on top."""
    arms = _arm_order(results)
    highlighted = [arm for arm in arms if arm in _HIGHLIGHT or arm == best]
    return [arm for arm in arms if arm not in highlighted] + highlighted


def _draw_curves(figure: Figure, days: list[dict], arms: list[str], best: str | None) -> None:
    """Four panels over days: hit rate, engagement, NDCG@10 and mean candidates of every arm."""
    labels = [_ds(day) for day in days]
    grey_labelled = False
    for axes, (metric, title) in zip(figure.subplots(2, 2).flat, _CURVE_METRICS, strict=True):
        for arm in arms:
            style = _arm_style(arm, best)
            label = arm + (" (best static)" if arm == best else "")
            if style["color"] == _OTHER_COLOUR:
                label, grey_labelled = ("other arms" if not grey_labelled else "_nolegend_"), True
            series = [_nan(_arm_overall(day, arm).get(metric)) for day in days]
            axes.plot(range(len(days)), series, marker="o", markersize=3, label=_mpl_text(label), **style)
        axes.set_title(title)
        _day_axis(axes, labels)
    handles, legend_labels = figure.axes[0].get_legend_handles_labels()
    figure.legend(handles, legend_labels, loc="outside lower center", ncols=min(5, max(1, len(handles))))


def _day_arm_table(day: dict, arms: list[str]) -> str:
    """One served day: every arm's searches, hit rate with its CI, engagement, NDCG@10, candidates."""
    rows = []
    for arm in arms:
        if arm not in _dict(day.get("arms")):
            continue
        overall = _arm_overall(day, arm)
        low, high = _pair(overall.get("hit_ci"))
        rows.append(
            [
                arm,
                _int(overall.get("searches")),
                _pct(overall.get("hit_rate")),
                _interval(low, high, _pct),
                _pct(overall.get("engagement_rate")),
                _dec(overall.get("ndcg10")),
                _dec(overall.get("mean_candidates"), 1),
            ]
        )
    served_by = day.get("served_by")
    heading = _ds(day) + (f" — served by {served_by}" if served_by else "")
    headers = ["arm", "searches", "hit rate", "hit rate CI", "engagement", "NDCG@10", "mean candidates"]
    return f"<h3>{_esc(heading)}</h3>\n" + _table(headers, rows)


def _learning_curves_section(results: dict) -> str:
    """Section ``learning-curves``: every arm's metrics over the served days, plot and tables."""
    days = _served_days(results)
    if not days:
        return _section("learning-curves", "Learning curves", [_empty("No day has measured arms yet.")])
    best = _highlighted_static(results)
    arms = _curve_arms(results, best)
    plot = _figure_html(lambda fig: _draw_curves(fig, days, arms, best), (10, 7), "learning curves of every arm")
    best_text = f"{best} (best static plan)" if best is not None else "no static plan measured"
    caption = _esc(
        f"In colour: ltrr, learned_ungated (when measured), {best_text}, uniform, oracle (dashed); "
        "every other arm in thin grey."
    )
    tables = [_day_arm_table(day, _arm_order(results)) for day in days]
    return _section("learning-curves", "Learning curves", [plot, f"<p>{caption}</p>", *tables])


# --- section: hit rate by strategy and query kind/class ----------------------------------------


def _last_strategy_day(days: list[dict]) -> dict | None:
    """The last day whose per-strategy hit rates by query kind were measured."""
    with_strategy = [day for day in days if _dict(_dict(day.get("strategy_hit_rate")).get("by_query_kind"))]
    return with_strategy[-1] if with_strategy else None


def _strategy_grid(strategy_hit: dict) -> tuple[list[str], list[str], dict[str, dict]]:
    """Strategies, columns (``overall`` then query kinds) and the rate of each strategy per column."""
    by_kind = {str(kind): _dict(rates) for kind, rates in _dict(strategy_hit.get("by_query_kind")).items()}
    columns = {"overall": _dict(strategy_hit.get("overall")), **by_kind}
    strategies = _ordered((name for rates in columns.values() for name in rates), _STRATEGY_ORDER)
    kinds = ["overall", *_ordered(by_kind, _QUERY_KIND_ORDER)]
    return strategies, kinds, columns


def _draw_strategy_bars(figure: Figure, strategies: list[str], kinds: list[str], columns: dict[str, dict]) -> None:
    """Grouped bars: one group per strategy, one bar per query kind (and overall)."""
    axes = figure.subplots()
    width = 0.8 / len(kinds)
    for offset, kind in enumerate(kinds):
        xs = _slot_positions(len(strategies), offset, len(kinds), span=0.8)
        heights = [_nan(columns[kind].get(strategy)) for strategy in strategies]
        axes.bar(xs, [0.0 if math.isnan(h) else h for h in heights], width, label=_mpl_text(kind))
    axes.set_xticks(range(len(strategies)), [_mpl_text(strategy) for strategy in strategies])
    axes.set_ylabel("candidate hit rate of the strategy")
    axes.legend(title="query kind", ncols=min(5, len(kinds)))


def _strategy_part(days: list[dict]) -> list[str]:
    """Bar chart and table of hit rate per retrieval strategy and query kind (last measured day)."""
    day = _last_strategy_day(days)
    if day is None:
        return [_empty("No day has hit rates by retrieval strategy.")]
    strategies, kinds, columns = _strategy_grid(_dict(day.get("strategy_hit_rate")))
    heading = f"<h3>By retrieval strategy and query kind, {_esc(_ds(day))}</h3>"
    if not _any_value([[columns[kind].get(strategy) for strategy in strategies] for kind in kinds]):
        return [heading, _empty("No strategy hit rate was measured on that day.")]
    plot = _figure_html(
        lambda fig: _draw_strategy_bars(fig, strategies, kinds, columns), (10, 3.8), "hit rate by strategy"
    )
    rows = [[strategy, *(_pct(columns[kind].get(strategy)) for kind in kinds)] for strategy in strategies]
    return [heading, plot, _table(["strategy", *kinds], rows)]


def _heat_table(day: dict, arms: list[str], breakdown: str, preferred: Sequence[str], title: str) -> str:
    """Arm × group (query kind or class) hit rates of one day, cells shaded by the rate."""
    per_arm = {arm: _dict(_dict(_dict(day.get("arms")).get(arm)).get(breakdown)) for arm in arms}
    groups = _ordered((group for metrics in per_arm.values() for group in metrics), preferred)
    if not groups:
        return f"<h3>{_esc(title)}</h3>\n" + _empty("Not measured.")
    rows = []
    for arm in arms:
        if arm not in _dict(day.get("arms")):
            continue
        rates = [_dict(per_arm[arm].get(group)).get("hit_rate") for group in groups]
        rows.append([arm, *(_Cell(_pct(rate), _heat_style(rate)) for rate in rates)])
    return f"<h3>{_esc(title)}</h3>\n" + _table(["arm", *groups], rows)


def _hit_by_strategy_section(results: dict) -> str:
    """Section ``hit-by-strategy``: per-strategy hit rates, and per-arm rates by query kind/class."""
    days = _served_days(results)
    parts = _strategy_part(days)
    if days:
        last, arms = days[-1], _arm_order(results)
        ds = _ds(last)
        parts.append(
            _heat_table(last, arms, "by_query_kind", _QUERY_KIND_ORDER, f"Hit rate by arm and query kind, {ds}")
        )
        parts.append(
            _heat_table(last, arms, "by_query_class", _QUERY_CLASS_ORDER, f"Hit rate by arm and query class, {ds}")
        )
    else:
        parts.append(_empty("No day has measured arms yet."))
    return _section("hit-by-strategy", "Hit rate by strategy, query kind and query class", parts)


# --- section: off-policy evaluation -------------------------------------------------------------


def _ope_days(results: dict) -> list[dict]:
    """The days with an off-policy evaluation."""
    return [day for day in _days(results) if isinstance(day.get("ope"), dict)]


def _estimators(days: list[dict]) -> list[str]:
    """Every estimator reported on any of ``days``, in the usual order."""
    return _ordered((name for day in days for name in _dict(_dict(day.get("ope")).get("estimates"))), _OPE_ORDER)


def _draw_ope(figure: Figure, days: list[dict], estimators: list[str]) -> None:
    """Each estimator's value with its CI per day, offset sideways, beside the realised value (a star)."""
    axes = figure.subplots()
    n_slots = len(estimators) + 1
    realised = [_nan(_dict(_dict(day.get("ope")).get("realised")).get("value")) for day in days]
    xs = _slot_positions(len(days), 0, n_slots)
    axes.plot(xs, realised, marker="*", markersize=11, linestyle="none", color="black", label="realised")
    for offset, name in enumerate(estimators, start=1):
        estimates = [_dict(_dict(_dict(day.get("ope")).get("estimates")).get(name)) for day in days]
        points = [(est.get("value"), est.get("ci_low"), est.get("ci_high")) for est in estimates]
        _errorbars(axes, _slot_positions(len(days), offset, n_slots), points, label=_mpl_text(name))
    _day_axis(axes, [_ds(day) for day in days])
    axes.set_ylabel("policy value")
    axes.legend()


def _ope_rows(day: dict, estimators: list[str]) -> list[list[str]]:
    """Table rows of one day: the realised value first (with the day's note), then each estimate."""
    ope = _dict(day.get("ope"))
    realised = _dict(ope.get("realised"))
    note = str(ope.get("note") or "")
    rows = [[_ds(day), "realised", _dec(realised.get("value"), 4), NA, _dec(realised.get("se"), 4), NA, NA, note]]
    estimates = _dict(ope.get("estimates"))
    for name in estimators:
        if name not in estimates:
            continue
        est = _dict(estimates[name])
        interval = _interval(est.get("ci_low"), est.get("ci_high"), lambda v: _dec(v, 4))
        rows.append(
            ["", name, _dec(est.get("value"), 4), interval, NA, _dec(est.get("ess"), 1), _int(est.get("n")), ""]
        )
    return rows


def _ope_section(results: dict) -> str:
    """Section ``ope``: off-policy estimates of the served policy against its realised value."""
    days = _ope_days(results)
    if not days:
        return _section("ope", "Off-policy evaluation", [_empty("No day has an off-policy evaluation.")])
    estimators = _estimators(days)
    values = [
        [_dict(_dict(_dict(day.get("ope")).get("estimates")).get(name)).get("value") for day in days]
        for name in estimators
    ]
    values.append([_dict(_dict(day.get("ope")).get("realised")).get("value") for day in days])
    if _any_value(values):
        plot = _figure_html(lambda fig: _draw_ope(fig, days, estimators), (10, 3.8), "off-policy estimates")
    else:
        plot = _empty("No off-policy estimate or realised value to plot.")
    rows = [row for day in days for row in _ope_rows(day, estimators)]
    table = _table(["day", "estimate", "value", "CI", "se", "ESS", "n", "note"], rows)
    return _section("ope", "Off-policy evaluation", [plot, table])


# --- section: ranker ----------------------------------------------------------------------------


def _ranker_days(results: dict) -> list[dict]:
    """The days with a ranker evaluation against true relevance."""
    return [day for day in _days(results) if isinstance(day.get("ranker"), dict)]


def _truth(day: dict) -> dict:
    """The day's NDCG@10 against true relevance, per ranker."""
    return _dict(_dict(day.get("ranker")).get("truth_ndcg10"))


def _draw_ranker(figure: Figure, days: list[dict], rankers: list[str]) -> None:
    """NDCG@10 of every ranker per day with its CI, offset sideways."""
    axes = figure.subplots()
    for offset, name in enumerate(rankers):
        xs = _slot_positions(len(days), offset, len(rankers))
        scores = [_dict(_truth(day).get(name)) for day in days]
        points = [(score.get("mean"), score.get("ci_low"), score.get("ci_high")) for score in scores]
        _errorbars(axes, xs, points, label=_mpl_text(_RANKER_LABELS.get(name, name)))
    _day_axis(axes, [_ds(day) for day in days])
    axes.set_ylabel("NDCG@10 (true relevance)")
    axes.legend()


def _ranker_section(results: dict) -> str:
    """Section ``ranker``: NDCG@10 against true relevance, debiased vs naive and the baselines."""
    title = "Ranker: NDCG@10 against true relevance"
    days = _ranker_days(results)
    if not days:
        return _section("ranker", title, [_empty("No day has a ranker evaluation.")])
    rankers = _ordered((name for day in days for name in _truth(day)), _RANKER_ORDER)
    if _any_value([[_dict(_truth(day).get(name)).get("mean") for day in days] for name in rankers]):
        plot = _figure_html(lambda fig: _draw_ranker(fig, days, rankers), (10, 3.8), "ranker NDCG@10")
    else:
        plot = _empty("No ranker NDCG@10 to plot.")
    rows = []
    for day in days:
        gate = _yes_no(_dict(day.get("ranker")).get("gate_passed"))
        present = [name for name in rankers if name in _truth(day)] or [None]
        for position, name in enumerate(present):
            score = _dict(_truth(day).get(name)) if name is not None else {}
            interval = _interval(score.get("ci_low"), score.get("ci_high"), _dec)
            first = position == 0
            label = NA if name is None else _RANKER_LABELS.get(name, name)
            rows.append(
                [
                    _ds(day) if first else "",
                    label,
                    _dec(score.get("mean")),
                    interval,
                    _int(score.get("n_queries")),
                    gate if first else "",
                ]
            )
    table = _table(["day", "ranker", "NDCG@10", "CI", "queries", "gate passed"], rows)
    return _section("ranker", title, [plot, table])


# --- section: memory ----------------------------------------------------------------------------


def _memory_days(results: dict) -> list[dict]:
    """The days with a memory-table evaluation."""
    return [day for day in _days(results) if isinstance(day.get("memory"), dict)]


def _memory_series(days: list[dict]) -> list[tuple[str, list[Any]]]:
    """Named series over days: coverage, overall recall and recall per query class."""
    memories = [_dict(day.get("memory")) for day in days]
    classes = _ordered(
        (c for memory in memories for c in _dict(memory.get("recall_by_query_class"))), _QUERY_CLASS_ORDER
    )
    series = [
        ("coverage", [memory.get("coverage") for memory in memories]),
        ("recall (all)", [memory.get("recall_overall") for memory in memories]),
    ]
    for query_class in classes:
        rates = [_dict(memory.get("recall_by_query_class")).get(query_class) for memory in memories]
        series.append((f"recall ({query_class})", rates))
    return series


def _draw_memory(figure: Figure, days: list[dict], series: list[tuple[str, list[Any]]]) -> None:
    """Coverage and recall lines over days (the two headline series thicker)."""
    axes = figure.subplots()
    for position, (name, values) in enumerate(series):
        width = 2 if position < 2 else 1
        axes.plot(
            range(len(days)),
            [_nan(v) for v in values],
            marker="o",
            markersize=3,
            linewidth=width,
            label=_mpl_text(name),
        )
    _day_axis(axes, [_ds(day) for day in days])
    axes.set_ylabel("share of next-day searches")
    axes.legend()


def _memory_section(results: dict) -> str:
    """Section ``memory``: memory coverage and recall (overall, head/torso/tail) over days."""
    title = "Memory: coverage and recall"
    days = _memory_days(results)
    if not days:
        return _section("memory", title, [_empty("No day has a memory evaluation.")])
    series = _memory_series(days)
    if _any_value(values for _, values in series):
        plot = _figure_html(lambda fig: _draw_memory(fig, days, series), (10, 3.5), "memory coverage and recall")
    else:
        plot = _empty("No memory coverage or recall to plot.")
    rows = [[_ds(day), *(_pct(values[index]) for _, values in series)] for index, day in enumerate(days)]
    explain = (
        "<p>Coverage: share of next-day searches whose normalized query is in the memory table; "
        "recall: share whose intended entity the memory returns.</p>"
    )
    return _section("memory", title, [explain, plot, _table(["day", *(name for name, _ in series)], rows)])


# --- section: data docs -------------------------------------------------------------------------


def _data_docs_section(results: dict) -> str:
    """Section ``data-docs``: links to each day's data-validation pages (relative hrefs, as given)."""
    parts = []
    for day in _days(results):
        links = [doc for doc in _list(day.get("data_docs")) if isinstance(doc, dict) and doc.get("href")]
        if not links:
            continue
        items = "".join(
            f'<li><a href="{_esc(doc["href"])}">{_esc(doc.get("label") or doc["href"])}</a></li>' for doc in links
        )
        parts.append(f"<h3>{_esc(_ds(day))}</h3>\n<ul>{items}</ul>")
    return _section("data-docs", "Data docs", parts or [_empty("No day has data docs.")])


# --- the document -------------------------------------------------------------------------------


def _title(results: dict) -> str:
    """``ltrr experiment: <scale> world, seed K, N days`` (N from the parameters, else the days given)."""
    experiment = _dict(results.get("experiment"))
    n_days = experiment.get("days")
    if _num(n_days) is None:
        n_days = len(_days(results))
    scale = experiment.get("scale", NA)
    seed = experiment.get("seed", NA)
    return f"ltrr experiment: {scale} world, seed {seed}, {n_days} {'day' if n_days == 1 else 'days'}"


_SECTION_RENDERERS: tuple[Callable[[dict], str], ...] = (
    _summary_section,
    _learning_curves_section,
    _hit_by_strategy_section,
    _ope_section,
    _ranker_section,
    _memory_section,
    _data_docs_section,
)


def _document(results: dict) -> str:
    """The whole HTML page: head with inline style, title, section navigation and the sections."""
    title = _esc(_title(results))
    nav = " ".join(f'<a href="#{section_id}">{section_id}</a>' for section_id in REPORT_SECTIONS)
    sections = "\n".join(render(results) for render in _SECTION_RENDERERS)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n'
        f"<body>\n<h1>{title}</h1>\n<nav>{nav}</nav>\n{sections}\n</body>\n</html>\n"
    )


def _write_atomically(text: str, out: Path) -> None:
    """Write ``text`` to ``out`` through a temporary sibling and a rename, so readers never see half a file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".html.tmp")
    try:
        tmp.write_bytes(text.encode("utf-8"))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def render_report(results: dict, out: Path) -> Path:
    """Write the experiment's results as one self-contained, deterministic HTML report.

    The page has the sections of :data:`REPORT_SECTIONS` in order; plots are PNGs embedded as
    ``data:`` URIs and the style is inline, so nothing is fetched when it is opened. Every string
    from ``results`` is HTML-escaped; missing numbers (None) show as ``n/a`` and are left out of
    plots. The same ``results`` always give the same bytes.

    Args:
        results: the experiment driver's results: ``experiment`` (scale, seed, days, start,
            command, finished), ``arms`` (display order), ``days`` (per day: ds, served_by,
            policy_outcome, per-arm metrics overall and by query kind/class, strategy hit rates,
            off-policy estimates, ranker NDCG@10, memory coverage/recall, data-docs links) and
            ``summary`` (or None before any day was served).
        out: the HTML file to write; its parent folders are created.

    Returns:
        ``out``.
    """
    out = Path(out)
    _write_atomically(_document(results), out)
    return out
