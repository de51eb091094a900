"""Hazard-ratio gradients and base rates the calibration does not fit, drawn in every replicate.

``parameters.yaml`` gives most hazard ratios a plausible range. The calibration fits some of them (those in
``data/posterior.csv``), and ``compare`` and ``sweep`` draw one of its posterior sets per replicate
(:func:`gmsim.ensemble.baseline_draw`). The others would otherwise stay at their values in every replicate,
so the intervals would leave out what is not known about them. Drawn here, in each replicate:

- **a gradient**: the ratios of one transition over the levels of one attribute (``inactive_to_in_work`` by
  severity, ``in_work_to_out_of_work`` by age band) where the calibration fits none of them. It is drawn as
  a whole. Its reference (the first level at 1 that has a range and people exposed) stays at 1; the
  ratios away from 1 move together, each to the same quantile of its range towards or away from 1 (a split
  log-normal with the value as median and the range as 95% interval, one score for the gradient), so that
  the gradient steepens or flattens (where a ratio's range reaches past 1, its draw can too, and the order
  of the levels then changes); other ratios at 1, with no known direction, are drawn each on its own. Then
  every ratio of the gradient is scaled by one factor so that the transition's expected moves in a month
  are unchanged: its ratios' mean, weighted by each level's moves but for the ratio itself
  (:func:`weights`), is that of their values. The draw changes who makes the move more often, and to
  first order not how many make it, which the calibration's targets pin down. Drawn on their own, without
  that factor, the same ratios put the baseline far from GM's figures (docs/calibration.md gives the
  measurement);
- **a figure the targets do not pin down** (:data:`FIGURES`): mortality and the assessment rates, each from
  its range as above;
- **a base rate the calibration does not fit** (:func:`base_rates`: ``in_work_to_inactive``,
  ``at_risk_to_in_work``, ``at_risk_to_inactive``, ``health_worsening`` and ``health_recovery``), from its
  range as above. Each sets how many make a move, and so what the targets measure: drawn from their
  priors they put the baseline far from GM, and the targets hold them, some closely (leaving work for
  inactivity), some hardly (the at-risk's moves) (:mod:`gmsim.conditioning`).

Not drawn: a ratio whose gradient has a fitted member, whose level is then the calibration's; a figure
or base rate a refit fits. A gradient of which a scenario sets any ratio keeps the scenario's values, and
so does a figure or base rate it sets.

Each choice (a gradient's steepness, a ratio at 1, a figure, a base rate) is made at a standard normal score. From
its prior alone each score is independent (its own stream, ``draw.ratio.<name>``); a replicate's scores
are those GM's targets allow (:mod:`gmsim.conditioning`): held together where they would move a target
beyond its measurement error, the same in every scenario of the replicate and independent of its
posterior set.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import yaml

from . import codes
from .parameters import default_parameters, posterior_sets, read_data
from .scenario import Scenario
from .streams import Streams

#: Figures other than ratios that a replicate draws from their ranges: the targets do not pin them down.
FIGURES = (
    "demography.mortality.16-24",
    "demography.mortality.25-34",
    "demography.mortality.35-49",
    "demography.mortality.50-64",
    "demography.mortality_complex_ratio",
    "benefits.reassessment_rate",
    "benefits.first_assessment_rate",
)
#: The file of the weights (:func:`weights`), in ``gmsim/data/``.
WEIGHTS_FILE = "gradient_weights.yaml"
DATA_DIR = Path(__file__).resolve().parent / "data"


def fitted() -> set[str]:
    """The parameters the calibration fits: those of its posterior sets, or those marked ``calibrated``."""
    sets = posterior_sets()
    return set(sets[0]) if sets else {k for k, p in default_parameters().items() if p.calibrated}


def _ranged(name: str) -> bool:
    p = default_parameters()[name]
    return p.low is not None and p.high is not None and p.low != p.high


@cache
def gradients() -> dict[tuple[str, str], tuple[str, ...]]:
    """The drawn gradients: ``(transition, attribute)`` -> the names of its ratios that have a range.

    A gradient is drawn when none of its ratios is fitted and at least one has a range.
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for name in default_parameters():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] in codes.T and parts[1] in codes.DIMENSIONS:
            groups.setdefault((parts[0], parts[1]), []).append(name)
    calibrated = fitted()
    return {
        g: tuple(n for n in names if _ranged(n))
        for g, names in groups.items()
        if not calibrated.intersection(names) and any(_ranged(n) for n in names)
    }


def gradient_of(score: str) -> str | None:
    """The gradient (``<transition> by <attribute>``) a score of :func:`gradient_scores` belongs to, or None."""
    if " by " in score:
        return score
    parts = score.split(".")
    return f"{parts[0]} by {parts[1]}" if parts[0] in codes.T and len(parts) == 3 else None


def members(transition: str, attribute: str) -> list[str]:
    """The names of a gradient's ratios, every level of ``attribute`` that ``parameters.yaml`` gives one."""
    p = default_parameters()
    return [n for n in (f"{transition}.{attribute}.{level}" for level in codes.DIMENSIONS[attribute]) if n in p]


@cache
def base_rates() -> tuple[str, ...]:
    """The base rates with a range that the calibration does not fit: a transition's level, drawn from its range."""
    calibrated = fitted()
    return tuple(n for n in default_parameters() if n.endswith(".base") and n not in calibrated and _ranged(n))


@cache
def drawn_names() -> frozenset[str]:
    """Every name a replicate may draw here: the gradients' ratios, :data:`FIGURES` and :func:`base_rates`."""
    ratios = {n for t, attribute in gradients() for n in members(t, attribute)}
    return frozenset(ratios | set(FIGURES) | set(base_rates()))


@cache
def weights() -> dict[str, dict[str, dict[str, float]]]:
    """Each transition's moves by level of each attribute: ``transition -> attribute -> level -> share``.

    ``data/gradient_weights.yaml``, written by :func:`write_weights` (:func:`exposed_shares`) from the
    month-0 population of the baseline at the calibration's posterior mean. A gradient's drawn ratios are
    scaled so that their mean over these shares is that of their values.

    Raises:
        KeyError: naming the file, if a drawn gradient has no weights there.
    """
    raw = read_data(WEIGHTS_FILE)["weights"]
    for t, attribute in gradients():
        if attribute not in raw.get(t, {}):
            raise KeyError(f"data/{WEIGHTS_FILE}: no weights for {t} by {attribute} (rerun write_weights)")
    return raw


def scaled(draws: dict[str, float], shares: dict[str, float]) -> dict[str, float]:
    """A gradient's drawn ratios (by name: every level of it) times the factor that keeps their mean over ``shares``.

    The mean of the drawn ratios, each weighted by its level's share of the people exposed, is made equal
    to that of their values.
    """
    p = default_parameters()
    level = {n: n.rsplit(".", 1)[1] for n in draws}
    drawn = sum(shares[level[n]] * v for n, v in draws.items())
    if drawn <= 0:
        return dict(draws)
    factor = sum(shares[level[n]] * p[n].value for n in draws) / drawn
    return {n: v * factor for n, v in draws.items()}


def gradient_draw(scenario: Scenario, seed: int) -> dict[str, float]:
    """The gradients and figures drawn for a replicate with run seed ``seed`` (module docstring).

    Their scores are those GM's targets allow (:func:`gmsim.conditioning.scores`). A gradient of which the
    scenario sets any ratio, and a figure or base rate it sets, are left out (they keep its values; the
    other scores are not conditioned again on them).
    """
    return _draw(scenario, seed)[0]


def gradient_scores(scenario: Scenario, seed: int) -> dict[str, float]:
    """The standard normal scores behind :func:`gradient_draw`: what a replicate drew, one number per choice.

    A gradient's steepness under ``<transition> by <attribute>``, and a ratio at 1 drawn on its own and a
    figure under their names. The sweep's value of information is worked out on these (a gradient's ratios
    all follow its steepness, so they are one input, not several).
    """
    return _draw(scenario, seed)[1]


def prior_draw(scenario: Scenario, seed: int) -> dict[str, float]:
    """What :func:`gradient_draw` would give with every score from its prior: no regard to GM's targets."""
    from .conditioning import prior_scores

    return values_at(set(scenario.parameters), prior_scores(seed).__getitem__)[0]


def _draw(scenario: Scenario, seed: int) -> tuple[dict[str, float], dict[str, float]]:
    """(values, scores) of :func:`gradient_draw` and :func:`gradient_scores`."""
    from .conditioning import scores

    return values_at(set(scenario.parameters), scores(seed).__getitem__)


def score_names() -> list[str]:
    """Every score a replicate draws here (:func:`gradient_scores`'s keys for a scenario that sets nothing)."""
    return list(values_at(set(), lambda name: 0.0)[1])


def values_at(own: set[str], score: Callable[[str], float]) -> tuple[dict[str, float], dict[str, float]]:
    """The gradients' ratios and the figures at the scores ``score`` gives by name, and the scores used.

    Names in ``own`` (a scenario's own parameters) keep their values: a gradient with any of them is left
    out whole. Every score at 0 gives every value as ``parameters.yaml`` states it.
    """
    from .interventions.parameters import split_lognormal

    p, calibrated = default_parameters(), fitted()
    shares = weights()

    def at(name: str, z: float) -> float:
        return split_lognormal(p[name].value, p[name].low, p[name].high, z)

    values: dict[str, float] = {}
    scores: dict[str, float] = {}
    for t, attribute in gradients():
        ratios = members(t, attribute)
        if own.intersection(ratios):
            continue
        level_share = shares[t][attribute]
        at_one = [n for n in ratios if p[n].value == 1.0]
        # the reference: the first level at 1 that anyone is exposed to and that has a range, else the first at 1
        reference = next((n for n in at_one if _ranged(n) and level_share[n.rsplit(".", 1)[1]] > 0), None)
        reference = reference or next(iter(at_one), None)
        draws = {}
        for n in ratios:
            if n == reference or p[n].value == 0.0 or not _ranged(n):
                draws[n] = p[n].value
            elif p[n].value == 1.0 and level_share[n.rsplit(".", 1)[1]] == 0:
                draws[n] = p[n].value  # nobody is exposed: no direction, and nothing to draw
            elif p[n].value == 1.0:
                scores[n] = score(n)
                draws[n] = at(n, scores[n])
            else:
                steepness = scores[f"{t} by {attribute}"] = score(f"{t} by {attribute}")
                draws[n] = at(n, steepness if p[n].value > 1.0 else -steepness)
        values.update(scaled(draws, shares[t][attribute]))
    for n in (*FIGURES, *base_rates()):
        if n not in own and n not in calibrated:
            scores[n] = score(n)
            values[n] = at(n, scores[n])
    return values, scores


def exposed_to(transition: str, people) -> np.ndarray:
    """Whether each person can make ``transition`` this month (before their other ratios), by their state and health.

    A labour move's people are those in its state of origin; health's onsets everyone; worsening those with
    a mild or moderate condition; recovery those with any.
    """
    t, severity = codes.T[transition], people.severity.astype(np.int64)
    if t < codes.N_LABOUR:
        return people.state == codes.LABOUR_FROM[t]
    if transition == "health_worsening":
        return (severity >= codes.MILD) & (severity < codes.COMPLEX)
    if transition == "health_recovery":
        return severity >= codes.MILD
    return np.ones(len(severity), dtype=bool)


def exposed_shares(people, employers, parameters: dict[str, float]) -> dict[str, dict[str, dict[str, float]]]:
    """Each transition's moves this month by level of each attribute, but for that attribute's own ratio.

    For transition ``t`` and attribute ``d``, level ``l`` weighs the hazards of ``t`` of the people exposed
    to it (:func:`exposed_to`) at level ``l``, each divided by its ratio for ``d`` at ``l`` (with
    ``parameters``, over the calibrated values), as shares of the sum (:func:`weights`). So a gradient's
    ratios scaled to hold their mean over these shares hold the transition's expected moves of the month,
    whatever the person's other ratios (which go with their level: a complex condition with a support-group
    claim and older age).
    """
    from .agents.people import age_band_of
    from .dynamics.hazard import _DURATION_LOWER, hazard_groups
    from .parameters import ParameterSet

    params = ParameterSet(parameters)
    tables = params.hazard_tables()
    n = len(people.state)
    ga, gb, gc = (np.zeros(n, dtype=np.int64) for _ in range(3))
    hazard_groups(people, employers, ga, gb, gc)
    base, group_a, group_b, group_c = tables.kernel[:4]
    has = people.employer >= 0
    firm = np.maximum(people.employer, 0)
    levels = {
        "state": people.state,
        "severity": people.severity,
        "condition": people.condition,
        "age_band": age_band_of(people.age_months),
        "sex": people.sex,
        "borough": people.borough,
        "skills": people.skills,
        "benefit": people.benefit,
        "duration_band": np.searchsorted(_DURATION_LOWER, people.months_in_state, side="right") - 1,
        "employer_size": np.where(has, employers.size_band[firm], 0),
        "occupational_health": np.where(has, employers.occupational_health[firm], 0),
    }
    out: dict[str, dict[str, dict[str, float]]] = {}
    for t, name in enumerate(codes.TRANSITIONS):
        exposed = exposed_to(name, people)
        hazard = base[t] * group_a[ga, t] * group_b[gb, t] * group_c[gc, t] * exposed
        out[name] = {}
        for attribute, names in codes.DIMENSIONS.items():
            own = np.array([params.value(f"{name}.{attribute}.{lv}") if f"{name}.{attribute}.{lv}" in params else 1.0
                            for lv in names])  # fmt: skip
            level = np.asarray(levels[attribute], dtype=np.int64)
            mass = np.bincount(level, weights=hazard, minlength=len(names)) / np.where(own > 0, own, 1.0)
            total = mass.sum() if mass.sum() > 0 else 1.0
            out[name][attribute] = {lv: float(f"{m / total:.4g}") for lv, m in zip(names, mass, strict=True)}
    return out


def write_weights(parameters: dict[str, float], scale: float = 1.0, seed: int = 1, data_dir: Path = DATA_DIR) -> None:
    """Write ``data/gradient_weights.yaml`` from the month-0 population of the baseline with ``parameters``.

    ``python -m gmsim.calibrate`` calls it with the posterior mean, so the weights follow each refit.
    """
    from .model import population_size, starting_population

    employers, people = starting_population(population_size(scale), Streams(seed), parameters=parameters)
    meta = {
        "description": (
            "Each transition's expected moves in a month by level of each attribute, less that attribute's own "
            "ratio, as shares: the weights that hold a drawn gradient's mean (gmsim/gradients.py, "
            "exposed_shares). gmsim's own figures: the month-0 population of the baseline at the calibration's "
            f"posterior mean, scale {scale}, seed {seed}."
        ),
        "weights": exposed_shares(people, employers, parameters),
    }
    (Path(data_dir) / WEIGHTS_FILE).write_text(
        "# Generated by gmsim.gradients.write_weights (from `python -m gmsim.calibrate`); do not edit by hand.\n"
        + yaml.safe_dump(meta, sort_keys=False, width=110, default_flow_style=None)
    )
    weights.cache_clear()
