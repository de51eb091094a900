"""GM employers as arrays: size band, occupational-health access, sector, and how jobs are matched to them.

Employers are synthesised once from ``data/population.yaml`` (``employers``): each size band holds its
share of employment in firms of that band's mean size, and each firm has occupational-health access with
its band's probability. Each firm has a broad industry sector (``data/sectors.yaml``), given so that each
sector's firms hold its share of GM's employment (Census 2021), whatever their size. A person entering
work is tied to an employer drawn in proportion to the firm's size (in a changing economy, times its
sector's share of vacancies: :meth:`gmsim.economy.EconomyPath.hiring`), so in a steady economy a band's
and a sector's share of new jobs equal their shares of employment; the tie breaks on job loss.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import codes
from ..parameters import read_data
from ..streams import Streams


class Employers(NamedTuple):
    """Structure of arrays, one row per employer.

    Attributes:
        size_band: Index into ``codes.EMPLOYER_SIZES`` (1 micro .. 4 large).
        occupational_health: 1 if the employer gives access to occupational health, else 0.
        weight: Relative size, the chance of being the employer of a new hire.
        cumulative: Cumulative share of ``weight`` (for drawing employers with one uniform number).
        sector: Index into ``codes.SECTORS``.
    """

    size_band: np.ndarray
    occupational_health: np.ndarray
    weight: np.ndarray
    cumulative: np.ndarray
    sector: np.ndarray

    @property
    def n(self) -> int:
        """Number of employers."""
        return len(self.size_band)


def synthesise_employers(n_workers: float, streams: Streams) -> Employers:
    """Create the employers for a population with about ``n_workers`` people in work.

    Args:
        n_workers: Expected number of people in work (sets how many firms there are).
        streams: The run's random streams (streams ``"synthesis.employers"`` and ``"synthesis.sectors"``).

    Returns:
        The employers, at least one per size band.
    """
    spec = read_data("population.yaml")["employers"]["value"]
    rng = streams.generator("synthesis.employers")
    bands, oh, weight = [], [], []
    for band_index, band in enumerate(codes.EMPLOYER_SIZES[1:], start=1):
        s = spec[band]
        count = max(1, int(round(n_workers * s["employment_share"] / s["mean_size"])))
        # Firm sizes vary within a band; a gamma spread keeps the band's mean and total share.
        sizes = rng.gamma(2.0, s["mean_size"] / 2.0, size=count)
        sizes *= n_workers * s["employment_share"] / sizes.sum()
        bands.append(np.full(count, band_index, dtype=np.int8))
        oh.append((rng.random(count) < s["occupational_health"]).astype(np.int8))
        weight.append(sizes)
    w = np.concatenate(weight)
    cumulative = np.cumsum(w)
    cumulative /= cumulative[-1]
    sector = sectors_by_employment(w, sector_shares(), streams.generator("synthesis.sectors"))
    return Employers(np.concatenate(bands), np.concatenate(oh), w, cumulative, sector)


def sector_shares() -> np.ndarray:
    """Each sector's share of GM's employment (``data/sectors.yaml``), in the order of ``codes.SECTORS``."""
    spec = read_data("sectors.yaml")["sectors"]
    shares = np.array([spec[name]["employment_share"]["value"] for name in codes.SECTORS], dtype=np.float64)
    return shares / shares.sum()


def sectors_by_employment(weight: np.ndarray, shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A sector for each employer such that each sector's employers hold about its share of ``weight``.

    The employers are taken in a random order and laid end to end by weight; an employer's sector is the
    one whose share of the line its midpoint falls in (systematic sampling by size: a sector's employment
    is within one employer's size of its share, and sector is independent of size band).
    """
    order = rng.permutation(len(weight))
    ends = np.cumsum(weight[order])
    middles = (ends - weight[order] / 2) / ends[-1]
    bounds = np.cumsum(shares)
    sector = np.empty(len(weight), dtype=np.int8)
    sector[order] = np.minimum(np.searchsorted(bounds, middles, side="right"), len(shares) - 1)
    return sector


def headcount(employers: Employers, employer_of_person: np.ndarray) -> np.ndarray:
    """Number of people (slots) tied to each employer."""
    tied = employer_of_person[employer_of_person >= 0]
    return np.bincount(tied, minlength=employers.n)
