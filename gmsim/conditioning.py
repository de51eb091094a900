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

    Args:
        z: The scores of each pair, ``(pairs, scores)``.
        shifts: Each target's shift on its fitting scale in each pair, ``(pairs, targets)``.

    Returns:
        ``intercept`` (targets), ``linear`` and ``quadratic`` (targets x scores), ``residual_sd`` and
        ``r_squared`` (targets).
    """
    n, k = z.shape
    design = np.hstack([np.ones((n, 1)), z, z**2 - 1])
    coef, *_ = np.linalg.lstsq(design, shifts, rcond=None)
    residual = shifts - design @ coef
    dof = max(n - design.shape[1], 1)
    total = ((shifts - shifts.mean(axis=0)) ** 2).sum(axis=0)
    return {
        "intercept": coef[0],
        "linear": coef[1 : 1 + k].T,
        "quadratic": coef[1 + k :].T,
        "residual_sd": np.sqrt((residual**2).sum(axis=0) / dof),
        "r_squared": 1 - (residual**2).sum(axis=0) / np.where(total > 0, total, 1.0),
    }


def posterior(emulators: dict[str, np.ndarray], measurement_sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The scores' posterior mean and covariance given no shift beyond the targets' error (step 3)."""
    b = np.asarray(emulators["linear"], dtype=float)
    w = np.asarray(measurement_sd, dtype=float) ** 2 + np.asarray(emulators["residual_sd"], dtype=float) ** 2
    precision = np.eye(b.shape[1]) + b.T @ (b / w[:, None])
    sigma = np.linalg.inv(precision)
    sigma = (sigma + sigma.T) / 2
    a = np.asarray(emulators["intercept"]) + np.asarray(emulators["quadratic"]) @ (np.diag(sigma) - 1)
    mu = -sigma @ (b.T @ (a / w))
    return mu, sigma


@cache
def adjustment() -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """(names, mu, L) of the scores' posterior, from ``data/conditioning.yaml``.

    Raises:
        KeyError: naming the file, if its scores are not those a replicate draws (rerun the calibration's
            conditioning: ``python -m gmsim.calibrate --conditioning-only``).
    """
    raw = read_data(CONDITIONING_FILE)
    names = tuple(raw.get("scores", ()))
    if names != conditioned_names():
        missing = sorted(set(conditioned_names()) - set(names)) or sorted(set(names) - set(conditioned_names()))
        raise KeyError(
            f"data/{CONDITIONING_FILE}: scores: expected the scores a replicate draws, differs at "
            f"{missing[:3] or 'their order'} (rerun python -m gmsim.calibrate --conditioning-only)"
        )
    targets = raw["targets"]
    emulators = {
        key: np.array([raw["emulators"][t][key] for t in targets], dtype=float)
        for key in ("intercept", "linear", "quadratic", "residual_sd")
    }
    mu, sigma = posterior(emulators, np.array([raw["emulators"][t]["measurement_sd"] for t in targets]))
    return names, mu, np.linalg.cholesky(sigma)


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
                "intercept": num(emulators["intercept"][j]),
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
