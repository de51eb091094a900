"""Bayesian calibration of a stochastic simulator: history matching with emulators, then a posterior sample.

The method follows Vernon, Goldstein & Bower (2010, *Bayesian Analysis* 5) and Andrianakis et al. (2015,
*PLoS Computational Biology* 11), as used for epidemic and labour-market microsimulations:

1. **Runs at a design.** The simulator is run at a Latin hypercube of points in a box of the parameter
   space, each run with its own seed.
2. **Emulators.** Each target gets an emulator: a linear regression on the parameters plus a Gaussian
   process on its residuals over the parameters that move it most (scikit-learn). The process's noise
   term takes the runs' Monte Carlo variation, so the emulator predicts a run's expected value, with a
   standard deviation that says how well it knows it.
3. **History matching.** A point is *implausible* if, for some target, the gap between the measured
   value and the emulator's prediction exceeds ``CUTOFF`` standard deviations of the measurement and the
   emulator together. The next wave's runs are drawn from the points not yet ruled out, where the
   emulators are refitted with more runs.
4. **Posterior.** After the last wave the posterior, prior x prod_j Normal(target_j; emulator_j(theta),
   measurement_j^2 + emulator_j(theta)^2), is sampled by emcee's affine-invariant ensemble sampler
   (Foreman-Mackey et al. 2013) inside the box.

This module knows nothing of gmsim's parameters: :mod:`gmsim.calibrate` maps its coordinates to them.
scikit-learn and emcee are the ``calibrate`` extra (``pip install -e .[calibrate]``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

#: Implausibility above which a point is ruled out (Pukelsheim's three-sigma rule, as in Vernon et al.).
CUTOFF = 3.0


class OutsideBox(ValueError):
    """Earlier runs given to :func:`history_match` that lie outside the box it searches."""


@dataclass(frozen=True)
class Prior:
    """The prior of one coordinate: ``normal`` (``a`` mean, ``b`` standard deviation) or ``uniform`` on [a, b]."""

    kind: str
    a: float
    b: float

    def logpdf(self, u: np.ndarray) -> np.ndarray:
        """Log density at ``u`` (an array of values of this coordinate)."""
        if self.kind == "normal":
            return stats.norm.logpdf(u, self.a, self.b)
        return stats.uniform.logpdf(u, self.a, self.b - self.a)

    def interval(self, mass: float = 0.95) -> tuple[float, float]:
        """The central interval holding ``mass`` of the prior."""
        dist = stats.norm(self.a, self.b) if self.kind == "normal" else stats.uniform(self.a, self.b - self.a)
        lo, hi = dist.interval(mass)
        return float(lo), float(hi)

    @property
    def sd(self) -> float:
        """Standard deviation."""
        return self.b if self.kind == "normal" else (self.b - self.a) / np.sqrt(12.0)

    @property
    def mean(self) -> float:
        """Mean."""
        return self.a if self.kind == "normal" else (self.a + self.b) / 2


def latin_hypercube(n: int, lower: np.ndarray, upper: np.ndarray, seed: int) -> np.ndarray:
    """``n`` points of an optimised Latin hypercube in the box ``[lower, upper]``."""
    from scipy.stats import qmc

    sample = qmc.LatinHypercube(d=len(lower), optimization="random-cd", seed=seed).random(n)
    return lower + sample * (upper - lower)


class Emulator:
    """Emulator of one simulator output: linear regression plus a Gaussian process on its residuals.

    Args:
        x: Design points (runs, coordinates).
        y: The output at each run.
        lower, upper: The box the design fills (inputs are rescaled to [0, 1] in it).
        active: Most coordinates the Gaussian process takes (those with the largest linear effects; the rest
            act through the regression only, as Vernon et al.'s "active variables").
        seed: Seed of the optimiser's restarts.

    Attributes:
        active: Indices of the coordinates the Gaussian process uses.
        noise_sd: Standard deviation of a single run about its expected value (the fitted noise term).
    """

    def __init__(
        self, x: np.ndarray, y: np.ndarray, lower: np.ndarray, upper: np.ndarray, active: int = 8, seed: int = 0
    ) -> None:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        self.lower, self.width = np.asarray(lower, float), np.asarray(upper, float) - np.asarray(lower, float)
        z = self._scaled(x)
        design = np.column_stack([np.ones(len(z)), z])
        self.coef = np.linalg.lstsq(design, y, rcond=None)[0]
        residual = y - design @ self.coef
        effect = np.abs(self.coef[1:])
        order = np.argsort(-effect)
        self.active = np.sort(order[: max(1, min(active, int((effect > 0.02 * effect.max()).sum())))])
        var = float(residual.var()) or 1e-12
        kernel = ConstantKernel(var, (var * 1e-3, var * 1e3)) * RBF(
            np.full(len(self.active), 0.5), (0.02, 50.0)
        ) + WhiteKernel(var * 0.1, (var * 1e-6, var * 2))
        self.gp = GaussianProcessRegressor(kernel, n_restarts_optimizer=1, random_state=seed)
        with warnings.catch_warnings():  # a hyperparameter at its bound (a flat residual) is a fit, not a fault
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp.fit(z[:, self.active], residual)
        self.noise_sd = float(np.sqrt(self.gp.kernel_.k2.noise_level))

    def _scaled(self, x: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(x) - self.lower) / self.width

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expected output at each point of ``x`` and the emulator's standard deviation of it (not a run's)."""
        z = self._scaled(x)
        mean, sd = self.gp.predict(z[:, self.active], return_std=True)
        var = np.maximum(sd**2 - self.noise_sd**2, 0.0)
        return self.coef[0] + z @ self.coef[1:] + mean, np.sqrt(var)


def implausibility(
    emulators: list[Emulator], x: np.ndarray, observed: np.ndarray, measurement_sd: np.ndarray
) -> np.ndarray:
    """Implausibility of each point of ``x`` for each target: |observed - prediction| / combined sd."""
    out = np.empty((len(np.atleast_2d(x)), len(emulators)))
    for j, em in enumerate(emulators):
        mean, sd = em.predict(x)
        out[:, j] = np.abs(observed[j] - mean) / np.sqrt(measurement_sd[j] ** 2 + sd**2)
    return out


def not_ruled_out(
    emulators: list[Emulator],
    observed: np.ndarray,
    measurement_sd: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    seen: np.ndarray,
    n: int,
    rng: np.random.Generator,
    candidates: int = 40_000,
) -> tuple[np.ndarray, float]:
    """``n`` points for the next wave, from those not ruled out; and the share of the box not ruled out.

    Candidates are drawn uniformly in the box and around the 50 least implausible points run so far
    (normal steps of a tenth of the box); the next wave takes ``n`` of those not ruled out at random, or the
    ``n`` least implausible if fewer are left.
    """
    uniform = lower + rng.random((candidates, len(lower))) * (upper - lower)
    worst_seen = implausibility(emulators, seen, observed, measurement_sd).max(axis=1)
    best = seen[np.argsort(worst_seen)[:50]]
    local = best[rng.integers(len(best), size=candidates)] + rng.normal(0, 0.1, (candidates, len(lower))) * (
        upper - lower
    )
    local = np.clip(local, lower, upper)
    worst_uniform = implausibility(emulators, uniform, observed, measurement_sd).max(axis=1)
    worst_local = implausibility(emulators, local, observed, measurement_sd).max(axis=1)
    share = float((worst_uniform < CUTOFF).mean())
    pool = np.vstack([uniform, local])
    worst = np.concatenate([worst_uniform, worst_local])
    kept = np.flatnonzero(worst < CUTOFF)
    if len(kept) >= n:
        return pool[rng.choice(kept, size=n, replace=False)], share
    return pool[np.argsort(worst)[:n]], share


@dataclass(frozen=True)
class Posterior:
    """The emulated posterior: priors, the targets with their measurement error, the emulators and the box.

    Attributes:
        emulators: One per target.
        observed: The targets (on the emulators' scale).
        measurement_sd: Each target's measurement standard deviation (same scale).
        priors: One per coordinate.
        lower, upper: The box searched; the posterior is zero outside it.
    """

    emulators: list[Emulator]
    observed: np.ndarray
    measurement_sd: np.ndarray
    priors: list[Prior]
    lower: np.ndarray
    upper: np.ndarray

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """Log posterior density (up to a constant) at each point of ``x``; minus infinity outside the box."""
        x = np.atleast_2d(x)
        out = np.zeros(len(x))
        for k, prior in enumerate(self.priors):
            out += prior.logpdf(x[:, k])
        for j, em in enumerate(self.emulators):
            mean, sd = em.predict(x)
            var = self.measurement_sd[j] ** 2 + sd**2
            out += -0.5 * (self.observed[j] - mean) ** 2 / var - 0.5 * np.log(var)
        outside = ((x < self.lower) | (x > self.upper)).any(axis=1)
        out[outside | ~np.isfinite(out)] = -np.inf
        return out


@dataclass
class PosteriorSample:
    """A posterior sample and how it was obtained.

    Attributes:
        points: The sample (draws, coordinates).
        acceptance: Mean acceptance rate of the sampler's moves.
        autocorrelation: Integrated autocorrelation time of each coordinate (steps).
        steps: Steps each walker took (the first half discarded as burn-in).
    """

    points: np.ndarray
    acceptance: float
    autocorrelation: np.ndarray
    steps: int


def sample_posterior(
    posterior: Posterior,
    start: np.ndarray,
    draws: int,
    seed: int,
    walkers: int = 64,
    steps: int = 4000,
    progress: bool = True,
) -> PosteriorSample:
    """``draws`` points from the emulated posterior by emcee, walkers started at points of ``start``.

    The first half of each walker's steps is discarded; the rest is thinned evenly to ``draws`` points.
    """
    import emcee

    rng = np.random.default_rng(seed)
    lower, upper = posterior.lower, posterior.upper
    begin = start[rng.choice(len(start), size=walkers, replace=len(start) < walkers)]
    begin = np.clip(begin + rng.normal(0, 1e-3, begin.shape) * (upper - lower), lower, upper)
    sampler = emcee.EnsembleSampler(walkers, len(posterior.priors), posterior.log_density, vectorize=True)
    sampler.random_state = np.random.RandomState(seed).get_state()
    sampler.run_mcmc(begin, steps, progress=progress)
    chain = sampler.get_chain(discard=steps // 2, flat=True)
    picked = chain[np.linspace(0, len(chain) - 1, draws).astype(int)]
    return PosteriorSample(
        points=picked,
        acceptance=float(np.mean(sampler.acceptance_fraction)),
        autocorrelation=sampler.get_autocorr_time(discard=steps // 2, quiet=True),
        steps=steps,
    )


def history_match(
    simulate: Callable[[np.ndarray, int], np.ndarray],
    observed: np.ndarray,
    measurement_sd: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    waves: tuple[int, ...],
    seed: int,
    report: Callable[[str], None] = print,
    earlier: tuple[np.ndarray, np.ndarray, int] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[Emulator], list[float]]:
    """Waves of runs, emulators and ruling out; the runs (points, outputs), the last emulators and the shares.

    ``simulate(points, wave)`` returns each point's outputs (rows: points, columns: targets). The first wave
    fills the box; each later one is drawn from what the emulators of all earlier runs have not ruled out.
    ``shares`` is the share of the box not ruled out after each wave. With ``earlier``, ``(points,
    outputs, waves run)`` of a history match in the same box, its runs are kept and each of ``waves`` is a
    further wave, numbered on from them.

    Raises:
        OutsideBox: if an earlier run lies outside the box (before anything is run).
    """
    if earlier is None:
        rng = np.random.default_rng(seed)
        x = latin_hypercube(waves[0], lower, upper, seed)
        y = simulate(x, 0)
        first, further = 1, waves[1:]
    else:
        x, y, done = earlier
        outside = int(((x < lower) | (x > upper)).any(axis=1).sum())
        if outside:
            raise OutsideBox(f"{outside} of the earlier runs lie outside the box searched")
        rng = np.random.default_rng([seed, done])
        first, further = done, waves
    emulators = fit_emulators(x, y, lower, upper, seed)
    shares = []
    for w, n in enumerate(further, start=first):
        new, share = not_ruled_out(emulators, observed, measurement_sd, lower, upper, x, n, rng)
        shares.append(share)
        report(f"wave {w}: {share:.2%} of the box not ruled out; {n} runs there")
        x, y = np.vstack([x, new]), np.vstack([y, simulate(new, w)])
        emulators = fit_emulators(x, y, lower, upper, seed)
    _, share = not_ruled_out(emulators, observed, measurement_sd, lower, upper, x, 1, rng)
    shares.append(share)
    report(f"after the last wave: {share:.2%} of the box not ruled out")
    return x, y, emulators, shares


def fit_emulators(x: np.ndarray, y: np.ndarray, lower: np.ndarray, upper: np.ndarray, seed: int) -> list[Emulator]:
    """One :class:`Emulator` per output column of ``y``."""
    return [Emulator(x, y[:, j], lower, upper, seed=seed) for j in range(y.shape[1])]
