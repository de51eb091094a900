"""Labour: monthly moves between in work, at risk, out of work and inactive.

From each state a person faces the hazards of the transitions out of it (``codes.LABOUR_FROM``), each
``base x hazard ratios`` (see :mod:`gmsim.dynamics.hazard`): health and severity, age, time in the state
(duration dependence; for at_risk, the end of statutory sick pay after 28 weeks), benefit, skills,
borough and the employer's size and occupational health. Job entry (from out of work or inactivity) is
also multiplied by the person's *job readiness*: a fixed, unobserved term drawn once from their person id,
lognormal with mean 1 and log-scale standard deviation ``labour.job_readiness_sd``, so that people who are
more job-ready leave worklessness sooner and those left behind are, on average, less job-ready (dynamic
selection). One uniform number from the ``labour`` stream decides whether and where the person moves
(competing risks). Time in state restarts on a move.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import codes
from ..streams import counter_start, draw
from .hazard import (
    Multipliers,
    chunk_count,
    chunk_of,
    hazard,
    level_a,
    level_b,
    level_c,
    multiplier,
    pick,
    thinning_limit,
    upper_bounds,
)

_NOBODY = np.zeros(0, dtype=np.int64)

# Transitions out of each state are contiguous in codes.TRANSITIONS: first index per state, then end.
_FIRST = np.array([0, 3, 6, 8, 10], dtype=np.int64)
#: The moves out of state ``s`` are transitions ``LABOUR_FIRST[s] .. LABOUR_FIRST[s + 1] - 1``.
LABOUR_FIRST = _FIRST
_TO = np.array(codes.LABOUR_TO, dtype=np.int8)
_MAX_MONTHS = np.iinfo(np.int16).max
_LAST = codes.N_LABOUR - 1
_OOW, _INACTIVE = codes.OUT_OF_WORK, codes.INACTIVE
#: Draw index of job readiness: a person's one draw from the ``labour`` stream at "month" 0 that no month's
#: draws use (they use index 0), taken at their person id rather than their slot.
READINESS_INDEX = 1000
#: Job readiness is drawn from the normal quantiles of [1e-4, 1 - 1e-4]: at most this many standard deviations.
READINESS_CAP = 3.719016485455709


@njit(cache=True)
def normal_quantile(u: float) -> float:
    """The standard normal quantile of ``u`` in (0, 1) (Acklam's rational approximation, relative error < 1.2e-9)."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
         -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
         -1.328068155288572e01)  # fmt: skip
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
         4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    if u < 0.02425:
        q = np.sqrt(-2 * np.log(u))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    if u > 1 - 0.02425:
        q = np.sqrt(-2 * np.log(1 - u))
        return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    q = u - 0.5
    r = q * q
    return (
        (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
        * q
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    )


@njit(cache=True)
def readiness(start, person_id: int, sd: float) -> float:
    """A person's job readiness: exp(sd x z - sd^2 / 2), z their normal quantile capped at ``READINESS_CAP``."""
    if sd <= 0.0:
        return 1.0
    u = min(max(draw(start, person_id), 1e-4), 1.0 - 1e-4)
    return np.exp(sd * normal_quantile(u) - 0.5 * sd * sd)


@njit(cache=True)
def _readiness_of(key, person_ids, sd, out):
    start = counter_start(key, 0, READINESS_INDEX)  # here: a start handed in from Python may lose its type
    for k in range(person_ids.shape[0]):
        out[k] = readiness(start, person_ids[k], sd)


def job_readiness(person_ids: np.ndarray, key, sd: float) -> np.ndarray:
    """The job readiness of ``person_ids`` for the ``labour`` stream ``key`` (what the labour kernel uses)."""
    ids = np.ascontiguousarray(person_ids, dtype=np.int64)
    out = np.empty(len(ids))
    _readiness_of(np.uint64(key), ids, float(sd), out)
    return out


@njit(cache=True)
def _labour_rows(p, employers, tables, bound, mult, sd, key, month, lo, hi, slots):
    """The labour moves this month of rows ``lo .. hi - 1`` of ``p`` (row ``k``'s slot is ``slots[k]``, or ``k``)."""
    # The rows' own views, read from 0 (a loop from 0 over views compiles to faster code than over lo..hi).
    state, severity, condition = p.state[lo:hi], p.severity[lo:hi], p.condition[lo:hi]
    age, labour_event, sex, borough = p.age_months[lo:hi], p.labour_event[lo:hi], p.sex[lo:hi], p.borough[lo:hi]
    skills, benefit, months_in_state = p.skills[lo:hi], p.benefit[lo:hi], p.months_in_state[lo:hi]
    employer, person_id = p.employer[lo:hi], p.person_id[lo:hi]
    size_band, oh = employers.size_band, employers.occupational_health
    start = counter_start(key, month, 0)
    ready_start = counter_start(key, 0, READINESS_INDEX)
    some = slots.shape[0] > 0
    intervening = mult.row.shape[0] > 0
    mult_rows = mult.row[lo:hi]
    for i in range(hi - lo):
        slot = slots[i] if some else lo + i
        a = level_a(state[i], severity[i], condition[i], age[i])
        u = draw(start, slot)
        mult_row = mult_rows[i] if intervening else -1
        touch = mult_row >= 0
        if u >= thinning_limit(bound[a], mult.largest, touch):
            labour_event[i] = -1  # no move possible: see upper_bounds()
            if months_in_state[i] < _MAX_MONTHS:
                months_in_state[i] += 1
            continue
        s = state[i]
        first = _FIRST[s]
        b = level_b(sex[i], borough[i], skills[i])
        c = level_c(benefit[i], months_in_state[i], employer[i], size_band, oh)
        h0 = hazard(first, a, b, c, tables)
        h1 = hazard(first + 1, a, b, c, tables)
        h2 = hazard(first + 2, a, b, c, tables) if _FIRST[s + 1] - first == 3 else 0.0
        if s == _OOW or s == _INACTIVE:
            h0 *= readiness(ready_start, person_id[i], sd)  # job entry is the first move out of both
        if touch:
            h0 *= multiplier(mult.values, mult.columns, first, mult_row)
            h1 *= multiplier(mult.values, mult.columns, first + 1, mult_row)
            h2 *= multiplier(mult.values, mult.columns, min(first + 2, _LAST), mult_row)
        k = pick(u, (h0, h1, h2))
        if k < 0:
            labour_event[i] = -1
            if months_in_state[i] < _MAX_MONTHS:
                months_in_state[i] += 1
        else:
            t = first + k
            labour_event[i] = t
            state[i] = _TO[t]
            months_in_state[i] = 0


@njit(cache=True, parallel=True)
def _labour_everyone(p, employers, tables, bound, mult, sd, key, month, chunks):
    for c in prange(chunks):
        lo, hi = chunk_of(p.state.shape[0], chunks, c)
        _labour_rows(p, employers, tables, bound, mult, sd, key, month, lo, hi, _NOBODY)


def labour_step(
    p, employers, tables, multipliers: Multipliers, key, month: int, slots: np.ndarray | None = None
) -> None:
    """Apply one month of labour transitions in place; ``p.labour_event`` records who moved where.

    Args:
        p: People arrays (:class:`~gmsim.agents.people.People`): everyone, or just the people of ``slots``.
        employers: Employer arrays (:class:`~gmsim.agents.employers.Employers`): size band and occupational
            health enter the hazards.
        tables: The run's :class:`~gmsim.parameters.HazardTables` (hazard tables and thinning bounds).
        multipliers: The interventions' hazard multipliers, a row index for each row of ``p``
            (:class:`~gmsim.dynamics.hazard.Multipliers`).
        key: Key of the ``labour`` stream.
        month: Current month.
        slots: None when ``p`` holds everyone (row ``i`` is slot ``i``); else the slot of each row of ``p``,
            whose random numbers that row draws.
    """
    if slots is None:
        sd = tables.job_readiness_sd
        _labour_everyone(p, employers, tables.kernel, tables.labour_bound, multipliers, sd, key, month, chunk_count())
    else:
        slots = np.ascontiguousarray(slots, np.int64)
        sd = tables.job_readiness_sd
        _labour_rows(
            p, employers, tables.kernel, tables.labour_bound, multipliers, sd, key, month, 0, len(slots), slots
        )


def labour_bounds(tables, sd: float = 0.0) -> np.ndarray:
    """:func:`~gmsim.dynamics.hazard.upper_bounds` of the moves out of each level's labour state.

    Job entry is bounded at the largest job readiness, exp(sd x ``READINESS_CAP`` - sd^2 / 2).
    """
    base, *groups = tables
    base = base.copy()
    if sd > 0:
        largest = np.exp(sd * READINESS_CAP - 0.5 * sd * sd)
        base[codes.T["out_of_work_to_in_work"]] *= largest
        base[codes.T["inactive_to_in_work"]] *= largest
    levels = groups[0].shape[0]
    state = np.arange(levels) // (levels // len(codes.STATES))
    return upper_bounds((base, *groups), _FIRST[state], _FIRST[state + 1] - _FIRST[state])
