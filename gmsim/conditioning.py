"""What Greater Manchester's targets say about the baseline figures the calibration does not fit.

Besides a posterior set, each replicate of ``compare`` and ``sweep`` draws the hazard-ratio gradients,
figures and base rates the calibration does not fit (:mod:`gmsim.gradients`) and the labour market's uncertain figures
(:data:`gmsim.ensemble.DRAWN_MARKET`), each at a standard normal *score*. Drawn from their priors alone
(every score independent, standard normal), they move the baseline away from GM's measured figures: a
steeper severity gradient of job loss, say, puts more people with a condition out of work over ten years.
The targets measure those figures, so they constrain the scores, jointly (one gradient may offset another).

The constraint is a Bayes linear adjustment (Goldstein & Wooff 2007, *Bayes Linear Statistics*, the
framework of the calibration's history matching), the calibration's posterior sets taken as given:

1. **Runs in pairs** (:func:`gmsim.calibrate.conditioning_runs`). A posterior set and a seed, run once
   with every score at 0 (each figure at its value, as the calibration fitted it) and again with the
   scores drawn. With common random numbers, the difference in each target on its fitting scale (log or
   logit) is the scores' effect with little Monte Carlo noise. In waves, as history matching
   (:func:`gmsim.calibrate.condition`): the first wave draws the scores from their prior, the next from
   the posterior the first found, so that the emulators written are fitted where the posterior lies.
2. **An emulator of each target's shift** (:func:`fit`), by least squares:
   ``shift_j = c_j + b_j . z + q_j . (z^2 - 1) + e_j``, its residual standard deviation ``s_j`` (what the
   emulator does not capture, noise included), on the last wave's pairs.
3. **The scores' posterior**: given that the targets see no shift beyond their measurement error,
   ``z ~ Normal(mu, Sigma)`` with ``Sigma = (I + B' W^-1 B)^-1`` and ``mu = -Sigma B' W^-1 a``, where
   ``W = diag(sd_j^2 + s_j^2)`` (the targets' measurement variances, as the calibration reads them, plus
   the emulator's) and ``a_j = c_j + q_j . (diag(Sigma) - 1)`` is the shift the curvature gives on average
   at the posterior's spread (:func:`adjustment`).

A replicate's scores are ``mu + L zeta`` (:func:`scores`), ``L`` the Cholesky factor of ``Sigma`` and
``zeta`` the prior scores its streams give (:func:`prior_scores`): the same numbers in every scenario of
the replicate, so common random numbers hold. A direction of the scores that moves no target keeps its
prior; one that moves a target by more than its measurement error is held to what the target allows.

Not conditioned: how unevenly a shock falls on sectors (``labour_market.sector_concentration``), which
acts only in a shock and so on no target of a steady economy. The posterior sets are not refitted with the
scores free (a joint refit, with the scores as coordinates of the calibration's emulators, would let a
fitted rate and a gradient offset each other); docs/calibration.md states what that leaves out.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import yaml

from .parameters import read_data
from .scenario import ScenarioError
from .streams import Streams

#: The file of the emulators (:func:`fit`, :func:`write`), in ``gmsim/data/``.
CONDITIONING_FILE = "conditioning.yaml"
DATA_DIR = Path(__file__).resolve().parent / "data"
#: Drawn from its prior in every replicate: it acts only in a shock, on no target of a steady economy.
UNCONDITIONED = ("labour_market.sector_concentration",)


def stream_of(name: str) -> str:
    """The random stream behind a score's prior draw (one per score; the same as before any conditioning)."""
    if " by " in name:
        transition, attribute = name.split(" by ")
        return f"draw.ratio.{transition}.{attribute}"
    if name.startswith("labour_market."):
        return f"draw.market.{name}"
    return f"draw.ratio.{name}"


@cache
def score_names() -> tuple[str, ...]:
    """Every score a replicate draws beside its posterior set: the gradients' and figures', then the market's."""
    from .ensemble import DRAWN_MARKET
    from .gradients import score_names as gradient_scores

    return (*gradient_scores(), *DRAWN_MARKET)


def conditioned_names() -> tuple[str, ...]:
    """The scores the targets constrain: all of :func:`score_names` but :data:`UNCONDITIONED`."""
    return tuple(n for n in score_names() if n not in UNCONDITIONED)


def prior_scores(seed: int) -> dict[str, float]:
    """Each score's prior draw for run seed ``seed``: independent standard normals, one stream each."""
    streams = Streams(seed)
    return {name: streams.normal_at(stream_of(name)) for name in score_names()}


def scores(seed: int) -> dict[str, float]:
    """Each score for run seed ``seed``, as GM's targets allow: ``mu + L zeta`` for the conditioned ones."""
    prior = prior_scores(seed)
    names, mu, chol = adjustment()
    z = mu + chol @ np.array([prior[n] for n in names])
    return {**prior, **{n: float(v) for n, v in zip(names, z, strict=True)}}


def fit(z: np.ndarray, shifts: np.ndarray) -> dict[str, np.ndarray]:
    """Least-squares emulators of each target's shift on the scores (module docstring, step 2).

    A shift is ``b . z + q . z^2``, with no constant: at every score 0 the two runs of a pair are the same
    run, so the shift there is exactly 0.

    Args:
        z: The scores of each pair, ``(pairs, scores)``.
        shifts: Each target's shift on its fitting scale in each pair, ``(pairs, targets)``.

    Returns:
        ``linear`` and ``quadratic`` (targets x scores), ``residual_sd`` and ``r_squared`` (targets).
    """
    n, k = z.shape
    design = np.hstack([z, z**2])
    coef, *_ = np.linalg.lstsq(design, shifts, rcond=None)
    residual = shifts - design @ coef
    dof = max(n - design.shape[1], 1)
    total = ((shifts - shifts.mean(axis=0)) ** 2).sum(axis=0)
    return {
        "linear": coef[:k].T,
        "quadratic": coef[k:].T,
        "residual_sd": np.sqrt((residual**2).sum(axis=0) / dof),
        "r_squared": 1 - (residual**2).sum(axis=0) / np.where(total > 0, total, 1.0),
    }


def held_out_r_squared(z: np.ndarray, shifts: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each target's R squared for pairs the emulator did not see: each half of the groups from the other's fit.

    ``groups`` numbers the posterior set of each pair: a set's pairs share their run at 0, so they are
    held out together.
    """
    first = np.isin(groups, np.unique(groups)[::2])
    predicted = np.zeros_like(shifts)
    for train in (first, ~first):
        e = fit(z[train], shifts[train])
        test = ~train
        predicted[test] = z[test] @ e["linear"].T + z[test] ** 2 @ e["quadratic"].T
    residual = shifts - predicted
    return 1 - residual.var(axis=0) / np.where(shifts.var(axis=0) > 0, shifts.var(axis=0), 1.0)


def expected_shift(emulators: dict[str, np.ndarray], mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Each target's mean shift by the emulators, the scores Normal(mu, sigma)."""
    return emulators["linear"] @ mu + emulators["quadratic"] @ (mu**2 + np.diag(sigma))


def shift_variance(emulators: dict[str, np.ndarray], mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Each target's shift variance by the emulators (what they miss left out), the scores Normal(mu, sigma).

    For normal scores: ``b Sigma b' + 2 q (Sigma o Sigma) q' + 4 (q o mu) Sigma (q o mu)' + 4 b Sigma (q o mu)'``.
    """
    b, q = emulators["linear"], emulators["quadratic"]
    qm = q * mu[None, :]
    return (
        np.einsum("ij,jk,ik->i", b, sigma, b)
        + 2 * np.einsum("ij,jk,ik->i", q, sigma**2, q)
        + 4 * np.einsum("ij,jk,ik->i", qm, sigma, qm)
        + 4 * np.einsum("ij,jk,ik->i", b, sigma, qm)
    )


def posterior(
    emulators: dict[str, np.ndarray], measurement_sd: np.ndarray, rounds: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """The scores' posterior mean and covariance given no shift beyond the targets' error (step 3).

    The linear part is conditioned on exactly; the square terms enter by their mean (which the posterior's
    mean offsets) and their spread (added to each target's error), both at the posterior's own mean and
    spread, so the two are found together by repeated substitution from the prior.
    """
    b = np.asarray(emulators["linear"], dtype=float)
    q = np.asarray(emulators["quadratic"], dtype=float)
    error = np.asarray(measurement_sd, dtype=float) ** 2 + np.asarray(emulators["residual_sd"], dtype=float) ** 2
    mu, sigma = np.zeros(b.shape[1]), np.eye(b.shape[1])
    for _ in range(rounds):
        square_terms = {"linear": np.zeros_like(b), "quadratic": q}
        w = error + shift_variance(square_terms, mu, sigma)
        sigma = np.linalg.inv(np.eye(b.shape[1]) + b.T @ (b / w[:, None]))
        sigma = (sigma + sigma.T) / 2
        mu = -sigma @ (b.T @ (expected_shift(square_terms, mu, sigma) / w))
    return mu, sigma


def load() -> tuple[tuple[str, ...], list[str], dict[str, np.ndarray], np.ndarray]:
    """(scores, targets, emulators, measurement sd) as ``data/conditioning.yaml`` gives them."""
    raw = read_data(CONDITIONING_FILE)
    targets = list(raw.get("targets", ()))
    try:
        rows = [raw["emulators"][t] for t in targets]
        emulators = {
            key: np.array([row[key] for row in rows], dtype=float)
            for key in ("linear", "quadratic", "residual_sd", "r_squared")
        }
        measurement_sd = np.array([row["measurement_sd"] for row in rows], dtype=float)
    except KeyError as missing:
        raise _stale("emulators", f"expected linear, quadratic, residual_sd, r_squared and measurement_sd for "
                     f"every target, missing {missing}") from None  # fmt: skip
    return tuple(raw.get("scores", ())), targets, emulators, measurement_sd


def _stale(key: str, expected: str) -> ScenarioError:
    rerun = " (rerun python -m gmsim.calibrate --conditioning-only)"
    return ScenarioError([(key, expected + rerun)], path=f"gmsim/data/{CONDITIONING_FILE}")


@cache
def adjustment() -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """(names, mu, L) of the scores' posterior, from ``data/conditioning.yaml`` (read-only arrays).

    Raises:
        ScenarioError: naming the file and key, if its scores or targets are not those a replicate draws
            and the calibration fits (rerun ``python -m gmsim.calibrate --conditioning-only``).
    """
    from .calibrate import fitted_targets

    try:
        names, targets, emulators, measurement_sd = load()
    except FileNotFoundError:
        raise _stale("", "the file is missing") from None
    if names != conditioned_names():
        differs = sorted(set(conditioned_names()) ^ set(names))[:3] or "their order"
        raise _stale("scores", f"expected the scores a replicate draws, they differ at {differs}")
    if targets != [t.key for t in fitted_targets()]:
        raise _stale("targets", "expected the targets the calibration fits (data/targets.yaml)")
    mu, sigma = posterior(emulators, measurement_sd)
    chol = np.linalg.cholesky(sigma)
    mu.flags.writeable = chol.flags.writeable = False
    return names, mu, chol


def write(
    names: list[str],
    targets: list[str],
    measurement_sd: np.ndarray,
    emulators: dict[str, np.ndarray],
    method: dict,
    data_dir: Path = DATA_DIR,
) -> None:
    """Write ``data/conditioning.yaml``: the emulators of each target's shift, and how they were found."""

    def num(x: float) -> float:
        return float(f"{float(x):.5g}")

    body = {
        "description": (
            "Emulators of how far each GM target moves (on its fitting scale: log for a count, logit for a "
            "share) when the figures the calibration does not fit are drawn at standard normal scores, and "
            "each target's measurement standard deviation there (gmsim/conditioning.py). gmsim's own runs: "
            "pairs of baselines with common random numbers (gmsim.calibrate.conditioning_runs)."
        ),
        "method": method,
        "scores": list(names),
        "targets": list(targets),
        "emulators": {
            t: {
                "measurement_sd": num(measurement_sd[j]),
                "residual_sd": num(emulators["residual_sd"][j]),
                "r_squared": num(emulators["r_squared"][j]),
                "linear": [num(x) for x in emulators["linear"][j]],
                "quadratic": [num(x) for x in emulators["quadratic"][j]],
            }
            for j, t in enumerate(targets)
        },
    }
    (Path(data_dir) / CONDITIONING_FILE).write_text(
        "# Generated by gmsim.conditioning.write (from `python -m gmsim.calibrate`); do not edit by hand.\n"
        + yaml.safe_dump(body, sort_keys=False, width=110, default_flow_style=None)
    )
    adjustment.cache_clear()
