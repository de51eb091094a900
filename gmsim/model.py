"""GMModel: Greater Manchester's working-age population month by month.

The model owns the people and employer arrays (through its :class:`~gmsim.population.Population`), the
parameters, the named random streams, the interventions and the results. ``step()`` advances one month
through a fixed sequence of phases (see ``docs/model.md`` section 3):

1. ``demography`` — ageing, exits at 65 and deaths, 16-year-olds entering the freed slots;
2. ``intervene`` — each funded intervention refers, starts and supports people and sets their hazard
   multipliers for this month (before health, so that health effects act in the same month);
3. ``health_and_work`` — health (onset, worsening, recovery), labour moves (in work, at risk, out of
   work, inactive) in this month's labour market (:mod:`gmsim.market`), benefit claims, and employer ties;
4. ``follow_up`` — the interventions count their outcomes (job entries, jobs kept);
5. ``record`` — one tally of the month, the job seekers' search (which sets next month's chances of work),
   the Mesa data collector and the sampled pathways.

Each process is one compiled function of a person over the arrays, drawing from its own named stream,
so a change to one process never shifts another's random numbers. Each phase asks the population whom
to step: everyone, for a run on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np
from tqdm.auto import tqdm

from . import codes, stored_populations
from .agents.employers import Employers, synthesise_employers
from .agents.people import People, synthesise_people
from .agents.views import Employer, PathwayRecorder, Person
from .dynamics.benefits import benefits_step, settle_claims
from .dynamics.demography import Newcomers, demography_step, newcomers
from .dynamics.employers import employer_step
from .dynamics.health import health_step
from .dynamics.labour import labour_step
from .dynamics.month import month_step
from .dynamics.readiness import assign_readiness
from .interventions import HazardMultipliers, Intervention, registered
from .market import LabourMarket
from .parameters import ParameterSet, read_data
from .population import PHASES, Population
from .results import Results
from .scenario import Scenario, load_scenario
from .streams import Streams
from .targets import borough_employment_targets

STOCK_KEYS = (
    "population",
    "in_work",
    "at_risk",
    "out_of_work",
    "out_of_work_health",
    "inactive_other",
    "looking_for_work",
    "inactive_claiming_health",
    "employment_rate",
)


#: Months simulated before month 1, so that month 1 starts from the model's own steady state rather than
#: from the synthesised population. The slowest processes set its length: health-related claims that last
#: years, held in and out of the labour force, and people's fixed dispositions to claim. After 24 months the
#: people in work still rose by about 20,000 over a 120-month run; after 120 months, by about 3,000.
BURN_IN_MONTHS = 120


def working_age_population() -> int:
    """GM's working-age population at scale 1.0 (``data/population.yaml``)."""
    return int(read_data("population.yaml")["working_age_population"]["value"])


def population_size(scale: float) -> int:
    """Number of person slots a run at ``scale`` simulates (at least one)."""
    return max(1, round(working_age_population() * scale))


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
        population: The :class:`~gmsim.population.Population` to step instead of a synthesised one (its
            arrays are used, not copied; shared runs, :mod:`gmsim.shared`, give each run one of their own).
        burn_in: Months lived before month 1 by a synthesised population (:data:`BURN_IN_MONTHS`; 0 starts
            from the synthesised people themselves), with the calibrated parameters and ``parameters``.
        record_transitions: Count each month's moves between labour states by age band, severity, benefit
            and borough (``results.moves``, a run's ``transitions.csv``); shared runs do without.

    Attributes:
        scenario: The scenario, with overrides applied.
        seed: The seed every random stream is derived from.
        params: The :class:`~gmsim.parameters.ParameterSet`.
        parameter_draw: The ``parameters`` it was given (an ensemble's baseline draw), over the scenario's.
        population: Whom each phase steps, and what the interventions read of everyone
            (:class:`~gmsim.population.Population`).
        people: People arrays (:class:`~gmsim.agents.people.People`), the population's.
        employers: Employer arrays (:class:`~gmsim.agents.employers.Employers`), the population's.
        month: Months run so far (0 = the starting population); Mesa's ``steps`` counts the same.
        calendar: The dates of the months (:class:`~gmsim.dates.Calendar`: month 1 is the scenario's
            ``start``).
        burn_in: Months lived before month 1 by its population (for a population it was given, as the
            ``burn_in`` argument says: shared runs' populations have the default).
        market: The labour market: vacancies, the job seekers' search and this month's job-finding
            factors (:class:`~gmsim.market.LabourMarket`), in the scenario's economy.
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

    # Mesa 3.5 gives models a ``scenario`` of its own, and writes ``scenario.model`` when it is set; a
    # GMModel's scenario is a gmsim Scenario (frozen), kept here.
    @property
    def scenario(self) -> Scenario:
        """The scenario, with overrides applied."""
        return self._gmsim_scenario

    @scenario.setter
    def scenario(self, scenario: Any) -> None:
        self._gmsim_scenario = scenario

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
        population: Population | None = None,
        burn_in: int = BURN_IN_MONTHS,
        record_transitions: bool = True,
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
        self.parameter_draw = dict(parameters or {})
        self.params = ParameterSet({**scenario.parameters, **self.parameter_draw}, calibrated=calibrated)
        self.tables = self.params.hazard_tables()
        self.streams = Streams(seed)
        self.scale = float(scenario.population.scale)
        self.months_planned = int(scenario.months)
        self.calendar = scenario.calendar

        n = population_size(self.scale)
        if population is None:
            employers, people = starting_population(n, self.streams, burn_in, parameters, calibrated)
            population = Population(people, employers)
        if population.n != n:
            raise ValueError(f"a given population has {population.n} slots, the scenario needs {n}")
        self.burn_in = int(burn_in)
        self.population = population
        self.people, self.employers = population.people, population.employers
        self.newcomers = _entrant_table()
        # Interventions (Working Well strands and researchers' own modules), in scenario order.
        self.participation = np.zeros(n, dtype=np.uint16)  # bit k: took part in interventions[k]
        self.entries_gained: np.ndarray | None = None  # job entries less the comparator's (gmsim.evaluation)
        self.leavers = np.zeros(0, dtype=np.int64)  # slots whose person left this month (read by interventions)
        self.interventions: list[Intervention] = []
        available = registered()
        for name, spec in scenario.strands.items():
            cls = available[name]
            self.interventions.append(cls(self, spec, len(self.interventions), (intervention_draws or {}).get(name)))
        if len(self.interventions) > 16:
            raise ValueError(f"at most 16 interventions can run in one model, got {len(self.interventions)}")
        claimed = [t for iv in self.interventions for t in iv.claims]
        self.hazard_multipliers = HazardMultipliers(claimed, n)

        economy = scenario.economy.path(
            self.months_planned,
            self.params.value("labour_market.job_loss_elasticity"),
            self.params.value("labour_market.staffing_half_life"),
            self.params.value("labour_market.sector_concentration"),
        )
        self.market = LabourMarket(self.params, economy, self.scale)
        self.month = 0
        self._phase = 0  # the next phase of this month to run (an index into PHASES)
        self.results = Results(self.months_planned, self.scale, moves=record_transitions)
        k = min(int(scenario.population.history_sample), n)
        self.pathways: PathwayRecorder | None = None
        if k > 0:
            slots = self.streams.generator("history").choice(n, size=k, replace=False)
            self.pathways = PathwayRecorder(slots, self.months_planned, [iv.name for iv in self.interventions])
        self.datacollector = mesa.DataCollector(
            model_reporters={key: (lambda m, key=key: m.stocks[key]) for key in STOCK_KEYS}
        )
        population.attach(self)
        self._record_month()

    # ----- the month ---------------------------------------------------------------------------
    def step(self) -> None:
        """Advance one month: demography, the interventions, health and work, follow-up, the month's record.

        The phases are :meth:`demography`, :meth:`intervene`, :meth:`health_and_work`, :meth:`follow_up` and
        :meth:`record`, in that order (``docs/model.md`` section 3). Phases already run this month through
        :meth:`advance` are not run again. With no interventions nothing between the phases reads more than
        one person, so a run's population may step the month a block of people at a time, with the same
        result (:meth:`Population.month_in_blocks <gmsim.population.Population.month_in_blocks>`).
        """
        if self._phase == 0 and not self.interventions and self.population.in_blocks:
            self.month += 1
            self.population.month_in_blocks(self.month)
            self._record_month()
        else:
            self.advance(through="record")

    def advance(self, through: str) -> None:
        """Run this month's phases up to and including ``through``, those not run yet.

        A new month begins with its first phase. Shared runs (:mod:`gmsim.shared`) run some phases of
        several models in turn, then each model's ``step`` completes its month.
        """
        last = PHASES.index(through)
        while self._phase <= last:
            if self._phase == 0:
                self.month += 1
            getattr(self, PHASES[self._phase])()
            self._phase += 1
        if self._phase == len(PHASES):
            self._phase = 0

    def demography(self) -> None:
        """Everyone ages a month; people turning 65 or dying leave, and 16-year-olds take their slots."""
        with self.population.phase("demography") as (people, slots):
            key = self.streams.key("demography")
            demography_step(people, self.tables, self.newcomers, key, self.month, slots, self.people.n)

    def intervene(self) -> None:
        """Each intervention in turn refers, starts and supports people, and sets this month's multipliers.

        Leavers' participation is cleared and last month's multipliers reset to 1 first (docs/model.md 7.4).
        """
        with self.population.phase("intervene"):
            self.leavers = self.population.leavers() if self.interventions else np.zeros(0, dtype=np.int64)
            self.participation[self.leavers] = 0
            self.hazard_multipliers.reset()
            for intervention in self.interventions:
                intervention.step()

    def health_and_work(self) -> None:
        """Health events; labour moves in this month's market; benefit claims; employer ties and job-to-job moves.

        Health comes first, so that a job seeker's search and chance of work reflect this month's health.
        """
        with self.population.phase("health_and_work") as (people, slots):
            t, e, key, month = self.tables, self.employers, self.streams.key, self.month
            health_step(people, e, t, self.hazard_multipliers.for_kernels(slots), key("health"), month, slots)
            people, slots = self.population.after_health(people, slots)
            multipliers = self.hazard_multipliers.for_kernels(slots)
            market = self.market.month(month)
            labour_step(people, e, t, multipliers, key("labour"), month, slots, market)
            benefits_step(people, t, key("benefits"), month, slots)
            job_moves = t.job_to_job_chance(self.market.economy.demand[month])
            hiring = self.market.hiring(month, e)
            employer_step(people, hiring, key("employers"), month, job_moves, slots, rejoin=market.rejoin)

    def follow_up(self) -> None:
        """Each intervention counts the outcomes of this month's moves (job entries, jobs kept)."""
        with self.population.phase("follow_up"):
            for intervention in self.interventions:
                intervention.follow_up()

    def record(self) -> None:
        """Tally the month, then the headline stocks, the sampled pathways and the data collector."""
        with self.population.phase("record"):
            self._record_month()

    def _record_month(self) -> None:
        self.population.count(self.results, self.month)
        self.market.observe(self.population.job_search(), self.month)
        if self.market.by_sector:
            self.market.observe_employed(self.population.employed_by_sector(), self.month)
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
        with progress_bar(n, self.scenario.name, progress) as bar:
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
# workers do; each population kept costs about 40 bytes a person.
_KEPT_POPULATIONS: dict[tuple[int, int], tuple[Employers, People]] = {}
KEEP_POPULATIONS = 0


def starting_population(
    n: int,
    streams: Streams,
    burn_in: int = BURN_IN_MONTHS,
    parameters: dict[str, float] | None = None,
    calibrated: bool = True,
) -> tuple[Employers, People]:
    """The month-0 employers and people for ``n`` slots and the run's streams (a fresh copy each call).

    The people are synthesised from the data (``data/population.yaml``) as of ``burn_in`` months before
    month 1, then live through those months (:func:`burn_in_months`) with the model's parameters (the
    calibrated ones, with ``parameters`` over them; never a scenario's own overrides or interventions, which
    act from month 1), so month 0 is the same in every scenario run with the seed. The result depends only on
    the seed, ``n``, ``burn_in`` and those parameters; with ``KEEP_POPULATIONS`` > 0 the latest populations
    are kept in memory and copied rather than made again, and large ones are kept on disk for other
    processes and later runs (:mod:`gmsim.stored_populations`).
    """
    fixed = tuple(sorted((parameters or {}).items()))
    key = (streams.seed, n, int(burn_in), fixed, bool(calibrated))
    if key not in _KEPT_POPULATIONS:
        stored = stored_populations.path_for(key)
        make = lambda: _made_population(n, streams, burn_in, fixed, calibrated)  # noqa: E731
        if stored is None:
            employers, people = make()
        else:
            (employers, people), _ = stored_populations.kept_or_made(stored, make)
        if KEEP_POPULATIONS <= 0:
            return employers, people
        while len(_KEPT_POPULATIONS) >= KEEP_POPULATIONS:
            del _KEPT_POPULATIONS[next(iter(_KEPT_POPULATIONS))]
        _KEPT_POPULATIONS[key] = (employers, people)
    employers, people = _KEPT_POPULATIONS[key]
    return Employers(*(a.copy() for a in employers)), People(*(a.copy() for a in people))


def _made_population(
    n: int, streams: Streams, burn_in: int, fixed: tuple, calibrated: bool
) -> tuple[Employers, People]:
    """A starting population synthesised and burnt in (see :func:`starting_population`)."""
    targets = borough_employment_targets()
    employers = synthesise_employers(n * float(targets.mean()), streams)
    people = synthesise_people(n, streams, employers, targets)
    tables = ParameterSet(dict(fixed), calibrated=calibrated).hazard_tables()
    if burn_in > 0:
        burn_in_months(people, employers, tables, streams, int(burn_in))
    else:
        settle_claims(people, tables, streams.key("benefits"))
        assign_readiness(people, tables.job_readiness_sd, streams.key("demography"))
    return employers, people


def burn_in_months(people: People, employers: Employers, tables: Any, streams: Streams, months: int) -> None:
    """Live ``months`` months before month 1, in place: demography, health, work, benefits, employer ties.

    The synthesised people become those of month ``-months`` (their ids and claim start months move back
    with them, and who of them claims a health-related benefit is then settled by their ids:
    :func:`~gmsim.dynamics.benefits.settle_claims`), and months ``1 - months`` to 0 run as any month does,
    with no interventions and every hazard multiplier 1. Their random numbers are those of months
    ``1 - months`` to 0 of the run's streams, which no month of the run itself uses; month 0's events are
    the last of them.
    """
    n = people.n
    people.person_id[:] -= np.int64(months) * n
    claimed = people.health_claim_start != codes.NO_CLAIM
    people.health_claim_start[claimed] -= np.int32(months)
    settle_claims(people, tables, streams.key("benefits"))
    assign_readiness(people, tables.job_readiness_sd, streams.key("demography"))
    entrants = _entrant_table()
    for month in range(1 - months, 1):
        month_step(people, employers, tables, entrants, streams, month)  # each process in turn, a block at a time


def _entrant_table() -> Newcomers:
    return newcomers()


def progress_bar(months: int, name: str, progress: bool | None) -> tqdm:
    """A progress bar of ``months`` months of run ``name`` (``progress`` None: only after two seconds)."""
    return tqdm(
        total=months,
        unit="month",
        desc=name,
        delay=2.0 if progress is None else 0.0,
        disable=progress is False,
        leave=False,
    )


def run(scenario: Scenario | str | Path | None = None, *, progress: bool | None = False, **options: Any) -> GMModel:
    """Build a :class:`GMModel` for ``scenario`` (options as for ``GMModel``) and run all its months.

    With strands funded it runs beside its comparator, the scenario with none, so that each strand's
    referral cohorts are evaluated and the job entries it displaces counted: as shared runs
    (:func:`gmsim.evaluation.run_beside_comparator`) where the options allow, else
    :func:`gmsim.evaluation.run_evaluated`. The results are the same either way.
    """
    from .evaluation import run_beside_comparator, run_evaluated

    if scenario is None:
        scenario = Scenario.default()
    elif not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = scenario.with_overrides(scale=options.pop("scale", None), months=options.pop("months", None))
    rng = options.get("rng")
    shared = set(options) <= {"rng", "parameters", "intervention_draws", "record_transitions"}
    if shared and scenario.strands and (rng is None or isinstance(rng, int | np.integer)):
        return run_beside_comparator(
            scenario,
            rng,
            options.get("parameters"),
            options.get("intervention_draws"),
            options.get("record_transitions", True),
            progress,
        )
    model = GMModel(scenario, **options)
    run_evaluated(model, progress=progress)
    return model
