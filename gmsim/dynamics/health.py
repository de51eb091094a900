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

_ONSET = codes.T["onset_mental_health"]  # the three onsets, then worsening, then recovery
_WORSEN = codes.T["health_worsening"]
_RECOVER = codes.T["health_recovery"]
#: The health process's transitions are ``HEALTH_FIRST .. HEALTH_END - 1`` of ``codes.TRANSITIONS``.
HEALTH_FIRST, HEALTH_END = _ONSET, _RECOVER + 1
assert (HEALTH_FIRST + 3, HEALTH_FIRST + 4) == (_WORSEN, _RECOVER)
_MILD, _COMPLEX, _MULTIPLE = codes.MILD, codes.COMPLEX, codes.MULTIPLE


@njit(cache=True)
def health_rows(p, employers, tables, bound, mult, key, month, lo, hi, slots):
    """The health events this month of rows ``lo .. hi - 1`` of ``p`` (row ``k``'s slot is ``slots[k]``, or ``k``)."""
    # The rows' own views, read from 0 (a loop from 0 over views compiles to faster code than over lo..hi).
    state, severity, condition = p.state[lo:hi], p.severity[lo:hi], p.condition[lo:hi]
    age, health_event, sex, borough = p.age_months[lo:hi], p.health_event[lo:hi], p.sex[lo:hi], p.borough[lo:hi]
    skills, benefit, months, employer = p.skills[lo:hi], p.benefit[lo:hi], p.months_in_state[lo:hi], p.employer[lo:hi]
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
        if u >= thinning_limit(bound[a], mult.largest, touch):
            health_event[i] = -1  # no event possible: see upper_bounds()
            continue
        b = level_b(sex[i], borough[i], skills[i])
        c = level_c(benefit[i], months[i], employer[i], size_band, oh)
        sev = severity[i]
        h_mh = hazard(_ONSET, a, b, c, tables)
        h_msk = hazard(_ONSET + 1, a, b, c, tables)
        h_oth = hazard(_ONSET + 2, a, b, c, tables)
        h_w = hazard(_WORSEN, a, b, c, tables) if _MILD <= sev < _COMPLEX else 0.0
        h_r = hazard(_RECOVER, a, b, c, tables) if sev >= _MILD else 0.0
        if touch:
            h_mh *= multiplier(mult.values, mult.columns, _ONSET, mult_row)
            h_msk *= multiplier(mult.values, mult.columns, _ONSET + 1, mult_row)
            h_oth *= multiplier(mult.values, mult.columns, _ONSET + 2, mult_row)
            h_w *= multiplier(mult.values, mult.columns, _WORSEN, mult_row)
            h_r *= multiplier(mult.values, mult.columns, _RECOVER, mult_row)
        k = pick(u, (h_mh, h_msk, h_oth, h_w, h_r))
        if k < 0:
            health_event[i] = -1
            continue
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
def _health_everyone(p, employers, tables, bound, mult, key, month, chunks):
    for c in prange(chunks):
        lo, hi = chunk_of(p.severity.shape[0], chunks, c)
        health_rows(p, employers, tables, bound, mult, key, month, lo, hi, _NOBODY)


def health_step(
    p, employers, tables, multipliers: Multipliers, key, month: int, slots: np.ndarray | None = None
) -> None:
    """Apply one month of health events in place; ``p.health_event`` records them.

    Args are those of :func:`gmsim.dynamics.labour.labour_step` (``key``: the ``health`` stream).
    """
    if slots is None:
        _health_everyone(p, employers, tables.kernel, tables.health_bound, multipliers, key, month, chunk_count())
    else:
        slots = np.ascontiguousarray(slots, np.int64)
        health_rows(p, employers, tables.kernel, tables.health_bound, multipliers, key, month, 0, len(slots), slots)


def health_bounds(tables) -> np.ndarray:
    """:func:`~gmsim.dynamics.hazard.upper_bounds` of the five health events, for each level."""
    levels = tables[1].shape[0]
    return upper_bounds(tables, np.full(levels, _ONSET), np.full(levels, 5))
