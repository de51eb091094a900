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
from ..agents.people import MAX_AGE_MONTHS, MIN_AGE_MONTHS, set_entrants
from ..streams import counter_start, draw
from .hazard import band_of, chunk_count, chunk_of

_AGE_BAND_LOWER = np.array(codes.AGE_BAND_LOWER_YEARS, dtype=np.int64) * 12
_NOBODY = np.zeros(0, dtype=np.int64)


@njit(cache=True, inline="always")
def _categorical(u: float, cumulative: np.ndarray) -> int:
    k = 0
    while k < cumulative.shape[0] - 1 and u >= cumulative[k]:
        k += 1
    return k


@njit(cache=True)
def _demography_rows(p, mortality, complex_ratio, entrants, n, key, month, lo, hi, slots):
    """Rows ``lo .. hi - 1``'s month of ageing, exit and entry (row ``k``'s slot is ``slots[k]``, or ``k``).

    ``n``: the number of slots in the population (an entrant's person id is made from the month, ``n`` and
    their slot).
    """
    s_death, s_borough, s_sex, s_skills, s_severity, s_condition = _starts(key, month)
    person_id, age_months, sex = p.person_id[lo:hi], p.age_months[lo:hi], p.sex[lo:hi]
    borough, skills, condition, severity = p.borough[lo:hi], p.skills[lo:hi], p.condition[lo:hi], p.severity[lo:hi]
    exit_event, exit_borough = p.exit_event[lo:hi], p.exit_borough[lo:hi]
    some = slots.shape[0] > 0
    for i in range(hi - lo):
        slot = slots[i] if some else lo + i
        age = age_months[i] + 1
        q = mortality[band_of(age, _AGE_BAND_LOWER)]
        if severity[i] == codes.COMPLEX:
            q *= complex_ratio
        died = draw(s_death, slot) < q
        if not (died or age >= MAX_AGE_MONTHS):
            age_months[i] = age
            exit_event[i] = 0
            continue
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


@njit(cache=True)
def _starts(key, month):
    return (
        counter_start(key, month, 0),
        counter_start(key, month, 1),
        counter_start(key, month, 2),
        counter_start(key, month, 3),
        counter_start(key, month, 4),
        counter_start(key, month, 5),
    )


@njit(cache=True, parallel=True)
def _demography_everyone(p, mortality, complex_ratio, entrants, key, month, chunks):
    n = p.state.shape[0]
    for c in prange(chunks):
        lo, hi = chunk_of(n, chunks, c)
        _demography_rows(p, mortality, complex_ratio, entrants, n, key, month, lo, hi, _NOBODY)


def demography_step(
    p, tables, entrants: np.ndarray, key, month: int, slots: np.ndarray | None = None, n: int | None = None
) -> None:
    """Age everyone a month and replace those who leave by entrants, in place.

    Args:
        p: People arrays: everyone, or with ``slots`` just the people of those slots (row ``k`` is slot
            ``slots[k]``).
        tables: The run's :class:`~gmsim.parameters.HazardTables` (monthly mortality by age band, and its
            ratio for complex conditions).
        entrants: Cumulative distributions, one row each for borough, sex, skills, severity and condition kind
            (padded with 1.0).
        key: Key of the ``demography`` stream.
        month: Current month.
        slots: None when ``p`` holds everyone, else each row's slot.
        n: The number of slots in the population, when ``p`` holds some of them (an entrant's person id is made
            from the month, ``n`` and their slot).
    """
    mortality, ratio = tables.monthly_mortality, tables.mortality_complex_ratio
    if slots is None:
        _demography_everyone(p, mortality, ratio, entrants, key, month, chunk_count())
    else:
        slots = np.ascontiguousarray(slots, np.int64)
        n = p.state.shape[0] if n is None else n
        _demography_rows(p, mortality, ratio, entrants, n, key, month, 0, len(slots), slots)
    set_entrants(p)  # the fields an entrant does not draw
