"""The policy dashboard: choices on a web page turned into a :func:`gmsim.compare` run, and its results.

``gmsim dashboard [--port N] [--host H]`` serves the page (:mod:`gmsim.dashboard_page`, built on Solara,
the library under Mesa's own visualisation) on 127.0.0.1 unless ``--host`` says otherwise. This module
holds everything the page does that is not drawing: which scenarios can be started from, how the
controls become two scenarios (the baseline and the funded one), checking the controls with the same
schema as a scenario file, running the comparison, and what the downloads contain. The page shows the
tables and plots that ``gmsim compare`` writes into ``report.html`` (:mod:`gmsim.report`), from the same
functions, so the numbers on the page are those of

    gmsim compare scenarios/baseline.yaml dashboard.yaml --runs N --seed S --months M --scale X

with ``dashboard.yaml`` the page's "Download scenario".

The strands' controls are declared as data (:class:`StrandControl`, from :func:`strand_controls`): one
for every intervention in the registry (:func:`gmsim.interventions.registered`), the four Working Well
strands first and then any a researcher's module registers. A module registers its interventions when it
is imported, which loading a scenario that names it under ``modules:`` does, so the start scenarios are
loaded (:func:`start_scenarios`) before the controls are made.
"""

from __future__ import annotations

import io
import math
import os
import signal
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .interventions import registered
from .scenario import MIN_SCALE, Scenario, ScenarioError, load_scenario

#: The four Working Well strands (always registered): their controls come first, in this order, then those
#: of the other registered interventions in the order they were registered.
WORKING_WELL_STRANDS = ("work_and_health", "early_help", "care_and_support", "in_work")
#: Highest budget a slider offers, GBP million a year per strand (the working_well total is GBP 12m).
MAX_BUDGET_M = 30.0
#: Most replicates the page will run (a full-scale run takes about half a minute a worker).
MAX_RUNS = 200
#: The heading of the page's result column.
RESULT_COLUMN = "Your choices vs the baseline"
#: Longest run the page offers (the scenario schema's own limit).
MAX_MONTHS = 1200
SCENARIO_NAME = "dashboard"
COMPARATOR_FILE = "baseline.yaml"
#: The economies the page offers, each with the scenario file that is its comparator (no strand funded).
ECONOMY_FILES = {"steady": COMPARATOR_FILE, "recession": "recession.yaml", "pandemic": "pandemic.yaml"}


@dataclass(frozen=True)
class StrandControl:
    """One strand's controls, as data: the page draws a budget slider and a share slider from each.

    Attributes:
        name: The intervention's registered name (its key under a scenario's ``strands:``).
        title: Its label on the page and in messages: the intervention's ``title``, else its name.
        modules: The ``modules:`` a scenario funding it lists, so that the funded scenario can be run and
            read back in another process (empty for the Working Well strands).
    """

    name: str
    title: str
    modules: tuple[str, ...] = ()


def strand_controls(starts: Mapping[str, Scenario] | None = None) -> list[StrandControl]:
    """The strands' controls: one for every registered intervention, in the order the page shows them.

    The Working Well strands come first (:data:`WORKING_WELL_STRANDS`), then the other registered
    interventions in the order they were registered. A researcher's intervention is registered when its
    module is imported, so load the scenarios naming its module under ``modules:`` first
    (:func:`start_scenarios` does).

    Args:
        starts: The start scenarios, to find the ``modules:`` a researcher's intervention needs: those of the
            first start scenario that funds it, else those of every start scenario.

    Returns:
        The controls, one per strand.
    """
    available = registered()
    names = [
        *(s for s in WORKING_WELL_STRANDS if s in available),
        *(s for s in available if s not in WORKING_WELL_STRANDS),
    ]
    scenarios = list((starts or {}).values())
    every = tuple(dict.fromkeys(m for sc in scenarios for m in sc.modules))
    controls = []
    for name in names:
        modules: tuple[str, ...] = ()
        if name not in WORKING_WELL_STRANDS:
            funding = next((sc for sc in scenarios if name in sc.strands), None)
            modules = tuple(funding.modules) if funding is not None else every
        controls.append(StrandControl(name, available[name].title or name, modules))
    return controls


def strand_titles(controls: Sequence[StrandControl] | None = None) -> dict[str, str]:
    """Each strand's title by name, in the controls' order (default: those of :func:`strand_controls`)."""
    return {c.name: c.title for c in (strand_controls() if controls is None else controls)}


def _names(strands: Sequence[str] | None) -> tuple[str, ...]:
    """The strands given, or those of every registered intervention in the controls' order."""
    return tuple(strand_titles()) if strands is None else tuple(strands)


def __getattr__(name: str) -> Any:
    """``STRANDS`` and ``STRAND_TITLES``: the registered strands' names and titles, in the controls' order.

    Computed when read, as the registry grows when researchers' modules are imported.
    """
    if name == "STRANDS":
        return _names(None)
    if name == "STRAND_TITLES":
        return strand_titles()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class DashboardError(Exception):
    """Controls that cannot be run: one message per problem, each naming the control.

    Attributes:
        messages: ``"Control: what was expected, got what"`` lines.
    """

    def __init__(self, messages: list[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


class Stopped(Exception):
    """Raised from a run's progress callback when the user stops it; finished runs stay in the run store.

    Attributes:
        finished: Runs finished when it stopped.
        total: Runs the comparison needed.
    """

    def __init__(self, finished: int, total: int) -> None:
        self.finished, self.total = finished, total
        super().__init__(f"stopped after {finished} of {total} runs")


@dataclass(frozen=True)
class Choices:
    """What the controls on the page say.

    Numbers typed into text boxes arrive as text, so that a bad entry can be reported rather than lost.

    Attributes:
        start: Name of the scenario to start from (its strands' settings are kept; budgets come from
            ``budgets_m``).
        budgets_m: Annual budget of each strand, GBP million; a strand at 0 is not funded.
        months: Months to simulate.
        scale: Share of the 1,781,000 people simulated.
        runs: Replicates of each scenario.
        seed: Ensemble seed.
        parameter_uncertainty: Draw a baseline set from the posterior and effect parameters in each replicate.
        economy: The economy both scenarios run in (one of :data:`ECONOMY_FILES`).
    """

    start: str = "working_well"
    budgets_m: dict[str, float] = field(default_factory=dict)
    months: str = "120"
    scale: str = "0.1"
    runs: str = "10"
    seed: str = "1"
    parameter_uncertainty: bool = True
    economy: str = "steady"


@dataclass(frozen=True)
class Plan:
    """A checked set of choices: the two scenarios to compare and how to run them.

    Attributes:
        comparator: ``baseline.yaml`` with the chosen months and scale.
        scenario: The comparator with the chosen strands and budgets, and the ``modules:`` they need (named
            ``dashboard``).
        runs: Replicates of each scenario.
        seed: Ensemble seed.
        parameter_uncertainty: Whether baseline and effect parameters are drawn in each replicate.
        start: Name of the scenario the strands' settings came from.
        folder: The scenarios folder, as the rerun command names it.
        comparator_file: The comparator's file in that folder (the chosen economy's: :data:`ECONOMY_FILES`).
    """

    comparator: Scenario
    scenario: Scenario
    runs: int
    seed: int
    parameter_uncertainty: bool
    start: str
    folder: str = "scenarios"
    comparator_file: str = COMPARATOR_FILE

    def command(self, scenario_file: str = "dashboard.yaml") -> str:
        """The ``gmsim compare`` command line that gives the same numbers as the page.

        Args:
            scenario_file: Where the downloaded scenario was saved.

        Returns:
            The command, to run from the folder ``gmsim dashboard`` was started in.
        """
        parts = [
            "gmsim",
            "compare",
            str(Path(self.folder) / self.comparator_file),
            scenario_file,
            "--runs",
            str(self.runs),
            "--seed",
            str(self.seed),
            "--months",
            str(self.scenario.months),
            "--scale",
            repr(self.scenario.population.scale),
        ]
        if not self.parameter_uncertainty:
            parts.append("--no-parameter-uncertainty")
        return " ".join(parts)

    def scenario_yaml(self) -> str:
        """The funded scenario as a self-contained YAML file, headed by how to rerun the page's comparison."""
        head = [
            "# gmsim scenario downloaded from the dashboard: the page's controls, every value spelled out.",
            f"# Strands' settings from the scenario '{self.start}', everything else from {self.comparator_file}.",
            "# To get the page's numbers, from the folder the dashboard was started in:",
            f"#   {self.command()}",
        ]
        return "\n".join(head) + "\n" + self.scenario.to_yaml()

    def budgets_gbp(self) -> dict[str, float]:
        """Annual budget of each funded strand, GBP."""
        return {name: spec.budget_gbp_per_year for name, spec in self.scenario.strands.items()}


def default_folder() -> Path:
    """The scenarios folder: ``$GMSIM_SCENARIOS`` if set, else ``scenarios/`` under the current directory."""
    return Path(os.environ.get("GMSIM_SCENARIOS", "scenarios"))


def start_scenarios(folder: str | Path) -> dict[str, Scenario]:
    """Scenarios in ``folder`` that the page can start from, by name (files that do not load are skipped).

    Loading them imports the modules they list under ``modules:``, so that the interventions those
    register are there for :func:`strand_controls`. ``baseline.yaml`` comes first.

    Raises:
        DashboardError: If the folder or its ``baseline.yaml`` is missing or invalid.
    """
    folder = Path(folder)
    if not (folder / COMPARATOR_FILE).is_file():
        raise DashboardError([f"Scenarios folder: expected {folder / COMPARATOR_FILE} (the comparator), not found"])
    try:
        baseline = load_scenario(folder / COMPARATOR_FILE)
    except ScenarioError as err:
        raise DashboardError([str(err).splitlines()[0]]) from None
    found = {baseline.name: baseline}
    for path in sorted(folder.glob("*.yaml")):
        try:
            sc = load_scenario(path)
        except ScenarioError:
            continue  # e.g. a sweep file
        found.setdefault(sc.name, sc)
    return found


def budgets_of(scenario: Scenario, strands: Sequence[str] | None = None) -> dict[str, float]:
    """A scenario's annual strand budgets in GBP million (0 for strands it does not fund), in its first month.

    Args:
        scenario: The scenario.
        strands: The strands to give (default: every registered one, in the controls' order).
    """
    year = scenario.calendar.date(1).financial_year
    return {
        s: (scenario.strands[s].annual_budget(year) / 1e6 if s in scenario.strands else 0.0) for s in _names(strands)
    }


def shares_of(budgets_m: dict[str, float], strands: Sequence[str] | None = None) -> dict[str, float]:
    """Each strand's share of the total of ``budgets_m``, in whole per cent adding up to 100.

    The share sliders move in whole per cent, so shares are rounded, by largest remainder so that they
    still add up to 100 (GBP 2m of 12m becomes 17%; ties go to the strand shown first). With no budget at
    all the shares are equal.

    Args:
        budgets_m: Annual budget of each strand, GBP million (a strand missing has none).
        strands: The strands to share among (default: every registered one, in the controls' order).
    """
    names = _names(strands)
    total = sum(budgets_m.get(s, 0.0) for s in names)
    exact = {s: (100.0 * budgets_m.get(s, 0.0) / total if total > 0 else 100.0 / len(names)) for s in names}
    whole = {s: math.floor(v + 1e-9) for s, v in exact.items()}
    for s in sorted(names, key=lambda s: whole[s] - exact[s])[: 100 - sum(whole.values())]:
        whole[s] += 1
    return {s: float(v) for s, v in whole.items()}


def split_total(
    total_m: str | float, shares_pct: dict[str, float], strands: Sequence[str] | None = None
) -> dict[str, float]:
    """Each strand's annual budget (GBP million) from a total and the strands' shares of it.

    Args:
        total_m: Total annual budget, GBP million (text from the page, or a number), at most
            :data:`MAX_BUDGET_M` a strand.
        shares_pct: Share of each strand, per cent; the shares must add up to 100.
        strands: The strands to split among (default: every registered one, in the controls' order).

    Returns:
        ``{strand: budget}``, GBP million a year.

    Raises:
        DashboardError: Naming the total or the shares, with what was expected.
    """
    names = _names(strands)
    problems = []
    try:
        total = float(str(total_m).strip())
        if not (math.isfinite(total) and 0 <= total <= MAX_BUDGET_M * len(names)):
            raise ValueError
    except ValueError:
        problems.append(
            f"Total: expected GBP 0 to {MAX_BUDGET_M * len(names):g} million a year, got {str(total_m).strip()[:30]!r}"
        )
        total = None
    shares = {s: float(shares_pct.get(s, 0.0)) for s in names}
    if any(not (math.isfinite(v) and 0 <= v <= 100) for v in shares.values()) or abs(sum(shares.values()) - 100) > 1e-6:
        problems.append(f"Shares: expected shares from 0 to 100% adding up to 100%, got {sum(shares.values()):g}%")
    if problems:
        raise DashboardError(problems)
    return {s: round(total * shares[s] / 100, 6) for s in names}


def _whole(text: str, label: str, low: int, high: int | None, problems: list[str]) -> int | None:
    try:
        value = int(str(text).strip())
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        span = f"from {low:,} to {high:,}" if high is not None else f">= {low:,}"
        problems.append(f"{label}: expected a whole number {span}, got {str(text).strip()[:30]!r}")
        return None
    return value


def _label(key: str, titles: dict[str, str]) -> str:
    if key == "months":
        return "Months"
    if key == "population.scale":
        return "Scale"
    for s, title in titles.items():
        if key == f"strands.{s}" or key.startswith(f"strands.{s}."):
            return f"{title} budget"
    return key or "Scenario"


def plan(
    choices: Choices,
    folder: str | Path | None = None,
    starts: dict[str, Scenario] | None = None,
    controls: Sequence[StrandControl] | None = None,
) -> Plan:
    """Check the controls and build the scenarios to compare.

    The comparator is the chosen economy's scenario with no strand funded (``baseline.yaml`` in the steady
    economy, :data:`ECONOMY_FILES`) from the scenarios folder, with the chosen months and scale. The
    funded scenario is the comparator plus the strands: each strand with a budget above 0, its settings
    taken from the start scenario (or the strand's defaults) and its budget from the slider, and the
    ``modules:`` a researcher's funded intervention needs. Nothing else is taken from the start scenario,
    so the difference between the two is the strands alone.

    Args:
        choices: The controls.
        folder: The scenarios folder (default :func:`default_folder`).
        starts: The scenarios to start from, if already read (default: read ``folder``).
        controls: The strands' controls (default: :func:`strand_controls` of ``starts``).

    Returns:
        The plan to run.

    Raises:
        DashboardError: Listing every bad control, each with what was expected.
    """
    folder = Path(folder) if folder is not None else default_folder()
    starts = start_scenarios(folder) if starts is None else starts
    controls = strand_controls(starts) if controls is None else list(controls)
    titles = strand_titles(controls)
    problems: list[str] = []
    if choices.start not in starts:
        problems.append(f"Start from: expected one of {', '.join(starts)}, got {choices.start!r}")
    comparator_file = ECONOMY_FILES.get(choices.economy)
    if comparator_file is None:
        problems.append(f"Economy: expected one of {', '.join(ECONOMY_FILES)}, got {choices.economy!r}")
    elif not (folder / comparator_file).is_file():
        problems.append(f"Economy: expected {folder / comparator_file} (its comparator), not found")
    runs = _whole(choices.runs, "Runs", 1, MAX_RUNS, problems)
    seed = _whole(choices.seed, "Seed", 0, None, problems)
    months = _whole(choices.months, "Months", 1, MAX_MONTHS, problems)
    try:
        scale: float | None = float(str(choices.scale).strip())
        if not (math.isfinite(scale) and MIN_SCALE <= scale <= 1):
            raise ValueError
    except ValueError:
        problems.append(
            f"Scale: expected a number from {MIN_SCALE:g} (1,781 people, the fewest that can stand for ten "
            f"boroughs) to 1, got {str(choices.scale)[:30]!r}"
        )
        scale = None
    unknown = set(choices.budgets_m) - set(titles)
    if unknown:
        problems.append(f"Budgets: expected strands among {', '.join(titles)}, got {', '.join(sorted(unknown))}")
    for s, value in choices.budgets_m.items():
        if s in titles and not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= MAX_BUDGET_M):
            problems.append(f"{titles[s]} budget: expected GBP 0 to {MAX_BUDGET_M:g} million a year, got {value!r}")
    if problems:
        raise DashboardError(problems)

    start = starts[choices.start]
    budgets = {**budgets_of(start, list(titles)), **choices.budgets_m}
    start_strands = start.to_dict()["strands"]
    strands = {}
    for s in [*start.strands, *(s for s in titles if s not in start.strands)]:
        if budgets.get(s, 0) > 0:
            spec = dict(start_strands.get(s, {}))
            spec["budget_gbp_per_year"] = round(budgets[s] * 1e6, 2)
            spec.pop("budget_by_financial_year", None)  # the dashboard sets one budget for the whole run
            strands[s] = spec
    needed = [m for c in controls if c.name in strands for m in c.modules]
    try:
        comparator = load_scenario(folder / comparator_file).with_overrides(months=months, scale=scale)
        data: dict[str, Any] = comparator.to_dict()
        data["name"] = SCENARIO_NAME
        data["modules"] = list(dict.fromkeys([*data["modules"], *needed]))
        data["strands"] = strands
        data["description"] = (
            f"From the dashboard, strands as in '{start.name}': "
            + ", ".join(f"{title} GBP {budgets.get(s, 0):g}m a year" for s, title in titles.items())
            + f"; in the {choices.economy} economy ({comparator_file})."
        )
        scenario = Scenario.from_dict(data, path=SCENARIO_NAME)
    except ScenarioError as err:
        raise DashboardError([f"{_label(key, titles)}: {message}" for key, message in err.problems]) from None
    try:
        shown = os.path.relpath(folder)
    except ValueError:  # another drive (Windows)
        shown = str(folder.resolve())
    return Plan(
        comparator,
        scenario,
        runs,
        seed,
        choices.parameter_uncertainty,
        start.name,
        shown if not shown.startswith("..") else str(folder.resolve()),
        comparator_file,
    )


@dataclass
class Outcome:
    """A finished comparison as the page shows it, held in memory.

    Attributes:
        plan: What was run.
        result: What :func:`gmsim.compare` returned.
        plots: PNG images by name (see :data:`gmsim.report.PLOT_CAPTIONS`).
        files: The report's CSVs and ``report.html`` by file name (what "Download results" zips).
    """

    plan: Plan
    result: dict[str, Any]
    plots: dict[str, bytes]
    files: dict[str, bytes]

    def tables(self) -> dict[str, str]:
        """The report's HTML tables: ``headline``, ``boroughs`` and ``strands`` (empty without strands)."""
        from . import report

        impacts, runs = self.result["impacts"], self.plan.runs
        # The page's one column is the user's choices, not the scenario file's name.
        impacts = impacts.replace({"scenario": {self.plan.scenario.name: RESULT_COLUMN}})
        name = [RESULT_COLUMN]
        return {
            "headline": report.headline_table(impacts, name, runs),
            "boroughs": report.borough_table(impacts, name, runs),
            "strands": report.strand_table(impacts, name, runs),
        }

    def results_zip(self) -> bytes:
        """The "Download results" file: the CSVs, ``report.html`` and the scenario YAML, zipped."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in self.files.items():
                z.writestr(name, data)
            z.writestr("dashboard.yaml", self.plan.scenario_yaml())
        return buf.getvalue()


#: One comparison at a time on a server: a second browser tab's run waits for the first (each run
#: already uses every core).
RUN_LOCK = threading.Lock()


def run(
    plan: Plan,
    store: str | Path = Path("results") / "dashboard",
    workers: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Run the comparison a plan describes and draw its report.

    Args:
        plan: From :func:`plan`.
        store: Folder whose ``runs/`` keeps finished runs (the same choices again are read back at once).
        workers: Local worker processes (default: number of cores).
        on_progress: Called with (runs finished, runs in all).

    Returns:
        The outcome: tables, plots and files in memory (nothing is left in temporary folders).

    Raises:
        OSError: If the run store cannot be written.
    """
    from . import comparison, report

    result = comparison.compare(
        [plan.comparator, plan.scenario],
        plan.runs,
        seed=plan.seed,
        parameter_uncertainty=plan.parameter_uncertainty,
        workers=workers,
        out=Path(store),
        on_progress=on_progress,
    )
    notes = {
        "ensemble seed": str(plan.seed),
        "parameter uncertainty": "on" if plan.parameter_uncertainty else "off",
        "scale": repr(plan.scenario.population.scale),
        "strands as in": plan.start,
    }
    with tempfile.TemporaryDirectory(prefix="gmsim-dashboard-") as tmp:
        folder = Path(tmp)
        report.write_compare_report(result, folder, plan.command(), notes)
        plots = {p.stem: p.read_bytes() for p in sorted((folder / "plots").glob("*.png"))}
        files = {p.name: p.read_bytes() for p in [*sorted(folder.glob("*.csv")), folder / "report.html"]}
    return Outcome(plan, result, plots, files)


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    scenarios: str | Path | None = None,
    store: str | Path | None = None,
    open_browser: bool = False,
) -> int:
    """Serve the dashboard until interrupted (Ctrl-C or SIGTERM).

    The Solara server runs in its own process group, so that stopping this command also stops the worker
    processes of a comparison that is still running.

    Args:
        host: Interface to listen on (loopback unless asked otherwise).
        port: TCP port (0 for any free port).
        scenarios: Scenarios folder (default ``scenarios/``).
        store: Folder for finished runs (default ``results/dashboard``).
        open_browser: Open the page in a browser.

    Returns:
        0 after a requested stop, else the server's exit status.
    """
    import subprocess

    env = dict(os.environ)
    env["GMSIM_SCENARIOS"] = str(Path(scenarios or default_folder()).resolve())
    env["GMSIM_DASHBOARD_STORE"] = str(Path(store or Path("results") / "dashboard").resolve())
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # no calls home from a policy team's laptop
    # Solara warns on every page load that a cookie on plain http falls back to SameSite=Lax: expected here.
    env["PYTHONWARNINGS"] = ",".join(
        filter(None, [env.get("PYTHONWARNINGS"), "ignore:Cookies with samesite=none require https"])
    )
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        "gmsim.dashboard_page",
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--open" if open_browser else "--no-open",
        "--no-check-version",
        "--log-level",
        "warning",
    ]
    posix = os.name == "posix"
    server = subprocess.Popen(cmd, env=env, start_new_session=posix)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.send_signal(signal.SIGINT)  # the server shuts down cleanly...
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if posix:  # ...and whatever it started goes with it
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        elif server.poll() is None:
            server.kill()
