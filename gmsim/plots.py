"""A run's plots: what they show (:class:`PlotData`), how they are drawn (:func:`draw`), and where (:class:`Drawer`).

A run folder's ``plots/`` holds PNG figures: the stocks by labour state, the employment rate by borough,
claimants of a health-related benefit by time since their claim began, in a run with interventions the
strands' caseloads and outcomes, and in an economy whose shock falls on sectors unevenly each sector's
people with an employer and furloughed. :func:`plot_data` takes what they show from a run
(plain arrays, so a process that has not run the model can draw them) and :func:`draw` draws them.

They are drawn in a process of their own while the run's tables are written (:class:`Drawer`). The command
line forks it before the run, so that importing matplotlib overlaps with starting the run rather than
following it; it then waits for the plots' data. Where a process cannot be forked (no ``fork``, or other
threads running: a server or a notebook's kernel), or the drawer fails, the plots are drawn in the
writing process itself.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import codes
from .dates import Calendar, date_axis

if TYPE_CHECKING:
    from .model import GMModel

#: Where a plot's panels sit, as fractions of the figure: room for the labels of the widest axes (thousands
#: of people at full scale), set once rather than measured for each figure (``tight_layout`` lays out every
#: label twice).
ONE_PANEL = {"left": 0.085, "right": 0.98, "bottom": 0.12, "top": 0.92}
TWO_PANELS = {"left": 0.06, "right": 0.985, "bottom": 0.13, "top": 0.85, "wspace": 0.14}

#: The stocks of the right-hand panel of ``stocks.png``, with their labels.
OUT_OF_WORK_STOCKS = (
    ("out_of_work", "out of work"),
    ("out_of_work_health", "out of work: health"),
    ("inactive_other", "inactive (other)"),
    ("at_risk", "at risk (off sick / struggling)"),
)


class StrandCurves(NamedTuple):
    """One strand's curves in ``strands.png``, in people a month."""

    title: str
    supported: np.ndarray
    outcome: str
    outcomes: np.ndarray


class PlotData(NamedTuple):
    """What a run's plots show, month by month from month 0 (people, or per cent for rates)."""

    title: str
    calendar: Calendar
    stocks: dict[str, np.ndarray]
    employment_rate: np.ndarray
    borough_rates: np.ndarray
    spell_bands: list[str]
    claimants_by_band: np.ndarray
    strands: list[StrandCurves]
    sectors_employed: np.ndarray | None = None  # (month, sector), where counted by sector
    sectors_furloughed: np.ndarray | None = None


def plot_data(model: GMModel) -> PlotData:
    """What the plots of a run that has been stepped show."""
    from .interventions import COUNTERS

    r = model.results
    monthly = r.monthly()
    rates = [[r.stocks(m, b)["employment_rate"] for b in range(len(codes.BOROUGHS))] for m in range(r.recorded)]
    strands = []
    for iv in model.interventions:
        c = iv.counts[: r.recorded].sum(axis=2) / model.scale
        outcome = "kept_in_work" if iv.name in ("in_work", "early_help") else "job_entries"
        strands.append(
            StrandCurves(
                iv.title, c[:, COUNTERS.index("in_support")], outcome, np.cumsum(c[:, COUNTERS.index(outcome)])
            )
        )
    bands = r.spell_bands()
    employed = furloughed = None
    if model.market.by_sector:
        employed = model.market.employed[: r.recorded] / model.scale
        furloughed = model.market.economy.furloughed_by_sector[: r.recorded] * employed
    return PlotData(
        title=f"{model.scenario.name} (seed {model.seed}, scale {model.scale:g})",
        calendar=model.calendar,
        stocks={key: monthly[key].to_numpy() for key in ("in_work", *(k for k, _ in OUT_OF_WORK_STOCKS))},
        employment_rate=100 * monthly["employment_rate"].to_numpy(),
        borough_rates=100 * np.array(rates),
        spell_bands=list(bands.columns),
        claimants_by_band=bands.to_numpy(),
        strands=strands,
        sectors_employed=employed,
        sectors_furloughed=furloughed,
    )


def draw(data: PlotData, folder: Path) -> None:
    """Draw the PNG plots of ``data`` into ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    when = data.calendar.months_as_dates(np.arange(len(data.employment_rate)))
    title = data.title

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    in_work = data.stocks["in_work"] / 1e3
    axes[0].plot(when, in_work, label="in work")
    axes[0].set_ylabel("thousands of people")
    axes[0].set_ylim(0, in_work.max() * 1.08)
    axes[0].set_title("In work")
    for key, label in OUT_OF_WORK_STOCKS:
        axes[1].plot(when, data.stocks[key] / 1e3, label=label)
    axes[1].set_title("Out of work, inactive and at risk")
    axes[1].legend(fontsize=8)
    for ax in axes:
        date_axis(ax, data.calendar)
        ax.grid(alpha=0.3)
    fig.suptitle(f"Working-age population by labour state — {title}")
    _save(plt, fig, folder / "stocks.png", TWO_PANELS)

    fig, ax = plt.subplots(figsize=(9, 5))
    for b, name in enumerate(codes.BOROUGHS):
        ax.plot(when, data.borough_rates[:, b], label=name)
    ax.plot(when, data.employment_rate, color="black", lw=2.5, label="Greater Manchester")
    _label(ax, "employment rate, % of 16-64", f"Employment rate by borough — {title}", data.calendar, ncol=2)
    _save(plt, fig, folder / "employment_by_borough.png", ONE_PANEL)

    if data.strands:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        for strand in data.strands:
            axes[0].plot(when, strand.supported / 1e3, label=strand.title)
            axes[1].plot(when, strand.outcomes / 1e3, label=f"{strand.title}: {strand.outcome.replace('_', ' ')}")
        _label(axes[0], "thousands of people", "People supported (in-work strand: employees covered)", data.calendar)
        _label(axes[1], "thousands of people", "Outcomes, cumulative", data.calendar)
        fig.suptitle(f"Working Well strands — {title}")
        _save(plt, fig, folder / "strands.png", TWO_PANELS)

    if data.sectors_employed is not None:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        start = np.where(data.sectors_employed[0] > 0, data.sectors_employed[0], 1.0)
        for k, sector in enumerate(codes.SECTORS):
            label = sector.replace("_", " ")
            axes[0].plot(when, 100 * (data.sectors_employed[:, k] / start[k] - 1), label=label)
            axes[1].plot(when, data.sectors_furloughed[:, k] / 1e3, label=label)
        _label(axes[0], "% change since month 0", "People with an employer, by sector", data.calendar, ncol=2)
        _label(axes[1], "thousands of people", "Furloughed, by sector", data.calendar)
        fig.suptitle(f"Sectors in the shock — {title}")
        _save(plt, fig, folder / "sectors.png", TWO_PANELS)

    fig, ax = plt.subplots(figsize=(9, 5))
    ax.stackplot(when, (data.claimants_by_band / 1e3).T, labels=data.spell_bands)
    title = f"Out of work because of health, by time out of work — {title}"
    _label(ax, "thousands of people", title, data.calendar, loc="lower left")
    _save(plt, fig, folder / "out_of_work_by_duration.png", ONE_PANEL)


def _label(ax: Any, ylabel: str, title: str, calendar: Calendar, **legend: Any) -> None:
    date_axis(ax, calendar)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, **legend)
    ax.grid(alpha=0.3)


def _save(plt: Any, fig: Any, path: Path, margins: dict[str, float]) -> None:
    fig.subplots_adjust(**margins)
    fig.savefig(path, dpi=110)
    plt.close(fig)


class Drawer:
    """A forked process that draws one run's plots when it is given their data (:meth:`draw`).

    On its own it imports matplotlib and waits; given :class:`PlotData` and a folder it draws them there,
    says whether it managed, and ends. Told nothing (:meth:`close`, or the writing process gone), it ends.
    """

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self._connection, theirs = context.Pipe()
        args = (theirs, self._connection)
        self._process = context.Process(target=_drawer, args=args, name="gmsim-plots", daemon=True)
        self._process.start()
        theirs.close()
        self._asked = False

    @classmethod
    def start(cls) -> Drawer | None:
        """A new drawer, or None where this process should not fork (no ``fork``, or other threads running).

        A progress bar's monitor thread does not count: it holds no lock the drawer needs.
        """
        others = [t for t in threading.enumerate() if t is not threading.current_thread() and t.name != "tqdm_monitor"]
        if "fork" not in multiprocessing.get_all_start_methods() or others:
            return None
        return cls()

    def draw(self, data: PlotData, folder: Path) -> None:
        """Have the plots of ``data`` drawn into ``folder`` (this returns at once; :meth:`finished` waits)."""
        try:
            self._connection.send((data, folder))
            self._asked = True
        except OSError:  # the drawer has gone: finished() says so
            pass

    def finished(self) -> bool:
        """Wait for the drawer; whether it drew the plots it was given."""
        done = False
        if self._asked:
            try:
                done = bool(self._connection.recv())
            except (EOFError, OSError):
                done = False
        self.close()
        return done

    def close(self) -> None:
        """End the drawer (without drawing, if it was given nothing)."""
        self._connection.close()
        self._process.join()


def _drawer(connection: Any, writers_end: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the writing process's to handle: it hangs up
    writers_end.close()  # so that the writing process's hanging up ends the wait
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401 - imported while the run starts, used when the data come

        asked = connection.recv()
    except EOFError:
        return
    data, folder = asked
    try:
        draw(data, folder)
    except Exception:  # noqa: BLE001 - the writing process draws them again and reports what fails
        connection.send(False)
        return
    connection.send(True)
