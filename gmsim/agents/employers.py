"""GM employers as arrays: size band, occupational health, sector, workplace, and how jobs are matched to them.

Employers are synthesised once from ``data/population.yaml`` (``employers``): each size band holds its
share of employment in firms of that band's mean size, and each firm has occupational-health access with
its band's probability. Each firm has a broad industry sector (``data/sectors.yaml``), given so that each
sector's firms hold its share of GM's employment (Census 2021), public bodies being large employers
(:func:`sectors_by_employment`), and a workplace borough, given so that each sector's firms in each
borough hold the jobs GM's residents travel there to do (:func:`workplaces_by_employment`). A person
entering work is tied to an employer drawn from the hiring table of their borough of residence
(:func:`hiring_tables`): a workplace borough as its residents travel to work, a sector as its residents
of the hire's age work in (Census 2021, people under 25 more often in retail, hospitality and leisure:
:func:`~gmsim.geography.sector_mix_by_age`), and a firm there by size (in a changing economy, sectors
also by their share of vacancies: :meth:`gmsim.economy.EconomyPath.hiring`), so in a steady economy a
band's share of new jobs is its share of employment and each borough's residents work in its own mix of
sectors and places; the tie breaks on job loss.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import codes
from ..geography import commuting, sector_mix_by_age, workplace_sector_shares
from ..parameters import read_data
from ..streams import Streams


class Employers(NamedTuple):
    """Structure of arrays, one row per employer.

    Attributes:
        size_band: Index into ``codes.EMPLOYER_SIZES`` (1 micro .. 4 large).
        occupational_health: 1 if the employer gives access to occupational health, else 0.
        weight: Relative size, the chance of being the employer of a new hire.
        cumulative: Cumulative shares of employers' hiring weights for the residents of each borough, under 25
            and aged 25 or over (age group, borough, employer; :func:`hiring_tables`), for drawing an employer
            with one uniform number.
        sector: Index into ``codes.SECTORS``.
        borough: Workplace borough, an index into ``codes.BOROUGHS``.
        by_sector: The employers' rows in order of sector (within a sector, of row).
        sector_start: Where each sector's employers begin in ``by_sector`` (``len(codes.SECTORS) + 1``: the
            last is the number of employers).
        within_sector: Cumulative shares of the hiring weights of each sector's employers for the residents
            of each borough, in the order of ``by_sector`` (borough, employer; each sector's part ends at 1):
            for drawing a firm of a given sector, as a hire who returns to the sector of their last job is
            (:func:`within_sector_tables`).
    """

    size_band: np.ndarray
    occupational_health: np.ndarray
    weight: np.ndarray
    cumulative: np.ndarray
    sector: np.ndarray
    borough: np.ndarray
    by_sector: np.ndarray
    sector_start: np.ndarray
    within_sector: np.ndarray

    @property
    def n(self) -> int:
        """Number of employers."""
        return len(self.size_band)


def synthesise_employers(n_workers: float, streams: Streams) -> Employers:
    """Create the employers for a population with about ``n_workers`` people in work.

    Args:
        n_workers: Expected number of people in work (sets how many firms there are).
        streams: The run's random streams (streams ``"synthesis.employers"``, ``"synthesis.sectors"`` and
            ``"synthesis.workplaces"``).

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
    borough = workplaces_by_employment(w, band, sector, streams.generator("synthesis.workplaces"))
    return employers_of(band, np.concatenate(oh), w, sector, borough)


#: The fields of :class:`Employers` made from the others (kept populations leave them out).
DERIVED = ("cumulative", "by_sector", "sector_start", "within_sector")


def employers_of(
    size_band: np.ndarray, occupational_health: np.ndarray, weight: np.ndarray, sector: np.ndarray, borough: np.ndarray
) -> Employers:
    """The employers with these firms, and their hiring tables made from them (:data:`DERIVED`)."""
    return Employers(
        size_band,
        occupational_health,
        weight,
        hiring_tables(weight, sector, borough),
        sector,
        borough,
        *within_sector_tables(weight, sector, borough),
    )


def public_shares() -> np.ndarray:
    """Each sector's share of its employment in the public sector (``data/sectors.yaml``; 0 where none is given)."""
    spec = read_data("sectors.yaml")["sectors"]
    return np.array([spec[name].get("public_share", {}).get("value", 0.0) for name in codes.SECTORS], dtype=np.float64)


def sector_shares() -> np.ndarray:
    """Each sector's share of GM's employment (``data/sectors.yaml``), in the order of ``codes.SECTORS``."""
    spec = read_data("sectors.yaml")["sectors"]
    shares = np.array([spec[name]["employment_share"]["value"] for name in codes.SECTORS], dtype=np.float64)
    return shares / shares.sum()


def hiring_tables(
    weight: np.ndarray, sector: np.ndarray, borough: np.ndarray, relative: np.ndarray | None = None
) -> np.ndarray:
    """Cumulative shares of employers for a new hire of each age group from each borough (group, borough, employer).

    A resident of borough ``b`` joins the firms of workplace borough ``m`` and sector ``s`` with the share
    of ``b``'s residents in employment who travel to ``m`` (:func:`~gmsim.geography.commuting`) times the
    share of their age group who work in ``s`` (:func:`~gmsim.geography.sector_mix_by_age`: group 0 under
    25, group 1 aged 25 or over), times the sector's ``relative`` hiring if given (in a changing economy),
    over the row's sum; and a firm among those by its ``weight``. Each row ends at 1.
    """
    n_boroughs = len(codes.BOROUGHS)
    cell, held = _cells(weight, sector, borough)
    # each age group's and resident borough's weight on each (workplace, sector) cell, then on each firm of the cell
    aim = commuting()[None, :, :, None] * sector_mix_by_age()[:, :, None, :]
    if relative is not None:
        aim = aim * relative[None, None, None, :]
    aim = aim.reshape(2, n_boroughs, -1) / np.where(held > 0, held, 1.0)[None, None, :]
    table = np.cumsum(weight[None, None, :] * aim[:, :, cell], axis=2)
    table /= table[:, :, -1:]
    return table


def _cells(weight: np.ndarray, sector: np.ndarray, borough: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each firm's (workplace borough, sector) cell, and the weight each cell holds."""
    n_sectors = len(codes.SECTORS)
    cell = borough.astype(np.int64) * n_sectors + sector
    return cell, np.bincount(cell, weights=weight, minlength=len(codes.BOROUGHS) * n_sectors)


def within_sector_tables(
    weight: np.ndarray, sector: np.ndarray, borough: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each borough's hiring table within each sector (``by_sector``, ``sector_start``, ``within_sector``).

    Among the firms of one sector, a resident of borough ``b`` joins those of workplace borough ``m`` with
    the share of ``b``'s residents in employment who travel to ``m``, and a firm among those by its
    ``weight``: :func:`hiring_tables` for a hire who already knows the sector. A sector's hiring in a
    changing economy scales all its firms alike, so these tables hold for a whole run.
    """
    n_sectors = len(codes.SECTORS)
    order = np.argsort(sector, kind="stable").astype(np.int32)
    start = np.searchsorted(sector[order], np.arange(n_sectors + 1)).astype(np.int64)
    cell, held = _cells(weight, sector, borough)
    weights = weight[None, order] * commuting()[:, borough[order]] / np.where(held > 0, held, 1.0)[None, cell[order]]
    table = np.zeros_like(weights)
    for s in range(n_sectors):
        lo, hi = start[s], start[s + 1]
        if hi > lo:
            part = np.cumsum(weights[:, lo:hi], axis=1)
            table[:, lo:hi] = part / np.where(part[:, -1:] > 0, part[:, -1:], 1.0)
    return order, start, table


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
    by large public bodies), while one still lacks at least half the employer. The rest are shared out by
    :func:`_allot`, each sector's target relative to its share outside the public sector. So a sector's
    employment is within about one small employer's size of its share even at small scales, public
    services are large employers, and the rest of every sector is shared among size bands alike (but for
    the few large employers of a small population).
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
    _allot(weight, size_band, order, lacking, private, sector)
    return sector


def workplaces_by_employment(
    weight: np.ndarray, size_band: np.ndarray, sector: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A workplace borough for each employer such that each sector's firms in each borough hold its jobs there.

    A sector's jobs in each workplace borough are :func:`~gmsim.geography.workplace_sector_shares`; each
    sector's firms are shared out over the boroughs as :func:`sectors_by_employment` shares all firms over
    sectors (large, then medium firms one by one, small and micro firms laid end to end).
    """
    borough = np.full(len(weight), -1, dtype=np.int8)
    shares = workplace_sector_shares()
    order = rng.permutation(len(weight))
    for s in range(len(codes.SECTORS)):
        mine = order[sector[order] == s]
        if len(mine):
            lacking = shares[:, s] * weight[mine].sum()
            _allot(weight, size_band, mine, lacking, shares[:, s], borough)
    return borough


def _allot(
    weight: np.ndarray,
    size_band: np.ndarray,
    order: np.ndarray,
    lacking: np.ndarray,
    scale: np.ndarray,
    out: np.ndarray,
) -> None:
    """Give each firm of ``order`` without a group yet (``out`` < 0) a group, in place, filling what groups lack.

    Large, then medium firms, in ``order``, go one by one to the group furthest below its target relative to
    ``scale`` that still has room for them (or, if none has, the one furthest below); small and micro firms
    are then laid end to end in ``order`` over what each group still lacks, each going to the group its
    midpoint falls in.
    """
    for band in (codes.EMPLOYER_SIZES.index("large"), codes.EMPLOYER_SIZES.index("medium")):
        for i in order[size_band[order] == band]:
            if out[i] >= 0:  # given already (a public body)
                continue
            room = lacking >= weight[i]
            g = int(np.argmax(np.where(room, lacking / scale, -np.inf))) if room.any() else int(np.argmax(lacking))
            out[i] = g
            lacking[g] -= weight[i]
    rest = order[size_band[order] < codes.EMPLOYER_SIZES.index("medium")]
    if not len(rest):
        return
    ends = np.cumsum(weight[rest])
    middles = (ends - weight[rest] / 2) / ends[-1]
    bounds = np.cumsum(np.maximum(lacking, 0.0))
    if bounds[-1] <= 0:  # every group full: share the rest as the targets
        bounds = np.cumsum(scale)
    bounds /= bounds[-1]
    out[rest] = np.minimum(np.searchsorted(bounds, middles, side="right"), len(lacking) - 1)
