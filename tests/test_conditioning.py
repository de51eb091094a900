"""The figures the calibration does not fit, conditioned on GM's targets (a Bayes linear adjustment of their scores)."""

import numpy as np
import pytest

from gmsim import conditioning as C
from gmsim.ensemble import replicate_seed
from gmsim.parameters import read_data
from gmsim.streams import Streams


@pytest.fixture(scope="module")
def shipped():
    names, targets, emulators, measurement_sd = C.load()
    return read_data(C.CONDITIONING_FILE), {**emulators, "measurement_sd": measurement_sd}


@pytest.fixture(scope="module")
def replicate_scores():
    return [C.scores(replicate_seed(5, r)) for r in range(2000)]


def test_the_emulators_fit_recovers_a_known_response():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((600, 5))
    b = np.array([[0.3, 0.0, -0.1, 0.0, 0.05], [0.0, 0.0, 0.0, 0.0, 0.0]])
    q = np.array([[0.02, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    noise = 0.01
    shifts = z @ b.T + z**2 @ q.T + noise * rng.standard_normal((600, 2))
    got = C.fit(z, shifts)
    # each coefficient within 4 standard errors (about noise / sqrt(600) for a linear term, a square term's
    # larger by its correlation with the others' squares)
    assert np.abs(got["linear"] - b).max() < 4 * noise / np.sqrt(600)
    assert np.abs(got["quadratic"] - q).max() < 4 * noise / np.sqrt(600 / 3)
    assert got["residual_sd"] == pytest.approx([noise, noise], rel=0.1)
    assert got["r_squared"][0] > 0.99 and got["r_squared"][1] < 0.05
    # no constant: a pair at every score 0 is one run twice, so its shift is 0
    assert "intercept" not in got
    # held out by group, the emulator still explains the signal, and nothing of pure noise
    held = C.held_out_r_squared(z, shifts, np.arange(600) // 4)
    assert held[0] > 0.99 and held[1] < 0.02


def test_the_posterior_holds_a_score_only_as_far_as_a_target_measures_it():
    # score 0 moves target 0 by 0.1 a unit against a measurement sd of 0.025; score 1 moves nothing
    emulators = {"linear": np.array([[0.1, 0.0]]), "quadratic": np.zeros((1, 2)), "residual_sd": np.zeros(1)}
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
    # a square term: its mean shift at the posterior's spread is offset by the posterior's mean (the other
    # score moves the target linearly), and its spread loosens the hold on that score
    curved = {**emulators, "linear": np.array([[0.0, 0.1]]), "quadratic": np.array([[0.02, 0.0]])}
    mu, sigma = C.posterior(curved, np.array([0.025]))
    # (mostly, not wholly: the mean too is weighed against the prior, 0.0025 left of the 0.02)
    assert abs(C.expected_shift(curved, mu, sigma)[0]) < 0.2 * 0.02
    assert mu[1] < 0 and sigma[1, 1] > 1 / (1 + 0.1**2 / 0.025**2)
    # the variance formula against 200,000 normal draws (4 standard errors of a variance)
    rng = np.random.default_rng(2)
    draws = rng.multivariate_normal(mu, sigma, 200_000)
    shift = draws @ curved["linear"].T + draws**2 @ curved["quadratic"].T
    var = C.shift_variance(curved, mu, sigma)[0]
    assert abs(shift.var() - var) < 4 * var * np.sqrt(2 / len(draws)) * 2
    assert abs(shift.mean() - C.expected_shift(curved, mu, sigma)[0]) < 4 * np.sqrt(var / len(draws))


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
    # at least five pairs for each of an emulator's terms (a linear and a square term a score)
    assert raw["method"]["pairs"] >= 5 * 2 * len(C.conditioned_names())


def test_a_replicates_scores_follow_the_posterior_and_the_same_seed_gives_the_same(replicate_scores):
    names, mu, chol = C.adjustment()
    sigma = chol @ chol.T
    z = np.array([[s[n] for n in names] for s in replicate_scores])
    n = len(z)
    # means within 4 standard errors, variances within 4 of theirs (normal: sd of a variance is var*sqrt(2/n))
    assert np.all(np.abs(z.mean(axis=0) - mu) < 4 * np.sqrt(np.diag(sigma) / n))
    assert np.all(np.abs(z.var(axis=0) - np.diag(sigma)) < 4 * np.diag(sigma) * np.sqrt(2 / n))
    # and together: the strongest correlation the posterior has (health worsening's and recovery's base
    # rates, which the targets hold as a pair) within 4 standard errors, (1 - r^2) / sqrt(n)
    sd = np.sqrt(np.diag(sigma))
    r = sigma / np.outer(sd, sd)
    np.fill_diagonal(r, 0)
    i, j = np.unravel_index(np.abs(r).argmax(), r.shape)
    assert abs(r[i, j]) > 0.5
    assert abs(np.corrcoef(z[:, i], z[:, j])[0, 1] - r[i, j]) < 4 * (1 - r[i, j] ** 2) / np.sqrt(n)
    assert C.scores(replicate_seed(5, 0)) == replicate_scores[0]
    # the unconditioned score keeps its prior draw
    for name in C.UNCONDITIONED:
        assert replicate_scores[0][name] == C.prior_scores(replicate_seed(5, 0))[name]


def test_the_targets_hold_the_scores_shift_to_about_their_measurement_error(shipped):
    _, e = shipped
    names, mu, chol = C.adjustment()
    sigma = chol @ chol.T
    prior = C.shift_variance(e, np.zeros(len(names)), np.eye(len(names)))
    conditioned = C.shift_variance(e, mu, sigma)
    # the emulated shift of each stock the targets count, squares included: from the priors far beyond its
    # measurement error, conditioned within about it (the square terms' spread is not conditioned away)
    for t in ("out_of_work", "out_of_work_health", "employment_rate"):
        j = shipped[0]["targets"].index(t)
        assert np.sqrt(prior[j]) > 4 * e["measurement_sd"][j]
        assert np.sqrt(conditioned[j]) < 1.5 * e["measurement_sd"][j], t
    # and on average no shift: under a tenth of the measurement error
    assert np.all(np.abs(C.expected_shift(e, mu, sigma)) < 0.1 * e["measurement_sd"])
    # the emulators explain most of each shift the scores make on the stocks the targets count (fitted where
    # the posterior lies, so the shifts are small there and a fifth of them is noise and interactions)
    stocks = [shipped[0]["targets"].index(t) for t in ("out_of_work", "out_of_work_health")]
    assert np.all(e["r_squared"][stocks] > 0.75)
    # a score whose figures move no target keeps about its prior spread: the young's mortality
    i = names.index("demography.mortality.16-24")
    assert sigma[i, i] > 0.8
    # the base rate of leaving work for inactivity, which sets how many leave, is held more than any
    # gradient's steepness; the at-risk's base rates hardly (they move few people between the targets' stocks)
    steepness = [names.index(n) for n in names if " by " in n]
    assert sigma[names.index("in_work_to_inactive.base")][names.index("in_work_to_inactive.base")] < 0.1
    assert np.diag(sigma)[steepness].min() > 0.5


def test_a_stale_conditioning_file_is_refused_naming_the_file(monkeypatch):
    from gmsim.scenario import ScenarioError

    raw = read_data(C.CONDITIONING_FILE)
    raw["scores"] = raw["scores"][1:]
    monkeypatch.setattr(C, "read_data", lambda name: raw)
    C.adjustment.cache_clear()
    try:
        with pytest.raises(
            ScenarioError, match=r"data/conditioning.yaml: scores: expected the scores a replicate"
        ) as err:
            C.adjustment()
        assert len(str(err.value).splitlines()) == 1 and "--conditioning-only" in str(err.value)
        raw["scores"] = C.conditioned_names()
        raw["targets"] = raw["targets"][::-1]
        C.adjustment.cache_clear()
        with pytest.raises(ScenarioError, match="targets: expected the targets the calibration fits"):
            C.adjustment()
    finally:
        monkeypatch.undo()
        C.adjustment.cache_clear()
