"""The figures the calibration does not fit, conditioned on GM's targets (a Bayes linear adjustment of their scores)."""

import numpy as np
import pytest

from gmsim import conditioning as C
from gmsim.ensemble import replicate_seed
from gmsim.parameters import read_data
from gmsim.streams import Streams


@pytest.fixture(scope="module")
def shipped():
    raw = read_data(C.CONDITIONING_FILE)
    targets = raw["targets"]
    emulators = {
        key: np.array([raw["emulators"][t][key] for t in targets], dtype=float)
        for key in ("intercept", "linear", "quadratic", "residual_sd", "r_squared", "measurement_sd")
    }
    return raw, emulators


@pytest.fixture(scope="module")
def replicate_scores():
    return [C.scores(replicate_seed(5, r)) for r in range(2000)]


def test_the_emulators_fit_recovers_a_known_response():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((600, 5))
    b = np.array([[0.3, 0.0, -0.1, 0.0, 0.05], [0.0, 0.0, 0.0, 0.0, 0.0]])
    q = np.array([[0.02, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    noise = 0.01
    shifts = 0.004 + z @ b.T + (z**2 - 1) @ q.T + noise * rng.standard_normal((600, 2))
    got = C.fit(z, shifts)
    # each coefficient within 4 standard errors (noise / sqrt(600) for a linear term)
    assert np.abs(got["linear"] - b).max() < 4 * noise / np.sqrt(600)
    assert np.abs(got["quadratic"] - q).max() < 4 * noise / np.sqrt(2 * 600)
    assert got["residual_sd"] == pytest.approx([noise, noise], rel=0.1)
    assert got["r_squared"][0] > 0.99 and got["r_squared"][1] < 0.05


def test_the_posterior_holds_a_score_only_as_far_as_a_target_measures_it():
    # score 0 moves target 0 by 0.1 a unit against a measurement sd of 0.025; score 1 moves nothing
    emulators = {
        "linear": np.array([[0.1, 0.0]]),
        "quadratic": np.zeros((1, 2)),
        "intercept": np.zeros(1),
        "residual_sd": np.zeros(1),
    }
    mu, sigma = C.posterior(emulators, np.array([0.025]))
    assert sigma[0, 0] == pytest.approx(1 / (1 + 0.1**2 / 0.025**2))  # 1/17: held to the measurement's width
    assert sigma[1, 1] == pytest.approx(1.0) and sigma[0, 1] == pytest.approx(0.0) and mu == pytest.approx([0, 0])
    # an emulator that knows the shift less well constrains less
    loose = C.posterior({**emulators, "residual_sd": np.array([0.1])}, np.array([0.025]))[1]
    assert sigma[0, 0] < loose[0, 0] < 1
    # two scores that offset each other: their sum is held, each alone is not
    both = {**emulators, "linear": np.array([[0.1, 0.1]])}
    s = C.posterior(both, np.array([0.025]))[1]
    assert s[0, 1] < -0.4 and s[0, 0] > 0.5 and s.sum() < 0.1
    # a shift on average (the curvature's) is offset by the posterior's mean
    shifted = {**emulators, "intercept": np.array([0.02])}
    mu, sigma = C.posterior(shifted, np.array([0.025]))
    assert abs(0.02 + 0.1 * mu[0]) < 0.02 * 0.1 and mu[1] == pytest.approx(0.0)


def test_prior_scores_come_from_the_streams_the_draws_always_used():
    seed = replicate_seed(5, 3)
    prior, streams = C.prior_scores(seed), Streams(seed)
    assert prior["inactive_to_in_work by severity"] == streams.normal_at("draw.ratio.inactive_to_in_work.severity")
    assert prior["demography.mortality.16-24"] == streams.normal_at("draw.ratio.demography.mortality.16-24")
    assert prior["labour_market.tightness"] == streams.normal_at("draw.market.labour_market.tightness")
    assert set(prior) == set(C.score_names()) and set(C.conditioned_names()) == set(prior) - set(C.UNCONDITIONED)


def test_the_shipped_conditioning_names_every_score_a_replicate_draws(shipped):
    raw, _ = shipped
    assert tuple(raw["scores"]) == C.conditioned_names()
    from gmsim.calibrate import fitted_targets, observed_and_sd

    assert raw["targets"] == [t.key for t in fitted_targets()]
    measured = [raw["emulators"][t]["measurement_sd"] for t in raw["targets"]]
    assert measured == pytest.approx(observed_and_sd()[1], rel=1e-4)
    # at least five pairs for each of an emulator's terms (a constant, and a linear and a square term a score)
    assert raw["method"]["pairs"] >= 5 * (1 + 2 * len(C.conditioned_names()))


def test_a_replicates_scores_follow_the_posterior_and_the_same_seed_gives_the_same(replicate_scores):
    names, mu, chol = C.adjustment()
    sigma = chol @ chol.T
    z = np.array([[s[n] for n in names] for s in replicate_scores])
    n = len(z)
    # means within 4 standard errors, variances within 4 of theirs (normal: sd of a variance is var*sqrt(2/n))
    assert np.all(np.abs(z.mean(axis=0) - mu) < 4 * np.sqrt(np.diag(sigma) / n))
    assert np.all(np.abs(z.var(axis=0) - np.diag(sigma)) < 4 * np.diag(sigma) * np.sqrt(2 / n))
    assert C.scores(replicate_seed(5, 0)) == replicate_scores[0]
    # the unconditioned score keeps its prior draw
    for name in C.UNCONDITIONED:
        assert replicate_scores[0][name] == C.prior_scores(replicate_seed(5, 0))[name]


def test_the_targets_hold_the_scores_shift_to_about_their_measurement_error(shipped):
    _, e = shipped
    names, mu, chol = C.adjustment()
    sigma = chol @ chol.T
    b = e["linear"]
    prior_sd = np.sqrt((b**2).sum(axis=1))
    posterior_sd = np.sqrt(np.einsum("ij,jk,ik->i", b, sigma, b))
    # every target's shift from the scores' linear part: no wider than with the scores from their prior, and
    # within its measurement sd and the emulator's (the adjustment's bound, with a margin for the emulator)
    assert np.all(posterior_sd <= prior_sd + 1e-12)
    assert np.all(posterior_sd < 1.05 * np.sqrt(e["measurement_sd"] ** 2 + e["residual_sd"] ** 2))
    # the emulators explain most of each shift the scores make on the stocks the targets count (fitted where
    # the posterior lies, so the shifts are small there and a fifth of them is noise and interactions)
    stocks = [read_data(C.CONDITIONING_FILE)["targets"].index(t) for t in ("out_of_work", "out_of_work_health")]
    assert np.all(e["r_squared"][stocks] > 0.75)
    # a score whose figures move no target keeps about its prior spread: the young's mortality
    i = names.index("demography.mortality.16-24")
    assert sigma[i, i] > 0.8
    # a base rate sets how many make a move, so the targets hold it more than any gradient's steepness
    rates = [names.index(n) for n in names if n.endswith(".base")]
    steepness = [names.index(n) for n in names if " by " in n]
    assert len(rates) == 5 and np.diag(sigma)[rates].min() < 0.25 < np.diag(sigma)[steepness].min()


def test_a_stale_conditioning_file_is_refused_naming_the_file(monkeypatch):
    raw = read_data(C.CONDITIONING_FILE)
    raw["scores"] = raw["scores"][1:]
    monkeypatch.setattr(C, "read_data", lambda name: raw)
    C.adjustment.cache_clear()
    try:
        with pytest.raises(KeyError, match="conditioning.yaml"):
            C.adjustment()
    finally:
        monkeypatch.undo()
        C.adjustment.cache_clear()
