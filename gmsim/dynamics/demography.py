"""Demography: ageing, exits at 65 and deaths, and 16-year-olds entering the freed slots.

Everyone ages a month. People who turn 65 leave the working-age population, and people die with the
monthly probability for their age band (higher with a complex condition; ``demography.*`` parameters).
A 16-year-old takes each freed slot, so the population stays at its published size: borough, sex,
skills and health drawn from the entrant distributions (``data/population.yaml``), in education
(inactive_other), with no benefit and no employer. Policy does not change demography.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import codes
from ..agents.people import MAX_AGE_MONTHS, MIN_AGE_MONTHS
from ..streams import counter_start, draw
from .hazard import COMPACT, EVERYONE, band_of, slot_list

_AGE_BAND_LOWER = np.array(codes.AGE_BAND_LOWER_YEARS, dtype=np.int64) * 12


@njit(cache=True, inline="always")
def _categorical(u: float, cumulative: np.ndarray) -> int:
    k = 0
    while k < cumulative.shape[0] - 1 and u >= cumulative[k]:
        k += 1
    return k


@njit(cache=True, inline="always")
def _demography_person(
    i,
    slot,
    person_id,
    age_months,
    sex,
    borough,
    skills,
    condition,
    severity,
    state,
    months_in_state,
    benefit,
    months_on_benefit,
    employer,
    health_claim_start,
    claim_from_work,
    labour_event,
    health_event,
    exit_event,
    exit_borough,
    monthly_mortality,
    complex_ratio,
    entrants,
    n,
    starts,
    month,
):
    """Row ``i``'s month of ageing, exit and entry, with slot ``slot``'s numbers (the loops below run it).

    ``starts``: the month's counters of the death, borough, sex, skills, severity and condition numbers.
    """
    s_death, s_borough, s_sex, s_skills, s_severity, s_condition = starts
    age = age_months[i] + 1
    q = monthly_mortality[band_of(age, _AGE_BAND_LOWER)]
    if severity[i] == codes.COMPLEX:
        q *= complex_ratio
    died = draw(s_death, slot) < q
    leaves = died or age >= MAX_AGE_MONTHS
    if not leaves:
        age_months[i] = age
        exit_event[i] = 0
    else:
        exit_event[i] = 2 if died else 1
        exit_borough[i] = borough[i]
        person_id[i] = np.int64(month) * n + slot
        age_months[i] = MIN_AGE_MONTHS
        borough[i] = _categorical(draw(s_borough, slot), entrants[0])
        sex[i] = _categorical(draw(s_sex, slot), entrants[1])
        skills[i] = _categorical(draw(s_skills, slot), entrants[2])
        sev = _categorical(draw(s_severity, slot), entrants[3])
        severity[i] = sev
        condition[i] = 1 + _categorical(draw(s_condition, slot), entrants[4]) if sev > 0 else 0
        state[i] = codes.INACTIVE
        months_in_state[i] = 0
        benefit[i] = 0
        months_on_benefit[i] = 0
        employer[i] = -1
        health_claim_start[i] = codes.NO_CLAIM
        claim_from_work[i] = 0
        labour_event[i] = -1
        health_event[i] = -1


@njit(cache=True, parallel=True)
def _demography(
    person_id,
    age_months,
    sex,
    borough,
    skills,
    condition,
    severity,
    state,
    months_in_state,
    benefit,
    months_on_benefit,
    employer,
    health_claim_start,
    claim_from_work,
    labour_event,
    health_event,
    exit_event,
    exit_borough,
    monthly_mortality,
    complex_ratio,
    entrants,
    key,
    month,
    n,
    slots,
    mode,
):
    starts = (
        counter_start(key, month, 0),
        counter_start(key, month, 1),
        counter_start(key, month, 2),
        counter_start(key, month, 3),
        counter_start(key, month, 4),
        counter_start(key, month, 5),
    )
    if mode == EVERYONE:
        for i in prange(n):
            _demography_person(
                i,
                i,
                person_id,
                age_months,
                sex,
                borough,
                skills,
                condition,
                severity,
                state,
                months_in_state,
                benefit,
                months_on_benefit,
                employer,
                health_claim_start,
                claim_from_work,
                labour_event,
                health_event,
                exit_event,
                exit_borough,
                monthly_mortality,
                complex_ratio,
                entrants,
                n,
                starts,
                month,
            )
    else:
        compact = mode == COMPACT
        for k in range(slots.shape[0]):
            row = k if compact else slots[k]
            _demography_person(
                row,
                slots[k],
                person_id,
                age_months,
                sex,
                borough,
                skills,
                condition,
                severity,
                state,
                months_in_state,
                benefit,
                months_on_benefit,
                employer,
                health_claim_start,
                claim_from_work,
                labour_event,
                health_event,
                exit_event,
                exit_borough,
                monthly_mortality,
                complex_ratio,
                entrants,
                n,
                starts,
                month,
            )


def demography_step(
    p,
    monthly_mortality: np.ndarray,
    complex_ratio: float,
    entrants: np.ndarray,
    key,
    month: int,
    slots: np.ndarray | None = None,
    compact: bool = False,
    n: int | None = None,
) -> None:
    """Age everyone (or ``slots`` only, if given) a month and replace those who leave by entrants, in place.

    ``entrants`` holds cumulative distributions, one row each for borough, sex, skills, severity and
    condition kind (padded with 1.0). With ``compact``, ``p`` holds just the people of ``slots`` (row k is
    slot ``slots[k]``) and ``n`` is the number of slots in the population (an entrant's person id is made
    from the month, ``n`` and their slot).
    """
    _demography(
        *p,
        monthly_mortality,
        complex_ratio,
        entrants,
        key,
        month,
        p.state.shape[0] if n is None else n,
        *slot_list(slots, compact),
    )
