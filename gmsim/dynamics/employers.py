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

_IN_WORK, _AT_RISK = codes.IN_WORK, codes.AT_RISK


@njit(cache=True)
def _employers_person(i, slot, p, cumulative, start, last):
    """The employer tie this month of the person in row ``i`` of ``p``, with slot ``slot``'s number."""
    s = p.state[i]
    employed = s == _IN_WORK or s == _AT_RISK
    if not employed:
        p.employer[i] = -1
    elif p.employer[i] < 0:
        p.employer[i] = min(np.searchsorted(cumulative, draw(start, slot), side="right"), last)


@njit(cache=True, parallel=True)
def _employers_everyone(p, cumulative, key, month):
    start = counter_start(key, month, 0)
    last = cumulative.shape[0] - 1
    for i in prange(p.state.shape[0]):
        _employers_person(i, i, p, cumulative, start, last)


@njit(cache=True)
def _employers_some(p, cumulative, key, month, slots):
    start = counter_start(key, month, 0)
    last = cumulative.shape[0] - 1
    for k in range(slots.shape[0]):
        _employers_person(k, slots[k], p, cumulative, start, last)


def employer_step(p, employers, key, month: int, slots: np.ndarray | None = None) -> None:
    """Form and break employer ties in place, after this month's labour moves.

    ``p`` holds everyone, or with ``slots`` just the people of those slots (row ``k`` is slot ``slots[k]``;
    see :func:`~gmsim.dynamics.labour.labour_step`). A new hire's employer is drawn by
    ``employers.cumulative``.
    """
    if slots is None:
        _employers_everyone(p, employers.cumulative, key, month)
    else:
        _employers_some(p, employers.cumulative, key, month, np.ascontiguousarray(slots, np.int64))
