"""The dashboard's web page (Solara): controls on the left, the comparison's results on the right.

Served by ``gmsim dashboard`` (see :mod:`gmsim.dashboard`, which holds everything but the drawing). Each
browser tab has its own controls and results. Runs go to the worker processes of :func:`gmsim.compare`;
finished runs are kept in the dashboard's run store, so the same choices again are read back at once.

The strands' controls are declared as data: :data:`CONTROLS`, one :class:`gmsim.dashboard.StrandControl`
for every registered intervention (made after the start scenarios are loaded, so that the modules they
list have registered theirs), times :data:`SLIDERS`, the sliders each strand gets. One component draws
them all (:func:`StrandSliders`); nothing is written out strand by strand.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import solara
import solara.lab

from . import dashboard as db
from .comparison import few_runs_warning
from .report import PLOT_CAPTIONS

CSS = """
.gmsim-report table{border-collapse:collapse;margin:0.4em 0 1em;font-size:0.9em}
.gmsim-report th,.gmsim-report td{border:1px solid #cfd6de;padding:3px 8px;vertical-align:top;text-align:left}
.gmsim-report th{background:#eef2f6}.gmsim-report td.num{text-align:right}
.gmsim-report td.num b,.gmsim-report .ci{white-space:nowrap}
.gmsim-report tr.best td{background:#fff5e0}.gmsim-report .rng{color:#5a6572;font-size:0.85em}
.gmsim-report .zero{color:#8a4b00;font-size:0.85em}
.gmsim-report img{max-width:100%}
"""
BUDGET_STEP_M = 0.25  # the budget sliders' step, GBP million
PLOT_ORDER = ("stocks", "impacts_over_time", "boroughs", "strands", "cost_per_outcome")


def _folder() -> Path:
    return db.default_folder()


def _store() -> Path:
    return Path(os.environ.get("GMSIM_DASHBOARD_STORE", Path("results") / "dashboard"))


def _starts() -> tuple[dict[str, Any], list[str]]:
    try:
        return db.start_scenarios(_folder()), []
    except db.DashboardError as err:
        return {}, err.messages


STARTS, STARTUP_PROBLEMS = _starts()  # first: loading them imports their modules, which register strands
#: The strands' controls, one per registered intervention, in the order they are shown.
CONTROLS = db.strand_controls(STARTS)
NAMES = [c.name for c in CONTROLS]
TITLES = db.strand_titles(CONTROLS)
FIRST = "working_well" if "working_well" in STARTS else next(iter(STARTS), "")

start = solara.reactive(FIRST)
_first_budgets = db.budgets_of(STARTS[FIRST], NAMES) if FIRST else dict.fromkeys(NAMES, 0.0)
budgets = {s: solara.reactive(v) for s, v in _first_budgets.items()}
split = solara.reactive(False)  # set budgets as a total and each strand's share of it
total_m = solara.reactive(f"{sum(budgets[s].value for s in NAMES):g}")
shares = {s: solara.reactive(v) for s, v in db.shares_of({s: budgets[s].value for s in NAMES}, NAMES).items()}
months = solara.reactive("120")
scale = solara.reactive("0.1")
runs = solara.reactive("10")
seed = solara.reactive("1")
uncertainty = solara.reactive(True)
economy = solara.reactive("steady")
done = solara.reactive((0, 0))
outcome: solara.Reactive[db.Outcome | None] = solara.reactive(None)
failure = solara.reactive("")
waiting = solara.reactive(False)
stop_requested = solara.reactive(False)
notice = solara.reactive("")
log = logging.getLogger("gmsim.dashboard")


def _budgets() -> dict[str, float]:
    """The strands' budgets, GBP million a year: from the sliders, or from the total and the shares."""
    if split.value:
        return db.split_total(total_m.value, {s: shares[s].value for s in NAMES}, NAMES)
    return {s: float(budgets[s].value) for s in NAMES}


def _choices() -> db.Choices:
    return db.Choices(
        start=start.value,
        budgets_m=_budgets(),
        months=months.value,
        scale=scale.value,
        runs=runs.value,
        seed=seed.value,
        parameter_uncertainty=uncertainty.value,
        economy=economy.value,
    )


def _show_as_split(values: dict[str, float]) -> None:
    total_m.value = f"{sum(values.values()):g}"
    for s, v in db.shares_of(values, NAMES).items():
        shares[s].value = v


def _set_start(name: str) -> None:
    start.value = name
    if name in STARTS:
        for s, value in db.budgets_of(STARTS[name], NAMES).items():
            budgets[s].value = value
        _show_as_split(db.budgets_of(STARTS[name], NAMES))


def _set_split(on: bool) -> None:
    """Switch between a budget per strand and a total split in shares, carrying the budgets across."""
    if on:
        _show_as_split({s: float(budgets[s].value) for s in NAMES})
    else:
        try:  # to the sliders' steps of GBP 0.25m
            for s, value in _budgets().items():
                budgets[s].value = min(round(value / BUDGET_STEP_M) * BUDGET_STEP_M, db.MAX_BUDGET_M)
        except db.DashboardError:
            pass  # an unfinished total or split: the sliders keep their budgets
    split.value = on


@solara.lab.task(prefer_threaded=True)
def compute(plan: db.Plan) -> None:
    """Run the comparison in a thread, reporting runs done to the page (one comparison at a time per server)."""
    failure.value = notice.value = ""
    stop_requested.value = False
    done.value = (0, 0)
    waiting.value = not db.RUN_LOCK.acquire(blocking=False)
    if waiting.value:
        db.RUN_LOCK.acquire()
        waiting.value = False

    def progress(finished: int, total: int) -> None:
        if stop_requested.value:
            raise db.Stopped(finished, total)
        if compute.is_current():
            done.value = (finished, total)
            compute.progress = 100.0 * finished / max(total, 1)

    try:
        new = db.run(plan, _store(), on_progress=progress)
    except db.Stopped as stop:
        notice.value = (
            f"Stopped after {stop.finished} of {stop.total} runs. The finished runs are kept: press Run "
            "with the same choices to carry on from them."
        )
        return
    except Exception as exc:  # noqa: BLE001 - the page shows a message, never a stack trace
        log.exception("dashboard run failed")
        if compute.is_current():
            failure.value = f"The run failed: {type(exc).__name__}: {exc}"
        return
    finally:
        db.RUN_LOCK.release()
    if compute.is_current():
        outcome.value = new


def _html(tag: str, inner: str, classes: list[str] | None = None) -> None:
    solara.HTML(tag=tag, unsafe_innerHTML=inner, classes=classes or [])


def _total() -> float | None:
    """The total budget typed in, GBP million, or None while it is not a number."""
    try:
        return float(total_m.value)
    except ValueError:
        return None


def _share_label(title: str, share: float) -> str:
    total = _total()
    return f"{title}: {share:.0f}%" + (f" = £{total * share / 100:,.2f}m" if total is not None else "")


@dataclass(frozen=True)
class Slider:
    """A slider every strand gets, as data: what it sets, its range and step, and how it is labelled.

    Attributes:
        kind: ``budget`` or ``share``; the strand's slider sits in a ``gmsim-<kind>-<strand>`` element.
        values: The value of each strand it sets, by strand name.
        high: Its largest value (the smallest is 0).
        step: Its step.
        label: The label above it, from the strand's title and the slider's value.
        total: The line under the sliders, from the sum of their values.
        total_class: The CSS class of that line.
    """

    kind: str
    values: dict[str, solara.Reactive[float]]
    high: float
    step: float
    label: Callable[[str, float], str]
    total: Callable[[float], str]
    total_class: str


#: The sliders each strand in :data:`CONTROLS` gets: its annual budget, and its share of a total budget.
SLIDERS = {
    "budget": Slider(
        "budget",
        budgets,
        db.MAX_BUDGET_M,
        BUDGET_STEP_M,
        lambda title, m: f"{title}: £{m:,.2f}m",
        lambda m: f"Total £{m:,.2f}m a year",
        "gmsim-total",
    ),
    "share": Slider(
        "share", shares, 100.0, 1.0, _share_label, lambda pct: f"Shares add up to {pct:.0f}%", "gmsim-share-total"
    ),
}


@solara.component
def StrandSliders(slider: Slider) -> None:
    """One of the sliders for each strand in :data:`CONTROLS`, in their order, each labelled with its title."""
    for control in CONTROLS:
        value = slider.values[control.name]
        with solara.Div(classes=[f"gmsim-{slider.kind}-{control.name}"]):
            _html("div", escape(slider.label(control.title, float(value.value))), ["gmsim-label"])
            # The slider shows the value at its nearest step but sets it only when moved, so that an amount
            # typed between its steps is kept.
            shown = min(round(float(value.value) / slider.step) * slider.step, slider.high)
            solara.SliderFloat(
                "", value=shown, on_value=value.set, min=0.0, max=slider.high, step=slider.step, thumb_label=False
            )
            if slider.kind == "budget":  # any amount, not only the slider's steps
                solara.InputFloat("or type £ million", value=value, classes=[f"gmsim-exact-{control.name}"])
    solara.Text(slider.total(sum(float(v.value) for v in slider.values.values())), classes=[slider.total_class])


@solara.component
def Controls(plan: db.Plan | None) -> None:
    """The sidebar: start scenario, strand budgets, run settings and the Run button."""
    solara.Select("Start from", values=list(STARTS), value=start.value, on_value=_set_start)
    with solara.Div(classes=["gmsim-split"]):
        solara.Checkbox(label="Split a total budget", value=split.value, on_value=_set_split)
    chosen = STARTS.get(start.value)
    scheduled = [
        TITLES.get(n, n) for n, spec in (chosen.strands if chosen else {}).items() if spec.budget_by_financial_year
    ]
    if scheduled:
        solara.Info(
            f"{start.value} changes the budget of {', '.join(scheduled)} by financial year; here each strand has "
            "one budget for the whole run (its first year's, to start with).",
            classes=["gmsim-schedule-note"],
        )
    if split.value:
        SplitControls()
    else:
        solara.HTML(tag="b", unsafe_innerHTML="Annual budget of each strand, £ million")
        StrandSliders(SLIDERS["budget"])
    solara.Select("Economy (both runs)", values=list(db.ECONOMY_FILES), value=economy)
    solara.InputText("Months", value=months, continuous_update=True)
    solara.InputText("Scale (share of 1,781,000 people)", value=scale, continuous_update=True)
    solara.InputText("Runs (replicates)", value=runs, continuous_update=True)
    solara.InputText("Seed", value=seed, continuous_update=True)
    solara.Checkbox(label="Parameter uncertainty", value=uncertainty)
    solara.Button(
        "Run",
        color="primary",
        disabled=plan is None or compute.pending,
        on_click=lambda: compute(plan),
        classes=["gmsim-run"],
    )
    if plan is not None:
        solara.FileDownload(
            plan.scenario_yaml(), filename="dashboard.yaml", label="Download scenario", mime_type="text/yaml"
        )
        _html("div", "The scenario set by these controls, to rerun from the command line.", ["gmsim-note"])


@solara.component
def SplitControls() -> None:
    """A total annual budget and each strand's share of it (the shares must add up to 100%)."""
    solara.InputText("Total budget, £ million a year", value=total_m, continuous_update=True)
    solara.HTML(tag="b", unsafe_innerHTML="Share of each strand, %")
    StrandSliders(SLIDERS["share"])


@solara.component
def Results(result: db.Outcome) -> None:
    """The comparison: headline, boroughs, strands and plots, from the same code as ``report.html``."""
    p = result.plan
    tables = result.tables()
    with solara.Column(classes=["gmsim-report"]):
        funded = ", ".join(f"{TITLES.get(s, s)} £{v / 1e6:g}m" for s, v in p.budgets_gbp().items()) or "no strand"
        _html("h3", "Impacts against the baseline")
        _html(
            "p",
            f"{escape(funded)} a year; {p.scenario.months} months at scale {p.scenario.population.scale:g}; "
            f"{p.runs} runs, seed {p.seed}, parameter uncertainty {'on' if p.parameter_uncertainty else 'off'}. "
            "Mean over runs in bold, 95% confidence interval of the mean in brackets, the range of the middle "
            "95% of runs below. People are scaled to Greater Manchester's population.",
        )
        warning = few_runs_warning(p.runs)
        if warning:
            solara.Warning(warning, classes=["gmsim-few-runs"])
        solara.HTML(tag="div", unsafe_innerHTML=tables["headline"], classes=["gmsim-headline"])
        with solara.Row():
            solara.FileDownload(
                result.results_zip,
                filename="gmsim-dashboard-results.zip",
                label="Download results (CSV)",
                mime_type="application/zip",
            )
        _html(
            "p",
            "The zip holds the CSVs, report.html and dashboard.yaml, the scenario of these results. The same "
            f"numbers from the command line: <code>{escape(p.command())}</code>",
            classes=["gmsim-command"],
        )
        _html("h4", "By borough: extra person-years in work")
        solara.HTML(tag="div", unsafe_innerHTML=tables["boroughs"], classes=["gmsim-boroughs"])
        if tables["strands"]:
            _html("h4", "By strand (gross, from each programme's own records)")
            solara.HTML(tag="div", unsafe_innerHTML=tables["strands"], classes=["gmsim-strands"])
        for key in PLOT_ORDER:
            if key in result.plots:
                _html("h4", escape(PLOT_CAPTIONS[key]))
                solara.Image(result.plots[key], width="1000px", format="png")


@solara.component
def Page() -> None:
    """The dashboard."""
    solara.Title("gmsim: Working Well funding dashboard")
    solara.Style(CSS)
    problems: list[str] = list(STARTUP_PROBLEMS)
    plan = None
    if not problems:
        try:
            plan = db.plan(_choices(), _folder(), STARTS, CONTROLS)
        except db.DashboardError as err:
            problems = err.messages
    with solara.Columns([1, 3]):
        with solara.Card("Choices"):
            Controls(plan)
        with solara.Column():
            _page_body(problems, plan)


def _page_body(problems: list[str], plan: db.Plan | None) -> None:
    _html("h2", "Working Well: what a funding mix buys")
    _html(
        "p",
        "Set each strand's annual budget (or a total and each strand's share of it), press <b>Run</b>, "
        "and read the impacts against the baseline with their uncertainty. Scale 0.1 gives a quick look; use "
        "scale 1 (all 1,781,000 people) for figures to quote.",
    )
    for message in problems:
        solara.Error(message, classes=["gmsim-problem"])
    if failure.value:
        solara.Error(failure.value, classes=["gmsim-problem"])
    if notice.value:
        solara.Info(notice.value, classes=["gmsim-notice"])
    if compute.pending:
        finished, total = done.value
        solara.ProgressLinear(compute.progress if total else True)
        text = (
            "waiting for another comparison on this server to finish"
            if waiting.value
            else f"{finished} of {total} runs done"
            if total
            else "starting the runs"
        )
        with solara.Row():
            solara.Text(text, classes=["gmsim-progress"])
            solara.Button(
                "Stop", on_click=lambda: stop_requested.set(True), disabled=stop_requested.value, classes=["gmsim-stop"]
            )
        if stop_requested.value:
            solara.Text("stopping after the runs under way finish", classes=["gmsim-stopping"])
    if outcome.value is not None and not compute.pending:
        if plan != outcome.value.plan:
            solara.Warning(
                "The controls have changed since these results were run: press Run to update them. "
                "The results below, their download and their command line are for the earlier "
                "choices.",
                classes=["gmsim-stale"],
            )
        Results(outcome.value)
