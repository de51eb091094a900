"""A branch: a funded run that keeps only the people it has diverged for, and takes everyone else from the trunk.

A branch's people are the trunk's, with the values of its *diverged* people (those whose values differ
from the trunk's) swapped in while its phases read them. A month, through the phases of ``GMModel.step``:

1. demography: its diverged people's, on their own values (arrays holding just them), which are then
   swapped into the trunk's arrays (or records);
2. intervene: its interventions, on the population so formed, correcting the trunk's screens and tables
   for its diverged people. The diverged and the people with a multiplier whose numbers could give them
   a health or labour event this month (below the thinning bound times the run's largest multiplier of
   the process's transitions, docs/model.md section 7.1: of health's, and of the moves out of their
   labour state; the others have none, multiplier or not) are its *own* people this month: their values
   are copied out, and the trunk's swapped back;
3. (the trunk's health and work for everyone, and its tally;)
4. health and work: its own people's, on their copied values (a person's row there, their slot's random
   numbers and multipliers); its tally is the trunk's with its own people's counts replaced by theirs.
   Their values that differ from the trunk's are written in for the follow-up and the record, and the
   trunk's written back after; own people whose values now all equal the trunk's rejoin it.

Held as arrays (:class:`BranchArrays`), a branch exchanges the differing fields of its diverged people and
keeps which differ; held as records (:class:`BranchRecords`), it exchanges, copies out and compares whole
records.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import codes
from ..agents.people import DEMOGRAPHIC, People
from ..codes import NOT_REFERRED
from ..dynamics.health import HEALTH_END, HEALTH_FIRST
from ..dynamics.labour import LABOUR_FIRST, entry_differs, search_change
from ..interventions import Screen
from ..interventions.kernels import merge, within
from ..population import Population, employed_by_sector
from ..results import tally_some
from . import records as rec
from .kernels import (
    correct_headcount,
    gather_differs,
    may_move,
    movable_among,
    put_rows,
    put_where,
    rows_differ,
    staff_among,
    staff_counts,
    swap_rows,
    swap_where,
)

if TYPE_CHECKING:
    from ..results import Results
    from .trunk import Trunk

_DEMOGRAPHIC = tuple(People._fields.index(f) for f in DEMOGRAPHIC)
_EXIT_EVENT = People._fields.index("exit_event")


class Branch(Population):
    """A funded run's population in shared runs: the trunk's people with its diverged people's own values.

    Args:
        trunk: The trunk's population.

    Attributes:
        trunk: As above.
        diverged: The slots of the people whose values differ from the trunk's, ascending.
        own: The diverged people's values (one row each, in their order), while the interventions take
            their steps.
        trunk_values: The trunk's values of the same people, likewise.
    """

    in_blocks = False  # its months are stepped phase by phase, with the other runs' between them

    def __init__(self, trunk: Trunk) -> None:
        super().__init__(trunk.branch_people(), trunk.employers)
        self.trunk = trunk
        self.diverged = np.zeros(0, dtype=np.int64)
        self.own: People | None = None
        self.trunk_values: People | None = None
        self._delta: tuple[np.ndarray, ...] = ()  # this month's counts less the trunk's (stock, spells, flows, cohort)
        self._month: tuple | None = None  # this month's own people and their values, from intervene to record

    @contextmanager
    def phase(self, name: str) -> Iterator[tuple[People, np.ndarray | None]]:
        """Demography of the diverged, health and work of the own people; the rest with their values swapped in.

        Around them: after demography the diverged people's values are swapped in; after the interventions
        this month's own people are chosen and the trunk's values swapped back; after health and work the
        own people's values that differ from the trunk's are written in, and after the record written back.
        """
        if name == "demography":
            yield self.own_values(), self.diverged
            self._swap_in()
        elif name == "health_and_work":
            yield self._own_month()
            self._write_in()
        else:
            yield self.people, None
            if name == "intervene":
                self._choose_own()
            elif name == "record":
                self._write_back()

    def own_values(self) -> People:
        """The diverged people's own values (one row each, in the order of ``diverged``)."""
        raise NotImplementedError

    def month_values(self) -> tuple[People, np.ndarray, People]:
        """The trunk's people with this run's diverged people apart (after its month only; see the base class)."""
        return self.trunk.people, self.diverged, self.own_values()

    def _own_month(self) -> tuple[People, np.ndarray]:
        """This month's own people's values (one row each) and their slots."""
        raise NotImplementedError

    def _swap_in(self) -> None:
        raise NotImplementedError

    def _choose_own(self) -> None:
        raise NotImplementedError

    def _write_in(self) -> None:
        raise NotImplementedError

    def _write_back(self) -> None:
        raise NotImplementedError

    def count(self, results: Results, month: int) -> None:
        """The trunk's tally, with this run's own people's counts in place of the trunk's."""
        results.record_shared(self.trunk.model.results, month, self._delta)

    def leavers(self) -> np.ndarray:
        """The trunk's leavers but the diverged, and the diverged who left in this run."""
        d, left = self.diverged, self.trunk.leavers_now
        return merge(left[~within(left, d)], d[self.people.exit_event[d] != 0])

    def screen(self, intervention: Any, funded: bool) -> Screen:
        """The trunk's screen corrected for the diverged people, where the trunk made one; else everyone's."""
        trunk_screen = self.trunk.screens.get(id(intervention))
        if trunk_screen is None:
            return super().screen(intervention, funded)
        return trunk_screen.for_branch(intervention, self, funded)

    def could_change(self, slots: np.ndarray) -> np.ndarray:
        """Those of ``slots`` the trunk found could move this month, or diverged (all, if it did not look)."""
        bits = self.trunk.view.movable
        return slots if bits is None else movable_among(slots, bits, self.diverged)

    def headcount(self) -> np.ndarray:
        """The trunk's staff of each employer, corrected for the diverged people's ties."""
        if self.trunk.view.headcount is None:
            return super().headcount()
        out = self.trunk.view.headcount.copy()
        correct_headcount(out, self.trunk_values.employer, self.own.employer)
        return out

    def staff(
        self,
        emp_status: np.ndarray,
        events: np.ndarray,
        by_status: np.ndarray,
        by_event: np.ndarray,
        first: int,
        second: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Counts from the trunk's staff table, and only the staff who could have an event (or diverged)."""
        view = self.trunk.view
        if view.movable_staff is None:
            return super().staff(emp_status, events, by_status, by_event, first, second)
        own, theirs = self.own, self.trunk_values
        staff_counts(
            view.staff_table,
            view.staff_total,
            emp_status,
            events,
            NOT_REFERRED,
            theirs.employer,
            theirs.borough,
            own.employer,
            own.borough,
            by_status,
            by_event,
        )
        return staff_among(*view.movable_staff, self.diverged, own.employer, emp_status, first, second)

    def _own_people(self) -> np.ndarray:
        """This month's own people: the diverged, and those with a multiplier who could have an event."""
        model, trunk = self.model, self.trunk
        mult = model.hazard_multipliers
        if trunk.largest is not None and mult.largest > trunk.largest:
            raise RuntimeError(
                f"a multiplier of {mult.largest} exceeds the bound of {trunk.largest} that "
                f"the interventions' largest_ratios give"
            )
        labour_largest = np.array(
            [mult.largest_of(LABOUR_FIRST[s], LABOUR_FIRST[s + 1]) for s in range(len(codes.STATES))]
        )
        key = model.streams.key
        touched = may_move(
            mult.touched_slots(),
            self.people,
            *trunk.bounds,
            mult.largest_of(HEALTH_FIRST, HEALTH_END),
            labour_largest,
            key("health"),
            key("labour"),
            model.month,
            trunk.market_top,
        )
        return merge(self.diverged, touched)

    def after_health(self, people: People, slots: np.ndarray | None) -> tuple[People, np.ndarray | None]:
        """Its own people, and those of the trunk's window whose entry differs in this run's market.

        They have the trunk's values after health (their health is the same in both runs: they have no
        multiplier that could move them, or they would be own people already), and join the own people for
        the rest of the month.
        """
        window = self.trunk.window
        if window is None:
            return people, slots
        candidates, entry, rows, records = window
        model = self.model
        trunk_factor, factor = self.trunk.model.market.month(model.month).phi, model.market.month(model.month).phi
        differs = entry_differs(
            candidates,
            entry,
            rows.borough,
            rows.last_sector,
            model.streams.key("labour"),
            model.month,
            trunk_factor,
            factor,
        )
        differs &= ~within(candidates, slots)
        if not differs.any():
            return people, slots
        pick = np.flatnonzero(differs)
        return self._add_rows(candidates[pick], rows.take(pick), None if records is None else rec.take(records, pick))

    def _add_rows(self, slots: np.ndarray, rows: People, records: np.ndarray | None) -> tuple[People, np.ndarray]:
        """Add people (not own yet, values equal to the trunk's) to this month's own people; the rows to step."""
        raise NotImplementedError

    def job_search(self) -> np.ndarray:
        """The trunk's search, corrected for this run's own people and for those with a multiplier.

        A person's search differs from their search in the trunk only if their values differ (they are own
        people this month) or they have a multiplier; search is in whole units, so the total is exactly the
        one this run would work out alone.
        """
        out = self.trunk.search_now.copy()
        model = self.model
        mult, tables, employers = model.hazard_multipliers, model.tables, self.employers
        if self._month is None:  # month 0: nobody apart, no multipliers
            return out
        own, mine, theirs, differ = self._month_rows()
        others = np.zeros(0, dtype=np.int64)
        entry = (codes.T["out_of_work_to_in_work"], codes.T["inactive_to_in_work"])
        if any(mult.rows[t] >= 0 for t in entry):  # some intervention multiplies job entry
            touched = mult.touched_slots()
            others = touched[~within(touched, own[differ])]
        search_change(
            mine, theirs, differ, mult.for_kernels(own), self.people, others, mult.for_kernels(), employers, tables, out
        )
        return out

    def employed_by_sector(self) -> np.ndarray:
        """The trunk's count by sector, with this month's own people's employers in place of the trunk's."""
        out = self.trunk.employed_now.copy()
        if self._month is None:  # month 0: nobody apart
            return out
        _, mine, theirs, differ = self._month_rows()
        sector = self.employers.sector
        return (
            out
            + employed_by_sector(mine.employer[differ], sector)
            - employed_by_sector(theirs.employer[differ], sector)
        )

    def _month_rows(self) -> tuple[np.ndarray, People, People, np.ndarray]:
        """This month's own people after health and work: slots, their values, the trunk's, and which differ."""
        raise NotImplementedError

    def _zero_counts(self) -> tuple[np.ndarray, ...]:
        r = self.trunk.model.results
        counted = (r.stock, r.spells, r.flows, r.cohort) + ((r.moves,) if self.model.results.moves is not None else ())
        return tuple(np.zeros_like(a[0]) for a in counted)


class BranchArrays(Branch):
    """A branch using the trunk's people arrays: it exchanges only its diverged people's differing values."""

    def __init__(self, trunk: Trunk) -> None:
        super().__init__(trunk)
        empty = np.zeros(0, dtype=np.int64)
        self._values = self.people.take(empty)  # the diverged people's own values
        self._differ = np.zeros((len(People._fields), 0), dtype=np.bool_)  # which of them differ (field, person)

    def _own_month(self) -> tuple[People, np.ndarray]:
        own, mine = self._month[:2]
        return mine, own

    def _swap_in(self) -> None:
        # Ageing is the same in both runs, and this month's exit events are compared; a person who left in
        # either (an entrant took their slot) is compared field by field.
        p, slots, values, differ = self.people, self.diverged, self._values, self._differ
        trunk_exit = p.exit_event[slots]
        differ[_EXIT_EVENT] = values.exit_event != trunk_exit
        left = np.flatnonzero((values.exit_event != 0) | (trunk_exit != 0))
        if len(left):
            for f, (a, v) in enumerate(zip(p, values, strict=True)):
                differ[f, left] = v[left] != a[slots[left]]
        self.own = values.copy()
        _swap(p, slots, values, differ)
        self.trunk_values = values  # (now holding the trunk's values of the diverged)

    def _choose_own(self) -> None:
        p, slots, values, differ = self.people, self.diverged, self._values, self._differ
        own = self._own_people()
        gathered = p.take(own)
        # Health and work leave these fields as they are: which differ, and the trunk's values, are known now.
        at = np.searchsorted(own, slots)
        trunk: list[np.ndarray | None] = [None] * len(p)
        own_differ = np.zeros((len(p), len(own)), dtype=np.bool_)
        for f in _DEMOGRAPHIC:
            trunk[f] = gathered[f].copy()
            trunk[f][at] = values[f]  # the trunk's values of the diverged, swapped out
            own_differ[f, at] = differ[f]
        self._month = (own, gathered, trunk, own_differ)
        _swap(p, slots, values, differ)
        self.own = self.trunk_values = None  # read while the interventions take their steps only

    def _add_rows(self, slots: np.ndarray, rows: People, records: np.ndarray | None) -> tuple[People, np.ndarray]:
        own, mine, trunk, differ = self._month
        order = np.argsort(np.concatenate([own, slots]), kind="stable")
        own = np.concatenate([own, slots])[order]
        mine = People(*(np.concatenate([a, b])[order] for a, b in zip(mine, rows, strict=True)))
        trunk = [None if t is None else np.concatenate([t, r])[order] for t, r in zip(trunk, rows, strict=True)]
        differ = np.concatenate([differ, np.zeros((len(differ), len(slots)), dtype=np.bool_)], axis=1)[:, order]
        self._month = (own, mine, trunk, differ)
        return mine, own

    def _month_rows(self) -> tuple[np.ndarray, People, People, np.ndarray]:
        own, mine, theirs, differ = self._month
        return own, mine, theirs, differ.any(axis=0)

    def _write_in(self) -> None:
        p, month = self.people, self.model.month
        own, mine, trunk, differ = self._month
        delta = self._zero_counts()
        tally_some(mine, month, 1, delta)
        for f, (a, v) in enumerate(zip(p, mine, strict=True)):
            if trunk[f] is None:  # a field health and work may have changed: compared now
                trunk[f] = np.empty_like(v)
                gather_differs(a, own, v, trunk[f], differ[f])
        theirs = People(*trunk)
        tally_some(theirs, month, -1, delta)
        for a, v, where in zip(p, mine, differ, strict=True):
            put_where(a, own, v, where)
        self._delta = delta
        self._month = (own, mine, theirs, differ)

    def _write_back(self) -> None:
        p = self.people
        own, mine, theirs, differ = self._month
        for a, v, where in zip(p, theirs, differ, strict=True):
            put_where(a, own, v, where)
        keep = np.flatnonzero(differ.any(axis=0))  # indices, not a mask: much faster to take with
        self.diverged, self._values, self._differ = own[keep], mine.take(keep), differ.take(keep, axis=1)
        self._month = None

    def own_values(self) -> People:
        """The diverged people's own values (one row each, in the order of ``diverged``)."""
        return self._values


class BranchRecords(Branch):
    """A branch holding the people as records: it exchanges, copies out and compares whole records."""

    def __init__(self, trunk: Trunk) -> None:
        super().__init__(trunk)
        self._values = trunk.records[:0].copy()  # the diverged people's own records

    def _own_month(self) -> tuple[People, np.ndarray]:
        own, gathered = self._month
        return rec.fields(gathered), own

    def _swap_in(self) -> None:
        values = self._values
        self.own = rec.fields(values.copy())
        swap_rows(rec.words(self.trunk.records), self.diverged, rec.words(values))
        self.trunk_values = rec.fields(values)  # (now holding the trunk's values of the diverged)

    def _choose_own(self) -> None:
        own = self._own_people()
        gathered = rec.take(self.trunk.records, own)
        swap_rows(rec.words(self.trunk.records), self.diverged, rec.words(self._values))
        self._month = (own, gathered)
        self.own = self.trunk_values = None  # read while the interventions take their steps only

    def _add_rows(self, slots: np.ndarray, rows: People, records: np.ndarray | None) -> tuple[People, np.ndarray]:
        own, gathered = self._month
        order = np.argsort(np.concatenate([own, slots]), kind="stable")
        own = np.concatenate([own, slots])[order]
        rows_now = np.concatenate([rec.words(gathered), rec.words(records)])[order]
        gathered = rows_now.view(gathered.dtype).reshape(len(own))
        self._month = (own, gathered)
        return rec.fields(gathered), own

    def _month_rows(self) -> tuple[np.ndarray, People, People, np.ndarray]:
        own, gathered, theirs, differ = self._month
        return own, rec.fields(gathered), rec.fields(theirs), differ

    def _write_in(self) -> None:
        records, month = self.trunk.records, self.model.month
        own, gathered = self._month
        theirs = rec.take(records, own)
        differ = np.empty(len(own), dtype=np.bool_)
        rows_differ(rec.words(gathered), rec.words(theirs), differ)
        delta = self._zero_counts()
        tally_some(rec.fields(gathered), month, 1, delta)
        tally_some(rec.fields(theirs), month, -1, delta)
        put_rows(rec.words(records), own, rec.words(gathered), differ)
        self._delta = delta
        self._month = (own, gathered, theirs, differ)

    def _write_back(self) -> None:
        own, gathered, theirs, differ = self._month
        put_rows(rec.words(self.trunk.records), own, rec.words(theirs), differ)
        keep = np.flatnonzero(differ)
        self.diverged, self._values = own[keep], rec.take(gathered, keep)
        self._month = None

    def own_values(self) -> People:
        """The diverged people's own values (one row each, in the order of ``diverged``)."""
        return rec.fields(self._values)


def _swap(p: People, slots: np.ndarray, values: People, differ: np.ndarray) -> None:
    """Exchange the people arrays' values at ``slots`` with ``values`` where ``differ`` (field, person), in place.

    Elsewhere the two are equal, so after the exchange ``values`` holds the trunk's values of those people
    and the arrays theirs; exchanging again puts everything back.
    """
    for a, v, where in zip(p, values, differ, strict=True):
        swap_where(a, slots, v, where)
