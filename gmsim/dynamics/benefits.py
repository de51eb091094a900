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
from .hazard import COMPACT, EVERYONE, slot_list

_FOR_SEVERITY = np.array(codes.BENEFIT_FOR_SEVERITY, dtype=np.int8)
_OOW, _LC = codes.OUT_OF_WORK, codes.LIMITED_CAPABILITY
_FROM_WORK = (codes.T["in_work_to_out_of_work"], codes.T["at_risk_to_out_of_work"])
_MAX_MONTHS = np.iinfo(np.int16).max


@njit(cache=True, inline="always")
def _benefits_person(
    i,
    slot,
    state,
    severity,
    labour_event,
    benefit,
    months_on_benefit,
    health_claim_start,
    claim_from_work,
    reassessment_rate,
    start,
    p_reassess,
    month,
):
    """The claim this month of the person in row ``i`` and slot ``slot`` (the process for one person)."""
    ev = labour_event[i]
    if state[i] != _OOW:
        benefit[i] = 0
        months_on_benefit[i] = 0
        return
    old = benefit[i]
    entered = ev >= 0
    if entered or draw(start, slot) < p_reassess:
        benefit[i] = _FOR_SEVERITY[severity[i]]
    if entered:
        months_on_benefit[i] = 0
    elif months_on_benefit[i] < _MAX_MONTHS:
        months_on_benefit[i] += 1
    if benefit[i] >= _LC and (entered or old < _LC):
        health_claim_start[i] = month
        claim_from_work[i] = 1 if (ev == _FROM_WORK[0] or ev == _FROM_WORK[1]) else 0


@njit(cache=True, parallel=True)
def _benefits(
    state,
    severity,
    labour_event,
    benefit,
    months_on_benefit,
    health_claim_start,
    claim_from_work,
    reassessment_rate,
    key,
    month,
    slots,
    mode,
):
    start = counter_start(key, month, 0)
    p_reassess = 1.0 - np.exp(-reassessment_rate)
    if mode == EVERYONE:
        for i in prange(state.shape[0]):
            _benefits_person(
                i,
                i,
                state,
                severity,
                labour_event,
                benefit,
                months_on_benefit,
                health_claim_start,
                claim_from_work,
                reassessment_rate,
                start,
                p_reassess,
                month,
            )
    else:  # given slots: the arrays' rows are those slots, or (compact) hold just their people in order
        compact = mode == COMPACT
        for k in range(slots.shape[0]):
            slot = slots[k]
            row = k if compact else slot
            _benefits_person(
                row,
                slot,
                state,
                severity,
                labour_event,
                benefit,
                months_on_benefit,
                health_claim_start,
                claim_from_work,
                reassessment_rate,
                start,
                p_reassess,
                month,
            )


def benefits_step(
    p, reassessment_rate: float, key, month: int, slots: np.ndarray | None = None, compact: bool = False
) -> None:
    """Start, update and end claims in place, after this month's labour moves (of ``slots`` only, if given).

    With ``compact``, ``p`` holds just the people of ``slots`` (see :func:`~gmsim.dynamics.hazard.slot_list`).
    """
    _benefits(
        p.state,
        p.severity,
        p.labour_event,
        p.benefit,
        p.months_on_benefit,
        p.health_claim_start,
        p.claim_from_work,
        reassessment_rate,
        key,
        month,
        *slot_list(slots, compact),
    )
