"""Cohort impact evaluation: each strand's referrals against the same people in a run without the strands.

An evaluator of a Working Well strand compares the people it referred with people like them who were not
referred (DWP Research Report 946 matched the pilot's participants with Jobcentre claimants). gmsim can do
better than matching: under common random numbers the same person lives in the *comparator*, the same
scenario with no strand funded and the same seed, and meets the same random numbers there. Following each
month's referrals in both runs gives, for the cohort, what happened (``treated``), what would have happened
anyway (``comparison``: the deadweight) and the difference (``impact``), with no selection bias.

A referral cohort is everyone a strand referred in one month, whether they started or not (intention to
treat: lapsed referrals are part of it). Month ``m``'s cohort is followed over months ``m`` to
``m + h - 1`` and measured at the end of the last of them, for each horizon ``h`` in :data:`HORIZONS`
(months after referral). The measures (:data:`MEASURES`), each in both runs:

* ``followed``: people of the cohort still in the population (a person who turns 65, dies or moves away in
  either run is followed no further in either);
* ``started_work``: share who moved into work (from looking for work or inactivity) since referral;
* ``job_26_weeks``: share who had been in work six months in a row since referral (a job lasting 26 weeks,
  RR946's sustained outcome; for a cohort referred while in work, a job kept 26 weeks);
* ``in_work``: share in work (including off sick) at the horizon;
* ``months_in_work``: mean months in work since referral;
* ``months_on_benefit``: mean months claiming an out-of-work benefit since referral;
* ``severity``: mean health severity at the horizon (0 none, 1 mild, 2 moderate, 3 complex).

Cohorts are pooled over referral months: a measure at horizon ``h`` covers every cohort referred at
least ``h`` months before the run ends. Counts are kept in simulated people and reported per person of the
cohort, so the results do not depend on the scale but through its noise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from . import codes

if TYPE_CHECKING:
    from .model import GMModel

#: Months after referral at which each cohort is measured.
HORIZONS = (6, 12, 24, 36)
#: What is measured at each horizon (see the module's description).
MEASURES = (
    "followed",
    "started_work",
    "job_26_weeks",
    "in_work",
    "months_in_work",
    "months_on_benefit",
    "severity",
)
#: The two runs: the scenario's (``treated``) and its comparator's (``comparison``).
SIDES = ("treated", "comparison")
#: The measures that count something the strand aims to raise: their deadweight is the comparison's share.
DEADWEIGHT_MEASURES = ("started_work", "job_26_weeks", "in_work", "months_in_work")
#: Up to this population scale every referral is followed; above it, a random sample of them as large
#: (:func:`sample_share`): at full scale a tenth, still thousands of people a year per strand.
SAMPLE_SCALE = 0.1
#: A strand with at most this many referrals over the run (``max_referrals``, GM people) is followed whole.
WHOLE_COHORT = 50_000
#: Months in work in a row that make a job lasting 26 weeks.
SUSTAINED_MONTHS = 6
_AT_RISK, _NO_BENEFIT = codes.AT_RISK, codes.NO_BENEFIT

_ENTRY_A, _ENTRY_B = codes.T["out_of_work_to_in_work"], codes.T["inactive_to_in_work"]
# A member's flags: started work (bit 0 in the run, 1 in the comparator), a job lasting 26 weeks (bits 2, 3).
_STARTED, _SUSTAINED = 1, 4


class CohortImpact:
    """One strand's referral cohorts in a run, followed in the run and in its comparator.

    Attributes:
        totals: Sums over the cohorts measured so far, by horizon, measure (:data:`MEASURES`) and side
            (:data:`SIDES`), in simulated people (``followed``, the shares' counts) or person-months.
    """

    def __init__(self, scale: float = 1.0, referral_cap: float | None = None) -> None:
        self.totals = np.zeros((len(HORIZONS), len(MEASURES), len(SIDES)))
        self.share = sample_share(scale, referral_cap)
        self._people_per_member = 1 / (scale * self.share)
        self._n = 0  # members followed; their columns are the first _n of each array
        self._slots = np.zeros(0, dtype=np.int64)
        self._referred = np.zeros(0, dtype=np.int16)
        self._flags = np.zeros(0, dtype=np.uint8)
        self._run = np.zeros((2, 0), dtype=np.int16)  # months in work in a row, in each run
        self._months = np.zeros((4, 0), dtype=np.int16)  # months in work (run, comparator), on benefit (same)

    def follow(self, month: int, referred: np.ndarray, treated: tuple, comparison: tuple) -> None:
        """Add ``month``'s referrals and follow every cohort through ``month``.

        Args:
            month: The month just run.
            referred: Slots the strand referred this month.
            treated: The run's end-of-month values, as :func:`columns` gives them.
            comparison: The comparator's.
        """
        k, n = len(referred), self._n
        if n + k > len(self._slots):
            size = max(n + k, 2 * len(self._slots), 64)
            for name in ("_slots", "_referred", "_flags", "_run", "_months"):
                old = getattr(self, name)
                grown = np.zeros((*old.shape[:-1], size), dtype=old.dtype)
                grown[..., :n] = old[..., :n]
                setattr(self, name, grown)
        self._slots[n : n + k] = referred
        self._referred[n : n + k] = month
        self._flags[n : n + k] = 0
        self._run[:, n : n + k] = 0
        self._months[:, n : n + k] = 0
        self._n = _follow(
            n + k,
            self._slots,
            self._referred,
            self._flags,
            self._run,
            self._months,
            month,
            np.array(HORIZONS, dtype=np.int64),
            self.totals,
            treated,
            comparison,
        )

    @property
    def in_people(self) -> np.ndarray:
        """:attr:`totals` in GM people: scaled up for the population's scale and the share followed."""
        return self.totals * self._people_per_member

    @property
    def slots(self) -> np.ndarray:
        """The slots of the people followed now (cohorts referred in the last 36 months), by referral."""
        return self._slots[: self._n]


_FIELDS = ("state", "labour_event", "benefit", "severity", "exit_event")


def columns(values: tuple) -> tuple[np.ndarray, ...]:
    """What the evaluation reads of a run's people at the end of a month, once for all its strands.

    Args:
        values: ``(people, apart, own)`` (:meth:`gmsim.population.Population.month_values`).

    Returns:
        The people's fields the evaluation reads, ``apart``, a bit set of ``apart``, and own's fields.
    """
    people, apart, own = values
    return (*(getattr(people, f) for f in _FIELDS), apart, _bits_of(apart), *(getattr(own, f) for f in _FIELDS))


@njit(cache=True)
def _bits_of(apart):
    """A bit set of the slots in ``apart`` (one bit a slot, up to the largest), to test membership at once."""
    bits = np.zeros((apart[-1] >> 6) + 1 if apart.shape[0] else 0, dtype=np.uint64)
    for i in apart:
        bits[i >> 6] |= np.uint64(1) << np.uint64(i & 63)
    return bits


@njit(cache=True, inline="always")
def _row_apart(apart, bits, i):
    """The row of slot ``i`` in ``apart`` (ascending), or -1: a bit test, then a binary search if it is there.

    (numba's np.searchsorted allocates for one value.)
    """
    if (i >> 6) >= bits.shape[0] or (bits[i >> 6] >> np.uint64(i & 63)) & np.uint64(1) == 0:
        return -1
    lo, hi = 0, apart.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if apart[mid] < i:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < apart.shape[0] and apart[lo] == i else -1


@njit(cache=True, inline="always")
def _is_entry(event):
    """Whether a labour event is a move into work from looking for work or inactivity."""
    return event == _ENTRY_A or event == _ENTRY_B


@njit(cache=True)
def _follow(n, slots, referred, flags, run, months, month, horizons, totals, t, c):
    """One month of the members ``0 .. n - 1`` in the run (columns ``t``) and the comparator (``c``).

    Updates their flags and counts, adds those at a horizon to ``totals``, and keeps in place (first) those
    still followed: neither left the population in either run nor past the last horizon. Returns how many.
    """
    longest = horizons[-1]
    ts, te, tb, tv, tx, ta, t_bits, tos, toe, tob, tov, tox = t
    cs, ce, cb, cv, cx, ca, c_bits, cos, coe, cob, cov, cox = c
    kept = 0
    for j in range(n):
        i = slots[j]
        # Each person's state, labour move, benefit and exit this month in each run (severity at a horizon).
        k0 = _row_apart(ta, t_bits, i)
        if k0 >= 0:
            s0, e0, b0, x0 = tos[k0], toe[k0], tob[k0], tox[k0]
        else:
            s0, e0, b0, x0 = ts[i], te[i], tb[i], tx[i]
        k1 = _row_apart(ca, c_bits, i)
        if k1 >= 0:
            s1, e1, b1, x1 = cos[k1], coe[k1], cob[k1], cox[k1]
        else:
            s1, e1, b1, x1 = cs[i], ce[i], cb[i], cx[i]
        if x0 != 0 or x1 != 0:
            continue
        w0, w1 = s0 <= _AT_RISK, s1 <= _AT_RISK
        if _is_entry(e0):
            flags[j] |= _STARTED
        if _is_entry(e1):
            flags[j] |= _STARTED << 1
        run[0, j] = run[0, j] + 1 if w0 else 0
        run[1, j] = run[1, j] + 1 if w1 else 0
        if run[0, j] >= SUSTAINED_MONTHS:
            flags[j] |= _SUSTAINED
        if run[1, j] >= SUSTAINED_MONTHS:
            flags[j] |= _SUSTAINED << 1
        months[0, j] += w0
        months[1, j] += w1
        months[2, j] += b0 != _NO_BENEFIT
        months[3, j] += b1 != _NO_BENEFIT
        age = month - referred[j] + 1
        for h in range(horizons.shape[0]):
            if age == horizons[h]:
                f = flags[j]
                totals[h, 0, 0] += 1
                totals[h, 0, 1] += 1
                totals[h, 1, 0] += (f & _STARTED) != 0
                totals[h, 1, 1] += (f & (_STARTED << 1)) != 0
                totals[h, 2, 0] += (f & _SUSTAINED) != 0
                totals[h, 2, 1] += (f & (_SUSTAINED << 1)) != 0
                totals[h, 3, 0] += w0
                totals[h, 3, 1] += w1
                totals[h, 4, 0] += months[0, j]
                totals[h, 4, 1] += months[1, j]
                totals[h, 5, 0] += months[2, j]
                totals[h, 5, 1] += months[3, j]
                totals[h, 6, 0] += tov[k0] if k0 >= 0 else tv[i]
                totals[h, 6, 1] += cov[k1] if k1 >= 0 else cv[i]
        if age < longest:
            slots[kept] = i
            referred[kept] = referred[j]
            flags[kept] = flags[j]
            run[0, kept], run[1, kept] = run[0, j], run[1, j]
            for m in range(4):
                months[m, kept] = months[m, j]
            kept += 1
    return kept


def sample_share(scale: float, referral_cap: float | None = None) -> float:
    """The share of a strand's referrals followed in a run at ``scale``: all up to :data:`SAMPLE_SCALE`.

    Above it fewer: a run at scale 1 follows a random tenth (thousands of people a year), chosen by slot
    (stream ``evaluation.sample``), so the same people in every run of a replicate. A strand whose
    referrals are capped at :data:`WHOLE_COHORT` people or fewer (a pilot) is followed whole, at any scale.
    """
    if referral_cap is not None and referral_cap <= WHOLE_COHORT:
        return 1.0
    return min(1.0, SAMPLE_SCALE / scale)


def follow_cohorts(model: GMModel, comparator: GMModel) -> None:
    """Follow ``model``'s referral cohorts through the month just run, in it and in ``comparator``.

    Both must have run the same month with the same seed; ``comparator`` is ``model``'s scenario with no
    strand funded. Called once a month, after both have completed it. The month's job entries of the
    people the strands helped and of everyone else are compared too (:func:`count_entries_gained`).
    """
    month = model.month
    count_entries_gained(model, comparator)
    treated = comparison = None
    for iv in model.interventions:
        if iv.switched_off:
            continue
        if iv.impact is None:
            iv.impact = CohortImpact(model.scale, iv.params.max_referrals)
        referred = iv.caseload.referred_in(month)
        if iv.impact.share < 1 and len(referred):
            referred = referred[model.streams.uniforms_at("evaluation.sample", 0, referred) < iv.impact.share]
        if len(referred) or len(iv.impact.slots):
            if treated is None:
                treated = columns(model.population.month_values())
                comparison = columns(comparator.population.month_values())
            iv.impact.follow(month, referred, treated, comparison)


#: The two groups whose job entries are compared with the comparator's: people a strand referred and
#: started (participants), and everyone else (whose change in entries is displacement, or its reverse).
ENTRY_GROUPS = ("participants", "others")


def count_entries_gained(model: GMModel, comparator: GMModel) -> None:
    """Add the month's job entries in ``model`` less those in ``comparator``, by group and borough.

    A participant is someone a strand with a caseload started (``model.participation``; the in-work
    strand's help goes through employers and marks nobody here). Everyone else can gain or lose entries
    only through the labour market, the strands' participants competing for the same vacancies, and
    through the strands' effects on them at work (fewer job losses, so fewer re-entries later). Kept in
    ``model.entries_gained`` (month, group, borough; simulated people).
    """
    if model.entries_gained is None:
        model.entries_gained = np.zeros((model.months_planned + 1, len(ENTRY_GROUPS), len(codes.BOROUGHS)), np.int64)
    people, apart, own = model.population.month_values()
    c_people, c_apart, _ = comparator.population.month_values()
    bits = np.uint16(sum(1 << iv.index for iv in model.interventions if not iv.reaches_employers))
    out = model.entries_gained[model.month]
    if people.labour_event is c_people.labour_event and len(c_apart) == 0:
        # A branch over its trunk: the two differ only for the people the branch keeps apart.
        _gained_apart(apart, own.labour_event, own.borough, c_people.labour_event, c_people.borough,
                      model.participation, bits, out)  # fmt: skip
    elif len(apart) == 0 and len(c_apart) == 0:  # two runs of their own (a run alone beside its comparator)
        _gained_everyone(people.labour_event, people.borough, c_people.labour_event, c_people.borough,
                         model.participation, bits, out)  # fmt: skip
    else:
        raise ValueError("a comparator is a run of its own, or the trunk of the run's shared runs")


@njit(cache=True)
def _gained_everyone(event, borough, c_event, c_borough, participation, bits, out):
    """Everyone's entries in the run less theirs in the comparator, by group and borough."""
    for i in range(event.shape[0]):
        e, c = _is_entry(event[i]), _is_entry(c_event[i])
        if e != c:
            group = 0 if participation[i] & bits else 1
            out[group, borough[i]] += e
            out[group, c_borough[i]] -= c


@njit(cache=True)
def _gained_apart(apart, own_event, own_borough, event, borough, participation, bits, out):
    """Entries of the people ``apart`` (their own values, row k) less theirs in the arrays, by group and borough."""
    for k in range(apart.shape[0]):
        i = apart[k]
        group = 0 if participation[i] & bits else 1
        out[group, own_borough[k]] += _is_entry(own_event[k])
        out[group, borough[i]] -= _is_entry(event[i])


def cohort_impact(totals: np.ndarray | None) -> dict[str, Any] | None:
    """The cohort impact in words from a run's cohort totals in people (:attr:`CohortImpact.in_people`).

    Returns:
        Per horizon (``"12m"``), ``followed`` (people of the cohorts measured, scaled to GM) and for each other
        measure its ``treated`` and ``comparison`` values per person of the cohort, their difference
        (``impact``) and ``deadweight``, the comparison's share of the treated (what would have happened
        anyway; for :data:`DEADWEIGHT_MEASURES` only); None where nobody was followed. None without a
        comparator.
    """
    if totals is None:
        return None
    out: dict[str, Any] = {}
    for h, horizon in enumerate(HORIZONS):
        n = float(totals[h, 0, 0])
        entry: dict[str, Any] = {"followed": n}
        for k, measure in enumerate(MEASURES[1:], start=1):
            if n == 0:
                entry[measure] = dict.fromkeys(("treated", "comparison", "impact", "deadweight"))
                continue
            treated, comparison = (float(v) for v in totals[h, k] / n)
            entry[measure] = {
                "treated": treated,
                "comparison": comparison,
                "impact": treated - comparison,
                "deadweight": comparison / treated if treated > 0 and measure in DEADWEIGHT_MEASURES else None,
            }
        out[f"{horizon}m"] = entry
    return out


def cohort_impact_table(impacts: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Tidy rows of :func:`cohort_impact` by strand (totals in people): strand, horizon, measure, followed, sides."""
    rows = []
    for strand, totals in impacts.items():
        for horizon, entry in (cohort_impact(totals) or {}).items():
            for measure in MEASURES[1:]:
                rows.append(
                    {
                        "strand": strand,
                        "horizon_months": int(horizon[:-1]),
                        "measure": measure,
                        "followed": entry["followed"],
                        **entry[measure],
                    }
                )
    return rows


def cohort_metrics(totals: np.ndarray) -> list[tuple[str, float]]:
    """``(metric, value)`` of a run's cohort totals (in people), as comparisons report them per replicate.

    ``cohort_followed_<h>m`` (people), and for each measure ``cohort_<measure>_<h>m`` (the impact),
    ``..._treated``, ``..._comparison`` and ``..._deadweight``, from :func:`cohort_impact`; NaN where nobody
    was followed or a deadweight is not defined.
    """
    out: list[tuple[str, float]] = []
    for horizon, entry in (cohort_impact(totals) or {}).items():
        out.append((f"cohort_followed_{horizon}", entry["followed"]))
        for measure in MEASURES[1:]:
            for part in ("impact", "treated", "comparison", "deadweight"):
                value = entry[measure][part]
                name = f"cohort_{measure}_{horizon}" + ("" if part == "impact" else f"_{part}")
                out.append((name, np.nan if value is None else value))
    return out


def comparator_of(model: GMModel) -> GMModel:
    """A model of ``model``'s scenario with no strand funded, from its month 0: the same seed and people.

    It starts from a copy of ``model``'s starting population (``model`` must not have run yet), with the same
    parameters, and records no transitions or pathways.
    """
    from .agents.employers import Employers
    from .agents.people import People
    from .model import GMModel
    from .population import Population

    if model.month != 0:
        raise ValueError(f"a comparator starts at month 0; the model has run {model.month} months")
    bare = model.scenario.without_strands("comparator", history_sample=0)
    population = Population(People(*(a.copy() for a in model.people)), Employers(*(a.copy() for a in model.employers)))
    return GMModel(
        bare,
        rng=model.seed,
        parameters=model.parameter_draw,
        calibrated=model.params.calibrated,
        population=population,
        record_transitions=False,
    )


def run_evaluated(model: GMModel, progress: bool | None = None) -> GMModel | None:
    """Run ``model`` to its end beside its comparator (:func:`comparator_of`), following its cohorts.

    With no strand funded it runs alone. Returns the comparator (None if there was none).
    """
    from .model import progress_bar

    if all(iv.switched_off for iv in model.interventions):
        model.run(progress=progress)
        return None
    comparator = comparator_of(model)
    n = model.months_planned - model.month
    with progress_bar(n, model.scenario.name, progress) as bar:
        for _ in range(n):
            comparator.step()
            model.step()
            follow_cohorts(model, comparator)
            bar.update(1)
    return comparator


def run_beside_comparator(
    scenario: Any,
    seed: int | None = None,
    parameters: dict[str, float] | None = None,
    intervention_draws: dict[str, dict[str, float]] | None = None,
    record_transitions: bool = True,
    progress: bool | None = None,
) -> GMModel:
    """A funded scenario's run beside its comparator, as shared runs: the comparator is their trunk.

    The results are bit-identical to :func:`run_evaluated` on ``GMModel(scenario, rng=seed, ...)``, at about
    the cost of one run rather than two: the scenario's run steps only the people its strands could change,
    and takes everyone else's month from the comparator (:mod:`gmsim.shared`). When the run ends its people
    are made its own (a copy of the comparator's with its own people's values), so that the model returned
    reads, and goes on, as a run alone.

    Args:
        scenario: A :class:`~gmsim.scenario.Scenario` with strands funded.
        seed: The run's seed (default: the scenario's).
        parameters: Baseline parameter overrides, as ``GMModel(parameters=)``.
        intervention_draws: As ``GMModel(intervention_draws=)``.
        record_transitions: Count moves by age band, severity, benefit and borough (``transitions.csv``).
        progress: Show a progress bar (None: only if the run takes longer than two seconds).
    """
    from .model import progress_bar
    from .population import Population
    from .shared import SharedRuns

    comparator = scenario.without_strands("comparator")
    runs = SharedRuns(
        [comparator, scenario],
        scenario.seed if seed is None else int(seed),
        [None, intervention_draws],
        records=False,
        find_movable=False,
        parameters=parameters,
        record_transitions=record_transitions,
    )
    model = runs.models[1]
    with progress_bar(model.months_planned - model.month, scenario.name, progress) as bar:
        for _ in range(model.months_planned - model.month):
            runs.step()
            bar.update(1)
    own = Population(runs.own_people(1), runs.trunk.employers)
    own.attach(model)
    model.population, model.people = own, own.people
    return model
