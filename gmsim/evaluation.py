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
#: Months in work in a row that make a job lasting 26 weeks.
SUSTAINED_MONTHS = 6

_FIELDS = ("state", "labour_event", "benefit", "severity", "exit_event")
_ENTRIES = np.array([codes.T["out_of_work_to_in_work"], codes.T["inactive_to_in_work"]], dtype=np.int8)


class CohortImpact:
    """One strand's referral cohorts in a run, followed in the run and in its comparator.

    Attributes:
        totals: Sums over the cohorts measured so far, by horizon, measure (:data:`MEASURES`) and side
            (:data:`SIDES`), in simulated people (``followed``, the shares' counts) or person-months.
    """

    def __init__(self) -> None:
        self.totals = np.zeros((len(HORIZONS), len(MEASURES), len(SIDES)))
        self._slots = np.zeros(0, dtype=np.int64)
        self._referred = np.zeros(0, dtype=np.int16)
        self._started = np.zeros((2, 0), dtype=np.bool_)
        self._run = np.zeros((2, 0), dtype=np.int16)  # months in work in a row
        self._sustained = np.zeros((2, 0), dtype=np.bool_)
        self._in_work = np.zeros((2, 0), dtype=np.int16)
        self._on_benefit = np.zeros((2, 0), dtype=np.int16)

    def follow(self, month: int, referred: np.ndarray, treated: dict, comparison: dict) -> None:
        """Add ``month``'s referrals and follow every cohort through ``month``.

        Args:
            month: The month just run.
            referred: Slots the strand referred this month.
            treated: The run's end-of-month values (:data:`_FIELDS`) of the slots :meth:`slots_after` gave.
            comparison: The comparator's values of the same slots.
        """
        k = len(referred)
        if k:
            self._slots = np.concatenate([self._slots, referred])
            self._referred = np.concatenate([self._referred, np.full(k, month, dtype=np.int16)])
            for name in ("_started", "_run", "_sustained", "_in_work", "_on_benefit"):
                old = getattr(self, name)
                setattr(self, name, np.concatenate([old, np.zeros((2, k), dtype=old.dtype)], axis=1))
        if not len(self._slots):
            return
        stayed = np.ones(len(self._slots), dtype=np.bool_)
        employed = np.empty((2, len(self._slots)), dtype=np.bool_)
        for side, values in enumerate((treated, comparison)):
            stayed &= values["exit_event"] == 0
            employed[side] = values["state"] <= codes.AT_RISK
            self._started[side] |= np.isin(values["labour_event"], _ENTRIES)
            self._run[side] = np.where(employed[side], self._run[side] + 1, 0)
            self._sustained[side] |= self._run[side] >= SUSTAINED_MONTHS
            self._in_work[side] += employed[side]
            self._on_benefit[side] += values["benefit"] != codes.NO_BENEFIT
        age = month - self._referred.astype(np.int64) + 1  # months followed
        for h, horizon in enumerate(HORIZONS):
            due = stayed & (age == horizon)
            if not due.any():
                continue
            t = self.totals[h]
            for side, values in enumerate((treated, comparison)):
                t[0, side] += due.sum()
                t[1, side] += self._started[side, due].sum()
                t[2, side] += self._sustained[side, due].sum()
                t[3, side] += employed[side, due].sum()
                t[4, side] += self._in_work[side, due].sum()
                t[5, side] += self._on_benefit[side, due].sum()
                t[6, side] += values["severity"][due].astype(np.int64).sum()
        keep = np.flatnonzero(stayed & (age < max(HORIZONS)))
        self._slots, self._referred = self._slots[keep], self._referred[keep]
        for name in ("_started", "_run", "_sustained", "_in_work", "_on_benefit"):
            setattr(self, name, getattr(self, name)[:, keep])

    def slots_after(self, referred: np.ndarray) -> np.ndarray:
        """The slots :meth:`follow` needs values of once ``referred`` have joined (in that order)."""
        return np.concatenate([self._slots, referred])


def follow_cohorts(model: GMModel, comparator: GMModel) -> None:
    """Follow ``model``'s referral cohorts through the month just run, in it and in ``comparator``.

    Both must have run the same month with the same seed; ``comparator`` is ``model``'s scenario with no
    strand funded. Called once a month, after both have completed it.
    """
    month = model.month
    for iv in model.interventions:
        if iv.switched_off:
            continue
        if iv.impact is None:
            iv.impact = CohortImpact()
        referred = iv.caseload.referred_in(month)
        slots = iv.impact.slots_after(referred)
        if len(slots):
            treated = model.population.values_at(slots, _FIELDS)
            comparison = comparator.population.values_at(slots, _FIELDS)
        else:
            treated = comparison = {}
        iv.impact.follow(month, referred, treated, comparison)


def cohort_impact(totals: np.ndarray | None, scale: float) -> dict[str, Any] | None:
    """The cohort impact in words from :attr:`CohortImpact.totals` of a run at ``scale``.

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
        entry: dict[str, Any] = {"followed": n / scale}
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


def cohort_impact_table(impacts: dict[str, np.ndarray], scale: float) -> list[dict[str, Any]]:
    """Tidy rows of :func:`cohort_impact` by strand: strand, horizon (months), measure, followed and the sides."""
    rows = []
    for strand, totals in impacts.items():
        for horizon, entry in (cohort_impact(totals, scale) or {}).items():
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
    for horizon, entry in (cohort_impact(totals, 1.0) or {}).items():
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
    from .scenario import Scenario

    if model.month != 0:
        raise ValueError(f"a comparator starts at month 0; the model has run {model.month} months")
    data = model.scenario.to_dict()
    data.update(strands={}, modules=[], population={**data["population"], "history_sample": 0})
    bare = Scenario.from_dict(data, path="comparator")
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
    from tqdm.auto import tqdm

    if all(iv.switched_off for iv in model.interventions):
        model.run(progress=progress)
        return None
    comparator = comparator_of(model)
    n = model.months_planned - model.month
    with tqdm(
        total=n,
        unit="month",
        desc=model.scenario.name,
        delay=2.0 if progress is None else 0.0,
        disable=progress is False,
        leave=False,
    ) as bar:
        for _ in range(n):
            comparator.step()
            model.step()
            follow_cohorts(model, comparator)
            bar.update(1)
    return comparator
