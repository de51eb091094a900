"""Working Well strand 3, early help: people at risk of falling out of work, and the newly unemployed.

Eligible: people at risk (employed, off sick on a fit note or struggling with a health condition) and
people out of work for under ``eligibility.max_months_out_of_work`` months (3) with a health condition.
Referred by GPs (fit notes), employers (only people with an employer) or themselves. Employees of micro
and small firms and of employers without occupational health, and the newly unemployed, start first. Support for
``support_months`` (6): faster return from sickness absence, fewer job losses, faster recovery, and for
the newly unemployed a higher job-entry hazard. Figures and sources: ``data/interventions/early_help.yaml``.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import BaseModel, ConfigDict

from .. import codes
from .intervention import Intervention, register
from .parameters import InterventionParameters, Months, Severity

_AT_RISK, _OOW = codes.AT_RISK, codes.OUT_OF_WORK


@njit(cache=True)
def _eligible(p, max_months, min_severity, out):
    state, months_in_state, severity = p.state, p.months_in_state, p.severity
    for i in range(state.shape[0]):
        s = state[i]
        out[i] = (s == _AT_RISK) | ((s == _OOW) & (months_in_state[i] < max_months) & (severity[i] >= min_severity))


class Eligibility(BaseModel):
    """Who early help is for, besides everyone at risk in work."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_months_out_of_work: Months
    min_severity: Severity


class EarlyHelpParameters(InterventionParameters):
    """Early help's parameters: those of every intervention, and who is eligible."""

    eligibility: Eligibility


@register
class EarlyHelp(Intervention):
    """Telephone and face-to-face support, vocational rehabilitation, physiotherapy, mental-health help."""

    name = "early_help"
    title = "Early help"
    claims = (
        "at_risk_to_in_work",
        "at_risk_to_out_of_work",
        "health_recovery",
        "out_of_work_to_in_work",
        "in_work_to_at_risk",
    )
    Parameters = EarlyHelpParameters
    screens_each_person = True

    def eligible(self, people) -> np.ndarray:
        """At risk, or newly out of work with a health condition."""
        rule = self.params.eligibility
        out = np.empty(people.n, dtype=bool)
        _eligible(people, rule.max_months_out_of_work, rule.min_severity, out)
        return out

    def route_masks(self, people, eligible: np.ndarray) -> dict[str, np.ndarray]:
        """Employers refer only their own staff; GPs and self-referral reach everyone eligible."""
        masks = super().route_masks(people, eligible)
        masks["employer"] = eligible & (people.employer >= 0)
        return masks

    def priority(self, people) -> np.ndarray:
        """Start order: 0 for the priority groups, 1 for others.

        The priority groups are employees of micro or small firms or of employers without occupational
        health, and the newly unemployed (no employer); others are employees of larger employers with it.
        """
        employers = self.model.employers
        e = people.employer
        has = e >= 0
        first = ~has
        first[has] = (employers.size_band[e[has]] <= 2) | (employers.occupational_health[e[has]] == 0)
        return np.where(first, 0, 1)
