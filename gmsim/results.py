"""Monthly results: stocks, flows and cohort measures, tallied from the people arrays.

Each month one compiled pass over the people counts them by borough, labour state and health
(:func:`tally`), and :class:`Results` keeps the counts for every month. Counts are stored in slots and
reported in people (divided by the population scale). The summary measures the calibration targets
use are defined here, once:

* ``out_of_work_health``: claimants of a health-related benefit (limited capability or support group),
  whether looking for work or economically inactive: "out of work because of health";
* ``out_of_work``: out of work: looking for work (the ``out_of_work`` state, where everyone claims) or
  economically inactive and claiming a health-related benefit; ``looking_for_work`` is the state alone;
  ``inactive_other`` the inactive who do not claim;
* ``employment_rate``: (in work + at risk) / population;
* ``long_spell_share``: share of ``out_of_work_health`` whose health-related claim began 5 years or more ago;
* ``sickness_absence_start_rate``: in_work to at_risk moves a year / people employed;
* ``health_job_loss_rate``: moves from work (in work or at risk) onto a health-related benefit, whether
  out of work or inactive, a year / people employed;
* ``sickness_absence_job_loss_share``: of the spells of sickness absence that end, the share that end in
  leaving work (out of work or inactive) rather than in a return;
* ``new_claimant_work_15m``: of people whose health-related claim began 15 months earlier, the share
  employed now;
* ``work_limiting_prevalence``: share with a moderate or complex condition.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numba import get_num_threads, njit, prange

from . import codes
from .dynamics.hazard import band_of

N_HEALTH = 1 + (len(codes.CONDITIONS) - 1) * (len(codes.SEVERITIES) - 1)
HEALTH_LABELS = [("none", "none")] + [(c, s) for c in codes.CONDITIONS[1:] for s in codes.SEVERITIES[1:]]
COHORT_LAG = 15
_SPELL_LOWER = np.array([0, 6, 12, 24, 60], dtype=np.int64)
_N_B = len(codes.BOROUGHS)
N_EVENTS = len(codes.TRANSITIONS)
# Extra flow rows after the transitions: exits at 65, deaths, moves away (exit_event 1, 2, 3), health job
# losses, job-to-job moves.
F_AGED_OUT, F_DIED, F_MOVED_AWAY, F_HEALTH_JOB_LOSS = N_EVENTS, N_EVENTS + 1, N_EVENTS + 2, N_EVENTS + 3
F_JOB_TO_JOB = N_EVENTS + 4
N_FLOWS = N_EVENTS + 5
_LEAVES_WORK = np.array(codes.LEAVES_WORK)

#: Columns of a month's claimant counts by borough (:attr:`Results.spells`): health-related claimants by
#: the time since their claim began (``codes.SPELL_BANDS``), then jobseekers, then the health-related
#: claimants who are economically inactive, then those in the support group (ESA support group / UC
#: LCWRA); the last two are parts of the first five columns.
JOBSEEKERS, INACTIVE_CLAIMANTS, SUPPORT_GROUP = (len(codes.SPELL_BANDS) + k for k in range(3))
_N_STATES, _N_SPELLS = len(codes.STATES), len(codes.SPELL_BANDS) + 3
# Health category (0 none, then condition x severity) of each (condition, severity) pair.
_HEALTH = np.array(
    [
        [0 if sev == 0 else 1 + (cond - 1) * 3 + (sev - 1) for sev in range(len(codes.SEVERITIES))]
        for cond in range(len(codes.CONDITIONS))
    ],
    dtype=np.int64,
).reshape(-1)
_N_SEV = len(codes.SEVERITIES)


@njit(cache=True)
def _tally_chunk(p, lo, hi, month):
    """Counts of the people in rows ``lo .. hi - 1`` of ``p``, as flat arrays (stock, spells, flows, cohort)."""
    stock = np.zeros(_N_B * _N_STATES * N_HEALTH, dtype=np.int64)
    spells = np.zeros(_N_B * _N_SPELLS, dtype=np.int64)
    flows = np.zeros(N_FLOWS * _N_B, dtype=np.int64)
    cohort = np.zeros(4, dtype=np.int64)
    tally_rows(p, lo, hi, month, stock, spells, flows, cohort)
    return stock, spells, flows, cohort


@njit(cache=True)
def tally_rows(p, lo, hi, month, stock, spells, flows, cohort):
    """Add the counts of the people in rows ``lo .. hi - 1`` of ``p`` to flat arrays (stock, spells, flows, cohort)."""
    # The rows' own views, read from 0 (a loop from 0 over views compiles to faster code than over lo..hi).
    borough, state, severity, condition = p.borough[lo:hi], p.state[lo:hi], p.severity[lo:hi], p.condition[lo:hi]
    benefit = p.benefit[lo:hi]
    labour_event, health_event = p.labour_event[lo:hi], p.health_event[lo:hi]
    exit_event, exit_borough = p.exit_event[lo:hi], p.exit_borough[lo:hi]
    claim_start, from_work, job_move = p.health_claim_start[lo:hi], p.claim_from_work[lo:hi], p.job_move[lo:hi]
    for i in range(hi - lo):
        b = borough[i]
        s = state[i]
        stock[(b * _N_STATES + s) * N_HEALTH + _HEALTH[condition[i] * _N_SEV + severity[i]]] += 1
        if benefit[i] >= codes.LIMITED_CAPABILITY:
            spells[b * _N_SPELLS + band_of(month - claim_start[i], _SPELL_LOWER)] += 1
            if s == codes.INACTIVE:
                spells[b * _N_SPELLS + INACTIVE_CLAIMANTS] += 1
            if benefit[i] == codes.SUPPORT_GROUP:
                spells[b * _N_SPELLS + SUPPORT_GROUP] += 1
        elif benefit[i] > 0:
            spells[b * _N_SPELLS + JOBSEEKERS] += 1
        ev = labour_event[i]
        if ev >= 0:
            flows[ev * _N_B + b] += 1
            if _LEAVES_WORK[ev] and benefit[i] >= codes.LIMITED_CAPABILITY:
                flows[F_HEALTH_JOB_LOSS * _N_B + b] += 1
        hev = health_event[i]
        if hev >= 0:
            flows[hev * _N_B + b] += 1
        if exit_event[i] > 0:
            flows[(N_EVENTS - 1 + exit_event[i]) * _N_B + exit_borough[i]] += 1
        flows[F_JOB_TO_JOB * _N_B + b] += job_move[i]
        if claim_start[i] == month - COHORT_LAG:
            cohort[from_work[i] * 2 + (1 if s <= codes.AT_RISK else 0)] += 1


@njit(cache=True, parallel=True)
def _tally(p, month, chunks, stock, spells, flows, cohort):
    n = p.state.shape[0]
    size = (n + chunks - 1) // chunks
    # Each chunk is counted by a serial function (which compiles to faster code than the body of a parallel
    # loop) into its own rows; the rows are summed after the parallel loop.
    c_stock = np.zeros((chunks, stock.size), dtype=np.int64)
    c_spells = np.zeros((chunks, spells.size), dtype=np.int64)
    c_flows = np.zeros((chunks, flows.size), dtype=np.int64)
    c_cohort = np.zeros((chunks, cohort.size), dtype=np.int64)
    for c in prange(chunks):
        lo = c * size
        tally_rows(p, lo, min(n, lo + size), month, c_stock[c], c_spells[c], c_flows[c], c_cohort[c])
    stock += c_stock.sum(axis=0).reshape(stock.shape)
    spells += c_spells.sum(axis=0).reshape(spells.shape)
    flows += c_flows.sum(axis=0).reshape(flows.shape)
    cohort += c_cohort.sum(axis=0).reshape(cohort.shape)


_AGE_LOWER = np.array([12 * y for y in codes.AGE_BAND_LOWER_YEARS], dtype=np.int64)
_N_AGE, _N_BENEFIT = len(codes.AGE_BANDS), len(codes.BENEFITS)
#: The axes of a month's moves between labour states (:attr:`Results.moves`), after the month.
MOVE_AXES = ("transition", "age_band", "severity", "benefit", "borough")


@njit(cache=True)
def _moves_chunk(p, lo, hi):
    """This month's moves between labour states of the people in rows ``lo .. hi - 1``, flat."""
    out = np.zeros(codes.N_LABOUR * _N_AGE * _N_SEV * _N_BENEFIT * _N_B, dtype=np.int64)
    moves_rows(p, lo, hi, out)
    return out


@njit(cache=True)
def moves_rows(p, lo, hi, out):
    """Add this month's moves between labour states of the people in rows ``lo .. hi - 1`` to ``out`` (flat)."""
    labour_event, age, severity = p.labour_event[lo:hi], p.age_months[lo:hi], p.severity[lo:hi]
    benefit, borough = p.benefit[lo:hi], p.borough[lo:hi]
    for i in range(hi - lo):
        ev = labour_event[i]
        if 0 <= ev < codes.N_LABOUR:
            a = band_of(age[i], _AGE_LOWER)
            out[(((ev * _N_AGE + a) * _N_SEV + severity[i]) * _N_BENEFIT + benefit[i]) * _N_B + borough[i]] += 1


@njit(cache=True, parallel=True)
def _tally_moves(p, chunks, moves):
    n = p.state.shape[0]
    size = (n + chunks - 1) // chunks
    rows = np.zeros((chunks, moves.size), dtype=np.int64)
    for c in prange(chunks):
        lo = c * size
        moves_rows(p, lo, min(n, lo + size), rows[c])
    moves += rows.sum(axis=0).reshape(moves.shape)


def tally(p: Any, month: int, stock: np.ndarray, spells: np.ndarray, flows: np.ndarray, cohort: np.ndarray) -> None:
    """Count one month into zeroed arrays.

    Args:
        p: People arrays.
        month: Current month.
        stock: (borough, state, health category) counts.
        spells: (borough, column) counts of claimants (see :data:`INACTIVE_CLAIMANTS`).
        flows: (flow, borough) counts of this month's events (exits by the borough of the person who left).
        cohort: (from work 0/1, employed 0/1) counts of claims that began ``COHORT_LAG`` months ago.
    """
    _tally(p, month, 2 * get_num_threads(), stock, spells, flows, cohort)


def tally_some(p: Any, month: int, weight: int, counts: tuple[np.ndarray, ...]) -> None:
    """Add ``weight`` times the counts of the people in ``p`` to ``counts`` (stock, spells, flows, cohort[, moves]).

    The arrays are as :func:`tally`'s (and a month of :attr:`Results.moves`, if given fifth); ``p`` may hold
    just some people. With a weight of -1 and then 1, one set of people's counts in a tally can be replaced
    by another's.
    """
    for total, c in zip(counts[:4], _tally_chunk(p, 0, p.state.shape[0], month), strict=True):
        total += weight * c.reshape(total.shape)
    if len(counts) > 4:
        moves = counts[4]
        moves += weight * _moves_chunk(p, 0, p.state.shape[0]).reshape(moves.shape)


class Results:
    """Counts for every month of a run, and the tables and summary made from them.

    Args:
        months: Number of months to be run (month 0 is the starting population).
        scale: Population scale; counts are divided by it to report people.
        moves: Also count each month's moves between labour states by age band, severity, benefit and
            borough (:attr:`moves`; for a run's ``transitions.csv``).

    Attributes:
        stock: (month, borough, state, health category) people at the end of each month.
        spells: (month, borough, column) claimants: of a health-related benefit by time since their claim
            began (``codes.SPELL_BANDS``), then jobseekers, then health-related claimants who are inactive,
            then those in the support group (:data:`SUPPORT_GROUP`).
        flows: (month, flow, borough) events of each month.
        cohort: (month, from work, employed) claims that began ``COHORT_LAG`` months before.
        moves: (month, labour transition, age band, severity, benefit, borough) moves of each month, by the
            person's age, severity and benefit at the end of the month; None unless asked for.
    """

    def __init__(self, months: int, scale: float, moves: bool = False) -> None:
        self.scale = scale
        m = months + 1
        self.stock = np.zeros((m, _N_B, len(codes.STATES), N_HEALTH), dtype=np.int64)
        self.spells = np.zeros((m, _N_B, _N_SPELLS), dtype=np.int64)
        self.flows = np.zeros((m, N_FLOWS, _N_B), dtype=np.int64)
        self.cohort = np.zeros((m, 2, 2), dtype=np.int64)
        shape = (m, codes.N_LABOUR, _N_AGE, _N_SEV, _N_BENEFIT, _N_B)
        self.moves = np.zeros(shape, dtype=np.int64) if moves else None
        self.recorded = 0

    def record(self, people: Any, month: int) -> None:
        """Tally the people as they are at the end of ``month``."""
        if month >= self.stock.shape[0]:
            self._grow(month + 1)
        tally(people, month, self.stock[month], self.spells[month], self.flows[month], self.cohort[month])
        if self.moves is not None:
            _tally_moves(people, 2 * get_num_threads(), self.moves[month])
        self.recorded = max(self.recorded, month + 1)

    def month_counts(self, month: int) -> tuple[np.ndarray, ...]:
        """``month``'s counts to be added to, flat: stock, spells, flows, cohort and moves (empty if not counted).

        As :meth:`record` fills them (:func:`tally_rows`, :func:`moves_rows`); the month counts as recorded.
        """
        if month >= self.stock.shape[0]:
            self._grow(month + 1)
        self.recorded = max(self.recorded, month + 1)
        moves = self.moves[month].reshape(-1) if self.moves is not None else np.zeros(0, dtype=np.int64)
        return self.stock[month].reshape(-1), self.spells[month].reshape(-1), self.flows[month].reshape(-1), \
            self.cohort[month].reshape(-1), moves  # fmt: skip

    def record_shared(self, trunk: Results, month: int, delta: tuple[np.ndarray, ...]) -> None:
        """Record ``month`` as ``trunk``'s counts plus ``delta`` (stock, spells, flows, cohort[, moves]; none: none).

        Used by shared runs; moves are recorded where both count them (then ``delta`` has them).
        """
        if month >= self.stock.shape[0]:
            self._grow(month + 1)
        names = ("stock", "spells", "flows", "cohort") + (("moves",) if self.moves is not None else ())
        for k, name in enumerate(names):
            counts = getattr(trunk, name)[month]
            getattr(self, name)[month] = counts + delta[k] if delta else counts
        self.recorded = max(self.recorded, month + 1)

    def _grow(self, m: int) -> None:
        for name in ("stock", "spells", "flows", "cohort", "moves"):
            a = getattr(self, name)
            if a is None:
                continue
            extra = np.zeros((max(m, 2 * a.shape[0]) - a.shape[0],) + a.shape[1:], dtype=a.dtype)
            setattr(self, name, np.concatenate([a, extra]))

    # ----- measures ----------------------------------------------------------------------------
    def stocks(self, month: int, borough: int | None = None) -> dict[str, float]:
        """Headline stocks (people) at the end of one month, for GM or one borough."""
        st = self.stock[month] if borough is None else self.stock[month, borough : borough + 1]
        sp = self.spells[month] if borough is None else self.spells[month, borough : borough + 1]
        by_state = st.sum(axis=(0, 2))
        pop = by_state.sum()
        oow_health = sp[:, :JOBSEEKERS].sum()
        inactive_claimants = sp[:, INACTIVE_CLAIMANTS].sum()
        work_limiting = sum(st[:, :, 1 + c * 3 + sv].sum() for c in range(4) for sv in (1, 2))
        f = 1.0 / self.scale
        return {
            "population": pop * f,
            "in_work": by_state[codes.IN_WORK] * f,
            "at_risk": by_state[codes.AT_RISK] * f,
            "out_of_work": (by_state[codes.OUT_OF_WORK] + inactive_claimants) * f,
            "out_of_work_health": oow_health * f,
            "inactive_other": (by_state[codes.INACTIVE] - inactive_claimants) * f,
            "looking_for_work": by_state[codes.OUT_OF_WORK] * f,
            "inactive_claiming_health": inactive_claimants * f,
            "employment_rate": (by_state[codes.IN_WORK] + by_state[codes.AT_RISK]) / pop if pop else 0.0,
            "long_spell_share": sp[:, JOBSEEKERS - 1].sum() / oow_health if oow_health else 0.0,
            "work_limiting_prevalence": work_limiting / pop if pop else 0.0,
        }

    def mean_stocks(self, first: int, last: int, borough: int | None = None) -> dict[str, float]:
        """Mean of :meth:`stocks` over months ``first..last`` inclusive."""
        rows = [self.stocks(m, borough) for m in range(first, last + 1)]
        return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}

    def annual_flows(self, first: int, last: int) -> dict[str, float]:
        """Flows (people a year) averaged over months ``first..last``, and the rates the targets use."""
        fl = self.flows[first : last + 1].sum(axis=2).mean(axis=0) * 12 / self.scale
        t = codes.T
        emp = self.stock[first : last + 1, :, : codes.AT_RISK + 1].sum(axis=(1, 2, 3)).mean() / self.scale
        entries = fl[t["out_of_work_to_in_work"]] + fl[t["inactive_to_in_work"]]
        losses = sum(
            fl[t[k]]
            for k in ("in_work_to_out_of_work", "in_work_to_inactive", "at_risk_to_out_of_work", "at_risk_to_inactive")
        )
        co = self.cohort[first : last + 1].sum(axis=0)
        left = fl[t["at_risk_to_out_of_work"]] + fl[t["at_risk_to_inactive"]]
        return {
            "job_entries": float(entries),
            "job_losses": float(losses),
            "sickness_absence_starts": float(fl[t["in_work_to_at_risk"]]),
            "returns_from_sickness_absence": float(fl[t["at_risk_to_in_work"]]),
            "health_job_losses": float(fl[F_HEALTH_JOB_LOSS]),
            "health_onsets": float(
                sum(fl[t[k]] for k in ("onset_mental_health", "onset_musculoskeletal", "onset_other"))
            ),
            "exits_at_65": float(fl[F_AGED_OUT]),
            "deaths": float(fl[F_DIED]),
            "moves_away": float(fl[F_MOVED_AWAY]),
            "job_to_job_moves": float(fl[F_JOB_TO_JOB]),
            "sickness_absence_start_rate": float(fl[t["in_work_to_at_risk"]] / emp) if emp else 0.0,
            "health_job_loss_rate": float(fl[F_HEALTH_JOB_LOSS] / emp) if emp else 0.0,
            "sickness_absence_job_loss_share": float(left / (left + fl[t["at_risk_to_in_work"]]))
            if left + fl[t["at_risk_to_in_work"]]
            else 0.0,
            "new_claimant_work_15m": float(co[:, 1].sum() / co.sum()) if co.sum() else 0.0,
            "new_claimant_work_15m_from_work": float(co[1, 1] / co[1].sum()) if co[1].sum() else 0.0,
            "new_claimant_work_15m_not_from_work": float(co[0, 1] / co[0].sum()) if co[0].sum() else 0.0,
        }

    def transition_rates(self, first: int, last: int) -> dict[str, dict[str, float]]:
        """Moves between labour states a person-year over months ``first..last``, by severity and for all.

        The rate of ``a_to_b`` for a severity is the moves from ``a`` to ``b`` of people with that severity
        at the end of the month, over the person-years in ``a`` of people with that severity at the start of
        the month (the end of the month before), times 12. Needs :attr:`moves`.
        """
        if self.moves is None:
            raise ValueError("these results did not count moves (Results(moves=True))")
        first = max(first, 1)
        # Severity of each health category: 0 none, then (condition, severity 1..3).
        severity_of = np.array([0] + [s for _ in codes.CONDITIONS[1:] for s in (1, 2, 3)])
        at_start = self.stock[first - 1 : last].sum(axis=(0, 1))  # (state, health category)
        exposure = np.zeros((len(codes.STATES), _N_SEV))
        for h, sev in enumerate(severity_of):
            exposure[:, sev] += at_start[:, h]
        moved = self.moves[first : last + 1].sum(axis=(0, 2, 4, 5))  # (transition, severity)
        out = {}
        for t in range(codes.N_LABOUR):
            origin = codes.LABOUR_FROM[t]
            rates = {
                sev: float(12 * moved[t, k] / exposure[origin, k]) if exposure[origin, k] else None
                for k, sev in enumerate(codes.SEVERITIES)
            }
            total = exposure[origin].sum()
            rates["all"] = float(12 * moved[t].sum() / total) if total else None
            out[codes.TRANSITIONS[t]] = rates
        return out

    # ----- tables ------------------------------------------------------------------------------
    def transitions(self) -> pd.DataFrame:
        """Tidy monthly moves between labour states (people), only the combinations with moves.

        Columns: month, from_state, to_state, age_band, severity, benefit, borough, count; a combination
        missing from the table had no moves. Needs :attr:`moves`.
        """
        if self.moves is None:
            raise ValueError("these results did not count moves (Results(moves=True))")
        m = self.recorded
        counts = self.moves[:m]
        idx = np.nonzero(counts)
        month, t, age, sev, ben, b = idx
        states = np.array(codes.STATES, dtype=object)  # labels as shared str objects, not one per row
        return pd.DataFrame(
            {
                "month": month,
                "from_state": states[np.array(codes.LABOUR_FROM)[t]],
                "to_state": states[np.array(codes.LABOUR_TO)[t]],
                "age_band": np.array(codes.AGE_BANDS, dtype=object)[age],
                "severity": np.array(codes.SEVERITIES, dtype=object)[sev],
                "benefit": np.array(codes.BENEFITS, dtype=object)[ben],
                "borough": np.array(codes.BOROUGHS, dtype=object)[b],
                "count": counts[idx] / self.scale,
            }
        )

    def timeseries(self) -> pd.DataFrame:
        """Tidy monthly counts: month, borough, state, health, severity, count (people)."""
        m = self.recorded
        idx = pd.MultiIndex.from_product(
            [range(m), codes.BOROUGHS, codes.STATES, range(N_HEALTH)],
            names=["month", "borough", "state", "h"],
        )
        df = pd.DataFrame({"count": self.stock[:m].reshape(-1) / self.scale}, index=idx).reset_index()
        labels = np.array(HEALTH_LABELS)
        h = df.pop("h").to_numpy()
        df.insert(3, "health", labels[h, 0])
        df.insert(4, "severity", labels[h, 1])
        return df[df["count"] > 0].reset_index(drop=True)

    def monthly(self) -> pd.DataFrame:
        """One row per month with the headline stocks for GM."""
        return pd.DataFrame([self.stocks(m) for m in range(self.recorded)]).rename_axis("month")

    def spell_bands(self) -> pd.DataFrame:
        """Claimants of a health-related benefit by time since their claim began, one row per month (people)."""
        sp = self.spells[: self.recorded, :, :JOBSEEKERS].sum(axis=1) / self.scale
        return pd.DataFrame(sp, columns=list(codes.SPELL_BANDS)).rename_axis("month")

    def borough_rates(self, first: int, last: int) -> pd.Series:
        """Mean employment rate per borough over months ``first..last``."""
        return pd.Series({b: self.mean_stocks(first, last, k)["employment_rate"] for k, b in enumerate(codes.BOROUGHS)})
