"""Demography: ageing, exits at 65, deaths and moves away, and newcomers taking the freed slots.

Everyone ages a month. People who turn 65 leave the working-age population; people die with the monthly
probability for their age band (higher with a complex condition; ``demography.*`` parameters); and people
move away from GM with the monthly hazard for their borough and age that, with the arrivals, keeps each
borough's Census 2021 age structure (``agents.people.migration``). A newcomer takes each freed slot, so the
population stays at its published size: a 16-year-old or someone moving in, their borough and age drawn
from the arrivals, sex, skills and health from the entrant distributions (``data/population.yaml``; health
by age band), and a job readiness from their new person id (:mod:`gmsim.dynamics.readiness`). A
16-year-old is in education (inactive_other); someone moving in arrives in work with the month-0
employment share for their health, or else inactive. Newcomers have no benefit and no employer
(the employer step ties those in work). Policy does not change demography.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .. import codes
from ..agents.people import AGE_YEARS, MAX_AGE_MONTHS, MIN_AGE_MONTHS, entrant_distributions, migration, set_entrants
from ..streams import counter_start, draw
from .hazard import band_of, chunk_count, chunk_of
from .readiness import READINESS_INDEX, readiness

_AGE_BAND_LOWER = np.array(codes.AGE_BAND_LOWER_YEARS, dtype=np.int64) * 12
_N_AGES = len(AGE_YEARS)
_NOBODY = np.zeros(0, dtype=np.int64)
#: ``exit_event`` codes: 1 turned 65, 2 died, 3 moved away.
AGED_OUT, DIED, MOVED_AWAY = 1, 2, 3


class Newcomers(NamedTuple):
    """Who leaves by moving away and who takes a freed slot, as the demography kernel reads them.

    Attributes:
        move_away: Monthly probability of moving away by borough and year of age (boroughs x 49).
        arrivals: Cumulative shares of arrivals over (borough, year of age), flattened borough-major; the
            first year of age (16) is a 16-year-old entrant, the others people moving in.
        traits: Cumulative shares, one row each for sex, skills and condition kind (padded with 1.0).
        severity: Cumulative shares of severity by age band (age bands x severities).
        employed: Chance that someone moving in arrives in work, without and with a work-limiting condition.
    """

    move_away: np.ndarray
    arrivals: np.ndarray
    traits: np.ndarray
    severity: np.ndarray
    employed: np.ndarray


def _cumulative(probs: np.ndarray) -> np.ndarray:
    c = np.cumsum(probs / np.sum(probs))
    c[-1] = 1.0
    return c


def newcomers() -> Newcomers:
    """The :class:`Newcomers` tables from ``data/population.yaml``."""
    d = entrant_distributions()
    rows = [np.array([d["female"], 1 - d["female"]]), d["skills"], d["condition"]]
    traits = np.ones((len(rows), codes.MAX_LEVELS))
    for r, probs in enumerate(rows):
        c = _cumulative(probs)
        traits[r, : len(c)] = c
    return Newcomers(
        move_away=np.ascontiguousarray(-np.expm1(-migration()[0])),
        arrivals=_cumulative(d["arrivals"].reshape(-1)),
        traits=traits,
        severity=np.array([_cumulative(row) for row in d["severity"]]),
        employed=d["employed"].astype(np.float64),
    )


@njit(cache=True, inline="always")
def _categorical(u: float, cumulative: np.ndarray) -> int:
    k = 0
    while k < cumulative.shape[0] - 1 and u >= cumulative[k]:
        k += 1
    return k


@njit(cache=True)
def _search(u: float, cumulative: np.ndarray) -> int:
    lo, hi = 0, cumulative.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if u >= cumulative[mid]:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def demography_rows(p, mortality, complex_ratio, sd, new, n, key, month, lo, hi, slots):
    """Rows ``lo .. hi - 1``'s month of ageing, exit and entry (row ``k``'s slot is ``slots[k]``, or ``k``).

    ``n``: the number of slots in the population (a newcomer's person id is made from the month, ``n`` and
    their slot).
    """
    s_death, s_arrival, s_sex, s_skills, s_severity, s_condition, s_month = _starts(key, month)
    person_id, age_months, sex = p.person_id[lo:hi], p.age_months[lo:hi], p.sex[lo:hi]
    borough, skills, condition, severity = p.borough[lo:hi], p.skills[lo:hi], p.condition[lo:hi], p.severity[lo:hi]
    exit_event, exit_borough, job_readiness = p.exit_event[lo:hi], p.exit_borough[lo:hi], p.job_readiness[lo:hi]
    state = p.state[lo:hi]
    s_ready, s_work = counter_start(key, 0, READINESS_INDEX), counter_start(key, month, 8)
    move_away, arrivals, traits, severity_by_band = new.move_away, new.arrivals, new.traits, new.severity
    some = slots.shape[0] > 0
    for i in range(hi - lo):
        slot = slots[i] if some else lo + i
        age = age_months[i] + 1
        q = mortality[band_of(age, _AGE_BAND_LOWER)]
        if severity[i] == codes.COMPLEX:
            q *= complex_ratio
        u = draw(s_death, slot)  # one number decides death and a move away (competing, exclusive)
        if u < q:
            event = DIED
        elif age >= MAX_AGE_MONTHS:
            event = AGED_OUT
        elif u < q + move_away[borough[i], age // 12 - MIN_AGE_MONTHS // 12]:
            event = MOVED_AWAY
        else:
            age_months[i] = age
            exit_event[i] = 0
            continue
        exit_event[i] = event
        exit_borough[i] = borough[i]
        person_id[i] = np.int64(month) * n + slot
        job_readiness[i] = readiness(s_ready, person_id[i], sd)
        where = _search(draw(s_arrival, slot), arrivals)
        borough[i] = where // _N_AGES
        year = where % _N_AGES
        if year == 0:
            age_months[i] = MIN_AGE_MONTHS
        else:
            age_months[i] = MIN_AGE_MONTHS + 12 * year + min(11, int(draw(s_month, slot) * 12))
        sex[i] = _categorical(draw(s_sex, slot), traits[0])
        skills[i] = _categorical(draw(s_skills, slot), traits[1])
        sev = _categorical(draw(s_severity, slot), severity_by_band[band_of(age_months[i], _AGE_BAND_LOWER)])
        severity[i] = sev
        condition[i] = 1 + _categorical(draw(s_condition, slot), traits[2]) if sev > 0 else 0
        # a 16-year-old is in education; someone moving in arrives in work with the chance for their health
        mover = year > 0 and draw(s_work, slot) < new.employed[1 if sev >= codes.MODERATE else 0]
        state[i] = codes.IN_WORK if mover else codes.INACTIVE


@njit(cache=True)
def _starts(key, month):
    return (
        counter_start(key, month, 0),
        counter_start(key, month, 1),
        counter_start(key, month, 2),
        counter_start(key, month, 3),
        counter_start(key, month, 4),
        counter_start(key, month, 5),
        counter_start(key, month, 7),
    )


@njit(cache=True, parallel=True)
def _demography_everyone(p, mortality, complex_ratio, sd, new, key, month, chunks):
    n = p.state.shape[0]
    for c in prange(chunks):
        lo, hi = chunk_of(n, chunks, c)
        demography_rows(p, mortality, complex_ratio, sd, new, n, key, month, lo, hi, _NOBODY)


def demography_step(
    p, tables, new: Newcomers, key, month: int, slots: np.ndarray | None = None, n: int | None = None
) -> None:
    """Age everyone a month and give the slots of those who leave to newcomers, in place.

    Args:
        p: People arrays: everyone, or with ``slots`` just the people of those slots (row ``k`` is slot
            ``slots[k]``).
        tables: The run's :class:`~gmsim.parameters.HazardTables` (monthly mortality by age band, its ratio
            for complex conditions, and the spread of job readiness).
        new: Who moves away and who arrives (:func:`newcomers`).
        key: Key of the ``demography`` stream.
        month: Current month.
        slots: None when ``p`` holds everyone, else each row's slot.
        n: The number of slots in the population, when ``p`` holds some of them (a newcomer's person id is
            made from the month, ``n`` and their slot).
    """
    mortality, ratio, sd = tables.monthly_mortality, tables.mortality_complex_ratio, tables.job_readiness_sd
    if slots is None:
        _demography_everyone(p, mortality, ratio, sd, new, key, month, chunk_count())
        set_entrants(p)  # the fields a newcomer does not draw
    else:
        slots = np.ascontiguousarray(slots, np.int64)
        n = p.state.shape[0] if n is None else n
        demography_rows(p, mortality, ratio, sd, new, n, key, month, 0, len(slots), slots)
        set_entrants(p)
