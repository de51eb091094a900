"""Benefits: claims start with a spell out of work and follow the claimant's health.

On entering out of work a person claims the benefit their health qualifies them for
(``codes.BENEFIT_FOR_SEVERITY``: jobseeker for none or mild, limited capability for moderate, support
group for complex). While out of work, a reassessment (hazard ``benefits.reassessment_rate``) moves them
to the benefit their current health qualifies them for. Leaving out of work ends the claim. A move onto
a health-related benefit starts a new health-related claim (``health_claim_start``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import codes
from ..streams import counter_start, draw

_FOR_SEVERITY = np.array(codes.BENEFIT_FOR_SEVERITY, dtype=np.int8)
_OOW, _LC = codes.OUT_OF_WORK, codes.LIMITED_CAPABILITY
_FROM_WORK = (codes.T["in_work_to_out_of_work"], codes.T["at_risk_to_out_of_work"])
_MAX_MONTHS = np.iinfo(np.int16).max


@njit(cache=True)
def _benefits_person(i, slot, p, start, p_reassess, month):
    """The claim this month of the person in row ``i`` of ``p``, with slot ``slot``'s number."""
    ev = p.labour_event[i]
    if p.state[i] != _OOW:
        p.benefit[i] = 0
        p.months_on_benefit[i] = 0
        return
    old = p.benefit[i]
    entered = ev >= 0
    if entered or draw(start, slot) < p_reassess:
        p.benefit[i] = _FOR_SEVERITY[p.severity[i]]
    if entered:
        p.months_on_benefit[i] = 0
    elif p.months_on_benefit[i] < _MAX_MONTHS:
        p.months_on_benefit[i] += 1
    if p.benefit[i] >= _LC and (entered or old < _LC):
        p.health_claim_start[i] = month
        p.claim_from_work[i] = 1 if (ev == _FROM_WORK[0] or ev == _FROM_WORK[1]) else 0


@njit(cache=True, parallel=True)
def _benefits_everyone(p, reassessment_rate, key, month):
    start = counter_start(key, month, 0)
    p_reassess = 1.0 - np.exp(-reassessment_rate)
    for i in prange(p.state.shape[0]):
        _benefits_person(i, i, p, start, p_reassess, month)


@njit(cache=True)
def _benefits_some(p, reassessment_rate, key, month, slots):
    start = counter_start(key, month, 0)
    p_reassess = 1.0 - np.exp(-reassessment_rate)
    for k in range(slots.shape[0]):
        _benefits_person(k, slots[k], p, start, p_reassess, month)


def benefits_step(p, reassessment_rate: float, key, month: int, slots: np.ndarray | None = None) -> None:
    """Start, update and end claims in place, after this month's labour moves.

    ``p`` holds everyone, or with ``slots`` just the people of those slots (row ``k`` is slot ``slots[k]``;
    see :func:`~gmsim.dynamics.labour.labour_step`).
    """
    if slots is None:
        _benefits_everyone(p, reassessment_rate, key, month)
    else:
        _benefits_some(p, reassessment_rate, key, month, np.ascontiguousarray(slots, np.int64))
