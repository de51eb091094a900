"""The hazard-ratio gradients the calibration does not fit, drawn per replicate with each transition's level held."""

from pathlib import Path

import numpy as np
import pytest

from gmsim import codes
from gmsim import gradients as G
from gmsim.ensemble import replicate_seed
from gmsim.parameters import ParameterSet, default_parameters, posterior_sets
from gmsim.scenario import Scenario, load_scenario

SC = Path(__file__).resolve().parents[1] / "scenarios"
P = default_parameters()


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(SC / "baseline.yaml")


@pytest.fixture(scope="module")
def draws(baseline):
    """Draws with every score from its prior: what the gradients are before GM's targets constrain them."""
    return [G.prior_draw(baseline, replicate_seed(3, r)) for r in range(2000)]


def members(t: str, attribute: str) -> list[str]:
    return [n for n in (f"{t}.{attribute}.{lv}" for lv in codes.DIMENSIONS[attribute]) if n in P]


def weighted_mean(values: dict[str, float], t: str, attribute: str) -> float:
    shares = G.weights()[t][attribute]
    return sum(shares[n.rsplit(".", 1)[1]] * v for n, v in values.items())


def test_a_gradient_is_drawn_only_where_the_calibration_fits_none_of_its_ratios():
    fitted = set(posterior_sets()[0])
    drawn = G.gradients()
    assert ("inactive_to_in_work", "severity") in drawn and ("health_recovery", "severity") in drawn
    # job entry from looking for work by time out is fitted (but for its reference band): its level is the fit's
    assert "out_of_work_to_in_work.duration_band.6-11" in fitted
    assert ("out_of_work_to_in_work", "duration_band") not in drawn
    for (t, attribute), names in drawn.items():
        assert not fitted.intersection(members(t, attribute))
        assert names and all(P[n].low < P[n].high for n in names)
    # the base rates the calibration does not fit are drawn from their ranges (and held by the targets:
    # tests/test_conditioning.py), not those it fits; nor a figure the calibration fits
    assert set(G.base_rates()) == {n for n in G.drawn_names() if n.endswith(".base")}
    assert set(G.base_rates()) == {f"{t}.base" for t in ("in_work_to_inactive", "at_risk_to_in_work",
                                   "at_risk_to_inactive", "health_worsening", "health_recovery")}  # fmt: skip
    assert set(G.FIGURES) <= G.drawn_names() and not (set(G.FIGURES) | set(G.base_rates())) & fitted


def test_each_drawn_gradient_keeps_its_transitions_mean_over_the_people_exposed(draws):
    for d in draws[:200]:
        for t, attribute in G.gradients():
            names = members(t, attribute)
            got = weighted_mean({n: d[n] for n in names}, t, attribute)
            assert got == pytest.approx(weighted_mean({n: P[n].value for n in names}, t, attribute), rel=1e-12)
    # and the draw does change the gradient
    x = np.array([d["inactive_to_in_work.severity.complex"] / d["inactive_to_in_work.severity.none"] for d in draws])
    assert x.std() > 0.02


def test_a_gradient_steepens_or_flattens_as_a_whole_with_its_stated_range_against_its_reference(draws):
    # at_risk_to_in_work by time off sick: 0-5 months the reference (1), then 0.6, 0.4, 0.4, 0.4, no range
    # reaching 1: the order is kept
    t, attribute = "at_risk_to_in_work", "duration_band"
    ref = f"{t}.{attribute}.0-5"
    for d in draws:
        r = [d[f"{t}.{attribute}.{band}"] / d[ref] for band in codes.DURATION_BANDS]
        assert all(a >= b - 1e-12 for a, b in zip(r, r[1:], strict=False))
    for band in ("6-11", "12-23"):
        name = f"{t}.{attribute}.{band}"
        x = np.array([d[name] / d[ref] for d in draws])
        # against the reference each ratio has its value as median and its range as 95% interval (3 s.e.)
        se, half = np.sqrt(0.025 * 0.975 / len(x)), np.sqrt(0.25 / len(x))
        assert abs((x < P[name].value).mean() - 0.5) < 3 * half
        assert abs((x < P[name].low).mean() - 0.025) < 3 * se and abs((x > P[name].high).mean() - 0.025) < 3 * se
    # a severity gradient above and below its reference moves together: steeper on both sides at once
    sev = "in_work_to_at_risk.severity"
    low = np.array([d[f"{sev}.none"] / d[f"{sev}.mild"] for d in draws])
    high = np.array([d[f"{sev}.complex"] / d[f"{sev}.mild"] for d in draws])
    assert np.corrcoef(np.log(low), np.log(high))[0, 1] < -0.99
    # the reference is the first level at 1 with a range and people exposed: job loss of the at-risk by
    # employer size has "none" (no employer, nobody at risk) at 1 with no range, and "medium" at 1 with one
    # (where a ratio's range reaches past 1, as small's and large's do here, the order can change)
    size = "at_risk_to_out_of_work.employer_size"
    assert all(d[f"{size}.none"] == pytest.approx(d[f"{size}.medium"], rel=1e-12) for d in draws)
    # before the targets constrain them, gradients are drawn independently of one another
    a = np.array([d["inactive_to_in_work.severity.complex"] for d in draws])
    b = np.array([d["in_work_to_out_of_work.skills.low"] for d in draws])
    assert abs(np.corrcoef(np.log(a), np.log(b))[0, 1]) < 0.1


def test_ratios_at_one_with_no_known_direction_are_drawn_each_on_its_own(draws):
    # onset of a mental-health condition has no age gradient (all 1, range 0.7-1.4): each band its own draw
    a = np.array([d["onset_mental_health.age_band.25-34"] / d["onset_mental_health.age_band.16-24"] for d in draws])
    b = np.array([d["onset_mental_health.age_band.35-49"] / d["onset_mental_health.age_band.16-24"] for d in draws])
    assert abs(np.corrcoef(np.log(a), np.log(b))[0, 1]) < 0.1
    assert abs(np.median(a) - 1) < 0.03


def test_figures_and_base_rates_are_drawn_from_their_ranges_before_the_targets_constrain_them(draws):
    for name in (*G.FIGURES, *G.base_rates()):
        x = np.array([d[name] for d in draws])
        se = np.sqrt(0.025 * 0.975 / len(x))
        assert abs((x < P[name].low).mean() - 0.025) < 3 * se and abs((x > P[name].high).mean() - 0.025) < 3 * se


def test_draws_depend_on_the_seed_alone_and_a_scenarios_own_values_are_kept(baseline, draws):
    first = G.gradient_draw(baseline, replicate_seed(3, 0))
    assert G.gradient_draw(baseline, replicate_seed(3, 0)) == first
    assert G.gradient_draw(baseline, replicate_seed(3, 1)) != first
    assert G.prior_draw(baseline, replicate_seed(3, 0)) == draws[0]
    own = Scenario.from_dict(
        {**baseline.to_dict(), "parameters": {"inactive_to_in_work.severity.complex": 0.2, G.FIGURES[0]: 0.001}},
        path="own",
    )
    d = G.gradient_draw(own, replicate_seed(3, 0))
    assert not set(members("inactive_to_in_work", "severity")) & set(d)  # the whole gradient keeps its values
    assert G.FIGURES[0] not in d
    assert {k: v for k, v in first.items() if k in d} == d  # the others as before
    ParameterSet(d)  # every drawn value is valid


def test_the_scores_are_what_the_values_were_drawn_at(baseline):
    from gmsim.interventions.parameters import split_lognormal

    seed = replicate_seed(3, 7)
    values, scores = G.gradient_draw(baseline, seed), G.gradient_scores(baseline, seed)
    z = scores["at_risk_to_in_work by duration_band"]
    p = P["at_risk_to_in_work.duration_band.6-11"]
    ratio = values[p.name] / values["at_risk_to_in_work.duration_band.0-5"]
    assert ratio == pytest.approx(split_lognormal(p.value, p.low, p.high, -z), rel=1e-12)  # below 1: steeper when z > 0
    q = P["onset_mental_health.age_band.50-64"]
    ratio = values[q.name] / values["onset_mental_health.age_band.16-24"]
    assert ratio == pytest.approx(split_lognormal(q.value, q.low, q.high, scores[q.name]), rel=1e-12)
    for name in G.FIGURES:
        assert values[name] == split_lognormal(P[name].value, P[name].low, P[name].high, scores[name])
    # one score a gradient, not one a ratio
    assert len(scores) < len(values) / 2 and "at_risk_to_in_work.duration_band.6-11" not in scores


@pytest.fixture(scope="module")
def month_zero():
    from gmsim.calibrate import posterior_mean
    from gmsim.model import population_size, starting_population
    from gmsim.streams import Streams

    mean = posterior_mean(list(posterior_sets()))
    employers, people = starting_population(population_size(0.1), Streams(11), parameters=mean)
    return mean, employers, people


def moves(parameters, employers, people) -> np.ndarray:
    """Each transition's expected moves in month 1 (the sum of its hazards over the people exposed)."""
    from gmsim.dynamics.hazard import hazard_groups

    base, a, b, c = ParameterSet(parameters).hazard_tables().kernel[:4]
    ga, gb, gc = (np.zeros(len(people.state), dtype=np.int64) for _ in range(3))
    hazard_groups(people, employers, ga, gb, gc)
    return np.array(
        [(base[t] * a[ga, t] * b[gb, t] * c[gc, t] * G.exposed_to(name, people)).sum()
         for t, name in enumerate(codes.TRANSITIONS)]
    )  # fmt: skip


def test_a_replicates_gradients_hold_each_transitions_moves(baseline, month_zero):
    mean, employers, people = month_zero
    before = moves(mean, employers, people)
    drawn = {t for t, _ in G.gradients()}
    rows = [codes.T[t] for t in sorted(drawn)]
    ratios = []
    for r in range(30):
        values = G.gradient_draw(baseline, replicate_seed(4, r))
        levels = set(G.FIGURES) | set(G.base_rates())
        ratios.append(moves({**mean, **{k: v for k, v in values.items() if k not in levels}}, employers, people))
    ratios = np.array(ratios)[:, rows] / before[rows]
    # each transition's moves within 1% on average over the draws, and in each draw within 6% (the gradients
    # are scaled on the weights of another population, and several gradients of a transition multiply:
    # job loss of the at-risk has four, whose levels go together); most within a fraction of 1%
    assert np.abs(ratios.mean(axis=0) - 1).max() < 0.01 and np.abs(ratios - 1).max() < 0.06
    assert np.median(ratios.std(axis=0)) < 0.005
    # while its gradients do change who moves: the ratios themselves spread far more than that
    assert np.std([G.gradient_draw(baseline, replicate_seed(4, r))["inactive_to_in_work.severity.complex"]
                   for r in range(30)]) > 0.02  # fmt: skip


def test_the_shipped_weights_are_those_of_the_posterior_means_population(month_zero):
    mean, employers, people = month_zero
    fresh, shipped = G.exposed_shares(people, employers, mean), G.weights()
    for t, attribute in G.gradients():
        for level, share in shipped[t][attribute].items():
            # another seed's population at scale 0.1 (the shares weigh its moves, so few people can carry a
            # level's share); the employers' attributes rest on fewer large employers than at full scale
            tolerance = 0.08 if attribute in ("employer_size", "occupational_health") else 0.025
            assert abs(fresh[t][attribute][level] - share) < tolerance, (t, attribute, level)


def test_missing_weights_are_refused_naming_the_file(monkeypatch):
    raw = {"weights": {}}
    monkeypatch.setattr(G, "read_data", lambda name: raw)
    G.weights.cache_clear()
    try:
        with pytest.raises(KeyError, match="gradient_weights.yaml"):
            G.weights()
    finally:
        monkeypatch.undo()
        G.weights.cache_clear()
