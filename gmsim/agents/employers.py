"""GM employers as arrays: size band, occupational-health access, sector, and how jobs are matched to them.

Employers are synthesised once from ``data/population.yaml`` (``employers``): each size band holds its
share of employment in firms of that band's mean size, and each firm has occupational-health access with
its band's probability. Each firm has a broad industry sector (``data/sectors.yaml``), given so that each
sector's firms hold its share of GM's employment (Census 2021), whatever their size band
(:func:`sectors_by_employment`). A person entering work is tied to an employer drawn in proportion to the
firm's size times how much more often people of their borough work in its sector than GM's people do
(:func:`borough_sector_affinity`; in a changing economy, times its sector's share of vacancies:
:meth:`gmsim.economy.EconomyPath.hiring`), so in a steady economy a band's share of new jobs is its share
of employment and each borough's residents work in its own mix of sectors; the tie breaks on job loss.
"""

from __future__ import annotations

from functools import cache
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
        cumulative: Cumulative shares of employers' hiring weights for the residents of each borough
            (borough, employer; :func:`hiring_tables`), for drawing an employer with one uniform number.
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
    band = np.concatenate(bands)
    sector = sectors_by_employment(w, band, sector_shares(), streams.generator("synthesis.sectors"), public_shares())
    return Employers(band, np.concatenate(oh), w, hiring_tables(w, sector), sector)


def public_shares() -> np.ndarray:
    """Each sector's share of its employment in the public sector (``data/sectors.yaml``; 0 where none is given)."""
    spec = read_data("sectors.yaml")["sectors"]
    return np.array([spec[name].get("public_share", {}).get("value", 0.0) for name in codes.SECTORS], dtype=np.float64)


def sector_shares() -> np.ndarray:
    """Each sector's share of GM's employment (``data/sectors.yaml``), in the order of ``codes.SECTORS``."""
    spec = read_data("sectors.yaml")["sectors"]
    shares = np.array([spec[name]["employment_share"]["value"] for name in codes.SECTORS], dtype=np.float64)
    return shares / shares.sum()


@cache
def borough_sector_affinity() -> np.ndarray:
    """How much more often each borough's residents work in each sector than GM's (borough, sector).

    A borough's share of its residents in employment who work in the sector over GM's share (Census
    2021, ``data/sectors.yaml``: ``residents_by_borough``); GM's employment-weighted mean in each sector is 1.
    """
    spec = read_data("sectors.yaml")["residents_by_borough"]["value"]
    counts = np.array([[spec[b][s] for s in codes.SECTORS] for b in codes.BOROUGHS], dtype=np.float64)
    affinity = (counts / counts.sum(axis=1, keepdims=True)) / (counts.sum(axis=0) / counts.sum())[None, :]
    affinity.flags.writeable = False
    return affinity


def hiring_tables(weight: np.ndarray, sector: np.ndarray, relative: np.ndarray | None = None) -> np.ndarray:
    """Cumulative shares of employers for a new hire from each borough (borough, employer; each row ends at 1).

    Employer ``e``'s share for a resident of borough ``b`` is its ``weight`` times the borough's affinity
    for its sector (:func:`borough_sector_affinity`) times its sector's ``relative`` hiring if given (in a
    changing economy), over the row's sum.
    """
    w = weight if relative is None else weight * relative[sector]
    table = np.cumsum(w[None, :] * borough_sector_affinity()[:, sector], axis=1)
    table /= table[:, -1:]
    return table


def sectors_by_employment(
    weight: np.ndarray,
    size_band: np.ndarray,
    shares: np.ndarray,
    rng: np.random.Generator,
    public: np.ndarray | None = None,
) -> np.ndarray:
    """A sector for each employer such that each sector's employers hold about its share of ``weight``.

    Large employers, in a random order, first go one by one to the sector whose public bodies lack most
    of their employment (``public``: each sector's share of its employment in the public sector, employed
    by large public bodies), while one still lacks at least half the employer. Then large, then medium
    employers, each band in a random order, go one by one to the sector furthest below its share
    (relative to its share outside the public sector) that still has room for them (or, if none has,
    the one furthest below in people); small and micro employers are then laid end to end in a random
    order over what each sector still lacks, each going to the sector its midpoint falls in. So a
    sector's employment is within about one small employer's size of its share even at small scales,
    public services are large employers, and the rest of every sector is shared among size bands alike
    (but for the few large employers of a small population).
    """
    sector = np.full(len(weight), -1, dtype=np.int8)
    lacking = shares * weight.sum()
    order = rng.permutation(len(weight))
    large = order[size_band[order] == codes.EMPLOYER_SIZES.index("large")]
    private = shares if public is None else shares * (1 - public)  # what the other employers share
    if public is not None and np.any(public > 0):
        public_lacking = lacking * public
        for i in large:
            s = int(np.argmax(public_lacking / np.where(public > 0, shares * public, np.inf)))
            if public_lacking[s] < weight[i] / 2:
                break
            sector[i] = s
            public_lacking[s] -= weight[i]
            lacking[s] -= weight[i]
    for band in (codes.EMPLOYER_SIZES.index("large"), codes.EMPLOYER_SIZES.index("medium")):
        for i in order[size_band[order] == band]:
            if sector[i] >= 0:  # a public body
                continue
            room = lacking >= weight[i]
            s = int(np.argmax(np.where(room, lacking / private, -np.inf))) if room.any() else int(np.argmax(lacking))
            sector[i] = s
            lacking[s] -= weight[i]
    rest = order[size_band[order] < codes.EMPLOYER_SIZES.index("medium")]
    ends = np.cumsum(weight[rest])
    middles = (ends - weight[rest] / 2) / ends[-1]
    bounds = np.cumsum(np.maximum(lacking, 0.0))
    bounds /= bounds[-1]
    sector[rest] = np.minimum(np.searchsorted(bounds, middles, side="right"), len(shares) - 1)
    return sector
