"""The caseload engine: one intervention's referrals, waiting list, participants, records and outcome counts.

An :class:`~gmsim.interventions.intervention.Intervention` says who is eligible, how people come and what
changes for them; its :class:`Caseload` does the bookkeeping of docs/model.md section 7.4, a step at a
time, in the order ``Intervention.step`` calls them.

Everything after referral works on the *tracked*: the slots of the people taking part (waiting,
supported, in after-effects or in in-work support), ascending, with their status, its month and borough
beside them (:class:`~gmsim.interventions.kernels.Tracked`), read in order rather than scattered over
everyone's records. So the monthly cost follows the number of participants, not the population. Each
person referred has records (:class:`~gmsim.interventions.kernels.Records`: status, months of referral,
start and job entry, flags), made when first read (an intervention with no budget never needs them),
and a bit in a bit set of who was ever referred, read where a few slots are looked up. The follow-ups
look up the people referred, started or entering a job in the month they look back to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import codes
from ..agents.people import People
from ..codes import AFTER, IN_WORK_SUPPORT, NEVER, NOT_REFERRED, SUPPORTED, WAITING
from ..dynamics.readiness import readiness_range
from . import kernels
from .kernels import Eligibility, FollowUps, Records, ReviewCounts, Timing, Tracked

if TYPE_CHECKING:
    from .intervention import Intervention

#: Counters kept by month and borough (docs/model.md section 7.4, Outcomes).
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
#: The counters that are monthly stocks (reported as means over months, not sums).
STOCK_COUNTERS = ("eligible", "waiting", "in_support")

# Each record's type, and its value for a person it has nothing on.
_RECORD_TYPES = {
    "status": np.int8,
    "status_month": np.int16,
    "referred_month": np.int16,
    "started_month": np.int16,
    "job_month": np.int16,
    "flags": np.int8,
}
_BLANK = {
    "status": NOT_REFERRED,
    "status_month": NEVER,
    "referred_month": NEVER,
    "started_month": NEVER,
    "job_month": NEVER,
    "flags": 0,
}
_N_BOROUGHS = len(codes.BOROUGHS)


class Screen:
    """Who is eligible this month and who is referred, as steps 3 and 4 use them.

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

    @classmethod
    def nobody(cls) -> Screen:
        """The screen of a month in which nobody was screened (nobody is tracked, so nobody is read)."""
        return cls(np.zeros(0, dtype=bool), np.zeros(_N_BOROUGHS, dtype=np.int64))

    def eligible_at(self, slots: np.ndarray) -> np.ndarray:
        """Whether the people in ``slots`` are eligible."""
        out = self.eligible[slots]
        if len(self.exceptions):
            at, found = kernels.locate(self.exceptions, slots)
            out[found] = self.exceptions_eligible[at[found]]
        return out


class Caseload:
    """One intervention's participants and their records, and its monthly counts.

    Args:
        intervention: The intervention it keeps the caseload of.
        records: The per-person records it keeps (the others are empty arrays).

    Attributes:
        tracked: Slots of the people taking part, ascending.
        counts: Counters by month, counter (:data:`COUNTERS`) and borough, in simulated people (or GBP).
        waiting, supported, after, in_work_support: This month's participants in each status (after the
            month's review and starts), ascending.
    """

    def __init__(self, intervention: Intervention, records: tuple[str, ...]) -> None:
        self.intervention = intervention
        self.model = intervention.model
        self.kept = records
        self._records: Records | None = None
        self._referred_bits: np.ndarray | None = None
        self.tracked = np.zeros(0, dtype=np.int64)
        self._columns = Tracked(self.tracked, *(np.zeros(0, dtype=t) for t in (np.int8, np.int16, np.int8)))
        # Slots referred (this month's, for the cohort evaluation), started and entering a job, by month (kept
        # while a follow-up can look back to them).
        self._referred_in: dict[int, np.ndarray] = {}
        self._started_in: dict[int, np.ndarray] = {}
        self._entered_in: dict[int, np.ndarray] = {}
        m = self.model.months_planned + 1
        self.counts = np.zeros((m, len(COUNTERS), _N_BOROUGHS))
        self.referrals_so_far = 0.0
        empty = np.zeros(0, dtype=np.int64)
        self.waiting = self.supported = self.after = self.in_work_support = empty
        self._waited_since = np.zeros(0, dtype=np.int16)
        self._stocks = np.zeros((len(codes.PARTICIPATION), _N_BOROUGHS), dtype=np.int64)
        self._was_waiting = 0
        self._bool_masks: bool | None = None  # whether the routes' masks are yes/no masks (once asked)

    # ----- records ------------------------------------------------------------------------------------------
    @property
    def records(self) -> Records:
        """The per-person records (made blank when first read; those not kept are empty arrays)."""
        if self._records is None:
            n = self.model.people.n
            self._records = Records(
                *(
                    np.full(n if name in self.kept else 0, _BLANK[name], dtype=_RECORD_TYPES[name])
                    for name in Records._fields
                )
            )
        return self._records

    @property
    def referred_bits(self) -> np.ndarray:
        """Whether each slot has been referred: a bit set of uint64 words (``kernels.has_bit`` reads it)."""
        if self._referred_bits is None:
            self._referred_bits = kernels.bit_set(self.model.people.n if "referred_month" in self.kept else 0)
        return self._referred_bits

    def __getattr__(self, name: str) -> np.ndarray:
        """One of the records by name (``status``, ``status_month``, ``referred_month``, ...)."""
        if name in Records._fields:
            return getattr(self.records, name)
        raise AttributeError(f"'Caseload' object has no attribute {name!r}")

    def clear(self, slots: np.ndarray, columns: bool = True) -> None:
        """Blank the records of ``slots`` (and their tracked columns)."""
        records = self.records
        for name in self.kept:
            getattr(records, name)[slots] = _BLANK[name]
        if "referred_month" in self.kept:
            kernels.set_bits(self.referred_bits, np.asarray(slots, dtype=np.int64), False)
        if columns and "status" in self.kept:
            self._set_columns(slots, NOT_REFERRED, NEVER)

    def set_status(self, slots: np.ndarray, status: int) -> None:
        """Give ``slots`` ``status`` from this month (in their records and, if tracked, their columns)."""
        month = self.model.month
        self.records.status[slots] = status
        self.records.status_month[slots] = month
        self._set_columns(slots, status, month)

    def _set_columns(self, slots: np.ndarray, status: int, month: int) -> None:
        tracked, status_of, since, _ = self._columns
        if len(slots) and len(tracked) and tracked is self.tracked:
            at, found = kernels.locate(tracked, slots)
            at = at[found]
            status_of[at] = status
            since[at] = month

    def columns(self) -> Tracked:
        """The tracked and their columns (made again from the records if ``tracked`` was replaced)."""
        if self._columns.slots is not self.tracked:
            t = self.tracked
            r = self.records
            self._columns = Tracked(t, r.status[t], r.status_month[t], self.model.people.borough[t])
        return self._columns

    # ----- counts -------------------------------------------------------------------------------------------
    def grow(self, month: int) -> None:
        """Make room in the monthly arrays when a model runs past its planned months."""
        a = self.counts
        if month >= a.shape[0]:
            self.counts = np.concatenate([a, np.zeros((max(month + 1, 2 * a.shape[0]) - a.shape[0],) + a.shape[1:])])

    def add(self, counter: str, by_borough: np.ndarray) -> None:
        """Add people (or GBP) by borough to this month's ``counter``."""
        self.counts[self.model.month, COUNTERS.index(counter)] += by_borough

    def count(self, counter: str, slots: np.ndarray, weight: float | np.ndarray = 1.0) -> np.ndarray:
        """Add ``slots`` by borough (times ``weight``: one, or one per slot) to ``counter``; returns what was added."""
        b = self.model.people.borough
        if np.ndim(weight):
            added = np.bincount(b[slots], weights=np.asarray(weight, dtype=float), minlength=_N_BOROUGHS)
        else:
            n = kernels.count_by_borough(np.asarray(slots, dtype=np.int64), b, _N_BOROUGHS)
            added = n if weight == 1.0 else kernels.repeated_sum(float(weight), n)
        self.add(counter, added)
        return added

    # ----- a month: steps 1 to 5 ------------------------------------------------------------------------------
    def forget(self, leavers: np.ndarray) -> None:
        """Step 1: clear the records of the people who left the population this month.

        A new person takes a leaver's slot, so the slot's record starts afresh (only the referred have
        one); the review then stops tracking them.
        """
        if len(leavers):
            referred = leavers[kernels.bits_at(self.referred_bits, leavers)]
            self.clear(referred, columns=False)

    def screen(self, people: People, funded: bool) -> Screen:
        """Everyone's screen (``people`` holds every slot): who is eligible and, if ``funded``, who is referred."""
        eligible = self.intervention.eligible(people)
        by_borough = np.zeros(_N_BOROUGHS, dtype=np.int64)
        candidates = kernels.candidates(eligible, self.records.referred_month, NEVER, people.borough, by_borough)
        return Screen(eligible, by_borough, *(self.draw_referrals(people, candidates) if funded else ()))

    def draw_referrals(
        self, people: People, candidates: np.ndarray, slots: np.ndarray | None = None, month: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which candidates are referred this month: their slots, referral numbers and referral hazards.

        Args:
            people: Everyone, or some people only (one row each).
            candidates: Rows of ``people`` not yet referred and eligible, ascending.
            slots: Their slots, if the rows are not slots (their referral numbers are their slots').
            month: The month whose referral numbers are drawn (default: the model's).
        """
        slots = candidates if slots is None else slots
        u = self.intervention.uniforms("referral", slots, month)
        most = self._largest_hazard()
        if most is not None:  # only those whose number is below the largest chance can be referred
            near = u < -np.expm1(-most)
            candidates, slots, u = candidates[near], slots[near], u[near]
        table, row = self._route_hazards(people, candidates)
        hit = u < (-np.expm1(-table))[row]
        return slots[hit], u[hit], table[row[hit]]

    def _largest_hazard(self) -> float | None:
        """A bound on every candidate's referral hazard where it differs between candidates, else None.

        A candidate's hazard (:meth:`_route_hazards`) is a sum over the routes that reach them of rate x
        take-up x readiness to the power ``selection``: at most the sum over every route at the readiness
        that makes each term largest (widened by a billionth against rounding). Their numbers are drawn for
        everyone; only those below the chance of this bound need their hazard worked out, and their routes'
        masks. That needs masks that say yes or no person by person (:meth:`_masks_by_candidate`).
        """
        iv = self.intervention
        routes = [iv.params.routes[name] for name in iv.routes()]
        if len(routes) > 8 or (iv.has_route_masks() and not self._masks_by_candidate()):
            return None
        if not iv.has_route_masks() and all(r.selection == 0 for r in routes):
            return None  # one hazard for everyone: nothing to save
        low, high = readiness_range(self.model.tables.job_readiness_sd)
        most = 0.0
        for r in routes:
            rate = r.rate * r.take_up
            most += rate * max(low**r.selection, high**r.selection) if r.selection != 0 else rate
        return most * (1 + 1e-9)

    def _route_hazards(self, people: People, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The candidates' referral hazards, as a table and each candidate's row in it.

        A candidate's hazard is the sum of rate x take-up (x job readiness to the route's ``selection``) over
        the routes that reach them, added in the order of the routes' masks. With a yes/no mask for each route
        and no selection it depends only on which routes reach them: row ``k`` of the table is then the sum
        over the routes in bit set ``k``, added in that order (a route that does not reach someone adds 0,
        which changes no sum). Other masks, or a route that selects, give one row per candidate. Without masks
        (the intervention does not override ``route_masks``) every route reaches everyone eligible.
        """
        iv = self.intervention
        routes = iv.routes()
        at: np.ndarray | slice = candidates
        if not iv.has_route_masks() and len(routes) <= 8:
            masks = None
            names = routes
        elif self._masks_by_candidate():  # asked about the candidates only, one row each
            masks = iv.route_masks(people.rows(candidates), np.ones(len(candidates), dtype=bool))
            names, at = list(masks), slice(None)
        else:
            fresh = np.zeros(people.n, dtype=bool)
            fresh[candidates] = True
            masks = iv.route_masks(people, fresh)
            names = list(masks)
        rates = [iv.params.routes[route].rate * iv.params.routes[route].take_up for route in names]
        powers = [iv.params.routes[route].selection for route in names]
        selects = any(power != 0 for power in powers)
        if selects or (
            masks is not None and (len(names) > 8 or any(np.asarray(m).dtype != bool for m in masks.values()))
        ):
            ready = people.job_readiness[candidates].astype(np.float64) if selects else None
            hazard = np.zeros(len(candidates))
            for r, rate in enumerate(rates):
                reach = 1.0 if masks is None else np.asarray(list(masks.values())[r])[at]
                hazard += reach * (rate * ready ** powers[r] if powers[r] != 0 else rate)
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
            row |= np.asarray(mask)[at].astype(np.int64) << r
        return table, row

    def _masks_by_candidate(self) -> bool:
        """Whether the routes' masks can be asked about the candidates alone: yes or no, person by person.

        So they are when the intervention reads only the people it is given (``screens_each_person``) and
        its masks are yes/no masks (asked about nobody, to see their types).
        """
        iv = self.intervention
        if not iv.screens_each_person:
            return False
        if self._bool_masks is None:
            nobody = np.zeros(0, dtype=np.int64)
            masks = iv.route_masks(self.model.people.rows(nobody), np.ones(0, dtype=bool))
            self._bool_masks = all(np.asarray(m).dtype == bool for m in masks.values())
        return self._bool_masks

    def review(self, screen: Screen | None, timing: Timing) -> None:
        """Steps 2 and 3: support ends, and the waiting list is reviewed (one pass over the tracked).

        In-work support starts after the labour step of the job-entry month, so it acts from the next month.
        The people done are no longer tracked from next month.
        """
        counts = ReviewCounts(
            np.zeros(_N_BOROUGHS, dtype=np.int64),
            np.zeros(_N_BOROUGHS, dtype=np.int64),
            np.zeros((len(codes.PARTICIPATION), _N_BOROUGHS), dtype=np.int64),
        )
        screen = Screen.nobody() if screen is None else screen
        eligibility = Eligibility(screen.eligible, screen.exceptions, screen.exceptions_eligible)
        columns, waiting, supported, after, in_work, self._was_waiting = kernels.review_tracked(
            self.columns(),
            self.records,
            self.model.leavers,
            self.model.month,
            timing,
            self.model.streams.key(f"strand.{self.intervention.name}.dropout"),
            eligibility,
            counts,
        )
        self._stocks = counts.stocks
        self._columns = columns
        self.tracked = tracked = columns.slots
        self._waited_since = columns.since[waiting]
        self.waiting, self.supported = tracked[waiting], tracked[supported]
        self.after, self.in_work_support = tracked[after], tracked[in_work]
        self.add("completed", counts.completed)
        self.add("dropped_out", counts.dropped_out)

    def refer(self, screen: Screen, cap: float | None) -> None:
        """Step 4: this month's referrals join the waiting list (at most ``cap`` over the run, in slots)."""
        month, p = self.model.month, self.model.people
        referred = screen.referred
        if cap is not None:
            room = max(0, int(round(cap - self.referrals_so_far)))
            if len(referred) > room:
                rank = np.argsort(screen.numbers / np.maximum(screen.hazards, 1e-12))
                referred = np.sort(referred[rank[:room]])
        self.referrals_so_far += len(referred)
        records = self.records
        records.referred_month[referred] = month
        kernels.set_bits(self.referred_bits, referred, True)
        records.status[referred] = WAITING  # not tracked yet: their columns are added below
        records.status_month[referred] = month
        self._stocks[WAITING] += self.count("referred", referred)
        self._columns = kernels.insert_tracked(self._columns, referred, WAITING, month, p.borough[referred])
        self.tracked = self._columns.slots
        self._referred_in[month] = referred
        self.waiting = np.concatenate([self.waiting, referred])
        self._waited_since = np.concatenate([self._waited_since, np.full(len(referred), month, dtype=np.int16)])

    def start(self, places: int, unit_cost: float) -> None:
        """Step 5: ``places`` go to the people waiting, in order of priority, then time waited, then slot.

        A start is supported from this month and costs ``unit_cost``; an at-risk starter is flagged.
        """
        waiting = self.waiting
        if not (places and len(waiting)):
            return
        month, p, iv = self.model.month, self.model.people, self.intervention
        order = np.lexsort((waiting, self._waited_since, iv.priority(p.rows(waiting))))
        start = np.sort(waiting[order[:places]])
        self.set_status(start, SUPPORTED)
        self.records.started_month[start] = month
        self._started_in[month] = start
        at_risk = p.state[start] == codes.AT_RISK
        self.records.flags[start[at_risk]] |= 1
        started = self.count("started", start)
        self._stocks[WAITING] -= started
        self._stocks[SUPPORTED] += started
        self.count("at_risk_starts", start[at_risk])
        self.count("spend_gbp", start, unit_cost)
        self.model.participation[start] |= np.uint16(1 << iv.index)
        self.supported = kernels.merge(self.supported, start)

    def count_stocks(self, eligible_by_borough: np.ndarray | None) -> None:
        """This month's stocks: the eligible (if screened), the waiting and the in support."""
        if eligible_by_borough is not None:
            self.add("eligible", eligible_by_borough)
        self.add("waiting", self._stocks[WAITING])
        self.add("in_support", self._stocks[SUPPORTED] + self._stocks[IN_WORK_SUPPORT])

    @property
    def screened_waiting(self) -> bool:
        """Whether anyone was on the waiting list before this month's review."""
        return self._was_waiting > 0

    def referred_in(self, month: int) -> np.ndarray:
        """Slots referred in ``month`` (one of the last 36 months), ascending."""
        return self._referred_in.get(month, np.zeros(0, dtype=np.int64))

    def participants(self, status: int) -> np.ndarray:
        """This month's participants in ``status`` (supported, after-effects or in-work support), ascending."""
        return {SUPPORTED: self.supported, AFTER: self.after, IN_WORK_SUPPORT: self.in_work_support}[status]

    # ----- a month: step 7 ---------------------------------------------------------------------------------
    def follow_up(self, in_work_support: bool) -> None:
        """Step 7: this month's job entries (then in-work support, if any), jobs held, kept in work."""
        p, month = self.model.people, self.model.month
        none = np.zeros(0, dtype=np.int64)
        counts = np.zeros((4, _N_BOROUGHS), dtype=np.int64)
        due = FollowUps(
            self._entered_in.get(month - 6, none),
            self._entered_in.get(month - 12, none),
            self._started_in.get(month - 6, none),
        )
        code = IN_WORK_SUPPORT if in_work_support else -1
        entries = kernels.outcomes(self.columns(), due, self.records, p, month, code, counts)
        for k, counter in enumerate(("job_entries", "sustained_jobs_6m", "sustained_jobs_12m", "kept_in_work")):
            self.add(counter, counts[k])
        self._entered_in[month] = entries
        for index, keep in ((self._referred_in, 1), (self._started_in, 6), (self._entered_in, 12)):
            for m in [m for m in index if m <= month - keep]:
                del index[m]

    # ----- results ------------------------------------------------------------------------------------------
    def totals(self, first: int = 1, last: int | None = None) -> dict[str, Any]:
        """Counters over months ``first..last`` in people (stocks as monthly means), GM."""
        last = self.model.month if last is None else last
        c = self.counts[first : last + 1].sum(axis=2) / self.model.scale
        out: dict[str, Any] = {}
        for k, name in enumerate(COUNTERS):
            col = c[:, k]
            out[name] = float(col.mean() if name in STOCK_COUNTERS else col.sum())
        out["cost_per_job_entry"] = out["spend_gbp"] / out["job_entries"] if out["job_entries"] else None
        return out
