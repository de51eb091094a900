"""GMModel: Greater Manchester's working-age population month by month.

The model owns the people and employer arrays, the parameters, the named random streams and the
results. ``step()`` advances one month through a fixed lifecycle (see ``docs/model.md``):

1. demography — ageing, exits at 65 and deaths, 16-year-olds entering the freed slots;
2. interventions — each funded strand refers, starts and supports people and sets their hazard
   multipliers for this month (before health, so that health effects act in the same month);
3. health — onset, worsening and recovery of long-term conditions;
4. labour — moves between in work, at risk, out of work and inactive;
5. benefits — claims start, follow health at reassessment, and end;
6. employers — ties form on job entry and break on leaving work;
7. results — interventions count their outcomes (job entries, jobs kept), then one tally of the month.

Each process is one compiled function over the arrays, drawing from its own named stream, so a change
to one process never shifts another's random numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from tqdm.auto import tqdm

from . import codes
from .agents.employers import Employers, synthesise_employers
from .agents.people import People, entrant_distributions, synthesise_people
from .agents.views import Employer, PathwayRecorder, Person
from .dynamics.benefits import benefits_step
from .dynamics.demography import demography_step
from .dynamics.employers import employer_step
from .dynamics.health import health_step
from .dynamics.labour import labour_step
from .interventions.base import HazardMultipliers, Intervention, registered
from .interventions.kernels import nonzero
from .parameters import ParameterSet, read_data
from .results import Results
from .scenario import Scenario, load_scenario
from .streams import Streams
from .targets import borough_employment_targets

if TYPE_CHECKING:
    from .shared import TrunkView

STOCK_KEYS = (
    "population",
    "in_work",
    "at_risk",
    "out_of_work",
    "out_of_work_health",
    "inactive_other",
    "employment_rate",
)


def working_age_population() -> int:
    """GM's working-age population at scale 1.0 (``data/population.yaml``)."""
    return int(read_data("population.yaml")["working_age_population"]["value"])


class GMModel(mesa.Model):
    """Agent-based model of GM's working-age residents, their health and their work.

    Args:
        scenario: A :class:`~gmsim.scenario.Scenario`, a path to a scenario YAML file, or None for the
            default baseline (full scale, 120 months).
        rng: Seed (int) or numpy Generator; overrides the scenario's seed. Passed to ``mesa.Model``.
        scale: Overrides the scenario's population scale (1.0 = all 1,781,000 people).
        months: Overrides the scenario's number of months.
        parameters: Extra parameter overrides ``{dotted name: value}`` on top of the scenario's.
        calibrated: Use the fitted values from ``data/calibrated.yaml`` (default) or the raw starting
            values (used by the calibration itself).
        intervention_draws: ``{intervention: {parameter: value}}`` replacing intervention parameters (used
            by ensembles to draw effect sizes from their uncertainty distributions).
        population: ``(employers, people)`` to use as the starting population instead of synthesising it;
            the arrays are used, not copied (shared runs, :mod:`gmsim.shared`, give every run the same ones).
        start_counts: Results whose month 0 holds the counts of ``population`` (shared runs: the trunk's),
            taken rather than counted again.

    Attributes:
        scenario: The scenario, with overrides applied.
        seed: The seed every random stream is derived from.
        params: The :class:`~gmsim.parameters.ParameterSet`.
        people: People arrays (:class:`~gmsim.agents.people.People`).
        employers: Employer arrays (:class:`~gmsim.agents.employers.Employers`).
        month: Months run so far (0 = the starting population).
        results: Monthly counts (:class:`~gmsim.results.Results`).
        stocks: Headline stocks at the end of the latest month (people).
        pathways: Recorder of sampled people's pathways, or None.
        datacollector: Mesa DataCollector with the headline stocks each month.

    Example:
        >>> m = GMModel(scale=0.001, months=3)
        >>> m.run(progress=False)
        >>> round(m.stocks["population"], -3)
        1781000.0
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        *,
        rng: int | np.random.Generator | None = None,
        scale: float | None = None,
        months: int | None = None,
        parameters: dict[str, float] | None = None,
        calibrated: bool = True,
        intervention_draws: dict[str, dict[str, float]] | None = None,
        population: tuple[Employers, People] | None = None,
        start_counts: Results | None = None,
    ) -> None:
        if scenario is None:
            scenario = Scenario.default()
        elif not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        scenario = scenario.with_overrides(scale=scale, months=months)
        if rng is None:
            seed = scenario.seed
        elif isinstance(rng, (int, np.integer)):
            seed = int(rng)
        else:
            seed = int(np.random.default_rng(rng).integers(2**62))
        super().__init__(rng=seed)
        self.scenario = scenario
        self.seed = seed
        self.params = ParameterSet({**scenario.parameters, **(parameters or {})}, calibrated=calibrated)
        self.tables = self.params.hazard_tables()
        self.streams = Streams(seed)
        self.scale = float(scenario.population.scale)
        self.months_planned = int(scenario.months)

        n = max(1, round(working_age_population() * self.scale))
        self.employers, self.people = population if population is not None else starting_population(n, self.streams)
        if self.people.n != n:
            raise ValueError(f"a shared population has {self.people.n} slots, the scenario needs {n}")
        self._entrants = _entrant_table()
        # Interventions (Working Well strands and researchers' own modules), in scenario order.
        self.participation = np.zeros(n, dtype=np.uint16)  # bit k: took part in interventions[k]
        self.shared: TrunkView | None = None  # set by shared runs while the interventions take steps 1-6
        self.interventions: list[Intervention] = []
        available = registered()
        for name, spec in scenario.strands.items():
            cls = available[name]
            self.interventions.append(cls(self, spec, len(self.interventions), (intervention_draws or {}).get(name)))
        if len(self.interventions) > 16:
            raise ValueError(f"at most 16 interventions can run in one model, got {len(self.interventions)}")
        claimed = [t for iv in self.interventions for t in iv.claims]
        self.hazard_multipliers = HazardMultipliers(claimed, n)

        self.month = 0
        self.results = Results(self.months_planned, self.scale)
        k = min(int(scenario.population.history_sample), n)
        self.pathways: PathwayRecorder | None = None
        if k > 0:
            slots = self.streams.generator("history").choice(n, size=k, replace=False)
            self.pathways = PathwayRecorder(slots, self.months_planned, [iv.name for iv in self.interventions])
        self.datacollector = mesa.DataCollector(
            model_reporters={key: (lambda m, key=key: m.stocks[key]) for key in STOCK_KEYS}
        )
        if start_counts is not None:
            if population is None:
                raise ValueError("start_counts are the counts of a given population")
            self.results.record_shared(start_counts, 0, ())
        self._record(counted=start_counts is not None)

    # ----- the monthly lifecycle ---------------------------------------------------------------
    def step(self) -> None:
        """Advance one month (docs/model.md, section 3)."""
        self.month += 1
        self._demography()
        self._interventions_before_labour()
        self._health_and_work()
        for intervention in self.interventions:
            intervention.after_labour(self)
        self._record()

    def _demography(self, slots: np.ndarray | None = None, people: People | None = None) -> None:
        """Everyone (or ``slots``) ages a month; leavers are replaced by entrants.

        ``people`` may hold just the people of ``slots``, in that order, to be run instead (shared runs).
        """
        t = self.tables
        demography_step(
            self.people if people is None else people,
            t.monthly_mortality,
            t.mortality_complex_ratio,
            self._entrants,
            self.streams.key("demography"),
            self.month,
            slots,
            people is not None,
            self.people.n,
        )

    def _interventions_before_labour(self, leavers: np.ndarray | None = None) -> None:
        """Leavers' records cleared, last month's multipliers reset, then each intervention's steps 1-6.

        ``leavers`` (ascending) may be given when already known (shared runs); by default they are found.
        """
        if not self.interventions:
            self.leavers = np.zeros(0, np.int64)
        else:
            self.leavers = nonzero(self.people.exit_event) if leavers is None else leavers
        self.participation[self.leavers] = 0
        self.hazard_multipliers.reset()
        for intervention in self.interventions:
            intervention.before_labour(self, self.hazard_multipliers)

    def _health_and_work(self, slots: np.ndarray | None = None, people: People | None = None) -> None:
        """Health, labour, benefits and employer ties for everyone (or ``slots``), with this month's multipliers.

        ``people`` may hold just the people of ``slots``, in that order, to be run instead (shared runs).
        """
        t, e, key, month = self.tables, self.employers, self.streams.key, self.month
        p, compact = (self.people, False) if people is None else (people, True)
        mult = self.hazard_multipliers
        kernel_mult = mult.kernel_args()
        if compact and len(mult.index):  # compact arrays: each row's multipliers found through its own index
            kernel_mult = (kernel_mult[0], kernel_mult[1], mult.index[slots], kernel_mult[3])
        health_step(p, t.kernel, kernel_mult, e.size_band, e.occupational_health, key("health"), month, slots, compact)
        labour_step(p, t.kernel, kernel_mult, e.size_band, e.occupational_health, key("labour"), month, slots, compact)
        benefits_step(p, t.reassessment_rate, key("benefits"), month, slots, compact)
        employer_step(p, e.cumulative, key("employers"), month, slots, compact)

    def _record(self, counted: bool = False) -> None:
        """Tally the month (unless shared runs have counted it), then stocks, pathways and the data collector."""
        if not counted:
            self.results.record(self.people, self.month)
        self.stocks = self.results.stocks(self.month)
        if self.pathways is not None:
            self.pathways.record(self)
        self.datacollector.collect(self)

    def run(self, months: int | None = None, progress: bool | None = None) -> None:
        """Run ``months`` months (default: the scenario's months less those already run).

        Args:
            months: Number of months to run.
            progress: Show a progress bar (None: only if the run takes longer than two seconds).
        """
        n = self.months_planned - self.month if months is None else int(months)
        bar = tqdm(
            total=n,
            unit="month",
            desc=self.scenario.name,
            delay=2.0 if progress is None else 0.0,
            disable=progress is False,
            leave=False,
        )
        with bar:
            for _ in range(n):
                self.step()
                bar.update(1)

    # ----- agent views -------------------------------------------------------------------------
    def person(self, slot: int) -> Person:
        """A view of the person in ``slot`` (with their pathway if the slot is sampled)."""
        return Person(self, slot)

    def employer(self, row: int) -> Employer:
        """A view of employer ``row``."""
        return Employer(self, row)

    @property
    def sampled_slots(self) -> np.ndarray:
        """Slots whose pathways are recorded."""
        return np.array([], dtype=np.int64) if self.pathways is None else self.pathways.slots


# Synthesised month-0 populations kept for reuse, by (seed, slots): the same seed gives the same population,
# and scenarios compared at one replicate share their seed. Off (0) unless a process asks for it, as ensemble
# workers do; each population kept costs about 34 bytes a person.
_KEPT_POPULATIONS: dict[tuple[int, int], tuple[Employers, People]] = {}
KEEP_POPULATIONS = 0


def starting_population(n: int, streams: Streams) -> tuple[Employers, People]:
    """The month-0 employers and people for ``n`` slots and the run's streams (a fresh copy each call).

    Synthesis depends only on the seed and ``n``; with ``KEEP_POPULATIONS`` > 0 the latest populations are
    kept and copied rather than synthesised again.
    """
    key = (streams.seed, n)
    if key not in _KEPT_POPULATIONS:
        targets = borough_employment_targets()
        employers = synthesise_employers(n * float(targets.mean()), streams)
        people = synthesise_people(n, streams, employers, targets)
        if KEEP_POPULATIONS <= 0:
            return employers, people
        while len(_KEPT_POPULATIONS) >= KEEP_POPULATIONS:
            del _KEPT_POPULATIONS[next(iter(_KEPT_POPULATIONS))]
        _KEPT_POPULATIONS[key] = (employers, people)
    employers, people = _KEPT_POPULATIONS[key]
    return Employers(*(a.copy() for a in employers)), People(*(a.copy() for a in people))


def _entrant_table() -> np.ndarray:
    d = entrant_distributions()
    rows = [d["borough"], np.array([d["female"], 1 - d["female"]]), d["skills"], d["severity"], d["condition"]]
    table = np.ones((len(rows), codes.MAX_LEVELS))
    for r, probs in enumerate(rows):
        c = np.cumsum(probs / np.sum(probs))
        c[-1] = 1.0
        table[r, : len(c)] = c
    return table


def run(scenario: Scenario | str | Path | None = None, *, progress: bool | None = False, **options: Any) -> GMModel:
    """Build a :class:`GMModel` for ``scenario`` (options as for ``GMModel``) and run all its months."""
    model = GMModel(scenario, **options)
    model.run(progress=progress)
    return model
