"""Job readiness: a person's fixed, unobserved factor on job entry (unobserved heterogeneity).

Each person's job readiness is lognormal with mean 1 and log-scale standard deviation
``labour.job_readiness_sd``: exp(sd x z - sd^2 / 2), where z is the standard normal quantile of one uniform
number drawn from the ``demography`` stream at the person's id (a draw index no month uses), capped at
+-``READINESS_CAP``. It is worked out once, when the person enters the model (a newcomer in demography, the
synthesised people once their ids are final), and kept in ``People.job_readiness``: it never changes, and
nothing a policy does can change it. The labour process multiplies job entry by it
(:mod:`gmsim.dynamics.labour`); a referral route may select on it (``routes.<route>.selection``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..streams import counter_start, draw

#: Draw index of job readiness: a person's one draw from the ``demography`` stream at "month" 0 that no
#: month's draws use (they use indices 0 to 7), taken at their person id rather than their slot.
READINESS_INDEX = 1000
#: Job readiness is drawn from the normal quantiles of [1e-4, 1 - 1e-4]: at most this many standard deviations.
READINESS_CAP = 3.719016485455709


@njit(cache=True)
def normal_quantile(u: float) -> float:
    """The standard normal quantile of ``u`` in (0, 1) (Acklam's rational approximation, relative error < 1.2e-9)."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
         -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
         -1.328068155288572e01)  # fmt: skip
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
         4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    if u < 0.02425:
        q = np.sqrt(-2 * np.log(u))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    if u > 1 - 0.02425:
        q = np.sqrt(-2 * np.log(1 - u))
        return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1
        )
    q = u - 0.5
    r = q * q
    return (
        (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
        * q
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    )


@njit(cache=True)
def readiness_of_number(u: float, sd: float) -> float:
    """The job readiness of the uniform number ``u`` (capped to [1e-4, 1 - 1e-4]) with log-scale spread ``sd``."""
    if sd <= 0.0:
        return 1.0
    u = min(max(u, 1e-4), 1.0 - 1e-4)
    return np.exp(sd * normal_quantile(u) - 0.5 * sd * sd)


@njit(cache=True)
def readiness(start, person_id: int, sd: float) -> float:
    """A person's job readiness, from the :func:`~gmsim.streams.counter_start` of ``READINESS_INDEX``."""
    return readiness_of_number(draw(start, person_id), sd)


@njit(cache=True)
def _readiness_of(key, person_ids, sd, out):
    start = counter_start(key, 0, READINESS_INDEX)  # here: a start handed in from Python may lose its type
    for k in range(person_ids.shape[0]):
        out[k] = readiness(start, person_ids[k], sd)


def job_readiness(person_ids: np.ndarray, key, sd: float) -> np.ndarray:
    """The job readiness of ``person_ids`` for the ``demography`` stream ``key`` (float32, as people hold it)."""
    ids = np.ascontiguousarray(person_ids, dtype=np.int64)
    out = np.empty(len(ids), dtype=np.float32)
    _readiness_of(np.uint64(key), ids, float(sd), out)
    return out


def readiness_range(sd: float) -> tuple[float, float]:
    """Bounds on anyone's job readiness with log-scale spread ``sd``: below the least, above the greatest.

    The readiness of the least and greatest numbers (the cap's), widened by a millionth (more than
    float32's rounding of a person's value).
    """
    low, high = readiness_of_number(0.0, sd), readiness_of_number(1.0, sd)
    return low * (1 - 1e-6), high * (1 + 1e-6)


def assign_readiness(people, sd: float, key) -> None:
    """Give everyone in ``people`` the job readiness of their person id, in place (the starting population)."""
    people.job_readiness[:] = job_readiness(people.person_id, key, sd)
