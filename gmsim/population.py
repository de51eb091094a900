"""The population a run steps each month: its people and employer arrays, and whom each phase steps.

This is the seam between the model and how its months are computed. Each phase of ``GMModel.step`` asks
the run's population which people to step (:meth:`Population.phase`, and after their health
:meth:`Population.after_health`), how to count them (:meth:`Population.count`) and how hard the job
seekers search (:meth:`Population.job_search`); its interventions ask it what they need to know of
everyone this month: who left, who is eligible and who is referred (:meth:`Population.screen`), whom a
hazard multiplier could change (:meth:`Population.could_change`), and who works for which employer
(:meth:`Population.headcount`, :meth:`Population.staff`).

A run on its own has this class: every phase steps everyone, and every answer is worked out from the
arrays. Runs that share their work (:mod:`gmsim.shared`) give each run a population of their own, which
steps fewer people and answers from work done once for all of them. The model, the dynamics and the
interventions go through these methods only, and never need to know which population they have.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from . import codes
from .agents.employers import Employers
from .agents.people import People
from .dynamics.labour import SEARCH_SHAPE, job_search
from .dynamics.month import Counts, month_step
from .interventions import kernels

if TYPE_CHECKING:
    from .model import GMModel
    from .results import Results

#: The phases of a month, in order (``GMModel.step``; docs/model.md section 3).
PHASES = ("demography", "intervene", "health_and_work", "follow_up", "record")


class Population:
    """Everyone in a run's people and employer arrays; every phase steps them all.

    Args:
        people: The people arrays (used, not copied).
        employers: The employer arrays.

    Attributes:
        people: The people arrays every phase and intervention reads.
        employers: The employer arrays.
        model: The model this population belongs to (set by the model).
    """

    #: Whether a month of a run with no interventions may be stepped a block of people at a time
    #: (:meth:`month_in_blocks`).
    in_blocks = True

    def __init__(self, people: People, employers: Employers) -> None:
        self.people = people
        self.employers = employers
        self.model: GMModel | None = None
        self._staff: np.ndarray | None = None
        self._nobody_apart: tuple[np.ndarray, People] | None = None
        self._counted: tuple[int, np.ndarray] | None = None  # the month counted in blocks, and its search

    @property
    def n(self) -> int:
        """Number of person slots."""
        return self.people.n

    def attach(self, model: GMModel) -> None:
        """Belong to ``model`` (called once, when the model is built)."""
        self.model = model

    # ----- the phases ------------------------------------------------------------------------------
    @contextmanager
    def phase(self, name: str) -> Iterator[tuple[People, np.ndarray | None]]:
        """Bracket phase ``name`` (one of :data:`PHASES`) of this month; gives the people it steps.

        Yields:
            ``(people, slots)``: the arrays to step and each row's slot, or None when they hold everyone
            (row ``i`` is slot ``i``). Here, always everyone.
        """
        yield self.people, None

    def after_health(self, people: People, slots: np.ndarray | None) -> tuple[People, np.ndarray | None]:
        """The people the rest of the health-and-work phase steps, after their health: here, the same."""
        return people, slots

    def month_in_blocks(self, month: int) -> None:
        """Step ``month`` of a run with no interventions, a block of people at a time, and count it.

        Each block goes through demography, health, labour, benefits and employer ties in turn, as the
        phases step everyone (:mod:`gmsim.dynamics.month`), and is counted; :meth:`count` and
        :meth:`job_search` then give the month's counts.
        """
        model = self.model
        search = np.zeros(SEARCH_SHAPE, dtype=np.int64)
        counts = Counts(*model.results.month_counts(month), search)
        market = model.market.month(month)
        demand = float(model.market.economy.demand[month])
        employers = model.market.hiring(month, self.employers)
        month_step(self.people, employers, model.tables, model.newcomers, model.streams, month, market, counts, demand)
        self._counted = (month, search)

    def job_search(self) -> np.ndarray:
        """The job seekers' search at the end of the month, by borough and last sector (:func:`job_search`)."""
        model = self.model
        if self._counted is not None and self._counted[0] == model.month:
            return self._counted[1]
        return job_search(self.people, self.employers, model.tables, model.hazard_multipliers.for_kernels())

    def employed_by_sector(self) -> np.ndarray:
        """People with an employer (in work or off sick) by their employer's sector, at the end of the month."""
        return employed_by_sector(self.people.employer, self.employers.sector)

    def count(self, results: Results, month: int) -> None:
        """Tally the people as they are at the end of ``month`` into ``results``."""
        if self._counted is None or self._counted[0] != month:
            results.record(self.people, month)

    def month_values(self) -> tuple[People, np.ndarray, People]:
        """Everyone's values at the end of the month just run, as ``(people, apart, own)``.

        A person in slot ``i`` has the values of ``own`` row ``k`` if ``apart[k] == i`` (``apart`` ascending),
        else those of ``people`` row ``i``. Here nobody is apart.
        """
        if self._nobody_apart is None:
            nobody = np.zeros(0, dtype=np.int64)
            self._nobody_apart = (nobody, self.people.take(nobody))
        return (self.people, *self._nobody_apart)

    # ----- what interventions read of everyone, this month ----------------------------------------------
    def leavers(self) -> np.ndarray:
        """Slots whose person left the population this month (turned 65 or died), ascending."""
        return kernels.nonzero(self.people.exit_event)

    def screen(self, intervention: Any, funded: bool) -> Any:
        """``intervention``'s screen of everyone this month: who is eligible and, if ``funded``, who is referred."""
        return intervention.screen_of(self.people, funded)

    def could_change(self, slots: np.ndarray) -> np.ndarray:
        """Those of ``slots`` (ascending) whose month a hazard multiplier could change: here, all of them.

        A population may leave out people who can have no health or labour event this month whatever their
        multipliers (docs/model.md section 7.1); nobody's month then depends on whether they get them.
        """
        return slots

    def headcount(self) -> np.ndarray:
        """Number of people tied to each employer (int64)."""
        return kernels.headcount(self.people.employer, self.employers.n)

    def staff(
        self,
        emp_status: np.ndarray,
        events: np.ndarray,
        by_status: np.ndarray,
        by_event: np.ndarray,
        first: int,
        second: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Staff counts by their employer's status and events, and the staff of employers in two statuses.

        Args:
            emp_status: Each employer's status (int8).
            events: Each employer's events this month, one bit each (uint8).
            by_status: int64 (status, borough); each employed person is added by their employer's status.
            by_event: int64 (event bit, borough); each employed person is added for each of their employer's events.
            first: A status whose employers' staff are listed.
            second: Another.

        Returns:
            Slots of the staff of employers in ``first``, and in ``second``, ascending. A population may list
            only those of them whose month a hazard multiplier could change (:meth:`could_change`).
        """
        if self._staff is None:
            self._staff = np.full(self.n, -1, dtype=np.int8)
        p = self.people
        return kernels.staff_pass(
            p.employer, emp_status, events, p.borough, self._staff, by_status, by_event, first, second
        )


def employed_by_sector(employer: np.ndarray, sector: np.ndarray) -> np.ndarray:
    """How many of ``employer`` (each person's employer, -1 for none) work in each of ``codes.SECTORS``.

    Counted by employer in one compiled pass, then by the employers' sectors (exact: counts are far below
    2^53).
    """
    staff = kernels.headcount(employer, len(sector))
    return np.bincount(sector, weights=staff, minlength=len(codes.SECTORS)).astype(np.int64)
