"""Employer ties: a job entry ties the person to an employer, leaving work breaks the tie, and some move.

New hires are matched to employers in proportion to employer size times how often people of their
borough and age group (under 25, or 25 and over) work in the employer's sector (one uniform number from
the ``employers`` stream, and the hiring table of the person's borough and age group:
:func:`~gmsim.agents.employers.hiring_tables`), so each size band gets its share of employment, each
borough's residents their borough's mix of sectors, and people under 25 the sectors of retail,
hospitality and leisure more often than others (:func:`~gmsim.geography.sector_mix_by_age`). A hire
whose last job was in sector ``s`` instead joins a firm of ``s`` (drawn from the same table within the
sector) with this month's chance of rejoining it (``labour_market.sector_attachment`` in a steady
economy; :attr:`Market.rejoin <gmsim.dynamics.labour.Market.rejoin>`), a number of its own (draw index
3); so does a job-to-job mover, with their employer's sector (draw index 4). A return from sickness
absence keeps the tie; a move out of work or into inactivity ends it and records the firm's sector as the
person's ``last_sector``. Someone in work (not off sick) moves to another employer, without a spell out
of work, with this month's chance of a job-to-job move (``labour_market.job_to_job_rate`` times the
economy's demand: :meth:`HazardTables.job_to_job_chance <gmsim.parameters.HazardTables.job_to_job_chance>`);
the new employer is drawn as a new hire's is, and ``job_move`` marks the move (a draw of the same
employer is no move). Whether a person's slot moves this month is drawn for the few slots that do, by
geometric gaps within tiles of slots (:data:`MOVE_TILE`), rather than with a number for everyone: the
same chance for each slot, and a draw of its own.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import codes
from ..streams import counter_start, draw
from .hazard import chunk_count, chunk_of

_IN_WORK, _AT_RISK = codes.IN_WORK, codes.AT_RISK
_YOUNG_HIRE_MONTHS = codes.YOUNG_HIRE_MONTHS
_NOBODY = np.zeros(0, dtype=np.int64)


#: Job-to-job moves are found a tile of slots at a time: within a tile, the slots whose person moves if in
#: work follow one another by geometric gaps (each slot with the month's chance), so that a month draws
#: numbers for the few slots that could move rather than one for every person, and a slot's chance depends
#: only on the seed, the month and the chance itself.
MOVE_TILE = 4096


@njit(cache=True)
def employer_rows(p, employers, key, month, move, rejoin, lo, hi, slots):
    """The employer ties this month of rows ``lo .. hi - 1`` of ``p`` (row ``k``'s slot is ``slots[k]``, or ``k``).

    ``move``: this month's chance of a job-to-job move for someone in work; ``rejoin[s]``: the chance that a
    hire whose last job was in sector ``s``, or a mover whose job is in it, joins a firm of that sector
    (:attr:`Market.rejoin <gmsim.dynamics.labour.Market.rejoin>`).
    """
    state, employer, job_move, borough = p.state[lo:hi], p.employer[lo:hi], p.job_move[lo:hi], p.borough[lo:hi]
    last_sector, age = p.last_sector[lo:hi], p.age_months[lo:hi]
    starts = (counter_start(key, month, 0), counter_start(key, month, 1), counter_start(key, month, 2))
    moved = np.zeros(hi - lo, dtype=np.bool_)
    if move > 0.0:
        s_keep = counter_start(key, month, 4)
        _job_moves(state, employer, borough, age, employers, rejoin, starts, s_keep, move, lo, slots, moved)
    s_stay = counter_start(key, month, 3)
    _ties(state, employer, job_move, borough, age, last_sector, employers, rejoin, starts[0], s_stay, lo, slots, moved)


@njit(cache=True)
def _job_moves(state, employer, borough, age, employers, rejoin, starts, s_keep, move, lo, slots, moved):
    """Move the rows' people in work whose slot moves this month to an employer from their borough's and age's table.

    Within their employer's sector with the chance ``rejoin`` gives it (a number from ``s_keep``).
    """
    _, s_tile, s_new = starts
    log_stay = np.log1p(-move)
    n = state.shape[0]
    if slots.shape[0] > 0:  # some people: is each one's slot among its tile's?
        # One walk along a tile's moving slots serves its people while their slots ascend (they do: rows
        # follow slots), rather than a walk from the tile's start for each person.
        tile, at, k, previous = -1, 0, 0, -1
        for i in range(n):
            if not (state[i] == _IN_WORK and employer[i] >= 0):
                continue
            slot = slots[i]
            if slot // MOVE_TILE != tile or slot < previous:  # another tile, or back within it: walk afresh
                tile = slot // MOVE_TILE
                at, k = tile * MOVE_TILE - 1, 0
            previous = slot
            while at < slot:
                at += _gap(s_tile, tile, k, log_stay)
                k += 1
            if at == slot:
                g = _age_group(age[i])
                moved[i] = _move(employer, i, employers, borough[i], g, rejoin, s_keep, slot, draw(s_new, slot))
        return
    for tile in range(lo // MOVE_TILE, (lo + n - 1) // MOVE_TILE + 1):  # everyone of slots lo .. lo + n - 1
        slot, k = tile * MOVE_TILE - 1, 0
        while True:
            slot += _gap(s_tile, tile, k, log_stay)
            k += 1
            if slot >= (tile + 1) * MOVE_TILE:
                break
            i = slot - lo
            if 0 <= i < n and state[i] == _IN_WORK and employer[i] >= 0:
                g = _age_group(age[i])
                moved[i] = _move(employer, i, employers, borough[i], g, rejoin, s_keep, slot, draw(s_new, slot))


@njit(cache=True, inline="always")
def _gap(start, tile, k, log_stay):
    """Slots from one that moves to the next in ``tile`` (geometric, from the tile's ``k``-th number).

    A gap of a tile or more leaves the tile whatever its size, so it is capped there (a tiny chance would
    otherwise overflow the integer).
    """
    return 1 + int(min(np.log1p(-draw(start, tile * MOVE_TILE + k)) / log_stay, MOVE_TILE))


@njit(cache=True, inline="always")
def _age_group(age_months):
    """A hire's age group for their sector (:func:`~gmsim.geography.sector_mix_by_age`): 0 under 25, else 1."""
    return 0 if age_months < _YOUNG_HIRE_MONTHS else 1


@njit(cache=True, inline="always")
def _by_size(cumulative, u):
    """The employer drawn from one hiring table (a borough's, for an age group) with ``u`` (a hire's, or a mover's)."""
    return min(np.searchsorted(cumulative, u, side="right"), cumulative.shape[0] - 1)


@njit(cache=True, inline="always")
def _move(employer, i, employers, b, g, rejoin, s_keep, slot, u):
    """Tie row ``i`` (slot ``slot``, borough ``b``, age group ``g``) to the employer drawn with ``u``; if it is another.

    From the firms of their employer's sector with that sector's chance in ``rejoin``, else from the
    borough's whole table (:func:`_hire`).
    """
    s = employers.sector[employer[i]]
    keep = rejoin[s] > 0.0 and draw(s_keep, slot) < rejoin[s]
    new = _hire(employers, b, g, s, keep, u)
    moved = new != employer[i]
    employer[i] = new
    return moved


@njit(cache=True, inline="always")
def _hire(employers, b, g, last, stay, u):
    """A hire's employer, drawn with ``u`` from the hiring table of borough ``b`` and age group ``g``.

    From the firms of sector ``last`` only if ``stay``.
    """
    if stay:
        lo, hi = employers.sector_start[last], employers.sector_start[last + 1]
        if hi > lo:
            j = np.searchsorted(employers.within_sector[b, lo:hi], u, side="right")
            return employers.by_sector[lo + min(j, hi - lo - 1)]
    return _by_size(employers.cumulative[g, b], u)


@njit(cache=True)
def _ties(state, employer, job_move, borough, age, last_sector, employers, rejoin, s_hire, s_stay, lo, slots, moved):
    # The rows' arrays passed in; the common case (a tie that stays as it is) decided without a branch on
    # the person's state, which the processor cannot predict.
    some = slots.shape[0] > 0
    for i in range(state.shape[0]):
        employed = (state[i] == _IN_WORK) | (state[i] == _AT_RISK)
        e = employer[i]
        if employed & (e < 0):  # a new hire: back to their last job's sector with its chance
            slot = slots[i] if some else lo + i
            last = last_sector[i]
            stay = last >= 0 and rejoin[last] > 0.0 and draw(s_stay, slot) < rejoin[last]
            e = _hire(employers, borough[i], _age_group(age[i]), last, stay, draw(s_hire, slot))
        elif (not employed) & (e >= 0):  # the tie ends
            last_sector[i] = employers.sector[e]
            e = -1
        employer[i] = e
        job_move[i] = moved[i]


@njit(cache=True, parallel=True)
def _employers_everyone(p, employers, key, month, move, rejoin, chunks):
    for c in prange(chunks):
        lo, hi = chunk_of(p.state.shape[0], chunks, c)
        employer_rows(p, employers, key, month, move, rejoin, lo, hi, _NOBODY)


def employer_step(
    p, employers, key, month: int, move: float, slots: np.ndarray | None = None, *, rejoin: np.ndarray
) -> None:
    """Form, break and move employer ties in place, after this month's labour moves; ``p.job_move`` marks moves.

    ``p`` holds everyone, or with ``slots`` just the people of those slots (row ``k`` is slot ``slots[k]``;
    see :func:`~gmsim.dynamics.labour.labour_step`). A new hire's employer, and a mover's new one, are drawn
    from their borough's and age group's row of ``employers.cumulative``; a hire whose last job was in sector
    ``s``, with the chance ``rejoin[s]``, from the firms of that sector only (``employers.within_sector``), and
    so is a mover's whose employer is in sector ``s``. ``move``
    is this month's chance of a job-to-job move for someone in work. A tie that ends sets the person's
    ``last_sector``.
    """
    if slots is None:
        _employers_everyone(p, employers, key, month, move, np.asarray(rejoin, np.float64), chunk_count())
    else:
        slots = np.ascontiguousarray(slots, np.int64)
        employer_rows(p, employers, key, month, move, np.asarray(rejoin, np.float64), 0, len(slots), slots)
