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
    Multipliers,
    hazard,
    level_a,
    level_b,
    level_c,
    multiplier,
    pick,
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


@njit(cache=True)
def _health_person(i, slot, p, employers, tables, bound, mult, start):
    """The health event this month of the person in row ``i`` of ``p``, with slot ``slot``'s number."""
    a = level_a(p, i)
    u = draw(start, slot)
    mult_row = mult.row[i] if mult.row.shape[0] > 0 else -1
    touch = mult_row >= 0
    if u >= thinning_limit(bound[a], mult.largest, touch):
        p.health_event[i] = -1  # no event possible: see upper_bounds()
        return
    b = level_b(p, i)
    c = level_c(p, employers, i)
    sev = p.severity[i]
    h_mh = hazard(_ONSET, a, b, c, tables)
    h_msk = hazard(_ONSET + 1, a, b, c, tables)
    h_oth = hazard(_ONSET + 2, a, b, c, tables)
    h_w = hazard(_WORSEN, a, b, c, tables) if _MILD <= sev < _COMPLEX else 0.0
    h_r = hazard(_RECOVER, a, b, c, tables) if sev >= _MILD else 0.0
    if touch:
        h_mh *= multiplier(mult, _ONSET, mult_row)
        h_msk *= multiplier(mult, _ONSET + 1, mult_row)
        h_oth *= multiplier(mult, _ONSET + 2, mult_row)
        h_w *= multiplier(mult, _WORSEN, mult_row)
        h_r *= multiplier(mult, _RECOVER, mult_row)
    k = pick(u, (h_mh, h_msk, h_oth, h_w, h_r))
    if k < 0:
        p.health_event[i] = -1
        return
    p.health_event[i] = _ONSET + k
    if k < 3:
        kind = 1 + k
        if sev == 0:
            p.condition[i] = kind
            p.severity[i] = _MILD
        elif p.condition[i] != kind:
            p.condition[i] = _MULTIPLE
    elif k == 3:
        p.severity[i] = sev + 1
    else:
        p.severity[i] = sev - 1
        if sev == _MILD:
            p.condition[i] = 0


@njit(cache=True, parallel=True)
def _health_everyone(p, employers, tables, bound, mult, key, month):
    start = counter_start(key, month, 0)
    for i in prange(p.severity.shape[0]):
        _health_person(i, i, p, employers, tables, bound, mult, start)


@njit(cache=True)
def _health_some(p, employers, tables, bound, mult, key, month, slots):
    start = counter_start(key, month, 0)
    for k in range(slots.shape[0]):
        _health_person(k, slots[k], p, employers, tables, bound, mult, start)


def health_step(
    p, employers, tables, multipliers: Multipliers, key, month: int, slots: np.ndarray | None = None
) -> None:
    """Apply one month of health events in place; ``p.health_event`` records them.

    Args are those of :func:`gmsim.dynamics.labour.labour_step` (``key``: the ``health`` stream).
    """
    bound = health_bounds(tables)
    if slots is None:
        _health_everyone(p, employers, tables, bound, multipliers, key, month)
    else:
        _health_some(p, employers, tables, bound, multipliers, key, month, np.ascontiguousarray(slots, np.int64))


def health_bounds(tables) -> np.ndarray:
    """:func:`~gmsim.dynamics.hazard.upper_bounds` of the five health events, for each level."""
    levels = tables[1].shape[0]
    return upper_bounds(tables, np.full(levels, _ONSET), np.full(levels, 5))
