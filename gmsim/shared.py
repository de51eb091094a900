"""Shared runs: runs of one replicate that differ only in their interventions, advanced together.

Scenarios compared in one replicate share their seed, so each person meets the same random numbers in
every one of them (common random numbers), and a person's month depends only on their own arrays, their
random numbers and their intervention multipliers (docs/model.md, section 7). A person whom no
intervention has reached therefore lives exactly the same months in a funded scenario as in the same
scenario unfunded, and over ten years that is nearly everyone: 0.4% to 2.7% of people ever differ in the
shipped scenarios and funding mixes (``benchmarks/divergence.py``).

Shared runs use that. One *trunk* run without interventions simulates everybody. Each *branch* (a
scenario with interventions) keeps the values of the people it has diverged for, those whose arrays differ
from the trunk's, with which of their fields differ, and each month simulates only them and the people its
interventions could change this month; everyone else's month is the trunk's. The branches use the trunk's
arrays, with their diverged people's differing values swapped in while it is their turn and swapped out
after. A month (the phases of ``GMModel.step``):

1. the trunk: demography for everyone; then, once for all the branches, what their interventions would
   otherwise work out from everyone (:class:`TrunkView`): the screens of strands that screen person by
   person (eligibility, the eligible by borough, referral draws; :class:`TrunkScreen`), and the staff
   table and the employees who could have an event, for the in-work strand; with many branches
   (:data:`MOVABLE_FROM`), everyone who could have an event, so that the strands give multipliers only to
   those of their participants (:meth:`TrunkView.could_move`);
2. each branch: demography for its diverged people on their own values (compact arrays), those values
   swapped in, then its interventions' steps 1-6 on the population so formed, correcting the trunk's
   screens and tables for its diverged people. The diverged and the people with a multiplier whose
   numbers could give them a health or labour event this month (below the thinning bound times the
   run's largest multiplier of the process's transitions, docs/model.md section 7.1: of health's, and of
   the moves out of their labour state; the others have none, multiplier or not) are its *own*
   people this month: their values are copied out into compact arrays, and the trunk's swapped back;
3. the trunk: health, labour, benefits and employer ties for everyone, and its tally;
4. each branch: health, labour, benefits and employer ties for its own people, on their compact arrays
   (a person's row there, their slot's random numbers and multipliers); its tally is the trunk's with
   its own people's counts replaced by theirs. Their values that differ from the trunk's are written in
   for its interventions' step 7 and its records, and the trunk's written back. Own people whose values
   now all equal the trunk's rejoin it.

With many branches (:data:`RECORDS_FROM`) the branches hold the people as records, a person's values side
by side (an array of structures; their people arrays are views of the records' fields): a branch then
exchanges, copies out and compares whole records, and need not keep which of its diverged people's values
differ. The trunk keeps its arrays, faster for its passes over everyone, and its values are copied into
the records after its demography and after its health and work (a pass over everyone each).

Every branch's results are bit-identical to running its scenario alone (``tests/test_shared.py``):
the same kernels run for the same people with the same numbers, and nobody else can differ. This relies on
interventions changing people only through hazard multipliers, as the intervention interface says, and on
the bound on those multipliers that the interventions give (:meth:`Intervention.largest_ratios`). One
thing is kept less fully than alone: the in-work strand marks the participation of the staff whose month
its effects could change and of the sampled pathways, not of every employee of its employers.
"""

from __future__ import annotations

import json

import numpy as np
from numba import njit

from . import codes
from .agents.people import People
from .dynamics.hazard import level_a, thinning_limit
from .dynamics.health import HEALTH_END, HEALTH_FIRST, health_bounds
from .dynamics.labour import LABOUR_FIRST, labour_bounds
from .interventions.base import Intervention, Screen
from .interventions.kernels import (
    bit_set,
    bits_at,
    by_employer,
    count_by_borough,
    has_bit,
    merge,
    nonzero,
    set_bit,
    staff_table,
    within,
)
from .model import GMModel
from .results import tally_at
from .scenario import Scenario
from .streams import counter_start, draw


def trunk_key(scenario: Scenario) -> str:
    """What runs must have in common to share a trunk: everything but name, description and interventions."""
    d = scenario.to_dict()
    return json.dumps({k: d[k] for k in ("months", "population", "parameters")}, sort_keys=True)


@njit(cache=True)
def _could_move(
    i,
    state,
    severity,
    condition,
    age_months,
    health_bound,
    labour_bound,
    health_largest,
    labour_largest,
    health_start,
    labour_start,
):
    """Whether person ``i`` could have a health or labour event this month with multipliers up to those given.

    True where their health or labour number is below the thinning bound of their level (docs/model.md,
    section 7.1) times the largest multiplier of that process's transitions; anyone else has no event
    either way. (A health event in either run makes them move; without one their level, and so their
    labour bound, is the same in both.)
    """
    a = level_a(i, state, severity, condition, age_months)
    return draw(health_start, i) < thinning_limit(health_bound[a], health_largest, True) or draw(
        labour_start, i
    ) < thinning_limit(labour_bound[a], labour_largest, True)


@njit(cache=True)
def _may_move(
    slots,
    state,
    severity,
    condition,
    age_months,
    health_bound,
    labour_bound,
    health_largest,
    labour_largest,
    health_key,
    labour_key,
    month,
):
    """Those of ``slots`` who :func:`_could_move`, in their order.

    ``health_largest`` bounds every multiplier of a health transition, ``labour_largest[s]`` those of the
    moves out of labour state ``s``.
    """
    out = np.empty(slots.shape[0], dtype=np.int64)
    health_start = counter_start(health_key, month, 0)
    labour_start = counter_start(labour_key, month, 0)
    n = 0
    for k in range(slots.shape[0]):
        i = slots[k]
        if _could_move(
            i,
            state,
            severity,
            condition,
            age_months,
            health_bound,
            labour_bound,
            health_largest,
            labour_largest[state[i]],
            health_start,
            labour_start,
        ):
            out[n] = i
            n += 1
    return out[:n].copy()


@njit(cache=True)
def _movable(
    employer,
    state,
    severity,
    condition,
    age_months,
    health_bound,
    labour_bound,
    largest,
    health_key,
    labour_key,
    month,
    movable,
):
    """Who :func:`_could_move` with multipliers up to ``largest``; returns those employed, ascending.

    ``movable`` is a zeroed bit set (uint64 words) to fill for everyone, or an empty array to look at the
    employed only.
    """
    health_start = counter_start(health_key, month, 0)
    labour_start = counter_start(labour_key, month, 0)
    everyone = movable.shape[0] > 0
    out = np.empty(employer.shape[0], dtype=np.int64)
    k = 0
    for i in range(employer.shape[0]):
        if not everyone and employer[i] < 0:
            continue
        could = _could_move(
            i,
            state,
            severity,
            condition,
            age_months,
            health_bound,
            labour_bound,
            largest,
            largest,
            health_start,
            labour_start,
        )
        if everyone and could:
            set_bit(movable, i, True)
        if could and employer[i] >= 0:
            out[k] = i
            k += 1
    return out[:k].copy()


@njit(cache=True)
def _movable_among(slots, movable, diverged):
    """Those of ``slots`` (ascending) in the bit set ``movable`` or in ``diverged`` (ascending), in order."""
    out = np.empty(slots.shape[0], dtype=np.int64)
    n = d = 0
    for k in range(slots.shape[0]):
        i = slots[k]
        while d < diverged.shape[0] and diverged[d] < i:
            d += 1
        if has_bit(movable, i) or (d < diverged.shape[0] and diverged[d] == i):
            out[n] = i
            n += 1
    return out[:n].copy()


#: Shared runs with at least this many funded runs find, once a month, everyone in the trunk who could have
#: an event with the runs' largest multipliers (:attr:`TrunkView.movable`; a pass over everyone, about 15 ms at
#: full scale, 5 ms more than the employed alone that the in-work strand needs), so that the strands give
#: multipliers only to participants who could use them. Measured at full scale, 56 funded runs, 60 months, side
#: by side on one core each: 44.6 s with it against 50.0 s without; a run saves about 1.3 ms a month.
MOVABLE_FROM = 12


def largest_multiplier(models: list[GMModel]) -> float | None:
    """A bound on every hazard multiplier the models' interventions can give (None if one has no bound).

    A person's multiplier for a transition is the product of the ratios their interventions give it, so
    it is at most the product of each intervention's largest ratio (:meth:`Intervention.largest_ratios`).
    The float32 products are allowed a little rounding.
    """
    out = 1.0
    for m in models:
        largest = [iv.largest_ratios() for iv in m.interventions]
        if any(r is None for r in largest):
            return None
        for t in {t for r in largest for t in r}:
            product = 1.0
            for r in largest:
                product *= max(1.0, r.get(t, 1.0))
            out = max(out, product)
    return out * (1 + 1e-5)


class _Standin:
    """A model whose people arrays are ``people`` (some people's values only); all else is ``model``'s."""

    def __init__(self, model: GMModel, people: People) -> None:
        self._model = model
        self.people = people

    def __getattr__(self, name: str):
        return getattr(self._model, name)


class TrunkScreen:
    """An intervention's screen of everyone with the trunk's values, this month: who is eligible, who referred.

    Made once a month for all the branches whose intervention has the same kind and parameters
    (``screens_each_person``); each branch corrects it for its diverged people (:meth:`for_branch`).
    """

    def __init__(self, intervention: Intervention, people: People) -> None:
        model = _Standin(intervention.model, people)  # a branch, with the trunk's people arrays
        self.eligible = np.asarray(intervention.eligible(model), dtype=bool)
        listed = nonzero(self.eligible)
        self.by_borough = count_by_borough(listed, model.people.borough, len(codes.BOROUGHS))
        self.hits, self.numbers, self.hazards = intervention.draw_referrals(model, listed)

    def for_branch(self, intervention: Intervention, view: TrunkView, funded: bool) -> Screen:
        """The branch's screen: this one with its diverged people's eligibility and referrals from their values.

        The others' values are the trunk's, so their eligibility and referral numbers are too; of the
        trunk's referrals, those the branch has referred before are not referred again.
        """
        d, own = view.diverged, view.own
        standin = _Standin(intervention.model, own)
        own_eligible = np.asarray(intervention.eligible(standin), dtype=bool)
        by_borough = self.by_borough.copy()
        referred = intervention._referred_bits
        fresh = _correct_screen(d, self.eligible, view.trunk.borough, own_eligible, own.borough, referred, by_borough)
        if not funded:
            return Screen(self.eligible, by_borough, diverged=d, diverged_eligible=own_eligible)
        mine = intervention.draw_referrals(standin, fresh, d[fresh])
        keep = ~bits_at(referred, self.hits) & ~within(self.hits, d)
        slots = np.concatenate([self.hits[keep], mine[0]])
        order = np.argsort(slots, kind="stable")
        return Screen(
            self.eligible,
            by_borough,
            slots[order],
            np.concatenate([self.numbers[keep], mine[1]])[order],
            np.concatenate([self.hazards[keep], mine[2]])[order],
            d,
            own_eligible,
        )


class TrunkView:
    """What a branch's interventions can read from the trunk while they take steps 1-6 (``model.shared``).

    The people arrays then hold the branch's values: the trunk's, with its diverged people's swapped in.
    The trunk computes some things once a month for every branch; an intervention corrects them for the
    diverged people, from their values and the trunk's, rather than passing over everyone itself.

    Attributes:
        diverged: The branch's diverged people's slots, ascending.
        own: The branch's values of those people (a copy, in the order of ``diverged``).
        trunk: The trunk's values of those people (``People`` of arrays in the order of ``diverged``).
        screens: The trunk's screens of everyone (:class:`TrunkScreen`) by ``id`` of the branch's intervention.
        staff_table: The trunk's staff by employer and borough (int32), or None if no branch reads it.
        staff_total: Its sum over employers (the trunk's employed by borough, int64).
        movable: Whether each of the trunk's people could have a health or labour event this month with
            multipliers up to :func:`largest_multiplier` (a bit set of uint64 words, small enough to stay
            in cache while every branch reads it), or None if there is no such bound. The
            branch's people who are neither movable nor diverged have no event, multipliers or not.
        movable_staff: The movable who are employed, grouped by their employer: ``(slots, offsets)`` of
            :func:`~gmsim.interventions.kernels.by_employer`; None without a bound or a staff table.
    """

    def __init__(
        self,
        diverged: np.ndarray,
        own: People,
        trunk: People,
        screens: dict[int, TrunkScreen],
        staff_table: np.ndarray | None,
        staff_total: np.ndarray | None,
        headcount: np.ndarray | None,
        movable_staff: tuple[np.ndarray, np.ndarray] | None,
        movable: np.ndarray | None,
    ) -> None:
        self.diverged = diverged
        self.own = own
        self.trunk = trunk
        self.screens = screens
        self.staff_table = staff_table
        self.staff_total = staff_total
        self.movable_staff = movable_staff
        self.movable = movable
        self._headcount = headcount

    def could_move(self, slots: np.ndarray) -> np.ndarray:
        """Those of ``slots`` (ascending) who could have a health or labour event this month, or are diverged.

        By the trunk's ``movable`` (all of ``slots`` without it). Nobody else needs a multiplier.
        """
        return slots if self.movable is None else _movable_among(slots, self.movable, self.diverged)

    def headcount(self) -> np.ndarray:
        """Staff of each employer in the branch: the trunk's, corrected for the diverged people's ties."""
        out = self._headcount.copy()
        _correct_headcount(out, self.trunk.employer, self.own.employer)
        return out


@njit(cache=True)
def _correct_screen(diverged, eligible, trunk_borough, own_eligible, own_borough, referred, by_borough):
    """A trunk's screen corrected for a branch's diverged people (:meth:`TrunkScreen.for_branch`).

    Moves each diverged person's count in ``by_borough`` from their trunk values (``eligible[slot]``,
    ``trunk_borough``) to their own (``own_eligible``, ``own_borough``), in place; returns the rows of those
    eligible on their own values and never referred (bit set ``referred``), ascending.
    """
    out = np.empty(diverged.shape[0], dtype=np.int64)
    n = 0
    for k in range(diverged.shape[0]):
        i = diverged[k]
        if eligible[i]:
            by_borough[trunk_borough[k]] -= 1
        if own_eligible[k]:
            by_borough[own_borough[k]] += 1
            if not has_bit(referred, i):
                out[n] = k
                n += 1
    return out[:n].copy()


@njit(cache=True)
def _correct_headcount(headcount, trunk_employer, own_employer):
    for k in range(trunk_employer.shape[0]):
        if trunk_employer[k] >= 0:
            headcount[trunk_employer[k]] -= 1
        if own_employer[k] >= 0:
            headcount[own_employer[k]] += 1


@njit(cache=True)
def _swap_where(a, slots, values, where):
    """Exchange ``a[slots[k]]`` and ``values[k]`` in place, for the ``k`` where ``where[k]``."""
    for k in range(slots.shape[0]):
        if where[k]:
            i = slots[k]
            held = a[i]
            a[i] = values[k]
            values[k] = held


@njit(cache=True)
def _put_where(a, slots, values, where):
    """``a[slots[k]] = values[k]`` for the ``k`` where ``where[k]``."""
    for k in range(slots.shape[0]):
        if where[k]:
            a[slots[k]] = values[k]


@njit(cache=True)
def _gather_differs(a, slots, values, out, differs):
    """``out[k] = a[slots[k]]``, and ``differs[k]`` set where that is not ``values[k]``."""
    for k in range(slots.shape[0]):
        held = a[slots[k]]
        out[k] = held
        differs[k] = held != values[k]


# Fields that only demography writes (health, labour, benefits and employer ties leave them as they are).
_FIXED = tuple(
    People._fields.index(f)
    for f in ("person_id", "age_months", "sex", "borough", "skills", "exit_event", "exit_borough")
)

_EXIT_EVENT = People._fields.index("exit_event")


def _gather(p: People, slots: np.ndarray) -> People:
    return People(*(a[slots] for a in p))


def _swap(p: People, slots: np.ndarray, values: People, differ: np.ndarray) -> None:
    """Exchange the people arrays' values at ``slots`` with ``values`` where ``differ`` (field, person), in place.

    Elsewhere the two are equal, so after the exchange ``values`` holds the trunk's values of those people
    and the arrays theirs; exchanging again puts everything back.
    """
    for a, v, where in zip(p, values, differ, strict=True):
        _swap_where(a, slots, v, where)


# ----- people held as records (an array of structures) ------------------------------------------------

#: Shared runs with at least this many funded runs hold the people as records (:func:`as_records`). A
#: record keeps a person's values in one cache line or two, so copying a run's scattered people out and
#: back costs a few times less than from 18 arrays; but the records must be written from the trunk's
#: arrays twice a month (about 16 ms each at full scale), which only several runs repay. Measured at full
#: scale, 60 months, side by side on one core each (``benchmarks/shared_runs.py --records yes|no``): with
#: 8 funded runs 15.9 s as records and 15.8 s as arrays, with 14 20.9 and 21.7 s, with 23 29.2 and 31.2 s.
RECORDS_FROM = 12


def _record_dtype(people: People) -> np.dtype:
    """One record per person: the fields largest first (so each is aligned), padded to 8-byte words."""
    order = sorted(range(len(people)), key=lambda f: -people[f].dtype.itemsize)
    offsets, at = [0] * len(people), 0
    for f in order:
        offsets[f] = at
        at += people[f].dtype.itemsize
    return np.dtype(
        {
            "names": list(People._fields),
            "formats": [a.dtype for a in people],
            "offsets": offsets,
            "itemsize": -(-at // 8) * 8,
        }
    )


def as_records(people: People) -> np.ndarray:
    """``people``'s values as a record array (padding zero, so that equal people have equal bytes)."""
    records = np.zeros(len(people[0]), dtype=_record_dtype(people))
    _pack(records, *people)
    return records


def _take(records: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``records[rows]``, several times faster than numpy's indexing of records."""
    return _take_rows(_words(records), rows).view(records.dtype).reshape(len(rows))


def _fields(records: np.ndarray) -> People:
    """People arrays that are views of ``records``' fields (writing them writes the records)."""
    return People(*(records[f] for f in People._fields))


def _words(records: np.ndarray) -> np.ndarray:
    """``records`` as rows of 8-byte words (a view)."""
    return records.view(np.uint64).reshape(len(records), records.dtype.itemsize // 8)


@njit(cache=True)
def _swap_rows(words, slots, rows):
    """Exchange ``words[slots[k]]`` and ``rows[k]`` in place."""
    for k in range(slots.shape[0]):
        i = slots[k]
        for w in range(words.shape[1]):
            held = words[i, w]
            words[i, w] = rows[k, w]
            rows[k, w] = held


@njit(cache=True)
def _take_rows(words, slots):
    """``words[slots]``."""
    out = np.empty((slots.shape[0], words.shape[1]), dtype=words.dtype)
    for k in range(slots.shape[0]):
        i = slots[k]
        for w in range(words.shape[1]):
            out[k, w] = words[i, w]
    return out


@njit(cache=True)
def _put_rows(words, slots, rows, where):
    """``words[slots[k]] = rows[k]`` for the ``k`` where ``where[k]``."""
    for k in range(slots.shape[0]):
        if where[k]:
            i = slots[k]
            for w in range(words.shape[1]):
                words[i, w] = rows[k, w]


@njit(cache=True)
def _rows_differ(a, b, out):
    """``out[k]``: whether rows ``a[k]`` and ``b[k]`` differ."""
    for k in range(a.shape[0]):
        differ = False
        for w in range(a.shape[1]):
            differ |= a[k, w] != b[k, w]
        out[k] = differ


@njit(cache=True)
def _pack(
    records,
    person_id,
    age_months,
    sex,
    borough,
    skills,
    condition,
    severity,
    state,
    months_in_state,
    benefit,
    months_on_benefit,
    employer,
    health_claim_start,
    claim_from_work,
    labour_event,
    health_event,
    exit_event,
    exit_borough,
):
    """Write the people arrays' values into ``records`` (:func:`as_records`), one pass over everyone."""
    for i in range(records.shape[0]):
        r = records[i]
        r.person_id = person_id[i]
        r.age_months = age_months[i]
        r.sex = sex[i]
        r.borough = borough[i]
        r.skills = skills[i]
        r.condition = condition[i]
        r.severity = severity[i]
        r.state = state[i]
        r.months_in_state = months_in_state[i]
        r.benefit = benefit[i]
        r.months_on_benefit = months_on_benefit[i]
        r.employer = employer[i]
        r.health_claim_start = health_claim_start[i]
        r.claim_from_work = claim_from_work[i]
        r.labour_event = labour_event[i]
        r.health_event = health_event[i]
        r.exit_event = exit_event[i]
        r.exit_borough = exit_borough[i]


class SharedRuns:
    """Runs of scenarios that share a trunk (:func:`trunk_key`), with one seed, advanced month by month.

    Args:
        scenarios: The scenarios to run.
        seed: The runs' seed (as ``GMModel(rng=seed)``).
        draws: Per scenario, ``intervention_draws`` for its model (or None).
        records: Whether the branches hold the people as records (default: with :data:`RECORDS_FROM` or
            more branches). The results are the same either way.

    Attributes:
        models: One model per scenario, in order. Their results, interventions and pathways are those of
            the scenario run alone; their ``people`` are the trunk's arrays, or views of a copy of them as
            records (:meth:`own_people` gives a run's own). Do not step them directly.
    """

    def __init__(
        self, scenarios: list[Scenario], seed: int, draws: list[dict | None] | None = None, records: bool | None = None
    ) -> None:
        keys = {trunk_key(s) for s in scenarios}
        if len(keys) != 1:
            raise ValueError("shared runs need scenarios that differ only in their interventions")
        draws = draws or [None] * len(scenarios)
        trunk_at = next((k for k, s in enumerate(scenarios) if not s.strands), None)
        if trunk_at is None:
            bare = Scenario.from_dict(
                {**scenarios[0].to_dict(), "name": "trunk", "strands": {}, "modules": []}, path="trunk"
            )
            self.trunk = GMModel(bare, rng=seed)
        else:
            self.trunk = GMModel(scenarios[trunk_at], rng=seed, intervention_draws=draws[trunk_at])
        if records is None:
            records = len(scenarios) - (trunk_at is not None) >= RECORDS_FROM
        self._records = as_records(self.trunk.people) if records else None
        # The branches' people: the trunk's arrays, or a copy of them as records (the trunk keeps its arrays,
        # faster for its passes over everyone; the records are written anew after each of its steps).
        population = (self.trunk.employers, self.trunk.people if self._records is None else _fields(self._records))
        self.models: list[GMModel] = []
        for k, scenario in enumerate(scenarios):
            if k == trunk_at:
                self.models.append(self.trunk)
            else:
                self.models.append(
                    GMModel(
                        scenario,
                        rng=seed,
                        intervention_draws=draws[k],
                        population=population,
                        start_counts=self.trunk.results,
                    )
                )
        self.branches = [m for m in self.models if m is not self.trunk]
        self._bounds = (health_bounds(self.trunk.tables.kernel), labour_bounds(self.trunk.tables.kernel))
        self._largest = largest_multiplier(self.branches)
        self._reads_staff = any(
            iv.reads_staff_table and not iv.switched_off for b in self.branches for iv in b.interventions
        )
        self._month_view: tuple = (None, None, None, None, None)
        # Interventions that screen person by person, by kind and parameters, where two or more branches share one.
        screened: dict[str, list[Intervention]] = {}
        for b in self.branches:
            for iv in b.interventions:
                if iv.screens_each_person and not iv.switched_off:
                    key = json.dumps(
                        [type(iv).__module__, type(iv).__qualname__, iv.params], sort_keys=True, default=str
                    )
                    screened.setdefault(key, []).append(iv)
        self._screened = [ivs for ivs in screened.values() if len(ivs) > 1]
        self._screens: dict[int, TrunkScreen] = {}
        empty = np.zeros(0, dtype=np.int64)
        fields = len(People._fields)
        # Per branch: the diverged people's slots (ascending), their values, and in which fields they differ from
        # the trunk's (field, person); this month's own people, their values, and the trunk's values and which
        # differ for the fields only demography writes (the others are compared after health and work). Held as
        # records: the diverged people's slots and records, and this month's own people and their records.
        if self._records is None:
            self._diverged: dict[int, tuple] = {
                id(b): (empty, _gather(self.trunk.people, empty), np.zeros((fields, 0), dtype=np.bool_))
                for b in self.branches
            }
        else:
            self._diverged = {id(b): (empty, self._records[:0].copy()) for b in self.branches}
        self._own: dict[int, tuple] = {}

    def step(self) -> None:
        """Advance every run one month (phases 1-4 of the module docstring)."""
        trunk = self.trunk
        trunk.month += 1
        for b in self.branches:
            b.month = trunk.month
        trunk._demography()
        self._pack()
        self._trunk_month()
        leavers = nonzero(trunk.people.exit_event)
        before, after = (
            (self._before_labour, self._after_labour)
            if self._records is None
            else (self._before_labour_records, self._after_labour_records)
        )
        for b in self.branches:
            before(b, leavers)
        trunk._interventions_before_labour()
        trunk._health_and_work()
        for intervention in trunk.interventions:
            intervention.after_labour(trunk)
        trunk._record()
        self._pack()
        for b in self.branches:
            after(b)

    def _pack(self) -> None:
        """Copy the trunk's people arrays into the branches' records, if the people are held as records."""
        if self._records is not None:
            _pack(self._records, *self.trunk.people)

    def _trunk_month(self) -> None:
        """What the trunk computes once a month for the branches to read (:class:`TrunkView`)."""
        self._screens = {}
        for ivs in self._screened:
            screen = TrunkScreen(ivs[0], self.trunk.people)
            self._screens.update((id(iv), screen) for iv in ivs)
        t, p = self.trunk, self.trunk.people
        movable = staff = table = None
        everyone = len(self.branches) >= MOVABLE_FROM
        if self._largest is not None and (everyone or self._reads_staff):
            movable = bit_set(p.n if everyone else 0)
            staff = _movable(
                p.employer,
                p.state,
                p.severity,
                p.condition,
                p.age_months,
                self._bounds[0],
                self._bounds[1],
                self._largest,
                t.streams.key("health"),
                t.streams.key("labour"),
                t.month,
                movable,
            )
            movable = movable if everyone else None
        if not self._reads_staff:
            self._month_view = (None, None, None, None, movable)
            return
        table = staff_table(p.employer, p.borough, t.employers.n, len(codes.BOROUGHS))
        grouped = None if staff is None else by_employer(staff, p.employer, t.employers.n)
        self._month_view = (
            table,
            table.sum(axis=0, dtype=np.int64),
            table.sum(axis=1, dtype=np.int64),
            grouped,
            movable,
        )

    def _before_labour(self, b: GMModel, leavers: np.ndarray) -> None:
        """Phase 2 for branch ``b``: its diverged people's demography, its interventions' steps 1-6."""
        p = self.trunk.people
        slots, values, differ = self._diverged[id(b)]
        b._demography(slots, values)
        # Ageing is the same in both runs, and this month's exit events are compared; a person who left in
        # either (an entrant took their slot) is compared field by field.
        trunk_exit = p.exit_event[slots]
        differ[_EXIT_EVENT] = values.exit_event != trunk_exit
        left = np.flatnonzero((values.exit_event != 0) | (trunk_exit != 0))
        if len(left):
            for f, (a, v) in enumerate(zip(p, values, strict=True)):
                differ[f, left] = v[left] != a[slots[left]]
        mine = People(*(a.copy() for a in values))
        _swap(p, slots, values, differ)
        own = self._steps_1_6(b, leavers, slots, mine, People(*values))
        gathered = _gather(p, own)
        # Health and work leave these fields as they are: which differ, and the trunk's values, are known now.
        at = np.searchsorted(own, slots)
        trunk: list[np.ndarray | None] = [None] * len(p)
        own_differ = np.zeros((len(p), len(own)), dtype=np.bool_)
        for f in _FIXED:
            trunk[f] = gathered[f].copy()
            trunk[f][at] = values[f]  # the trunk's values of the diverged, swapped out
            own_differ[f, at] = differ[f]
        self._own[id(b)] = (own, gathered, trunk, own_differ)
        _swap(p, slots, values, differ)

    def _steps_1_6(
        self,
        b: GMModel,
        leavers: np.ndarray,
        slots: np.ndarray,
        mine: People,
        theirs: People,
    ) -> np.ndarray:
        """Branch ``b``'s interventions' steps 1-6, its values swapped in; its own people this month, ascending.

        ``mine`` and ``theirs`` are its and the trunk's values of its diverged people (``slots``).
        """
        p = b.people
        others = leavers[~within(leavers, slots)]
        b.shared = TrunkView(slots, mine, theirs, self._screens, *self._month_view)
        b._interventions_before_labour(merge(others, slots[p.exit_event[slots] != 0]))
        b.shared = None
        mult = b.hazard_multipliers
        if self._largest is not None and mult.largest > self._largest:
            raise RuntimeError(
                f"a multiplier of {mult.largest} exceeds the bound of {self._largest} that "
                f"the interventions' largest_ratios give"
            )
        labour_largest = np.array(
            [mult.largest_of(LABOUR_FIRST[s], LABOUR_FIRST[s + 1]) for s in range(len(codes.STATES))]
        )
        touched = _may_move(
            mult.touched_slots(),
            p.state,
            p.severity,
            p.condition,
            p.age_months,
            self._bounds[0],
            self._bounds[1],
            mult.largest_of(HEALTH_FIRST, HEALTH_END),
            labour_largest,
            b.streams.key("health"),
            b.streams.key("labour"),
            b.month,
        )
        return merge(slots, touched)

    def _step_7(self, b: GMModel, delta: tuple[np.ndarray, ...]) -> None:
        """Branch ``b``'s interventions' step 7 and its month's results, its values written in."""
        for intervention in b.interventions:
            intervention.after_labour(b)
        b.results.record_shared(self.trunk.results, self.trunk.month, delta)
        b._record(counted=True)

    def _before_labour_records(self, b: GMModel, leavers: np.ndarray) -> None:
        """:meth:`_before_labour` with the people held as records: whole records are exchanged."""
        slots, values = self._diverged[id(b)]
        b._demography(slots, _fields(values))
        words = _words(self._records)
        mine = values.copy()
        _swap_rows(words, slots, _words(values))  # ``values`` now holds the trunk's values of them
        own = self._steps_1_6(b, leavers, slots, _fields(mine), _fields(values))
        gathered = _take(self._records, own)
        _swap_rows(words, slots, _words(values))
        self._own[id(b)] = (own, gathered)

    def _after_labour_records(self, b: GMModel) -> None:
        """:meth:`_after_labour` with the people held as records: whole records are compared and written."""
        r, month = self.trunk.results, self.trunk.month
        own, gathered = self._own.pop(id(b))
        mine = _fields(gathered)
        b._health_and_work(own, mine)
        words = _words(self._records)
        theirs = _take(self._records, own)
        differ = np.empty(len(own), dtype=np.bool_)
        _rows_differ(_words(gathered), _words(theirs), differ)
        delta = tuple(np.zeros_like(a[0]) for a in (r.stock, r.spells, r.flows, r.cohort))
        tally_at(mine, month, None, 1, *delta)
        tally_at(_fields(theirs), month, None, -1, *delta)
        _put_rows(words, own, _words(gathered), differ)
        self._step_7(b, delta)
        _put_rows(words, own, _words(theirs), differ)
        keep = np.flatnonzero(differ)
        self._diverged[id(b)] = (own[keep], _take(gathered, keep))

    def _after_labour(self, b: GMModel) -> None:
        """Phase 4 for branch ``b``: its own people's health and work, step 7, its tally; who stays diverged."""
        p, r, month = self.trunk.people, self.trunk.results, self.trunk.month
        own, mine, trunk, differ = self._own.pop(id(b))
        b._health_and_work(own, mine)
        delta = tuple(np.zeros_like(a[0]) for a in (r.stock, r.spells, r.flows, r.cohort))
        tally_at(mine, month, None, 1, *delta)
        for f, (a, v) in enumerate(zip(p, mine, strict=True)):
            if trunk[f] is None:  # a field health and work may have changed: compared now
                trunk[f] = np.empty_like(v)
                _gather_differs(a, own, v, trunk[f], differ[f])
        theirs = People(*trunk)
        tally_at(theirs, month, None, -1, *delta)
        for a, v, where in zip(p, mine, differ, strict=True):
            _put_where(a, own, v, where)
        self._step_7(b, delta)
        for a, v, where in zip(p, theirs, differ, strict=True):
            _put_where(a, own, v, where)
        keep = np.flatnonzero(differ.any(axis=0))  # indices, not a mask: much faster to take with
        self._diverged[id(b)] = (own[keep], People(*(a[keep] for a in mine)), differ.take(keep, axis=1))

    def run(self, months: int | None = None) -> None:
        """Run ``months`` months (default: the scenarios' months less those already run)."""
        n = self.trunk.months_planned - self.trunk.month if months is None else int(months)
        for _ in range(n):
            self.step()

    def own_people(self, k: int) -> People:
        """Run ``k``'s people arrays as they are now (a copy: the trunk's with its diverged people's values)."""
        model = self.models[k]
        people = People(*(a.copy() for a in self.trunk.people))
        if model is not self.trunk:
            slots, values = self._diverged[id(model)][:2]
            if self._records is not None:
                values = _fields(values)
            for a, v in zip(people, values, strict=True):
                a[slots] = v
        return people

    def diverged(self, k: int) -> int:
        """Number of people run ``k`` has diverged for (0 for the trunk)."""
        model = self.models[k]
        return 0 if model is self.trunk else len(self._diverged[id(model)][0])

    def __repr__(self) -> str:
        return f"SharedRuns({len(self.models)} runs, month {self.trunk.month})"
