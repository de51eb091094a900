"""A month of every process for everyone, one block of people at a time.

Without interventions nothing in a month reads more than one person at a time: each person's demography,
health, labour move, benefit and employer tie depend only on their own values, their own random numbers
and the month's market, set before the month begins (docs/model.md section 3). So the processes can be
run for one block of people after another, each block through the whole month, rather than each process
for everyone in turn. The rules are the processes' own (``demography_rows``, ``health_rows``,
``labour_rows``, ``benefits_rows``, ``employer_rows``), applied to the same people in the same order with
the same random numbers, so the month is exactly the same; only each block's values stay in the
processor's cache from one process to the next. The month's tally and search are counted in the same
pass (:func:`gmsim.results.tally_rows`, :func:`gmsim.dynamics.labour.search_rows`).

Runs alone with no interventions (a baseline, the calibration's runs, the burn-in) step their months this
way (:meth:`gmsim.population.Population.month_in_blocks`); other runs step each process for everyone in
turn.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from ..agents.people import ENTRANT_RECORD, set_entrant_rows
from ..results import moves_rows, tally_rows
from ..streams import Streams
from .benefits import benefits_rows, claim_rates
from .demography import demography_rows
from .employers import employer_rows
from .hazard import chunk_count, chunk_of, no_multipliers
from .health import health_rows
from .labour import SEARCH_SHAPE, Market, labour_rows, search_rows, steady_market

#: People in a block: a block's values (about 40 bytes a person) stay in a core's cache through the month.
BLOCK = 8192
#: The random streams of the month's processes, in the order the kernels take their keys.
STREAMS = ("demography", "health", "labour", "benefits", "employers")
_NOBODY = np.zeros(0, dtype=np.int64)
_NO_ROWS = np.zeros(0, dtype=np.bool_)


class Counts(NamedTuple):
    """Where a month's counts go: flat int64 arrays, added to (``moves`` empty: not counted)."""

    stock: np.ndarray
    spells: np.ndarray
    flows: np.ndarray
    cohort: np.ndarray
    moves: np.ndarray
    search: np.ndarray


@njit(cache=True)
def _month_rows(
    p, employers, mortality, complex_ratio, sd, new, entrant, hazards, health_bound, labour_bound, mult, market,
    reassess, first, take_up, job_moves, keys, month, lo, hi, counting, stock, spells, flows, cohort, moves,
    search,
):  # fmt: skip
    n = p.state.shape[0]
    k_demography, k_health, k_labour, k_benefits, k_employers = keys
    size_band, oh = employers.size_band, employers.occupational_health
    for start in range(lo, hi, BLOCK):
        end = min(hi, start + BLOCK)
        demography_rows(p, mortality, complex_ratio, sd, new, n, k_demography, month, start, end, _NOBODY)
        set_entrant_rows(p, entrant, start, end)
        health_rows(p, employers, hazards, health_bound, mult, k_health, month, start, end, _NOBODY)
        labour_rows(p, employers, hazards, labour_bound, mult, market, k_labour, month, start, end, _NOBODY)
        benefits_rows(p, k_benefits, reassess, first, take_up, month, start, end, _NOBODY)
        employer_rows(p, employers, k_employers, month, job_moves, market.rejoin, start, end, _NOBODY)
        if counting:
            tally_rows(p, start, end, month, stock, spells, flows, cohort)
            if moves.shape[0] > 0:
                moves_rows(p, start, end, moves)
            search_rows(p, size_band, oh, hazards, mult, start, end, True, 1, _NO_ROWS, search)


@njit(cache=True, parallel=True)
def _month_everyone(
    p, employers, mortality, complex_ratio, sd, new, entrant, hazards, health_bound, labour_bound, mult, market,
    reassess, first, take_up, job_moves, keys, month, chunks, counting, stock, spells, flows, cohort, moves,
    search,
):  # fmt: skip
    # Each chunk counts into its own rows (a serial function, which compiles to faster code than the body of
    # a parallel loop); the rows are summed after the loop.
    c_stock = np.zeros((chunks, stock.shape[0]), dtype=np.int64)
    c_spells = np.zeros((chunks, spells.shape[0]), dtype=np.int64)
    c_flows = np.zeros((chunks, flows.shape[0]), dtype=np.int64)
    c_cohort = np.zeros((chunks, cohort.shape[0]), dtype=np.int64)
    c_moves = np.zeros((chunks, moves.shape[0]), dtype=np.int64)
    c_search = np.zeros((chunks, search.shape[0], search.shape[1]), dtype=np.int64)
    for c in prange(chunks):
        lo, hi = chunk_of(p.state.shape[0], chunks, c)
        _month_rows(
            p, employers, mortality, complex_ratio, sd, new, entrant, hazards, health_bound, labour_bound, mult,
            market, reassess, first, take_up, job_moves, keys, month, lo, hi, counting,
            c_stock[c], c_spells[c], c_flows[c], c_cohort[c], c_moves[c], c_search[c],
        )  # fmt: skip
    stock += c_stock.sum(axis=0)
    spells += c_spells.sum(axis=0)
    flows += c_flows.sum(axis=0)
    cohort += c_cohort.sum(axis=0)
    moves += c_moves.sum(axis=0)
    search += c_search.sum(axis=0)


def month_step(
    p,
    employers,
    tables,
    new,
    streams: Streams,
    month: int,
    market: Market | None = None,
    counts: Counts | None = None,
    demand: float = 1.0,
) -> None:
    """Run one month of demography, health, labour, benefits and employer ties for everyone, in place.

    The same as ``demography_step``, ``health_step``, ``labour_step``, ``benefits_step`` and
    ``employer_step`` in turn with no hazard multipliers, and then, with ``counts``, ``Results.record`` and
    ``job_search`` (those of the month are added to ``counts``).

    Args:
        p: Everyone's people arrays.
        employers: The employer arrays.
        tables: The run's :class:`~gmsim.parameters.HazardTables`.
        new: Who moves away and who arrives (:func:`~gmsim.dynamics.demography.newcomers`).
        streams: The run's random streams (those of each process, by its name).
        month: The month.
        market: This month's labour market (default: the steady economy's).
        counts: Where the month's tally, moves and search go, or None to count nothing.
        demand: The economy's demand this month (job-to-job moves follow it).
    """
    market = steady_market(tables.sector_attachment) if market is None else market
    counting = counts is not None
    if counts is None:
        empty = np.zeros(0, dtype=np.int64)
        counts = Counts(empty, empty, empty, empty, empty, np.zeros(SEARCH_SHAPE, dtype=np.int64))
    mult = no_multipliers()
    reassess, first, take_up = claim_rates(tables)
    _month_everyone(
        p, employers, tables.monthly_mortality, tables.mortality_complex_ratio, tables.job_readiness_sd, new,
        ENTRANT_RECORD, tables.kernel, tables.health_bound, tables.labour_split_bound, mult, market,
        reassess, first, take_up, tables.job_to_job_chance(demand), tuple(streams.key(s) for s in STREAMS), month,
        chunk_count(), counting, *counts,
    )  # fmt: skip
