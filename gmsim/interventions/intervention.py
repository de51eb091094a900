"""The intervention interface: what a Working Well strand, or a researcher's own module, says.

An intervention says, over the people arrays:

* **who is eligible** (:meth:`Intervention.eligible`, a mask over the people it is given);
* **how people come**: referral routes (Jobcentre, GP / fit note, employer, self), each with a monthly
  referral hazard and a take-up share (its parameters' ``routes``), the people each route reaches
  (:meth:`Intervention.route_masks`) and who starts first (:meth:`Intervention.priority`);
* **what changes for them**: hazard ratios on the transitions it ``claims``, while supported, after
  support and in in-work support (its parameters' ``effects``, :meth:`Intervention.apply_effects`);
* **what it costs**: a unit cost a start, and places funded by the scenario's budget.

Its parameters are a pydantic model (:mod:`.parameters`), their values in its data file. Its
:class:`~gmsim.interventions.caseload.Caseload` does the bookkeeping. A month, the model calls
:meth:`Intervention.step` after demography (steps 1-6) and :meth:`Intervention.follow_up` after health and
work (step 7), as docs/model.md section 7.4 describes them. An intervention changes people only through
the hazard multipliers: it reads the people arrays but never writes them.

Each intervention draws from its own named streams (``strand.<name>.*``), so switching one on or off never
changes anybody else's random numbers, and one with no budget changes nothing at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..agents.people import People, Rows
from ..codes import AFTER, IN_WORK_SUPPORT, SUPPORTED
from .caseload import Caseload
from .funding import StrandSpec
from .kernels import Timing
from .multipliers import HazardMultipliers
from .parameters import EFFECT_GROUPS, Effect, InterventionParameters, check_overrides, data_file, defaults_from

if TYPE_CHECKING:
    from ..evaluation import CohortImpact
    from ..model import GMModel

REGISTRY: dict[str, type[Intervention]] = {}


def register(cls: type[Intervention]) -> type[Intervention]:
    """Class decorator: make an intervention available to scenarios under ``cls.name``."""
    if not getattr(cls, "name", None):
        raise ValueError(f"{cls.__name__} needs a class attribute 'name'")
    REGISTRY[cls.name] = cls
    return cls


def registered() -> dict[str, type[Intervention]]:
    """Every registered intervention (the four Working Well strands are always there)."""
    from . import care_and_support, early_help, in_work, work_and_health  # noqa: F401  (registration)

    return dict(REGISTRY)


class Intervention:
    """Base class of an intervention module (docs/model.md section 7.4).

    A subclass sets ``name`` (used in scenarios, and the name of its data file and its random streams),
    ``title`` and ``claims`` (the transitions whose hazards it may change), says who is eligible
    (:meth:`eligible`), and where needed overrides :meth:`route_masks`, :meth:`priority` and
    :meth:`apply_effects`. Its parameters are :attr:`Parameters`, with values from
    ``data/interventions/<name>.yaml`` or, for a module of one's own, :attr:`defaults`.

    Args:
        model: The model it runs in.
        spec: The scenario's funding and overrides for it.
        index: Its position among the model's interventions (its bit in ``model.participation``).
        draws: Parameter values drawn for this replicate (``{dotted name: value}``), applied after the
            scenario's overrides (ensembles' parameter uncertainty).

    Attributes:
        params: Its parameters (:attr:`Parameters`), read by attribute.
        caseload: Its participants, their records and its monthly counts (:class:`Caseload`).
        impact: Its referral cohorts followed beside a comparator run
            (:class:`~gmsim.evaluation.CohortImpact`), or None where it runs without one.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    claims: ClassVar[tuple[str, ...]] = ()
    #: The model of its parameters (a subclass of :class:`InterventionParameters` to add parameters).
    Parameters: ClassVar[type[InterventionParameters]] = InterventionParameters
    #: Default parameter values in code, laid out as a data file's ``parameters:`` (None: read the data file).
    defaults: ClassVar[Mapping[str, Any] | None] = None
    #: True when its budget reaches employers and, through them, their staff (the population then counts
    #: staff by employer for it each month).
    reaches_employers: ClassVar[bool] = False
    #: True when :meth:`eligible` and :meth:`route_masks` read only the people they are given (and the
    #: employers and the parameters), person by person: a population may then screen everyone once for
    #: several runs of the same intervention.
    screens_each_person: ClassVar[bool] = False
    #: The per-person records its caseload keeps (docs/model.md); the others are empty arrays.
    records: ClassVar[tuple[str, ...]] = (
        "status",
        "status_month",
        "referred_month",
        "started_month",
        "job_month",
        "flags",
    )

    def __init__(self, model: GMModel, spec: StrandSpec, index: int, draws: dict[str, float] | None = None):
        self.model = model
        self.spec = spec
        self.index = index
        self.params = self.parameters(spec.parameters)
        if draws:
            self.params = self.params.with_values(draws)
        self.unit_cost = float(spec.unit_cost_gbp if spec.unit_cost_gbp is not None else self.params.unit_cost_gbp)
        self.start_month = spec.start_month
        self.end_month = spec.end_month if spec.end_month is not None else 10**6
        self._carry = 0.0  # places not yet whole, carried to the next month
        self._carry_budget: float | None = None  # the annual budget the carry was saved from
        cap = self.params.max_referrals
        self.referral_cap = None if cap is None else cap * model.scale  # in slots
        p = self.params
        self.timing = Timing(
            float(p.support_months),
            float(p.after_months),
            float(p.in_work_support_months + 1),
            float(p.max_wait_months),
            1 - np.exp(-p.dropout_rate),
        )
        self.caseload = Caseload(self, self.records)
        self.impact: CohortImpact | None = None
        if not self.switched_off:
            self.caseload.records  # noqa: B018 - made now, not in the first month's step
            self.caseload.referred_bits  # noqa: B018

    @property
    def switched_off(self) -> bool:
        """Whether it has no budget: then nobody is ever referred, and its monthly steps have nothing to do."""
        return self.spec.unfunded

    def annual_budget(self, month: int) -> float:
        """The budget (GBP a year) in force in ``month``: that of the month's financial year."""
        return self.spec.annual_budget(self.model.calendar.date(month).financial_year)

    def places_per_month(self, month: int) -> float:
        """Places the budget buys in ``month`` (simulated people: scaled with the population)."""
        return self.annual_budget(month) / 12 / self.unit_cost * self.model.scale

    def funded(self, month: int) -> bool:
        """Whether referrals and starts happen in ``month``."""
        return self.start_month <= month <= self.end_month and self.annual_budget(month) > 0

    # ----- what a subclass says -------------------------------------------------------------------------------
    def eligible(self, people: People) -> np.ndarray:
        """Who can be referred this month, and may stay on the waiting list: a mask over ``people``'s rows.

        ``people`` holds everyone, or some people only (one row each); read their attributes from it, and
        anything else (employers, parameters) from ``self.model`` and ``self.params``.
        """
        raise NotImplementedError

    def route_masks(self, people: People, eligible: np.ndarray) -> dict[str, np.ndarray]:
        """Per referral route, the ``eligible`` (a mask over ``people``'s rows) it can reach.

        By default every route reaches everyone eligible, and an intervention that does not override this
        method needs no masks: it is not called. ``people`` holds everyone, or some people only (one row
        each): where the intervention ``screens_each_person`` and the masks are yes/no masks, it is asked
        only about the candidates who could be referred this month.
        """
        return {route: eligible for route in self.routes()}

    def priority(self, people: Rows) -> np.ndarray:
        """The start order of the people waiting (``people``, one row each): lower starts first.

        Default: all equal (then the longest waiting start first).
        """
        return np.zeros(people.n, dtype=np.int64)

    def apply_effects(self, multipliers: HazardMultipliers) -> None:
        """Multiply this month's participants' hazards by the intervention's hazard ratios.

        ``effects`` apply while supported, ``after_effects`` after support, ``in_work_effects`` during
        in-work support. The population may leave out participants whose month no multiplier could
        change (:meth:`gmsim.population.Population.could_change`).
        """
        for status, group in ((SUPPORTED, "effects"), (AFTER, "after_effects"), (IN_WORK_SUPPORT, "in_work_effects")):
            slots = self.caseload.participants(status)
            if len(slots):
                slots = self.model.population.could_change(slots)
            if len(slots):
                multipliers.multiply_each(self.params.ratios(group), slots)

    def largest_ratios(self) -> dict[str, float] | None:
        """The largest hazard ratio (at least 1) this intervention gives each transition, or None if unknown.

        A population that steps only the people who could have an event bounds every multiplier with these.
        The default reads the effect groups the default :meth:`apply_effects` applies; a subclass that
        applies other ratios says so by overriding this, or gets None (then everyone its effects reach is
        stepped).
        """
        if type(self).apply_effects is not Intervention.apply_effects:
            return None
        return self._largest_of(EFFECT_GROUPS)

    def _largest_of(self, groups: tuple[str, ...]) -> dict[str, float]:
        out: dict[str, float] = {}
        for group in groups:
            for t, ratio in self.params.ratios(group).items():
                out[t] = max(out.get(t, 1.0), ratio)
        return out

    # ----- the month ------------------------------------------------------------------------------------------
    def step(self) -> None:
        """Steps 1-6 of the month (docs/model.md section 7.4), after demography and before health and work.

        1. the records of people who left the population are cleared;
        2-3. support ends, and the waiting list is reviewed: people no longer eligible, waiting too long or
             dropping out leave it;
        4. in funded months, eligible people never referred are referred by its routes and join the list;
        5. this month's places go to the waiting list, in order of priority;
        6. its participants' hazards are multiplied by its hazard ratios.
        """
        caseload, month = self.caseload, self.model.month
        caseload.grow(month)
        if self.switched_off:
            return
        caseload.forget(self.model.leavers)
        funded = self.funded(month)
        # Eligibility is screened first: it reads only the people, and the waiting list's review needs it.
        screen = self.model.population.screen(self, funded) if funded or len(caseload.tracked) else None
        caseload.review(screen, self.timing)
        if funded:
            caseload.refer(screen, self.referral_cap)
            caseload.start(self.places(), self.unit_cost)
        caseload.count_stocks(screen.by_borough if funded or caseload.screened_waiting else None)
        self.apply_effects(self.model.hazard_multipliers)

    def lapse_on_budget_change(self, carry: float, month: int) -> float:
        """``carry`` (what is left of earlier months' budget), or 0 if ``month``'s annual budget is new.

        When a strand's annual budget changes (a schedule's new financial year), what was left of the old
        budget lapses, so that no year spends more than its own budget.
        """
        budget = self.annual_budget(month)
        if budget != self._carry_budget:
            self._carry_budget = budget
            return 0.0
        return carry

    def places(self) -> int:
        """This month's places: the budget's places a month, with the fraction carried over from the last."""
        month = self.model.month
        self._carry = self.lapse_on_budget_change(self._carry, month) + self.places_per_month(month)
        places = int(self._carry)
        self._carry -= places
        return places

    def follow_up(self) -> None:
        """Step 7, after health and work: this month's outcomes of its participants.

        Job entries (then in-work support), jobs held 6 and 12 months on, at-risk starters kept in work.
        (The referral cohorts are followed by :mod:`gmsim.evaluation`, beside a comparator run.)
        """
        if not self.switched_off:
            self.caseload.follow_up(self.params.in_work_support_months > 0)

    # ----- helpers a subclass may use -------------------------------------------------------------------------
    def routes(self) -> list[str]:
        """Names of the referral routes, in order."""
        return sorted(self.params.routes)

    def has_route_masks(self) -> bool:
        """Whether it says which people each route reaches (overrides :meth:`route_masks`)."""
        return type(self).route_masks is not Intervention.route_masks

    def uniforms(self, what: str, slots: np.ndarray, month: int | None = None) -> np.ndarray:
        """This month's numbers of stream ``strand.<name>.<what>`` for ``slots`` (one per slot, used or not)."""
        m = self.model
        return m.streams.uniforms_at(f"strand.{self.name}.{what}", m.month if month is None else month, slots)

    def screen_of(self, people: People, funded: bool) -> Any:
        """Everyone's screen this month (``people`` holds every slot); see :meth:`Caseload.screen`."""
        return self.caseload.screen(people, funded)

    def draw_referrals(
        self, people: People, candidates: np.ndarray, slots: np.ndarray | None = None, month: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which candidates are referred this month (:meth:`Caseload.draw_referrals`)."""
        return self.caseload.draw_referrals(people, candidates, slots, month)

    @property
    def referred_bits(self) -> np.ndarray:
        """Whether each slot has been referred (a bit set of uint64 words)."""
        return self.caseload.referred_bits

    # ----- results --------------------------------------------------------------------------------------------
    @property
    def counts(self) -> np.ndarray:
        """Counters by month, counter and borough (:data:`~gmsim.interventions.caseload.COUNTERS`)."""
        return self.caseload.counts

    def totals(self, first: int = 1, last: int | None = None) -> dict[str, Any]:
        """Counters over months ``first..last`` in people (stocks as monthly means), GM."""
        return self.caseload.totals(first, last)

    # ----- parameters -----------------------------------------------------------------------------------------
    @classmethod
    def default_params(cls) -> InterventionParameters:
        """Its parameters at their default values (read once from the data file, or from :attr:`defaults`)."""
        cached = cls.__dict__.get("_default_params")
        if cached is None or cached[0] is not cls.defaults:
            node = cls.defaults if cls.defaults is not None else data_file(cls.name)["parameters"]
            try:
                params, provenance = defaults_from(cls.Parameters, node)
            except ValueError as exc:
                raise ValueError(f"the default parameters of {cls.name}: {exc}") from None
            cached = (cls.defaults, params, provenance)
            cls._default_params = cached
        return cached[1]

    @classmethod
    def provenance(cls) -> dict[str, dict[str, Any]]:
        """Each default figure's unit, source, note and range, by dotted name (effects carry their own)."""
        cls.default_params()
        return cls._default_params[2]

    @classmethod
    def default_parameters(cls) -> dict[str, Any]:
        """Every parameter by dotted name, at its default value."""
        return cls.default_params().names()

    @classmethod
    def check_parameters(cls, overrides: Mapping[str, Any]) -> list[tuple[str, str]]:
        """``(dotted name, problem)`` for every override that is unknown or invalid."""
        return check_overrides(cls.Parameters, cls.default_params(), overrides, cls.name)[1]

    @classmethod
    def parameters(cls, overrides: Mapping[str, Any]) -> InterventionParameters:
        """Its defaults with ``overrides`` (by dotted name) applied; raises ValueError on a bad override.

        Validated once for each set of overrides: scenarios compared over many replicates build the same
        parameters many times.
        """
        key = repr(sorted(overrides.items()))
        cache = cls.__dict__.get("_parameters_cache")
        if cache is None or cache[0] is not cls.default_params():
            cache = (cls.default_params(), {})
            cls._parameters_cache = cache
        if key not in cache[1]:
            params, problems = check_overrides(cls.Parameters, cls.default_params(), overrides, cls.name)
            if problems:
                raise ValueError("; ".join(f"{k}: {m}" for k, m in problems))
            cache[1][key] = params
        return cache[1][key]

    @classmethod
    def uncertain_parameters(cls) -> dict[str, dict[str, Any]]:
        """Effects with an uncertainty distribution: ``{dotted name: {value, low, high, distribution}}``."""
        params = cls.default_params()
        out = {}
        for group in EFFECT_GROUPS:
            for t, e in getattr(params, group).items():
                if e.low is not None and e.high is not None:
                    out[f"{group}.{t}"] = {
                        "value": e.value,
                        "low": e.low,
                        "high": e.high,
                        "distribution": e.distribution,
                    }
        return out


def effect_summary(cls: type[Intervention]) -> list[dict[str, Any]]:
    """One row per effect parameter: name, value, 95% interval, distribution, source and note."""
    params = cls.default_params()
    return [
        {
            "strand": cls.name,
            "parameter": f"{group}.{t}",
            "value": e.value,
            "low": e.low,
            "high": e.high,
            "distribution": e.distribution,
            "source": e.source,
            "note": e.note,
        }
        for group in EFFECT_GROUPS
        for t, e in getattr(params, group).items()
    ]


def help_probability(effect: Effect, transition: str) -> float | None:
    """The prior probability that a ratio helps: above 1 for a move help should make likelier, else below."""
    if effect.low is None or effect.high is None or effect.low == effect.high:
        return None
    from ..codes import IMPROVING

    below = effect.below(1.0)
    return 1 - below if transition in IMPROVING else below


def effect_prior_table() -> list[str]:
    """The rows of docs/model.md section 8.4: every shipped strand's effect priors, from the data files.

    One row per hazard ratio: its median and 95% interval, the prior probability that it helps, the
    strand's correlation, the source (evidence id), the transferability judgement and the translation.
    """
    from . import registered

    rows = [
        "| strand | ratio | median | 95% interval | P(helps) | source | transferability | translation |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in ("care_and_support", "work_and_health", "early_help", "in_work"):
        params = registered()[name].default_params()
        for group in EFFECT_GROUPS:
            for transition, e in getattr(params, group).items():
                p = help_probability(e, transition)
                rows.append(
                    f"| `{name}` (r = {params.effect_correlation:g}) | `{group}.{transition}` | {e.value:g} | "
                    f"{e.low:g}–{e.high:g} | {'' if p is None else f'{100 * p:.0f}%'} | `{e.source}` | "
                    f"{e.transferability} | {' '.join(e.translation.split())} |"
                )
    return rows
