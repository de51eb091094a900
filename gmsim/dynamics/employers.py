"""Employer ties: a job entry ties the person to an employer, leaving work breaks the tie.

New hires are matched to employers in proportion to employer size (one uniform number from the
``employers`` stream), so each size band gets its share of employment. A return from sickness absence
keeps the tie; a move out of work or into inactivity ends it.
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
def employer_rows(p, cumulative, key, month, lo, hi, slots):
    """The employer ties this month of rows ``lo .. hi - 1`` of ``p`` (row ``k``'s slot is ``slots[k]``, or ``k``)."""
    _ties(p.state[lo:hi], p.employer[lo:hi], cumulative, counter_start(key, month, 0), lo, slots)


@njit(cache=True)
def _ties(state, employer, cumulative, start, lo, slots):
    # The rows' arrays passed in, and | and & rather than "or" and "and": the loop then compiles without a
    # branch on each person's state, which the processor cannot predict.
    last = cumulative.shape[0] - 1
    some = slots.shape[0] > 0
    for i in range(state.shape[0]):
        employed = (state[i] == _IN_WORK) | (state[i] == _AT_RISK)
        if employed & (employer[i] < 0):
            slot = slots[i] if some else lo + i
            employer[i] = min(np.searchsorted(cumulative, draw(start, slot), side="right"), last)
        else:
            employer[i] = employer[i] if employed else -1


@njit(cache=True, parallel=True)
def _employers_everyone(p, cumulative, key, month, chunks):
    for c in prange(chunks):
        lo, hi = chunk_of(p.state.shape[0], chunks, c)
        employer_rows(p, cumulative, key, month, lo, hi, _NOBODY)


def employer_step(p, employers, key, month: int, slots: np.ndarray | None = None) -> None:
    """Form and break employer ties in place, after this month's labour moves.

    ``p`` holds everyone, or with ``slots`` just the people of those slots (row ``k`` is slot ``slots[k]``;
    see :func:`~gmsim.dynamics.labour.labour_step`). A new hire's employer is drawn by
    ``employers.cumulative``.
    """
    if slots is None:
        _employers_everyone(p, employers.cumulative, key, month, chunk_count())
    else:
        slots = np.ascontiguousarray(slots, np.int64)
        employer_rows(p, employers.cumulative, key, month, 0, len(slots), slots)
