"""Where GM's residents live and work: travel to work between boroughs, and the sectors they work in.

Both are Census 2021 counts of residents aged 16+ in employment: ``data/commuting.yaml`` by borough of
residence and of workplace (``gm_commuting_od_census2021``), and ``data/sectors.yaml``
(``residents_by_borough``) by borough of residence and sector
(``gm_industry_of_employed_residents_by_borough_census2021``). No count of jobs by workplace borough and
sector was found (BRES, ``gm_bres_workplace_employment``), so :func:`workplace_sector_shares` assumes that
where a resident works does not depend on their sector, given where they live.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from . import codes
from .parameters import read_data


def _fixed(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


@cache
def commuting_flows() -> np.ndarray:
    """Employed residents by borough of residence (rows) and of workplace (columns), persons."""
    data = read_data("commuting.yaml")
    return _fixed(np.array([data["value"][b.lower()] for b in codes.BOROUGHS], dtype=np.float64))


@cache
def commuting() -> np.ndarray:
    """Residents' job search and jobs by borough of residence (rows) and of workplace (columns), rows summing to 1."""
    flows = commuting_flows()
    return _fixed(flows / flows.sum(axis=1, keepdims=True))


@cache
def jobs_share() -> np.ndarray:
    """Each borough's share of the jobs held by GM's residents (Census 2021 workplaces)."""
    flows = commuting_flows()
    return _fixed(flows.sum(axis=0) / flows.sum())


@cache
def residents_by_sector() -> np.ndarray:
    """Each borough's residents in employment by sector (borough, sector), rows summing to 1."""
    spec = read_data("sectors.yaml")["residents_by_borough"]["value"]
    counts = np.array([[spec[b][s] for s in codes.SECTORS] for b in codes.BOROUGHS], dtype=np.float64)
    return _fixed(counts / counts.sum(axis=1, keepdims=True))


@cache
def sector_mix_by_age() -> np.ndarray:
    """Each borough's mix of sectors for hires under 25 and aged 25 or over (group, borough, sector).

    ``data/sectors.yaml`` (``young_hires``). A tie keeps its sector as its holder ages, so the people in
    work aged 25 or over hold ties made before 25 too (a share ``carried``). The mixes are set so that
    the people in work, by their age now, have the odds ratio the IFS found (30% of employees under 25 in
    the industries shut in 2020 against 13% of the others: ``odds_ratio``) and together their borough's
    Census mix (:func:`residents_by_sector`), its people in work under 25 being its Census 2021 residents
    aged 16-24 times ``employment_ratio``. Within the tilted sectors, and within the others, each mix
    keeps the Census proportions.
    """
    spec = read_data("sectors.yaml")["young_hires"]
    theta = float(spec["odds_ratio"]["value"])
    carried = float(spec["carried_share"]["value"])
    tilted = np.isin(codes.SECTORS, spec["sectors"])
    mix = residents_by_sector()
    young = young_share_in_work(float(spec["employment_ratio"]["value"]))
    out = np.empty((2, *mix.shape))
    for b in range(mix.shape[0]):
        share = mix[b, tilted].sum()
        y, o = split_by_odds(share, young[b], carried, theta)
        for group, part in enumerate((y, o)):
            out[group, b] = np.where(tilted, mix[b] * part / share, mix[b] * (1 - part) / (1 - share))
    return _fixed(out)


def young_share_in_work(employment_ratio: float) -> np.ndarray:
    """Each borough's share of its people in work who are under 25: its Census share aged 16-24 times the ratio."""
    ages = read_data("population.yaml")["age"]["value"]
    share = np.array([(ages[b]["16-19"] + ages[b]["20-24"]) / sum(ages[b].values()) for b in codes.BOROUGHS])
    return share * employment_ratio


def split_by_odds(share: float, young: float, carried: float, theta: float) -> tuple[float, float]:
    """The tilted sectors' shares of hires under 25 (``y``) and aged 25 or over (``o``).

    People in work are a share ``young`` under 25, whose ties all hold ``y``; the others' ties are a share
    ``carried`` made before 25 and the rest made after, so they hold ``(1 - carried) o + carried y``. Then
    ``y`` and ``o`` are such that all hold ``share`` and the odds ratio between the two ages now is
    ``theta`` (found by bisection on ``o``, along which the odds ratio falls).

    Raises:
        ValueError: if a share is not strictly between 0 and 1, ``carried`` is not in [0, 1), ``theta`` is
            below 1, or no split gives ``theta`` (it is above the largest these shares allow).
    """
    if not (0 < share < 1 and 0 < young < 1 and 0 <= carried < 1 and theta >= 1):
        raise ValueError(
            f"data/sectors.yaml young_hires: expected shares in (0, 1), carried_share in [0, 1) and odds_ratio >= 1, "
            f"got share {share}, young {young}, carried {carried}, odds ratio {theta}"
        )
    made_young = young + (1 - young) * carried

    def parts(o: float) -> tuple[float, float, float]:
        y = (share - (1 - made_young) * o) / made_young
        older = (1 - carried) * o + carried * y
        return y, older, (y / (1 - y)) / (older / (1 - older))

    lo, hi = max(0.0, (share - made_young) / (1 - made_young)) + 1e-15, share
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if parts(mid)[2] > theta else (lo, mid)
    o = 0.5 * (lo + hi)
    if abs(parts(o)[2] / theta - 1) > 1e-6:
        raise ValueError(
            f"data/sectors.yaml young_hires: odds_ratio {theta} is above what a tilted share of {share} allows"
        )
    return parts(o)[0], o


@cache
def workplace_sector_shares() -> np.ndarray:
    """Each sector's share of its GM jobs in each workplace borough (workplace borough, sector; columns sum to 1).

    The residents of borough *b* working in borough *m* are taken to work in *b*'s mix of sectors, so the
    jobs of sector *s* in *m* are the sum over *b* of flow[*b*, *m*] x share[*b*, *s*]: an assumption
    (:mod:`gmsim.geography`), which places Manchester's jobs in the sectors of the people who commute there.
    """
    jobs = _workplace_jobs()
    return _fixed(jobs / jobs.sum(axis=0, keepdims=True))


@cache
def workplace_sector_mix() -> np.ndarray:
    """Each workplace borough's jobs by sector (workplace borough, sector; rows summing to 1).

    The same jobs as :func:`workplace_sector_shares`, shared within each workplace rather than each sector.
    """
    jobs = _workplace_jobs()
    return _fixed(jobs / jobs.sum(axis=1, keepdims=True))


def _workplace_jobs() -> np.ndarray:
    """GM residents' jobs by workplace borough and sector: each borough's flows times its residents' sectors."""
    return commuting_flows().T @ residents_by_sector()
