"""The one hazard function every transition uses: base rate x the person's hazard ratios.

A transition's monthly hazard for person ``i`` is ``base[t]`` times the hazard ratio for each of the
person's attributes (``codes.DIMENSIONS``), times the interventions' multiplier ``mult[i, rows[t]]`` when any
intervention is running (the processes apply that last factor). The ratios are multiplied out in advance
over three groups of dimensions (``codes.HAZARD_GROUPS``), so a hazard costs three table reads: see
``ParameterSet.hazard_tables()``.
Each process works out a person's levels from the people arrays as it needs them (:func:`level_a`,
:func:`level_b`, :func:`level_c`), so a level always reflects the person's state at that moment (labour
sees this month's health).

The compiled loops run in parallel over people (numba ``prange``); every draw is a pure function of
the person's slot, so results do not depend on the number of threads. Every process runs over everyone,
or over given slots only, or over arrays holding just the people of given slots (:func:`slot_list`): a
person's month depends on nobody else, so running some people alone gives them exactly the month they
would have had (shared runs use this: :mod:`gmsim.shared`). Given slots run in one thread: shared runs
give a process a few thousand people at a time, and a parallel launch (about 0.2 ms with the fork-safe
``workqueue`` layer) costs more than it saves. The loops take plain arrays:
numba can lose writes made through a tuple's fields inside a parallel loop, so each process has a
small Python wrapper that unpacks the people arrays.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

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


_EVERYONE = np.zeros(0, dtype=np.int64)
# How a process kernel runs (:func:`slot_list`): over everyone; over given slots of the arrays; or over
# arrays that hold just the people of given slots (row k is slot ``slots[k]``).
EVERYONE, SLOTS, COMPACT = 0, 1, 2


def slot_list(slots: np.ndarray | None, compact: bool = False) -> tuple[np.ndarray, int]:
    """``(slots, mode)`` for a kernel: everyone when ``slots`` is None, else those slots (int64).

    With ``compact`` the arrays hold just the people of ``slots``, in that order: a person's values are in
    their row, and their random numbers and multipliers those of their slot.
    """
    if slots is None:
        return _EVERYONE, EVERYONE
    return np.ascontiguousarray(slots, dtype=np.int64), COMPACT if compact else SLOTS


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
def level_a(i: int, state, severity, condition, age_months) -> int:
    """Person ``i``'s combined level in the first group, from the people arrays."""
    return group_a(state[i], severity[i], condition[i], band_of(age_months[i], _AGE_BAND_LOWER))


@njit(cache=True)
def level_b(i: int, sex, borough, skills) -> int:
    """Person ``i``'s combined level in the second group (sex, borough, skills)."""
    return (np.int64(sex[i]) * _N_BOROUGH + borough[i]) * _N_SKILLS + skills[i]


@njit(cache=True)
def level_c(i: int, benefit, months_in_state, employer, emp_size, emp_oh) -> int:
    """Person ``i``'s combined level in the third group; size band and occupational health 0 without an employer."""
    e = employer[i]
    size = emp_size[e] if e >= 0 else 0
    oh = emp_oh[e] if e >= 0 else 0
    dur = band_of(months_in_state[i], _DURATION_LOWER)
    return ((np.int64(benefit[i]) * _N_DUR + dur) * _N_SIZE + size) * _N_OH + oh


@njit(cache=True, parallel=True)
def _hazard_groups(
    state,
    severity,
    condition,
    age_months,
    sex,
    borough,
    skills,
    benefit,
    months_in_state,
    employer,
    emp_size,
    emp_oh,
    ga,
    gb,
    gc,
):
    for i in prange(state.shape[0]):
        ga[i] = level_a(i, state, severity, condition, age_months)
        gb[i] = level_b(i, sex, borough, skills)
        gc[i] = level_c(i, benefit, months_in_state, employer, emp_size, emp_oh)


def hazard_groups(p, emp_size: np.ndarray, emp_oh: np.ndarray, ga: np.ndarray, gb: np.ndarray, gc: np.ndarray) -> None:
    """Write each person's combined level in the three groups of ``codes.HAZARD_GROUPS``.

    The processes work the levels out as they go (:func:`level_a`, :func:`level_b`, :func:`level_c`);
    this writes them all at once, for inspection and tests.
    """
    _hazard_groups(
        p.state,
        p.severity,
        p.condition,
        p.age_months,
        p.sex,
        p.borough,
        p.skills,
        p.benefit,
        p.months_in_state,
        p.employer,
        emp_size,
        emp_oh,
        ga,
        gb,
        gc,
    )


@njit(cache=True)
def hazard(t: int, a: int, b: int, c: int, tables) -> float:
    """Monthly hazard of transition ``t`` for a person whose group levels are ``a, b, c``.

    ``tables`` is ``HazardTables.kernel``: ``(base, group_a, group_b, group_c)``, the group tables
    indexed [level, transition]. Intervention multipliers are applied by the caller (a 2-D array passed
    into this function makes every call several times slower).
    """
    return tables[0][t] * tables[1][a, t] * tables[2][b, t] * tables[3][c, t]


@njit(cache=True)
def multiplier(mult: np.ndarray, rows: np.ndarray, t: int, row: int) -> float:
    """Interventions' multiplier of transition ``t`` in row ``row`` of ``mult`` (1 if no intervention claims ``t``)."""
    c = rows[t]
    return mult[row, c] if c >= 0 else 1.0


def no_multipliers() -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The ``(values, rows, index, largest)`` meaning "no intervention changes any hazard"."""
    return (
        np.ones((0, 0), dtype=np.float32),
        np.full(len(codes.TRANSITIONS), -1, dtype=np.int64),
        np.zeros(0, dtype=np.int32),
        1.0,
    )


def kernel_multipliers(multipliers: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``(values, rows, index, largest)`` for the kernels, from that or from ``(values, rows[, touched])``.

    ``values`` holds rows of multipliers (float32, one column per claimed transition; ``rows[t]`` is the
    column of transition ``t`` or -1), and ``index[i]`` the row of the multipliers of the person in row ``i``
    of the people arrays (their slot; in compact arrays, their row there), or -1 where all are 1: the
    kernels read the multipliers of those people only (``HazardMultipliers.kernel_args()``).
    ``largest`` is at least every multiplier and at least 1: a person with a row has hazards summing to at
    most ``largest`` times the thinning bound (see :func:`upper_bounds`). The other form gives one row per
    slot (slots x claimed transitions) and, optionally, ``touched[slot]`` nonzero where any of the slot's
    multipliers may differ from 1 (else worked out from ``values``).
    """
    if len(multipliers) == 4:
        return multipliers
    values, rows = multipliers[:2]
    touched = multipliers[2] if len(multipliers) == 3 else (values != 1).any(axis=1)
    index = np.where(np.asarray(touched) != 0, np.arange(len(touched)), -1).astype(np.int32)
    largest = max(1.0, float(values.max())) if values.size else 1.0
    return values, rows, index, largest


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
