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
from .hazard import chunk_count, chunk_of

_FOR_SEVERITY = np.array(codes.BENEFIT_FOR_SEVERITY, dtype=np.int8)
_OOW, _LC = codes.OUT_OF_WORK, codes.LIMITED_CAPABILITY
_FROM_WORK = (codes.T["in_work_to_out_of_work"], codes.T["at_risk_to_out_of_work"])
_MAX_MONTHS = np.iinfo(np.int16).max
_NOBODY = np.zeros(0, dtype=np.int64)


@njit(cache=True)
def _benefits_rows(p, key, p_reassess, month, lo, hi, slots):
    """The claims this month of rows ``lo .. hi - 1`` of ``p`` (row ``k``'s slot is ``slots[k]``, or ``k``)."""
    state, severity, labour_event = p.state[lo:hi], p.severity[lo:hi], p.labour_event[lo:hi]
    benefit, months_on_benefit = p.benefit[lo:hi], p.months_on_benefit[lo:hi]
    claim_start, from_work = p.health_claim_start[lo:hi], p.claim_from_work[lo:hi]
    start = counter_start(key, month, 0)
    some = slots.shape[0] > 0
    for i in range(hi - lo):
        slot = slots[i] if some else lo + i
        ev = labour_event[i]
        if state[i] != _OOW:
            benefit[i] = 0
            months_on_benefit[i] = 0
            continue
        old = benefit[i]
        entered = ev >= 0
        if entered or draw(start, slot) < p_reassess:
            benefit[i] = _FOR_SEVERITY[severity[i]]
        if entered:
            months_on_benefit[i] = 0
        elif months_on_benefit[i] < _MAX_MONTHS:
            months_on_benefit[i] += 1
        if benefit[i] >= _LC and (entered or old < _LC):
            claim_start[i] = month
            from_work[i] = 1 if (ev == _FROM_WORK[0] or ev == _FROM_WORK[1]) else 0


@njit(cache=True, parallel=True)
def _benefits_everyone(p, key, p_reassess, month, chunks):
    for c in prange(chunks):
        lo, hi = chunk_of(p.state.shape[0], chunks, c)
        _benefits_rows(p, key, p_reassess, month, lo, hi, _NOBODY)


def benefits_step(p, reassessment_rate: float, key, month: int, slots: np.ndarray | None = None) -> None:
    """Start, update and end claims in place, after this month's labour moves.

    ``p`` holds everyone, or with ``slots`` just the people of those slots (row ``k`` is slot ``slots[k]``;
    see :func:`~gmsim.dynamics.labour.labour_step`).
    """
    p_reassess = 1.0 - np.exp(-reassessment_rate)
    if slots is None:
        _benefits_everyone(p, key, p_reassess, month, chunk_count())
    else:
        slots = np.ascontiguousarray(slots, np.int64)
        _benefits_rows(p, key, p_reassess, month, 0, len(slots), slots)
