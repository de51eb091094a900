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
