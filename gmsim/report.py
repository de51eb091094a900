"""Reports of ensembles: CSV tables, PNG plots and one self-contained HTML page per comparison or sweep.

:func:`write_compare_report` writes what :func:`gmsim.compare` returns, :func:`write_sweep_report` what
:func:`gmsim.sweep` returns, into an existing folder:

* the tables as CSV (rounded: people to 0.01, money to whole GBP, ratios to 4 decimals);
* plots under ``plots/`` (PNG, drawn with matplotlib's Agg backend);
* ``report.html``: one page with inline CSS and the plots embedded as base64 data URIs (no external
  assets or scripts), readable and forwardable on its own. It states what was run, the headline impacts
  with their intervals, the assumptions behind the money values and the strands' effects (with sources)
  and the exact command that reproduces it.

The page is laid out by the Jinja2 templates in ``gmsim/templates`` (``base.html`` with the blocks of
``compare.html`` and ``sweep.html``, the tables in ``macros.html``). This module computes the numbers and
passes them as plain data (text, lists of rows, dicts); the templates autoescape everything they insert.

Every impact is shown as the mean over replicates with the 95% confidence interval of the mean, plus the
2.5th-97.5th percentiles of the replicates (see :mod:`gmsim.comparison`). NaN values (e.g. a benefit-cost
ratio with no spend) are shown as "n/a"; with a single run the intervals collapse to the mean.
"""

from __future__ import annotations

import base64
import functools
import math
import re
import textwrap
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from . import __version__, codes

GM = "Greater Manchester"
ALL = "all"

LABELS = {
    "extra_person_years_in_work": "Extra person-years in work",
    "extra_job_entries": "Extra job entries",
    "extra_people_in_work_end": "Extra people in work at the end",
    "fewer_out_of_work_health_end": "Fewer people out of work because of health at the end",
    "fewer_person_years_out_of_work": "Fewer person-years out of work",
    "spend_gbp": "Total spend",
    "pv_spend_gbp": "Spend (present value)",
    "pv_cost_gbp": "Cost (present value, with optimism bias and lapsed referrals)",
    "fiscal_benefit_pv": "Fiscal benefit (present value: benefits, tax, NHS)",
    "economic_benefit_pv": "Economic benefit (present value: earnings, absence costs)",
    "social_benefit_pv": "Social benefit (present value: economic, health, wellbeing)",
    "npv_fiscal": "Net present value, fiscal",
    "npv_economic": "Net present value, economic",
    "npv_social": "Net present value, social",
    "bcr_fiscal": "Benefit-cost ratio, fiscal",
    "bcr_economic": "Benefit-cost ratio, economic",
    "bcr_social": "Benefit-cost ratio, social",
    "cost_per_extra_person_in_work": "Cost per extra person in work at the end",
    "cost_per_extra_person_year_in_work": "Cost per extra person-year in work",
    "started": "Started support",
    "job_entries": "Job entries of participants",
    "sustained_jobs_6m": "Jobs held 6 months",
    "sustained_jobs_12m": "Jobs held 12 months",
    "kept_in_work": "Kept in work (at-risk starters in work 6 months on)",
    "participants_extra_job_entries": "Participants' extra job entries (gross of displacement)",
    "displaced_job_entries": "Job entries displaced from everyone else",
    "net_job_entries": "Net extra job entries",
}
#: The measures of the report's "Job entries: gross, displaced and net" (against each run's own comparator).
ENTRIES_SHOWN = ("participants_extra_job_entries", "displaced_job_entries", "net_job_entries")
HEADLINE = (
    "extra_person_years_in_work",
    "extra_people_in_work_end",
    "fewer_out_of_work_health_end",
    "spend_gbp",
    "bcr_fiscal",
    "bcr_economic",
    "bcr_social",
    "cost_per_extra_person_year_in_work",
)
STRAND_TABLE = ("started", "job_entries", "sustained_jobs_12m", "kept_in_work", "spend_gbp")
RATIOS = ("bcr_fiscal", "bcr_economic", "bcr_social")
STAT_COLUMNS = ("mean", "low", "high", "sd", "p025", "p975")
GROUPS = {
    "effects": "while supported",
    "after_effects": "after support ends",
    "in_work_effects": "in work after a job start",
}
MINUS = "\u2212"


@functools.cache
def _templates() -> jinja2.Environment:
    """The report templates (``gmsim/templates``): HTML autoescaped, an undefined name an error."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("gmsim", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["thousands"] = lambda n: f"{n:,}"
    env.filters["n_runs"] = _n_runs
    return env


def _render(template: str, **context: Any) -> str:
    return _templates().get_template(template).render(**context)


def _render_tables(tables: Iterable[dict[str, Any]]) -> str:
    """HTML of tables from :func:`_table`, one per line (what the dashboard shows)."""
    table = _templates().get_template("macros.html").module.table
    return "\n".join(str(table(t)) for t in tables)


def _n_runs(n: int) -> str:
    return f"{n:,} run" + ("" if n == 1 else "s")


# ----- numbers -------------------------------------------------------------------------------------


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _is_money(metric: str) -> bool:
    return metric.endswith(("_gbp", "_pv")) or metric.startswith(("cost_per", "npv_"))


def fmt(x: Any, metric: str = "") -> str:
    """A value for people to read: thousands separators, GBP with £, ratios to 2 decimals, NaN as n/a.

    Args:
        x: The value.
        metric: Its metric name (decides GBP, ratio or people).

    Returns:
        The formatted text (a true minus sign for negative values).
    """
    if not _finite(x):
        return "n/a"
    x = float(x)
    if metric.startswith("cohort_") and "followed" not in metric:
        return _cohort_value(x, metric)
    if _is_money(metric) and abs(x) >= 10_000:  # four significant figures: £23,740,000, £99,910
        x = round(x, 3 - int(math.floor(math.log10(abs(x)))))
    if metric in RATIOS:
        text = f"{abs(x):.2f}"
        negative = round(x, 2) < 0
    else:
        text = f"{abs(x):,.0f}"
        negative = round(x) < 0
    if _is_money(metric):
        text = "£" + text
    return (MINUS if negative else "") + text


def _round_frame(df: pd.DataFrame, columns: Iterable[str], metric: str = "metric") -> pd.DataFrame:
    """Round by the metric in column ``metric``: ratios to 4 decimals, money to whole GBP, people to 2 decimals."""
    out = df.copy()
    columns = [c for c in columns if c in out.columns]
    if metric not in out.columns:
        out[columns] = out[columns].round(2)
        return out
    ratio = out[metric].isin(RATIOS).to_numpy()
    money = out[metric].map(lambda m: _is_money(str(m))).to_numpy(dtype=bool)
    for c in columns:
        v = out[c].to_numpy(dtype=float)
        out[c] = np.where(ratio, np.round(v, 4), np.where(money, np.round(v, 0), np.round(v, 2)))
    return out


def _summarise(values: np.ndarray) -> dict[str, float]:
    from .comparison import summarise

    return summarise(np.asarray(values, dtype=float))


def _runs(result: dict[str, pd.DataFrame]) -> int:
    rep = result.get("replicates")
    return int(rep["replicate"].nunique()) if rep is not None and len(rep) else 0


def _months(result: dict[str, pd.DataFrame]) -> int | None:
    ot = result.get("over_time")
    return int(ot["month"].max()) if ot is not None and len(ot) else None


def _span(result: dict[str, pd.DataFrame]) -> str | None:
    """The months simulated as dates (``April 2026 to March 2036``), or None without dates."""
    from .dates import YearMonth

    ot = result.get("over_time")
    if ot is None or ot.empty or "date" not in ot.columns:
        return None
    by_month = ot.drop_duplicates("month").set_index("month")["date"]
    first, last = by_month.index.min(), by_month.index.max()
    start = YearMonth.parse(str(by_month[first])).plus(1 - int(first))
    return f"{start.words()} to {YearMonth.parse(str(by_month[last])).words()}"


def _impact(
    impacts: pd.DataFrame, scenario: str, metric: str, borough: str = GM, strand: str = ALL
) -> dict[str, Any] | None:
    rows = impacts[
        (impacts.scenario == scenario)
        & (impacts.metric == metric)
        & (impacts.borough == borough)
        & (impacts.strand == strand)
    ]
    return None if rows.empty else rows.iloc[0].to_dict()


def _gm_values(gm: pd.DataFrame, scenario: str, metric: str) -> np.ndarray:
    """Per-replicate GM values of a metric; strand metrics without an ``all`` row are summed over strands."""
    rows = gm[(gm.scenario == scenario) & (gm.metric == metric)]
    total = rows[rows.strand == ALL]
    if total.empty:
        total = rows.groupby("replicate", as_index=False)["value"].sum()
    return total.sort_values("replicate")["value"].to_numpy(dtype=float)


def _interval_cell(s: dict[str, Any] | None, metric: str, runs: int, spread: bool = True) -> dict[str, Any]:
    """An impact for the ``interval`` macro: ``mean (95% CI low to high)`` and the 2.5-97.5% range of the runs.

    Args:
        s: The impact's ``mean``, ``low``, ``high``, ``p025``, ``p975`` and ``runs`` (None: no such impact).
        metric: Its metric name (how the values are formatted).
        runs: Replicates per scenario (to say when the impact is defined in fewer of them).
        spread: Show the range of the runs below the interval.

    Returns:
        ``kind`` ("missing", "undefined" or "value"), ``shown`` ("same", "ci" or "one"), the formatted values
        and whether the impact is defined in only some runs (``partial``, ``used`` of ``runs``).
    """
    if s is None:
        return {"kind": "missing"}
    n = int(s.get("runs", 0)) if _finite(s.get("runs")) else 0
    if n == 0 or not _finite(s.get("mean")):
        return {"kind": "undefined"}
    bounded = n > 1 and _finite(s.get("low")) and _finite(s.get("high"))
    low, high = (fmt(s["low"], metric), fmt(s["high"], metric)) if bounded else ("", "")
    shown = "one" if n == 1 else "no_ci" if not bounded else "same" if low == high else "ci"
    return {
        "kind": "value",
        "mean": fmt(s["mean"], metric),
        "shown": shown,
        "why": str(s.get("note") or "no interval") if shown == "no_ci" else "",
        "includes_zero": shown == "ci" and metric not in RATIOS and float(s["low"]) < 0 < float(s["high"]),
        "low": low,
        "high": high,
        "spread": spread,
        "p025": fmt(s["p025"], metric) if n > 1 and spread else "",
        "p975": fmt(s["p975"], metric) if n > 1 and spread else "",
        "partial": bool(runs) and n < runs,
        "used": n,
        "runs": runs,
    }


# ----- HTML ----------------------------------------------------------------------------------------


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    numeric: Iterable[int] = (),
    row_classes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A table for the ``table`` macro.

    Args:
        headers: The column headings.
        rows: The rows' cells: text, or impacts from :func:`_interval_cell`.
        numeric: The indices of the columns aligned right.
        row_classes: Each row's CSS class ("" for none), e.g. "best".

    Returns:
        ``headers``, ``rows`` (each with ``cells`` and ``cls``) and ``numeric``.
    """
    return {
        "headers": list(headers),
        "rows": [{"cells": list(row), "cls": row_classes[k] if row_classes else ""} for k, row in enumerate(rows)],
        "numeric": sorted(set(numeric)),
    }


def _plots(pngs: dict[str, Path], captions: dict[str, str]) -> list[dict[str, str]]:
    """The plots to embed: each one's caption and its PNG as a base64 data URI."""
    return [
        {"caption": captions[key], "src": "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()}
        for key, path in pngs.items()
    ]


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")


def _settings(
    result: dict[str, pd.DataFrame], notes: dict[str, Any] | None, shown: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """Run settings: runs and months inferred from the result, the rest passed through from ``notes``.

    Notes whose key is in ``shown`` are left out (they are stated elsewhere).
    """
    shown = set(shown)
    runs, months = _runs(result), _months(result)
    rows: dict[str, str] = {
        "Runs per scenario": f"{runs:,}" + (" (no intervals: one run each)" if runs == 1 else ""),
        "Months simulated": "unknown" if months is None else str(months),
    }
    span = _span(result)
    if span:
        rows["Months simulated"] += f" ({span})"
    seen_uncertainty = False
    for key, value in (notes or {}).items():
        k = _norm(str(key))
        if k in ("runs", "runs_per_scenario") or key in shown:
            continue
        if k == "months":
            if months is not None and str(value).strip() != str(months):
                rows["Months simulated"] = f"{months} ({value}{'; ' + span if span else ''})"
            continue
        if "uncertainty" in k:
            seen_uncertainty = True
            rows["Parameter uncertainty"] = str(value)
            continue
        rows[str(key).replace("_", " ").capitalize()] = str(value)
    if not seen_uncertainty:
        rows["Parameter uncertainty"] = "not stated"
    return list(rows.items())


def _strand_titles() -> dict[str, str]:
    try:
        from .interventions import registered

        return {name: (cls.title or name) for name, cls in registered().items()}
    except Exception:  # noqa: BLE001 - titles are cosmetic
        return {}


def _sources() -> dict[str, dict[str, Any]]:
    try:
        from .parameters import read_data

        return {str(s["id"]): s for s in read_data("sources.yaml") if isinstance(s, dict) and "id" in s}
    except Exception:  # noqa: BLE001 - the report still lists the ids
        return {}


def _transition(name: str) -> str:
    group, _, t = name.partition(".")
    move = t.replace("_to_", " \u2192 ").replace("_", " ")
    return f"{move} ({GROUPS.get(group, group)})"


def _market_assumptions(settings: Mapping[str, float] | None = None) -> tuple[dict[str, Any] | None, list[str]]:
    """The labour market's figures (``labour_market.*`` in ``parameters.yaml``, and the young's sectors) as a table.

    Each figure with its value, its range, whether a replicate draws it (:data:`gmsim.ensemble.DRAWN_MARKET`,
    with parameter uncertainty on) and its source: what sets how much of the strands' gain is displaced and
    how the economy's shocks play out (docs/model.md section 7.8). A figure every scenario sets
    (``settings``: a scenario's ``parameters:`` or ``--set``) shows the value the runs used, and is not drawn.
    The last row is how much more often people under 25 work in the sectors a pandemic shuts
    (``data/sectors.yaml`` ``young_hires``), which sets who such a shock reaches.

    Returns:
        The table (None if the data cannot be read) and the sources it cites.
    """
    settings = settings or {}
    try:
        from .ensemble import DRAWN_MARKET
        from .parameters import read_data

        figures = read_data("parameters.yaml")["labour_market"]
    except Exception:  # noqa: BLE001 - the report goes on without the table
        return None, []
    rows, cited = [], []
    for name, spec in figures.items():
        unit = str(spec.get("unit") or "")
        key = f"labour_market.{name}"
        value = f"{float(spec['value']):g} {unit}"
        if key in settings:
            value = f"{float(settings[key]):g} {unit} (set for these runs; {float(spec['value']):g} in the data file)"
        drawn = "no (set)" if key in settings else "yes" if key in DRAWN_MARKET else "no"
        rows.append(_figure_row(str(spec.get("description") or name), spec, value, drawn))
    young = read_data("sectors.yaml")["young_hires"]  # who works where, so who a shock that shuts sectors reaches
    odds = young["odds_ratio"]
    value = f"{float(odds['value']):g} {odds['unit']}"
    rows.append(_figure_row(str(young["description"]), odds, value, "no", where=" (data/sectors.yaml)"))
    cited.extend(row[4] for row in rows)
    headers = ["Figure", "Value", "Range", "Drawn in each replicate", "Source", "Note"]
    return _table(headers, rows), cited


def _figure_row(description: str, spec: Mapping[str, Any], value: str, drawn: str, where: str = "") -> list[str]:
    """One row of an assumptions table: the description's first sentence, value, range, draw, source, note."""
    low, high = (spec.get("range") or [None, None])[:2]
    return [
        " ".join(description.split()).split(". ")[0].rstrip(".") + where + ".",
        value,
        f"{float(low):g} to {float(high):g}" if low is not None and high is not None else "fixed",
        drawn,
        str(spec.get("source") or ""),
        " ".join(str(spec.get("note") or "").split()),
    ]


def _parameters_set(result: dict[str, pd.DataFrame]) -> dict[str, float]:
    """The baseline parameters every scenario of a comparison or sweep set (its ``parameters`` table)."""
    table = result.get("parameters")
    return {} if table is None else dict(zip(table["parameter"], table["value"].astype(float), strict=True))


def _assumptions(strands: Sequence[str], runs: int, settings: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Unit costs, effect parameters of ``strands`` and the sources cited, for ``assumptions.html``.

    ``settings``: the baseline parameters every scenario of the comparison set (their values are shown).
    """
    from .appraisal import price_base_year, unit_values

    cited: list[str] = []
    rows = []
    year = price_base_year()

    def shown(x: float | None, unit: str) -> str:
        if x is None:
            return ""
        if "GBP" in unit:
            return f"{fmt(x, 'x_gbp')} {unit.replace('GBP', '').strip()}"
        return f"{x:.4g} {unit}"

    for v in unit_values().values():
        cited.append(v.source)
        stated = (
            f" (stated in {v.price_year} prices)" if v.price_year and v.price_year != year and "GBP" in v.unit else ""
        )
        rng_text = f"{shown(v.low, v.unit)} to {shown(v.high, v.unit)}" if v.low is not None else "fixed"
        rows.append([v.description or v.name, shown(v.value, v.unit) + stated, rng_text, v.source, v.note])
    money = _table(["Value", f"Used ({year} prices)", "95% range (drawn)", "Source", "Note"], rows)

    titles = _strand_titles()
    effect_rows, missing = [], []
    try:
        from .interventions import effect_summary, registered

        reg = registered()
    except Exception:  # noqa: BLE001
        effect_summary, reg = None, {}
    for strand in strands:
        if strand not in reg or effect_summary is None:
            missing.append(strand)
            continue
        for r in effect_summary(reg[strand]):
            source = str(r.get("source") or "")
            cited.append(source)
            rng = f"{r['low']:g} to {r['high']:g}" if _finite(r.get("low")) and _finite(r.get("high")) else "fixed"
            effect_rows.append(
                [
                    titles.get(strand, strand),
                    _transition(r["parameter"]),
                    f"{float(r['value']):g}",
                    rng,
                    source,
                    str(r.get("note") or "").strip(),
                ]
            )
    effects = (
        _table(["Strand", "Move (when)", "Hazard ratio", "Range (95%)", "Source", "Note"], effect_rows, numeric=(2,))
        if effect_rows
        else None
    )
    market, market_cited = _market_assumptions(settings)
    cited += market_cited
    sources = _sources()
    listed = []
    for sid in (c for c in dict.fromkeys(cited) if c and c != "assumption"):
        s = sources.get(sid, {})
        title = str(s.get("source_title") or s.get("definition") or "")
        listed.append({"id": sid, "title": title, "url": str(s.get("source_url") or "")})
    from .model import BURN_IN_MONTHS

    return {
        "money": money,
        "effects": effects,
        "market": market,
        "missing": missing,
        "runs": runs,
        "sources": listed,
        "burn_in": BURN_IN_MONTHS,
    }


def _page(template: str, out: Path, command: str, files: Sequence[str], **content: Any) -> Path:
    """Write ``out/report.html`` from ``template`` (which extends ``base.html``).

    Args:
        template: ``compare.html`` or ``sweep.html``.
        out: The report's folder.
        command: The command line that reproduces the report.
        files: The files next to the report.
        **content: What the template's content block shows, plus ``runs`` (replicates per scenario: below
            five the page warns that its intervals are rough), ``plots`` and ``assumptions``.

    Returns:
        The path of ``report.html``.
    """
    from .comparison import few_runs_warning

    page = out / "report.html"
    text = _render(
        template,
        stamp=time.strftime("%d %B %Y, %H:%M"),
        version=__version__,
        command=command,
        files=files,
        few_runs=few_runs_warning(content["runs"]),
        **content,
    )
    page.write_text(text, encoding="utf-8")
    return page


def _verdict(s: dict[str, Any] | None, runs: int) -> str:
    if s is None or not _finite(s.get("mean")):
        return "not defined"
    if runs < 2:
        return "one run only: no interval, so it cannot be told apart from chance"
    if s["low"] > 0:
        return "clearly above zero"
    if s["high"] < 0:
        return "clearly below zero"
    return f"the 95% CI includes zero: with {runs} runs it cannot be told apart from no change"


def _in_words(s: dict[str, Any] | None, metric: str) -> str:
    """``mean (95% CI low to high)`` as plain text, or why there is no interval."""
    if s is None or not _finite(s.get("mean")):
        return "n/a"
    text = fmt(s["mean"], metric)
    if _finite(s.get("low")) and _finite(s.get("high")) and int(s.get("runs", 0)) > 1:
        return f"{text} (95% CI {fmt(s['low'], metric)} to {fmt(s['high'], metric)})"
    return f"{text} ({s.get('note') or 'no interval'})" if int(s.get("runs", 0)) > 1 else text


def terminal_lines(result: dict[str, pd.DataFrame]) -> list[str]:
    """The headline of a comparison or sweep for the terminal: each scenario's (or the best mix's) impact.

    Args:
        result: What :func:`gmsim.compare` or :func:`gmsim.sweep` returns.

    Returns:
        Lines of text: extra person-years in work, spend and benefit-cost ratio against the comparator, each
        with its 95% interval (for a sweep, of the best mix only).
    """
    impacts = result["impacts"]
    if "mixes" in result:
        best = result["mixes"][result["mixes"]["best"].astype(bool)]
        scenarios = [str(best.scenario.iloc[0])] if len(best) else []
        prefix = "best mix "
    else:
        scenarios = [str(s) for s in _scenario_table(result).scenario][1:]
        prefix = ""
    lines = []
    robust = result.get("robust")
    if robust is not None and len(robust):
        least = robust[robust.least_regret.astype(bool)].iloc[0]
        best = "; ".join(f"{e}: {r.scenario}" for r in robust.itertuples() for e in str(r.best_in).split(", ") if e)
        lines.append(f"best mix by economy: {best}; least regret across them: {least.scenario}")
    for name in scenarios:
        years = _in_words(_impact(impacts, name, "extra_person_years_in_work"), "extra_person_years_in_work")
        spend = fmt((_impact(impacts, name, "spend_gbp") or {}).get("mean"), "spend_gbp")
        ratio = _in_words(_impact(impacts, name, "bcr_social"), "bcr_social")
        lines.append(
            f"{prefix}{name}: extra person-years in work {years}; spend {spend}; social benefit-cost ratio {ratio}"
        )
    return lines


def headline_table(impacts: pd.DataFrame, scenarios: Sequence[str], runs: int, per_table: int = 3) -> str:
    """HTML table of the headline measures (Greater Manchester), as in ``report.html``.

    Args:
        impacts: The ``impacts`` table of :func:`gmsim.compare`.
        scenarios: The scenarios to show (not the comparator).
        runs: Replicates per scenario.
        per_table: Scenarios per table (more scenarios make more tables).

    Returns:
        One or more ``<table>`` elements: mean, 95% CI of the mean and range of runs per measure.
    """
    return _render_tables(_headline_tables(impacts, scenarios, runs, per_table))


def _headline_tables(
    impacts: pd.DataFrame, scenarios: Sequence[str], runs: int, per_table: int = 3
) -> list[dict[str, Any]]:
    out = []
    for k in range(0, len(scenarios), per_table):
        chunk = scenarios[k : k + per_table]
        rows = [[LABELS.get(m, m)] + [_interval_cell(_impact(impacts, s, m), m, runs) for s in chunk] for m in HEADLINE]
        out.append(_table(["Measure (Greater Manchester)", *chunk], rows, numeric=range(1, len(chunk) + 1)))
    return out


# ----- plots ---------------------------------------------------------------------------------------


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path


def _nothing(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#5a6572")
    ax.set_xticks([])
    ax.set_yticks([])


def _yerr(means: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray | None:
    """Error bar lengths below and above the means (None when there is no interval to draw)."""
    err = np.clip(np.nan_to_num(np.vstack([means - low, high - means]), nan=0.0), 0, None)
    return err if err.any() else None


def _axis_format(ax: Any, money: bool = False, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    def text(v: float, _: Any) -> str:
        body = f"{abs(v):,.0f}" if abs(v) >= 10 or v == 0 else f"{abs(v):.2g}"
        return (MINUS if v < 0 else "") + ("£" if money else "") + body

    f = FuncFormatter(text)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(f)


def _grouped_bars(
    ax: Any,
    categories: Sequence[str],
    scenarios: Sequence[str],
    stats: Callable[[str, str], dict[str, Any] | None],
    scale: float = 1.0,
    labels: dict[str, str] | None = None,
) -> None:
    """Bars of mean per category and scenario with 95% CI error bars; NaN bars are left out."""
    plt = _pyplot()
    cmap = plt.get_cmap("tab10")
    width = 0.8 / max(1, len(scenarios))
    x = np.arange(len(categories))
    for j, sc in enumerate(scenarios):
        rows = [stats(c, sc) or {} for c in categories]
        mean = np.array([float(r.get("mean", np.nan)) for r in rows]) / scale
        low = np.array([float(r.get("low", np.nan)) for r in rows]) / scale
        high = np.array([float(r.get("high", np.nan)) for r in rows]) / scale
        ax.bar(
            x + (j - (len(scenarios) - 1) / 2) * width,
            np.nan_to_num(mean),
            width,
            color=cmap(j % 10),
            label=sc,
            yerr=_yerr(mean, low, high),
            capsize=2,
            error_kw={"lw": 0.8, "ecolor": "#333"},
        )
    ax.set_xticks(x)
    many = len(categories) > 6
    names = [(labels or {}).get(c, c) for c in categories]
    ax.set_xticklabels(
        names if many else [textwrap.fill(n, 14) for n in names],
        rotation=20 if many else 0,
        ha="right" if many else "center",
        fontsize=8,
    )
    ax.axhline(0, color="#333", lw=0.6)
    ax.grid(axis="y", alpha=0.3)


def _calendar_of(frame: pd.DataFrame) -> Any:
    """The calendar of a frame with ``month`` and ``date`` columns, or None without dates."""
    from .dates import Calendar, YearMonth

    if "date" not in frame.columns or frame.empty:
        return None
    first = frame.loc[frame["month"].idxmin()]
    return Calendar(YearMonth.parse(str(first["date"])).plus(1 - int(first["month"])))


def _time_axis(frame: pd.DataFrame, months: Any) -> np.ndarray:
    """Where ``months`` go on a time axis: their dates (from ``frame``), or the months without dates."""
    calendar = _calendar_of(frame)
    return np.asarray(months, dtype=float) if calendar is None else calendar.months_as_dates(months)


def _label_time_axis(ax: Any, frame: pd.DataFrame) -> None:
    from .dates import date_axis

    calendar = _calendar_of(frame)
    if calendar is None:
        ax.set_xlabel("month")
    else:
        date_axis(ax, calendar)


def _plot_over_time(over: pd.DataFrame, scenarios: Sequence[str], comparator: str, path: Path) -> Path:
    plt = _pyplot()
    cmap = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(10, 5))
    drawn = False
    for j, sc in enumerate(scenarios):
        g = over[over.scenario == sc].pivot_table(index="month", columns="replicate", values="extra_people_in_work")
        if g.empty:
            continue
        v = g.to_numpy(dtype=float)
        with np.errstate(all="ignore"):
            mean = np.nanmean(v, axis=1)
            lo, hi = np.nanpercentile(v, 2.5, axis=1), np.nanpercentile(v, 97.5, axis=1)
        x = _time_axis(over, g.index)
        ax.fill_between(x, lo, hi, color=cmap(j % 10), alpha=0.18, lw=0)
        ax.plot(x, mean, color=cmap(j % 10), lw=2, label=f"{sc}: mean of {v.shape[1]} runs")
        drawn = True
    if not drawn:
        _nothing(ax, "no scenario to compare with the comparator")
    else:
        from matplotlib.patches import Patch

        handles, names = ax.get_legend_handles_labels()
        handles.append(Patch(color="#888", alpha=0.3))
        names.append("shaded: 2.5–97.5% of runs")
        ax.legend(handles, names, fontsize=8, loc="best")
        ax.axhline(0, color="#333", lw=0.6)
        ax.set_xlim(*_time_axis(over, [0, over["month"].max()]))
        _label_time_axis(ax, over)
        ax.set_ylabel("extra people in work")
        _axis_format(ax)
        ax.grid(alpha=0.3)
    ax.set_title(
        f"Extra people in work in Greater Manchester vs {comparator}, by month\n"
        "line: mean over runs; band: 2.5–97.5 percentile of runs",
        fontsize=10,
    )
    return _save(fig, path)


STOCK_TITLES = {
    "in_work": "People in work (incl. at risk)",
    "out_of_work": "People out of work (claiming)",
    "out_of_work_health": "Out of work because of health",
}


def _plot_stocks(stocks: pd.DataFrame, scenarios: Sequence[str], path: Path) -> Path:
    """Greater Manchester stocks by month: one line per scenario (mean of runs), band 2.5-97.5% of runs."""
    plt = _pyplot()
    cmap = plt.get_cmap("tab10")
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for ax, (col, title) in zip(axes, STOCK_TITLES.items(), strict=True):
        for j, sc in enumerate(scenarios):
            g = stocks[stocks.scenario == sc].pivot_table(index="month", columns="replicate", values=col)
            if g.empty:
                continue
            v = g.to_numpy(dtype=float)
            x = _time_axis(stocks, g.index)
            ax.fill_between(
                x,
                np.percentile(v, 2.5, axis=1),
                np.percentile(v, 97.5, axis=1),
                color=cmap(j % 10),
                alpha=0.18,
                lw=0,
            )
            ax.plot(x, v.mean(axis=1), color=cmap(j % 10), lw=1.6, ls="--" if j == 0 else "-", label=sc)
        ax.set_title(title, fontsize=10)
        _label_time_axis(ax, stocks)
        _axis_format(ax)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("people")
    axes[0].legend(fontsize=8)
    fig.suptitle(
        "Greater Manchester stocks by month; line: mean over runs, band: 2.5–97.5 percentile of runs", fontsize=11
    )
    return _save(fig, path)


def _plot_strands(impacts: pd.DataFrame, scenarios: Sequence[str], path: Path) -> Path:
    plt = _pyplot()
    gm = impacts[(impacts.borough == GM) & (impacts.strand != ALL)]
    strands = list(dict.fromkeys(gm[gm.scenario.isin(scenarios)].strand))
    titles = _strand_titles()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.8))
    for ax, (metric, scale, unit) in zip(
        axes,
        (("sustained_jobs_12m", 1, "people"), ("kept_in_work", 1, "people"), ("spend_gbp", 1e6, "£ million")),
        strict=True,
    ):
        if not strands or not scenarios:
            _nothing(ax, "no strands")
            continue
        _grouped_bars(
            ax,
            strands,
            scenarios,
            lambda c, s, m=metric: _impact(gm, s, m, GM, c),
            scale,
            {s: titles.get(s, s) for s in strands},
        )
        ax.set_title(LABELS[metric] if metric != "spend_gbp" else "Spend", fontsize=10)
        ax.set_ylabel(unit)
        _axis_format(ax)
    if strands and scenarios:
        axes[0].legend(fontsize=8)
    fig.suptitle(
        "Programme outcomes counted by each strand (gross, Greater Manchester); error bars: 95% CI of the mean",
        fontsize=11,
    )
    return _save(fig, path)


def _plot_boroughs(impacts: pd.DataFrame, scenarios: Sequence[str], path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(12, 5))
    metric = "extra_person_years_in_work"
    if scenarios:
        _grouped_bars(ax, list(codes.BOROUGHS), scenarios, lambda b, s: _impact(impacts, s, metric, b))
        ax.legend(fontsize=8)
        ax.set_ylabel("extra person-years in work")
        _axis_format(ax)
    else:
        _nothing(ax, "no scenario to compare with the comparator")
    ax.set_title("Extra person-years in work by borough; error bars: 95% CI of the mean", fontsize=11)
    return _save(fig, path)


def _plot_cost(impacts: pd.DataFrame, scenarios: Sequence[str], path: Path) -> Path:
    plt = _pyplot()
    cmap = plt.get_cmap("tab10")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for ax, metric in zip(axes, ("cost_per_extra_person_year_in_work", "bcr_social"), strict=True):
        if not scenarios:
            _nothing(ax, "no scenario to compare with the comparator")
            continue
        rows = [_impact(impacts, s, metric) or {} for s in scenarios]
        mean = np.array([float(r.get("mean", np.nan)) for r in rows])
        if not np.isfinite(mean).any():
            _nothing(ax, "not defined in any run (no spend, or no gain)")
            ax.set_title(LABELS[metric], fontsize=10)
            continue
        low = np.array([float(r.get("low", np.nan)) for r in rows])
        high = np.array([float(r.get("high", np.nan)) for r in rows])
        x = np.arange(len(scenarios))
        pad = max(0.0, (3 - len(scenarios)) / 2)
        ax.set_xlim(-0.6 - pad, len(scenarios) - 0.4 + pad)
        ax.bar(
            x,
            np.nan_to_num(mean),
            0.6,
            color=[cmap(j % 10) for j in range(len(scenarios))],
            yerr=_yerr(mean, low, high),
            capsize=4,
            error_kw={"lw": 0.9, "ecolor": "#333"},
        )
        for xi, m in zip(x, mean, strict=True):
            if not np.isfinite(m):
                ax.text(xi, 0, "n/a", ha="center", va="bottom", color="#5a6572")
        if metric == "bcr_social":
            ax.axhline(1, color="#b22", lw=1, ls="--", label="benefits = costs")
            ax.legend(fontsize=8)
        else:
            _axis_format(ax, money=True)
        ax.axhline(0, color="#333", lw=0.6)
        ax.set_xticks(x)
        ax.set_xticklabels(scenarios, rotation=15 if len(scenarios) > 3 else 0, fontsize=8)
        ax.set_title(LABELS[metric], fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Value for money (Greater Manchester); error bars: 95% CI of the mean", fontsize=11)
    return _save(fig, path)


# ----- compare ---------------------------------------------------------------------------------------


def _write_tables(result: dict[str, pd.DataFrame], out: Path, names: Sequence[str]) -> list[str]:
    written = []
    for name in names:
        df = result.get(name)
        if df is None:
            continue
        if name in ("impacts", "attribution", "mixes", "boroughs"):
            cols = [c for c in df.columns if c in STAT_COLUMNS or c.startswith(("gap", "frontier_", "gm_best_mean"))]
            df = _round_frame(df, cols, "metric" if "metric" in df.columns else "objective")
            for c in (c for c in df.columns if c.startswith("share")):
                df[c] = df[c].round(4)
        elif name == "replicates":
            df = _round_frame(df, ["value"])
        elif name in ("decision", "evppi"):
            df = df.round({"mean": 2, "probability_best": 4, "expected_loss": 2, "evppi": 2, "evppi_gbp": 0})
            df = df.round({"share_of_evpi": 4})
        elif name == "over_time":
            df = df.round({"extra_people_in_work": 2})
        elif name == "stocks":
            df = df.round({c: 2 for c in STOCK_TITLES})
        df.to_csv(out / f"{name}.csv", index=False)
        written.append(f"{name}.csv")
    return written


def _strands_in(impacts: pd.DataFrame, scenarios: Sequence[str]) -> list[str]:
    rows = impacts[(impacts.borough == GM) & (impacts.strand != ALL) & impacts.scenario.isin(scenarios)]
    funded = rows[(rows.metric == "spend_gbp") & (rows["mean"].fillna(0) > 0)]
    return list(dict.fromkeys((funded if len(funded) else rows).strand))


PLOT_CAPTIONS = {
    "impacts_over_time": "Extra people in work by month",
    "stocks": "Stocks by month",
    "strands": "Outcomes and spend by strand",
    "boroughs": "Extra person-years in work by borough",
    "cost_per_outcome": "Cost per extra person-year in work and benefit-cost ratio",
}


def _run_as(row: Any) -> str:
    """How a scenario was run (months, scale, people), which the command line may have changed from its file."""
    months, scale = getattr(row, "months", None), getattr(row, "scale", None)
    if not (_finite(months) and _finite(scale)):
        return "as in its file"
    from .parameters import read_data

    people = round(float(read_data("population.yaml")["working_age_population"]["value"]) * float(scale))
    return f"{int(months)} months at scale {float(scale):g} ({people:,} people)"


def _scenario_table(result: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The compared scenarios (comparator first) with their descriptions, from the impacts if not given."""
    table = result.get("scenarios")
    if table is None or table.empty:
        table = pd.DataFrame({"scenario": list(dict.fromkeys(result["impacts"].scenario)), "description": ""})
    return table


def compare_plots(result: dict[str, pd.DataFrame], folder: Path) -> dict[str, Path]:
    """Draw a comparison's plots into ``folder``.

    Args:
        result: What :func:`gmsim.compare` returns.
        folder: An existing folder.

    Returns:
        The PNG files by name (the keys of ``PLOT_CAPTIONS``; ``stocks`` only when the result has stocks).
    """
    names = [str(s) for s in _scenario_table(result).scenario]
    comparator, others = names[0], names[1:]
    impacts = result["impacts"]
    pngs = {
        "impacts_over_time": _plot_over_time(result["over_time"], others, comparator, folder / "impacts_over_time.png")
    }
    if "stocks" in result:
        pngs["stocks"] = _plot_stocks(result["stocks"], names, folder / "stocks.png")
    pngs["strands"] = _plot_strands(impacts, others, folder / "strands.png")
    pngs["boroughs"] = _plot_boroughs(impacts, others, folder / "boroughs.png")
    pngs["cost_per_outcome"] = _plot_cost(impacts, others, folder / "cost_per_outcome.png")
    return pngs


def borough_table(impacts: pd.DataFrame, scenarios: Sequence[str], runs: int) -> str:
    """HTML table of extra person-years in work by borough and for Greater Manchester.

    Args:
        impacts: The ``impacts`` table of :func:`gmsim.compare`.
        scenarios: The scenarios to show (not the comparator).
        runs: Replicates per scenario.

    Returns:
        A ``<table>`` element.
    """
    return _render_tables([_borough_table(impacts, scenarios, runs)])


def _borough_table(impacts: pd.DataFrame, scenarios: Sequence[str], runs: int) -> dict[str, Any]:
    metric = "extra_person_years_in_work"
    rows = [
        [b] + [_interval_cell(_impact(impacts, s, metric, b), metric, runs) for s in scenarios]
        for b in (*codes.BOROUGHS, GM)
    ]
    return _table(
        ["Borough", *scenarios],
        rows,
        numeric=range(1, len(scenarios) + 1),
        row_classes=[""] * len(codes.BOROUGHS) + ["best"],
    )


def strand_table(impacts: pd.DataFrame, scenarios: Sequence[str], runs: int) -> str:
    """HTML table of each funded strand's gross outcomes and spend (mean with 95% CI).

    Args:
        impacts: The ``impacts`` table of :func:`gmsim.compare`.
        scenarios: The scenarios to show (not the comparator).
        runs: Replicates per scenario.

    Returns:
        A ``<table>`` element, or ``""`` when no scenario funds a strand.
    """
    table = _strand_table(impacts, scenarios, runs)
    return _render_tables([table]) if table else ""


def _cohort_value(x: float, metric: str) -> str:
    """A cohort measure: months and severity to 2 decimals; shares in % (an impact in percentage points)."""
    impact = not metric.endswith(("_treated", "_comparison", "_deadweight"))
    if "months" in metric or "severity" in metric:
        text = f"{abs(x):.2f}"
    else:
        text = f"{abs(100 * x):.1f}" + (" pts" if impact else "%")
    return (MINUS if round(x, 4) < 0 else "+" if impact and round(x, 4) > 0 else "") + text


#: The cohort measures and horizons the report shows (all are in ``impacts.csv``).
COHORT_SHOWN = ("started_work", "job_26_weeks", "in_work", "months_in_work", "months_on_benefit")
COHORT_HORIZONS_SHOWN = ("12m", "24m")


def _entries_table(impacts: pd.DataFrame, scenarios: Sequence[str], runs: int) -> dict[str, Any] | None:
    """Each scenario's participants' extra job entries, those displaced from everyone else, and the net."""
    rows = []
    for s in scenarios:
        cells = [_impact(impacts, s, m) for m in ENTRIES_SHOWN]
        if any(c is None for c in cells):
            continue
        rows.append([s, *[_interval_cell(c, m, runs, False) for c, m in zip(cells, ENTRIES_SHOWN, strict=True)]])
    if not rows:
        return None
    return _table(["Scenario", *[LABELS[m] for m in ENTRIES_SHOWN]], rows, numeric=(1, 2, 3))


def _cohort_table(impacts: pd.DataFrame, scenarios: Sequence[str], runs: int) -> dict[str, Any] | None:
    """Each strand's referral cohorts against the same people with no strand funded, per scenario."""
    rows = []
    titles = _strand_titles()
    for s in scenarios:
        for st in _strands_in(impacts, [s]):
            for h in COHORT_HORIZONS_SHOWN:
                followed = _impact(impacts, s, f"cohort_followed_{h}", GM, st)
                if not followed or not _finite(followed.get("mean")) or followed["mean"] <= 0:
                    continue
                for m in COHORT_SHOWN:
                    metric = f"cohort_{m}_{h}"
                    parts = [_impact(impacts, s, f"{metric}{x}", GM, st) for x in ("_treated", "_comparison")]
                    rows.append(
                        [
                            s,
                            titles.get(st, st),
                            h.replace("m", " months"),
                            m.replace("_", " "),
                            fmt((parts[0] or {}).get("mean"), f"{metric}_treated"),
                            fmt((parts[1] or {}).get("mean"), f"{metric}_comparison"),
                            _interval_cell(_impact(impacts, s, metric, GM, st), metric, runs, False),
                        ]
                    )
    if not rows:
        return None
    headers = ["Scenario", "Strand", "After referral", "Measure", "Referred", "Anyway", "Impact"]
    return _table(headers, rows, numeric=range(4, 7))


def _strand_table(impacts: pd.DataFrame, scenarios: Sequence[str], runs: int) -> dict[str, Any] | None:
    strands = _strands_in(impacts, scenarios)
    if not strands:
        return None
    titles = _strand_titles()
    rows = [
        [titles.get(st, st), LABELS.get(m, m)]
        + [_interval_cell(_impact(impacts, s, m, GM, st), m, runs, False) for s in scenarios]
        for st in strands
        for m in STRAND_TABLE
    ]
    return _table(["Strand", "Measure", *scenarios], rows, numeric=range(2, len(scenarios) + 2))


def write_compare_report(
    result: dict[str, pd.DataFrame], out: Path, command: str, notes: dict[str, Any] | None = None
) -> Path:
    """Write the tables, plots and ``report.html`` of a scenario comparison into ``out``.

    Args:
        result: What :func:`gmsim.compare` returns (``impacts``, ``replicates``, ``over_time``, ``scenarios``
            and, when present, ``stocks``).
        out: An existing folder.
        command: The command line that reproduces the comparison (shown under "How to rerun").
        notes: Extra facts to state (e.g. seed, scale, months, parameter uncertainty, workers).

    Returns:
        The path of ``report.html``.
    """
    out = Path(out)
    plots = out / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    files = _write_tables(result, out, ("impacts", "replicates", "over_time", "stocks"))
    impacts = result["impacts"]
    sc_table = _scenario_table(result)
    names = [str(s) for s in sc_table.scenario]
    comparator, others = names[0], names[1:]
    runs = _runs(result)

    pngs = compare_plots(result, plots)
    files += [f"plots/{p.name}" for p in pngs.values()]

    scenarios = _table(
        ["Scenario", "Role", "Run here as", "Description (from its file)"],
        [
            [r.scenario, "comparator" if k == 0 else "compared", _run_as(r), str(r.description or "").strip()]
            for k, r in enumerate(sc_table.itertuples())
        ],
    )
    headlines = []
    for s in others:
        r = _impact(impacts, s, "extra_person_years_in_work")
        spend = _impact(impacts, s, "spend_gbp")
        headlines.append(
            {
                "scenario": s,
                "years": _interval_cell(r, "extra_person_years_in_work", runs, False),
                "spend": fmt((spend or {}).get("mean"), "spend_gbp"),
                "verdict": _verdict(r, runs),
            }
        )
    return _page(
        "compare.html",
        out,
        command,
        files,
        names=names,
        comparator=comparator,
        others=others,
        runs=runs,
        months=_months(result),
        span=_span(result),
        scenarios=scenarios,
        settings=_table(["Setting", "Value"], _settings(result, notes)),
        headlines=headlines,
        headline_tables=_headline_tables(impacts, others, runs),
        borough_table=_borough_table(impacts, others, runs),
        strand_table=_strand_table(impacts, others, runs),
        cohort_table=_cohort_table(impacts, others, runs),
        entries_table=_entries_table(impacts, others, runs),
        plots=_plots(pngs, PLOT_CAPTIONS),
        assumptions=_assumptions(_strands_in(impacts, names), runs, _parameters_set(result)),
    )


# ----- sweep -----------------------------------------------------------------------------------------


def _share_columns(mixes: pd.DataFrame) -> list[str]:
    return [c[len("share_") :] for c in mixes.columns if c.startswith("share_")]


def _shares_text(row: pd.Series, strands: Sequence[str]) -> str:
    return ", ".join(f"{s} {100 * float(row[f'share_{s}']):.0f}%" for s in strands)


def _plot_mix_grid(mixes: pd.DataFrame, objective: str, path: Path) -> Path:
    plt = _pyplot()
    strands = _share_columns(mixes)
    label = LABELS.get(objective, objective)
    fig, ax = plt.subplots(figsize=(8.5, 6.5))
    if mixes.empty or len(strands) < 2:
        _nothing(ax, "no mixes")
        return _save(fig, path)
    best = mixes[mixes.best.astype(bool)] if "best" in mixes else mixes.iloc[:0]
    if len(strands) == 2:
        s0, s1 = strands
        d = mixes.sort_values(f"share_{s0}")
        x = 100 * d[f"share_{s0}"].to_numpy(dtype=float)
        m, lo, hi = (d[c].to_numpy(dtype=float) for c in ("mean", "low", "high"))
        ax.fill_between(x, lo, hi, color="#3b6ea5", alpha=0.18, lw=0, label="95% CI of the mean")
        ax.plot(x, m, "o-", color="#3b6ea5", label="mean")
        if len(best):
            ax.plot(100 * best[f"share_{s0}"], best["mean"], "*", ms=16, color="#d62728", label="best mix")
        ax.set_xlabel(f"share of {s0} (%); the rest goes to {s1}")
        ax.set_ylabel(label)
        _axis_format(ax)
        ax.axhline(0, color="#333", lw=0.6)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(f"{label} by mix", fontsize=11)
        return _save(fig, path)
    spans = {s: float(mixes[f"share_{s}"].max() - mixes[f"share_{s}"].min()) for s in strands}
    a, b = sorted(strands, key=lambda s: -spans[s])[:2]
    va, vb = mixes[f"share_{a}"].to_numpy(dtype=float), mixes[f"share_{b}"].to_numpy(dtype=float)
    levels = np.unique(np.round(np.concatenate([va, vb]), 6))
    if len(levels) <= 11:
        ia, ib = np.searchsorted(levels, np.round(va, 6)), np.searchsorted(levels, np.round(vb, 6))
        ticks = [f"{100 * v:.0f}" for v in levels]
    else:  # random mixes: bins of 10 percentage points
        edges = np.linspace(0, 1, 11)
        ia, ib = (np.clip(np.digitize(v, edges) - 1, 0, 9) for v in (va, vb))
        ticks = [f"{10 * k}–{10 * k + 10}" for k in range(10)]
    n = len(ticks)
    grid = np.full((n, n), np.nan)
    means = mixes["mean"].to_numpy(dtype=float)
    for i, j, v in zip(ia, ib, means, strict=True):
        if np.isfinite(v) and not (grid[j, i] >= v):
            grid[j, i] = v
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("white")
    im = ax.imshow(np.ma.masked_invalid(grid), origin="lower", cmap=cmap, aspect="auto")
    fig.colorbar(im, ax=ax, label=f"best mean {label.lower()}")
    if n <= 15:
        finite = grid[np.isfinite(grid)]
        mid = (finite.min() + finite.max()) / 2 if finite.size else 0
        for j in range(n):
            for i in range(n):
                if np.isfinite(grid[j, i]):
                    ax.text(
                        i,
                        j,
                        f"{grid[j, i]:,.0f}",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white" if grid[j, i] < mid else "black",
                    )
    if len(best):
        k = int(np.flatnonzero(mixes.best.astype(bool).to_numpy())[0])
        ax.add_patch(plt.Rectangle((ia[k] - 0.5, ib[k] - 0.5), 1, 1, fill=False, ec="#d62728", lw=2.5))
    ax.set_xticks(range(n))
    ax.set_xticklabels(ticks, fontsize=8)
    ax.set_yticks(range(n))
    ax.set_yticklabels(ticks, fontsize=8)
    ax.set_xlabel(f"share of {a} (%)")
    ax.set_ylabel(f"share of {b} (%)")
    rest = [s for s in strands if s not in (a, b)]
    ax.set_title(
        f"{label}: best mean over the mixes with these shares\n(the rest goes to {', '.join(rest)}; red box: best mix)",
        fontsize=10,
    )
    return _save(fig, path)


def _plot_frontier(mixes: pd.DataFrame, path: Path) -> Path:
    plt = _pyplot()
    cols = [c for c in mixes.columns if c.startswith("frontier_")]
    fig, ax = plt.subplots(figsize=(9, 6))
    if mixes.empty or len(cols) < 2:
        _nothing(ax, "no frontier metrics")
        return _save(fig, path)
    cx, cy = cols[:2]
    x, y = mixes[cx].to_numpy(dtype=float), mixes[cy].to_numpy(dtype=float)
    noise = (
        mixes["within_noise_of_best"].astype(bool).to_numpy()
        if "within_noise_of_best" in mixes
        else np.zeros(len(mixes), bool)
    )
    ax.scatter(x[~noise], y[~noise], s=22, color="#9aa5b1", label="mix")
    ax.scatter(x[noise], y[noise], s=28, color="#f0a030", label="within noise of the best (objective)")
    if "on_frontier" in mixes:
        f = mixes[mixes.on_frontier.astype(bool)].sort_values(cx)
        ax.plot(f[cx], f[cy], "o-", color="#3b6ea5", ms=6, label="frontier (no mix better on both)")
        if len(f) <= 15:
            for _, r in f.iterrows():
                ax.annotate(str(r["scenario"]), (r[cx], r[cy]), fontsize=7, xytext=(4, 4), textcoords="offset points")
    if "best" in mixes:
        b = mixes[mixes.best.astype(bool)]
        ax.plot(b[cx], b[cy], "*", ms=18, color="#d62728", label="best mix (objective)")
    mx, my = cx[len("frontier_") :], cy[len("frontier_") :]
    ax.set_xlabel(f"{LABELS.get(mx, mx)} (mean)")
    ax.set_ylabel(f"{LABELS.get(my, my)} (mean)")
    _axis_format(ax)
    _axis_format(ax, axis="x")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Trade-off between the two frontier measures (means over runs)", fontsize=11)
    return _save(fig, path)


def _plot_attribution(attribution: pd.DataFrame, path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.8))
    if attribution is None or attribution.empty:
        _nothing(ax, "no attribution")
        return _save(fig, path)
    parts = attribution[~attribution.strand.isin(["total", "unattributed"])]
    total = attribution[attribution.strand == "total"]
    titles = _strand_titles()
    names = [titles.get(s, s) for s in parts.strand]
    m, lo, hi = (parts[c].to_numpy(dtype=float) for c in ("mean", "low", "high"))
    y = np.arange(len(parts))[::-1] + (1.5 if len(total) else 0)
    ax.barh(
        y,
        np.nan_to_num(m),
        0.6,
        color="#3b6ea5",
        xerr=_yerr(m, lo, hi),
        capsize=4,
        error_kw={"lw": 0.9, "ecolor": "#333"},
        label="Shapley attribution",
    )
    ticks, labels = list(y), names
    if len(total):
        tm, tl, th = (total[c].to_numpy(dtype=float) for c in ("mean", "low", "high"))
        ax.barh(
            [0],
            np.nan_to_num(tm),
            0.6,
            color="#9aa5b1",
            xerr=_yerr(tm, tl, th),
            capsize=4,
            error_kw={"lw": 0.9, "ecolor": "#333"},
            label="total of the best mix",
        )
        if np.isfinite(tm[0]):
            ax.axvline(tm[0], color="#555", ls="--", lw=1)
        ticks, labels = [*ticks, 0], [*labels, "total"]
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels, fontsize=9)
    ax.axvline(0, color="#333", lw=0.6)
    objective = str(attribution["objective"].iloc[0]) if "objective" in attribution else ""
    scenario = str(attribution["scenario"].iloc[0]) if "scenario" in attribution else ""
    ax.set_xlabel(LABELS.get(objective, objective))
    _axis_format(ax, axis="x")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(
        f"Who contributes what in {scenario}: Shapley attribution (error bars: 95% CI of the mean;\n"
        "the attributions add up to the total, dashed line)",
        fontsize=10,
    )
    return _save(fig, path)


def _plot_objective(mixes: pd.DataFrame, objective: str, path: Path) -> Path:
    plt = _pyplot()
    n = len(mixes)
    fig, ax = plt.subplots(figsize=(max(8.0, min(16.0, 0.28 * n + 3)), 5.5))
    if not n:
        _nothing(ax, "no mixes")
        return _save(fig, path)
    d = mixes.sort_values("mean", ascending=False, na_position="last").reset_index(drop=True)
    x = np.arange(n)
    noise = d["within_noise_of_best"].astype(bool).to_numpy()
    best = d["best"].astype(bool).to_numpy()
    m, lo, hi = (d[c].to_numpy(dtype=float) for c in ("mean", "low", "high"))
    for mask, colour, name in (
        (~noise, "#9aa5b1", "other mixes"),
        (noise & ~best, "#f0a030", "within noise of best"),
        (best, "#d62728", "best mix"),
    ):
        if mask.any():
            ax.errorbar(
                x[mask],
                m[mask],
                yerr=_yerr(m[mask], lo[mask], hi[mask]),
                fmt="o",
                ms=4 if n > 60 else 6,
                color=colour,
                ecolor=colour,
                elinewidth=1,
                capsize=0 if n > 60 else 2,
                label=name,
            )
    if n <= 60:
        ax.set_xticks(x)
        ax.set_xticklabels(d["scenario"], rotation=90, fontsize=7)
    else:
        ax.set_xticks([])
        ax.set_xlabel("mixes, best first (names in mixes.csv)")
    label = LABELS.get(objective, objective)
    ax.set_ylabel(label)
    _axis_format(ax)
    ax.axhline(0, color="#333", lw=0.6)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"{label} of every mix, best first (mean with 95% CI of the mean)", fontsize=11)
    return _save(fig, path)


def _note(notes: dict[str, Any] | None, *fragments: str) -> tuple[str | None, Any]:
    """The first ``(key, value)`` of ``notes`` whose key contains one of ``fragments``, or ``(None, None)``."""
    for key, value in (notes or {}).items():
        if any(f in _norm(str(key)) for f in fragments):
            return key, value
    return None, None


def _kept_text(kept: pd.DataFrame | None, titles: dict[str, str]) -> str:
    """The base scenario's strands outside the sweep that keep a budget in every mix, in words ("" if none)."""
    if kept is None or kept.empty:
        return ""
    return ", ".join(f"{titles.get(r.strand, r.strand)} ({r.strand}) {r.budget}" for r in kept.itertuples())


def _grid_text(key: str | None, value: Any) -> str:
    if key is None:
        return "not stated"
    if isinstance(value, str) and not _finite(value):
        return value
    if "step" in _norm(key) and _finite(value):
        step = float(value)
        return f"every multiple of {100 * step:g}% ({step:g} of the budget)"
    if "sample" in _norm(key) and _finite(value):
        return f"{int(float(value)):,} random mixes (uniform over all splits)"
    return f"{key}: {value}"


def _borough_section(
    boroughs: pd.DataFrame | None, strands: Sequence[str], runs: int, objective: str
) -> dict[str, Any] | None:
    """The best mix in each borough and what the Greater Manchester best mix gives up there."""
    if boroughs is None or boroughs.empty:
        return None
    metric = str(boroughs.metric.iloc[0])
    gm_best = str(boroughs.gm_best_mix.iloc[0])
    rows = []
    for _, r in boroughs.iterrows():
        same = r.best_mix == gm_best
        gap = {"mean": r.gap, "low": r.gap_low, "high": r.gap_high, "runs": runs}
        rows.append(
            [
                r.borough,
                r.best_mix + (" (the GM best)" if same else ""),
                _shares_text(r, strands),
                _interval_cell(r.to_dict() | {"runs": runs}, metric, runs, False),
                _interval_cell(None if same else gap, metric, runs, False),
                f"{int(r.within_noise):,}",
            ]
        )
    headers = ["Borough", "Best mix there", "Shares", LABELS.get(metric, metric)]
    return {
        "measure": LABELS.get(metric, metric).lower(),
        "other_measure": metric != objective,
        "gm_best": gm_best,
        "table": _table([*headers, "Gain over the GM best mix", "Mixes within noise"], rows, numeric=(3, 4, 5)),
    }


def write_sweep_report(
    result: dict[str, pd.DataFrame], out: Path, command: str, notes: dict[str, Any] | None = None
) -> Path:
    """Write the tables, plots and ``report.html`` of a funding-mix sweep into ``out``.

    Args:
        result: What :func:`gmsim.sweep` returns (``mixes``, ``impacts``, ``attribution``, ``replicates``,
            ``over_time`` and, when present, ``boroughs``).
        out: An existing folder.
        command: The command line that reproduces the sweep (shown under "How to rerun").
        notes: Extra facts to state, e.g. total budget, step, seed, scale, parameter uncertainty.

    Returns:
        The path of ``report.html``.
    """
    out = Path(out)
    plots = out / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    files = _write_tables(
        result, out, ("mixes", "decision", "evppi", "impacts", "attribution", "boroughs", "replicates", "robust")
    )
    mixes, impacts = result["mixes"], result["impacts"]
    attribution = result.get("attribution")
    strands = _share_columns(mixes)
    objective = str(mixes["objective"].iloc[0]) if len(mixes) and "objective" in mixes else "extra_person_years_in_work"
    frontier_cols = [c for c in mixes.columns if c.startswith("frontier_")]
    frontier = [c[len("frontier_") :] for c in frontier_cols]
    comparator = str(impacts.scenario.iloc[0]) if len(impacts) else "the comparator"
    runs = _runs(result)
    rep = result["replicates"]
    gm = rep[rep.borough == GM]
    titles = _strand_titles()
    label = LABELS.get(objective, objective)

    pngs = {
        "mix_grid": _plot_mix_grid(mixes, objective, plots / "mix_grid.png"),
        "frontier": _plot_frontier(mixes, plots / "frontier.png"),
        "attribution": _plot_attribution(attribution, plots / "attribution.png"),
        "objective": _plot_objective(mixes, objective, plots / "objective.png"),
    }
    files += [f"plots/{p.name}" for p in pngs.values()]

    def stats(scenario: str, metric: str) -> dict[str, Any]:
        return _summarise(_gm_values(gm, scenario, metric))

    budget_key, budget = _note(notes, "budget")
    grid_key, grid = _note(notes, "step", "sample", "shares")
    kept = _kept_text(result.get("kept"), titles)
    facts = [
        ("Strands whose shares vary", ", ".join(f"{titles.get(s, s)} ({s})" for s in strands)),
        (
            "Total budget split across them",
            fmt(budget, "x_gbp") + " a year" if _finite(budget) else str(budget or "not stated"),
        ),
        ("Kept funded in every mix (not split)", kept or "nothing: the swept strands are all the mixes fund"),
        ("Shares tried", _grid_text(grid_key, grid)),
        ("Mixes", f"{len(mixes):,}"),
        ("Compared with", comparator),
        ("Objective (maximised)", label),
        ("Frontier measures", " vs ".join(LABELS.get(f, f) for f in frontier)),
    ]

    best_mix, frontier_table = None, None
    if not mixes.empty:
        best_rows = mixes[mixes.best.astype(bool)]
        best = best_rows.iloc[0] if len(best_rows) else mixes.sort_values("mean", ascending=False).iloc[0]
        near = mixes[mixes.within_noise_of_best.astype(bool)].sort_values("mean", ascending=False)
        shown = near.head(30)
        rows, classes = [], []
        for _, r in shown.iterrows():
            s = stats(str(r.scenario), objective)
            gap = {"mean": r.gap_to_best, "low": r.gap_low, "high": r.gap_high, "runs": s["runs"]}
            rows.append(
                [
                    r.scenario,
                    *[f"{100 * float(r[f'share_{st}']):.0f}%" for st in strands],
                    _interval_cell(s, objective, runs),
                    "best" if bool(r.best) else _interval_cell(gap, objective, runs, False),
                ]
            )
            classes.append("best" if bool(r.best) else "")
        best_mix = {
            "scenario": best.scenario,
            "shares": _shares_text(best, strands),
            "objective": _interval_cell(stats(str(best.scenario), objective), objective, runs, False),
            "others": len(near) - 1,
            "near": _table(
                ["Mix", *[f"{st} share" for st in strands], label, "Gap to the best"],
                rows,
                numeric=range(1, len(strands) + 3),
                row_classes=classes,
            ),
            "not_shown": len(near) - len(shown),
            "headline_tables": _headline_tables(impacts, [str(best.scenario)], runs),
        }

        if len(frontier_cols) >= 2 and "on_frontier" in mixes:
            f = mixes[mixes.on_frontier.astype(bool)].sort_values(frontier_cols[0])
            rows = [
                [
                    r.scenario,
                    *[f"{100 * float(r[f'share_{st}']):.0f}%" for st in strands],
                    *[_interval_cell(stats(str(r.scenario), m), m, runs) for m in frontier[:2]],
                ]
                for _, r in f.iterrows()
            ]
            frontier_table = _table(
                ["Mix", *[f"{st} share" for st in strands], *[LABELS.get(m, m) for m in frontier[:2]]],
                rows,
                numeric=range(1, len(strands) + 3),
                row_classes=["best" if bool(b) else "" for b in f.best],
            )

    captions = {
        "mix_grid": "The mix space",
        "frontier": "Frontier",
        "attribution": "Attribution of the best mix",
        "objective": f"{label} of every mix",
    }
    present = list(dict.fromkeys([*strands, *_strands_in(impacts, list(dict.fromkeys(impacts.scenario)))]))
    return _page(
        "sweep.html",
        out,
        command,
        files,
        label=label,
        comparator=comparator,
        runs=runs,
        facts=_table(["What", "Value"], facts),
        settings=_table(["Setting", "Value"], _settings(result, notes, {budget_key, grid_key} - {None})),
        best=best_mix,
        frontier=frontier_table,
        boroughs=_borough_section(result.get("boroughs"), strands, runs, objective),
        attribution=_attribution_table(attribution, objective, runs),
        decision=_decision_section(result.get("decision"), result.get("evppi"), objective, runs),
        robust=_robust_section(result.get("robust"), strands, objective),
        kept=kept,
        plots=_plots(pngs, captions),
        assumptions=_assumptions(present, runs, _parameters_set(result)),
    )


def _robust_section(robust: pd.DataFrame | None, strands: list[str], objective: str) -> dict[str, Any] | None:
    """The report's "Under each economy": the best mix in each, and the least-regret mix (None without)."""
    if robust is None or robust.empty:
        return None
    economies = [c[len("mean_") :] for c in robust.columns if c.startswith("mean_")]
    shown = robust[(robust.best_in != "") | robust.least_regret.astype(bool)]
    shown = pd.concat([shown, robust.head(8)]).drop_duplicates("scenario").sort_values("max_regret", kind="stable")
    rows = [
        [
            r.scenario,
            *[f"{100 * float(getattr(r, f'share_{st}')):.0f}%" for st in strands],
            *[fmt(getattr(r, f"mean_{e}"), objective) for e in economies],
            fmt(r.max_regret, objective),
            r.best_in or ("least regret" if r.least_regret else ""),
        ]
        for r in shown.itertuples()
    ]
    least = robust[robust.least_regret.astype(bool)].iloc[0]
    return {
        "economies": ", ".join(economies),
        "first": economies[0],
        "least": least.scenario,
        "shares": _shares_text(least, strands),
        "max_regret": fmt(least.max_regret, objective),
        "table": _table(
            ["Mix", *[f"{st} share" for st in strands], *[f"Mean, {e}" for e in economies], "Most regret", "Best in"],
            rows,
            numeric=range(1, len(strands) + len(economies) + 2),
            row_classes=["best" if bool(r.least_regret) else "" for r in shown.itertuples()],
        ),
    }


def _decision_section(
    decision: pd.DataFrame | None, evppi: pd.DataFrame | None, objective: str, runs: int
) -> dict[str, Any] | None:
    """The report's "Which evidence would change the decision": how sure the best mix is, and the EVPPI."""
    if decision is None or decision.empty:
        return None
    top = decision.head(8)
    table = _table(
        ["Mix", "Mean", "Probability of being best", "Expected loss against the best"],
        [
            [r.scenario, fmt(r.mean, objective), f"{100 * r.probability_best:.0f}%", fmt(r.expected_loss, objective)]
            for r in top.itertuples()
        ],
        numeric=(1, 2, 3),
    )
    out: dict[str, Any] = {"decision": table, "mixes": len(decision), "evppi": None, "runs": runs}
    if evppi is not None and len(evppi) > 1 and np.isfinite(evppi["evppi"].iloc[1:]).any():
        rest = evppi.iloc[1:]
        rows = pd.concat([evppi.iloc[:1], rest[np.isfinite(rest["evppi"])].head(12)])
        out["evppi"] = _table(
            ["Uncertain input (or group)", "Kind", "EVPPI", "EVPPI, GBP (social NPV)", "Share of EVPI"]
            + ["Beyond noise (EVPPI)"],
            [
                [
                    r.input,
                    r.kind,
                    fmt(r.evppi, objective),
                    fmt(r.evppi_gbp, "x_gbp"),
                    "" if not _finite(r.share_of_evpi) else f"{100 * r.share_of_evpi:.0f}%",
                    "" if r.kind == "all" else "yes" if bool(r.beyond_noise) else "no",
                ]
                for r in rows.itertuples()
            ],
            numeric=(2, 3, 4),
        )
    return out


def _attribution_table(attribution: pd.DataFrame | None, objective: str, runs: int) -> dict[str, Any] | None:
    """Each strand's Shapley value with its share of the total (None without an attribution)."""
    if attribution is None or attribution.empty:
        return None
    titles = _strand_titles()
    label = LABELS.get(objective, objective)
    total = attribution[attribution.strand == "total"]
    total_mean = float(total["mean"].iloc[0]) if len(total) else math.nan
    rows, classes = [], []
    for _, r in attribution.iterrows():
        if r.strand == "unattributed":
            continue  # stated below the table: it is not part of the total
        share = (
            f"{100 * r['mean'] / total_mean:.0f}%"
            if _finite(total_mean) and total_mean != 0 and _finite(r["mean"])
            else "n/a"
        )
        name = "Total (the swept strands together)" if r.strand == "total" else titles.get(r.strand, r.strand)
        rows.append(
            [name, f"{100 * float(r.share_of_budget):.0f}%", _interval_cell(r.to_dict(), objective, runs), share]
        )
        classes.append("best" if r.strand == "total" else "")
    rest = attribution[attribution.strand == "unattributed"]
    return {
        "table": _table(
            ["Strand", "Share of budget", f"Attributed {label.lower()}", "Share of total"],
            rows,
            numeric=(1, 2, 3),
            row_classes=classes,
        ),
        "rest": _interval_cell(rest.iloc[0].to_dict(), objective, runs, False) if len(rest) else None,
    }
