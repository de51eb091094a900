"""Compare scenarios and sweep funding mixes, with uncertainty: ``gmsim.compare`` and ``gmsim.sweep``.

Every scenario runs ``runs`` replicates; replicate ``r`` uses the same seed (and, with parameter
uncertainty, the same baseline parameter set from the calibration's posterior and the same effect-parameter
draws) in every scenario, so the impact of a scenario in
replicate ``r`` is its run minus the first scenario's run at ``r``. Impacts are summarised over
replicates by their mean, a 95% confidence interval of the mean (``low``, ``high``; t distribution)
and the 2.5th-97.5th percentiles of the replicates (``p025``, ``p975``: with parameter uncertainty on,
the range of outcomes the evidence allows).

Impacts (people unless stated; per borough and for GM):

* ``extra_person_years_in_work`` — sum over months of extra people in work (in work or at risk) / 12;
* ``extra_job_entries`` — extra moves into work;
* ``extra_people_in_work_end`` — extra people in work in the last month (net sustained jobs);
* ``fewer_out_of_work_health_end`` — fewer people out of work because of health in the last month;
* ``fewer_person_years_out_of_work`` — fewer person-years out of work (claiming);
* against the run's own comparator (the scenario with no strand funded, the same people and random
  numbers; :func:`gmsim.evaluation.count_entries_gained`): ``participants_extra_job_entries`` — extra job
  entries of the people the strands started (gross of displacement, net of deadweight);
  ``displaced_job_entries`` — job entries everyone else lost, competing with them for vacancies (less any
  they gained); ``net_job_entries`` — the difference, the strands' net effect on job entries;
* per strand (gross, from the programme's own counts): ``started``, ``job_entries``,
  ``sustained_jobs_6m``, ``sustained_jobs_12m``, ``kept_in_work``, ``spend_gbp``;
* per strand, its referral cohorts against the same people in the run with no strand funded
  (:mod:`gmsim.evaluation`): ``cohort_<measure>_<h>m`` (the impact per person referred) with its
  ``_treated``, ``_comparison`` and ``_deadweight`` (the comparison's share of the treated), and
  ``cohort_followed_<h>m``, at 6, 12, 24 and 36 months after referral;
* money (GM, :mod:`gmsim.appraisal`): ``spend_gbp``, ``pv_spend_gbp``; ``pv_cost_gbp`` (the spend raised for
  optimism bias, with lapsed referrals' costs); from three perspectives, fiscal, economic and social,
  ``<perspective>_benefit_pv``, ``npv_<perspective>`` and ``bcr_<perspective>``;
  ``cost_per_extra_person_in_work`` and ``cost_per_extra_person_year_in_work``, discounted at the Green
  Book rate.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from . import codes
from .appraisal import PERSPECTIVES, appraise, discount, drawn_values, unit_values
from .decision import decision_table, evppi_table
from .economy import NamedEconomy
from .ensemble import Task, execute, load_record
from .evaluation import cohort_metrics
from .gradients import gradient_of
from .scenario import Scenario, ScenarioError, load_scenario

GM = "Greater Manchester"
ALL = "all"
AREA_METRICS = (
    "extra_person_years_in_work",
    "extra_job_entries",
    "extra_people_in_work_end",
    "fewer_out_of_work_health_end",
    "fewer_person_years_out_of_work",
    "participants_extra_job_entries",
    "displaced_job_entries",
    "net_job_entries",
)
STRAND_METRICS = ("started", "job_entries", "sustained_jobs_6m", "sustained_jobs_12m", "kept_in_work", "spend_gbp")
#: The appraisal's present values (gmsim.appraisal), GBP: each perspective's benefits and net present value.
APPRAISAL_METRICS = tuple(f"{p}_benefit_pv" for p in PERSPECTIVES) + tuple(f"npv_{p}" for p in PERSPECTIVES)
# Metrics a sweep can maximise (more is better); costs and spend are reported but not maximised.
OBJECTIVES = (
    "extra_person_years_in_work",
    "extra_job_entries",
    "extra_people_in_work_end",
    "fewer_out_of_work_health_end",
    "fewer_person_years_out_of_work",
    "job_entries",
    "sustained_jobs_6m",
    "sustained_jobs_12m",
    "kept_in_work",
    *APPRAISAL_METRICS,
)
MONEY_METRICS = (
    "spend_gbp",
    "pv_spend_gbp",
    "pv_cost_gbp",
    *APPRAISAL_METRICS,
    *(f"bcr_{p}" for p in PERSPECTIVES),
    "cost_per_extra_person_in_work",
    "cost_per_extra_person_year_in_work",
)


def _lapsed_strands(rec: dict[str, Any]) -> tuple[str, ...]:
    """The strands of a record whose lapsed referrals cost money: those that refer people, not employers."""
    from .interventions import registered

    reg = registered()
    names = [k.split(".", 1)[1] for k in rec if k.startswith("strand.")]
    return tuple(n for n in names if n in reg and not reg[n].reaches_employers)


def replicate_values(rec: dict[str, Any]) -> dict[str, float]:
    """The appraisal's unit values for a run's replicate: drawn if its parameters were, else central."""
    meta = rec.get("meta") or {}
    return drawn_values(int(meta["run_seed"]) if meta.get("draws_on") and "run_seed" in meta else None)


def _spend_by_month(rec: dict[str, Any]) -> np.ndarray:
    from .interventions import COUNTERS

    total = np.zeros(len(rec["employed"]))
    for key in (k for k in rec if k.startswith("strand.")):
        total += rec[key][:, COUNTERS.index("spend_gbp")].sum(axis=1)
    return total


def replicate_metrics(rec: dict[str, Any], base: dict[str, Any], money: dict[str, float]) -> list[tuple]:
    """``(metric, borough, strand, value)`` rows of one scenario's run against the comparator's run.

    ``money`` are the appraisal's unit values for the replicate (:func:`gmsim.appraisal.drawn_values`).
    """
    rows: list[tuple] = []
    d_emp = rec["employed"] - base["employed"]  # (months + 1, boroughs)
    d_oow = rec["out_of_work"] - base["out_of_work"]
    d_health = rec["out_of_work_health"] - base["out_of_work_health"]
    d_entries = rec["job_entries"] - base["job_entries"]
    per_borough = {
        "extra_person_years_in_work": d_emp[1:].sum(axis=0) / 12,
        "extra_job_entries": d_entries[1:].sum(axis=0),
        "extra_people_in_work_end": d_emp[-1],
        "fewer_out_of_work_health_end": -d_health[-1],
        "fewer_person_years_out_of_work": -d_oow[1:].sum(axis=0) / 12,
    }
    if "entries_gained.participants" in rec:
        # Against the run's own comparator (no strand funded), not the first scenario: gross of nothing.
        gained = rec["entries_gained.participants"][1:].sum(axis=0)
        others = rec["entries_gained.others"][1:].sum(axis=0)
        per_borough.update(
            participants_extra_job_entries=gained,
            displaced_job_entries=-others,
            net_job_entries=gained + others,
        )
    for metric, values in per_borough.items():
        rows.append((metric, GM, ALL, float(values.sum())))
        rows.extend((metric, b, ALL, float(v)) for b, v in zip(codes.BOROUGHS, values, strict=True))

    from .interventions import COUNTERS

    for key in (k for k in rec if k.startswith("strand.")):
        strand = key.split(".", 1)[1]
        counts = rec[key]  # (months + 1, counters, boroughs)
        for metric in STRAND_METRICS:
            values = counts[1:, COUNTERS.index(metric)].sum(axis=0)
            rows.append((metric, GM, strand, float(values.sum())))
            rows.extend((metric, b, strand, float(v)) for b, v in zip(codes.BOROUGHS, values, strict=True))

    for key in (k for k in rec if k.startswith("cohort.")):
        strand = key.split(".", 1)[1]
        rows.extend((metric, GM, strand, value) for metric, value in cohort_metrics(rec[key]))

    # Money: the extra spend, and the appraisal's present values from three perspectives (gmsim.appraisal).
    spend_monthly = _spend_by_month(rec) - _spend_by_month(base)
    spend = float(spend_monthly[1:].sum())
    pv_spend = float((spend_monthly[1:] * discount(len(spend_monthly) - 1, money["discount_rate"])).sum())
    extra_end = float(d_emp[-1].sum())
    extra_years = float(d_emp[1:].sum() / 12)
    money_rows = {
        "spend_gbp": spend,
        "pv_spend_gbp": pv_spend,
        **appraise(rec, base, money, _lapsed_strands(rec)),
        # Ratios are recomputed from the replicates' means in impacts_from (a ratio of means).
        **{f"bcr_{p}": math.nan for p in PERSPECTIVES},
        # A cost per outcome is defined only where the outcome rose.
        "cost_per_extra_person_in_work": spend / extra_end if extra_end > 0 else math.nan,
        "cost_per_extra_person_year_in_work": spend / extra_years if extra_years > 0 else math.nan,
    }
    rows.extend((metric, GM, ALL, value) for metric, value in money_rows.items())
    return rows


def summarise(values: np.ndarray) -> dict[str, float]:
    """Mean, 95% confidence interval of the mean (t distribution), and 2.5/97.5 percentiles."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = len(v)
    if n == 0:
        return {
            "mean": math.nan,
            "low": math.nan,
            "high": math.nan,
            "sd": math.nan,
            "p025": math.nan,
            "p975": math.nan,
            "runs": 0,
        }
    mean = float(v.mean())
    sd = float(v.std(ddof=1)) if n > 1 else 0.0
    half = _t975(n - 1) * sd / math.sqrt(n) if n > 1 else 0.0
    return {
        "mean": mean,
        "low": mean - half,
        "high": mean + half,
        "sd": sd,
        "p025": float(np.percentile(v, 2.5)),
        "p975": float(np.percentile(v, 97.5)),
        "runs": n,
    }


#: The figures :func:`summarise` gives, in its order.
SUMMARY_FIELDS = ("mean", "low", "high", "sd", "p025", "p975", "runs")


def summarise_groups(frame: pd.DataFrame, keys: list[str], column: str) -> pd.DataFrame:
    """:func:`summarise` of ``column`` in each group of ``frame`` by ``keys``: one row a group, keys first.

    The same figures, bit for bit, and the same table as a pandas ``groupby(keys, sort=False)`` applying it
    to each group, unstacked: worked out at once for all the groups with the same number of values (tens
    of thousands of groups in a sweep's table, which a call for each took seconds over).
    """
    codes = frame.groupby(keys, sort=False).ngroup().to_numpy()
    first = np.unique(codes, return_index=True)[1]
    values = frame[column].to_numpy(dtype=float)
    order = np.argsort(codes, kind="stable")  # each group's values in their order in the frame
    values, codes = values[order], codes[order]
    kept = ~np.isnan(values)
    values, codes = values[kept], codes[kept]
    groups = len(first)
    count = np.bincount(codes, minlength=groups)
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])
    out = np.full((groups, len(SUMMARY_FIELDS)), math.nan)
    out[:, 6] = count
    for n in np.unique(count[count > 0]):
        rows = np.flatnonzero(count == n)
        v = values[starts[rows][:, None] + np.arange(n)[None, :]]
        mean = v.mean(axis=1)
        sd = v.std(axis=1, ddof=1) if n > 1 else np.zeros(len(rows))
        half = _t975(n - 1) * sd / math.sqrt(n) if n > 1 else np.zeros(len(rows))
        out[rows, 0], out[rows, 1], out[rows, 2], out[rows, 3] = mean, mean - half, mean + half, sd
        out[rows, 4], out[rows, 5] = np.percentile(v, 2.5, axis=1), np.percentile(v, 97.5, axis=1)
    # Rows as unstacking orders them: by each key's values in their order of first appearance, in turn.
    rows = np.lexsort([pd.factorize(frame[k], sort=False)[0][first] for k in reversed(keys)])
    table = frame.iloc[first[rows]][keys].reset_index(drop=True)
    for k, name in enumerate(SUMMARY_FIELDS):
        table[name] = out[rows, k]
    return table


@functools.cache
def _t975(df: int) -> float:
    """97.5th percentile of Student's t with ``df`` degrees of freedom (exact, from SciPy)."""
    from scipy import stats  # imported here: it adds half a second to every import of gmsim.comparison

    return float(stats.t.ppf(0.975, df))


def check_comparable(scenarios: Sequence[Scenario]) -> None:
    """Raise ScenarioError unless the scenarios can be compared (distinct names, same months, scale and start)."""
    problems = []
    names = [s.name for s in scenarios]
    if len(scenarios) < 2:
        problems.append(("scenarios", f"expected at least two scenarios (a comparator first), got {len(scenarios)}"))
    if len(set(names)) != len(names):
        problems.append(("name", f"expected scenarios with different names, got {names}"))
    for key, values in (
        ("months", {s.months for s in scenarios}),
        ("population.scale", {s.population.scale for s in scenarios}),
        ("start", {s.start for s in scenarios}),
    ):
        if len(values) > 1:
            problems.append(
                (key, f"expected the same {key} in every scenario, got {sorted(values)} (use --{key.split('.')[-1]})")
            )
    if problems:
        raise ScenarioError(problems, "command line")


def common_parameters(scenarios: Sequence[Scenario]) -> dict[str, float]:
    """The baseline parameters every one of ``scenarios`` sets, to the same value (a comparison's settings)."""
    first, *others = scenarios
    return {k: v for k, v in first.parameters.items() if all(s.parameters.get(k) == v for s in others)}


def _parameters_table(scenarios: Sequence[Scenario]) -> pd.DataFrame:
    """:func:`common_parameters` as a table (parameter, value), for a comparison's or sweep's result."""
    common = common_parameters(scenarios)
    return pd.DataFrame({"parameter": list(common), "value": list(common.values())}, columns=["parameter", "value"])


def _prepare(
    scenarios: Sequence[Scenario | str | Path],
    months: int | None,
    scale: float | None,
    start: str | None = None,
    parameters: Mapping[str, float] | None = None,
) -> list[Scenario]:
    out = []
    for sc in scenarios:
        s = sc if isinstance(sc, Scenario) else load_scenario(sc)
        out.append(s.with_overrides(months=months, scale=scale, start=start, parameters=parameters))
    check_comparable(out)
    return out


def run_ensemble(
    scenarios: list[Scenario],
    runs: int,
    seed: int,
    draws: bool,
    store: Path,
    workers: int | None,
    dask: str | None,
    progress: bool,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Run every scenario ``runs`` times; return each scenario's records in replicate order."""
    # Replicate by replicate: a worker's consecutive runs then share a seed and its starting population.
    tasks = [Task(s, r, seed, draws) for r in range(runs) for s in scenarios]
    paths = execute(tasks, store, workers=workers, dask=dask, progress=progress, on_progress=on_progress)
    records: dict[str, list[dict[str, Any]]] = {s.name: [] for s in scenarios}
    for task, path in zip(tasks, paths, strict=True):
        records[task.scenario.name].append(load_record(path, task.key))
    return records


def impacts_from(records: dict[str, list[dict[str, Any]]], comparator: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(replicates, impacts): per-replicate rows and their summary, every scenario against ``comparator``."""
    rows = []
    for name, recs in records.items():
        for r, (rec, base) in enumerate(zip(recs, records[comparator], strict=True)):
            for metric, borough, strand, value in replicate_metrics(rec, base, replicate_values(base)):
                rows.append((name, r, metric, borough, strand, value))
    replicates = pd.DataFrame(rows, columns=["scenario", "replicate", "metric", "borough", "strand", "value"])
    summary = summarise_groups(replicates, ["scenario", "metric", "borough", "strand"], "value")
    summary["runs"] = summary["runs"].astype(int)
    # A strand's counts cannot be negative: their intervals stop at zero.
    counts = summary.metric.isin(STRAND_METRICS) & (summary.strand != ALL)
    summary.loc[counts, "low"] = summary.loc[counts, "low"].clip(lower=0.0)
    summary["note"] = ""
    # Ratios: the ratio of the replicates' means (a replicate with no gain does not drop out), with
    # Fieller's interval; the percentile range stays that of the per-replicate ratios.
    gm = replicates[(replicates.borough == GM) & (replicates.strand == ALL)]
    for ratio, (num, den, den_words) in RATIOS.items():
        for name in records:
            a = gm[(gm.scenario == name) & (gm.metric == num)].sort_values("replicate")["value"].to_numpy()
            b = gm[(gm.scenario == name) & (gm.metric == den)].sort_values("replicate")["value"].to_numpy()
            row = (summary.scenario == name) & (summary.metric == ratio) & (summary.borough == GM)
            r = ratio_interval(a, b, den_words)
            summary.loc[row, ["mean", "low", "high", "runs"]] = r["mean"], r["low"], r["high"], r["runs"]
            summary.loc[row, "note"] = r["note"]
    return replicates, summary


#: Each ratio's numerator and denominator metrics, and the denominator in words.
RATIOS = {
    **{f"bcr_{p}": (f"{p}_benefit_pv", "pv_cost_gbp", "the cost") for p in PERSPECTIVES},
    "cost_per_extra_person_in_work": ("spend_gbp", "extra_people_in_work_end", "the extra people in work at the end"),
    "cost_per_extra_person_year_in_work": ("spend_gbp", "extra_person_years_in_work", "the extra person-years in work"),
}
#: Below this many replicates the report, the dashboard and the terminal warn that intervals are rough.
FEW_RUNS = 5


def few_runs_warning(runs: int) -> str | None:
    """The warning shown with results from fewer than :data:`FEW_RUNS` replicates, or None."""
    if runs >= FEW_RUNS:
        return None
    if runs < 2:
        return "One run per scenario: there are no intervals, and no impact can be told apart from chance."
    return (
        f"Only {runs} runs per scenario: intervals from fewer than {FEW_RUNS} runs are wide, rest on the runs "
        "being near normal, and ratios may have none; use 10 runs or more before relying on them."
    )


def ratio_interval(num: np.ndarray, den: np.ndarray, den_metric: str = "the denominator") -> dict[str, Any]:
    """Mean(num) / mean(den) over paired replicates, with Fieller's 95% interval (t quantiles).

    Fieller's theorem gives the set of ratios ``rho`` for which ``mean(num) - rho * mean(den)`` is not
    significantly different from zero, using the replicates' variances and covariance and Student's t
    with ``n - 1`` degrees of freedom: exact for normal replicates and valid for a few of them, unlike a
    bootstrap (whose interval from two runs is their minimum and maximum). The interval is finite only
    when the denominator's own 95% interval excludes zero; otherwise it is reported as undefined.

    Args:
        num: The numerator in each replicate (e.g. present value of the fiscal benefit).
        den: The denominator in each replicate (e.g. extra person-years in work), paired with ``num``.
        den_metric: The denominator's name, for the note.

    Returns:
        ``mean`` (NaN unless mean(den) > 0: a cost per outcome that fell means nothing), ``low`` and
        ``high`` (NaN where undefined), ``runs``, and ``note`` saying why an interval is undefined.
    """
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    n = len(num)
    nan = math.nan
    if n == 0 or not np.mean(den) > 0:
        return {"mean": nan, "low": nan, "high": nan, "runs": n, "note": f"undefined: {den_metric} is not above zero"}
    a, b = float(np.mean(num)), float(np.mean(den))
    if n < 2:
        return {"mean": a / b, "low": nan, "high": nan, "runs": n, "note": "one run: no interval"}
    cov = np.cov(num, den, ddof=1) / n
    v_aa, v_ab, v_bb = float(cov[0, 0]), float(cov[0, 1]), float(cov[1, 1])
    t2 = _t975(n - 1) ** 2
    quad = b * b - t2 * v_bb
    if quad <= 0:
        note = f"interval undefined: the 95% CI of {den_metric} includes zero"
        return {"mean": a / b, "low": nan, "high": nan, "runs": n, "note": note}
    half = a * b - t2 * v_ab
    disc = max(half * half - quad * (a * a - t2 * v_aa), 0.0)
    root = math.sqrt(disc)
    return {"mean": a / b, "low": (half - root) / quad, "high": (half + root) / quad, "runs": n, "note": ""}


def over_time(records: dict[str, list[dict[str, Any]]], comparator: str) -> pd.DataFrame:
    """Extra people in work (GM) each month, per scenario and replicate."""
    frames = []
    for name, recs in records.items():
        for r, (rec, base) in enumerate(zip(recs, records[comparator], strict=True)):
            d = (rec["employed"] - base["employed"]).sum(axis=1)
            frames.append(
                pd.DataFrame({"scenario": name, "replicate": r, "month": np.arange(len(d)), "extra_people_in_work": d})
            )
    return pd.concat(frames, ignore_index=True)


def dated(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """``frame`` with a ``date`` column (``YYYY-MM``, from the scenario's calendar) after its ``month``."""
    labels = np.array(scenario.calendar.labels(int(frame["month"].max()) if len(frame) else 0))
    frame.insert(frame.columns.get_loc("month") + 1, "date", labels[frame["month"].to_numpy(dtype=np.int64)])
    return frame


STOCKS = {"in_work": "employed", "out_of_work": "out_of_work", "out_of_work_health": "out_of_work_health"}


def stocks(records: dict[str, list[dict[str, Any]]]) -> pd.DataFrame:
    """Greater Manchester stocks (people) each month, per scenario and replicate.

    ``in_work`` counts everyone employed (in work or at risk); ``out_of_work_health`` the part of
    ``out_of_work`` that claims because of health.
    """
    frames = []
    for name, recs in records.items():
        for r, rec in enumerate(recs):
            cols = {col: rec[key].sum(axis=1) for col, key in STOCKS.items()}
            months = np.arange(len(cols["in_work"]))
            frames.append(pd.DataFrame({"scenario": name, "replicate": r, "month": months, **cols}))
    return pd.concat(frames, ignore_index=True)


def compare(
    scenarios: Sequence[Scenario | str | Path],
    runs: int = 10,
    *,
    seed: int = 1,
    parameter_uncertainty: bool = True,
    workers: int | None = None,
    dask: str | None = None,
    out: str | Path | None = None,
    months: int | None = None,
    scale: float | None = None,
    start: str | None = None,
    parameters: Mapping[str, float] | None = None,
    progress: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Compare scenarios against the first one, with ``runs`` replicates each.

    Args:
        scenarios: Scenarios or paths; the first is the comparator (usually the baseline).
        runs: Replicates per scenario.
        seed: Ensemble seed (replicate seeds derive from it; scenarios' own seeds are not used).
        parameter_uncertainty: Draw a baseline parameter set (posterior) and effect parameters in each replicate.
        workers: Local worker processes (default: number of cores).
        dask: None, ``"local"`` or a Dask scheduler address.
        out: Folder for the run store (``out/runs``); default a folder under ``results/``.
        months: Override every scenario's months.
        scale: Override every scenario's population scale.
        start: Override every scenario's month 1 (``YYYY-MM``).
        parameters: Baseline parameters set in every scenario (``--set``; a sensitivity run), or None.
        progress: Show a progress bar.
        on_progress: Called with (runs finished, runs in all) as runs finish.

    Returns:
        ``impacts`` (scenario, metric, borough, strand, mean, low, high, sd, p025, p975, runs),
        ``replicates`` (one row per run and metric), ``over_time`` (extra people in work by month),
        ``stocks`` (people in work, out of work and out of work because of health by month) and
        ``scenarios`` (name, description, content hash, months and population scale each was run with) and
        ``parameters`` (parameter, value: the baseline parameters every scenario sets alike,
        :func:`common_parameters`).
    """
    scs = _prepare(scenarios, months, scale, start, parameters)
    out = Path(out) if out else Path("results") / ("compare-" + "-".join(s.name for s in scs))[:120]
    records = run_ensemble(scs, runs, seed, parameter_uncertainty, out / "runs", workers, dask, progress, on_progress)
    replicates, impacts = impacts_from(records, scs[0].name)
    return {
        "impacts": impacts,
        "replicates": replicates,
        "over_time": dated(over_time(records, scs[0].name), scs[0]),
        "stocks": dated(stocks(records), scs[0]),
        "scenarios": pd.DataFrame(
            [
                {
                    "scenario": s.name,
                    "description": s.description,
                    "hash": s.content_hash(),
                    "months": s.months,
                    "scale": s.population.scale,
                    "start": s.start,
                }
                for s in scs
            ]
        ),
        "parameters": _parameters_table(scs),
    }


# ----- sweeps -------------------------------------------------------------------------------------


#: Most mixes a sweep runs (each of them --runs times, and the baseline too).
MAX_MIXES = 5_000


class MixSpec(BaseModel):
    """A funding-mix sweep (``scenarios/funding_mix.yaml``).

    Attributes:
        name: Name of the sweep (its results folder).
        description: What it explores.
        base: Scenario file whose strands are re-funded by each mix (everything else is kept).
        baseline: Scenario file every mix is compared with.
        total_budget_gbp_per_year: The fixed total split across ``strands``.
        strands: The strands whose shares vary.
        step: Grid step of the shares (e.g. 0.2), or None with ``samples``.
        samples: Number of random mixes (uniform on the simplex) instead of a grid.
        objective: Impact metric to maximise when picking the best mix.
        frontier: Two impact metrics whose trade-off is shown (Pareto frontier).
        economies: Named economies (``steady``, ``recession``, ``pandemic``: :mod:`gmsim.economy`) to run the
            whole sweep in, each mix and the baseline in each; then the best mix in each economy and the mix
            with the least regret across them are reported (:func:`robust_mixes`). None: the scenarios' own.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    description: str = Field("", max_length=10_000)
    base: str = Field(max_length=4096)
    baseline: str = Field(max_length=4096)
    total_budget_gbp_per_year: float = Field(gt=0, le=1e10)
    strands: list[str] = Field(min_length=2)
    step: float | None = Field(0.2, ge=0.01, le=0.5)
    samples: int | None = Field(None, ge=2, le=MAX_MIXES)
    objective: str = "extra_person_years_in_work"
    frontier: list[str] = Field(default_factory=lambda: ["extra_person_years_in_work", "kept_in_work"])
    economies: list[NamedEconomy] | None = Field(None, min_length=2)

    @field_validator("economies")
    @classmethod
    def _economies_once(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError(f"expected each economy once, got {v}")
        return v

    @field_validator("step")
    @classmethod
    def _divides_one(cls, v: float | None, info: ValidationInfo) -> float | None:
        if v is not None and abs(round(1 / v) * v - 1) > 1e-9:
            raise ValueError(f"step must divide 1 into whole parts (e.g. 0.1, 0.2, 0.25), got {v}")
        strands = info.data.get("strands")
        if v is not None and strands:
            mixes = math.comb(round(1 / v) + len(strands) - 1, len(strands) - 1)
            if mixes > MAX_MIXES:
                raise ValueError(
                    f"a step of {v:g} over {len(strands)} strands makes {mixes:,} mixes; expected at most "
                    f"{MAX_MIXES:,} (each is run --runs times): use a larger step, or 'samples' of random mixes"
                )
        return v

    @field_validator("strands")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"expected each strand once, got {v}")
        return v

    @field_validator("frontier")
    @classmethod
    def _two(cls, v: list[str]) -> list[str]:
        if len(v) != 2:
            raise ValueError(f"expected two metrics, got {len(v)}")
        return v

    @model_validator(mode="after")
    def _grid_or_samples(self) -> MixSpec:
        if self.step is None and self.samples is None:
            raise ValueError("expected a grid 'step' or a number of random 'samples'")
        return self

    @property
    def mixes(self) -> int:
        """The number of mixes the sweep runs."""
        if self.samples is not None:
            return self.samples
        return math.comb(round(1 / self.step) + len(self.strands) - 1, len(self.strands) - 1)


def load_mix(path: str | Path) -> MixSpec:
    """Read and check a sweep file; raises ScenarioError with one line per problem."""
    from .interventions import registered
    from .scenario import read_scenario_data

    path = Path(path)
    data = read_scenario_data(path)
    try:
        spec = MixSpec.model_validate(data)
    except ValidationError as err:
        problems = [(".".join(str(x) for x in e["loc"]), e["msg"].removeprefix("Value error, ")) for e in err.errors()]
        raise ScenarioError(problems, str(path)) from None
    try:  # the base scenario's modules register the interventions it funds, researchers' own among them
        load_scenario(path.parent / spec.base)
    except ScenarioError:
        pass  # reported where the sweep loads it
    problems = [(f"strands.{k}", f"unknown strand {s!r}") for k, s in enumerate(spec.strands) if s not in registered()]
    for key, metric in [("objective", spec.objective)] + [(f"frontier.{k}", m) for k, m in enumerate(spec.frontier)]:
        if metric not in OBJECTIVES:
            problems.append((key, f"unknown metric {metric!r}; expected one to maximise: {sorted(OBJECTIVES)}"))
    if problems:
        raise ScenarioError(problems, str(path))
    return spec


def mix_grid(n: int, step: float | None, samples: int | None, seed: int) -> np.ndarray:
    """Shares (rows summing to 1) of ``n`` strands: every multiple of ``step``, or ``samples`` random mixes."""
    if samples:
        return np.random.default_rng(seed).dirichlet(np.ones(n), size=samples)
    k = round(1 / step)
    rows = [c for c in itertools.product(range(k + 1), repeat=n) if sum(c) == k]
    return np.array(rows, dtype=float) / k


def _mix_scenario(base: Scenario, spec: MixSpec, shares: np.ndarray, label: str) -> Scenario:
    data = base.to_dict()
    strands = {k: dict(v) for k, v in data.get("strands", {}).items()}
    for strand, share in zip(spec.strands, shares, strict=True):
        strands.setdefault(strand, {})["budget_gbp_per_year"] = float(round(share * spec.total_budget_gbp_per_year, 2))
        strands[strand].pop("budget_by_financial_year", None)  # a mix gives each swept strand one budget
    data.update(
        name=label,
        strands=strands,
        description=f"{spec.name}: "
        + ", ".join(f"{s} {100 * x:.0f}%" for s, x in zip(spec.strands, shares, strict=True)),
    )
    return Scenario.from_dict(data)


def mix_label(spec: MixSpec, shares: np.ndarray) -> str:
    """A scenario name for a mix, e.g. ``mix-40-20-20-20``."""
    return "mix-" + "-".join(f"{round(100 * x):d}" for x in shares)


def shapley(values: dict[frozenset, np.ndarray], players: list[str]) -> dict[str, np.ndarray]:
    """Shapley values of each player from the value of every coalition (per replicate arrays).

    ``values`` maps every subset of ``players`` (frozensets, including the empty one) to its value;
    the Shapley values add up to ``values[all] - values[empty]``.
    """
    n = len(players)
    out = {}
    for p in players:
        others = [q for q in players if q != p]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for coalition in itertools.combinations(others, size):
                s = frozenset(coalition)
                total = total + weight * (values[s | {p}] - values[s])
        out[p] = total
    return out


def sweep(
    mix: str | Path | MixSpec,
    runs: int = 10,
    *,
    seed: int = 1,
    parameter_uncertainty: bool = True,
    workers: int | None = None,
    dask: str | None = None,
    out: str | Path | None = None,
    months: int | None = None,
    scale: float | None = None,
    start: str | None = None,
    parameters: Mapping[str, float] | None = None,
    progress: bool = False,
    base_dir: str | Path | None = None,
    economy: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Run every mix of a fixed budget across strands; report outcomes, frontier, best mix, attribution.

    Args:
        mix: A sweep file (``MixSpec``) or its path.
        runs: Replicates per mix (as for :func:`compare`).
        seed: Ensemble seed.
        parameter_uncertainty: Draw a baseline parameter set (posterior) and effect parameters in each replicate.
        workers: Local worker processes.
        dask: None, ``"local"`` or a Dask scheduler address.
        out: Folder for the run store (``out/runs``).
        months: Override the months of every scenario.
        scale: Override the population scale.
        start: Override month 1 (``YYYY-MM``) of every scenario.
        parameters: Baseline parameters set in the base, the baseline and so every mix (``--set``), or None.
        progress: Show a progress bar.
        base_dir: Folder that ``base`` and ``baseline`` are relative to (default: the sweep file's).
        economy: A named economy to run the base and the baseline in, instead of their own (one of the sweep
            file's ``economies``: :func:`sweep_economies` runs them all).

    Returns:
        ``mixes`` (one row per mix: shares, objective mean/low/high, on the frontier, within noise of the
        best), ``decision`` (each mix's probability of being best and expected loss,
        :func:`gmsim.decision.decision_table`), ``evppi`` (the value of learning each uncertain input,
        :func:`gmsim.decision.evppi_table`), ``impacts`` (as compare, every mix and metric), ``attribution``
        (each strand's Shapley share
        of the best mix's objective, with intervals), ``over_time``, ``boroughs`` (the best mix in each
        borough, see :func:`best_by_borough`), ``kept`` (the base scenario's other strands, with the
        budget each keeps in every mix: their effect and spend are in every mix's impacts) and
        ``parameters`` (the baseline parameters the baseline and every mix set alike).
    """
    if isinstance(mix, MixSpec):
        spec, folder = mix, Path(base_dir or ".")
    else:
        spec, folder = load_mix(mix), Path(base_dir or Path(mix).parent)
    base = load_scenario(folder / spec.base).with_overrides(start=start, parameters=parameters)
    comparator = load_scenario(folder / spec.baseline).with_overrides(start=start, parameters=parameters)
    if economy is not None:
        base, comparator = (_in_economy(s, economy) for s in (base, comparator))
    grid = mix_grid(len(spec.strands), None if spec.samples else spec.step, spec.samples, seed)
    labels = [mix_label(spec, shares) for shares in grid]
    if len(set(labels)) < len(labels):  # random mixes can round to the same percentages
        labels = [f"{label}-{k}" for k, label in enumerate(labels)]
    mixes = [_mix_scenario(base, spec, shares, label) for shares, label in zip(grid, labels, strict=True)]
    scs = _prepare([comparator, *mixes], months, scale)
    out = Path(out) if out else Path("results") / spec.name
    records = run_ensemble(scs, runs, seed, parameter_uncertainty, out / "runs", workers, dask, progress)
    replicates, impacts = impacts_from(records, scs[0].name)

    gm = replicates[(replicates.borough == GM)]
    objective = _metric_by_replicate(gm, spec.objective)
    rows = []
    means = {k: float(np.nanmean(v)) if np.isfinite(v).any() else -np.inf for k, v in objective.items()}
    best = max((k for k in means if k != scs[0].name), key=lambda k: means[k])
    for shares, sc in zip(grid, scs[1:], strict=True):
        s = summarise(objective[sc.name])
        diff = summarise(objective[best] - objective[sc.name])
        rows.append(
            {
                "scenario": sc.name,
                **{f"share_{k}": float(x) for k, x in zip(spec.strands, shares, strict=True)},
                "objective": spec.objective,
                "mean": s["mean"],
                "low": s["low"],
                "high": s["high"],
                "gap_to_best": diff["mean"],
                "gap_low": diff["low"],
                "gap_high": diff["high"],
                "within_noise_of_best": bool(diff["low"] <= 0 <= diff["high"]) or sc.name == best,
                "best": sc.name == best,
            }
        )
    table = pd.DataFrame(rows)
    fx, fy = (_metric_by_replicate(gm, m) for m in spec.frontier)
    points = np.array([[np.mean(fx[n]), np.mean(fy[n])] for n in table.scenario])
    table[f"frontier_{spec.frontier[0]}"] = points[:, 0]
    table[f"frontier_{spec.frontier[1]}"] = points[:, 1]
    dominated = [
        np.any((points[:, 0] >= a) & (points[:, 1] >= b) & ((points[:, 0] > a) | (points[:, 1] > b))) for a, b in points
    ]
    table["on_frontier"] = [not d for d in dominated]

    attribution = _attribute(
        base,
        spec,
        grid[list(table.scenario).index(best)],
        best,
        comparator,
        runs,
        seed,
        parameter_uncertainty,
        out,
        workers,
        dask,
        months,
        scale,
        progress,
        objective,
    )
    kept = {k: v.budget_text() for k, v in base.strands.items() if k not in spec.strands and not v.unfunded}
    mix_names = [sc.name for sc in scs[1:]]
    decision = decision_table({n: objective[n] for n in mix_names})
    decision.insert(1, "objective", spec.objective)
    inputs, input_groups = uncertain_inputs(records, scs[0].name)
    npv = _metric_by_replicate(gm, "npv_social")
    money_inputs = frozenset(c for c in inputs.columns if c.startswith("unit value: "))
    evppi = evppi_table(
        {n: objective[n] for n in mix_names},
        {n: npv[n] for n in mix_names},
        inputs,
        input_groups,
        no_bearing=frozenset() if spec.objective in MONEY_METRICS else money_inputs,
    )
    evppi.insert(1, "objective", spec.objective)
    return {
        "mixes": table,
        "decision": decision,
        "evppi": evppi,
        "impacts": impacts,
        "attribution": attribution,
        "replicates": replicates,
        "over_time": dated(over_time(records, scs[0].name), scs[0]),
        "boroughs": best_by_borough(replicates, table, spec.objective, best),
        "kept": pd.DataFrame({"strand": list(kept), "budget": list(kept.values())}, columns=["strand", "budget"]),
        "parameters": _parameters_table(scs),
    }


def _in_economy(scenario: Scenario, economy: str) -> Scenario:
    """``scenario`` in the named economy (its other keys kept)."""
    return Scenario.from_dict({**scenario.to_dict(), "economy": {"shape": economy}}, path=scenario.name)


def sweep_economies(mix: str | Path | MixSpec, **options: Any) -> dict[str, Any]:
    """Run a sweep in each of its file's ``economies``; the mixes' outcomes in each, and the robust mix.

    Args:
        mix: A sweep file with ``economies`` (``MixSpec``) or its path.
        **options: As for :func:`sweep` (``runs``, ``seed``, ``out``...): every economy's runs share the
            run store.

    Returns:
        ``by_economy`` (each economy's :func:`sweep` result, in the file's order) and ``robust``
        (:func:`robust_mixes`).
    """
    spec = mix if isinstance(mix, MixSpec) else load_mix(mix)
    if isinstance(mix, MixSpec):
        options.setdefault("base_dir", ".")
    elif "base_dir" not in options:
        options["base_dir"] = Path(mix).parent
    results = {e: sweep(spec, economy=e, **options) for e in spec.economies or []}
    return {"by_economy": results, "robust": robust_mixes(results)}


def robust_mixes(results: dict[str, dict[str, pd.DataFrame]]) -> pd.DataFrame:
    """Each mix's objective in each economy, its regret there, and the mix with the least regret.

    A mix's *regret* in an economy is how much less it gives than the best mix of that economy (mean over
    replicates); its maximum regret is the largest over the economies. The least-regret mix is the one
    whose maximum regret is smallest (Savage's minimax regret): the choice a policy team can least
    regret whichever economy comes.

    Returns:
        One row per mix: its shares, ``mean_<economy>``, ``low_<economy>``, ``high_<economy>``,
        ``regret_<economy>``, ``best_in`` (the economies where it is best), ``max_regret`` and
        ``least_regret``.
    """
    economies = list(results)
    first = results[economies[0]]["mixes"]
    shares = [c for c in first.columns if c.startswith("share_")]
    table = first[["scenario", *shares]].copy()
    best_in: dict[str, list[str]] = {name: [] for name in table.scenario}
    for e in economies:
        m = results[e]["mixes"].set_index("scenario")
        table[f"mean_{e}"] = table.scenario.map(m["mean"])
        table[f"low_{e}"] = table.scenario.map(m["low"])
        table[f"high_{e}"] = table.scenario.map(m["high"])
        table[f"regret_{e}"] = table[f"mean_{e}"].max() - table[f"mean_{e}"]
        best_in[str(table.loc[table[f"mean_{e}"].idxmax(), "scenario"])].append(e)
    table["best_in"] = table.scenario.map(lambda n: ", ".join(best_in[n]))
    table["max_regret"] = table[[f"regret_{e}" for e in economies]].max(axis=1)
    table["least_regret"] = table.max_regret == table.max_regret.min()
    table.insert(1, "objective", str(first["objective"].iloc[0]) if "objective" in first else "")
    return table.sort_values("max_regret", kind="stable").reset_index(drop=True)


def uncertain_inputs(records: dict[str, list[dict[str, Any]]], comparator: str) -> tuple[pd.DataFrame, dict]:
    """The uncertain inputs each replicate drew, one row per replicate, and their groups.

    Each strand's effect ratios and unit cost (the same in every scenario of a replicate: the first
    scenario with the strand gives them), the appraisal's uncertain unit values, standing for the
    baseline parameter set drawn from the calibration's posterior, the people in work at the end of the
    comparator's run, the labour market's drawn figures, and the hazard-ratio gradients and figures the
    calibration does not fit, by the scores they were drawn at (:func:`gmsim.gradients.gradient_scores`:
    a gradient's steepness is one input; one with ratios drawn on their own is also a group). Empty
    without parameter uncertainty.
    """
    base = records[comparator]
    if not base or not base[0]["meta"].get("draws_on"):
        return pd.DataFrame(index=range(len(base))), {}
    rows, groups = [], {}
    money = [k for k, v in unit_values().items() if v.low is not None]
    for r in range(len(base)):
        row: dict[str, float] = {}
        for recs in records.values():
            for strand, draws in recs[r]["meta"].get("draws", {}).items():
                for param, value in draws.items():
                    name = f"{strand}: {param}"
                    row.setdefault(name, float(value))
                    if param != "unit_cost_gbp":
                        groups.setdefault(f"{strand}: every effect", set()).add(name)
        drawn = replicate_values(base[r])
        for k in money:
            row[f"unit value: {k}"] = drawn[k]
            groups.setdefault("unit values of the appraisal", set()).add(f"unit value: {k}")
        row["baseline: people in work at the end (posterior set)"] = float(base[r]["employed"][-1].sum())
        for name, value in base[r]["meta"].get("labour_market", {}).items():
            row[f"labour market: {name}"] = float(value)
        gradients: dict[str, set[str]] = {}
        for name, score in base[r]["meta"].get("baseline_scores", {}).items():
            row[f"baseline: {name}"] = float(score)
            gradient = gradient_of(name)
            if gradient:
                gradients.setdefault(f"baseline: {gradient}, every ratio", set()).add(f"baseline: {name}")
        groups.update((k, v) for k, v in gradients.items() if len(v) > 1)
        rows.append(row)
    return pd.DataFrame(rows), {k: sorted(v) for k, v in groups.items()}


def best_by_borough(replicates: pd.DataFrame, mixes: pd.DataFrame, objective: str, gm_best: str) -> pd.DataFrame:
    """The best mix in each borough, and how much more it gives there than the Greater Manchester best mix.

    Boroughs are judged on the sweep's objective: an area impact as it is, a strand outcome summed over
    the strands. Money is only counted for Greater Manchester, so a money objective falls back to extra
    person-years in work (what the fiscal benefit is made of).

    Args:
        replicates: Per-replicate impacts of every mix (from :func:`impacts_from`).
        mixes: The sweep's ``mixes`` table (scenario and share columns).
        objective: The sweep's objective.
        gm_best: Name of the best mix for Greater Manchester.

    Returns:
        One row per borough: ``metric``, ``best_mix``, its shares, its ``mean``/``low``/``high``, the GM best
        mix's ``gm_best_mean``, the paired difference ``gap`` (``gap_low``, ``gap_high``: 95% CI over
        replicates) of the borough's best over the GM best, and ``within_noise`` (how many mixes, the best
        included, cannot be told apart from the borough's best by the same paired interval).
    """
    metric = objective if objective in AREA_METRICS or objective in STRAND_METRICS else "extra_person_years_in_work"
    names = list(mixes.scenario)
    shares = [c for c in mixes.columns if c.startswith("share_")]
    rows = []
    for borough in codes.BOROUGHS:
        sel = replicates[
            (replicates.borough == borough) & (replicates.metric == metric) & replicates.scenario.isin(names)
        ]
        sel = sel[sel.strand == ALL] if metric in AREA_METRICS else sel[sel.strand != ALL]
        sums = sel.groupby(["scenario", "replicate"])["value"].sum()
        by = {n: g.sort_index(level="replicate").to_numpy() for n, g in sums.groupby(level="scenario")}
        if gm_best not in by:
            continue
        best = max(by, key=lambda n: float(np.mean(by[n])))
        s, gap = summarise(by[best]), summarise(by[best] - by[gm_best])
        near = sum(1 for n in by if n == best or summarise(by[best] - by[n])["low"] <= 0)
        row = mixes.loc[mixes.scenario == best, shares].iloc[0].to_dict()
        rows.append(
            {
                "borough": borough,
                "metric": metric,
                "best_mix": best,
                **row,
                "mean": s["mean"],
                "low": s["low"],
                "high": s["high"],
                "gm_best_mix": gm_best,
                "gm_best_mean": float(np.mean(by[gm_best])),
                "gap": gap["mean"],
                "gap_low": gap["low"],
                "gap_high": gap["high"],
                "within_noise": near,
            }
        )
    return pd.DataFrame(rows)


def _metric_by_replicate(gm: pd.DataFrame, metric: str) -> dict[str, np.ndarray]:
    rows = gm[gm.metric == metric]
    if metric in STRAND_METRICS and metric not in MONEY_METRICS:
        rows = rows[rows.strand != ALL].groupby(["scenario", "replicate"], as_index=False)["value"].sum()
    else:
        rows = rows[rows.strand == ALL]
    return {name: g.sort_values("replicate")["value"].to_numpy() for name, g in rows.groupby("scenario")}


def _is_the_comparator(scenario: Scenario, comparator: Scenario) -> bool:
    """Whether ``scenario`` runs exactly as ``comparator``: the same trunk (people, economy, parameters), none funded.

    Such a run's every impact against the comparator is 0 (a strand with no budget changes nothing:
    ``tests/test_interventions.py``), so it need not be run. Every sweep objective is a difference or a sum
    of counts, never a ratio.
    """
    from .shared import trunk_key

    strands = [*scenario.strands.values(), *comparator.strands.values()]
    return trunk_key(scenario) == trunk_key(comparator) and all(v.unfunded for v in strands)


def _attribute(
    base: Scenario,
    spec: MixSpec,
    shares: np.ndarray,
    best: str,
    comparator: Scenario,
    runs: int,
    seed: int,
    draws: bool,
    out: Path,
    workers: int | None,
    dask: str | None,
    months: int | None,
    scale: float | None,
    progress: bool,
    objective: dict[str, np.ndarray],
) -> pd.DataFrame:
    """Shapley attribution of the best mix's objective to its strands, from runs with strands switched off."""
    funded = [s for s, x in zip(spec.strands, shares, strict=True) if x > 0]
    # Every coalition but the full one (the best mix itself), including the empty one: the base with the
    # swept strands unfunded, which equals the baseline only if the base funds nothing else.
    coalitions = [frozenset(c) for size in range(0, len(funded)) for c in itertools.combinations(funded, size)]
    scs = []
    for c in coalitions:
        kept = np.array([x if s in c else 0.0 for s, x in zip(spec.strands, shares, strict=True)])
        scs.append(_mix_scenario(base, spec, kept, f"{best}-only-" + (".".join(sorted(c)) or "none")))
    values: dict[frozenset, np.ndarray] = {frozenset(funded): objective[best]}
    if _is_the_comparator(scs[0], comparator):
        # The empty coalition is the baseline run itself: its effect is 0 in every replicate.
        values[coalitions[0]] = np.zeros(len(objective[best]))
        coalitions, scs = coalitions[1:], scs[1:]
    if scs:
        scs = _prepare([comparator, *scs], months, scale)
        records = run_ensemble(scs, runs, seed, draws, out / "runs", workers, dask, progress)
        reps, _ = impacts_from(records, scs[0].name)
        sub = _metric_by_replicate(reps[reps.borough == GM], spec.objective)
        for c, sc in zip(coalitions, scs[1:], strict=True):
            values[c] = sub[sc.name]
    phi = shapley(values, funded)
    rows = [
        {"strand": s, **summarise(phi[s]), "share_of_budget": float(x)}
        for s, x in zip(spec.strands, shares, strict=True)
        if s in phi
    ]
    # "total" is what the swept strands add together: the best mix less the base without them (the Shapley
    # values add up to it); "unattributed" is the latter's own effect against the baseline (zero unless the
    # base funds other strands or changes parameters).
    rows.append({"strand": "total", **summarise(objective[best] - values[frozenset()]), "share_of_budget": 1.0})
    rows.append({"strand": "unattributed", **summarise(values[frozenset()]), "share_of_budget": 0.0})
    df = pd.DataFrame(rows)
    df.insert(0, "objective", spec.objective)
    df.insert(0, "scenario", best)
    return df
