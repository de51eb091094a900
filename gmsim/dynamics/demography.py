"""Demography: ageing, exits at 65 and deaths, and 16-year-olds entering the freed slots.

Everyone ages a month. People who turn 65 leave the working-age population, and people die with the
monthly probability for their age band (higher with a complex condition; ``demography.*`` parameters).
A 16-year-old takes each freed slot, so the population stays at its published size: borough, sex,
skills and health drawn from the entrant distributions (``data/population.yaml``), in education
(inactive_other), with no benefit and no employer. Policy does not change demography.
"""

from __future__ import annotations

import numpy as np
from numba import literal_unroll, njit, prange

from .. import codes
from ..agents.people import ENTRANT, MAX_AGE_MONTHS, MIN_AGE_MONTHS, entrant_record
from ..streams import counter_start, draw
from .hazard import band_of

_AGE_BAND_LOWER = np.array(codes.AGE_BAND_LOWER_YEARS, dtype=np.int64) * 12
_ENTRANT_FIELDS = tuple(ENTRANT)


@njit(cache=True, inline="always")
def _categorical(u: float, cumulative: np.ndarray) -> int:
    k = 0
    while k < cumulative.shape[0] - 1 and u >= cumulative[k]:
        k += 1
    return k


@njit(cache=True)
def _demography_person(i, slot, p, mortality, complex_ratio, entrants, entrant, n, starts, month):
    """Row ``i``'s month of ageing, exit and entry, with slot ``slot``'s numbers (the loops below run it).

    ``starts``: the month's counters of the death, borough, sex, skills, severity and condition numbers;
    ``entrant``: one record (an array of one) of the values an entrant starts with in the fields not drawn here.
    """
    s_death, s_borough, s_sex, s_skills, s_severity, s_condition = starts
    age = p.age_months[i] + 1
    q = mortality[band_of(age, _AGE_BAND_LOWER)]
    if p.severity[i] == codes.COMPLEX:
        q *= complex_ratio
    died = draw(s_death, slot) < q
    leaves = died or age >= MAX_AGE_MONTHS
    if not leaves:
        p.age_months[i] = age
        p.exit_event[i] = 0
    else:
        p.exit_event[i] = 2 if died else 1
        p.exit_borough[i] = p.borough[i]
        p.person_id[i] = np.int64(month) * n + slot
        p.age_months[i] = MIN_AGE_MONTHS
        p.borough[i] = _categorical(draw(s_borough, slot), entrants[0])
        p.sex[i] = _categorical(draw(s_sex, slot), entrants[1])
        p.skills[i] = _categorical(draw(s_skills, slot), entrants[2])
        sev = _categorical(draw(s_severity, slot), entrants[3])
        p.severity[i] = sev
        p.condition[i] = 1 + _categorical(draw(s_condition, slot), entrants[4]) if sev > 0 else 0
        values = entrant[0]
        for name in literal_unroll(_ENTRANT_FIELDS):
            getattr(p, name)[i] = values[name]


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
def _demography_everyone(p, mortality, complex_ratio, entrants, entrant, key, month):
    starts = _starts(key, month)
    n = p.state.shape[0]
    for i in prange(n):
        _demography_person(i, i, p, mortality, complex_ratio, entrants, entrant, n, starts, month)


@njit(cache=True)
def _demography_some(p, mortality, complex_ratio, entrants, entrant, key, month, n, slots):
    starts = _starts(key, month)
    for k in range(slots.shape[0]):
        _demography_person(k, slots[k], p, mortality, complex_ratio, entrants, entrant, n, starts, month)


_ENTRANT = entrant_record()


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
        _demography_everyone(p, mortality, ratio, entrants, _ENTRANT, key, month)
    else:
        slots = np.ascontiguousarray(slots, np.int64)
        _demography_some(
            p, mortality, ratio, entrants, _ENTRANT, key, month, p.state.shape[0] if n is None else n, slots
        )
