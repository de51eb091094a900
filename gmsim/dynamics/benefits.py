"""Benefits: who claims what while not working, whether looking for work or economically inactive.

A person not working whose health qualifies them for a health-related benefit (``codes.BENEFIT_FOR_SEVERITY``:
limited capability for a moderate condition, support group for a complex one) claims it if they are a
claimant by disposition: each person carries a fixed propensity (a uniform number drawn once from their
person id), and claims when it is below ``benefits.health_claim_take_up``. Otherwise, and for a condition
that is none or mild, a person looking for work (state ``out_of_work``) claims a jobseeker's benefit and an
economically inactive one claims nothing. A health-related claim carries over between looking for work and
inactivity; going back to work ends every claim.

Someone who leaves sickness absence (``at_risk``) with a mild condition is treated as qualifying for limited
capability pending the Work Capability Assessment. A claimant whose health does not qualify them for their
health-related benefit is assessed at ``benefits.first_assessment_rate`` (about four months on average),
everyone else at ``benefits.reassessment_rate``; an assessment gives the benefit their health and
disposition lead to in their state. An inactive person who does not claim starts a claim in the month their
condition becomes work-limiting.

A move onto a health-related benefit from none or a jobseeker's one starts a health-related claim
(``health_claim_start``, and ``claim_from_work`` if the person left work this month); ``months_on_benefit``
counts months since the person's current claim began (a jobseeker's claim moved onto a health-related
benefit at an assessment continues; a jobseeker's claim ends on becoming inactive).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import codes
from ..streams import counter_start, draw
from .hazard import chunk_count, chunk_of

_FOR_SEVERITY = np.array(codes.BENEFIT_FOR_SEVERITY, dtype=np.int8)
_OOW, _INACTIVE, _AT_RISK = codes.OUT_OF_WORK, codes.INACTIVE, codes.AT_RISK
_LC, _MILD, _JOBSEEKER = codes.LIMITED_CAPABILITY, codes.MILD, codes.JOBSEEKER
_FROM_SICKNESS = (codes.T["at_risk_to_out_of_work"], codes.T["at_risk_to_inactive"])
_LEAVES_WORK = np.array(codes.LEAVES_WORK)
_WORSENING = codes.T["health_worsening"]
_MAX_MONTHS = np.iinfo(np.int16).max
_NOBODY = np.zeros(0, dtype=np.int64)


#: Draw index of the claim propensity: a person's one draw from the ``benefits`` stream at "month" 0 that
#: no month's draws use (they use indices 0 and 1), taken at their person id rather than their slot.
PROPENSITY_INDEX = 1000


@njit(cache=True, inline="always")
def claim_for(state: int, qualifies: int, claims_health: bool) -> int:
    """The benefit a person not working claims in ``state``.

    That is ``qualifies`` (``codes.BENEFIT_FOR_SEVERITY``, or limited capability pending assessment) if it is
    health-related and they claim those; else a jobseeker's benefit when looking for work and none when
    inactive.
    """
    if qualifies >= _LC and claims_health:
        return qualifies
    return _JOBSEEKER if state == _OOW else 0


@njit(cache=True)
def benefits_rows(p, key, p_reassess, p_first, take_up, month, lo, hi, slots):
    """The claims this month of rows ``lo .. hi - 1`` of ``p`` (row ``k``'s slot is ``slots[k]``, or ``k``)."""
    state, severity, labour_event = p.state[lo:hi], p.severity[lo:hi], p.labour_event[lo:hi]
    health_event, person_id = p.health_event[lo:hi], p.person_id[lo:hi]
    benefit, months_on_benefit = p.benefit[lo:hi], p.months_on_benefit[lo:hi]
    claim_start, from_work = p.health_claim_start[lo:hi], p.claim_from_work[lo:hi]
    s_assess = counter_start(key, month, 0)
    s_propensity = counter_start(key, 0, PROPENSITY_INDEX)
    some = slots.shape[0] > 0
    for i in range(hi - lo):
        slot = slots[i] if some else lo + i
        s = state[i]
        if s <= _AT_RISK:
            benefit[i] = 0
            months_on_benefit[i] = 0
            continue
        ev = labour_event[i]
        old = benefit[i]
        qualifies = _FOR_SEVERITY[severity[i]]
        if ev >= 0:
            if old >= _LC:
                new = old  # a health-related claim carries over; the next assessment re-grades it
            else:
                if severity[i] >= _MILD and (ev == _FROM_SICKNESS[0] or ev == _FROM_SICKNESS[1]):
                    qualifies = max(qualifies, _LC)  # claimed after sickness absence, pending assessment
                new = claim_for(s, qualifies, draw(s_propensity, person_id[i]) < take_up)
        elif old > 0:
            rate = p_first if (old >= _LC and qualifies < _LC) else p_reassess
            if draw(s_assess, slot) < rate:
                new = claim_for(s, qualifies, draw(s_propensity, person_id[i]) < take_up)
            else:
                new = old
        elif s == _INACTIVE and qualifies >= _LC and health_event[i] == _WORSENING:
            new = claim_for(s, qualifies, draw(s_propensity, person_id[i]) < take_up)
        else:
            new = old
        benefit[i] = new
        if new == 0 or old == 0 or (ev >= 0 and old < _LC):  # no claim, or a new one
            months_on_benefit[i] = 0
        elif months_on_benefit[i] < _MAX_MONTHS:
            months_on_benefit[i] += 1
        if new >= _LC and old < _LC:
            claim_start[i] = month
            from_work[i] = 1 if ev >= 0 and _LEAVES_WORK[ev] else 0


@njit(cache=True, parallel=True)
def _benefits_everyone(p, key, p_reassess, p_first, take_up, month, chunks):
    for c in prange(chunks):
        lo, hi = chunk_of(p.state.shape[0], chunks, c)
        benefits_rows(p, key, p_reassess, p_first, take_up, month, lo, hi, _NOBODY)


def claim_rates(tables) -> tuple[float, float, float]:
    """The chances a month of a reassessment and of a first assessment, and the share who claim health benefits."""
    p_reassess = 1.0 - np.exp(-tables.reassessment_rate)
    p_first = 1.0 - np.exp(-tables.first_assessment_rate)
    return p_reassess, p_first, tables.health_claim_take_up


def benefits_step(p, tables, key, month: int, slots: np.ndarray | None = None) -> None:
    """Start, re-grade and end claims in place, after this month's health events and labour moves.

    Args:
        p: People arrays: everyone, or with ``slots`` just the people of those slots (row ``k`` is slot
            ``slots[k]``; see :func:`~gmsim.dynamics.labour.labour_step`).
        tables: The run's :class:`~gmsim.parameters.HazardTables` (assessment rates and take-up).
        key: Key of the ``benefits`` stream.
        month: Current month.
        slots: None when ``p`` holds everyone, else each row's slot.
    """
    p_reassess, p_first, take_up = claim_rates(tables)
    if slots is None:
        _benefits_everyone(p, key, p_reassess, p_first, take_up, month, chunk_count())
    else:
        slots = np.ascontiguousarray(slots, np.int64)
        benefits_rows(p, key, p_reassess, p_first, take_up, month, 0, len(slots), slots)


@njit(cache=True, parallel=True)
def _settle(p, key, take_up):
    s_propensity = counter_start(key, 0, PROPENSITY_INDEX)
    state, severity, benefit = p.state, p.severity, p.benefit
    claim_start, months_on_benefit = p.health_claim_start, p.months_on_benefit
    for i in prange(state.shape[0]):
        if benefit[i] < _LC:
            continue
        new = claim_for(state[i], _FOR_SEVERITY[severity[i]], draw(s_propensity, p.person_id[i]) < take_up)
        if new < _LC:
            benefit[i] = new
            claim_start[i] = codes.NO_CLAIM
            if new == 0:
                months_on_benefit[i] = 0


def settle_claims(p, tables, key) -> None:
    """Keep the synthesised health-related claims of those who claim by disposition, in place.

    The starting population gives everyone not working whose health qualifies the health-related benefit;
    once their person ids are final, those whose claim propensity is at or above take-up claim a jobseeker's
    benefit instead (looking for work) or none (inactive), as they would in any month.
    """
    _settle(p, key, tables.health_claim_take_up)
