"""Labour: monthly moves between in work, at risk, out of work and inactive.

From each state a person faces the hazards of the transitions out of it (``codes.LABOUR_FROM``), each
``base x hazard ratios`` (see :mod:`gmsim.dynamics.hazard`): health and severity, age, time in the state
(duration dependence; for at_risk, the end of statutory sick pay after 28 weeks), benefit, skills,
borough and the employer's size and occupational health. One uniform number from the ``labour`` stream
decides whether and where the person moves (competing risks). Time in state restarts on a move.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import codes
from ..streams import counter_start, draw
from .hazard import (
    COMPACT,
    EVERYONE,
    hazard,
    kernel_multipliers,
    level_a,
    level_b,
    level_c,
    multiplier,
    pick,
    slot_list,
    thinning_limit,
    upper_bounds,
)

# Transitions out of each state are contiguous in codes.TRANSITIONS: first index per state, then end.
_FIRST = np.array([0, 3, 6, 8, 10], dtype=np.int64)
#: The moves out of state ``s`` are transitions ``LABOUR_FIRST[s] .. LABOUR_FIRST[s + 1] - 1``.
LABOUR_FIRST = _FIRST
_TO = np.array(codes.LABOUR_TO, dtype=np.int8)
_MAX_MONTHS = np.iinfo(np.int16).max
_LAST = codes.N_LABOUR - 1


@njit(cache=True, inline="always")
def _labour_person(
    i,
    slot,
    state,
    months_in_state,
    labour_event,
    severity,
    condition,
    age_months,
    sex,
    borough,
    skills,
    benefit,
    employer,
    emp_size,
    emp_oh,
    tables,
    bound,
    mult,
    rows,
    index,
    largest,
    start,
    intervening,
):
    """The labour move this month of the person in row ``i`` and slot ``slot`` (the process for one person)."""
    a = level_a(i, state, severity, condition, age_months)
    u = draw(start, slot)
    mult_row = index[i] if intervening else -1
    touch = mult_row >= 0
    if u >= thinning_limit(bound[a], largest, touch):
        labour_event[i] = -1  # no move possible: see upper_bounds()
        if months_in_state[i] < _MAX_MONTHS:
            months_in_state[i] += 1
        return
    s = state[i]
    first = _FIRST[s]
    b = level_b(i, sex, borough, skills)
    c = level_c(i, benefit, months_in_state, employer, emp_size, emp_oh)
    h0 = hazard(first, a, b, c, tables)
    h1 = hazard(first + 1, a, b, c, tables)
    h2 = hazard(first + 2, a, b, c, tables) if _FIRST[s + 1] - first == 3 else 0.0
    if touch:
        h0 *= multiplier(mult, rows, first, mult_row)
        h1 *= multiplier(mult, rows, first + 1, mult_row)
        h2 *= multiplier(mult, rows, min(first + 2, _LAST), mult_row)
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
def _labour(
    state,
    months_in_state,
    labour_event,
    severity,
    condition,
    age_months,
    sex,
    borough,
    skills,
    benefit,
    employer,
    emp_size,
    emp_oh,
    tables,
    bound,
    mult,
    rows,
    index,
    largest,
    key,
    month,
    slots,
    mode,
):
    start = counter_start(key, month, 0)
    intervening = index.shape[0] > 0
    if mode == EVERYONE:
        for i in prange(state.shape[0]):
            _labour_person(
                i,
                i,
                state,
                months_in_state,
                labour_event,
                severity,
                condition,
                age_months,
                sex,
                borough,
                skills,
                benefit,
                employer,
                emp_size,
                emp_oh,
                tables,
                bound,
                mult,
                rows,
                index,
                largest,
                start,
                intervening,
            )
    else:  # given slots: the arrays' rows are those slots, or (compact) hold just their people in order
        compact = mode == COMPACT
        for k in range(slots.shape[0]):
            slot = slots[k]
            row = k if compact else slot
            _labour_person(
                row,
                slot,
                state,
                months_in_state,
                labour_event,
                severity,
                condition,
                age_months,
                sex,
                borough,
                skills,
                benefit,
                employer,
                emp_size,
                emp_oh,
                tables,
                bound,
                mult,
                rows,
                index,
                largest,
                start,
                intervening,
            )


def labour_step(
    p, tables, multipliers, emp_size, emp_oh, key, month, slots: np.ndarray | None = None, compact: bool = False
) -> None:
    """Apply one month of labour transitions in place; ``p.labour_event`` records who moved where.

    Args:
        p: People arrays.
        tables: ``HazardTables.kernel``.
        multipliers: ``(values, rows, index, largest)``: interventions' hazard multipliers, as
            :func:`~gmsim.dynamics.hazard.kernel_multipliers` gives them (rows of multipliers, one column per
            claimed transition; each transition's column or -1; each person's row or -1, indexed like ``p``,
            so by slot unless ``compact``; a number at least as large as every multiplier and 1);
            ``(values, rows)`` with one row per slot also works.
        emp_size: Each employer's size band (``Employers.size_band``).
        emp_oh: Each employer's occupational-health access (``Employers.occupational_health``).
        key: Key of the ``labour`` stream.
        month: Current month.
        slots: Only these people (default: everyone).
        compact: ``p`` holds just the people of ``slots``, in that order (see
            :func:`~gmsim.dynamics.hazard.slot_list`).
    """
    _labour(
        p.state,
        p.months_in_state,
        p.labour_event,
        p.severity,
        p.condition,
        p.age_months,
        p.sex,
        p.borough,
        p.skills,
        p.benefit,
        p.employer,
        emp_size,
        emp_oh,
        tables,
        labour_bounds(tables),
        *kernel_multipliers(multipliers),
        key,
        month,
        *slot_list(slots, compact),
    )


def labour_bounds(tables) -> np.ndarray:
    """:func:`~gmsim.dynamics.hazard.upper_bounds` of the moves out of each level's labour state."""
    levels = tables[1].shape[0]
    state = np.arange(levels) // (levels // len(codes.STATES))
    return upper_bounds(tables, _FIRST[state], _FIRST[state + 1] - _FIRST[state])
