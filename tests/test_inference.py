"""History matching with emulators and the posterior sample, on problems whose answer is known."""

import numpy as np
import pytest

from gmsim.inference import CUTOFF, Emulator, Posterior, Prior, history_match, implausibility, sample_posterior

# A linear-Gaussian problem: 3 parameters with standard normal priors, 4 targets y = A theta measured with
# error; its posterior is normal with a closed form.
A = np.array([[1.0, 0.5, 0.0], [0.0, 1.0, -0.3], [0.2, 0.0, 0.0], [0.3, 0.3, 0.0]])
OBSERVED = np.array([0.4, -0.2, 0.1, 0.0])
SD = np.array([0.1, 0.1, 0.2, 0.2])
RUN_NOISE = 0.05  # each "run" is off its expected value by this much, as a stochastic simulator's would be


def exact_posterior():
    precision = np.eye(3) + A.T @ np.diag(SD**-2) @ A
    cov = np.linalg.inv(precision)
    return cov @ A.T @ np.diag(SD**-2) @ OBSERVED, np.sqrt(np.diag(cov))


@pytest.fixture(scope="module")
def matched():
    rng = np.random.default_rng(0)

    def simulate(x, wave):
        return x @ A.T + rng.normal(0, RUN_NOISE, (len(x), len(A)))

    lower, upper = np.full(3, -3.0), np.full(3, 3.0)
    x, y, emulators, shares = history_match(
        simulate, OBSERVED, SD, lower, upper, (60, 40), seed=1, report=lambda m: None
    )
    return x, y, emulators, shares, lower, upper


def test_the_posterior_sample_matches_the_exact_posterior(matched):
    x, _, emulators, _, lower, upper = matched
    priors = [Prior("normal", 0.0, 1.0)] * 3
    posterior = Posterior(emulators, OBSERVED, SD, priors, lower, upper)
    post = sample_posterior(posterior, x, 400, seed=2, steps=1500, progress=False)
    mean, sd = exact_posterior()
    # Tolerance: a quarter of each exact posterior sd for the mean (the emulators' own uncertainty widens the
    # sample a little, and 400 draws of an autocorrelated chain hold ~60 independent ones), 25% for the sd.
    assert np.all(np.abs(post.points.mean(axis=0) - mean) < 0.25 * sd)
    assert np.all(np.abs(post.points.std(axis=0) / sd - 1) < 0.25)
    assert 0.2 < post.acceptance < 0.8


def test_history_matching_rules_out_most_of_the_box_and_keeps_the_truth(matched):
    _, _, emulators, shares, _, _ = matched
    mean, _ = exact_posterior()
    assert shares[-1] < 0.05
    assert implausibility(emulators, mean[None, :], OBSERVED, SD).max() < CUTOFF
    far = np.array([[2.5, 2.5, 2.5]])
    assert implausibility(emulators, far, OBSERVED, SD).max() > CUTOFF


def test_history_matching_goes_on_from_earlier_runs_in_the_same_box():
    rng = np.random.default_rng(4)
    called = []

    def simulate(x, wave):
        called.append((wave, len(x)))
        return x @ A.T + rng.normal(0, RUN_NOISE, (len(x), len(A)))

    lower, upper = np.full(3, -3.0), np.full(3, 3.0)
    quiet = lambda m: None  # noqa: E731
    x0, y0, _, _ = history_match(simulate, OBSERVED, SD, lower, upper, (60,), seed=1, report=quiet)
    x, y, emulators, shares = history_match(
        simulate, OBSERVED, SD, lower, upper, (40,), seed=1, report=quiet, earlier=(x0, y0, 1)
    )
    # the earlier runs are kept as they were, the further wave is numbered on from them and drawn where the
    # first wave's emulators leave room, and the match keeps the truth as one run from the start does
    assert called == [(0, 60), (1, 40)] and len(shares) == 2
    assert np.array_equal(x[:60], x0) and np.array_equal(y[:60], y0) and len(x) == 100
    mean, _ = exact_posterior()
    assert implausibility(emulators, mean[None, :], OBSERVED, SD).max() < CUTOFF and shares[-1] < 0.05
    # runs from another box cannot be taken as this one's
    with pytest.raises(ValueError, match="1 of the earlier runs lie outside the box"):
        history_match(
            simulate, OBSERVED, SD, lower, upper, (10,), seed=1, report=quiet,
            earlier=(np.vstack([x0, [[3.5, 0.0, 0.0]]]), np.vstack([y0, y0[:1]]), 1),
        )  # fmt: skip


def test_an_emulator_learns_the_run_noise_and_covers_held_out_runs():
    rng = np.random.default_rng(3)
    lower, upper = np.zeros(2), np.ones(2)

    def f(x):
        return np.sin(3 * x[:, 0]) + x[:, 1] ** 2

    x = rng.random((120, 2))
    em = Emulator(x, f(x) + rng.normal(0, 0.05, len(x)), lower, upper)
    assert em.noise_sd == pytest.approx(0.05, rel=0.35)
    held = rng.random((400, 2))
    mean, sd = em.predict(held)
    z = (f(held) - mean) / np.sqrt(sd**2 + 1e-6)
    assert np.mean(np.abs(z) < 3) > 0.9  # a 3-sd interval of the expected value covers at least 90%
    assert np.sqrt(np.mean((f(held) - mean) ** 2)) < 0.05  # and the expected value is learnt within the run noise


def test_priors_have_the_stated_intervals_and_the_uniform_has_no_mass_outside():
    normal = Prior("normal", 0.2, 0.5)
    lo, hi = normal.interval(0.95)
    assert lo == pytest.approx(0.2 - 1.96 * 0.5, abs=1e-3) and hi == pytest.approx(0.2 + 1.96 * 0.5, abs=1e-3)
    flat = Prior("uniform", 0.0, 1.0)
    assert flat.interval(1.0) == (0.0, 1.0)
    assert np.isneginf(flat.logpdf(np.array([1.2]))[0]) and flat.logpdf(np.array([0.5]))[0] == pytest.approx(0.0)
    assert flat.sd == pytest.approx(1 / np.sqrt(12))
