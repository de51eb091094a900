"""Health: onset, worsening and recovery of long-term conditions.

Each month a person faces five competing health events, each ``base x hazard ratios``: onset of a
mental-health, musculoskeletal or other condition (by age; worklessness raises mental-health onset),
worsening by one severity level and recovery by one level (slower out of work and for multiple
conditions). A first condition starts mild; a new condition of another kind in someone who has one makes their
condition 'multiple' (severity then moves only by worsening and recovery); recovery from a mild
condition ends it.
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

_ONSET = codes.T["onset_mental_health"]  # the three onsets, then worsening, then recovery
_WORSEN = codes.T["health_worsening"]
_RECOVER = codes.T["health_recovery"]
#: The health process's transitions are ``HEALTH_FIRST .. HEALTH_END - 1`` of ``codes.TRANSITIONS``.
HEALTH_FIRST, HEALTH_END = _ONSET, _RECOVER + 1
assert (HEALTH_FIRST + 3, HEALTH_FIRST + 4) == (_WORSEN, _RECOVER)
_MILD, _COMPLEX, _MULTIPLE = codes.MILD, codes.COMPLEX, codes.MULTIPLE


@njit(cache=True, inline="always")
def _health_person(
    i,
    slot,
    state,
    condition,
    severity,
    age_months,
    sex,
    borough,
    skills,
    benefit,
    months_in_state,
    employer,
    health_event,
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
    """The health event this month of the person in row ``i`` and slot ``slot`` (the process for one person)."""
    a = level_a(i, state, severity, condition, age_months)
    u = draw(start, slot)
    mult_row = index[i] if intervening else -1
    touch = mult_row >= 0
    if u >= thinning_limit(bound[a], largest, touch):
        health_event[i] = -1  # no event possible: see upper_bounds()
        return
    b = level_b(i, sex, borough, skills)
    c = level_c(i, benefit, months_in_state, employer, emp_size, emp_oh)
    sev = severity[i]
    h_mh = hazard(_ONSET, a, b, c, tables)
    h_msk = hazard(_ONSET + 1, a, b, c, tables)
    h_oth = hazard(_ONSET + 2, a, b, c, tables)
    h_w = hazard(_WORSEN, a, b, c, tables) if _MILD <= sev < _COMPLEX else 0.0
    h_r = hazard(_RECOVER, a, b, c, tables) if sev >= _MILD else 0.0
    if touch:
        h_mh *= multiplier(mult, rows, _ONSET, mult_row)
        h_msk *= multiplier(mult, rows, _ONSET + 1, mult_row)
        h_oth *= multiplier(mult, rows, _ONSET + 2, mult_row)
        h_w *= multiplier(mult, rows, _WORSEN, mult_row)
        h_r *= multiplier(mult, rows, _RECOVER, mult_row)
    k = pick(u, (h_mh, h_msk, h_oth, h_w, h_r))
    if k < 0:
        health_event[i] = -1
        return
    health_event[i] = _ONSET + k
    if k < 3:
        kind = 1 + k
        if sev == 0:
            condition[i] = kind
            severity[i] = _MILD
        elif condition[i] != kind:
            condition[i] = _MULTIPLE
    elif k == 3:
        severity[i] = sev + 1
    else:
        severity[i] = sev - 1
        if sev == _MILD:
            condition[i] = 0


@njit(cache=True, parallel=True)
def _health(
    state,
    condition,
    severity,
    age_months,
    sex,
    borough,
    skills,
    benefit,
    months_in_state,
    employer,
    health_event,
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
        for i in prange(severity.shape[0]):
            _health_person(
                i,
                i,
                state,
                condition,
                severity,
                age_months,
                sex,
                borough,
                skills,
                benefit,
                months_in_state,
                employer,
                health_event,
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
            _health_person(
                row,
                slot,
                state,
                condition,
                severity,
                age_months,
                sex,
                borough,
                skills,
                benefit,
                months_in_state,
                employer,
                health_event,
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


def health_step(
    p, tables, multipliers, emp_size, emp_oh, key, month, slots: np.ndarray | None = None, compact: bool = False
) -> None:
    """Apply one month of health events in place; ``p.health_event`` records them.

    Args are those of :func:`gmsim.dynamics.labour.labour_step` (``key``: the ``health`` stream).
    """
    _health(
        p.state,
        p.condition,
        p.severity,
        p.age_months,
        p.sex,
        p.borough,
        p.skills,
        p.benefit,
        p.months_in_state,
        p.employer,
        p.health_event,
        emp_size,
        emp_oh,
        tables,
        health_bounds(tables),
        *kernel_multipliers(multipliers),
        key,
        month,
        *slot_list(slots, compact),
    )


def health_bounds(tables) -> np.ndarray:
    """:func:`~gmsim.dynamics.hazard.upper_bounds` of the five health events, for each level."""
    levels = tables[1].shape[0]
    return upper_bounds(tables, np.full(levels, _ONSET), np.full(levels, 5))
