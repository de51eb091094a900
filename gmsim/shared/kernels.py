"""Compiled passes of shared runs: who could move, the trunk's screens and staff, corrected for a run.

Every pass gives exactly what the plain computation over a run's own people arrays gives (slot lists in
ascending order, integer counts), so that a shared run is bit-identical to the run alone.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import codes
from ..dynamics.hazard import chunk_count, chunk_of, level_a, thinning_limit
from ..interventions.kernels import has_bit, set_bit
from ..streams import counter_start, draw

_OUT_OF_WORK, _INACTIVE = codes.OUT_OF_WORK, codes.INACTIVE

# ----- who could have an event this month --------------------------------------------------------------


@njit(cache=True, inline="always")
def could_move(a, slot, ready, health_bound, labour_bound, health_largest, labour_largest, starts, market_top):
    """Whether the person in ``slot`` (first hazard group level ``a``) could have an event this month.

    That is a health or labour event with multipliers up to those given, in any of the runs' markets:
    true where their health number is below the thinning bound of their level (docs/model.md, section
    7.1) times the largest multiplier of health's transitions, or a labour number below its bound times
    the largest multiplier of the labour moves: their entry number (if a job seeker) below the job-entry
    bound with their job readiness ``ready`` and the largest job-finding factor, or their other number
    below the bound of the other moves times the economy's largest factor. ``starts`` are the counter
    starts of health, of labour's other moves and of job entry; ``market_top`` the largest job-finding
    factor of the runs and the economy's largest factor. Anyone else has no event either way. (A health
    event in either run makes them move; without one their level, and so their labour bound, is the same
    in both.)
    """
    health_start, labour_start, entry_start = starts
    phi_top, economy_top = market_top
    if draw(health_start, slot) < thinning_limit(health_bound[a], health_largest, True):
        return True
    if draw(labour_start, slot) < thinning_limit(labour_bound[0, a] * economy_top, labour_largest, True):
        return True
    return labour_bound[1, a] > 0 and draw(entry_start, slot) < thinning_limit(
        labour_bound[1, a] * ready * phi_top, labour_largest, True
    )


@njit(cache=True, inline="always")
def _starts(health_key, labour_key, month):
    return counter_start(health_key, month, 0), counter_start(labour_key, month, 0), counter_start(labour_key, month, 1)


@njit(cache=True)
def may_move(
    slots, p, health_bound, labour_bound, health_largest, labour_largest, health_key, labour_key, month, market_top
):
    """Those of ``slots`` who :func:`could_move`, in their order.

    ``health_largest`` bounds every multiplier of a health transition, ``labour_largest[s]`` those of the
    moves out of labour state ``s``; ``market_top`` is as :func:`could_move` takes it.
    """
    state, severity, condition, age, ready = p.state, p.severity, p.condition, p.age_months, p.job_readiness
    out = np.empty(slots.shape[0], dtype=np.int64)
    starts = _starts(health_key, labour_key, month)
    n = 0
    for k in range(slots.shape[0]):
        i = slots[k]
        a = level_a(state[i], severity[i], condition[i], age[i])
        if could_move(
            a, i, ready[i], health_bound, labour_bound, health_largest, labour_largest[state[i]], starts, market_top
        ):
            out[n] = i
            n += 1
    return out[:n].copy()


@njit(cache=True)
def _movable_rows(
    p, health_bound, labour_bound, largest, health_key, labour_key, month, market_top, everyone, lo, hi, mask
):
    state, severity, condition, age, employer = p.state, p.severity, p.condition, p.age_months, p.employer
    ready = p.job_readiness
    starts = _starts(health_key, labour_key, month)
    for i in range(lo, hi):
        if not everyone and employer[i] < 0:
            continue
        if everyone and (state[i] == _OUT_OF_WORK or state[i] == _INACTIVE):
            mask[i] = True  # a job seeker's search, multiplied or not, sets next month's market
            continue
        a = level_a(state[i], severity[i], condition[i], age[i])
        mask[i] = could_move(a, i, ready[i], health_bound, labour_bound, largest, largest, starts, market_top)


@njit(cache=True, parallel=True)
def _movable_mask(
    p, health_bound, labour_bound, largest, health_key, labour_key, month, market_top, everyone, chunks, mask
):
    for c in prange(chunks):
        lo, hi = chunk_of(mask.shape[0], chunks, c)
        _movable_rows(
            p, health_bound, labour_bound, largest, health_key, labour_key, month, market_top, everyone, lo, hi, mask
        )


@njit(cache=True)
def _collect_movable(mask, employer, bits):
    everyone = bits.shape[0] > 0
    out = np.empty(employer.shape[0], dtype=np.int64)
    k = 0
    for i in range(mask.shape[0]):
        if mask[i]:
            if everyone:
                set_bit(bits, i, True)
            if employer[i] >= 0:
                out[k] = i
                k += 1
    return out[:k].copy()


def movable(p, health_bound, labour_bound, largest, health_key, labour_key, month, market_top, bits):
    """Who :func:`could_move` with multipliers up to ``largest``; returns those employed, ascending.

    ``bits`` is a zeroed bit set (uint64 words) to fill for everyone, or an empty array to look at the
    employed only. Every job seeker is in ``bits`` whether or not they could move: their search, with any
    multiplier on their job entry, sets next month's job-finding factors (:mod:`gmsim.market`). In
    parallel over chunks of everyone, then gathered in slot order.
    """
    mask = np.zeros(p.state.shape[0], dtype=np.bool_)
    everyone = bits.shape[0] > 0
    args = (p, health_bound, labour_bound, float(largest), health_key, labour_key, month, market_top, everyone)
    _movable_mask(*args, chunk_count(), mask)
    return _collect_movable(mask, p.employer, bits)


@njit(cache=True)
def movable_among(slots, bits, diverged):
    """Those of ``slots`` (ascending) in the bit set ``bits`` or in ``diverged`` (ascending), in order."""
    out = np.empty(slots.shape[0], dtype=np.int64)
    n = d = 0
    for k in range(slots.shape[0]):
        i = slots[k]
        while d < diverged.shape[0] and diverged[d] < i:
            d += 1
        if has_bit(bits, i) or (d < diverged.shape[0] and diverged[d] == i):
            out[n] = i
            n += 1
    return out[:n].copy()


# ----- the trunk's screens and staff, corrected for a run's diverged people ---------------------------------


@njit(cache=True)
def correct_screen(diverged, eligible, trunk_borough, own_eligible, own_borough, referred, by_borough):
    """A trunk's screen corrected for a branch's diverged people (``TrunkScreen.for_branch``).

    Moves each diverged person's count in ``by_borough`` from their trunk values (``eligible[slot]``,
    ``trunk_borough``) to their own (``own_eligible``, ``own_borough``), in place; returns the rows of those
    eligible on their own values and never referred (bit set ``referred``), ascending.
    """
    out = np.empty(diverged.shape[0], dtype=np.int64)
    n = 0
    for k in range(diverged.shape[0]):
        i = diverged[k]
        if eligible[i]:
            by_borough[trunk_borough[k]] -= 1
        if own_eligible[k]:
            by_borough[own_borough[k]] += 1
            if not has_bit(referred, i):
                out[n] = k
                n += 1
    return out[:n].copy()


@njit(cache=True)
def correct_headcount(headcount, trunk_employer, own_employer):
    """Move each diverged person in ``headcount`` from their trunk employer to their own, in place."""
    for k in range(trunk_employer.shape[0]):
        if trunk_employer[k] >= 0:
            headcount[trunk_employer[k]] -= 1
        if own_employer[k] >= 0:
            headcount[own_employer[k]] += 1


@njit(cache=True)
def staff_table(employer, borough, n_employers, n_boroughs):
    """Number of each employer's staff living in each borough (int32, employers x boroughs)."""
    out = np.zeros((n_employers + 1, n_boroughs), dtype=np.int32)
    for i in range(employer.shape[0]):
        out[employer[i], borough[i]] += 1  # -1 (no employer) counts into the spare last row
    return out[:n_employers].copy()


@njit(cache=True)
def staff_counts(
    table,
    total,
    emp_status,
    emp_events,
    quiet,
    trunk_employer,
    trunk_borough,
    own_employer,
    own_borough,
    status_counts,
    event_counts,
):
    """Staff counts by employer status and event, as ``staff_pass`` gives them, from a staff table.

    Only the employers not in status ``quiet`` or with an event are read from the table; the staff of
    the others are ``total`` less theirs. With ``quiet`` the status of most employers (the in-work
    strand's employers not yet signed up), that reads a few rows in ten.

    Args:
        table: The trunk's staff by employer and borough (:func:`staff_table`).
        total: Its sum over employers (staff by borough, int64).
        emp_status: Each employer's status.
        emp_events: Each employer's events this month, one bit per event.
        quiet: A status whose employers without an event are counted from ``total``.
        trunk_employer: The trunk's employer of each diverged person.
        trunk_borough: The trunk's borough of each diverged person.
        own_employer: The run's own employer of each diverged person.
        own_borough: The run's own borough of each diverged person.
        status_counts: int64 (status, borough); staff are added by their employer's status.
        event_counts: int64 (event bit, borough); staff are added for each of their employer's events.
    """
    n_b = table.shape[1]
    n_ev = event_counts.shape[0]
    rest = total.copy()  # staff of the quiet employers without events
    for e in range(table.shape[0]):
        s = emp_status[e]
        ev = emp_events[e]
        if s == quiet and not ev:
            continue
        for b in range(n_b):
            status_counts[s, b] += table[e, b]
            rest[b] -= table[e, b]
        if ev:
            for k in range(n_ev):
                if (ev >> k) & 1:
                    for b in range(n_b):
                        event_counts[k, b] += table[e, b]
    for b in range(n_b):
        status_counts[quiet, b] += rest[b]
    for j in range(trunk_employer.shape[0]):  # the diverged: the trunk's employer's count less, their own's more
        for e, b, sign in ((trunk_employer[j], trunk_borough[j], -1), (own_employer[j], own_borough[j], 1)):
            if e >= 0:
                status_counts[emp_status[e], b] += sign
                ev = emp_events[e]
                if ev:
                    for k in range(n_ev):
                        if (ev >> k) & 1:
                            event_counts[k, b] += sign


@njit(cache=True)
def by_employer(slots, employer, n_employers):
    """``slots`` (ascending, all employed) grouped by employer: employer ``e``'s are ``out[offsets[e]:offsets[e + 1]]``.

    Returns:
        ``(out, offsets)``; within an employer the slots stay ascending.
    """
    offsets = np.zeros(n_employers + 1, dtype=np.int64)
    for j in range(slots.shape[0]):
        offsets[employer[slots[j]] + 1] += 1
    for e in range(n_employers):
        offsets[e + 1] += offsets[e]
    at = offsets[:-1].copy()
    out = np.empty(slots.shape[0], dtype=np.int64)
    for j in range(slots.shape[0]):
        e = employer[slots[j]]
        out[at[e]] = slots[j]
        at[e] += 1
    return out, offsets


@njit(cache=True)
def _of_status(grouped, offsets, emp_status, status):
    """The slots in ``grouped`` of the employers in ``status``, in the employers' order."""
    n = 0
    for e in range(emp_status.shape[0]):
        if emp_status[e] == status:
            n += offsets[e + 1] - offsets[e]
    out = np.empty(n, dtype=np.int64)
    k = 0
    for e in range(emp_status.shape[0]):
        if emp_status[e] == status:
            for j in range(offsets[e], offsets[e + 1]):
                out[k] = grouped[j]
                k += 1
    return out


@njit(cache=True)
def _with_diverged(listed, diverged, diverged_employer, emp_status, status):
    """``listed`` without ``diverged``, and with those of them whose employer is in ``status``, ascending."""
    out = np.empty(listed.shape[0] + diverged.shape[0], dtype=np.int64)
    n = 0
    j = 0
    for k in range(diverged.shape[0]):
        d = diverged[k]
        while j < listed.shape[0] and listed[j] < d:
            out[n] = listed[j]
            n += 1
            j += 1
        if j < listed.shape[0] and listed[j] == d:
            j += 1
        e = diverged_employer[k]
        if e >= 0 and emp_status[e] == status:
            out[n] = d
            n += 1
    while j < listed.shape[0]:
        out[n] = listed[j]
        n += 1
        j += 1
    return out[:n].copy()


def staff_among(
    grouped: np.ndarray,
    offsets: np.ndarray,
    diverged: np.ndarray,
    diverged_employer: np.ndarray,
    emp_status: np.ndarray,
    list_a: int,
    list_b: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Of the people in ``grouped`` or ``diverged``, the staff of employers in two statuses.

    Only the employers in those statuses are visited, not every slot in ``grouped``.

    Args:
        grouped: Slots grouped by their employer in the trunk (:func:`by_employer`).
        offsets: Where each employer's slots begin in ``grouped`` (and the last one's end).
        diverged: Slots whose employer may differ from the trunk's, ascending.
        diverged_employer: Their employers (the run's).
        emp_status: Each employer's status.
        list_a: The first status.
        list_b: The second status.

    Returns:
        Slots of those whose employer is in status ``list_a``, and of those in ``list_b``, ascending.
    """
    # sorted by numpy, several times faster than a sort compiled by numba
    return tuple(
        _with_diverged(np.sort(_of_status(grouped, offsets, emp_status, s)), diverged, diverged_employer, emp_status, s)
        for s in (list_a, list_b)
    )


# ----- exchanging a run's values with the trunk's: arrays -------------------------------------------------


@njit(cache=True)
def swap_where(a, slots, values, where):
    """Exchange ``a[slots[k]]`` and ``values[k]`` in place, for the ``k`` where ``where[k]``."""
    for k in range(slots.shape[0]):
        if where[k]:
            i = slots[k]
            held = a[i]
            a[i] = values[k]
            values[k] = held


@njit(cache=True)
def put_where(a, slots, values, where):
    """``a[slots[k]] = values[k]`` for the ``k`` where ``where[k]``."""
    for k in range(slots.shape[0]):
        if where[k]:
            a[slots[k]] = values[k]


@njit(cache=True)
def gather_differs(a, slots, values, out, differs):
    """``out[k] = a[slots[k]]``, and ``differs[k]`` set where that is not ``values[k]``."""
    for k in range(slots.shape[0]):
        held = a[slots[k]]
        out[k] = held
        differs[k] = held != values[k]


# ----- exchanging a run's values with the trunk's: records (rows of 8-byte words) --------------------------


@njit(cache=True)
def swap_rows(words, slots, rows):
    """Exchange ``words[slots[k]]`` and ``rows[k]`` in place."""
    for k in range(slots.shape[0]):
        i = slots[k]
        for w in range(words.shape[1]):
            held = words[i, w]
            words[i, w] = rows[k, w]
            rows[k, w] = held


@njit(cache=True)
def take_rows(words, slots):
    """``words[slots]``."""
    out = np.empty((slots.shape[0], words.shape[1]), dtype=words.dtype)
    for k in range(slots.shape[0]):
        i = slots[k]
        for w in range(words.shape[1]):
            out[k, w] = words[i, w]
    return out


@njit(cache=True)
def put_rows(words, slots, rows, where):
    """``words[slots[k]] = rows[k]`` for the ``k`` where ``where[k]``."""
    for k in range(slots.shape[0]):
        if where[k]:
            i = slots[k]
            for w in range(words.shape[1]):
                words[i, w] = rows[k, w]


@njit(cache=True)
def rows_differ(a, b, out):
    """``out[k]``: whether rows ``a[k]`` and ``b[k]`` differ."""
    for k in range(a.shape[0]):
        differ = False
        for w in range(a.shape[1]):
            differ |= a[k, w] != b[k, w]
        out[k] = differ
