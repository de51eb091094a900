"""A Green Book social cost-benefit analysis of a scenario against its comparator, run by run.

The impacts a run has on GM (the scenario's run less the comparator's, month by month, under common random
numbers) are valued from three perspectives, in the style of the GM (New Economy) unit cost database and
cost-benefit model:

* **fiscal** (the Exchequer): out-of-work benefits no longer paid (by benefit: looking for work, health-related,
  the support group's extra), housing support, less the Universal Credit extra workers still receive under
  the taper, income tax and National Insurance on their earnings, and NHS costs by health severity;
* **economic**: the extra workers' gross earnings (their output) and the employers' costs of sickness
  absence avoided;
* **social** (UK society): the economic benefits, the NHS's resources saved, the wellbeing of being in work
  (WELLBYs) and the health gained (QALYs, discounted at the Green Book's health rate). Benefits and taxes are
  transfers within society and are left out.

Each is a present value at the Green Book's 3.5% in the price base year's pounds, set against the same
cost: the extra programme spend, raised for optimism bias, plus the cost of referrals that lapse. The
differences at the end of the run persist for ``persistence_years`` after it, decaying each year. Every unit
value is in ``data/unit_costs.yaml`` with its source and price year; those with a range are drawn for each
replicate of an uncertainty run (the same draw in every scenario of the replicate). docs/model.md section 8.5
gives the method and its limits.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import codes
from .interventions.parameters import Z975
from .parameters import read_data
from .streams import Streams

#: The perspectives, each with its benefits' present value and its own benefit-cost ratio.
PERSPECTIVES = ("fiscal", "economic", "social")


@dataclass(frozen=True)
class UnitValue:
    """A unit value of ``data/unit_costs.yaml``, in the price base year's pounds.

    Attributes:
        name: Its key.
        value: The central value (converted to the price base year if it is in pounds).
        low: The lower end of its 95% interval (converted), or None if fixed.
        high: The upper end.
        unit: Its unit.
        price_year: The year of the pounds it was stated in, or None.
        source: Evidence id or ``assumption``.
        description: What it is.
        note: Where it comes from.
    """

    name: str
    value: float
    low: float | None
    high: float | None
    unit: str
    price_year: int | None
    source: str
    description: str
    note: str

    def at(self, z: float) -> float:
        """The value at standard normal score ``z``: ``value`` at 0, ``low`` at -1.96, ``high`` at 1.96.

        Normal on each side of the value (a split normal), never below 0.
        """
        if self.low is None or self.high is None or z == 0:
            return self.value
        end = self.low if z < 0 else self.high
        return max(0.0, self.value + abs(z) * (end - self.value) / Z975)


@functools.cache
def unit_values() -> dict[str, UnitValue]:
    """Every numeric unit value of ``data/unit_costs.yaml``, converted to the price base year."""
    raw = read_data("unit_costs.yaml")
    base = int(raw["price_base_year"]["value"])
    deflator = {int(k): float(v) for k, v in raw["gdp_deflator"]["value"].items()}
    out = {}
    for name, spec in raw.items():
        if name in ("price_base_year", "gdp_deflator"):
            continue
        year = spec.get("price_year")
        factor = deflator[base] / deflator[int(year)] if year is not None else 1.0
        low, high = spec.get("range", (None, None))
        out[name] = UnitValue(
            name=name,
            value=float(spec["value"]) * factor,
            low=None if low is None else float(low) * factor,
            high=None if high is None else float(high) * factor,
            unit=str(spec.get("unit", "")),
            price_year=None if year is None else int(year),
            source=str(spec.get("source", "assumption")),
            description=str(spec.get("description", "")),
            note=" ".join(str(spec.get("note", "")).split()),
        )
    return out


def price_base_year() -> int:
    """The year whose prices every appraisal value is in."""
    return int(read_data("unit_costs.yaml")["price_base_year"]["value"])


def drawn_values(seed: int | None) -> dict[str, float]:
    """The unit values for a replicate: drawn from their ranges for run seed ``seed``, or central if None.

    Each uncertain value is drawn independently at a normal score from stream ``draw.money.<name>`` of the
    seed, so the same in every scenario of a replicate.
    """
    values = unit_values()
    if seed is None:
        return {k: v.value for k, v in values.items()}
    streams = Streams(seed)
    return {
        name: v.value if v.low is None else v.at(streams.normal_at(f"draw.money.{name}")) for name, v in values.items()
    }


def discount(months: int, rate: float, start: int = 1) -> np.ndarray:
    """Discount factors of months ``start .. start + months - 1``: (1 + rate)^(-month / 12)."""
    return (1 + rate) ** (-np.arange(start, start + months) / 12)


def appraise(rec: dict[str, Any], base: dict[str, Any], v: dict[str, float], lapsed_strands: tuple[str, ...]) -> dict:
    """The present values of one run against its comparator's run (GBP, price base year).

    Args:
        rec: The scenario's run record (:func:`gmsim.ensemble.run_record`).
        base: The comparator's run record, the same replicate.
        v: Unit values (:func:`drawn_values`).
        lapsed_strands: The strands whose lapsed referrals cost ``referral_cost_gbp`` each (not those that
            reach employers, whose referrals are employers' staff).

    Returns:
        ``pv_cost_gbp`` and, for each perspective, ``<perspective>_benefit_pv`` and ``npv_<perspective>``.
    """
    from .interventions import COUNTERS

    def diff(key: str) -> np.ndarray:
        a, b = rec[key], base[key]
        return (a.sum(axis=1) if a.ndim == 2 else a) - (b.sum(axis=1) if b.ndim == 2 else b)

    employed, jobseekers, health = diff("employed"), diff("jobseekers"), diff("out_of_work_health")
    support_group, at_risk = diff("support_group"), diff("at_risk")
    severity = rec["by_severity"] - base["by_severity"]  # (month, severity)
    nhs = [v[f"nhs_cost_{s}_per_year"] for s in codes.SEVERITIES[1:]]
    qaly = [v[f"qaly_loss_{s}"] for s in codes.SEVERITIES[1:]]
    earnings = v["earnings_per_worker_year"]

    # Annual rates of each flow (GBP a year for the month's differences), months 0 .. end.
    benefits = -(
        jobseekers * v["jobseeker_benefit_per_year"]
        + health * v["health_benefit_per_year"]
        + support_group * v["support_group_extra_per_year"]
        + (jobseekers + health) * v["housing_support_per_claimant_year"]
    )
    taxes = employed * (earnings * v["tax_ni_share_of_earnings"] - v["in_work_benefit_per_worker_year"])
    nhs_saved = -(severity[:, 1:] * np.array(nhs)).sum(axis=1)
    output = employed * earnings
    employers = -at_risk * 12 * v["employer_cost_per_absence_month"]
    wellbeing = employed * v["life_satisfaction_gain_in_work"] * v["wellby_value"]
    health_gain = -(severity[:, 1:] * np.array(qaly)).sum(axis=1) * v["qaly_value"]

    def pv(annual: np.ndarray, rate: float) -> float:
        """Present value of monthly flows (annual rates) over the run and their decaying tail after it."""
        months = len(annual) - 1
        within = float((annual[1:] / 12 * discount(months, rate)).sum())
        tail_months = int(round(v["persistence_years"] * 12))
        if tail_months <= 0:
            return within
        keep = (1 - v["persistence_decay"]) ** (np.arange(1, tail_months + 1) / 12)
        return within + float((annual[-1] / 12 * keep * discount(tail_months, rate, months + 1)).sum())

    r, rh = v["discount_rate"], v["health_discount_rate"]
    fiscal = pv(benefits + taxes + nhs_saved, r)
    economic = pv(output + employers, r)
    social = economic + pv(nhs_saved + wellbeing, r) + pv(health_gain, rh)

    spend = np.zeros(len(employed))
    lapsed = np.zeros(len(employed))  # referrals that never start, spread over the months of referral
    for key in (k for k in rec if k.startswith("strand.")):
        counts = rec[key].sum(axis=2)  # (month, counter)
        spend += counts[:, COUNTERS.index("spend_gbp")]
        referred, started = counts[:, COUNTERS.index("referred")], counts[:, COUNTERS.index("started")]
        if key.split(".", 1)[1] in lapsed_strands and referred.sum() > 0:
            lapsed += referred * max(0.0, 1 - started.sum() / referred.sum())
    for key in (k for k in base if k.startswith("strand.")):
        spend -= base[key].sum(axis=2)[:, COUNTERS.index("spend_gbp")]
    months = len(spend) - 1
    cost = float(
        ((spend[1:] * (1 + v["optimism_bias"]) + lapsed[1:] * v["referral_cost_gbp"]) * discount(months, r)).sum()
    )
    out = {"pv_cost_gbp": cost}
    for name, value in zip(PERSPECTIVES, (fiscal, economic, social), strict=True):
        out[f"{name}_benefit_pv"] = value
        out[f"npv_{name}"] = value - cost
    return out
