"""The trunk: a run without interventions that simulates everybody, and works out what the branches read.

The trunk's population steps everyone, as a run alone does. After its demography each month it works out,
once for all the branches, what their interventions would otherwise work out from everyone
(:class:`MonthView`): the screens of interventions that screen person by person (:class:`TrunkScreen`),
everyone who could have a health or labour event with the runs' largest multipliers and job-finding
factors, and the staff of each employer by borough. After its health it keeps the job seekers whose entry
the runs' different markets could change (:meth:`Trunk.after_health`), and at the end of the month its
search, which each branch corrects for its own people. Where the branches hold the people as records, it
writes its values into the records after its demography and after its health and work.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .. import codes
from ..agents.employers import Employers
from ..agents.people import People
from ..dynamics.labour import SEARCH_SHAPE, entry_window
from ..interventions import Intervention, Screen
from ..interventions.kernels import bit_set, bits_at, count_by_borough, nonzero, within
from ..population import Population
from .kernels import by_employer, correct_screen, movable, staff_table
from .records import as_records, fields, pack

if TYPE_CHECKING:
    from ..model import GMModel
    from .branch import Branch


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


class TrunkScreen:
    """An intervention's screen of everyone with the trunk's values, this month: who is eligible, who referred.

    Made once a month for all the branches whose intervention has the same kind and parameters
    (``screens_each_person``); each branch corrects it for its diverged people (:meth:`for_branch`).

    Args:
        intervention: One of the branches' interventions of this kind and parameters.
        people: The trunk's people arrays.
        month: This month.
    """

    def __init__(self, intervention: Intervention, people: People, month: int) -> None:
        self.eligible = np.asarray(intervention.eligible(people), dtype=bool)
        listed = nonzero(self.eligible)
        self.by_borough = count_by_borough(listed, people.borough, len(codes.BOROUGHS))
        self.hits, self.numbers, self.hazards = intervention.draw_referrals(people, listed, month=month)

    def for_branch(self, intervention: Intervention, branch: Branch, funded: bool) -> Screen:
        """The branch's screen: this one with its diverged people's eligibility and referrals from their values.

        The others' values are the trunk's, so their eligibility and referral numbers are too; of the
        trunk's referrals, those the branch has referred before are not referred again.
        """
        d, own = branch.diverged, branch.own
        own_eligible = np.asarray(intervention.eligible(own), dtype=bool)
        by_borough = self.by_borough.copy()
        referred = intervention.referred_bits
        fresh = correct_screen(
            d, self.eligible, branch.trunk_values.borough, own_eligible, own.borough, referred, by_borough
        )
        if not funded:
            return Screen(self.eligible, by_borough, exceptions=d, exceptions_eligible=own_eligible)
        mine = intervention.draw_referrals(own, fresh, d[fresh])
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


@dataclass(frozen=True)
class MonthView:
    """What the trunk works out once a month for the branches, after its demography.

    Attributes:
        staff_table: The trunk's staff by employer and borough (int32), or None if no branch reads it.
        staff_total: Its sum over employers (the trunk's employed by borough, int64).
        headcount: Its sum over boroughs (the trunk's staff of each employer, int64).
        movable_staff: The employed who could have an event with multipliers up to the runs' bound, grouped
            by employer: ``(slots, offsets)`` (:func:`~gmsim.shared.kernels.by_employer`); None without a
            bound or a staff table.
        movable: Whether each of the trunk's people could have a health or labour event this month with
            multipliers up to the runs' bound (a bit set of uint64 words, small enough to stay in cache while
            every branch reads it), or None if it is not worked out. A branch's people who are neither
            movable nor diverged have no event, multipliers or not.
    """

    staff_table: np.ndarray | None = None
    staff_total: np.ndarray | None = None
    headcount: np.ndarray | None = None
    movable_staff: tuple[np.ndarray, np.ndarray] | None = None
    movable: np.ndarray | None = None


class Trunk(Population):
    """The trunk run's population: everyone, stepped as a run alone, and the month's view for the branches.

    Args:
        people: The people arrays.
        employers: The employer arrays.
        records: The branches' people as records (written after the trunk's demography and after its
            health and work), or None when the branches use the trunk's arrays.

    Attributes:
        records: As above.
        view: This month's :class:`MonthView`.
        screens: The trunk's screens of everyone (:class:`TrunkScreen`) by ``id`` of a branch's intervention.
        leavers_now: Slots whose person left the trunk's population this month, ascending.
        largest: A bound on every multiplier of every branch (:func:`largest_multiplier`), or None.
        screened: The branches' interventions whose screens the trunk makes, in groups of the same kind and
            parameters.
        bounds: The thinning bounds of health and of labour, by level of the first hazard group.
        runs: The trunk's model and the branches'.
        phi_lo: This month's lowest job-finding factor of the runs, by borough and last job's sector
            (:attr:`Market.phi <gmsim.dynamics.labour.Market.phi>`); ``phi_hi`` the highest.
        market_top: The runs' largest job-finding factor and the economy's largest factor this month.
        window: The job seekers whose entry the runs' factors could change this month (slots, entry hazards,
            values after health, and those as records where the branches hold records), or None.
        search_now: The trunk's search at the end of the latest month, by borough and last job's sector.
        employed_now: The trunk's people with an employer at the end of the latest month, by sector (counted
            only in an economy where sectors fare differently).
    """

    in_blocks = False  # its months are stepped phase by phase, with the other runs' between them

    def __init__(self, people: People, employers: Employers, records: np.ndarray | None = None) -> None:
        super().__init__(people, employers)
        self.records = records
        self.view = MonthView()
        self.screens: dict[int, TrunkScreen] = {}
        self.leavers_now = np.zeros(0, dtype=np.int64)
        self.largest: float | None = None
        self.screened: list[list[Intervention]] = []
        self._reads_staff = False
        self._find_movable = False
        self.runs: list[GMModel] = []
        self.search_now = np.zeros(SEARCH_SHAPE, dtype=np.int64)
        self.employed_now = np.zeros(len(codes.SECTORS), dtype=np.int64)
        self.window: tuple | None = None
        self.phi_lo = self.phi_hi = np.ones((len(codes.BOROUGHS), len(codes.SECTORS) + 1))
        self.market_top = (1.0, 1.0)

    def branch_people(self) -> People:
        """The people arrays the branches step: the trunk's, or views of the records' fields."""
        return self.people if self.records is None else fields(self.records)

    def serve(self, branches: list[GMModel], find_movable: bool) -> None:
        """Work out each month what ``branches`` read; with ``find_movable``, everyone who could move."""
        self.bounds = (self.model.tables.health_bound, self.model.tables.labour_split_bound)
        self.runs = [self.model, *branches]
        self.largest = largest_multiplier(branches)
        self._find_movable = find_movable
        active = [iv for b in branches for iv in b.interventions if not iv.switched_off]
        # The staff table pays for itself when two or more runs read it; one run lists its staff itself.
        self._reads_staff = sum(iv.reaches_employers for iv in active) > 1
        # Interventions that screen person by person, by kind and parameters, where two or more branches share one.
        screened: dict[str, list[Intervention]] = {}
        for iv in active:
            if iv.screens_each_person:
                key = json.dumps([type(iv).__module__, type(iv).__qualname__, iv.params.model_dump(mode="json")])
                screened.setdefault(key, []).append(iv)
        self.screened = [ivs for ivs in screened.values() if len(ivs) > 1]

    def after_health(self, people: People, slots: np.ndarray | None) -> tuple[People, np.ndarray | None]:
        """Everyone still; first, the job seekers whose entry the runs' markets could change, as they are now.

        Those whose entry number lies between the thresholds of the lowest and the highest of the runs'
        job-finding factors (:func:`~gmsim.dynamics.labour.entry_window`) are kept with their values after
        health (:attr:`window`): a branch whose factor differs from the trunk's steps those of them whose
        entry differs, as its own people.
        """
        if len(self.runs) > 1 and np.any(self.phi_lo != self.phi_hi):
            model = self.model
            slots_in, entry = entry_window(
                people, self.employers, model.tables, model.streams.key("labour"), model.month, self.phi_lo, self.phi_hi
            )
            rows = people.take(slots_in)
            self.window = (slots_in, entry, rows, None if self.records is None else as_records(rows))
        else:
            self.window = None
        return people, slots

    def employed_by_sector(self) -> np.ndarray:
        """Everyone's count by sector, kept for the branches to correct (:attr:`employed_now`)."""
        self.employed_now = super().employed_by_sector()
        return self.employed_now

    def job_search(self) -> np.ndarray:
        """Everyone's search, kept for the branches to correct (:attr:`search_now`)."""
        self.search_now = super().job_search()
        return self.search_now

    @contextmanager
    def phase(self, name: str) -> Iterator[tuple[People, np.ndarray | None]]:
        """Everyone, as a run alone; after demography, the month's view; the records written where held."""
        yield self.people, None
        if name in ("demography", "health_and_work") and self.records is not None:
            pack(self.records, self.people)
        if name == "demography":
            self._prepare_month()

    def _prepare_month(self) -> None:
        """What the branches read this month (:class:`MonthView`, the screens, the leavers)."""
        p, model = self.people, self.model
        month = model.month
        self.screens = {}
        for ivs in self.screened:
            screen = TrunkScreen(ivs[0], p, month)
            self.screens.update((id(iv), screen) for iv in ivs)
        factors = np.array([m.market.month(month).phi for m in self.runs])
        self.phi_lo, self.phi_hi = factors.min(axis=0), factors.max(axis=0)
        market = model.market.for_kernel(month, float(self.phi_hi.max()))
        self.market_top = (market.phi_top, market.economy_top)
        bits = staff = None
        if self.largest is not None and (self._find_movable or self._reads_staff):
            bits = bit_set(p.n if self._find_movable else 0)
            key = model.streams.key
            staff = movable(p, *self.bounds, self.largest, key("health"), key("labour"), month, self.market_top, bits)
            bits = bits if self._find_movable else None
        if self._reads_staff:
            table = staff_table(p.employer, p.borough, self.employers.n, len(codes.BOROUGHS))
            grouped = None if staff is None else by_employer(staff, p.employer, self.employers.n)
            self.view = MonthView(
                table, table.sum(axis=0, dtype=np.int64), table.sum(axis=1, dtype=np.int64), grouped, bits
            )
        else:
            self.view = MonthView(movable=bits)
        self.leavers_now = nonzero(p.exit_event)
