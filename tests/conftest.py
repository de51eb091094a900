"""Shared fixtures: small hand-made populations for testing one rule at a time."""

from __future__ import annotations

import numpy as np
import pytest

from gmsim import codes
from gmsim.agents.people import People

FOUR_SE = 4.0  # tolerance of statistical tests, in standard errors


def make_people(n: int, **attrs) -> People:
    """People arrays with every attribute set to a plain default, overridden by ``attrs``."""
    defaults = dict(
        person_id=np.arange(n, dtype=np.int64),
        age_months=np.full(n, 40 * 12, np.int16),
        sex=np.zeros(n, np.int8),
        borough=np.zeros(n, np.int8),
        skills=np.ones(n, np.int8),
        condition=np.zeros(n, np.int8),
        severity=np.zeros(n, np.int8),
        state=np.full(n, codes.IN_WORK, np.int8),
        months_in_state=np.zeros(n, np.int16),
        benefit=np.zeros(n, np.int8),
        months_on_benefit=np.zeros(n, np.int16),
        employer=np.full(n, -1, np.int32),
        health_claim_start=np.full(n, codes.NO_CLAIM, np.int32),
        claim_from_work=np.zeros(n, np.int8),
        labour_event=np.full(n, -1, np.int8),
        health_event=np.full(n, -1, np.int8),
        exit_event=np.zeros(n, np.int8),
        exit_borough=np.zeros(n, np.int8),
    )
    for k, v in attrs.items():
        arr = defaults[k]
        arr[:] = v
    return People(**defaults)


def assert_share(count: int, n: int, p: float, what: str = "") -> None:
    """Binomial check: count/n is within 4 standard errors of p."""
    se = np.sqrt(p * (1 - p) / n)
    share = count / n
    assert abs(share - p) <= FOUR_SE * se + 1e-12, (
        f"{what}: {share:.5f} vs expected {p:.5f} (4 SE = {FOUR_SE * se:.5f})"
    )


@pytest.fixture(scope="session")
def small_run():
    """A calibrated baseline at scale 0.02 over 36 months (shared by several tests)."""
    from gmsim.model import GMModel

    m = GMModel(scale=0.02, months=36, rng=11)
    m.run(progress=False)
    return m
