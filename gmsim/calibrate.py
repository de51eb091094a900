"""Calibrate the baseline to Greater Manchester's targets as inference: ``python -m gmsim.calibrate``.

The uncertain baseline parameters are grouped into *coordinates* (:data:`COORDINATES`): parameters moved
together by one number ``u``, a log factor on their starting values in ``data/parameters.yaml`` (a
logit shift for a probability; the value itself for a spread). Each coordinate's prior comes from its
parameters' stated ranges: normal in ``u`` with the range as its 95% interval (uniform over the range for
a spread, whose range includes "none"). The targets (``data/targets.yaml``) are measurements with error:
each tolerance is read as a 95% interval, so its standard deviation is half the tolerance, on the log
scale for counts and the logit scale for shares.

The baseline at scale ``--scale`` (120 months after the burn-in; stock targets as means over the last 12
months, as ``../shared/checks/targets.py`` reads a run, flow targets as means a year over months 13-120; a
different seed for every run) is history-matched in waves with Gaussian-process emulators and the
posterior sampled on the last wave's emulators (:mod:`gmsim.inference`). The result:

- ``data/posterior.csv``: the posterior sample of parameter sets (``--draws``, 200), which ``compare``
  and ``sweep`` draw from, one set per replicate (:func:`gmsim.parameters.baseline_draw`);
- ``data/calibrated.yaml``: the posterior mean (on the coordinates' scale), the baseline of single runs;
- ``data/fit_report.csv`` and ``docs/calibration.md``: each target with the posterior mean's full-scale
  run and its 95% posterior predictive interval (``--predictive`` sets run again with new seeds), each
  coordinate's prior and posterior and whether the targets identify it, and the checks the fit never sees.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from tqdm.auto import tqdm

from . import codes
from .gradients import write_weights
from .inference import CUTOFF, OutsideBox, Posterior, Prior, history_match, implausibility, sample_posterior
from .model import BURN_IN_MONTHS, GMModel
from .output import summary, unemployed_not_for_health
from .parameters import (
    ParameterSet,
    calibrated_values,
    default_parameters,
    parameter_table,
    posterior_sets,
    read_data,
)
from .targets import load_targets

DATA_DIR = Path(__file__).resolve().parent / "data"
DOCS_DIR = Path(__file__).resolve().parents[1] / "docs"
#: Everything after this line of docs/calibration.md is written by hand and kept when the report is rewritten.
KEEP_MARKER = "<!-- Written by hand from here on: python -m gmsim.calibrate keeps it. -->"


@dataclass(frozen=True)
class Coordinate:
    """Parameters moved together by one number in the calibration.

    Attributes:
        name: Name of the coordinate in the reports.
        parameters: Dotted names of the parameters it moves (the first is shown in the reports).
        drives: What it mainly moves (a target, or a feature no target measures).
    """

    name: str
    parameters: tuple[str, ...]
    drives: str


_DURATION_BANDS = ("6-11", "12-23", "24-59", "60+")

COORDINATES = (
    Coordinate(
        "onset",
        ("onset_mental_health.base", "onset_musculoskeletal.base", "onset_other.base"),
        "work_limiting_prevalence",
    ),
    Coordinate("sickness_absence_onset", ("in_work_to_at_risk.base",), "sickness_absence_starts"),
    Coordinate("sickness_absence_job_loss", ("at_risk_to_out_of_work.base",), "sickness_absence_job_loss_share"),
    Coordinate(
        "health_job_loss",
        (
            "in_work_to_out_of_work.severity.moderate",
            "in_work_to_out_of_work.severity.complex",
            "in_work_to_inactive.severity.moderate",
            "in_work_to_inactive.severity.complex",
        ),
        "health_job_losses",
    ),
    Coordinate("health_claim_take_up", ("benefits.health_claim_take_up",), "out_of_work_health"),
    Coordinate(
        "claimant_job_entry",
        ("out_of_work_to_in_work.benefit.limited_capability", "out_of_work_to_in_work.benefit.support_group"),
        "new_claimant_work_15m",
    ),
    Coordinate("job_entry_looking", ("out_of_work_to_in_work.base",), "out_of_work"),
    Coordinate("job_loss", ("in_work_to_out_of_work.base",), "out_of_work"),
    Coordinate("starting_to_look", ("inactive_to_out_of_work.base",), "out_of_work"),
    Coordinate("stopping_looking", ("out_of_work_to_inactive.base",), "out_of_work"),
    Coordinate("job_entry_inactive", ("inactive_to_in_work.base",), "employment_rate"),
    Coordinate("job_readiness_spread", ("labour.job_readiness_sd",), "duration dependence (no target)"),
    Coordinate(
        "duration_looking",
        tuple(f"out_of_work_to_in_work.duration_band.{b}" for b in _DURATION_BANDS),
        "duration dependence (no target)",
    ),
    Coordinate(
        "duration_inactive",
        tuple(f"inactive_to_in_work.duration_band.{b}" for b in _DURATION_BANDS),
        "duration dependence (no target)",
    ),
) + tuple(
    Coordinate(
        f"borough_{b}",
        (f"out_of_work_to_in_work.borough.{b}", f"inactive_to_in_work.borough.{b}"),
        f"employment_rate_{b}",
    )
    for b in codes.BOROUGHS
)

#: Half-width of the calibration's box around the last fit (on each coordinate's scale); the box also
#: covers each prior's 99.7% interval.
BOX_HALF_WIDTH = 0.3


def calibrated_names() -> set[str]:
    """Every parameter the calibration sets."""
    return {name for c in COORDINATES for name in c.parameters}


def _to_value(start: float, kind: str, u: float) -> float:
    if kind == "spread":
        return float(u)
    if kind == "probability":
        return float(1 / (1 + (1 - start) / start * np.exp(-u)))
    return float(start * np.exp(u))


def _to_u(start: float, kind: str, value: float) -> float:
    if kind == "spread":
        return float(value)
    if kind == "probability":
        logit = lambda p: np.log(p / (1 - p))  # noqa: E731
        return float(logit(np.clip(value, 1e-9, 1 - 1e-9)) - logit(start))
    return float(np.log(value / start))


def values_at(u: np.ndarray) -> dict[str, float]:
    """The parameter values at coordinates ``u`` (borough ratios normalised, :func:`_normalise_boroughs`)."""
    defaults = default_parameters()
    out = {}
    for coordinate, x in zip(COORDINATES, u, strict=True):
        for name in coordinate.parameters:
            p = defaults[name]
            out[name] = _to_value(p.value, p.kind, float(x))
    _normalise_boroughs(out)
    return out


def coordinates_of(values: dict[str, float]) -> np.ndarray:
    """The coordinates of a parameter set (read from each coordinate's first parameter)."""
    defaults = default_parameters()
    return np.array(
        [
            _to_u(defaults[c.parameters[0]].value, defaults[c.parameters[0]].kind, values[c.parameters[0]])
            for c in COORDINATES
        ]
    )


def prior(coordinate: Coordinate) -> Prior:
    """A coordinate's prior from its parameters' stated ranges.

    Each parameter's range is an interval of ``u``; the prior is normal with the mean of those intervals as
    its 95% interval (uniform over the range for a spread). A coordinate's prior is thus that of a typical
    member, not the product of its members' (which would be narrower than any one of them).
    """
    defaults = default_parameters()
    members = [defaults[n] for n in coordinate.parameters]
    if members[0].kind == "spread":
        return Prior("uniform", float(members[0].low), float(members[0].high))
    lows = [_to_u(p.value, p.kind, p.low) for p in members]
    highs = [_to_u(p.value, p.kind, p.high) for p in members]
    lo, hi = float(np.mean(lows)), float(np.mean(highs))
    return Prior("normal", (lo + hi) / 2, (hi - lo) / (2 * 1.959964))


def box(centre: np.ndarray, priors: list[Prior]) -> tuple[np.ndarray, np.ndarray]:
    """The box the calibration searches: the last fit +- :data:`BOX_HALF_WIDTH`, widened to each prior's 99.7%.

    The posterior is zero outside the box, so it reaches three prior standard deviations either way: a
    posterior pressing on an edge is reported (``draws_at_box_edge``).
    """
    lower, upper = [], []
    for c, p in zip(centre, priors, strict=True):
        if p.kind == "uniform":  # the prior's own support
            lower.append(p.a)
            upper.append(p.b)
        else:
            lo, hi = p.interval(0.997)
            lower.append(min(c - BOX_HALF_WIDTH, lo))
            upper.append(max(c + BOX_HALF_WIDTH, hi))
    return np.array(lower), np.array(upper)


def _g(x: float, scale: str) -> float:
    x = min(max(x, 1e-9), 1 - 1e-9) if scale == "logit" else max(x, 1e-9)
    return float(np.log(x / (1 - x))) if scale == "logit" else float(np.log(x))


def fitted_targets() -> list:
    """The targets the calibration weighs (every target but the population, which no parameter moves)."""
    return [t for t in load_targets() if t.key != "population"]


def _scale_of(value: float) -> str:
    return "log" if value > 1 else "logit"


def observed_and_sd() -> tuple[np.ndarray, np.ndarray]:
    """The targets on their fitting scale (log or logit) and their measurement standard deviations there."""
    obs, sd = [], []
    for t in fitted_targets():
        scale = _scale_of(t.value)
        obs.append(_g(t.value, scale))
        slope = 1 / t.value if scale == "log" else 1 / (t.value * (1 - t.value))
        sd.append(t.tolerance / 2 * slope)
    return np.array(obs), np.array(sd)


def _targets_and_checks(s: dict) -> dict[str, float]:
    """Every target's model value in a run's summary, and the checks every run records (docs/calibration.md)."""
    out = {k: v["model"] for k, v in s["targets"].items()}
    out["from_work"] = s["cohorts"]["new_claimant_work_15m_from_work"]
    out["not_from_work"] = s["cohorts"]["new_claimant_work_15m_not_from_work"]
    out["long_spell_share"] = s["window"]["long_spell_share"]
    return out


def measure(values: dict[str, float], scale: float, seed: int, months: int = 120) -> dict[str, float]:
    """Run the baseline with ``values`` and return every target's model value (``summary``'s) and the checks."""
    model = GMModel(scale=scale, months=months, rng=seed, parameters=values, calibrated=False)
    model.run(progress=False)
    return _targets_and_checks(summary(model))


def _measure_task(args: tuple[dict[str, float], float, int]) -> dict[str, float]:
    return measure(*args)


def run_sets(
    sets: list[dict[str, float]], scale: float, seeds: list[int], workers: int, progress: bool, what: str
) -> list[dict[str, float]]:
    """Run the baseline once for each parameter set (with its own seed) on ``workers`` processes."""
    tasks = list(zip(sets, [scale] * len(sets), seeds, strict=True))
    if workers <= 1:
        return [measure(*t) for t in tqdm(tasks, desc=what, disable=not progress)]
    with ProcessPoolExecutor(workers) as pool:
        return list(tqdm(pool.map(_measure_task, tasks), total=len(tasks), desc=what, disable=not progress))


def predictive_runs(
    sets: list[dict[str, float]], count: int, scale: float, seed: int, workers: int, progress: bool
) -> tuple[np.ndarray, list[dict[str, float]]]:
    """``count`` posterior sets, evenly spaced, run again with new seeds: their numbers and their runs."""
    picked = np.linspace(0, len(sets) - 1, min(count, len(sets))).astype(int)
    seeds = [seed * 1_000_000 + 900_000 + int(i) for i in picked]
    return picked, run_sets([sets[i] for i in picked], scale, seeds, workers, progress, "posterior predictive")


def conditioning_runs(
    sets: list[dict[str, float]],
    bases: int = 160,
    per_base: int = 4,
    scale: float = 0.1,
    seed: int = 1,
    workers: int = 2,
    progress: bool = True,
    design: tuple[np.ndarray, np.ndarray] | None = None,
    wave: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of baselines that show how the scores the calibration does not fit move its targets.

    ``bases`` posterior sets, evenly spaced, each with a seed of its own, are run with every score of
    :func:`gmsim.conditioning.conditioned_names` at 0 and again ``per_base`` times with the scores drawn
    from their prior (independent standard normals), or from ``design`` (a mean and a Cholesky factor: an
    earlier wave's posterior), with the same seed (common random numbers). ``wave`` gives each wave
    seeds and draws of its own.

    Returns:
        ``(z, shifts)``: the drawn scores, ``(bases * per_base, scores)``, and each target's shift on its
        fitting scale from the run at 0 of the same set and seed, ``(bases * per_base, targets)``.
    """
    from .conditioning import conditioned_names
    from .ensemble import unfitted_at
    from .scenario import Scenario

    names, steady = conditioned_names(), Scenario(name="calibration")
    rng = np.random.default_rng([seed, 20261207, wave])
    centre, chol = design if design is not None else (np.zeros(len(names)), np.eye(len(names)))
    picked = np.linspace(0, len(sets) - 1, bases).astype(int)
    runs, seeds, z = [], [], np.zeros((bases, per_base + 1, len(names)))
    for b, k in enumerate(picked):
        z[b, 1:] = centre + rng.standard_normal((per_base, len(names))) @ chol.T
        for i in range(per_base + 1):
            score = dict(zip(names, z[b, i], strict=True)).__getitem__
            runs.append({**sets[k], **unfitted_at(steady, score)})
            seeds.append(seed * 1_000_000 + 800_000 + 1_000 * wave + b)
    got = run_sets(runs, scale, seeds, workers, progress, "conditioning pairs")
    on_scale = np.array([_on_fitting_scale(g) for g in got]).reshape(bases, per_base + 1, -1)
    shifts = on_scale[:, 1:, :] - on_scale[:, :1, :]
    return z[:, 1:, :].reshape(bases * per_base, len(names)), shifts.reshape(bases * per_base, -1)


def condition(
    sets: list[dict[str, float]],
    waves: tuple[int, ...] = (100, 160),
    per_base: int = 4,
    scale: float = 0.1,
    seed: int = 1,
    workers: int = 2,
    progress: bool = True,
    data_dir: Path = DATA_DIR,
) -> pd.DataFrame:
    """Condition the figures the calibration does not fit on the targets; write ``data/conditioning.yaml``.

    In waves, as history matching: the first wave's pairs (:func:`conditioning_runs`, ``waves[0]``
    posterior sets) draw the scores from their prior, each later wave's from the posterior the wave
    before found, so that its emulators are fitted where the scores' posterior lies. The last wave's
    emulators are written.

    Returns:
        One row per target (:func:`conditioning_table`).
    """
    from . import conditioning

    _, sd = observed_and_sd()
    design, first = None, None
    for wave, bases in enumerate(waves):
        z, shifts = conditioning_runs(sets, bases, per_base, scale, seed, workers, progress, design, wave)
        emulators = conditioning.fit(z, shifts)
        mu, sigma = conditioning.posterior(emulators, sd)
        design, first = (mu, np.linalg.cholesky(sigma)), (z, shifts) if first is None else first
    method = {
        "pairs": int(len(z)),
        "posterior_sets": waves[-1],
        "draws_per_set": per_base,
        "waves": [
            {"posterior_sets": b, "scores": "prior" if w == 0 else "the wave before's posterior"}
            for w, b in enumerate(waves)
        ],  # fmt: skip
        "scale": scale,
        "seed": seed,
        "fitted_on": time.strftime("%Y-%m-%d"),
    }
    targets = [t.key for t in fitted_targets()]
    conditioning.write(list(conditioning.conditioned_names()), targets, sd, emulators, method, data_dir)
    return conditioning_table(first, (z, shifts), per_base)


def conditioning_table(
    first: tuple[np.ndarray, np.ndarray], last: tuple[np.ndarray, np.ndarray], per_base: int = 4
) -> pd.DataFrame:
    """What the conditioning found, a row per target, from the first wave's pairs and the last's.

    The target's measurement sd on its fitting scale; its shift's mean and sd with the scores from their
    prior (the first wave); the last wave's emulator's R squared, in its pairs and in pairs it did not see
    (:func:`gmsim.conditioning.held_out_r_squared`), and its residual sd; the shift's mean and sd with the
    scores from their posterior, by the emulator (what it misses included in the sd).
    """
    from . import conditioning

    _, sd = observed_and_sd()
    z, shifts = last
    emulators = conditioning.fit(z, shifts)
    mu, sigma = conditioning.posterior(emulators, sd)
    groups = np.arange(len(z)) // per_base
    variance = conditioning.shift_variance(emulators, mu, sigma) + emulators["residual_sd"] ** 2
    return pd.DataFrame(
        {
            "target": [t.key for t in fitted_targets()],
            "measurement_sd": sd,
            "prior_shift_mean": first[1].mean(axis=0),
            "prior_shift_sd": first[1].std(axis=0),
            "r_squared": emulators["r_squared"],
            "held_out_r_squared": conditioning.held_out_r_squared(z, shifts, groups),
            "residual_sd": emulators["residual_sd"],
            "posterior_shift_mean": conditioning.expected_shift(emulators, mu, sigma),
            "posterior_shift_sd": np.sqrt(variance),
        }
    )


def read_runs(path: Path) -> pd.DataFrame:
    """The waves' runs a calibration wrote (``--runs-file``), to add waves to.

    Raises:
        ValueError: naming the file and what it lacks, if it is not such a table for these coordinates
            and targets.
    """
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ValueError(f"{path}: cannot be read as the waves' runs ({e})") from None
    expected = ["wave"] + [c.name for c in COORDINATES] + [t.key for t in fitted_targets()]
    missing = [c for c in expected if c not in table.columns]
    if missing or table.empty:
        what = f"no column {missing[0]!r}" if missing else "no runs"
        raise ValueError(f"{path}: {what}; expected the runs a calibration with these coordinates wrote")
    waves = sorted(int(w) for w in table["wave"].unique())
    if waves != list(range(len(waves))):
        raise ValueError(f"{path}: wave: expected waves 0, 1, 2, ... with none missing, got {waves}")
    return table[expected]


def _on_fitting_scale(got: dict[str, float]) -> np.ndarray:
    return np.array([_g(got[t.key], _scale_of(t.value)) for t in fitted_targets()])


@dataclass
class Calibration:
    """What a calibration found.

    Attributes:
        sets: The posterior sample of parameter sets.
        method: How it was obtained (runs per wave, the share of the box left after each, the sampler's
            acceptance and autocorrelation, the emulators' check against runs of the posterior).
        runs: Outputs of the posterior predictive runs (one per posterior set run again).
    """

    sets: list[dict[str, float]]
    method: dict = field(default_factory=dict)
    runs: list[dict[str, float]] = field(default_factory=list)


def calibrate(
    waves: tuple[int, ...] = (300, 200, 150, 150),
    scale: float = 0.1,
    draws: int = 200,
    predictive: int = 100,
    seed: int = 1,
    workers: int = 2,
    steps: int = 4000,
    progress: bool = True,
    start_from_fit: bool = True,
    runs_file: Path | None = None,
    earlier_runs: pd.DataFrame | None = None,
) -> Calibration:
    """History-match the baseline in ``waves`` of runs at ``scale``, sample the posterior, and check it.

    The box is centred on the last fit (``data/calibrated.yaml``) or, with ``start_from_fit=False``, on the
    starting values. ``predictive`` of the ``draws`` posterior sets are run again at ``scale`` with new
    seeds: their spread is the posterior predictive interval (parameter uncertainty and a run's own
    variation at that scale), and their gap from the emulators' predictions checks the emulators. The waves'
    runs (wave, coordinates and targets on their fitting scale) are written to ``runs_file`` if one is
    given. ``earlier_runs``, such a table from a calibration in the same box (:func:`read_runs`), are kept,
    and every one of ``waves`` is run after them as a further wave.

    Raises:
        OutsideBox: if an earlier run lies outside the box (it was centred on another fit).
    """
    say = (lambda m: tqdm.write(m)) if progress else (lambda m: None)
    priors = [prior(c) for c in COORDINATES]
    defaults = default_parameters()
    start = {n: defaults[n].value for n in calibrated_names()}
    if start_from_fit:
        start.update({k: v for k, v in calibrated_values().items() if k in start})
    centre = coordinates_of(start)
    lower, upper = box(centre, priors)
    observed, sd = observed_and_sd()

    coordinates, targets = [c.name for c in COORDINATES], [t.key for t in fitted_targets()]
    earlier, runs_per_wave = None, list(waves)
    if earlier_runs is not None:
        done = int(earlier_runs["wave"].max()) + 1
        earlier = (earlier_runs[coordinates].to_numpy(), earlier_runs[targets].to_numpy(), done)
        runs_per_wave = [int((earlier_runs["wave"] == w).sum()) for w in range(done)] + runs_per_wave

    def simulate(points: np.ndarray, wave: int) -> np.ndarray:
        seeds = [seed * 1_000_000 + wave * 10_000 + i for i in range(len(points))]
        got = run_sets([values_at(p) for p in points], scale, seeds, workers, progress, f"wave {wave + 1}")
        return np.array([_on_fitting_scale(g) for g in got])

    t0 = time.perf_counter()
    try:
        x, y, emulators, shares = history_match(simulate, observed, sd, lower, upper, waves, seed, say, earlier)
    except OutsideBox as e:
        hint = "which is centred on data/calibrated.yaml: run them on with the calibrated.yaml they began from"
        raise OutsideBox(f"{e}, {hint}") from None
    if runs_file is not None:  # every run of the waves (in order of their waves), for anyone who wants to look again
        runs_file.parent.mkdir(parents=True, exist_ok=True)
        table = pd.DataFrame(np.hstack([x, y]), columns=coordinates + targets)
        table.insert(0, "wave", np.repeat(np.arange(len(runs_per_wave)), runs_per_wave))
        table.to_csv(runs_file, index=False)
    worst = implausibility(emulators, x, observed, sd).max(axis=1)
    begin = x[worst < CUTOFF] if (worst < CUTOFF).sum() >= 8 else x[np.argsort(worst)[:64]]
    say(f"sampling the posterior from {len(begin)} runs not ruled out")
    posterior = Posterior(emulators, observed, sd, priors, lower, upper)
    post = sample_posterior(posterior, begin, draws, seed, steps=steps, progress=progress)
    sets = [values_at(p) for p in post.points]
    picked, runs = predictive_runs(sets, predictive, scale, seed, workers, progress)
    predicted = [em.predict(post.points[picked]) for em in emulators]
    mean, spread = np.column_stack([m for m, _ in predicted]), np.column_stack([v for _, v in predicted])
    noise = np.array([em.noise_sd for em in emulators])
    z = (np.array([_on_fitting_scale(r) for r in runs]) - mean) / np.sqrt(noise**2 + spread**2)
    at_edge = ((post.points - lower) < 0.02 * (upper - lower)) | ((upper - post.points) < 0.02 * (upper - lower))
    method = {
        "scale": scale,
        "months": 120,
        "burn_in_months": BURN_IN_MONTHS,
        "runs_per_wave": runs_per_wave,
        # an earlier calibration's waves before the last: their shares are its own, not recorded here
        "box_not_ruled_out_after_each_wave": [None] * (0 if earlier is None else earlier[2] - 1)
        + [round(s, 6) for s in shares],
        "posterior_sets": len(sets),
        "sampler": {
            "walkers": 64,
            "steps": post.steps,
            "acceptance": round(post.acceptance, 3),
            "autocorrelation_steps": {
                c.name: round(float(a), 1) for c, a in zip(COORDINATES, post.autocorrelation, strict=True)
            },
        },
        "emulator_check": {
            "runs": len(runs),
            "share_within_2_sd": round(float((np.abs(z) < 2).mean()), 3),
            "share_within_3_sd": round(float((np.abs(z) < 3).mean()), 3),
        },
        "box": {
            c.name: [round(float(a), 4), round(float(b), 4)] for c, a, b in zip(COORDINATES, lower, upper, strict=True)
        },
        "draws_at_box_edge": {
            c.name: round(float(e), 3) for c, e in zip(COORDINATES, at_edge.mean(axis=0), strict=True) if e > 0.01
        },
        "minutes": round((time.perf_counter() - t0) / 60, 1),
    }
    return Calibration(sets, method, runs)


def _normalise_boroughs(values: dict[str, float]) -> None:
    """Keep the borough ratios' population-weighted geometric mean at 1.

    The borough ratios then carry only the differences between boroughs, and the GM level stays with
    ``inactive_to_in_work.base`` and ``out_of_work_to_in_work.base`` (otherwise they would trade off
    without end).
    """
    from .agents.people import borough_shares

    names = [f"out_of_work_to_in_work.borough.{b}" for b in codes.BOROUGHS]
    if not all(n in values for n in names):
        return
    log_mean = float(np.dot(borough_shares(), np.log([values[n] for n in names])))
    for b in codes.BOROUGHS:
        for prefix in ("out_of_work_to_in_work", "inactive_to_in_work"):
            values[f"{prefix}.borough.{b}"] = float(values[f"{prefix}.borough.{b}"] * np.exp(-log_mean))


def posterior_mean(sets: list[dict[str, float]]) -> dict[str, float]:
    """The parameters at the posterior mean of the coordinates.

    The mean is taken on the scale the calibration works on: the geometric mean of each factor (the mean of
    its log), the mean logit of a probability. The arithmetic mean of a log-normal posterior lies above its
    centre, and the run at it misses the targets by more.
    """
    return values_at(np.mean([coordinates_of(s) for s in sets], axis=0))


def fit_report(got: dict[str, float], runs: list[dict[str, float]] | None = None) -> pd.DataFrame:
    """One row per target: source, value, tolerance, model value, its 95% posterior predictive interval, pass.

    ``got`` is the posterior mean's run; ``runs`` the posterior predictive runs (no interval without them).
    ``model_low``-``model_high`` is the spread of the runs (parameter uncertainty and a run's own variation);
    ``interval_low``-``interval_high`` the posterior predictive interval of a new measurement of the target,
    the runs plus the measurement error the calibration assumed (normal, sd half the tolerance).
    """
    rows = []
    rng = np.random.default_rng(0)
    for t in load_targets():
        v = got[t.key]
        model = np.array([r[t.key] for r in runs]) if runs else np.array([np.nan])
        lo, hi = np.percentile(model, [2.5, 97.5])
        # A new measurement: a run of a posterior set plus the measurement's error (sd half the tolerance).
        measured = np.repeat(model, 200) + rng.normal(0, t.tolerance / 2, 200 * len(model))
        plo, phi = np.percentile(measured, [2.5, 97.5])
        rows.append(
            {
                "target": t.key,
                "description": t.description,
                "source": t.source,
                "unit": t.unit,
                "target_value": t.value,
                "tolerance": t.tolerance,
                "model_value": round(v, 4),
                "model_low": round(float(lo), 4),
                "model_high": round(float(hi), 4),
                "interval_low": round(float(plo), 4),
                "interval_high": round(float(phi), 4),
                "passed": bool(abs(v - t.value) <= t.tolerance),
                "in_interval": bool(plo <= t.value <= phi) if runs else False,
            }
        )
    return pd.DataFrame(rows)


def coordinate_table(sets: list[dict[str, float]]) -> pd.DataFrame:
    """Each coordinate's prior and posterior, on the value of its first parameter, and whether it is identified.

    A coordinate is *identified* if the targets cut its standard deviation to under half the prior's,
    *partly* if to under 85%, and *not identified* otherwise (its posterior is then mostly its prior).
    """
    defaults = default_parameters()
    u = np.array([coordinates_of(s) for s in sets])
    rows = []
    for k, c in enumerate(COORDINATES):
        p = defaults[c.parameters[0]]
        pr = prior(c)
        lo, hi = pr.interval(0.95)
        ratio = float(u[:, k].std() / pr.sd)
        values = np.array([s[c.parameters[0]] for s in sets])
        rows.append(
            {
                "coordinate": c.name,
                "parameter": c.parameters[0]
                + (f" (+{len(c.parameters) - 1} moved with it)" if len(c.parameters) > 1 else ""),
                "drives": c.drives,
                "prior_low": _to_value(p.value, p.kind, lo),
                "prior_high": _to_value(p.value, p.kind, hi),
                "posterior_mean": float(values.mean()),
                "posterior_low": float(np.percentile(values, 2.5)),
                "posterior_high": float(np.percentile(values, 97.5)),
                "sd_ratio": ratio,
                "identified": "yes" if ratio < 0.5 else ("partly" if ratio < 0.85 else "no"),
            }
        )
    return pd.DataFrame(rows)


def strong_correlations(sets: list[dict[str, float]], least: float = 0.6) -> list[tuple[str, str, float]]:
    """Pairs of coordinates whose posterior correlation is at least ``least`` in size (trade-offs)."""
    u = np.array([coordinates_of(s) for s in sets])
    keep = u.std(axis=0) > 0
    r = np.corrcoef(u[:, keep].T)
    names = [c.name for c, k in zip(COORDINATES, keep, strict=True) if k]
    pairs = [
        (names[i], names[j], float(r[i, j]))
        for i in range(len(names))
        for j in range(i + 1, len(names))
        if abs(r[i, j]) >= least
    ]
    return sorted(pairs, key=lambda p: -abs(p[2]))


def forget_shipped() -> None:
    """Forget what was read from the files a calibration writes, so this process reads them afresh."""
    from . import conditioning, gradients, parameters

    for cached in (
        parameters.calibrated_values,
        parameters.posterior_sets,
        gradients.gradients,
        gradients.base_rates,
        gradients.drawn_names,
        gradients.weights,
        conditioning.score_names,
        conditioning.adjustment,
    ):
        cached.cache_clear()


def write(
    calibration: Calibration,
    mean_run: dict[str, float],
    report: pd.DataFrame,
    seed: int,
    extra: dict,
    data_dir: Path = DATA_DIR,
    docs_dir: Path = DOCS_DIR,
    fitted_on: str | None = None,
    weights_scale: float = 1.0,
) -> None:
    """Write posterior.csv, calibrated.yaml, fit_report.csv, gradient_weights.yaml, docs/calibration.md and table 8.1.

    ``fitted_on``: the day the posterior was sampled, if not today (a report rerun on a shipped posterior);
    ``weights_scale``: the population scale the gradient weights are read from (full scale as shipped).
    """
    sets = calibration.sets
    fitted = posterior_mean(sets)
    ParameterSet(fitted, calibrated=False)  # refuse to write anything invalid
    for s in sets:
        ParameterSet(s, calibrated=False)
    names = sorted(fitted)
    table = pd.DataFrame([[float(f"{s[n]:.6g}") for n in names] for s in sets], columns=names)
    table.insert(0, "set", range(len(sets)))
    meta = {
        "description": (
            "Posterior mean of the baseline parameters from `python -m gmsim.calibrate` (history matching with "
            "emulators, then a posterior sample: docs/calibration.md); they override parameters.yaml in single "
            "runs. compare and sweep draw one of the sets in posterior.csv per replicate."
        ),
        "fitted_on": fitted_on or time.strftime("%Y-%m-%d"),
        "seed": seed,
        "run": (
            f"baseline, 120 months after a {BURN_IN_MONTHS}-month burn-in, stock targets as means over months "
            "109-120 and flow targets over months 13-120; "
            f"the calibration's runs at scale {calibration.method.get('scale', '?')}, each with its own seed"
        ),
        "posterior": {"file": "posterior.csv", "sets": len(sets)},
        "method": calibration.method,
        "values": {k: float(f"{fitted[k]:.6g}") for k in names},
    }
    (data_dir / "calibrated.yaml").write_text(
        "# Generated by `python -m gmsim.calibrate`; do not edit by hand (edit parameters.yaml and refit).\n"
        + yaml.safe_dump(meta, sort_keys=False, width=110)
    )
    table.to_csv(data_dir / "posterior.csv", index=False)
    report.to_csv(data_dir / "fit_report.csv", index=False)
    write_weights(fitted, scale=weights_scale, data_dir=data_dir)
    forget_shipped()
    write_parameter_table(docs_dir / "model.md")
    doc = docs_dir / "calibration.md"
    kept = doc.read_text().partition(KEEP_MARKER) if doc.exists() else ("", "", "")
    tail = [KEEP_MARKER + kept[2].rstrip("\n")] if kept[1] else []
    lines = _report_lines(calibration, report, seed, extra, time.strftime("%Y-%m-%d"))
    doc.write_text("\n".join(lines + [""] + tail) + "\n")


def _report_lines(calibration: Calibration, report: pd.DataFrame, seed: int, extra: dict, day: str) -> list[str]:
    m = calibration.method
    sets, runs = calibration.sets, calibration.runs
    waves = m.get("runs_per_wave", [])
    left = m.get("box_not_ruled_out_after_each_wave", [])
    check = m.get("emulator_check", {})
    sampler = m.get("sampler", {})
    lines = [
        "# Calibration report",
        "",
        f"Generated by `python -m gmsim.calibrate` on {day}. The baseline (no programmes) is calibrated as "
        "inference: the uncertain parameters have priors from their stated ranges, the targets are measurements "
        "with error (each tolerance read as a 95% interval), and the result is a sample of parameter sets from "
        "the posterior (`gmsim/data/posterior.csv`, "
        f"{len(sets)} sets), not one fit. `compare` and `sweep` draw one set per replicate, the same in every "
        "scenario of the replicate; single runs use the posterior mean (`gmsim/data/calibrated.yaml`).",
        "",
        "How: history matching with emulators, then a posterior sample (`gmsim/inference.py`; Vernon, Goldstein "
        "& Bower 2010; Andrianakis et al. 2015). The baseline was run at scale "
        f"{m.get('scale', '?')} ({int(1_781_000 * float(m.get('scale', 0) or 0)):,} people, 120 months after "
        f"the burn-in, a new seed for every run) in {len(waves)} waves of {', '.join(map(str, waves))} runs. "
        "Each target has an emulator (a linear regression plus a Gaussian process on its residuals, scikit-learn) "
        "that predicts a run's expected value with its own uncertainty; after each wave the points where some "
        "target is more than 3 standard deviations (measurement and emulator together) from its prediction are "
        "ruled out, and the next wave is run in what is left. Share of the box not ruled out after each wave: "
        + ", ".join(
            "not recorded (an earlier calibration's wave)"
            if s is None
            else f"{s:.3%}"
            if s > 0
            else "none of 40,000 points drawn at random"
            for s in left
        )
        + ". The posterior, prior x likelihood on the last emulators, was sampled by emcee "
        f"({sampler.get('walkers', '?')} walkers, {sampler.get('steps', '?')} steps, half discarded; acceptance "
        f"{sampler.get('acceptance', '?')}). Check of the emulators: {check.get('runs', '?')} posterior sets run "
        f"again fall within 2 standard deviations of the emulators' predictions for "
        f"{check.get('share_within_2_sd', float('nan')):.0%} of target values, within 3 for "
        f"{check.get('share_within_3_sd', float('nan')):.0%}.",
        "",
        "## Targets",
        "",
        f"*Posterior mean*: the baseline with every parameter at its posterior mean, at full scale (1,781,000 "
        f"people), seed {seed}: stocks as means over the last 12 months (months 109-120, as the project's "
        "target check reads a run), flows a year over months 13-120. *Runs 95%*: the 2.5th-97.5th percentiles of "
        f"{len(runs)} posterior sets, each run with its own seed at scale {m.get('scale', '?')} (parameter "
        "uncertainty and the run's own variation, which at that scale is about three times that of a full-scale "
        "run). *Predictive 95%*: the posterior predictive interval of a new measurement of the target, the runs "
        "plus the measurement error the calibration assumes (sd half the tolerance); the target should lie in "
        "it. Sources are evidence ids in `gmsim/data/sources.yaml`.",
        "",
        "| target | source | target value | tolerance | posterior mean | runs 95% | predictive 95% "
        "| within tolerance | in predictive |",
        "|---|---|---:|---:|---:|---:|---:|:---:|:---:|",
    ]
    for r in report.itertuples():
        lines.append(
            f"| {r.description} | `{r.source}` | {_num(r.target_value)} | ±{_num(r.tolerance)} | "
            f"{_num(r.model_value)} | {_num(r.model_low)} - {_num(r.model_high)} | "
            f"{_num(r.interval_low)} - {_num(r.interval_high)} | "
            f"{'yes' if r.passed else '**no**'} | {'yes' if r.in_interval else '**no**'} |"
        )
    lines += [
        "",
        "Borough targets are the APS 2013 employment rates shifted by one common amount so that their "
        "population-weighted mean is the GM rate of 72.4% (see `gmsim/targets.py`): the published ordering "
        "and gaps between boroughs are kept while the level is today's. Their tolerance (±1 point) is narrower "
        "than the APS's own sampling interval at borough level (about ±3 points), so reading it as measurement "
        "error holds the borough ratios tighter than the survey alone would.",
        "",
        "## Parameters: prior, posterior, and what the targets identify",
        "",
        "Each coordinate moves its parameters by one factor (a probability by one shift of its logit). Values "
        "are those of the first parameter named. *sd ratio*: the posterior's standard deviation over the "
        "prior's, on the coordinate's scale; *identified* if below 0.5, *partly* if below 0.85, otherwise the "
        "targets say little and the posterior is mostly the prior (its spread is carried into every "
        "comparison's intervals all the same).",
        "",
        "| coordinate | parameter | mainly moves | prior 95% | posterior mean | posterior 95% | sd ratio "
        "| identified |",
        "|---|---|---|---:|---:|---:|---:|:---:|",
    ]
    for r in coordinate_table(sets).itertuples():
        lines.append(
            f"| {r.coordinate} | `{r.parameter}` | {r.drives} | {r.prior_low:.4g} - {r.prior_high:.4g} | "
            f"{r.posterior_mean:.4g} | {r.posterior_low:.4g} - {r.posterior_high:.4g} | {r.sd_ratio:.2f} | "
            f"{r.identified} |"
        )
    pairs = strong_correlations(sets)
    lines += ["", "Strongest posterior correlations (trade-offs the targets cannot separate):", ""]
    lines += [f"- {a} and {b}: {r:+.2f}" for a, b, r in pairs[:8]] or ["- none above 0.6 in size"]
    edge = m.get("draws_at_box_edge", {})
    if edge:
        lines += [
            "",
            "Posterior draws within 2% of the edge of the box searched (the posterior may reach beyond it): "
            + ", ".join(f"{k} {v:.0%}" for k, v in edge.items())
            + ".",
        ]
    lines += [
        "",
        "## Checks the fit never sees",
        "",
        "Figures no target measures: the posterior mean's full-scale run, and the 95% predictive interval of the "
        "posterior sets where the runs record the figure.",
        "",
        "| check | source | published | posterior mean | 95% predictive |",
        "|---|---|---:|---:|---:|",
        *_check_rows(extra, runs),
        "RR774's split by previous work status is flatter in the model: nothing ties job entry to recent work or "
        "to a former employer, so the difference comes only from the two groups' composition and job readiness "
        "(docs/model.md section 10). The caseload share is from the IB/SDA caseload of 2008, before ESA and UC "
        "added newer claims. The LFS figure is a share in work a year on (not a rate a person-year) for everyone "
        "inactive because of ill health, most of whom have a moderate or complex condition in gmsim's terms. The "
        "Census counts residents aged 16 and over who are inactive because long-term sick or disabled, in March "
        "2021 (during furlough); the model's are the inactive aged 16-64 with a moderate or complex condition. "
        "The employment rates by age are UK figures for 2013 (DWP), the only ones found; GM's are not published "
        "in a readable form."
        " Job entries per vacancy are UK flows over UK vacancies (no GM vacancy count was found). The "
        "recession's figures are the UK's 2008-14 path, not GM's (whose claimant count was found at three "
        "dates only), run with the posterior mean and the market's central figures: its shape was set from "
        "vacancies, its job loss from redundancies and its inactivity response so that inactivity holds, none "
        "fitted to unemployment, although the inactivity response was chosen with its effect on unemployment "
        "in view (docs/model.md 7.8).",
        "",
        "## Every calibrated parameter: prior and posterior",
        "",
        "The stated range in `parameters.yaml` is the prior's 95% interval (around the starting value); a "
        "posterior mean outside it is explained in the section after this generated part.",
        "",
        "| parameter | starting value (parameters.yaml) | stated range (prior 95%) | posterior mean | posterior 95% "
        "| mean inside range |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    defaults = default_parameters()
    for k, v in sorted(posterior_mean(sets).items()):
        d = defaults[k]
        lo, hi = np.percentile([s[k] for s in sets], [2.5, 97.5])
        if d.low is None:
            rng, inside = "-", "-"
        else:
            rng, inside = f"{d.low:.4g} - {d.high:.4g}", ("yes" if d.low <= v <= d.high else "**no**")
        lines.append(f"| `{k}` | {d.value:.4g} | {rng} | {v:.4g} | {lo:.4g} - {hi:.4g} | {inside} |")
    return lines


def _interval(runs: list[dict[str, float]], key: str) -> str:
    values = [r[key] for r in runs if key in r]
    if not values:
        return "-"
    lo, hi = np.percentile(values, [2.5, 97.5])
    return f"{lo:.3f} - {hi:.3f}"


def _check_rows(extra: dict, runs: list[dict[str, float]]) -> list[str]:
    """Rows of the checks table."""
    checks = read_data("checks.yaml")
    sick, by_age = checks["long_term_sick_by_borough"], checks["employment_rate_by_age"]
    rows = [
        "| new health-related claimants in work 15 months on, who claimed straight from work | "
        f"`esa_rr774_return_rates` | 0.25 | {extra.get('from_work', float('nan')):.3f} | "
        f"{_interval(runs, 'from_work')} |",
        f"| ... who claimed from out of work or inactivity | `esa_rr774_return_rates` | 0.09 | "
        f"{extra.get('not_from_work', float('nan')):.3f} | {_interval(runs, 'not_from_work')} |",
        f"| share of health-related claims that began 5+ years ago | `ib_caseload_5yr_plus_share_2008` | 0.56 | "
        f"{extra.get('long_spell_share', float('nan')):.3f} | {_interval(runs, 'long_spell_share')} |",
        f"| inactive people with a moderate condition in work a year later (job entries a person-year) | "
        f"`lfs_health_inactive_into_work_2014` | 0.036 (inactive because of ill health) | "
        f"{extra.get('inactive_moderate', float('nan')):.3f} | - |",
        f"| ... with a complex condition | `lfs_health_inactive_into_work_2014` | 0.036 | "
        f"{extra.get('inactive_complex', float('nan')):.3f} | - |",
    ]
    model = extra.get("inactive_work_limiting", {})
    for b in codes.BOROUGHS:
        rows.append(
            f"| inactive because of a work-limiting condition, {b} | `c21_ltsd_{b.lower()}` | "
            f"{sick['value'][b]:,} | {model.get(b, float('nan')):,.0f} | - |"
        )
    total = sum(model.values()) if model else float("nan")
    rows.append(f"| ... Greater Manchester | `{sick['source']}` | {sum(sick['value'].values()):,} | {total:,.0f} | - |")
    per_vacancy, recession = checks["job_entries_per_vacancy"], checks["recession"]
    rec, low, high = extra.get("recession", {}), *per_vacancy["value"]
    nan = float("nan")
    rows += [
        f"| job entries a month per vacancy (steady economy) | `{per_vacancy['source']}` (UK) | {low} - {high} | "
        f"{extra.get('job_entries_per_vacancy', nan):.3f} | - |",
        *(
            f"| recession: rise in unemployment not due to health, {k} months on | `{recession['source']}` (UK) | "
            f"{recession['value'][f'unemployment_rise_{k}_months']} | "
            f"{rec.get(f'unemployment_rise_{k}_months', nan):.3f} | - |"
            for k in (40, 67, 72)
        ),
        f"| ... vacancies per person unemployed not due to health at their lowest, over the steady economy's | "
        f"`uk_vacancies_per_unemployed_2001_2021` (UK) | {recession['value']['vacancies_per_job_seeker_low']} | "
        f"{rec.get('vacancies_per_job_seeker_low', nan):.3f} | - |",
    ]
    model_by_age = extra.get("employment_by_age", {})
    for band, published in by_age["value"].items():
        rows.append(
            f"| employment rate aged {band} (end of run) | `{by_age['source']}` (UK 2013) | "
            f"{published} | {model_by_age.get(band, float('nan')):.3f} | - |"
        )
    return [*rows, ""]


def employment_by_age(model: GMModel) -> dict[str, float]:
    """Employment rate (in work or at risk) of the people at the end of a run, for ages 16-24, 25-49, 50-64."""
    p = model.people
    years = p.age_months // 12
    employed = p.state <= codes.AT_RISK
    out = {}
    for band, (lo, hi) in {"16-24": (16, 24), "25-49": (25, 49), "50-64": (50, 64)}.items():
        mine = (years >= lo) & (years <= hi)
        out[band] = float(employed[mine].mean())
    return out


def inactive_work_limiting(model: GMModel, first: int, last: int) -> dict[str, float]:
    """Mean people inactive with a moderate or complex condition by borough over months ``first..last``."""
    r = model.results
    stock = r.stock[first : last + 1, :, codes.INACTIVE].mean(axis=0) / r.scale  # (borough, health category)
    severity = np.array([0] + [sv for _ in codes.CONDITIONS[1:] for sv in (1, 2, 3)])
    limiting = severity >= codes.MODERATE
    return {b: float(stock[k, limiting].sum()) for k, b in enumerate(codes.BOROUGHS)}


def write_parameter_table(model_md: Path) -> None:
    """Rewrite the table of docs/model.md section 8.1 from the data files (``parameter_table()``)."""
    if not model_md.exists():
        return
    text = model_md.read_text()
    start = text.index("| parameter | value(s) | unit | range | source | calibrated | fitted |")
    end = text.index("\n\n", start)
    model_md.write_text(text[:start] + "\n".join(parameter_table()) + text[end:])


def _num(v: float) -> str:
    if not np.isfinite(v):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def check_posterior_mean(sets: list[dict[str, float]], seed: int) -> tuple[dict[str, float], dict]:
    """The posterior mean's full-scale run: every target's value, and the checks' figures."""
    fitted = posterior_mean(sets)
    model = GMModel(scale=1.0, months=120, rng=seed, parameters=fitted, calibrated=False, record_transitions=True)
    model.run(progress=False)
    s = summary(model)
    entry = s["transition_rates"]["inactive_to_in_work"]
    got = _targets_and_checks(s)
    extra = {
        **{k: got[k] for k in ("from_work", "not_from_work", "long_spell_share")},
        "inactive_moderate": entry["moderate"],
        "inactive_complex": entry["complex"],
        "inactive_work_limiting": inactive_work_limiting(model, 13, 120),
        "employment_by_age": employment_by_age(model),
        "job_entries_per_vacancy": s["labour_market"]["job_entries_per_vacancy"],
        "recession": recession_check(model, fitted, seed),
    }
    return got, extra


def recession_check(steady: GMModel, fitted: dict[str, float], seed: int) -> dict[str, float]:
    """The recession shape run beside ``steady`` (same seed and parameters): what ``checks.yaml`` compares.

    The rise in unemployment not due to health (people looking for work without a health-related claim)
    40, 67 and 72 months after the downturn began, and the lowest ratio of vacancies per such person to the
    steady run's.
    """
    from .scenario import Scenario

    economy = Scenario.from_dict({"name": "recession", "economy": {"shape": "recession"}})
    model = GMModel(
        economy, scale=steady.scale, months=steady.months_planned, rng=seed, parameters=fitted, calibrated=False
    )
    model.run(progress=False)
    unemployed = [unemployed_not_for_health(m) for m in (model, steady)]
    rise = unemployed[0] / unemployed[1] - 1
    per_seeker = (model.market.vacancies.sum(axis=1) / unemployed[0]) / (
        steady.market.vacancies.sum(axis=1) / unemployed[1]
    )
    start = model.scenario.economy.resolved().start_month
    out = {
        f"unemployment_rise_{k}_months": float(rise[start - 1 + k]) for k in (40, 67, 72) if start - 1 + k < len(rise)
    }
    return {**out, "vacancies_per_job_seeker_low": float(per_seeker[1:].min())}


def _per_wave(what: str, least: int, example: str, most: int | None = None) -> Callable[[str], tuple[int, ...]]:
    def read(text: str) -> tuple[int, ...]:
        try:
            waves = tuple(int(w) for w in text.split(","))
        except ValueError:
            waves = ()
        if len(waves) < 1 or min(waves) < least or (most is not None and max(waves) > most):
            within = f"from {least} to {most}" if most is not None else f"of {least} or more"
            raise argparse.ArgumentTypeError(
                f"expected {what} per wave as whole numbers {within}, e.g. {example}; got {text!r}"
            )
        return waves

    return read


_waves = _per_wave("runs", 10, "300,200,150")


def _at_least(low: float, kind: type = int) -> Callable[[str], float]:
    def read(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value >= low:
            what = "whole number" if kind is int else "number"
            raise argparse.ArgumentTypeError(f"expected a {what} of at least {low}, got {text!r}")
        return value

    return read


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: exit status 0 if every target holds, 1 if not, 2 for bad input."""
    from .cli import _Parser
    from .conditioning import conditioned_names

    p = _Parser(prog="python -m gmsim.calibrate", description=__doc__.split("\n")[0])
    p.add_argument("--waves", type=_waves, default=(300, 200, 150, 150), help="runs in each wave of history matching")
    p.add_argument("--scale", type=_at_least(0.001, float), default=0.1, help="population scale of the runs")
    p.add_argument("--draws", type=_at_least(2), default=200, help="posterior parameter sets to keep")
    p.add_argument("--predictive", type=_at_least(2), default=100, help="posterior sets run again for intervals")
    p.add_argument("--workers", type=_at_least(1), default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--runs-file", default="results/calibration/runs.csv", help="where the waves' runs are written (CSV)"
    )
    p.add_argument("--from-start", action="store_true", help="centre the search on parameters.yaml, not the last fit")
    p.add_argument(
        "--more-waves-from",
        metavar="RUNS_CSV",
        help="keep the runs an earlier calibration wrote there (--runs-file; its box, so its calibrated.yaml) "
        "and run --waves after them as further waves",
    )
    p.add_argument(
        "--report-only",
        action="store_true",
        help="infer nothing: run the shipped posterior (data/posterior.csv) again and rewrite the reports",
    )
    p.add_argument(
        "--conditioning-waves",
        type=_per_wave("posterior sets", len(conditioned_names()), "100,160", most=999),
        default=(100, 160),
        help="posterior sets in each wave of pairs that condition the figures the fit leaves out (4 pairs each; "
        "at least one a score, so that a wave has twice as many pairs as its emulators' terms)",
    )
    p.add_argument(
        "--conditioning-only",
        action="store_true",
        help="fit nothing: condition the figures the fit leaves out on the targets, with the shipped posterior",
    )
    args = p.parse_args(argv)
    sets = posterior_sets()
    if (args.conditioning_only or args.report_only) and not sets:
        print(
            "python -m gmsim.calibrate: gmsim/data/posterior.csv is missing or empty: calibrate first",
            file=sys.stderr,
        )
        return 2
    method = dict((read_data("calibrated.yaml") or {}).get("method", {})) if sets else {}
    if args.conditioning_only:
        table = condition(
            list(sets), args.conditioning_waves, 4, method.get("scale", args.scale), args.seed, args.workers
        )
        print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        return 0
    if args.report_only:
        _, runs = predictive_runs(
            list(sets), args.predictive, method.get("scale", args.scale), args.seed, args.workers, True
        )
        calibration = Calibration(list(sets), method, runs)
    else:
        try:
            import emcee  # noqa: F401
            import sklearn  # noqa: F401
        except ImportError as e:
            print(f"python -m gmsim.calibrate: needs {e.name}: pip install -e '.[calibrate]'", file=sys.stderr)
            return 2
        earlier = None
        if args.more_waves_from:
            try:
                earlier = read_runs(Path(args.more_waves_from))
            except ValueError as e:
                print(f"python -m gmsim.calibrate: --more-waves-from: {e}", file=sys.stderr)
                return 2
        try:
            calibration = calibrate(
                args.waves,
                args.scale,
                args.draws,
                args.predictive,
                args.seed,
                args.workers,
                start_from_fit=not args.from_start,
                runs_file=Path(args.runs_file),
                earlier_runs=earlier,
            )
        except OutsideBox as e:
            print(f"python -m gmsim.calibrate: --more-waves-from: {args.more_waves_from}: {e}", file=sys.stderr)
            return 2
    got, extra = check_posterior_mean(calibration.sets, args.seed)
    report = fit_report(got, calibration.runs)
    fitted_on = str((read_data("calibrated.yaml") or {}).get("fitted_on")) if args.report_only else None
    write(calibration, got, report, args.seed, extra, fitted_on=fitted_on)
    if not args.report_only:
        scale = calibration.method.get("scale", args.scale)
        condition(calibration.sets, args.conditioning_waves, 4, scale, args.seed, args.workers)
    print(
        report[
            ["target", "target_value", "model_value", "interval_low", "interval_high", "passed", "in_interval"]
        ].to_string(index=False)
    )
    return 0 if report["passed"].all() and report["in_interval"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
