"""Calibration targets (``data/targets.yaml``) and how a run's results are compared with them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import codes
from .agents.people import borough_shares
from .parameters import read_data


@dataclass(frozen=True)
class Target:
    """One calibration target.

    Attributes:
        key: Name in targets.yaml.
        description: What is measured.
        metric: Name of the measure in the summary (see :mod:`gmsim.results`).
        value: Target value.
        tolerance: Allowed absolute difference.
        unit: Unit.
        source: Evidence id.
    """

    key: str
    description: str
    metric: str
    value: float
    tolerance: float
    unit: str
    source: str


def load_targets() -> list[Target]:
    """The scalar targets, then one per borough employment rate (shifted, see below)."""
    raw = read_data("targets.yaml")
    out = []
    for key, t in raw.items():
        if key == "borough_employment_rates":
            continue
        out.append(
            Target(
                key,
                t["description"].strip(),
                t["metric"],
                float(t["value"]),
                float(t["tolerance"]),
                t["unit"],
                t["source"],
            )
        )
    tb = raw["borough_employment_rates"]
    for b, v in zip(codes.BOROUGHS, borough_employment_targets(), strict=True):
        out.append(
            Target(
                f"employment_rate_{b}",
                f"Employment rate, {b}",
                f"employment_rate.{b}",
                float(v),
                float(tb["tolerance"]),
                "share",
                f"emp_rate_{b.lower()}_2013",
            )
        )
    return out


def borough_employment_targets() -> np.ndarray:
    """Borough employment-rate targets: APS 2013 rates shifted so their weighted mean is the GM target.

    The shift keeps the published ordering and gaps between boroughs while matching the current GM
    employment rate (72.4%), with boroughs weighted by their Census 2021 working-age population.
    """
    raw = read_data("targets.yaml")
    published = np.array([raw["borough_employment_rates"]["value"][b] for b in codes.BOROUGHS])
    gm = raw["employment_rate"]["value"]
    return published + (gm - float(np.dot(borough_shares(), published)))
