"""Labour: monthly moves between in work, at risk, out of work and inactive.

From each state a person faces the hazards of the transitions out of it (``codes.LABOUR_FROM``), each
``base x hazard ratios`` (see :mod:`gmsim.dynamics.hazard`): health and severity, age, time in the state
(duration dependence; for at_risk, the end of statutory sick pay after 28 weeks), benefit, skills,
borough and the employer's size and occupational health. Job entry (from out of work or inactivity) is
also multiplied by the person's *job readiness* (``People.job_readiness``, :mod:`gmsim.dynamics.readiness`),
a fixed, unobserved term with mean 1, so that people who are more job-ready leave worklessness sooner and
those left behind are, on average, less job-ready (dynamic selection).

Job entry is rationed by labour demand: a job seeker's entry hazard (their *search*, with any
intervention's multiplier) is multiplied by the job-finding factor of their borough this month
(:mod:`gmsim.market`), and the other moves by the economy's factors (job loss rises in a downturn). A job
seeker first meets the market, with a number of their own from the ``labour`` stream (draw index 1): they
enter work with probability ``1 - exp(-H)``, ``H`` their entry hazard times the factor. Otherwise, and for
people in work, one number (draw index 0) decides whether and where the person moves among the other
moves (competing risks). Entry is monotone in the factor, so a run whose factor differs a little from
another's changes the month of only the few people whose entry number lies between the two thresholds
(:func:`entry_window`). Time in state restarts on a move.
"""

from __future__ import annotations

from typing import NamedTuple

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
_NO_ROWS = np.zeros(0, dtype=np.bool_)

# Transitions out of each state are contiguous in codes.TRANSITIONS: first index per state, then end.
_FIRST = np.array([0, 3, 6, 8, 10], dtype=np.int64)
#: The moves out of state ``s`` are transitions ``LABOUR_FIRST[s] .. LABOUR_FIRST[s + 1] - 1``.
LABOUR_FIRST = _FIRST
_TO = np.array(codes.LABOUR_TO, dtype=np.int8)
_MAX_MONTHS = np.iinfo(np.int16).max
_LAST = codes.N_LABOUR - 1
_OOW, _INACTIVE = codes.OUT_OF_WORK, codes.INACTIVE
#: The job-entry transitions (the first move out of out_of_work and of inactive_other).
_ENTRY = np.array([codes.T["out_of_work_to_in_work"], codes.T["inactive_to_in_work"]])


@njit(cache=True, inline="always")
def enters(u: float, entry_hazard: float) -> bool:
    """Whether a job seeker whose entry number is ``u`` enters work at monthly hazard ``entry_hazard``.

    ``1 - exp(-H) <= H``, so most people need no ``exp()``. Monotone in the hazard.
    """
    return u < entry_hazard and u < 1.0 - np.exp(-entry_hazard)


@njit(cache=True)
def labour_rows(p, employers, tables, bound, mult, market, key, month, lo, hi, slots):
    """The labour moves this month of rows ``lo .. hi - 1`` of ``p`` (row ``k``'s slot is ``slots[k]``, or ``k``)."""
    # The rows' own views, read from 0 (a loop from 0 over views compiles to faster code than over lo..hi).
    state, severity, condition = p.state[lo:hi], p.severity[lo:hi], p.condition[lo:hi]
    age, labour_event, sex, borough = p.age_months[lo:hi], p.labour_event[lo:hi], p.sex[lo:hi], p.borough[lo:hi]
    skills, benefit, months_in_state = p.skills[lo:hi], p.benefit[lo:hi], p.months_in_state[lo:hi]
    employer, ready, last_sector = p.employer[lo:hi], p.job_readiness[lo:hi], p.last_sector[lo:hi]
    size_band, oh, sector = employers.size_band, employers.occupational_health, employers.sector
    phi, phi_top, economy, economy_top = market.phi, market.phi_top, market.economy, market.economy_top
    no_employer = economy.shape[0] - 1  # the economy's last row: GM's factors
    start = counter_start(key, month, 0)
    entry_start = counter_start(key, month, 1)
    some = slots.shape[0] > 0
    intervening = mult.row.shape[0] > 0
    mult_rows = mult.row[lo:hi]
    for i in range(hi - lo):
        slot = slots[i] if some else lo + i
        a = level_a(state[i], severity[i], condition[i], age[i])
        mult_row = mult_rows[i] if intervening else -1
        touch = mult_row >= 0
        s = state[i]
        first = _FIRST[s]
        seeker = s == _OOW or s == _INACTIVE
        b = c = -1
        k = -1
        if seeker:
            ue = draw(entry_start, slot)
            if ue < thinning_limit(bound[1, a] * ready[i] * phi_top, mult.largest, touch):
                b = level_b(sex[i], borough[i], skills[i])
                c = level_c(benefit[i], months_in_state[i], employer[i], size_band, oh)
                h0 = hazard(first, a, b, c, tables) * ready[i]
                if touch:
                    h0 *= multiplier(mult.values, mult.columns, first, mult_row)
                if enters(ue, h0 * phi[borough[i], last_sector[i] + 1]):
                    k = 0
        if k < 0:
            u = draw(start, slot)
            if u < thinning_limit(bound[0, a] * economy_top, mult.largest, touch):
                if b < 0:
                    b = level_b(sex[i], borough[i], skills[i])
                    c = level_c(benefit[i], months_in_state[i], employer[i], size_band, oh)
                r = sector[employer[i]] if employer[i] >= 0 else no_employer
                h0 = 0.0 if seeker else hazard(first, a, b, c, tables) * economy[r, first]
                h1 = hazard(first + 1, a, b, c, tables) * economy[r, first + 1]
                h2 = hazard(first + 2, a, b, c, tables) * economy[r, first + 2] if _FIRST[s + 1] - first == 3 else 0.0
                if touch:
                    h0 *= multiplier(mult.values, mult.columns, first, mult_row)
                    h1 *= multiplier(mult.values, mult.columns, first + 1, mult_row)
                    h2 *= multiplier(mult.values, mult.columns, min(first + 2, _LAST), mult_row)
                k = pick(u, (h0, h1, h2))
        if k < 0:
            labour_event[i] = -1  # no move (see upper_bounds() for those not even looked at)
            if months_in_state[i] < _MAX_MONTHS:
                months_in_state[i] += 1
        else:
            t = first + k
            labour_event[i] = t
            state[i] = _TO[t]
            months_in_state[i] = 0


@njit(cache=True, parallel=True)
def _labour_everyone(p, employers, tables, bound, mult, market, key, month, chunks):
    for c in prange(chunks):
        lo, hi = chunk_of(p.state.shape[0], chunks, c)
        labour_rows(p, employers, tables, bound, mult, market, key, month, lo, hi, _NOBODY)


class Market(NamedTuple):
    """This month's labour market as the labour kernel reads it.

    Attributes:
        phi: Job-finding factor by borough of residence and sector of the last job (float64,
            ``(len(codes.BOROUGHS), len(codes.SECTORS) + 1)``: column 0 for a job seeker with no last job,
            column ``s + 1`` for one whose last job was in sector ``s``): each job seeker's entry hazard is
            multiplied by theirs (:class:`gmsim.market.LabourMarket`).
        phi_top: At least every factor of ``phi`` (and of any run whose people these may be; for thinning).
        economy: The economy's multiplier of each transition's hazard by the sector of the person's employer
            (float64, ``(len(codes.SECTORS) + 1, len(codes.TRANSITIONS))``; people with no employer read the
            last row, GM's; 1 for job entry, which ``phi`` moves).
        economy_top: At least every factor of ``economy`` of a labour move other than job entry, and 1.
        rejoin: The chance that a hire whose last job was in sector ``s`` joins a firm of that sector
            (float64, ``len(codes.SECTORS)``; the employer step reads it).
    """

    phi: np.ndarray
    phi_top: float
    economy: np.ndarray
    economy_top: float
    rejoin: np.ndarray


def steady_market(attachment: float = 0.0) -> Market:
    """The market of a steady economy at its reference tightness: every factor 1.

    Hires rejoin their last job's sector with the chance ``attachment`` (``labour_market.sector_attachment``).
    """
    factors = np.ones((len(codes.BOROUGHS), len(codes.SECTORS) + 1))
    economy = np.ones((len(codes.SECTORS) + 1, len(codes.TRANSITIONS)))
    return Market(factors, 1.0, economy, 1.0, np.full(len(codes.SECTORS), float(attachment)))


def labour_step(
    p,
    employers,
    tables,
    multipliers: Multipliers,
    key,
    month: int,
    slots: np.ndarray | None = None,
    market: Market | None = None,
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
        market: This month's labour market (:class:`Market`; default :func:`steady_market`).
    """
    market = steady_market() if market is None else market
    bound = tables.labour_split_bound
    if slots is None:
        _labour_everyone(p, employers, tables.kernel, bound, multipliers, market, key, month, chunk_count())
    else:
        slots = np.ascontiguousarray(slots, np.int64)
        labour_rows(p, employers, tables.kernel, bound, multipliers, market, key, month, 0, len(slots), slots)


# ----- job search: what the market reads of the job seekers, and who the market could move ------------------


#: Search is summed in units of 2^-32 of a monthly hazard: whole numbers, so that sums are exact in any order
#: and a run's total is the same however it is worked out (alone, or as another run's total corrected).
SEARCH_QUANTUM = float(2**32)
#: Search is counted by borough of residence and by the sector of the seeker's last job (column 0: none,
#: column ``s + 1``: sector ``s``), so that a market of sectors can tell where it is aimed (:mod:`gmsim.market`).
SEARCH_SHAPE = (len(codes.BOROUGHS), len(codes.SECTORS) + 1)


@njit(cache=True)
def _entry_hazard(p, size_band, oh, tables, i):
    """Row ``i``'s job-entry hazard before the market's factor and any multiplier (``i`` a job seeker)."""
    s = p.state[i]
    a = level_a(s, p.severity[i], p.condition[i], p.age_months[i])
    b = level_b(p.sex[i], p.borough[i], p.skills[i])
    c = level_c(p.benefit[i], p.months_in_state[i], p.employer[i], size_band, oh)
    return hazard(_FIRST[s], a, b, c, tables) * p.job_readiness[i]


@njit(cache=True)
def search_rows(p, size_band, oh, tables, mult, lo, hi, use_multipliers, sign, where, out):
    """Add ``sign`` times the search of rows ``lo .. hi - 1`` (where ``where``, if not empty) to ``out``.

    Whole units, by borough and last job's sector (``out[b, s + 1]``; column 0: no last job); with the
    rows' multipliers if ``use_multipliers``.
    """
    state, borough, last = p.state, p.borough, p.last_sector
    multiplied = use_multipliers and mult.row.shape[0] > 0
    some = where.shape[0] > 0
    for i in range(lo, hi):
        s = state[i]
        if (s != _OOW and s != _INACTIVE) or (some and not where[i]):
            continue
        h = _entry_hazard(p, size_band, oh, tables, i)
        if multiplied and mult.row[i] >= 0:
            h *= multiplier(mult.values, mult.columns, _FIRST[s], mult.row[i])
        out[borough[i], last[i] + 1] += sign * np.int64(h * SEARCH_QUANTUM)


@njit(cache=True)
def _search_multiplied(p, size_band, oh, tables, mult, slots, out):
    """Add how the multipliers change the search of ``slots`` (rows of everyone's ``p``) to ``out``."""
    for i in slots:
        s = p.state[i]
        if (s != _OOW and s != _INACTIVE) or mult.row[i] < 0:
            continue
        h = _entry_hazard(p, size_band, oh, tables, i)
        multiplied = h * multiplier(mult.values, mult.columns, _FIRST[s], mult.row[i])
        out[p.borough[i], p.last_sector[i] + 1] += np.int64(multiplied * SEARCH_QUANTUM) - np.int64(h * SEARCH_QUANTUM)


@njit(cache=True)
def _search_change(mine, theirs, differ, own_mult, p, others, mult, size_band, oh, tables, out):
    n = differ.shape[0]
    search_rows(mine, size_band, oh, tables, own_mult, 0, n, True, 1, differ, out)
    search_rows(theirs, size_band, oh, tables, own_mult, 0, n, False, -1, differ, out)
    _search_multiplied(p, size_band, oh, tables, mult, others, out)


def search_change(mine, theirs, differ, own_mult: Multipliers, p, others, mult: Multipliers, employers, tables, out):
    """Add to ``out`` how a run's search differs from another's whose values and multipliers it shares but these.

    ``mine`` and ``theirs`` hold the two runs' values of some people (rows alike; ``own_mult`` the first run's
    multipliers of those rows), counted where ``differ``; ``others`` are slots of everyone's ``p`` (values
    the same in both) whose multipliers ``mult`` (everyone's) only the first run has. Whole units, as
    :func:`job_search` counts them, so the first run's total is exact.
    """
    others = np.ascontiguousarray(others, np.int64)
    differ = np.ascontiguousarray(differ, np.bool_)
    e = employers
    _search_change(
        mine, theirs, differ, own_mult, p, others, mult, e.size_band, e.occupational_health, tables.kernel, out
    )


@njit(cache=True, parallel=True)
def _search_everyone(p, employers, tables, mult, chunks, out):
    for c in prange(chunks):
        lo, hi = chunk_of(p.state.shape[0], chunks, c)
        e = employers
        search_rows(p, e.size_band, e.occupational_health, tables, mult, lo, hi, True, 1, _NO_ROWS, out[c])


def job_search(p, employers, tables, multipliers: Multipliers) -> np.ndarray:
    """Everyone's search by borough and last job's sector: the sum of the job seekers' entry hazards.

    A job seeker (looking for work or inactive) searches with their entry hazard as the labour kernel works
    it out before the market's factor (health, age, duration, benefit, job readiness, an intervention's
    multiplier), in whole units of :data:`SEARCH_QUANTUM` (int64, :data:`SEARCH_SHAPE`: by borough, and by
    the sector of the last job in columns ``1 ..``, column 0 for those with none).
    """
    chunks = chunk_count()
    parts = np.zeros((chunks, *SEARCH_SHAPE), dtype=np.int64)
    _search_everyone(p, employers, tables.kernel, multipliers, chunks, parts)
    return parts.sum(axis=0)


@njit(cache=True)
def _window_rows(p, employers, tables, bound, key, month, phi_lo, phi_hi, top, lo, hi, mask):
    start = counter_start(key, month, 1)
    for i in range(lo, hi):
        s = p.state[i]
        if s != _OOW and s != _INACTIVE:
            continue
        a = level_a(s, p.severity[i], p.condition[i], p.age_months[i])
        u = draw(start, i)
        if u >= bound[1, a] * p.job_readiness[i] * top:
            continue
        h = _entry_hazard(p, employers.size_band, employers.occupational_health, tables, i)
        b, s = p.borough[i], p.last_sector[i] + 1
        mask[i] = enters(u, h * phi_hi[b, s]) and not enters(u, h * phi_lo[b, s])


@njit(cache=True, parallel=True)
def _window_everyone(p, employers, tables, bound, key, month, phi_lo, phi_hi, top, chunks, mask):
    for c in prange(chunks):
        lo, hi = chunk_of(p.state.shape[0], chunks, c)
        _window_rows(p, employers, tables, bound, key, month, phi_lo, phi_hi, top, lo, hi, mask)


@njit(cache=True)
def _entry_hazards(p, employers, tables, slots):
    out = np.empty(slots.shape[0], dtype=np.float64)
    for k in range(slots.shape[0]):
        out[k] = _entry_hazard(p, employers.size_band, employers.occupational_health, tables, slots[k])
    return out


def entry_window(p, employers, tables, key, month: int, phi_lo: np.ndarray, phi_hi: np.ndarray):
    """Job seekers who enter work at their factor in ``phi_hi`` but not in ``phi_lo``, as they are now.

    ``p`` holds everyone, with no multipliers, after this month's health. Anyone whose entry differs between
    two runs with factors inside ``[phi_lo, phi_hi]`` (and the same values and no multiplier) is among them.

    Returns:
        Their slots (ascending) and their entry hazards before the factor.
    """
    top = float(np.max(phi_hi)) * (1 + 1e-9)
    mask = np.zeros(p.state.shape[0], dtype=np.bool_)
    bound = tables.labour_split_bound
    _window_everyone(p, employers, tables.kernel, bound, key, month, phi_lo, phi_hi, top, chunk_count(), mask)
    slots = np.flatnonzero(mask)
    return slots, _entry_hazards(p, employers, tables.kernel, slots)


@njit(cache=True)
def entry_differs(slots, entry, borough, last_sector, key, month, phi_a, phi_b):
    """For each of ``slots`` (entry hazards ``entry``; boroughs; last jobs' sectors), whether entry differs.

    Between the factors ``phi_a`` and ``phi_b`` (:attr:`Market.phi`), as the labour kernel tests it.
    """
    start = counter_start(key, month, 1)
    out = np.zeros(slots.shape[0], dtype=np.bool_)
    for k in range(slots.shape[0]):
        u = draw(start, slots[k])
        h = entry[k]
        b, s = borough[k], last_sector[k] + 1
        out[k] = enters(u, h * phi_a[b, s]) != enters(u, h * phi_b[b, s])
    return out


def labour_bounds(tables, largest_readiness: float = 1.0) -> np.ndarray:
    """:func:`~gmsim.dynamics.hazard.upper_bounds` of the moves out of each level's labour state.

    Job entry is bounded at ``largest_readiness`` times its hazard (the most job-ready anyone can be).
    """
    base, *groups = tables
    base = base.copy()
    base[_ENTRY] *= largest_readiness
    return upper_bounds((base, *groups), *_moves_of_levels(groups[0].shape[0]))


def _moves_of_levels(levels: int) -> tuple[np.ndarray, np.ndarray]:
    """For each level of the first hazard group: its state's first labour move and how many it has."""
    state = np.arange(levels) // (levels // len(codes.STATES))
    return _FIRST[state], _FIRST[state + 1] - _FIRST[state]


def split_labour_bounds(tables) -> np.ndarray:
    """The labour bound of each level in two rows: the moves other than job entry, and job entry.

    A person with job readiness ``z`` can have no move this month when their number is at or above
    ``bound[0, a] + bound[1, a] x z`` (times the month's largest multiplier if they have one): a tighter
    test than :func:`labour_bounds` with the largest readiness, for the great majority who are not the
    most job-ready.
    """
    base, *groups = tables
    without, only = base.copy(), np.zeros_like(base)
    without[_ENTRY] = 0.0
    only[_ENTRY] = base[_ENTRY]
    first, count = _moves_of_levels(groups[0].shape[0])
    return np.ascontiguousarray(
        np.stack([upper_bounds((without, *groups), first, count), upper_bounds((only, *groups), first, count)])
    )
