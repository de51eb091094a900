"""Labour: monthly moves between in work, at risk, out of work and inactive.

From each state a person faces the hazards of the transitions out of it (``codes.LABOUR_FROM``), each
``base x hazard ratios`` (see :mod:`gmsim.dynamics.hazard`): health and severity, age, time in the state
(duration dependence; for at_risk, the end of statutory sick pay after 28 weeks), benefit, skills,
borough and the employer's size and occupational health. Job entry (from out of work or inactivity) is
also multiplied by the person's *job readiness* (``People.job_readiness``, :mod:`gmsim.dynamics.readiness`),
a fixed, unobserved term with mean 1, so that people who are
more job-ready leave worklessness sooner and those left behind are, on average, less job-ready (dynamic
selection). One uniform number from the ``labour`` stream decides whether and where the person moves
(competing risks). Time in state restarts on a move.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import codes
from ..streams import counter_start, draw
from .hazard import (
    Multipliers,
    chunk_count,
    chunk_of,
    hazard,
    level_a,
    level_b,
    level_c,
    multiplier,
    pick,
    thinning_limit,
    upper_bounds,
)

_NOBODY = np.zeros(0, dtype=np.int64)

# Transitions out of each state are contiguous in codes.TRANSITIONS: first index per state, then end.
_FIRST = np.array([0, 3, 6, 8, 10], dtype=np.int64)
#: The moves out of state ``s`` are transitions ``LABOUR_FIRST[s] .. LABOUR_FIRST[s + 1] - 1``.
LABOUR_FIRST = _FIRST
_TO = np.array(codes.LABOUR_TO, dtype=np.int8)
_MAX_MONTHS = np.iinfo(np.int16).max
_LAST = codes.N_LABOUR - 1
_OOW, _INACTIVE = codes.OUT_OF_WORK, codes.INACTIVE
#: The job-entry transitions (the first move out of out_of_work and of inactive_other).
_ENTRY = np.array([codes.T["out_of_work_to_in_work"], codes.T["inactive_to_in_work"]])


@njit(cache=True)
def _labour_rows(p, employers, tables, bound, mult, key, month, lo, hi, slots):
    """The labour moves this month of rows ``lo .. hi - 1`` of ``p`` (row ``k``'s slot is ``slots[k]``, or ``k``)."""
    # The rows' own views, read from 0 (a loop from 0 over views compiles to faster code than over lo..hi).
    state, severity, condition = p.state[lo:hi], p.severity[lo:hi], p.condition[lo:hi]
    age, labour_event, sex, borough = p.age_months[lo:hi], p.labour_event[lo:hi], p.sex[lo:hi], p.borough[lo:hi]
    skills, benefit, months_in_state = p.skills[lo:hi], p.benefit[lo:hi], p.months_in_state[lo:hi]
    employer, ready = p.employer[lo:hi], p.job_readiness[lo:hi]
    size_band, oh = employers.size_band, employers.occupational_health
    start = counter_start(key, month, 0)
    some = slots.shape[0] > 0
    intervening = mult.row.shape[0] > 0
    mult_rows = mult.row[lo:hi]
    for i in range(hi - lo):
        slot = slots[i] if some else lo + i
        a = level_a(state[i], severity[i], condition[i], age[i])
        u = draw(start, slot)
        mult_row = mult_rows[i] if intervening else -1
        touch = mult_row >= 0
        if u >= thinning_limit(bound[0, a] + bound[1, a] * ready[i], mult.largest, touch):
            labour_event[i] = -1  # no move possible: see upper_bounds()
            if months_in_state[i] < _MAX_MONTHS:
                months_in_state[i] += 1
            continue
        s = state[i]
        first = _FIRST[s]
        b = level_b(sex[i], borough[i], skills[i])
        c = level_c(benefit[i], months_in_state[i], employer[i], size_band, oh)
        h0 = hazard(first, a, b, c, tables)
        h1 = hazard(first + 1, a, b, c, tables)
        h2 = hazard(first + 2, a, b, c, tables) if _FIRST[s + 1] - first == 3 else 0.0
        if s == _OOW or s == _INACTIVE:
            h0 *= ready[i]  # job entry is the first move out of both
        if touch:
            h0 *= multiplier(mult.values, mult.columns, first, mult_row)
            h1 *= multiplier(mult.values, mult.columns, first + 1, mult_row)
            h2 *= multiplier(mult.values, mult.columns, min(first + 2, _LAST), mult_row)
        k = pick(u, (h0, h1, h2))
        if k < 0:
            labour_event[i] = -1
            if months_in_state[i] < _MAX_MONTHS:
                months_in_state[i] += 1
        else:
            t = first + k
            labour_event[i] = t
            state[i] = _TO[t]
            months_in_state[i] = 0


@njit(cache=True, parallel=True)
def _labour_everyone(p, employers, tables, bound, mult, key, month, chunks):
    for c in prange(chunks):
        lo, hi = chunk_of(p.state.shape[0], chunks, c)
        _labour_rows(p, employers, tables, bound, mult, key, month, lo, hi, _NOBODY)


def labour_step(
    p, employers, tables, multipliers: Multipliers, key, month: int, slots: np.ndarray | None = None
) -> None:
    """Apply one month of labour transitions in place; ``p.labour_event`` records who moved where.

    Args:
        p: People arrays (:class:`~gmsim.agents.people.People`): everyone, or just the people of ``slots``.
        employers: Employer arrays (:class:`~gmsim.agents.employers.Employers`): size band and occupational
            health enter the hazards.
        tables: The run's :class:`~gmsim.parameters.HazardTables` (hazard tables and thinning bounds).
        multipliers: The interventions' hazard multipliers, a row index for each row of ``p``
            (:class:`~gmsim.dynamics.hazard.Multipliers`).
        key: Key of the ``labour`` stream.
        month: Current month.
        slots: None when ``p`` holds everyone (row ``i`` is slot ``i``); else the slot of each row of ``p``,
            whose random numbers that row draws.
    """
    if slots is None:
        bound = tables.labour_split_bound
        _labour_everyone(p, employers, tables.kernel, bound, multipliers, key, month, chunk_count())
    else:
        slots = np.ascontiguousarray(slots, np.int64)
        bound = tables.labour_split_bound
        _labour_rows(p, employers, tables.kernel, bound, multipliers, key, month, 0, len(slots), slots)


def labour_bounds(tables, largest_readiness: float = 1.0) -> np.ndarray:
    """:func:`~gmsim.dynamics.hazard.upper_bounds` of the moves out of each level's labour state.

    Job entry is bounded at ``largest_readiness`` times its hazard (the most job-ready anyone can be).
    """
    base, *groups = tables
    base = base.copy()
    base[_ENTRY] *= largest_readiness
    return upper_bounds((base, *groups), *_moves_of_levels(groups[0].shape[0]))


def _moves_of_levels(levels: int) -> tuple[np.ndarray, np.ndarray]:
    """For each level of the first hazard group: its state's first labour move and how many it has."""
    state = np.arange(levels) // (levels // len(codes.STATES))
    return _FIRST[state], _FIRST[state + 1] - _FIRST[state]


def split_labour_bounds(tables) -> np.ndarray:
    """The labour bound of each level in two rows: the moves other than job entry, and job entry.

    A person with job readiness ``z`` can have no move this month when their number is at or above
    ``bound[0, a] + bound[1, a] x z`` (times the month's largest multiplier if they have one): a tighter
    test than :func:`labour_bounds` with the largest readiness, for the great majority who are not the
    most job-ready.
    """
    base, *groups = tables
    without, only = base.copy(), np.zeros_like(base)
    without[_ENTRY] = 0.0
    only[_ENTRY] = base[_ENTRY]
    first, count = _moves_of_levels(groups[0].shape[0])
    return np.ascontiguousarray(
        np.stack([upper_bounds((without, *groups), first, count), upper_bounds((only, *groups), first, count)])
    )
