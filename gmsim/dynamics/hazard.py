"""The one hazard function every transition uses: base rate x the person's hazard ratios.

A transition's monthly hazard for person ``i`` is ``base[t]`` times the hazard ratio for each of the
person's attributes (``codes.DIMENSIONS``), times the interventions' multiplier of that transition for the
person (:class:`Multipliers`) when any intervention is running (the processes apply that last factor).
The ratios are multiplied out in advance over three groups of dimensions (``codes.HAZARD_GROUPS``), so a
hazard costs three table reads: see ``ParameterSet.hazard_tables()``. Each process works out a person's
levels from the people arrays as it needs them (:func:`level_a`, :func:`level_b`, :func:`level_c`), so a
level always reflects the person's state at that moment (labour sees this month's health).

Every process is one compiled loop over rows of the people arrays it is given, doing the process for
one person at a time: in parallel over everyone (contiguous chunks of rows, a few a thread), or in one
thread over arrays that hold just some people, each row with the slot its random numbers are drawn for
(``slots``). A person's month depends on nobody else, and every draw is a pure function of the person's
slot, so running some people on their own gives them exactly the month they would have had among
everyone, and results do not depend on the number of threads. The kernels take the people, the employers
and the multipliers as their named tuples of arrays; the loop over rows is a function of its own, called
once a chunk (numba can lose writes made through a tuple's fields in the body of a parallel loop, and
handing a tuple of many arrays to a function once a person is slow).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import get_num_threads, njit, prange

from .. import codes

_AGE_BAND_LOWER = np.array(codes.AGE_BAND_LOWER_YEARS, dtype=np.int64) * 12
_DURATION_LOWER = np.array(codes.DURATION_BAND_LOWER_MONTHS, dtype=np.int64)
_N_SEV, _N_COND, _N_AGE = len(codes.SEVERITIES), len(codes.CONDITIONS), len(codes.AGE_BANDS)
_N_BOROUGH, _N_SKILLS = len(codes.BOROUGHS), len(codes.SKILLS)
_N_DUR, _N_SIZE, _N_OH = len(codes.DURATION_BANDS), len(codes.EMPLOYER_SIZES), len(codes.OCCUPATIONAL_HEALTH)
assert codes.HAZARD_GROUPS == (
    ("state", "severity", "condition", "age_band"),
    ("sex", "borough", "skills"),
    ("benefit", "duration_band", "employer_size", "occupational_health"),
), "hazard_groups() must follow codes.HAZARD_GROUPS"


class Multipliers(NamedTuple):
    """This month's intervention hazard multipliers, as the health and labour kernels read them.

    Attributes:
        values: Rows of multipliers (float32), one column per transition some intervention claims.
        columns: Each transition's column in ``values``, or -1 where no intervention claims it (int64,
            ``len(codes.TRANSITIONS)``).
        row: For each row of the people arrays a kernel is given, the row of ``values`` holding that
            person's multipliers, or -1 where all are 1 (int32; empty when no intervention runs).
        largest: At least every multiplier, and at least 1: a person with a row has hazards summing to at
            most ``largest`` times the thinning bound (:func:`upper_bounds`).
    """

    values: np.ndarray
    columns: np.ndarray
    row: np.ndarray
    largest: float


def no_multipliers() -> Multipliers:
    """The multipliers meaning "no intervention changes any hazard"."""
    return Multipliers(
        np.ones((0, 0), dtype=np.float32),
        np.full(len(codes.TRANSITIONS), -1, dtype=np.int64),
        np.zeros(0, dtype=np.int32),
        1.0,
    )


def dense_multipliers(values: np.ndarray, columns: np.ndarray, touched: np.ndarray | None = None) -> Multipliers:
    """:class:`Multipliers` from one row of ``values`` per person (people x claimed transitions).

    ``touched[i]`` is nonzero where any of person ``i``'s multipliers may differ from 1 (by default,
    worked out from ``values``); the others get no row.
    """
    touched = (values != 1).any(axis=1) if touched is None else touched
    row = np.where(np.asarray(touched) != 0, np.arange(len(touched)), -1).astype(np.int32)
    largest = max(1.0, float(values.max())) if values.size else 1.0
    return Multipliers(values, np.asarray(columns, dtype=np.int64), row, largest)


@njit(cache=True)
def band_of(value: int, lower: np.ndarray) -> int:
    """Index of the band whose lower bound is the largest one <= value (bounds in increasing order)."""
    b = 0
    for k in range(1, lower.shape[0]):
        b += value >= lower[k]
    return b


@njit(cache=True)
def group_a(state: int, severity: int, condition: int, age_band: int) -> int:
    """Combined level in the first group (state, severity, condition, age band)."""
    return ((np.int64(state) * _N_SEV + severity) * _N_COND + condition) * _N_AGE + age_band


@njit(cache=True)
def level_a(state: int, severity: int, condition: int, age_months: int) -> int:
    """A person's combined level in the first group, from their state, health and age."""
    return group_a(state, severity, condition, band_of(age_months, _AGE_BAND_LOWER))


@njit(cache=True)
def level_b(sex: int, borough: int, skills: int) -> int:
    """A person's combined level in the second group (sex, borough, skills)."""
    return (np.int64(sex) * _N_BOROUGH + borough) * _N_SKILLS + skills


@njit(cache=True)
def level_c(benefit: int, months_in_state: int, employer: int, size_band: np.ndarray, oh_access: np.ndarray) -> int:
    """A person's combined level in the third group; size band and occupational health 0 without an employer.

    ``size_band`` and ``oh_access`` are the employers' (``Employers.size_band``, ``occupational_health``).
    """
    size = size_band[employer] if employer >= 0 else 0
    oh = oh_access[employer] if employer >= 0 else 0
    dur = band_of(months_in_state, _DURATION_LOWER)
    return ((np.int64(benefit) * _N_DUR + dur) * _N_SIZE + size) * _N_OH + oh


@njit(cache=True)
def levels(p, employers, i: int) -> tuple[int, int, int]:
    """Row ``i``'s combined levels in the three groups, from the people arrays ``p`` as they are now."""
    return (
        level_a(p.state[i], p.severity[i], p.condition[i], p.age_months[i]),
        level_b(p.sex[i], p.borough[i], p.skills[i]),
        level_c(p.benefit[i], p.months_in_state[i], p.employer[i], employers.size_band, employers.occupational_health),
    )


@njit(cache=True)
def _groups_of_rows(p, employers, lo, hi, ga, gb, gc):
    for i in range(lo, hi):
        ga[i], gb[i], gc[i] = levels(p, employers, i)


@njit(cache=True, parallel=True)
def _hazard_groups(p, employers, ga, gb, gc, chunks):
    for c in prange(chunks):
        lo, hi = chunk_of(ga.shape[0], chunks, c)
        _groups_of_rows(p, employers, lo, hi, ga, gb, gc)


def hazard_groups(p, employers, ga: np.ndarray, gb: np.ndarray, gc: np.ndarray) -> None:
    """Write each person's combined level in the three groups of ``codes.HAZARD_GROUPS``.

    The processes work the levels out as they go; this writes them all at once, for inspection and tests.
    """
    _hazard_groups(p, employers, ga, gb, gc, chunk_count())


def chunk_count() -> int:
    """Into how many chunks a parallel loop over everyone splits the rows (two a thread)."""
    return 2 * get_num_threads()


@njit(cache=True)
def chunk_of(n: int, chunks: int, c: int) -> tuple[int, int]:
    """Rows ``lo .. hi - 1``: chunk ``c`` of ``chunks`` near-equal, contiguous chunks of ``n`` rows."""
    size = (n + chunks - 1) // chunks
    lo = min(n, c * size)
    return lo, min(n, lo + size)


@njit(cache=True)
def hazard(t: int, a: int, b: int, c: int, tables) -> float:
    """Monthly hazard of transition ``t`` for a person whose group levels are ``a, b, c``.

    ``tables`` is ``HazardTables.kernel``: ``(base, group_a, group_b, group_c)``, the group tables
    indexed [level, transition]. Intervention multipliers are applied by the caller (a 2-D array passed
    into this function makes every call several times slower).
    """
    return tables[0][t] * tables[1][a, t] * tables[2][b, t] * tables[3][c, t]


@njit(cache=True)
def multiplier(values: np.ndarray, columns: np.ndarray, t: int, row: int) -> float:
    """Interventions' multiplier of transition ``t`` in row ``row`` of ``values`` (1 if none claims ``t``).

    ``values`` and ``columns`` are those of :class:`Multipliers`.
    """
    c = columns[t]
    return values[row, c] if c >= 0 else 1.0


def upper_bounds(tables, first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Per level of the first hazard group, a bound on the summed hazards of a process's transitions.

    Level ``a`` faces transitions ``first[a] .. first[a] + count[a] - 1``; the bound takes each transition's
    largest ratio in the second and third groups, so it holds whatever a person's other levels are (for a
    person with intervention multipliers, times the largest multiplier). The kernels draw a person's number
    first and, when it is at or above the bound, know that no event happens without working out the hazards
    (thinning): the outcome is exactly what :func:`pick` would give, at a fraction of the cost, for the great
    majority of people a month.

    Args:
        tables: ``HazardTables.kernel``.
        first: First transition of each level of the first group.
        count: Number of transitions of each level (at most 5).

    Returns:
        float64 array, one bound per level of the first group.
    """
    base, group_a, group_b, group_c = tables
    term = base * group_a * group_b.max(axis=0) * group_c.max(axis=0)  # the kernels' order of multiplication
    k = np.arange(5)
    cols = np.minimum(first[:, None] + k, term.shape[1] - 1)
    terms = np.where(k < count[:, None], term[np.arange(term.shape[0])[:, None], cols], 0.0)
    # Float sums and products are monotone, so this bounds the kernels' sums; the factor covers the order.
    return terms.sum(axis=1) * (1.0 + 1e-9)


@njit(cache=True, inline="always")
def thinning_limit(bound: float, largest: float, touched: bool) -> float:
    """The number at or above which a person can have no event this month.

    That is the bound of their level (:func:`upper_bounds`), times the month's largest multiplier if the
    person has a multiplier.
    """
    return bound * largest if touched else bound


@njit(cache=True)
def pick(u: float, hazards) -> int:
    """Competing risks with one uniform number: -1 (no event) or the index of the event that happens.

    ``hazards`` is a tuple of monthly hazards. The chance of some event is ``1 - exp(-sum)``; given an
    event, event ``k`` happens with probability ``hazards[k] / sum``.
    """
    total = 0.0
    for k in range(len(hazards)):
        total += hazards[k]
    if total <= 0.0 or u >= total:  # 1 - exp(-total) <= total: most people need no exp()
        return -1
    p_any = 1.0 - np.exp(-total)
    if u >= p_any:
        return -1
    x = u / p_any * total
    cum = 0.0
    for k in range(len(hazards)):
        cum += hazards[k]
        if x < cum:
            return k
    return len(hazards) - 1
