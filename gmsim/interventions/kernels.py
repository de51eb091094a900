"""Compiled passes for the interventions' monthly bookkeeping.

Eligibility, referral candidates, counts by borough and the employer-to-staff lookups of the in-work
strand each need a pass over every person, and the rest of the bookkeeping a pass over the participants.
Each such pass is one compiled loop with no temporary arrays. The loops are serial, and written without
branches where they can be: these passes are short and limited by memory (docs/performance.md). Every
kernel gives exactly what the numpy expression it
replaces gives: slot lists in ascending order (or in the order of the input slots), and integer counts.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ..codes import AFTER, AT_RISK, DONE, IN_WORK_SUPPORT, NOT_REFERRED, SUPPORTED, WAITING, T
from ..streams import counter_start, draw

_JOB_ENTRY_A, _JOB_ENTRY_B = T["out_of_work_to_in_work"], T["inactive_to_in_work"]
_EMPLOYED_MAX = AT_RISK  # states up to this one are employed

INT_MAX = 2**62


def at_least(x: float) -> int:
    """The smallest integer ``k`` with ``k >= x``: for whole numbers ``m``, ``m >= x`` exactly when ``m >= k``."""
    return int(min(max(np.ceil(x), -INT_MAX), INT_MAX))


def bits(allowed: list[int]) -> int:
    """A bit set of small codes (bit ``k`` set when code ``k`` is allowed)."""
    out = 0
    for k in allowed:
        out |= 1 << int(k)
    return out


# ----- passes over every person ------------------------------------------------------------------


@njit(cache=True)
def nonzero(a):
    """Slots where ``a`` (a mask or int8 codes >= 0) is not zero, ascending (``np.flatnonzero(a)``)."""
    m = a.view(np.uint8)
    n_true = 0
    for i in range(m.shape[0]):
        n_true += m[i] != 0
    out = np.empty(n_true + 1, dtype=np.int64)
    k = 0
    for i in range(m.shape[0]):
        out[k] = i
        k += m[i] != 0
    return out[:n_true]


@njit(cache=True)
def candidates(eligible, referred_month, never, borough, counts):
    """Eligible people never referred (slots ascending); adds the eligible by borough into ``counts``.

    Args:
        eligible: Boolean mask over people.
        referred_month: Month each person was referred (``never`` if not).
        never: The "never referred" value.
        borough: Each person's borough.
        counts: int64 per borough; the eligible are added to it.

    Returns:
        Slots of the eligible with ``referred_month == never``.
    """
    listed = nonzero(eligible)
    k = 0
    for j in range(listed.shape[0]):
        i = listed[j]
        counts[borough[i]] += 1
        listed[k] = i
        k += referred_month[i] == never
    return listed[:k].copy()


@njit(cache=True)
def headcount(employer, n_employers):
    """Number of people tied to each employer (``np.bincount`` of the ties, int64)."""
    out = np.zeros(n_employers + 1, dtype=np.int64)
    for i in range(employer.shape[0]):
        out[employer[i]] += 1  # -1 (no employer) counts into the spare last entry
    return out[:n_employers].copy()


@njit(cache=True)
def staff_pass(employer, emp_status, emp_events, borough, staff, status_counts, event_counts, list_a, list_b):
    """Each person's employer's status, staff counts by status and event, and two lists of staff.

    Args:
        employer: Each person's employer row (-1: none).
        emp_status: Each employer's status (int8, codes 0..5).
        emp_events: Each employer's events this month, one bit per event (uint8).
        borough: Each person's borough.
        staff: Output, int8 per person: the employer's status, -1 without an employer.
        status_counts: int64 (status, borough); staff are added by their employer's status.
        event_counts: int64 (event bit, borough); staff are added for each of their employer's events.
        list_a: Status whose staff are listed first.
        list_b: Status whose staff are listed second.

    Returns:
        Slots of the staff of employers in status ``list_a``, and of those in ``list_b``, ascending.
    """
    n_st, n_b = status_counts.shape
    n_ev = event_counts.shape[0]
    # One code per employer for its status and events: (status + 1) + (n_st + 1) x events; code 0 (status
    # -1, no events) is read by employer -1. People are counted by code and borough, and the codes' counts
    # are then added to the counts of their status and of each of their events.
    n_codes = (n_st + 1) << n_ev
    code = np.zeros(emp_status.shape[0] + 1, dtype=np.int16)
    for e in range(emp_status.shape[0]):
        code[e] = emp_status[e] + 1 + (n_st + 1) * np.int64(emp_events[e])
    status_of = np.empty(n_codes, dtype=np.int8)
    for c in range(n_codes):
        status_of[c] = c % (n_st + 1) - 1
    by_code = np.zeros(n_codes * n_b, dtype=np.int64)
    for i in range(employer.shape[0]):
        c = code[employer[i]]
        staff[i] = status_of[c]
        by_code[c * n_b + borough[i]] += 1
    n_a = 0
    n_b_list = 0
    for c in range(n_codes):
        s = status_of[c]
        ev = c // (n_st + 1)
        for b in range(n_b):
            count = by_code[c * n_b + b]
            if s >= 0:
                status_counts[s, b] += count
            for k in range(n_ev):
                if (ev >> k) & 1:
                    event_counts[k, b] += count
            n_a += count if s == list_a else 0
            n_b_list += count if s == list_b else 0
    out_a = np.empty(n_a + 1, dtype=np.int64)
    out_b = np.empty(n_b_list + 1, dtype=np.int64)
    ka = 0
    kb = 0
    for i in range(staff.shape[0]):
        s = staff[i]
        out_a[ka] = i
        ka += s == list_a
        out_b[kb] = i
        kb += s == list_b
    return out_a[:n_a].copy(), out_b[:n_b_list].copy()


# ----- passes over the tracked participants --------------------------------------------------------


@njit(cache=True)
def with_status(slots, status, value):
    """The ``slots`` whose ``status`` is ``value``, in their order."""
    k = 0
    for j in range(slots.shape[0]):
        if status[slots[j]] == value:
            k += 1
    out = np.empty(k, dtype=np.int64)
    k = 0
    for j in range(slots.shape[0]):
        i = slots[j]
        if status[i] == value:
            out[k] = i
            k += 1
    return out


@njit(cache=True)
def count_by_borough(slots, borough, n_boroughs):
    """Number of ``slots`` in each borough (int64)."""
    out = np.zeros(n_boroughs, dtype=np.int64)
    for j in range(slots.shape[0]):
        out[borough[slots[j]]] += 1
    return out


@njit(cache=True)
def repeated_sum(weight, counts):
    """``weight`` added ``counts[b]`` times to 0.0, for each b: ``np.bincount``'s sum of equal weights."""
    out = np.zeros(counts.shape[0])
    for b in range(counts.shape[0]):
        acc = 0.0
        for _ in range(counts[b]):
            acc += weight
        out[b] = acc
    return out


@njit(cache=True)
def _give_rows(index, owner, used, slots):
    """Give each of ``slots`` without a row (``index`` -1) the next free one; returns the rows given out now."""
    for k in range(slots.shape[0]):
        i = slots[k]
        if index[i] < 0:
            index[i] = used
            owner[used] = i
            used += 1
    return used


@njit(cache=True)
def multiply_at(values, index, owner, used, col, slots, ratio):
    """``values[index[slots], col] *= ratio`` as numpy does it (gather, multiply, scatter; float32).

    A slot without a row (``index`` -1) first gets the next free one, ``used``, which must be all 1.

    Args:
        values: The multipliers' rows (float32, rows x claimed transitions).
        index: Each slot's row, or -1 (int32; set for the slots given a row).
        owner: Each row's slot (set for the rows given out).
        used: Rows given out so far.
        col: The transition's column.
        slots: Person slots.
        ratio: float32, one per slot or a single value.

    Returns:
        The rows given out now, and the largest value written (1.0 if none).
    """
    m = slots.shape[0]
    used = _give_rows(index, owner, used, slots)
    tmp = np.empty(m, dtype=np.float32)
    one = ratio.shape[0] == 1
    largest = 1.0
    for k in range(m):
        tmp[k] = values[index[slots[k]], col] * (ratio[0] if one else ratio[k])
    for k in range(m):
        values[index[slots[k]], col] = tmp[k]
        largest = max(largest, float(tmp[k]))
    return used, largest


@njit(cache=True)
def multiply_cols(values, index, owner, used, cols, slots, ratios, largest):
    """:func:`multiply_at` for several columns: ``values[index[slots], cols[j]] *= ratios[j]`` for each ``j``.

    ``largest[j]`` is set to the largest value written in column ``cols[j]`` (1.0 if none).

    Returns:
        The rows given out now.
    """
    m = slots.shape[0]
    used = _give_rows(index, owner, used, slots)
    rows = np.empty(m, dtype=np.int64)
    for k in range(m):
        rows[k] = index[slots[k]]
    tmp = np.empty(m, dtype=np.float32)
    for j in range(cols.shape[0]):
        c = cols[j]
        r = ratios[j]
        top = 1.0
        for k in range(m):
            tmp[k] = values[rows[k], c] * r
        for k in range(m):
            values[rows[k], c] = tmp[k]
            top = max(top, float(tmp[k]))
        largest[j] = top
    return used


def bit_set(n: int) -> np.ndarray:
    """An empty bit set of ``n`` slots (uint64 words): one bit a person, small enough to stay in cache."""
    return np.zeros((n + 63) // 64, dtype=np.uint64)


@njit(cache=True, inline="always")
def has_bit(bits, i):
    """Whether bit ``i`` of the bit set ``bits`` is set."""
    return (bits[i >> 6] >> np.uint64(i & 63)) & np.uint64(1) == np.uint64(1)


@njit(cache=True, inline="always")
def set_bit(bits, i, on):
    """Set (``on``) or clear bit ``i`` of the bit set ``bits``."""
    bit = np.uint64(1) << np.uint64(i & 63)
    if on:
        bits[i >> 6] |= bit
    else:
        bits[i >> 6] &= ~bit


@njit(cache=True)
def set_bits(bits, slots, on):
    """Set (``on``) or clear bit ``slot`` of the bit set ``bits`` for each of ``slots``."""
    for k in range(slots.shape[0]):
        set_bit(bits, slots[k], on)


@njit(cache=True)
def bits_at(bits, slots):
    """Whether bit ``slot`` of the bit set ``bits`` is set, for each of ``slots``."""
    out = np.empty(slots.shape[0], dtype=np.bool_)
    for k in range(slots.shape[0]):
        out[k] = has_bit(bits, slots[k])
    return out


def locate(sorted_slots: np.ndarray, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``slots`` is in ``sorted_slots`` (ascending, not empty), and whether it is there."""
    at = np.minimum(np.searchsorted(sorted_slots, slots), len(sorted_slots) - 1)
    return at, sorted_slots[at] == slots


@njit(cache=True)
def set_at(row, slots, value):
    """``row[slots] = value``."""
    for k in range(slots.shape[0]):
        row[slots[k]] = value


class Tracked(NamedTuple):
    """The people taking part in an intervention, with their columns, read in order rather than scattered.

    Attributes:
        slots: Their slots, ascending.
        status: Each one's status (a copy of the records' ``status``, changed with it).
        since: The month it began (a copy of ``status_month``, changed with it).
        borough: Their borough.
    """

    slots: np.ndarray
    status: np.ndarray
    since: np.ndarray
    borough: np.ndarray


class Records(NamedTuple):
    """An intervention's per-person records, one entry a slot (docs/model.md section 7.4).

    Attributes:
        status: Participation status (``codes.PARTICIPATION``).
        status_month: Month the status began.
        referred_month: Month of the referral (``codes.NEVER`` if none).
        started_month: Month support started.
        job_month: Month of the latest counted job entry.
        flags: Bit 0: at risk when support started; bit 1: job held 12 months.
    """

    status: np.ndarray
    status_month: np.ndarray
    referred_month: np.ndarray
    started_month: np.ndarray
    job_month: np.ndarray
    flags: np.ndarray


class Timing(NamedTuple):
    """How long each status lasts, in months, and the monthly chance of leaving the waiting list."""

    support_months: float
    after_months: float
    in_work_months: float
    max_wait_months: float
    dropout_probability: float


class Eligibility(NamedTuple):
    """Who is eligible this month: ``eligible[slot]``, but ``exceptions_eligible[k]`` for the slot ``exceptions[k]``.

    ``exceptions`` are ascending (a population may screen everyone once and give a few people's own
    eligibility beside it).
    """

    eligible: np.ndarray
    exceptions: np.ndarray
    exceptions_eligible: np.ndarray


class ReviewCounts(NamedTuple):
    """What a month's review adds up, by borough: support completed, waiting list left, stocks by status."""

    completed: np.ndarray
    dropped_out: np.ndarray
    stocks: np.ndarray


class FollowUps(NamedTuple):
    """The people whose outcomes are due this month (step 7), by the month each follow-up looks back to.

    Attributes:
        held_6: Slots of the job entries 6 months ago.
        held_12: Slots of the job entries 12 months ago.
        kept: Slots of the starts 6 months ago.
    """

    held_6: np.ndarray
    held_12: np.ndarray
    kept: np.ndarray


@njit(cache=True)
def review_tracked(tracked, records, leavers, month, timing, dropout_key, eligibility, counts):
    """Steps 2 and 3 of the lifecycle in one pass over the tracked: support ends, the waiting list is reviewed.

    ``tracked`` (:class:`Tracked`) are read in order; status changes are written to them and to ``records``.
    The tracked whose person left the population this month (in ``leavers``, ascending) or whose status
    is none or done are no longer tracked. Of the others, the supported for ``timing.support_months`` move
    to after-effects (or done if ``timing.after_months`` is 0) and are added by borough to
    ``counts.completed``; those in after-effects for ``after_months`` and in in-work support for
    ``in_work_months`` are done (and tracked until next month). A waiting person leaves the list (done,
    added to ``counts.dropped_out``) if they are no longer eligible (:class:`Eligibility`), have waited
    ``max_wait_months``, or their number of the dropout stream (``dropout_key``, this month) is below
    ``dropout_probability``.

    The waiting, supported and in in-work support afterwards are added by status and borough to
    ``counts.stocks`` (:class:`ReviewCounts`).

    Returns:
        The tracked from now on (:class:`Tracked`); the positions among them of those waiting, supported, in
        after-effects and in in-work support; and how many were waiting before the review.
    """
    slots, status_of, since_of, borough_of = tracked
    eligible, exceptions, exceptions_eligible = eligibility
    completed, dropped_out, stocks = counts
    m = slots.shape[0]
    out = np.empty(m, dtype=np.int64)
    out_status = np.empty(m, dtype=np.int8)
    out_since = np.empty(m, dtype=np.int16)
    out_borough = np.empty(m, dtype=np.int8)
    lists = np.empty((4, m), dtype=np.int64)
    listed = np.zeros(4, dtype=np.int64)
    dropout_start = counter_start(dropout_key, month & 0xFFFFFFFF, 0)
    n = left = d = was_waiting = 0
    for j in range(m):
        i = slots[j]
        while left < leavers.shape[0] and leavers[left] < i:
            left += 1
        s = status_of[j]
        if s == NOT_REFERRED or s == DONE or (left < leavers.shape[0] and leavers[left] == i):
            continue
        since = since_of[j]
        b = borough_of[j]
        spent = month - np.int64(since)
        if s == WAITING:
            was_waiting += 1
            while d < exceptions.shape[0] and exceptions[d] < i:
                d += 1
            still = exceptions_eligible[d] if d < exceptions.shape[0] and exceptions[d] == i else eligible[i]
            if (not still) or spent >= timing.max_wait_months or draw(dropout_start, i) < timing.dropout_probability:
                dropped_out[b] += 1
                s = DONE
        elif s == SUPPORTED and spent >= timing.support_months:
            completed[b] += 1
            s = AFTER if timing.after_months > 0 else DONE
        elif (s == AFTER and spent >= timing.after_months) or (s == IN_WORK_SUPPORT and spent >= timing.in_work_months):
            s = DONE
        if s != status_of[j]:
            since = month
            records.status[i] = s
            records.status_month[i] = month
        out[n] = i
        out_status[n] = s
        out_since[n] = since
        out_borough[n] = b
        c = 0 if s == WAITING else 1 if s == SUPPORTED else 2 if s == AFTER else 3 if s == IN_WORK_SUPPORT else -1
        if c >= 0:
            lists[c, listed[c]] = n
            listed[c] += 1
            if c != 2:
                stocks[s, b] += 1
        n += 1
    return (
        Tracked(out[:n].copy(), out_status[:n].copy(), out_since[:n].copy(), out_borough[:n].copy()),
        lists[0, : listed[0]].copy(),
        lists[1, : listed[1]].copy(),
        lists[2, : listed[2]].copy(),
        lists[3, : listed[3]].copy(),
        was_waiting,
    )


@njit(cache=True)
def insert_tracked(tracked, slots, status, since, borough):
    """``tracked`` (:class:`Tracked`) with ``slots`` (ascending, none of them tracked) added in order."""
    m, k = tracked.slots.shape[0], slots.shape[0]
    old_slots, old_status, old_since, old_borough = tracked
    out = np.empty(m + k, dtype=np.int64)
    out_status = np.empty(m + k, dtype=np.int8)
    out_since = np.empty(m + k, dtype=np.int16)
    out_borough = np.empty(m + k, dtype=np.int8)
    a = b = 0
    for n in range(m + k):
        if b >= k or (a < m and old_slots[a] < slots[b]):
            out[n], out_status[n], out_since[n], out_borough[n] = (
                old_slots[a],
                old_status[a],
                old_since[a],
                old_borough[a],
            )
            a += 1
        else:
            out[n], out_status[n], out_since[n], out_borough[n] = slots[b], status, since, borough[b]
            b += 1
    return Tracked(out, out_status, out_since, out_borough)


@njit(cache=True)
def review_employers(status, status_month, month, timing, dropout_key, events, completed_bit, dropped_bit):
    """The in-work strand's employers, one pass: support and after-effects end, the waiting list is reviewed.

    Supported employers for ``timing.support_months`` move to after-effects (done if ``after_months`` is 0),
    with event bit ``completed_bit``; those in after-effects for ``after_months`` are done. A waiting employer
    leaves the list (done, event bit ``dropped_bit``) if it has waited ``max_wait_months`` or its number of
    the dropout stream (``dropout_key``, this month) is below ``dropout_probability``. Changed statuses
    take this month.

    Returns:
        The employers still waiting (ascending), and the number supported.
    """
    out = np.empty(status.shape[0], dtype=np.int64)
    n = n_supported = 0
    dropout_start = counter_start(dropout_key, month & 0xFFFFFFFF, 0)
    for e in range(status.shape[0]):
        s = status[e]
        if s != SUPPORTED and s != AFTER and s != WAITING:
            continue
        spent = month - np.int64(status_month[e])
        if s == SUPPORTED:
            if spent >= timing.support_months:
                status[e] = AFTER if timing.after_months > 0 else DONE
                status_month[e] = month
                events[e] |= completed_bit
            else:
                n_supported += 1
        elif s == AFTER:
            if spent >= timing.after_months:
                status[e] = DONE
                status_month[e] = month
        elif spent >= timing.max_wait_months or draw(dropout_start, e) < timing.dropout_probability:
            status[e] = DONE
            status_month[e] = month
            events[e] |= dropped_bit
        else:
            out[n] = e
            n += 1
    return out[:n].copy(), n_supported


@njit(cache=True)
def sign_ups(eligible, probability, key, month):
    """The ``eligible`` whose number of stream ``key`` this month is below their ``probability``, ascending."""
    out = np.empty(eligible.shape[0], dtype=np.int64)
    n = 0
    start = counter_start(key, month & 0xFFFFFFFF, 0)
    for e in range(eligible.shape[0]):
        if eligible[e] and draw(start, e) < probability[e]:
            out[n] = e
            n += 1
    return out[:n].copy()


@njit(cache=True)
def outcomes(tracked, due, records, p, month, in_work_support, counts):
    """Step 7 of the lifecycle: job entries, jobs held, people kept in work.

    Job entries are looked for among the participants (``tracked``, :class:`Tracked`); each follow-up among
    the people it can be due for (``due``, :class:`FollowUps`: those who entered a job or started in the
    month it looks back to), and counted for those whose record still shows that month (a
    slot's record is cleared when its person leaves).

    Args:
        tracked: The participants; a job entry changes their status and its month here and in ``records``.
        due: The people each follow-up looks at this month.
        records: The intervention's records (:class:`Records`); ``job_month`` and ``flags`` are set here.
        p: The people arrays (their state, this month's labour move and borough are read).
        month: This month.
        in_work_support: The status a job entry moves to, or -1 to leave the status as it is.
        counts: int64 (4, borough): job entries, jobs held 6 months, held 12 months, kept in work; added to.

    Returns:
        The slots that entered a job this month, ascending.
    """
    state, labour_event, borough = p.state, p.labour_event, p.borough
    job_month, flags = records.job_month, records.flags
    active, active_status, active_since, active_borough = tracked
    entries = np.empty(active.shape[0], dtype=np.int64)
    n = 0
    for j in range(active.shape[0]):
        s = active_status[j]
        if s != SUPPORTED and s != AFTER:
            continue
        i = active[j]
        if labour_event[i] == _JOB_ENTRY_A or labour_event[i] == _JOB_ENTRY_B:
            entries[n] = i
            n += 1
            job_month[i] = month
            counts[0, active_borough[j]] += 1
            if in_work_support >= 0:
                records.status[i] = active_status[j] = in_work_support
                records.status_month[i] = active_since[j] = month
    for j in range(due.held_6.shape[0]):
        i = due.held_6[j]
        if job_month[i] == month - 6 and state[i] <= _EMPLOYED_MAX:
            counts[1, borough[i]] += 1
    for j in range(due.held_12.shape[0]):
        i = due.held_12[j]
        if job_month[i] == month - 12 and state[i] <= _EMPLOYED_MAX:
            counts[2, borough[i]] += 1
            flags[i] |= 2
    for j in range(due.kept.shape[0]):
        i = due.kept[j]
        if records.started_month[i] == month - 6 and (flags[i] & 1) == 1 and state[i] <= _EMPLOYED_MAX:
            counts[3, borough[i]] += 1
    return entries[:n].copy()


@njit(cache=True)
def within(a, b):
    """Whether each of ``a`` is in ``b`` (both ascending): ``np.isin`` for sorted arrays, in one walk."""
    out = np.zeros(a.shape[0], dtype=np.bool_)
    j = 0
    for k in range(a.shape[0]):
        while j < b.shape[0] and b[j] < a[k]:
            j += 1
        out[k] = j < b.shape[0] and b[j] == a[k]
    return out


@njit(cache=True)
def ascending(a):
    """Whether ``a`` is strictly ascending (so it has no repeats)."""
    for k in range(1, a.shape[0]):
        if a[k] <= a[k - 1]:
            return False
    return True


@njit(cache=True)
def merge(a, b):
    """The union of two ascending arrays, ascending (``np.union1d`` without sorting)."""
    out = np.empty(a.shape[0] + b.shape[0], dtype=np.int64)
    i = j = k = 0
    while i < a.shape[0] or j < b.shape[0]:
        if j >= b.shape[0] or (i < a.shape[0] and a[i] < b[j]):
            out[k] = a[i]
            i += 1
        elif i >= a.shape[0] or b[j] < a[i]:
            out[k] = b[j]
            j += 1
        else:  # in both
            out[k] = a[i]
            i += 1
            j += 1
        k += 1
    return out[:k]
