"""Working Well strand 4, in work: health promotion, employee assistance and occupational health through employers.

The budget reaches employers, not people. Employers sign up at a monthly rate by size band
(``sign_up_rate.<band>``; large and public-sector employers lead through the good employer charter and
social value in procurement) and wait for a place; each month's budget enrols waiting employers in the
order they signed up, an employer costing ``unit_cost_gbp`` per employee per year of support, paid at
enrolment (new hires during support are covered at no extra cost). For ``support_months`` (24) the
employees of an enrolled employer who *use* the service (``usage``) are less likely to become at risk
and, once at risk, more likely to return and less likely to lose the job; weaker ``after_effects``
follow for ``after_months``. Whether an employee uses it is their own fixed number (stream
``strand.in_work.usage``) against the usage share: ``usage.in_work`` of covered employees in work (EAP
usage, about 12% a year), ``usage.off_sick`` of those off sick (occupational-health and return-to-work
support), the first a subset of the second. Where the employer already gave access to occupational
health, only ``usage.with_occupational_health`` of each ratio's effect remains (on the log scale):
the strand adds less to what the employer already had.

Counts are of people (employees of the employers concerned) so that they can be split by borough; the
employer counts are in ``employer_totals``. Figures and sources: ``data/interventions/in_work.yaml``.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from .. import codes
from ..codes import AFTER, NEVER, NOT_REFERRED, PARTICIPATION, SUPPORTED, WAITING
from . import kernels
from .intervention import Intervention, register
from .multipliers import HazardMultipliers
from .parameters import InterventionParameters, NonNegative, Share

_BANDS = codes.EMPLOYER_SIZES[1:]
_AT_RISK_START = codes.T["in_work_to_at_risk"]
# An employer's events in a month, one bit each, and the counter of their staff each adds to.
_EVENTS = ("completed", "dropped_out", "referred", "started")
_COMPLETED, _DROPPED_OUT, _REFERRED, _STARTED = range(len(_EVENTS))


class SignUpRates(BaseModel):
    """Monthly rate at which employers of each size band sign up (per month)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    micro: NonNegative
    small: NonNegative
    medium: NonNegative
    large: NonNegative


class Usage(BaseModel):
    """Who of an enrolled employer's staff the service reaches (shares)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    in_work: Share
    off_sick: Share
    with_occupational_health: Share


class InWorkParameters(InterventionParameters):
    """The in-work strand's parameters: ``unit_cost_gbp`` is per employee a year of support, and employers sign up."""

    sign_up_rate: SignUpRates
    usage: Usage


@register
class InWork(Intervention):
    """Good employer charter, employee assistance and occupational health through employers."""

    name = "in_work"
    title = "In work (employers)"
    claims = ("in_work_to_at_risk", "at_risk_to_in_work", "at_risk_to_out_of_work")
    Parameters = InWorkParameters
    reaches_employers = True
    records = ("started_month", "flags")  # covered employees who became at risk

    def __init__(self, model, spec, index, draws=None):
        super().__init__(model, spec, index, draws)
        e = model.employers.n
        self.emp_status = np.zeros(e, dtype=np.int8)
        self.emp_status_month = np.full(e, NEVER, dtype=np.int16)
        self._carry_gbp = 0.0
        self.employer_counts = np.zeros((model.months_planned + 1, 3))  # signed up, enrolled, supported
        self._supported_staff = self._after_staff = np.zeros(0, dtype=np.int64)
        rates = self.params.sign_up_rate
        rate = np.array([0.0] + [getattr(rates, b) for b in _BANDS])[model.employers.size_band]
        self._sign_up_probability = -np.expm1(-rate)  # each employer's, a month

    def budget_per_month(self, month: int) -> float:
        """The budget of ``month`` (GBP, for simulated employees: scaled with the population)."""
        return self.annual_budget(month) / 12 * self.model.scale

    def funded(self, month: int) -> bool:
        """Whether sign-ups and enrolments happen in ``month``."""
        return self.start_month <= month <= self.end_month and self.annual_budget(month) > 0

    def eligible(self, people) -> np.ndarray:
        """Employers not yet signed up: a mask over employers, not people (``eligible`` counts their staff)."""
        return self.emp_status == NOT_REFERRED

    def _set_emp(self, rows: np.ndarray, status: int) -> None:
        self.emp_status[rows] = status
        self.emp_status_month[rows] = self.model.month

    def step(self) -> None:
        """Employers' support ends, drop-outs, sign-ups, enrolments from the budget, effects on employees.

        The employers' changes are made first, each marking the employers concerned with an event bit;
        the population then counts the staff of the employers with each event and in each status, and lists
        the staff of the supported employers and of those in after-effects.
        """
        model, caseload = self.model, self.caseload
        month, par, emp = model.month, self.params, model.employers
        caseload.grow(month)
        if month >= self.employer_counts.shape[0]:
            extra = max(month + 1, 2 * self.employer_counts.shape[0]) - self.employer_counts.shape[0]
            self.employer_counts = np.concatenate([self.employer_counts, np.zeros((extra, 3))])
        if self.switched_off:
            return
        leavers = model.leavers
        caseload.clear(leavers[caseload.started_month[leavers] != NEVER])  # at-risk starters only
        events = np.zeros(emp.n, dtype=np.uint8)
        waiting, supported = kernels.review_employers(
            self.emp_status,
            self.emp_status_month,
            month,
            self.timing,
            model.streams.key(f"strand.{self.name}.dropout"),
            events,
            1 << _COMPLETED,
            1 << _DROPPED_OUT,
        )

        funded = self.funded(month)
        years = par.support_months / 12
        if funded:
            signed = kernels.sign_ups(
                np.asarray(self.eligible(model.people), dtype=bool),
                self._sign_up_probability,
                model.streams.key(f"strand.{self.name}.sign_up"),
                month,
            )
            if self.referral_cap is not None:  # max_referrals caps employer sign-ups
                room = max(0, int(round(self.referral_cap - caseload.referrals_so_far)))
                signed = signed[:room]
            caseload.referrals_so_far += len(signed)
            self.employer_counts[month, 0] += len(signed)
            self._set_emp(signed, WAITING)
            events[signed] |= 1 << _REFERRED

            self._carry_gbp = self.lapse_on_budget_change(self._carry_gbp, month) + self.budget_per_month(month)
            waiting = kernels.merge(waiting, signed)
            waiting = waiting[np.lexsort((waiting, self.emp_status_month[waiting]))]
            if len(waiting):
                headcount = model.population.headcount()
                cost = headcount[waiting] * self.unit_cost * years
            else:
                cost = np.zeros(0)
            affordable = np.cumsum(cost) <= self._carry_gbp
            enrol = waiting[affordable]
            self._carry_gbp -= cost[affordable].sum()
            if not waiting[~affordable].size:
                self._carry_gbp = min(self._carry_gbp, self.budget_per_month(month))
            self._set_emp(enrol, SUPPORTED)
            self.employer_counts[month, 1] += len(enrol)
            events[enrol] |= 1 << _STARTED
            supported += len(enrol)
        self.employer_counts[month, 2] = supported

        by_status = np.zeros((len(PARTICIPATION), len(codes.BOROUGHS)), dtype=np.int64)
        by_event = np.zeros((len(_EVENTS), len(codes.BOROUGHS)), dtype=np.int64)
        self._supported_staff, self._after_staff = model.population.staff(
            self.emp_status, events, by_status, by_event, SUPPORTED, AFTER
        )
        for k, counter in enumerate(_EVENTS):
            caseload.add(counter, by_event[k])
        caseload.add("spend_gbp", kernels.repeated_sum(self.unit_cost * years, by_event[_STARTED]))
        if funded:
            caseload.add("eligible", by_status[NOT_REFERRED])
        caseload.add("waiting", by_status[WAITING])
        caseload.add("in_support", by_status[SUPPORTED])
        self.apply_effects(model.hazard_multipliers)

    def apply_effects(self, multipliers: HazardMultipliers) -> None:
        """Users among the employees of supported employers get ``effects``; after support, ``after_effects``.

        A ratio for a move from in work reaches the users among staff in work (``usage.in_work``); one for a
        move from off sick, the users among staff off sick (``usage.off_sick``). Where the employer already
        gave access to occupational health, the ratio is raised to ``usage.with_occupational_health``.

        The population may list only the employees whose month a multiplier could change
        (:meth:`gmsim.population.Population.could_change`), so the participation marked is theirs (the staff
        covered, users or not), and that of the sampled pathways' people who work for a supported employer.
        """
        model = self.model
        bit = np.uint16(1 << self.index)
        usage = self.params.usage
        for status, group in ((SUPPORTED, "effects"), (AFTER, "after_effects")):
            staff = self._supported_staff if status == SUPPORTED else self._after_staff
            if status == SUPPORTED:
                model.participation[staff] |= bit
            ratios = {t: r for t, r in self.params.ratios(group).items() if r != 1.0}
            if not ratios or not len(staff):
                continue
            number = model.streams.uniforms_at(f"strand.{self.name}.usage", 0, staff)
            employer = model.people.employer[staff]
            has_oh = model.employers.occupational_health[np.maximum(employer, 0)] == 1
            power = np.where(has_oh, usage.with_occupational_health, 1.0)
            for transition, ratio in ratios.items():
                t = codes.T[transition]
                from_work = t < codes.N_LABOUR and codes.LABOUR_FROM[t] == codes.IN_WORK
                share = usage.in_work if from_work else usage.off_sick
                users = number < share
                multipliers.multiply(transition, staff[users], ratio ** power[users])
        if model.pathways is not None:
            sampled = model.pathways.slots
            e = model.people.employer[sampled]
            model.participation[sampled[(e >= 0) & (self.emp_status[np.maximum(e, 0)] == SUPPORTED)]] |= bit

    def largest_ratios(self) -> dict[str, float]:
        """The largest of ``effects`` and ``after_effects`` for each transition (at least 1)."""
        return self._largest_of(("effects", "after_effects"))

    def follow_up(self) -> None:
        """Covered employees who became at risk this month; at-risk starters still in work 6 months on."""
        if self.switched_off:
            return
        model, caseload = self.model, self.caseload
        p = model.people
        staff = self._supported_staff
        new_at_risk = staff[p.labour_event[staff] == _AT_RISK_START]
        caseload.started_month[new_at_risk] = model.month
        caseload.flags[new_at_risk] |= 1
        caseload.count("at_risk_starts", new_at_risk)
        tracked = caseload.tracked
        caseload.tracked = kernels.merge(tracked[caseload.started_month[tracked] >= model.month - 6], new_at_risk)
        t = caseload.tracked
        six_months_ago = (caseload.started_month[t] == model.month - 6) & ((caseload.flags[t] & 1) == 1)
        kept = t[six_months_ago & (p.state[t] <= codes.AT_RISK)]
        caseload.count("kept_in_work", kept)

    def employer_totals(self) -> dict[str, float]:
        """Employers signed up and enrolled over the run, and supported at the end (GM, real employers)."""
        s = self.model.scale
        return {
            "employers_signed_up": float(self.employer_counts[:, 0].sum() / s),
            "employers_enrolled": float(self.employer_counts[:, 1].sum() / s),
            "employers_supported_at_end": float(self.employer_counts[self.model.month, 2] / s),
        }
