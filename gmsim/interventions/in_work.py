"""Working Well strand 4, in work: health promotion, employee assistance and occupational health through employers.

The budget reaches employers, not people. Employers sign up at a monthly rate by size band
(``sign_up_rate.<band>``; large and public-sector employers lead through the good employer charter and
social value in procurement) and wait for a place; each month's budget enrols waiting employers in the
order they signed up, an employer costing ``unit_cost_gbp`` per employee per year of support, paid at
enrolment (new hires during support are covered at no extra cost). For ``support_months`` (24) every
employee of an enrolled employer is less likely to become at risk and, once at risk, more likely to
return and less likely to lose the job; weaker ``after_effects`` follow for ``after_months``.

Counts are of people (employees of the employers concerned) so that they can be split by borough; the
employer counts are in ``employer_totals``. Figures and sources: ``data/interventions/in_work.yaml``.
"""

from __future__ import annotations

import numpy as np

from .. import codes
from .base import AFTER, DONE, NEVER, NONE, SUPPORTED, WAITING, HazardMultipliers, Intervention, register

_BANDS = codes.EMPLOYER_SIZES[1:]
_AT_RISK_START = codes.T["in_work_to_at_risk"]


@register
class InWork(Intervention):
    """Good employer charter, employee assistance and occupational health through employers."""

    name = "in_work"
    title = "In work (employers)"
    claims = ("in_work_to_at_risk", "at_risk_to_in_work", "at_risk_to_out_of_work")

    def __init__(self, model, spec, index, draws=None):
        super().__init__(model, spec, index, draws)
        e = model.employers.n
        self.emp_status = np.zeros(e, dtype=np.int8)
        self.emp_status_month = np.full(e, NEVER, dtype=np.int16)
        self.budget_per_month = spec.budget_gbp_per_year / 12 * model.scale  # GBP of simulated employees
        self._carry_gbp = 0.0
        self.employer_counts = np.zeros((model.months_planned + 1, 3))  # signed up, enrolled, supported

    def funded(self, month: int) -> bool:
        """Whether sign-ups and enrolments happen in ``month``."""
        return self.start_month <= month <= self.end_month and self.budget_per_month > 0

    def eligible(self, model) -> np.ndarray:
        """Employers not yet signed up (a mask over employers; the counter ``eligible`` counts their staff)."""
        return self.emp_status == NONE

    def _employees_of(self, employers: np.ndarray) -> np.ndarray:
        e = self.model.people.employer
        mask = np.zeros(self.model.employers.n + 1, dtype=bool)
        mask[employers] = True
        return np.flatnonzero(mask[e])  # e == -1 reads the spare last entry, which is False

    def _employer_since(self, status: int, months: float) -> np.ndarray:
        return np.flatnonzero((self.emp_status == status)
                              & (self.model.month - self.emp_status_month.astype(np.int64) >= months))

    def _set_emp(self, rows: np.ndarray, status: int) -> None:
        self.emp_status[rows] = status
        self.emp_status_month[rows] = self.model.month

    def _staff_status(self) -> np.ndarray:
        """Each person's employer's status (-1 for people without an employer)."""
        e = self.model.people.employer
        status = np.append(self.emp_status, np.int8(-1))  # e == -1 reads the appended -1
        return status[e]

    def before_labour(self, model, mult: HazardMultipliers) -> None:
        """Employers' support ends, drop-outs, sign-ups, enrolments from the budget, effects on employees."""
        month, par, emp, p = model.month, self.params, model.employers, model.people
        self._grow(month)
        self.started_month[model.leavers] = NEVER
        self.flags[model.leavers] = 0
        ending = self._employer_since(SUPPORTED, par["support_months"])
        self._set_emp(self._employer_since(AFTER, par["after_months"]), DONE)
        self._set_emp(ending, AFTER if par["after_months"] > 0 else DONE)
        if len(ending):
            self._count("completed", self._employees_of(ending))

        waiting = np.flatnonzero(self.emp_status == WAITING)
        if len(waiting):
            u = model.streams.uniforms_at(f"strand.{self.name}.dropout", month, waiting)
            waited = month - self.emp_status_month[waiting].astype(np.int64)
            gone = (waited >= par["max_wait_months"]) | (u < 1 - np.exp(-par["dropout_rate"]))
            if gone.any():
                self._count("dropped_out", self._employees_of(waiting[gone]))
                self._set_emp(waiting[gone], DONE)

        if self.funded(month):
            fresh = self.eligible(model)
            rate = np.array([0.0] + [par[f"sign_up_rate.{b}"] for b in _BANDS])[emp.size_band]
            u = model.streams.uniforms(f"strand.{self.name}.sign_up", month, emp.n)
            signed = np.flatnonzero(fresh & (u < -np.expm1(-rate)))
            if self._referral_cap is not None:  # max_referrals caps employer sign-ups
                room = max(0, int(round(self._referral_cap * model.scale - self._referrals_so_far)))
                signed = signed[:room]
            self._referrals_so_far += len(signed)
            self.employer_counts[month, 0] += len(signed)
            self._set_emp(signed, WAITING)
            if len(signed):
                self._count("referred", self._employees_of(signed))

            self._carry_gbp += self.budget_per_month
            waiting = np.flatnonzero(self.emp_status == WAITING)
            waiting = waiting[np.lexsort((waiting, self.emp_status_month[waiting]))]
            headcount = np.bincount(p.employer[p.employer >= 0], minlength=emp.n) if len(waiting) else None
            years = par["support_months"] / 12
            cost = headcount[waiting] * self.unit_cost * years if len(waiting) else np.zeros(0)
            affordable = np.cumsum(cost) <= self._carry_gbp
            enrol = waiting[affordable]
            self._carry_gbp -= cost[affordable].sum()
            if not waiting[~affordable].size:
                self._carry_gbp = min(self._carry_gbp, self.budget_per_month)
            self._set_emp(enrol, SUPPORTED)
            self.employer_counts[month, 1] += len(enrol)
            if len(enrol):
                staff = self._employees_of(enrol)
                self._count("started", staff)
                self._count("spend_gbp", staff, self.unit_cost * years)
        self.employer_counts[month, 2] = (self.emp_status == SUPPORTED).sum()
        self._staff = self._staff_status()
        if self.funded(month):
            self._count("eligible", np.flatnonzero(self._staff == NONE))
        self._count("waiting", np.flatnonzero(self._staff == WAITING))
        self.apply_effects(model, mult)

    def apply_effects(self, model, mult: HazardMultipliers) -> None:
        """Employees of supported employers get ``effects``, of employers after support ``after_effects``."""
        for status, group in ((SUPPORTED, "effects"), (AFTER, "after_effects")):
            staff = np.flatnonzero(self._staff == status)
            if status == SUPPORTED:
                self._count("in_support", staff)
                model.participation[staff] |= np.uint16(1 << self.index)
            for t, ratio in self.effect(group).items():
                if ratio != 1.0:
                    mult.multiply(t, staff, ratio)

    def after_labour(self, model) -> None:
        """Covered employees who became at risk this month; at-risk starters still in work 6 months on."""
        p = model.people
        new_at_risk = np.flatnonzero(p.labour_event == _AT_RISK_START)
        new_at_risk = new_at_risk[self._staff[new_at_risk] == SUPPORTED]
        self.started_month[new_at_risk] = model.month
        self.flags[new_at_risk] |= 1
        self._count("at_risk_starts", new_at_risk)
        self.tracked = np.union1d(self.tracked[self.started_month[self.tracked] >= model.month - 6], new_at_risk)
        t = self.tracked
        six_months_ago = (self.started_month[t] == model.month - 6) & ((self.flags[t] & 1) == 1)
        kept = t[six_months_ago & (p.state[t] <= codes.AT_RISK)]
        self._count("kept_in_work", kept)

    def employer_totals(self) -> dict[str, float]:
        """Employers signed up and enrolled over the run, and supported at the end (GM, real employers)."""
        s = self.model.scale
        return {"employers_signed_up": float(self.employer_counts[:, 0].sum() / s),
                "employers_enrolled": float(self.employer_counts[:, 1].sum() / s),
                "employers_supported_at_end": float(self.employer_counts[self.model.month, 2] / s)}
