"""Working Well strand 1, care and support: people with complex, enduring conditions or disability.

Eligible: out of work or inactive with a complex condition (severity >= ``eligibility.min_severity``) or
in the ESA support group / UC LCWRA. Referred by health and social care, Jobcentre, or themselves and the
voluntary sector. A year of employability, meaningful activity, volunteering and wellbeing support:
mostly moves people closer to work (from inactive to looking, slower decline, some recovery) with a small
rise in job entry. Figures and sources: ``data/interventions/care_and_support.yaml``.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import BaseModel, ConfigDict

from .. import codes
from .intervention import Intervention, register
from .parameters import InterventionParameters, Severity

_OOW, _INACTIVE, _SUPPORT_GROUP = codes.OUT_OF_WORK, codes.INACTIVE, codes.SUPPORT_GROUP


@njit(cache=True)
def _eligible(p, min_severity, out):
    state, severity, benefit = p.state, p.severity, p.benefit
    for i in range(state.shape[0]):
        s = state[i]
        out[i] = ((s == _OOW) | (s == _INACTIVE)) & ((severity[i] >= min_severity) | (benefit[i] == _SUPPORT_GROUP))


class Eligibility(BaseModel):
    """Who care and support is for, besides the ESA support group / UC LCWRA."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_severity: Severity


class CareAndSupportParameters(InterventionParameters):
    """Care and support's parameters: those of every intervention, and who is eligible."""

    eligibility: Eligibility


@register
class CareAndSupport(Intervention):
    """Employability, meaningful activity, volunteering, wellbeing."""

    name = "care_and_support"
    title = "Care and support"
    claims = (
        "inactive_to_out_of_work",
        "out_of_work_to_in_work",
        "health_worsening",
        "health_recovery",
        "in_work_to_out_of_work",
    )
    Parameters = CareAndSupportParameters
    screens_each_person = True

    def eligible(self, people) -> np.ndarray:
        """Not working, with a complex and enduring condition or in the support group."""
        out = np.empty(people.n, dtype=bool)
        _eligible(people, self.params.eligibility.min_severity, out)
        return out
