"""Working Well strand 2, work and health: key-worker support for longer-term out-of-work people.

Eligible: out of work for ``eligibility.min_months_out_of_work`` months or more (12), with a health
condition (severity >= ``eligibility.min_severity``) and one of ``eligibility.benefits``. Referred by
Jobcentre or GP; supported for ``support_months`` (15), with faster health recovery (talking therapies)
and, in the evidence of GM's own pilot, no change in job entry; after a job start,
``in_work_support_months`` (12) of in-work support lower the chance of losing the job, whether to look for
work or to leave the labour market. Figures and sources: ``data/interventions/work_and_health.yaml``.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import BaseModel, ConfigDict

from .. import codes
from .intervention import Intervention, register
from .kernels import bits
from .parameters import Benefits, InterventionParameters, Months, Severity

_OOW = codes.OUT_OF_WORK


@njit(cache=True)
def _eligible(p, min_months, min_severity, benefit_bits, out):
    state, months_in_state, severity, benefit = p.state, p.months_in_state, p.severity, p.benefit
    for i in range(state.shape[0]):
        out[i] = (
            (state[i] == _OOW)
            & (months_in_state[i] >= min_months)
            & (severity[i] >= min_severity)
            & (((benefit_bits >> benefit[i]) & 1) == 1)
        )


class Eligibility(BaseModel):
    """Who work and health is for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_months_out_of_work: Months
    min_severity: Severity
    benefits: Benefits


class WorkAndHealthParameters(InterventionParameters):
    """Work and health's parameters: those of every intervention, and who is eligible."""

    eligibility: Eligibility


@register
class WorkAndHealth(Intervention):
    """Key worker, personalised sequenced plan, talking therapies, skills; then in-work support."""

    name = "work_and_health"
    title = "Work and health"
    claims = (
        "out_of_work_to_in_work",
        "health_recovery",
        "in_work_to_out_of_work",
        "at_risk_to_out_of_work",
        "in_work_to_inactive",
        "at_risk_to_inactive",
    )
    Parameters = WorkAndHealthParameters
    screens_each_person = True

    def eligible(self, people) -> np.ndarray:
        """Out of work a year or more, with a health condition and an eligible benefit."""
        rule = self.params.eligibility
        out = np.empty(people.n, dtype=bool)
        benefits = bits([codes.BENEFITS.index(b) for b in rule.benefits])
        _eligible(people, rule.min_months_out_of_work, rule.min_severity, benefits, out)
        return out
