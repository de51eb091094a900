"""The intervention interface, its shared machinery, and the registry of intervention modules.

An intervention (a Working Well strand, or a researcher's own module) says, vectorised over the arrays:

* **eligibility** — who can be referred (:meth:`Intervention.eligible`, a mask over people);
* **referral and take-up** — routes (Jobcentre, GP / fit note, employer, self) each with a monthly
  referral hazard and a take-up share (:meth:`Intervention.route_masks` picks who each route reaches);
* **capacity** — places funded by the annual budget / unit cost, started month by month; the rest wait;
* **support** — how long a participant is supported, and what follows (after-effects, in-work support);
* **effects** — hazard ratios on named transitions while supported, after support, and in work;
* **costs** — the unit cost of each start.

The lifecycle a month (called by ``GMModel.step`` after demography, before health and labour, and after
the labour and employer steps):

``before_labour``
    1. slots whose person left the population (turned 65, died) are cleared;
    2. support ends: supported -> after-effect -> done; in-work support -> done;
    3. the waiting list: people who are no longer eligible, who have waited ``max_wait_months``, or who
       drop out (monthly hazard ``dropout_rate``) leave it (steps 2 and 3 are one pass over the
       participants; eligibility, which reads only the people, is screened before it);
    4. referrals (between ``start_month`` and ``end_month``): an eligible person never referred before
       is referred with probability ``1 - exp(-sum of route hazards)`` and takes it up with the route's
       take-up share; referrals join the waiting list;
    5. starts: this month's funded places (budget / 12 / unit cost, in people, the fraction carried over)
       go to the waiting list in order of priority, then time waited, then slot; spend = starts x unit cost;
    6. effects: every claimed transition's hazard is multiplied by the participant's hazard ratio.

``after_labour``
    7. outcomes: job entries of participants (then in-work support starts), jobs still held 6 and 12
       months after entry, at-risk starters still in work 6 months after starting (kept in work), and
       the referral cohort's outcomes 12, 24 and 36 months after referral.

Each intervention draws from its own named streams (``strand.<name>.*``), so switching one on or off
never changes anybody else's random numbers, and one with no budget changes nothing at all.

An intervention changes people only through the hazard multipliers; it reads the people arrays but never
writes them. Shared runs (:mod:`gmsim.shared`) rely on this, and on :meth:`Intervention.largest_ratios`
bounding the multipliers; a strand that screens person by person (``screens_each_person``) lets them
screen everyone once a month for all their runs.
"""

from __future__ import annotations

import copy
import difflib
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import codes
from ..agents.people import People
from ..dynamics.hazard import Multipliers
from ..parameters import read_data
from . import kernels

if TYPE_CHECKING:
    from ..model import GMModel

# Participation status of a person in one intervention.
NONE, WAITING, SUPPORTED, IN_WORK_SUPPORT, AFTER, DONE = range(6)
STATUS = ("none", "waiting", "supported", "in_work_support", "after", "done")
NEVER = -32768  # month arrays hold this where something has not happened
# Each per-person record's value for a person it has nothing on.
_BLANK = {
    "status": NONE,
    "status_month": NEVER,
    "referred_month": NEVER,
    "started_month": NEVER,
    "job_month": NEVER,
    "flags": 0,
}
_RECORD_TYPES = {
    "status": np.int8,
    "status_month": np.int16,
    "referred_month": np.int16,
    "started_month": np.int16,
    "job_month": np.int16,
    "flags": np.int8,
}

COUNTERS = (
    "eligible",
    "referred",
    "waiting",
    "started",
    "in_support",
    "completed",
    "dropped_out",
    "job_entries",
    "sustained_jobs_6m",
    "sustained_jobs_12m",
    "at_risk_starts",
    "kept_in_work",
    "spend_gbp",
)
STOCK_COUNTERS = ("eligible", "waiting", "in_support")
COHORT_HORIZONS = (12, 24, 36)
COHORT_MEASURES = ("referred", "started_job", "in_work", "sustained_12m")
_JOB_ENTRY = (codes.T["out_of_work_to_in_work"], codes.T["inactive_to_in_work"])

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


class StrandSpec(BaseModel):
    """How a scenario funds and configures one intervention.

    Attributes:
        budget_gbp_per_year: Annual budget (GBP); 0 switches the intervention off.
        unit_cost_gbp: Cost of one start (GBP); default from the intervention's data file.
        start_month: First month of referrals and starts.
        end_month: Last month of referrals and starts (support already begun carries on); default: the end.
        parameters: Overrides of the intervention's parameters by dotted name.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    budget_gbp_per_year: float = Field(
        0.0, ge=0, description="Annual budget in GBP (>= 0).", json_schema_extra={"expected": "a number of GBP >= 0"}
    )
    unit_cost_gbp: float | None = Field(
        None, gt=0, description="Cost of one start in GBP (> 0).", json_schema_extra={"expected": "a number of GBP > 0"}
    )
    start_month: int = Field(
        1, ge=1, le=1200, description="First month funded.", json_schema_extra={"expected": "a month from 1 to 1200"}
    )
    end_month: int | None = Field(
        None, ge=1, le=1200, description="Last month funded.", json_schema_extra={"expected": "a month from 1 to 1200"}
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="Parameter overrides.",
        json_schema_extra={"expected": "a mapping of parameter names to values"},
    )

    @model_validator(mode="after")
    def _start_before_end(self) -> StrandSpec:
        if self.end_month is not None and self.end_month < self.start_month:
            raise ValueError(f"start_month ({self.start_month}) must not be after end_month ({self.end_month})")
        return self


# ----- parameters --------------------------------------------------------------------------------


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted names of every leaf value in a data file (a ``value`` key ends a branch)."""
    out: dict[str, Any] = {}
    if isinstance(node, dict) and "value" in node:
        out[prefix[:-1]] = node["value"]
        return out
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("description", "source", "note", "unit", "range", "distribution", "low", "high"):
                continue
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    out[prefix[:-1]] = node
    return out


def load_strand_data(name: str) -> dict[str, Any]:
    """Parse ``data/interventions/<name>.yaml``."""
    return read_data(f"interventions/{name}.yaml")


def check_value(name: str, default: Any, value: Any) -> str | None:
    """Why ``value`` cannot replace ``default`` for parameter ``name``, or None."""
    if value is None and name == "max_referrals":
        return None  # no cap
    if isinstance(default, bool):
        return None if isinstance(value, bool) else f"expected true or false, got {value!r}"
    if isinstance(default, list):
        if not isinstance(value, list):
            return f"expected a list like {default!r}, got {value!r}"
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        return f"expected a number, got {value!r}"
    leaf = name.split(".")[-1]
    if name.startswith(("effects.", "after_effects.", "in_work_effects.")) and value <= 0:
        return f"expected a hazard ratio > 0, got {value!r}"
    if leaf in ("take_up", "dropout_share") and not 0 <= value <= 1:
        return f"expected a share between 0 and 1, got {value!r}"
    if value < 0:
        return f"expected a value >= 0, got {value!r}"
    if leaf.endswith("months") and float(value) != int(value):
        return f"expected a whole number of months, got {value!r}"
    return None


# ----- hazard multipliers --------------------------------------------------------------------------


class HazardMultipliers:
    """Per-person hazard multipliers for the transitions interventions claim, for the people given one.

    Only claimed transitions get a column (``rows[t]`` is the column of transition ``t``, or -1), and only
    the people given a multiplier this month get a row of ``values`` (float32, all 1 but what was
    multiplied): ``index[slot]`` is the row of a slot's multipliers, or -1 where all are 1. A person's
    multipliers share a cache line, and a run holds one row per participant rather than one per person.
    ``largest`` is the largest multiplier (at least 1), which the kernels' thinning bound allows for.
    Each month the rows given out the month before are released first, so the cost is proportional to
    the number of participants, not the population.

    Args:
        transitions: Names of the claimed transitions.
        n: Number of person slots.
    """

    def __init__(self, transitions: list[str], n: int) -> None:
        names = sorted(set(transitions), key=codes.TRANSITIONS.index)
        self.rows = np.full(len(codes.TRANSITIONS), -1, dtype=np.int64)
        for k, t in enumerate(names):
            self.rows[codes.T[t]] = k
        self.index = np.full(n if names else 0, -1, dtype=np.int32)
        self.values = np.ones((0, len(names)), dtype=np.float32)
        self.used = 0  # rows of ``values`` given out this month
        self._owner = np.zeros(0, dtype=np.int64)  # the slot of each row
        self._column_largest = np.ones(len(names))  # at least every value written in each column this month
        self._touched: list[np.ndarray] = []

    @property
    def largest(self) -> float:
        """At least every multiplier this month, and at least 1."""
        return float(self._column_largest.max()) if len(self._column_largest) else 1.0

    @property
    def touched(self) -> np.ndarray:
        """Whether each slot has a multiplier written this month (a mask over slots)."""
        return self.index >= 0

    def for_kernels(self, slots: np.ndarray | None = None) -> Multipliers:
        """This month's multipliers as the health and labour kernels read them.

        With ``slots``, for arrays holding just the people of those slots (row ``k`` is slot ``slots[k]``).
        """
        index = self.index if slots is None or not len(self.index) else self.index[slots]
        return Multipliers(self.values, self.rows, index, self.largest)

    def dense(self) -> np.ndarray:
        """Every slot's multipliers (slots x claimed transitions, 1 where none was written), for inspection."""
        out = np.ones((len(self.index), self.values.shape[1]), dtype=np.float32)
        out[self._owner[: self.used]] = self.values[: self.used]
        return out

    def reset(self) -> None:
        """Release last month's rows: everyone's multipliers are 1 again."""
        kernels.set_at(self.index, self._owner[: self.used], np.int32(-1))
        self.values[: self.used] = 1.0
        self.used = 0
        self._touched = []
        self._column_largest[:] = 1.0

    def largest_of(self, first: int, end: int) -> float:
        """At least every multiplier of transitions ``first .. end - 1`` this month, and at least 1."""
        cols = self.rows[first:end]
        cols = cols[cols >= 0]
        return float(self._column_largest[cols].max()) if len(cols) else 1.0

    def touched_slots(self) -> np.ndarray:
        """Slots with a multiplier written this month, ascending."""
        if not self._touched:
            return np.zeros(0, dtype=np.int64)
        if all(map(kernels.ascending, self._touched)):
            out = self._touched[0]
            for slots in self._touched[1:]:  # a few lists: merged rather than sorted
                out = kernels.merge(out, slots)
            return out
        return np.sort(self._owner[: self.used])

    def multiply(self, transition: str, slots: np.ndarray, ratio: float | np.ndarray) -> None:
        """Multiply the hazard of ``transition`` for ``slots`` by ``ratio`` (one, or one per slot)."""
        r = self._column(transition)
        slots = self._slots(slots)
        if len(slots):
            ratio = np.asarray(ratio, dtype=np.float32).reshape(-1)
            if len(ratio) != 1 and len(ratio) != len(slots):
                raise ValueError(f"{len(ratio)} ratios for {len(slots)} slots")
            self._make_room(len(slots))
            self.used, top = kernels.multiply_at(self.values, self.index, self._owner, self.used, int(r), slots, ratio)
            self._column_largest[r] = max(self._column_largest[r], top)
            self._mark(slots)

    def multiply_each(self, ratios: dict[str, float], slots: np.ndarray) -> None:
        """Multiply the hazard of each transition in ``ratios`` for ``slots`` by its ratio; ratios of 1 are skipped.

        The same as :meth:`multiply` for each in turn, in one pass over the slots.
        """
        ratios = {t: r for t, r in ratios.items() if r != 1.0}
        slots = self._slots(slots)
        if not ratios or not len(slots):
            return
        cols = np.array([self._column(t) for t in ratios], dtype=np.int64)
        self._make_room(len(slots))
        top = np.ones(len(cols))
        self.used = kernels.multiply_cols(
            self.values,
            self.index,
            self._owner,
            self.used,
            cols,
            slots,
            np.array(list(ratios.values()), dtype=np.float32),
            top,
        )
        self._column_largest[cols] = np.maximum(self._column_largest[cols], top)
        self._mark(slots)

    def _column(self, transition: str) -> int:
        r = int(self.rows[codes.T[transition]])
        if r < 0:
            raise KeyError(f"transition {transition!r} was not claimed by any intervention")
        return r

    @staticmethod
    def _slots(slots: np.ndarray) -> np.ndarray:
        slots = np.asarray(slots)
        return np.flatnonzero(slots) if slots.dtype == bool else np.asarray(slots, dtype=np.int64)

    def _make_room(self, extra: int) -> None:
        """Grow ``values`` so that ``extra`` more rows can be given out."""
        if self.used + extra > len(self.values):
            size = max(self.used + extra, 2 * len(self.values), 1024)
            self.values = np.concatenate(
                [self.values[: self.used], np.ones((size - self.used, self.values.shape[1]), dtype=np.float32)]
            )
            self._owner = np.concatenate([self._owner[: self.used], np.zeros(size - self.used, dtype=np.int64)])

    def _mark(self, slots: np.ndarray) -> None:
        if not any(slots is done for done in self._touched):  # the same list for several transitions
            self._touched.append(slots)


# ----- eligibility and referrals, a month ------------------------------------------------------------


class Screen:
    """Who is eligible this month and who is referred, as an intervention's step 3 and 4 use them.

    Args:
        eligible: Boolean mask over people.
        by_borough: The eligible by borough.
        referred: Slots of the eligible never referred before whom a route refers this month, ascending.
        numbers: Their referral numbers.
        hazards: Their referral hazards.
        exceptions: Slots (ascending) whose eligibility is ``exceptions_eligible``, not ``eligible``'s (a
            population may screen everyone once and give a few people's own eligibility beside it).
        exceptions_eligible: Their eligibility.
    """

    def __init__(
        self,
        eligible: np.ndarray,
        by_borough: np.ndarray,
        referred: np.ndarray | None = None,
        numbers: np.ndarray | None = None,
        hazards: np.ndarray | None = None,
        exceptions: np.ndarray | None = None,
        exceptions_eligible: np.ndarray | None = None,
    ) -> None:
        self.eligible = np.asarray(eligible, dtype=bool)
        self.by_borough = by_borough
        self.referred, self.numbers, self.hazards = referred, numbers, hazards
        self.exceptions = np.zeros(0, dtype=np.int64) if exceptions is None else exceptions
        self.exceptions_eligible = np.zeros(0, dtype=bool) if exceptions_eligible is None else exceptions_eligible

    def eligible_at(self, slots: np.ndarray) -> np.ndarray:
        """Whether the people in ``slots`` are eligible."""
        out = self.eligible[slots]
        if len(self.exceptions):
            at, found = kernels.locate(self.exceptions, slots)
            out[found] = self.exceptions_eligible[at[found]]
        return out


# ----- the interface --------------------------------------------------------------------------------


class Intervention:
    """Base class of an intervention module (see the module docstring for the monthly lifecycle).

    Subclasses set ``name`` (also the name of their data file ``data/interventions/<name>.yaml``) and
    ``claims`` (the transitions whose hazards they may change), and override :meth:`eligible`, and
    where needed :meth:`route_masks`, :meth:`priority` and :meth:`apply_effects`.

    Args:
        model: The model it runs in.
        spec: The scenario's funding and overrides for it.
        index: Its position among the model's interventions (its bit in ``model.participation``).
        draws: Parameter values drawn for this replicate (``{dotted name: value}``), applied after the
            scenario's overrides (used by ensembles for parameter uncertainty).
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    claims: ClassVar[tuple[str, ...]] = ()
    #: True when its budget reaches employers and, through them, their staff (the population then counts
    #: staff by employer for it each month).
    reaches_employers: ClassVar[bool] = False
    #: True when :meth:`eligible` and :meth:`route_masks` read only the people and employers arrays, person by
    #: person, and the parameters: shared runs then screen everyone once a month for all their runs.
    screens_each_person: ClassVar[bool] = False
    #: The per-person records it keeps (docs/model.md); the others are empty arrays.
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
        self.params = self.parameters({**spec.parameters, **(draws or {})})
        p = self.params
        self.unit_cost = float(spec.unit_cost_gbp if spec.unit_cost_gbp is not None else p["unit_cost_gbp"])
        self.start_month = spec.start_month
        self.end_month = spec.end_month if spec.end_month is not None else 10**6
        self.places_per_month = spec.budget_gbp_per_year / 12 / self.unit_cost * model.scale
        self._carry = 0.0
        self._referral_cap = p.get("max_referrals")
        self._referrals_so_far = 0.0

        # The per-person records (``_RECORD_TYPES``; bit 0 of flags: started at risk, bit 1: job held 12 months)
        # are made when first read: one switched off never needs them.
        if not self.switched_off:
            for name in (*_RECORD_TYPES, "_referred_bits"):
                getattr(self, name)
        # Slots of the people taking part (waiting, supported, in after-effects or in in-work support), ascending,
        # and their columns (_columns): status, its month and borough, in the same order. The monthly passes read
        # these in order rather than scattered over everyone's records; status changes go to both (_set).
        self.tracked = np.zeros(0, dtype=np.int64)
        self._columns = (
            self.tracked,
            np.zeros(0, dtype=np.int8),
            np.zeros(0, dtype=np.int16),
            np.zeros(0, dtype=np.int8),
        )
        # The tracked by status, listed with the stocks, while the default before_labour applies effects.
        self._status_lists: dict[int, np.ndarray] | None = None
        # Slots referred, started and entering a job, by month (kept while a follow-up can look back to them).
        self._referred_in: dict[int, np.ndarray] = {}
        self._started_in: dict[int, np.ndarray] = {}
        self._entered_in: dict[int, np.ndarray] = {}
        m = model.months_planned + 1
        self.counts = np.zeros((m, len(COUNTERS), len(codes.BOROUGHS)))
        self.cohort = np.zeros((m, len(COHORT_HORIZONS), len(COHORT_MEASURES)))

    def __getattr__(self, name: str) -> np.ndarray:
        """A per-person record, made blank when first read (``records``; the others are empty arrays).

        Also the bit set of who has a referral month (``_referred_bits``), kept with ``referred_month``.
        """
        if name == "_referred_bits":  # whether each slot has a referral month: a bit set, read where few are looked up
            n = self.model.people.n if "referred_month" in self.records else 0
            self._referred_bits = kernels.bit_set(n)
            return self._referred_bits
        if name not in _RECORD_TYPES:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        n = self.model.people.n if name in self.records else 0
        a = np.full(n, _BLANK[name], dtype=_RECORD_TYPES[name])
        setattr(self, name, a)
        return a

    @property
    def referred_bits(self) -> np.ndarray:
        """Whether each slot has been referred (a bit set of uint64 words; ``kernels.has_bit`` reads it)."""
        return self._referred_bits

    @property
    def switched_off(self) -> bool:
        """Whether it has no budget: then nobody is ever referred, and its monthly steps have nothing to do."""
        return self.spec.budget_gbp_per_year == 0

    # ----- parameters ----------------------------------------------------------------------------
    @classmethod
    def default_parameters(cls) -> dict[str, Any]:
        """Every parameter of this intervention by dotted name, at its value in the data file."""
        return _flatten(load_strand_data(cls.name)["parameters"])

    @classmethod
    def check_parameters(cls, overrides: dict[str, Any]) -> list[tuple[str, str]]:
        """``(name, problem)`` for every override that is unknown or invalid."""
        defaults = cls.default_parameters()
        problems = []
        for k, v in overrides.items():
            if k not in defaults:
                match = difflib.get_close_matches(k, list(defaults), n=1, cutoff=0.6)
                hint = f" (did you mean {match[0]!r}?)" if match else ""
                problems.append((k, f"unknown parameter of {cls.name}{hint}"))
                continue
            why = check_value(k, defaults[k], v)
            if why:
                problems.append((k, why))
        return problems

    @classmethod
    def parameters(cls, overrides: dict[str, Any]) -> dict[str, Any]:
        """Defaults with ``overrides`` applied (raises ValueError on a bad override)."""
        problems = cls.check_parameters(overrides)
        if problems:
            raise ValueError("; ".join(f"{k}: {m}" for k, m in problems))
        out = copy.deepcopy(cls.default_parameters())
        out.update(overrides)
        return out

    @classmethod
    def uncertain_parameters(cls) -> dict[str, dict[str, Any]]:
        """Effect parameters with an uncertainty distribution: ``{name: {value, low, high, distribution}}``.

        Read from the data file; an intervention without one (e.g. defined in a notebook) has none unless
        it overrides this method.
        """
        try:
            raw = load_strand_data(cls.name)["parameters"]
        except FileNotFoundError:
            return {}
        out = {}
        for group in ("effects", "after_effects", "in_work_effects"):
            for t, spec in (raw.get(group) or {}).items():
                if isinstance(spec, dict) and "low" in spec:
                    out[f"{group}.{t}"] = {k: spec[k] for k in ("value", "low", "high", "distribution")}
        return out

    def effect(self, group: str) -> dict[str, float]:
        """``{transition: hazard ratio}`` of one effect group (``effects``, ``after_effects``, ...)."""
        prefix = group + "."
        return {k[len(prefix) :]: float(v) for k, v in self.params.items() if k.startswith(prefix)}

    # ----- what a subclass says ----------------------------------------------------------------------
    def eligible(self, people: People) -> np.ndarray:
        """Who can be referred this month, and may stay on the waiting list: a mask over ``people``'s rows.

        ``people`` holds everyone, or some people only (one row each); read their attributes from it, and
        anything else (employers, parameters) from ``self.model`` and ``self.params``.
        """
        raise NotImplementedError

    def route_masks(self, people: People, eligible: np.ndarray) -> dict[str, np.ndarray]:
        """Per referral route, the ``eligible`` (a mask over ``people``'s rows) it can reach.

        The default, every route reaching everyone eligible, is never called: an intervention that does
        not override this method needs no masks.
        """
        return {route: eligible for route in self.routes()}

    def priority(self, people: People) -> np.ndarray:
        """The start order of the people waiting (one row each of ``people``): lower starts first.

        Default: all equal (then the longest waiting start first).
        """
        return np.zeros(people.n, dtype=np.int64)

    def apply_effects(self, model: GMModel, mult: HazardMultipliers) -> None:
        """Multiply participants' hazards by the intervention's hazard ratios.

        ``effects`` apply while supported, ``after_effects`` after support, ``in_work_effects`` during
        in-work support. The population may leave out participants whose month no multiplier could
        change (:meth:`gmsim.population.Population.could_change`).
        """
        for status, group in ((SUPPORTED, "effects"), (AFTER, "after_effects"), (IN_WORK_SUPPORT, "in_work_effects")):
            slots = self._with_status(status)
            if len(slots):
                slots = model.population.could_change(slots)
            if len(slots) == 0:
                continue
            mult.multiply_each(self.effect(group), slots)

    def largest_ratios(self) -> dict[str, float] | None:
        """The largest hazard ratio (at least 1) this intervention gives each transition, or None if unknown.

        Shared runs (:mod:`gmsim.shared`) bound every multiplier a run can give with these, to know who
        cannot have an event whatever their multipliers. The default reads the effect groups that the
        default :meth:`apply_effects` applies; a subclass that applies other ratios says so by overriding
        this, or gets None (shared runs then list everyone its effects reach).
        """
        if type(self).apply_effects is not Intervention.apply_effects:
            return None
        return self._largest_of(("effects", "after_effects", "in_work_effects"))

    def _largest_of(self, groups: tuple[str, ...]) -> dict[str, float]:
        out: dict[str, float] = {}
        for group in groups:
            for t, ratio in self.effect(group).items():
                out[t] = max(out.get(t, 1.0), ratio)
        return out

    # ----- shared machinery ----------------------------------------------------------------------
    # Everything after referral works on ``self.tracked`` (the slots of the people taking part), so the
    # monthly cost follows the number of participants, not the population; the follow-ups look up the
    # people referred, started or entering a job in the month they look back to.
    def routes(self) -> list[str]:
        """Names of the referral routes in the data file."""
        return sorted({k.split(".")[1] for k in self.params if k.startswith("routes.")})

    def _uniforms(self, what: str, slots: np.ndarray, month: int | None = None) -> np.ndarray:
        """This month's numbers of stream ``strand.<name>.<what>`` for ``slots`` (one per slot, used or not)."""
        m = self.model
        return m.streams.uniforms_at(f"strand.{self.name}.{what}", m.month if month is None else month, slots)

    def _add(self, counter: str, by_borough: np.ndarray) -> None:
        """Add people (or GBP) by borough to this month's ``counter``."""
        self.counts[self.model.month, COUNTERS.index(counter)] += by_borough

    def _count(self, counter: str, slots: np.ndarray, weight: float | np.ndarray = 1.0) -> np.ndarray:
        """Add ``slots`` by borough (times ``weight``: one, or one per slot) to ``counter``; returns what was added."""
        b = self.model.people.borough
        if np.ndim(weight):
            w = np.asarray(weight, dtype=float)
            added = np.bincount(b[slots], weights=w, minlength=len(codes.BOROUGHS))
        else:
            n = kernels.count_by_borough(np.asarray(slots, dtype=np.int64), b, len(codes.BOROUGHS))
            added = n if weight == 1.0 else kernels.repeated_sum(float(weight), n)
        self._add(counter, added)
        return added

    def _with_status(self, status: int) -> np.ndarray:
        if self._status_lists is not None and status in self._status_lists:
            return self._status_lists[status]
        slots = np.arange(len(self.status)) if status in (NONE, DONE) else self.tracked
        return kernels.with_status(slots, self.status, status)

    def _set(self, slots: np.ndarray, status: int) -> None:
        """Give ``slots`` ``status`` from this month (in their records and, if tracked, their columns)."""
        self.status[slots] = status
        self.status_month[slots] = self.model.month
        self._set_columns(slots, status, self.model.month)

    def _set_columns(self, slots: np.ndarray, status: int, month: int) -> None:
        tracked, status_of, since, _ = self._columns
        if len(slots) and len(tracked) and tracked is self.tracked:
            at, found = kernels.locate(tracked, slots)
            at = at[found]
            status_of[at] = status
            since[at] = month

    def _tracked_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The tracked and their columns (made again from the records if ``tracked`` was replaced)."""
        if self._columns[0] is not self.tracked:
            t = self.tracked
            self._columns = (t, self.status[t], self.status_month[t], self.model.people.borough[t])
        return self._columns

    def funded(self, month: int) -> bool:
        """Whether referrals and starts happen in ``month``."""
        return self.start_month <= month <= self.end_month and self.places_per_month > 0

    def _forget_leavers(self, model: GMModel) -> None:
        """Clear the records of people who left the population this month.

        A new person takes a leaver's slot, so the slot's record starts afresh (only the referred have
        one); :func:`~gmsim.interventions.kernels.review_tracked` then stops tracking them.
        """
        left = model.leavers
        if len(left):
            referred = left[kernels.bits_at(self._referred_bits, left)]
            self._clear_records(referred, columns=False)  # the review drops them from the tracked

    def _clear_records(self, slots: np.ndarray, columns: bool = True) -> None:
        """Blank the records this intervention keeps (``records``) of ``slots`` (and their tracked columns)."""
        for name in self.records:
            getattr(self, name)[slots] = _BLANK[name]
        if "referred_month" in self.records:
            kernels.set_bits(self._referred_bits, np.asarray(slots, dtype=np.int64), False)
        if columns and "status" in self.records:
            self._set_columns(slots, NONE, NEVER)

    def _grow(self, month: int) -> None:
        """Make room in the monthly arrays when a model runs past its planned months."""
        for name in ("counts", "cohort", "employer_counts"):
            a = getattr(self, name, None)
            if a is not None and month >= a.shape[0]:
                extra = np.zeros((max(month + 1, 2 * a.shape[0]) - a.shape[0],) + a.shape[1:])
                setattr(self, name, np.concatenate([a, extra]))

    def _route_hazards(self, people: People, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The candidates' referral hazards, as a table and each candidate's row in it.

        A candidate's hazard is the sum of rate x take-up over the routes that reach them, added in the
        order of :meth:`route_masks`. With a yes/no mask for each route it depends only on which routes
        reach them: row ``k`` of the table is then the sum over the routes in bit set ``k``, added in that
        order (a route that does not reach someone adds 0, which changes no sum). Other masks give one row
        per candidate.
        """
        par = self.params
        routes = self.routes()
        if type(self).route_masks is Intervention.route_masks and len(routes) <= 8:  # every route reaches all
            masks = None
            names = routes
        else:
            fresh = np.zeros(people.n, dtype=bool)
            fresh[candidates] = True
            masks = self.route_masks(people, fresh)
            names = list(masks)
        rates = [par[f"routes.{route}.rate"] * par[f"routes.{route}.take_up"] for route in names]
        if masks is not None and (len(names) > 8 or any(np.asarray(m).dtype != bool for m in masks.values())):
            hazard = np.zeros(len(candidates))
            for mask, rate in zip(masks.values(), rates, strict=True):
                hazard += mask[candidates] * rate
            return hazard, np.arange(len(candidates))
        table = np.zeros(1 << len(rates))
        for k in range(len(table)):
            total = 0.0
            for r, rate in enumerate(rates):
                if k >> r & 1:
                    total += rate
            table[k] = total
        if masks is None:
            return table, np.full(len(candidates), len(table) - 1, dtype=np.int64)
        row = np.zeros(len(candidates), dtype=np.int64)
        for r, mask in enumerate(masks.values()):
            row |= mask[candidates].astype(np.int64) << r
        return table, row

    def before_labour(self, model: GMModel, mult: HazardMultipliers) -> None:
        """Steps 1-6 of the monthly lifecycle (see the module docstring)."""
        month, par = model.month, self.params
        self._grow(month)
        if self.switched_off:
            return
        self._forget_leavers(model)
        funded = self.funded(month)
        # Eligibility is screened first: it reads only the people, and the waiting list's review needs it.
        screen = model.population.screen(self, funded) if funded or len(self.tracked) else None
        completed, dropped_out = (np.zeros(len(codes.BOROUGHS), dtype=np.int64) for _ in range(2))
        stocks = np.zeros((len(STATUS), len(codes.BOROUGHS)), dtype=np.int64)
        # (Without a screen nobody is tracked, so the review reads no eligibility.)
        eligible = Screen(np.zeros(0, dtype=bool), np.zeros_like(completed)) if screen is None else screen
        # Support ends and the waiting list is reviewed (the done are no longer scanned each month). In-work
        # support starts after the labour step of the job-entry month: it acts from the next month.
        columns = kernels.review_tracked(
            *self._tracked_columns(),
            self.status,
            self.status_month,
            model.leavers,
            month,
            float(par["support_months"]),
            float(par["after_months"]),
            float(par["in_work_support_months"] + 1),
            float(par["max_wait_months"]),
            1 - np.exp(-par["dropout_rate"]),
            model.streams.key(f"strand.{self.name}.dropout"),
            eligible.eligible,
            eligible.exceptions,
            eligible.exceptions_eligible,
            NONE,
            WAITING,
            SUPPORTED,
            AFTER,
            IN_WORK_SUPPORT,
            DONE,
            completed,
            dropped_out,
            stocks,
        )
        self._columns, (waiting, supported, after, in_work), was_waiting = columns[:4], columns[4:8], columns[8]
        self.tracked = tracked = self._columns[0]
        waited_since = self._columns[2][waiting]
        waiting, supported, after, in_work = tracked[waiting], tracked[supported], tracked[after], tracked[in_work]
        self._add("completed", completed)
        self._add("dropped_out", dropped_out)
        if funded:
            supported = self._refer_and_start(model, screen, waiting, waited_since, stocks, supported)
        self._add_stocks(stocks, screen.by_borough if funded or was_waiting else None)
        self._status_lists = {SUPPORTED: supported, AFTER: after, IN_WORK_SUPPORT: in_work}
        self.apply_effects(model, mult)
        self._status_lists = None

    def _refer_and_start(
        self,
        model: GMModel,
        screen: Screen,
        waiting: np.ndarray,
        waited_since: np.ndarray,
        stocks: np.ndarray,
        supported: np.ndarray,
    ) -> np.ndarray:
        """Steps 4 and 5: this month's referrals join the waiting list, and places go to it in order.

        ``waiting`` are the slots on the waiting list, ascending, and ``waited_since`` the month each joined it
        (their referral month). ``stocks`` (status, borough) is kept up to date; returns the supported, with
        this month's starts.
        """
        month, p = model.month, model.people
        referred = screen.referred
        if self._referral_cap is not None:
            room = max(0, int(round(self._referral_cap * model.scale - self._referrals_so_far)))
            if len(referred) > room:
                rank = np.argsort(screen.numbers / np.maximum(screen.hazards, 1e-12))
                referred = np.sort(referred[rank[:room]])
        self._referrals_so_far += len(referred)
        self.referred_month[referred] = month
        kernels.set_bits(self._referred_bits, referred, True)
        self.status[referred] = WAITING  # not tracked yet: their columns are added below
        self.status_month[referred] = month
        stocks[WAITING] += self._count("referred", referred)
        self._columns = kernels.insert_tracked(*self._columns, referred, WAITING, month, p.borough[referred])
        self.tracked = self._columns[0]
        self._referred_in[month] = referred

        self._carry += self.places_per_month
        places = int(self._carry)
        self._carry -= places
        waiting = np.concatenate([waiting, referred])
        if places and len(waiting):
            since = np.concatenate([waited_since, np.full(len(referred), month, dtype=waited_since.dtype)])
            order = np.lexsort((waiting, since, self.priority(p.take(waiting))))
            start = np.sort(waiting[order[:places]])
            self._set(start, SUPPORTED)
            self.started_month[start] = month
            self._started_in[month] = start
            at_risk = p.state[start] == codes.AT_RISK
            self.flags[start[at_risk]] |= 1
            started = self._count("started", start)
            stocks[WAITING] -= started
            stocks[SUPPORTED] += started
            self._count("at_risk_starts", start[at_risk])
            self._count("spend_gbp", start, self.unit_cost)
            model.participation[start] |= np.uint16(1 << self.index)
            supported = kernels.merge(supported, start)
        return supported

    def screen_of(self, people: People, funded: bool) -> Screen:
        """The screen of everyone in ``people`` (every slot): who is eligible and, if ``funded``, who is referred.

        Gives this month's eligibility, the eligible by borough, and the referrals drawn.
        """
        eligible = self.eligible(people)
        by_borough = np.zeros(len(codes.BOROUGHS), dtype=np.int64)
        candidates = kernels.candidates(eligible, self.referred_month, NEVER, people.borough, by_borough)
        return Screen(eligible, by_borough, *(self.draw_referrals(people, candidates) if funded else ()))

    def draw_referrals(
        self,
        people: People,
        candidates: np.ndarray,
        slots: np.ndarray | None = None,
        month: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which candidates are referred this month: their slots, referral numbers and referral hazards.

        Args:
            people: Everyone, or some people only (one row each).
            candidates: Rows of ``people`` not yet referred and eligible, ascending.
            slots: Their slots, if the rows are not slots (their referral numbers are their slots').
            month: The month whose referral numbers are drawn (default: the model's).
        """
        slots = candidates if slots is None else slots
        table, row = self._route_hazards(people, candidates)
        u = self._uniforms("referral", slots, month)
        hit = u < (-np.expm1(-table))[row]
        return slots[hit], u[hit], table[row[hit]]

    def _add_stocks(self, stocks: np.ndarray, eligible_by_borough: np.ndarray | None) -> None:
        """Add this month's stocks: the eligible (if screened), the waiting and the in support (``stocks``)."""
        if eligible_by_borough is not None:
            self._add("eligible", eligible_by_borough)
        self._add("waiting", stocks[WAITING])
        self._add("in_support", stocks[SUPPORTED] + stocks[IN_WORK_SUPPORT])

    def after_labour(self, model: GMModel) -> None:
        """Step 7: outcomes of this month's labour moves."""
        if self.switched_off:
            return
        p, month = model.people, model.month
        none = np.zeros(0, dtype=np.int64)
        counts = np.zeros((4, len(codes.BOROUGHS)), dtype=np.int64)
        cohort = np.zeros((len(COHORT_HORIZONS), len(COHORT_MEASURES)), dtype=np.int64)
        referred = [self._referred_in.get(month - h, none) for h in COHORT_HORIZONS]
        bounds = np.cumsum([0] + [len(r) for r in referred])
        entries = kernels.outcomes(
            *self._tracked_columns(),
            self._entered_in.get(month - 6, none),
            self._entered_in.get(month - 12, none),
            self._started_in.get(month - 6, none),
            np.concatenate(referred),
            bounds,
            self.status,
            self.status_month,
            p.state,
            p.labour_event,
            self.job_month,
            self.flags,
            self.started_month,
            self.referred_month,
            p.borough,
            month,
            codes.AT_RISK,
            _JOB_ENTRY[0],
            _JOB_ENTRY[1],
            SUPPORTED,
            AFTER,
            IN_WORK_SUPPORT if self.params["in_work_support_months"] > 0 else -1,
            NEVER,
            np.array(COHORT_HORIZONS, dtype=np.int64),
            counts,
            cohort,
        )
        for k, counter in enumerate(("job_entries", "sustained_jobs_6m", "sustained_jobs_12m", "kept_in_work")):
            self._add(counter, counts[k])
        self.cohort[month] += cohort
        self._entered_in[month] = entries
        for index, keep in ((self._referred_in, max(COHORT_HORIZONS)), (self._started_in, 6), (self._entered_in, 12)):
            for m in [m for m in index if m <= month - keep]:
                del index[m]

    # ----- results -------------------------------------------------------------------------------
    def totals(self, first: int = 1, last: int | None = None) -> dict[str, float]:
        """Counters over months ``first..last`` in people (stocks as monthly means), GM."""
        last = self.model.month if last is None else last
        c = self.counts[first : last + 1].sum(axis=2) / self.model.scale
        out = {}
        for k, name in enumerate(COUNTERS):
            col = c[:, k]
            out[name] = float(col.mean() if name in STOCK_COUNTERS else col.sum())
        out["cost_per_job_entry"] = out["spend_gbp"] / out["job_entries"] if out["job_entries"] else None
        return out

    def cohort_outcomes(self) -> dict[str, dict[str, float | None]]:
        """Referral cohort outcomes, pooled over referral months.

        At 12, 24 and 36 months after referral: the share who had started a job, the share in work, and
        the share whose job had been held 12 months.
        """
        out = {}
        tot = self.cohort.sum(axis=0)
        for h, horizon in enumerate(COHORT_HORIZONS):
            n = tot[h, 0]
            out[f"{horizon}m"] = {
                "referred_observed": float(n / self.model.scale),
                **{f"share_{m}": (float(tot[h, k] / n) if n else None) for k, m in enumerate(COHORT_MEASURES) if k},
            }
        return out


def effect_summary(cls: type[Intervention]) -> list[dict[str, Any]]:
    """One row per effect parameter: name, value, range, distribution, source (for notes and docs)."""
    try:
        raw = load_strand_data(cls.name)["parameters"]
    except FileNotFoundError:  # an intervention defined outside gmsim: its parameters as the class gives them
        return [
            {
                "strand": cls.name,
                "parameter": k,
                "value": v,
                "low": None,
                "high": None,
                "distribution": None,
                "source": "defined in code",
                "note": "",
            }
            for k, v in cls.default_parameters().items()
            if k.startswith(("effects.", "after_effects.", "in_work_effects."))
        ]
    rows = []
    for group in ("effects", "after_effects", "in_work_effects"):
        for t, spec in (raw.get(group) or {}).items():
            rows.append(
                {
                    "strand": cls.name,
                    "parameter": f"{group}.{t}",
                    **{k: spec.get(k) for k in ("value", "low", "high", "distribution", "source", "note")},
                }
            )
    return rows
