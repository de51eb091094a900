"""Result folders: summary, tidy time series, manifest and plots, written atomically.

A run's folder is built in a temporary sibling folder and moved into place only when complete, so
a failed or interrupted run never leaves a half-written folder and never damages an earlier good one.
"""

from __future__ import annotations

import gzip
import json
import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__, codes, plots
from .evaluation import cohort_impact, cohort_impact_table
from .folders import OutputFolderError, atomic_folder, output_folder_problem
from .geography import jobs_share
from .interventions import COUNTERS, STOCK_COUNTERS
from .model import STOCK_KEYS, GMModel
from .results import F_JOB_TO_JOB, JOBSEEKERS
from .targets import load_targets

SUMMARY_KEYS = STOCK_KEYS[1:] + ("long_spell_share", "work_limiting_prevalence")
FLOW_KEYS = (
    "job_entries",
    "job_losses",
    "sickness_absence_starts",
    "returns_from_sickness_absence",
    "health_job_losses",
    "sickness_absence_job_loss_share",
    "health_onsets",
    "exits_at_65",
    "deaths",
    "moves_away",
    "job_to_job_moves",
)


def averaging_window(months: int) -> tuple[int, int]:
    """Months averaged for flows and targets: 13..end, or 1..end for runs shorter than two years."""
    return (13 if months >= 24 else 1), months


def _rounded(d: dict[str, float]) -> dict[str, float]:
    return {k: (round(v, 4) if k.endswith(("rate", "share", "prevalence")) else round(v, 1)) for k, v in d.items()}


def summary(model: GMModel) -> dict[str, Any]:
    """The run's headline figures (people, shares as fractions), as written to ``summary.json``."""
    r, m = model.results, model.month
    first, last = averaging_window(m)
    last12 = max(0, m - 11)
    pick = lambda d: _rounded({k: d[k] for k in SUMMARY_KEYS})  # noqa: E731
    flows = r.annual_flows(first, last) if m > 0 else {}
    window = r.mean_stocks(first, last) if m > 0 else r.stocks(0)
    # Targets as GM's figures are read: stocks over the last 12 months, flows a year over the window.
    latest = r.mean_stocks(last12, m) if m > 0 else r.stocks(0)
    checks = {}
    for t in load_targets():
        if t.metric.startswith("employment_rate."):
            b = codes.BOROUGHS.index(t.metric.split(".", 1)[1])
            v = r.mean_stocks(last12, m, b)["employment_rate"] if m > 0 else r.stocks(0, b)["employment_rate"]
        else:
            v = latest.get(t.metric, flows.get(t.metric))
        model_value = round(float(v), 4)  # judged as published, so that a reader's check of the figures agrees
        checks[t.key] = {
            "model": model_value,
            "target": t.value,
            "tolerance": t.tolerance,
            "ok": bool(abs(model_value - t.value) <= t.tolerance),
            "source": t.source,
        }
    cal = model.calendar
    return {
        "scenario": model.scenario.name,
        "description": model.scenario.description,
        "seed": model.seed,
        "months": m,
        "start": str(cal.date(1)),
        "end": str(cal.date(m)),
        "scale": model.scale,
        "people_simulated": model.people.n,
        "population": round(r.stocks(m)["population"], 1),
        "notes": {
            "units": "counts are people (simulated people / scale); rates and shares are fractions",
            "dates": (
                f"month 1 is {cal.date(1).words()}; month 0 is the starting population, after "
                f"{model.burn_in} months of burn-in (docs/model.md section 5)"
            ),
            "final": f"end of month {m} ({cal.date(m).words()})",
            "mean_last_12": f"mean of months {last12}..{m} ({cal.date(last12)} to {cal.date(m)})",
            "window": (
                f"flows and window means use months {first}..{last} ({cal.date(first)} to {cal.date(last)}); "
                "targets compare the last 12 months' stocks and the window's flows"
            ),
            "flows": "people a year, mean over the window",
            "transition_rates": (
                "moves between labour states a person-year in the window, by severity (at the end of the month "
                "moved; person-years by severity at its start) and for all"
            ),
        },
        "final": pick(r.stocks(m)),
        "mean_last_12": pick(r.mean_stocks(last12, m)),
        "window": pick(window),
        "by_borough": {
            b: {"final": pick(r.stocks(m, k)), "mean_last_12": pick(r.mean_stocks(last12, m, k))}
            for k, b in enumerate(codes.BOROUGHS)
        },
        "flows": {k: round(flows[k], 4 if k.endswith("share") else 1) for k in FLOW_KEYS} if flows else {},
        "cohorts": {k: round(v, 4) for k, v in flows.items() if k.startswith("new_claimant")},
        "out_of_work_health_by_duration": {
            band: round(float(x), 1)
            for band, x in zip(codes.SPELL_BANDS, r.spells[m, :, :JOBSEEKERS].sum(axis=0) / model.scale, strict=True)
        },
        "targets": checks,
        "transition_rates": r.transition_rates(first, last) if m > 0 and r.moves is not None else {},
        "strands": {iv.name: strand_summary(iv) for iv in model.interventions},
        "economy": model.scenario.economy.resolved().model_dump(exclude_none=True),
        "labour_market": labour_market_summary(model, first, last),
    }


def unemployed_not_for_health(model: GMModel) -> np.ndarray:
    """People looking for work without a health-related claim, month by month (0 .. the run's last)."""
    s = model.datacollector.get_model_vars_dataframe()
    return (s.looking_for_work - (s.out_of_work_health - s.inactive_claiming_health)).to_numpy(dtype=np.float64)


def labour_market_summary(model: GMModel, first: int, last: int) -> dict[str, Any]:
    """The labour market in the window (means a month) and, where the run had a comparator, displacement.

    ``job_entries_per_vacancy`` is the month's moves into work from looking for work or inactivity per
    vacancy open; ``vacancy_fill_rate`` the urn-ball chance that a vacancy is filled in a month;
    ``job_to_job_moves_a_quarter`` the share of people in work who move to another employer in three months
    (as the LFS measures it: 2.6% before the 2008 recession, ``uk_job_to_job_moves``).
    """
    market, r = model.market, model.results
    window = slice(max(first, 1), last + 1)
    t = codes.T
    entries = (r.flows[window, t["out_of_work_to_in_work"]] + r.flows[window, t["inactive_to_in_work"]]).sum(axis=1)
    vacancies = market.vacancies[window].sum(axis=1)
    moves = r.flows[window, F_JOB_TO_JOB].sum(axis=1)
    employed = r.stock[window, :, : codes.AT_RISK + 1].sum(axis=(1, 2, 3))
    out: dict[str, Any] = {
        "vacancies": round(float(vacancies.mean() / model.scale), 1),
        "job_entries_a_month": round(float(entries.mean() / model.scale), 1),
        "job_entries_per_vacancy": round(float((entries / vacancies).mean()), 4) if vacancies.size else None,
        "job_to_job_moves_a_quarter": round(float(3 * (moves / employed).mean()), 4) if moves.size else None,
        "applications_per_vacancy": round(float(market.applications[window].mean()), 4),
        "vacancy_fill_rate": round(float(1 - np.exp(-market.applications[window]).mean()), 4),
        "job_finding_factor": round(float(market.factors[window].mean()), 4),
        "lowest_job_finding_factor": round(float(market.factors[1 : model.month + 1].min()), 4),
        "furloughed_peak": round(
            float(market.furloughed(r.stock[: model.month + 1, :, :2].sum(axis=(1, 2, 3))).max() / model.scale), 1
        ),
    }
    if market.by_sector:
        out["sectors"] = sectors_summary(model)
    out["jobs_by_workplace"] = workplaces_summary(model)
    if model.entries_gained is not None:
        gained = model.entries_gained[1 : model.month + 1].sum(axis=0) / model.scale
        participants, others = gained
        out["displacement"] = {
            "participants_extra_job_entries": round(float(participants.sum()), 1),
            "displaced_job_entries": round(float(-others.sum()), 1),
            "net_job_entries": round(float(gained.sum()), 1),
            "displaced_share": round(float(-others.sum() / participants.sum()), 4) if participants.sum() > 0 else None,
            "by_borough": {
                b: {"participants_extra_job_entries": round(float(p), 1), "displaced_job_entries": round(float(-o), 1)}
                for b, p, o in zip(codes.BOROUGHS, participants, others, strict=True)
            },
        }
    return out


def workplaces_summary(model: GMModel) -> dict[str, dict[str, float]]:
    """People with an employer at the end of the run by their employer's workplace borough.

    With each borough's share of them, and the share of GM residents' jobs there in the Census 2021 travel
    to work (:func:`~gmsim.geography.jobs_share`), which the employers' workplaces are given to match.
    """
    employer = model.people.employer
    jobs = np.bincount(model.employers.borough[employer[employer >= 0]], minlength=len(codes.BOROUGHS))
    census = jobs_share()
    return {
        b: {
            "jobs": round(float(jobs[k] / model.scale), 1),
            "share": round(float(jobs[k] / max(jobs.sum(), 1)), 4),
            "census_share": round(float(census[k]), 4),
        }
        for k, b in enumerate(codes.BOROUGHS)
    }


def sectors_summary(model: GMModel) -> dict[str, dict[str, float]]:
    """Each sector's people with an employer at the start and at their lowest, its furloughed at their peak.

    And the lowest job-finding of the job seekers whose last job was in it, relative to one with no last job
    (:meth:`LabourMarket.by_last_sector <gmsim.market.LabourMarket.by_last_sector>`). Counted only in an
    economy where sectors fare differently (:attr:`LabourMarket.by_sector <gmsim.market.LabourMarket.by_sector>`).
    """
    market, m = model.market, model.month
    employed = market.employed[: m + 1] / model.scale
    furloughed = market.economy.furloughed_by_sector[: m + 1] * employed
    finding = np.array([market.by_last_sector(month)[1:] for month in range(1, m + 1)]).reshape(-1, len(codes.SECTORS))
    out = {}
    for k, sector in enumerate(codes.SECTORS):
        lowest = int(np.argmin(employed[:, k]))
        out[sector] = {
            "employed_at_start": round(float(employed[0, k]), 1),
            "employed_at_lowest": round(float(employed[lowest, k]), 1),
            "lowest_month": lowest,
            "change_at_lowest": round(float(employed[lowest, k] / employed[0, k] - 1), 4) if employed[0, k] else None,
            "furloughed_peak": round(float(furloughed[:, k].max()), 1),
            "job_finding_lowest": round(float(finding[:, k].min()), 4) if m > 0 else 1.0,
        }
    return out


def sectors_table(model: GMModel) -> pd.DataFrame:
    """Month by month and sector: people with an employer, furloughed, vacancies, job loss, hiring, job finding.

    ``job_finding_relative``: the job-finding of job seekers whose last job was in the sector, relative to
    one with no last job (:meth:`LabourMarket.by_last_sector <gmsim.market.LabourMarket.by_last_sector>`).
    """
    market, m = model.market, model.month
    vacancies = market.vacancies_by_sector
    job_loss = market.economy.factors[:, :, codes.T["in_work_to_out_of_work"]]
    rows = []
    for month in range(1, m + 1):
        finding = market.by_last_sector(month)
        for k, sector in enumerate(codes.SECTORS):
            employed = market.employed[month, k] / model.scale
            rows.append(
                {
                    "month": month,
                    "sector": sector,
                    "employed": round(float(employed), 1),
                    "furloughed": round(float(market.economy.furloughed_by_sector[month, k] * employed), 1),
                    "vacancies": round(float(vacancies[month, k] / model.scale), 1),
                    "job_loss_factor": round(float(job_loss[month, k]), 4),
                    "hiring_relative": round(float(market.economy.hiring[month, k]), 4),
                    "job_finding_relative": round(float(finding[k + 1]), 4),
                }
            )
    return pd.DataFrame(rows)


def labour_market_table(model: GMModel) -> pd.DataFrame:
    """The market month by month and borough: demand, vacancies, applications, fill rate, job-finding factor.

    With a comparator, also the extra job entries of the strands' participants and those displaced from
    everyone else that month (people).
    """
    market, m = model.market, model.month
    vacancies = market.vacancies
    rows = []
    for month in range(1, m + 1):
        for b, borough in enumerate(codes.BOROUGHS):
            row = {
                "month": month,
                "borough": borough,
                "demand": round(float(market.economy.demand[month]), 4),
                "vacancies": round(float(vacancies[month, b] / model.scale), 1),
                "applications_per_vacancy": round(float(market.applications[month, b]), 4),
                "vacancy_fill_rate": round(float(1 - np.exp(-market.applications[month, b])), 4),
                "job_finding_factor": round(float(market.factors[month, b]), 5),
                "furloughed_share": round(float(market.economy.furloughed[month]), 4),
            }
            if model.entries_gained is not None:
                row["participants_extra_job_entries"] = float(model.entries_gained[month, 0, b] / model.scale)
                row["displaced_job_entries"] = float(-model.entries_gained[month, 1, b] / model.scale)
            rows.append(row)
    return pd.DataFrame(rows)


def strand_summary(iv: Any) -> dict[str, Any]:
    """One intervention's reach, outcomes and cost over the whole run (people, GBP).

    ``eligible``, ``waiting`` and ``in_support`` are monthly means; the rest are totals. For the in-work
    strand the people counted are employees of the employers concerned.
    """
    totals = iv.totals()
    out: dict[str, Any] = {
        "title": iv.title,
        "budget_gbp_per_year": iv.spec.budget_gbp_per_year,
        "budget_by_financial_year": dict(iv.spec.budget_by_financial_year),
        "unit_cost_gbp": iv.unit_cost,
        "funded_months": [iv.start_month, min(iv.end_month, iv.model.month)],
        **{k: (None if v is None else round(v, 1)) for k, v in totals.items()},
    }
    if hasattr(iv, "employer_totals"):
        out.update({k: round(v, 1) for k, v in iv.employer_totals().items()})
    else:
        out["cohort_impact"] = cohort_impact(None if iv.impact is None else iv.impact.in_people)
    by_borough = iv.counts[1 : iv.model.month + 1].sum(axis=0) / iv.model.scale
    out["by_borough"] = {
        b: {name: round(float(by_borough[k, j]), 1) for k, name in enumerate(COUNTERS) if name not in STOCK_COUNTERS}
        for j, b in enumerate(codes.BOROUGHS)
    }
    return out


def strands_table(model: GMModel) -> pd.DataFrame:
    """Tidy monthly intervention counters: month, strand, measure, borough, value (people or GBP).

    Every month, strand, measure and borough has a row, zeros included: a zero is a count of none, not a
    missing figure.
    """
    frames = []
    for iv in model.interventions:
        m = model.month + 1
        idx = pd.MultiIndex.from_product(
            [range(m), [iv.name], COUNTERS, codes.BOROUGHS], names=["month", "strand", "measure", "borough"]
        )
        values = iv.counts[:m].transpose(0, 1, 2).reshape(-1) / model.scale
        frames.append(pd.DataFrame({"value": values}, index=idx).reset_index())
    if not frames:
        return pd.DataFrame(columns=["month", "strand", "measure", "borough", "value"])
    return pd.concat(frames, ignore_index=True)


def _versions() -> dict[str, str]:
    out = {"gmsim": __version__, "python": platform.python_version()}
    for pkg in ("mesa", "numpy", "numba", "pandas", "matplotlib", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def manifest(model: GMModel, wall_time_s: float, argv: list[str] | None = None) -> dict[str, Any]:
    """What produced the results: scenario content and hash, seed, versions, wall time."""
    return {
        "scenario": model.scenario.to_dict(),
        "scenario_hash": model.scenario.content_hash(),
        "seed": model.seed,
        "months": model.month,
        "scale": model.scale,
        "parameters_changed_from_data_files": model.params.changed(),
        "versions": _versions(),
        "wall_time_s": round(wall_time_s, 3),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": argv if argv is not None else sys.argv,
        "platform": platform.platform(),
    }


def write_results(
    model: GMModel,
    out_dir: str | Path,
    wall_time_s: float,
    argv: list[str] | None = None,
    drawer: plots.Drawer | None = None,
) -> Path:
    """Write summary.json, timeseries.csv, monthly.csv, manifest.json and plots/ into ``out_dir``.

    The plots are drawn in a process of their own while the tables are written (:mod:`gmsim.plots`).

    Args:
        model: A model that has been run.
        out_dir: Destination folder (replaced atomically if it exists).
        wall_time_s: Wall time of the run, for the manifest.
        argv: The command line, for the manifest.
        drawer: A plot drawer started before the run (:meth:`Drawer.start <gmsim.plots.Drawer.start>`), or
            None to start one now.

    Returns:
        The folder written.

    Raises:
        OutputFolderError: If ``out_dir`` holds files gmsim did not write, or cannot be replaced whole
            (:func:`output_folder_problem`); nothing is written.
    """
    out_dir = Path(out_dir)
    problem = output_folder_problem(out_dir, "run")
    if problem:
        raise OutputFolderError(problem)
    drawer = drawer or plots.Drawer.start()
    try:
        with atomic_folder(out_dir) as tmp:
            data = plots.plot_data(model)
            if drawer is not None:
                drawer.draw(data, tmp / "plots")
            _write_tables(model, tmp)
            if drawer is None or not drawer.finished():
                plots.draw(data, tmp / "plots")
            (tmp / "manifest.json").write_text(json.dumps(manifest(model, wall_time_s, argv), indent=2))
    finally:
        if drawer is not None:
            drawer.close()
    return out_dir


def dated(df: pd.DataFrame, model: GMModel) -> pd.DataFrame:
    """``df`` with a ``date`` column (``YYYY-MM``) after its ``month`` column (or index)."""
    if "month" not in df.columns:
        df = df.reset_index()
    labels = np.array(model.calendar.labels(max(model.month, int(df["month"].max()) if len(df) else 0)), dtype=object)
    df.insert(df.columns.get_loc("month") + 1, "date", labels[df["month"].to_numpy(dtype=np.int64)])
    return df


#: gzip level of ``pathways.csv.gz``: 1, the fastest (level 6 makes the file about a sixth smaller and takes
#: about four times as long to compress).
PATHWAYS_GZIP_LEVEL = 1
_NEEDS_QUOTES = (",", '"', "\n", "\r")


def _csv_column(column: pd.Series) -> list[str] | None:
    """A column's cells as ``DataFrame.to_csv`` writes them, or None if it has missing values or text to quote."""
    values = column.to_numpy()
    if values.dtype.kind == "f":
        if values.dtype.itemsize != 8 or np.isnan(values).any():  # pandas writes float32 by its own shortest form
            return None
        return _texts(values, repr)
    if values.dtype.kind in "iub":
        return _texts(values, str)
    if column.isna().any():
        return None
    labels = column.unique().tolist()
    if not all(isinstance(c, str) for c in labels) or any(ch in c for c in labels for ch in _NEEDS_QUOTES):
        return None
    return column.tolist()


def _texts(values: np.ndarray, form: Callable[[Any], str]) -> list[str]:
    """``form`` of each value; in a long column, of each distinct value once (a run's tables repeat a few)."""
    if len(values) < 10_000:
        return list(map(form, values.tolist()))
    bits = values.view(f"i{values.itemsize}") if values.dtype.kind == "f" else values  # -0.0 is not 0.0
    distinct, where = np.unique(bits, return_inverse=True)
    distinct = distinct.view(values.dtype)
    return np.array(list(map(form, distinct.tolist())), dtype=object)[where].tolist()


def write_csv(df: pd.DataFrame, path: Path, compresslevel: int | None = None) -> None:
    """Write ``df`` as ``df.to_csv(path, index=False)`` does, gzipped if ``compresslevel`` is given.

    The same text, formatted a column at a time (pandas' writer formats cell by cell, the larger part of
    writing a run's long tables); a table with a missing value or text that needs quoting goes to pandas.
    A gzipped file's header carries no time or name, so the same table gives the same bytes.
    """
    columns = [_csv_column(df[c]) for c in df.columns]
    if any(c is None for c in columns) or not all(isinstance(c, str) for c in df.columns):
        method = {"method": "gzip", "compresslevel": compresslevel, "mtime": 0} if compresslevel else None
        df.to_csv(path, index=False, compression=method)
        return
    lines = [",".join(df.columns), *map(",".join, zip(*columns, strict=True)), ""]
    data = "\n".join(lines).encode()
    if compresslevel is None:
        path.write_bytes(data)
    else:
        with open(path, "wb") as raw, gzip.GzipFile("", "wb", compresslevel, raw, mtime=0) as z:
            z.write(data)


def _write_tables(model: GMModel, folder: Path) -> None:
    """The run's tables: summary.json and the CSV files (docs: README, "What a run writes")."""
    (folder / "summary.json").write_text(json.dumps(summary(model), indent=2))
    write_csv(dated(model.results.timeseries(), model), folder / "timeseries.csv")
    dated(model.results.monthly().round(4), model).to_csv(folder / "monthly.csv", index=False)
    if model.results.moves is not None:
        write_csv(dated(model.results.transitions(), model), folder / "transitions.csv")
    if model.interventions:
        dated(strands_table(model), model).to_csv(folder / "strands.csv", index=False)
        impacts = {iv.name: iv.impact.in_people for iv in model.interventions if iv.impact is not None}
        if impacts:
            table = pd.DataFrame(cohort_impact_table(impacts))
            table.to_csv(folder / "cohort_impact.csv", index=False)
    dated(labour_market_table(model), model).to_csv(folder / "labour_market.csv", index=False)
    if model.market.by_sector:
        dated(sectors_table(model), model).to_csv(folder / "sectors.csv", index=False)
    if model.pathways is not None:
        write_csv(dated(model.pathways.table(), model), folder / "pathways.csv.gz", compresslevel=PATHWAYS_GZIP_LEVEL)
