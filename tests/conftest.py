"""Shared fixtures: small hand-made populations for testing one rule at a time, and a browser page."""

from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np
import pytest

from gmsim import codes
from gmsim.agents.people import People

FOUR_SE = 4.0  # tolerance of statistical tests, in standard errors

# Populations kept on disk by the tests' runs go to a folder of the test session, not the user's cache.
os.environ["GMSIM_CACHE_DIR"] = tempfile.mkdtemp(prefix="gmsim-test-cache-")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def make_people(n: int, **attrs) -> People:
    """People arrays with every attribute set to a plain default, overridden by ``attrs``.

    The defaults: a 40-year-old woman in Bolton with medium skills and no condition, in work with no
    employer, benefit, claim or event this month; fields not named here take their entrant value.
    """
    people = People.blank(n)
    defaults = dict(
        person_id=np.arange(n),
        age_months=40 * 12,
        sex=0,
        borough=0,
        skills=1,
        condition=0,
        severity=0,
        state=codes.IN_WORK,
        months_in_state=0,
        exit_event=0,
        exit_borough=0,
    )
    for k, v in {**defaults, **attrs}.items():
        getattr(people, k)[:] = v
    return people


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


@pytest.fixture
def browser_page():
    """A page in headless Chromium (skipped without Chromium, unless .ci/run requires it)."""
    required = os.environ.get("GMSIM_BROWSER_TEST") == "required"
    if CHROMIUM is None:
        if required:
            pytest.fail("Chromium is not installed but the browser test is required (GMSIM_BROWSER_TEST)")
        pytest.skip("Chromium not installed (Debian: apt-get install chromium); .ci/run installs it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            raise
        pytest.skip("playwright not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        finally:
            browser.close()
