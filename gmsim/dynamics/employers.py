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
from .hazard import COMPACT, EVERYONE, slot_list

_IN_WORK, _AT_RISK = codes.IN_WORK, codes.AT_RISK


@njit(cache=True, inline="always")
def _employers_person(i, slot, state, employer, cumulative, start, last):
    """The employer tie this month of the person in row ``i`` and slot ``slot`` (the process for one person)."""
    s = state[i]
    employed = s == _IN_WORK or s == _AT_RISK
    if not employed:
        employer[i] = -1
    elif employer[i] < 0:
        employer[i] = min(np.searchsorted(cumulative, draw(start, slot), side="right"), last)


@njit(cache=True, parallel=True)
def _employers(state, employer, cumulative, key, month, slots, mode):
    start = counter_start(key, month, 0)
    last = cumulative.shape[0] - 1
    if mode == EVERYONE:
        for i in prange(state.shape[0]):
            _employers_person(i, i, state, employer, cumulative, start, last)
    else:  # given slots: the arrays' rows are those slots, or (compact) hold just their people in order
        compact = mode == COMPACT
        for k in range(slots.shape[0]):
            slot = slots[k]
            row = k if compact else slot
            _employers_person(row, slot, state, employer, cumulative, start, last)


def employer_step(
    p, cumulative: np.ndarray, key, month: int, slots: np.ndarray | None = None, compact: bool = False
) -> None:
    """Form and break employer ties in place, after this month's labour moves (of ``slots`` only, if given).

    With ``compact``, ``p`` holds just the people of ``slots`` (see :func:`~gmsim.dynamics.hazard.slot_list`).
    """
    _employers(p.state, p.employer, cumulative, key, month, *slot_list(slots, compact))
