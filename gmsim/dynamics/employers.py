"""Employer ties: a job entry ties the person to an employer, leaving work breaks the tie, and some move.

New hires are matched to employers in proportion to employer size (one uniform number from the
``employers`` stream), so each size band gets its share of employment. A return from sickness absence
keeps the tie; a move out of work or into inactivity ends it. Someone in work (not off sick) moves to
another employer, without a spell out of work, with this month's chance of a job-to-job move
(``labour_market.job_to_job_rate`` times the economy's demand: :meth:`HazardTables.job_to_job_chance
<gmsim.parameters.HazardTables.job_to_job_chance>`); the new employer is drawn by size as a new hire's is,
and ``job_move`` marks the move (a draw of the same employer is no move).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import codes
from ..streams import counter_start, draw
from .hazard import chunk_count, chunk_of

_IN_WORK, _AT_RISK = codes.IN_WORK, codes.AT_RISK
_NOBODY = np.zeros(0, dtype=np.int64)


@njit(cache=True)
def employer_rows(p, cumulative, key, month, move, lo, hi, slots):
    """The employer ties this month of rows ``lo .. hi - 1`` of ``p`` (row ``k``'s slot is ``slots[k]``, or ``k``).

    ``move``: this month's chance of a job-to-job move for someone in work.
    """
    starts = (counter_start(key, month, 0), counter_start(key, month, 1), counter_start(key, month, 2))
    _ties(p.state[lo:hi], p.employer[lo:hi], p.job_move[lo:hi], cumulative, starts, move, lo, slots)


@njit(cache=True)
def _ties(state, employer, job_move, cumulative, starts, move, lo, slots):
    # The rows' arrays passed in, and | and & rather than "or" and "and": the loop then compiles without a
    # branch on each person's state, which the processor cannot predict.
    s_hire, s_move, s_new = starts
    last = cumulative.shape[0] - 1
    some = slots.shape[0] > 0
    for i in range(state.shape[0]):
        slot = slots[i] if some else lo + i
        employed = (state[i] == _IN_WORK) | (state[i] == _AT_RISK)
        tie = employer[i]
        moved = 0
        if employed & (tie < 0):  # a new hire
            tie = min(np.searchsorted(cumulative, draw(s_hire, slot), side="right"), last)
        elif (state[i] == _IN_WORK) & (draw(s_move, slot) < move):  # a job-to-job move
            new = min(np.searchsorted(cumulative, draw(s_new, slot), side="right"), last)
            moved = 1 if new != tie else 0
            tie = new
        employer[i] = tie if employed else -1
        job_move[i] = moved


@njit(cache=True, parallel=True)
def _employers_everyone(p, cumulative, key, month, move, chunks):
    for c in prange(chunks):
        lo, hi = chunk_of(p.state.shape[0], chunks, c)
        employer_rows(p, cumulative, key, month, move, lo, hi, _NOBODY)


def employer_step(p, employers, key, month: int, move: float, slots: np.ndarray | None = None) -> None:
    """Form, break and move employer ties in place, after this month's labour moves; ``p.job_move`` marks moves.

    ``p`` holds everyone, or with ``slots`` just the people of those slots (row ``k`` is slot ``slots[k]``;
    see :func:`~gmsim.dynamics.labour.labour_step`). A new hire's employer, and a mover's new one, are drawn
    by ``employers.cumulative``; ``move`` is this month's chance of a job-to-job move for someone in work.
    """
    if slots is None:
        _employers_everyone(p, employers.cumulative, key, month, move, chunk_count())
    else:
        slots = np.ascontiguousarray(slots, np.int64)
        employer_rows(p, employers.cumulative, key, month, move, 0, len(slots), slots)
