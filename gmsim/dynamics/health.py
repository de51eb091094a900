"""Health: onset, worsening and recovery of long-term conditions.

Each month a person faces five competing health events, each ``base x hazard ratios``: onset of a
mental-health, musculoskeletal or other condition (by age; worklessness raises mental-health onset),
worsening by one severity level and recovery by one level (slower out of work and for multiple
conditions). A first condition starts mild; a new condition of another kind in someone who has one makes their
condition 'multiple' (severity then moves only by worsening and recovery); recovery from a mild
condition ends it.
"""

from __future__ import annotations

from numba import njit, prange

from .. import codes
from ..streams import counter_start, draw
from .hazard import group_a, hazard, kernel_multipliers, multiplier, pick

_ONSET = codes.T["onset_mental_health"]  # the three onsets, then worsening, then recovery
_WORSEN = codes.T["health_worsening"]
_RECOVER = codes.T["health_recovery"]
_MILD, _COMPLEX, _MULTIPLE = codes.MILD, codes.COMPLEX, codes.MULTIPLE
_N_AGE = len(codes.AGE_BANDS)


@njit(cache=True, parallel=True)
def _health(state, condition, severity, health_event, ga, gb, gc, tables, mult, rows, touched, key, month):
    start = counter_start(key, month, 0)
    intervening = mult.shape[1] > 0
    for i in prange(severity.shape[0]):
        a, b, c = ga[i], gb[i], gc[i]
        sev = severity[i]
        h_mh = hazard(_ONSET, a, b, c, tables)
        h_msk = hazard(_ONSET + 1, a, b, c, tables)
        h_oth = hazard(_ONSET + 2, a, b, c, tables)
        h_w = hazard(_WORSEN, a, b, c, tables) if _MILD <= sev < _COMPLEX else 0.0
        h_r = hazard(_RECOVER, a, b, c, tables) if sev >= _MILD else 0.0
        if intervening and touched[i] != 0:
            h_mh *= multiplier(mult, rows, _ONSET, i)
            h_msk *= multiplier(mult, rows, _ONSET + 1, i)
            h_oth *= multiplier(mult, rows, _ONSET + 2, i)
            h_w *= multiplier(mult, rows, _WORSEN, i)
            h_r *= multiplier(mult, rows, _RECOVER, i)
        k = pick(draw(start, i), (h_mh, h_msk, h_oth, h_w, h_r))
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
        ga[i] = group_a(state[i], severity[i], condition[i], a % _N_AGE)


def health_step(p, tables, multipliers, ga, gb, gc, key, month) -> None:
    """Apply one month of health events in place; ``p.health_event`` records them.

    Args are those of :func:`gmsim.dynamics.labour.labour_step` (``key``: the ``health`` stream); the
    first hazard group level ``ga`` of people whose health changed is updated.
    """
    _health(p.state, p.condition, p.severity, p.health_event, ga, gb, gc, tables, *kernel_multipliers(multipliers),
            key, month)
