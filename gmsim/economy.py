"""The economy a scenario runs in: labour demand month by month, and a job-retention scheme.

A scenario's ``economy:`` block names a shape of demand (``steady``, ``recession``, ``pandemic``, or
``custom`` levels) and may change any figure of it. Demand ``D`` is the level of job vacancies relative to
the reference economy the model is calibrated to (1 = steady), were job seekers' search to stay at its
reference. It acts in three ways (docs/model.md 7.8):

* vacancies are ``D`` times their reference level times each market's capacity, which follows its job
  seekers' search over years (employers open vacancies where job seekers are easier to find), so job
  seekers' chances of work change through the matching (:mod:`gmsim.market`);
* job loss (into looking for work, from work or off sick) rises while demand is below the level employers
  are staffed for: its hazard is multiplied by ``(D / S)`` to the power ``-labour_market.job_loss_elasticity``
  when ``D < S``, where the staffed level ``S`` follows demand with a half-life of
  ``labour_market.staffing_half_life`` months (employers shed staff as demand falls, then stop; a long
  slump keeps unemployment high through few vacancies rather than through lasting job loss, as in
  2009-12);
* in a pandemic-style shock, moves from looking for work into inactivity rise, and from inactivity into
  looking for work fall, by ``D`` to the power ``-inactivity_elasticity`` and ``inactivity_elasticity``
  (people who cannot search, or stop); and a job-retention scheme (furlough) keeps a share ``coverage``
  of the extra job loss on payroll: those people stay in work, not working, and are counted as furloughed.

A shock does not fall on every sector alike. Each sector has an *exposure* to a shape (``data/sectors.yaml``:
its share of the extra job loss, of the fall in vacancies and of furlough, relative to its share of
employment; GM's employment-weighted mean is 1). A sector's job loss is multiplied by ``1 + (J - 1) x``
where ``J`` is GM's factor above and ``x`` its exposure. Its demand moves as ``D^x``; its share of GM's
vacancies (and of new hires and job-to-job movers, who go to its employers) is its share of employment
times its demand over the level it is staffed for, which follows its demand with the same half-life
(while a job-retention scheme keeps staff on payroll, only the share it does not keep), so a sector hires
less while it sheds staff and more while it rebuilds them; its furloughed share is ``x`` times GM's.
``labour_market.sector_concentration`` scales every exposure's distance from 1 (0: every sector alike, as
before sectors). In each replicate of a shock both are drawn: each sector's exposure within its evidence
range and the concentration within its own (:func:`gmsim.ensemble.sector_exposure_draw`).

Each shape's figures and their evidence are in ``data/economies.yaml`` and ``data/sectors.yaml``; the
figures a scenario does not give come from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import codes
from .agents.employers import sector_shares
from .parameters import read_data

#: The economies named by a shape of their own (``data/economies.yaml``); ``custom`` gives its levels.
NamedEconomy = Literal["steady", "recession", "pandemic"]
NAMED_ECONOMIES: tuple[str, ...] = get_args(NamedEconomy)


class JobRetention(BaseModel):
    """A job-retention scheme (furlough): staff kept on payroll, not working, instead of losing their jobs.

    Figures left out come from the ``pandemic`` shape's scheme in ``data/economies.yaml``.

    Attributes:
        coverage: Share of the extra job loss that demand would cause which the scheme keeps on payroll.
        months: Months the scheme runs, from the start of the shock.
        furloughed_per_demand_fall: Staff furloughed, as a share of people in work, per unit fall in demand.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    coverage: float | None = Field(None, ge=0, le=1, description="Share of demand-driven job loss kept on payroll.")
    months: int | None = Field(None, ge=1, le=1200, description="Months the scheme runs from the start of the shock.")
    furloughed_per_demand_fall: float | None = Field(
        None, ge=0, le=1, description="Share of people in work furloughed per unit fall in demand (0-1)."
    )


class Economy(BaseModel):
    """A scenario's economy: the shape of labour demand over the run, and a job-retention scheme.

    Figures left out come from the shape's entry in ``data/economies.yaml`` (:func:`shape_defaults`).

    Attributes:
        shape: ``steady`` (demand 1 throughout), ``recession``, ``pandemic`` or ``custom`` (``levels``).
        start_month: The model month the shock begins (demand is 1 before it).
        depth: Fall in demand at the trough, as a share of the reference level.
        months_to_trough: Months from the start of the shock to the trough (a straight fall).
        months_at_trough: Months demand stays at the trough before it recovers.
        recovery_months: Months from the end of the trough back to the reference level (a straight rise).
        levels: For ``custom``: demand in each month from ``start_month`` on; the last level holds after.
        inactivity_elasticity: How moves between looking for work and inactivity respond to demand.
        job_retention: A job-retention scheme, or None.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    shape: Literal[NamedEconomy, "custom"] = Field(
        "steady", description="steady, recession, pandemic or custom; default steady."
    )
    start_month: int | None = Field(None, ge=1, le=1200, description="Model month the shock begins.")
    depth: float | None = Field(None, ge=0, le=0.95, description="Fall in demand at the trough (0-0.95).")
    months_to_trough: int | None = Field(None, ge=1, le=1200, description="Months from the start to the trough.")
    months_at_trough: int | None = Field(None, ge=0, le=1200, description="Months demand stays at the trough.")
    recovery_months: int | None = Field(None, ge=1, le=1200, description="Months from the trough back to 1.")
    levels: list[float] | None = Field(None, min_length=1, description="custom: demand by month from start_month.")
    inactivity_elasticity: float | None = Field(None, ge=-3, le=3, description="Response of moves into inactivity.")
    job_retention: JobRetention | None = Field(None, description="A job-retention scheme (furlough), or none.")
    sector_exposure: dict[str, float] | None = Field(
        None, description="Sectors' exposure to the shock (data/sectors.yaml names), relative; overrides the shape's."
    )

    @model_validator(mode="after")
    def _levels_with_custom(self) -> Economy:
        if (self.shape == "custom") != (self.levels is not None):
            raise ValueError("'levels' is given with shape 'custom', and only then")
        if self.levels is not None and min(self.levels) <= 0:
            raise ValueError("'levels' must all be positive (demand relative to the steady economy)")
        return self

    @model_validator(mode="after")
    def _known_sectors(self) -> Economy:
        for name, x in (self.sector_exposure or {}).items():
            if name not in codes.SECTORS:
                raise ValueError(
                    f"sector_exposure: unknown sector {name!r}; expected one of {', '.join(codes.SECTORS)}"
                )
            if not 0 <= x <= 10:
                raise ValueError(f"sector_exposure.{name}: expected a number from 0 to 10, got {x}")
        return self

    def resolved(self) -> Economy:
        """This economy with every figure it leaves out taken from its shape's defaults."""
        defaults = shape_defaults(self.shape)
        given = self.model_dump(exclude_none=True)
        merged = {**defaults, **given}
        exposure = {**shape_exposure(self.shape), **given.get("sector_exposure", {})}
        merged.pop("sector_exposure", None)
        if exposure:  # none for a shape whose sectors are alike (steady, custom) unless the scenario gives them
            merged["sector_exposure"] = exposure
        if "job_retention" in merged:
            scheme = shape_defaults("pandemic")["job_retention"]
            merged["job_retention"] = {**scheme, **defaults.get("job_retention", {}), **given.get("job_retention", {})}
        return Economy.model_validate(merged)

    def exposure(self, concentration: float = 1.0) -> np.ndarray:
        """Each sector's exposure to this economy's shock, in the order of ``codes.SECTORS``.

        The shape's (or the scenario's) exposures to the power ``concentration``
        (``labour_market.sector_concentration``: 0 makes them alike, more than 1 spreads them further, and
        an exposure of 0 stays 0), then divided by their mean weighted by the sectors' shares of
        employment, so that GM's mean is 1. Exactly 1 for every sector when they are all alike.
        """
        given = self.resolved().sector_exposure or {}
        x = np.array([given.get(name, 1.0) for name in codes.SECTORS], dtype=np.float64) ** concentration
        if np.all(x == x[0]):
            return np.ones(len(codes.SECTORS))
        return x / float(sector_shares() @ x)

    def path(
        self, months: int, job_loss_elasticity: float, staffing_half_life: float, sector_concentration: float = 1.0
    ) -> EconomyPath:
        """The economy month by month over ``months`` months (:class:`EconomyPath`).

        Args:
            months: Months of the run.
            job_loss_elasticity: Response of job loss to demand below the staffed level
                (``labour_market.job_loss_elasticity``).
            staffing_half_life: Months for the staffed level to close half its gap to demand
                (``labour_market.staffing_half_life``; 0 closes it at once).
            sector_concentration: How far sectors' exposures to the shock differ, as a multiple of the
                evidence's (``labour_market.sector_concentration``).
        """
        e = self.resolved()
        t = np.arange(months + 1, dtype=np.float64)  # month 0 .. months
        demand = np.ones(months + 1)
        start = float(e.start_month or 1)
        if e.shape == "custom":
            levels = np.asarray(e.levels or [1.0], dtype=np.float64)
            since = (t - start).astype(np.int64)
            on = since >= 0
            demand[on] = levels[np.minimum(since[on], len(levels) - 1)]
        elif e.shape != "steady":
            fall, hold, rise = float(e.months_to_trough), float(e.months_at_trough or 0), float(e.recovery_months)
            since = t - start + 1  # 1 in the first month of the shock
            falling = (since > 0) & (since <= fall)
            trough = (since > fall) & (since <= fall + hold)
            rising = (since > fall + hold) & (since <= fall + hold + rise)
            demand[falling] = 1 - e.depth * since[falling] / fall
            demand[trough] = 1 - e.depth
            demand[rising] = 1 - e.depth * (1 - (since[rising] - fall - hold) / rise)
        demand = np.maximum(demand, 0.05)
        job_loss = below_staffing(demand, staffing_half_life) ** (-job_loss_elasticity)
        furloughed = np.zeros(months + 1)
        scheme = e.job_retention
        kept = np.zeros(months + 1)  # share of the staff demand would shed that a scheme keeps on payroll
        if scheme is not None:
            on = (t >= start) & (t < start + scheme.months)
            kept[on] = scheme.coverage
            job_loss[on] = 1 + (job_loss[on] - 1) * (1 - scheme.coverage)
            furloughed[on] = np.clip(scheme.furloughed_per_demand_fall * (1 - demand[on]), 0, 1)
        inactivity = demand ** (-(e.inactivity_elasticity or 0.0))
        exposure = self.exposure(sector_concentration)
        alike = bool(np.all(exposure == 1))
        # one row a sector, and a last row, GM's, for people with no employer (yet)
        factors = np.ones((months + 1, len(codes.SECTORS) + 1, len(codes.TRANSITIONS)))
        sector_job_loss = (
            job_loss[:, None] if alike else 1 + (job_loss[:, None] - 1) * np.append(exposure, 1.0)[None, :]
        )
        if not alike:
            sector_job_loss[:, -1] = job_loss
        for name in ("in_work_to_out_of_work", "at_risk_to_out_of_work"):
            factors[:, :, codes.T[name]] = sector_job_loss
        factors[:, :, codes.T["out_of_work_to_inactive"]] = inactivity[:, None]
        factors[:, :, codes.T["inactive_to_out_of_work"]] = 1 / inactivity[:, None]
        hiring = np.ones((months + 1, len(codes.SECTORS)))
        if not alike:
            sector_demand = demand[:, None] ** exposure[None, :]
            ratio = sector_demand / staffed(sector_demand ** (1 - kept[:, None]), staffing_half_life)
            moved = np.any(ratio != 1, axis=1)
            hiring[moved] = ratio[moved] / (ratio[moved] @ sector_shares())[:, None]
        furloughed_by_sector = np.clip(furloughed[:, None] * exposure[None, :], 0, 1)
        return EconomyPath(demand, factors, furloughed, hiring, furloughed_by_sector)


def closed_a_month(half_life: float) -> float:
    """The share of a gap closed each month by an adjustment with this half-life in months (1 if 0 or less)."""
    return 1.0 if half_life <= 0 else float(-np.expm1(-np.log(2) / half_life))


def adjusted(level: float | np.ndarray, target: float | np.ndarray, share: float) -> float | np.ndarray:
    """``level`` moved the ``share`` of its gap to ``target`` in logs (``target`` itself if ``share`` is 1)."""
    return target if share == 1 else level * (target / level) ** share


def below_staffing(demand: np.ndarray, half_life: float) -> np.ndarray:
    """Demand over the level employers are staffed for, at most 1, month by month.

    The staffed level starts at 1 and closes the share ``1 - 2^(-1 / half_life)`` of its gap to demand
    each month (in logs); demand above it leaves job loss as it is (employers then hire, through vacancies).
    """
    response = closed_a_month(half_life)
    ratio, staffed = np.ones_like(demand), 1.0
    for month, level in enumerate(demand):
        ratio[month] = min(1.0, level / staffed)
        staffed = adjusted(staffed, level, response)
    return ratio


def staffed(demand: np.ndarray, half_life: float) -> np.ndarray:
    """The level each column (a sector) is staffed for in each month (rows), following ``demand``.

    As in :func:`below_staffing`: it starts at 1 and closes the share ``1 - 2^(-1 / half_life)`` of its gap
    (in logs) each month, the month's level being the one before the month's adjustment.
    """
    response = closed_a_month(half_life)
    out, level = np.ones_like(demand), np.ones(demand.shape[1])
    for month, target in enumerate(demand):
        out[month] = level
        level = adjusted(level, target, response)
    return out


@dataclass(frozen=True)
class EconomyPath:
    """The economy of each month 0 .. months of a run.

    Attributes:
        demand: Vacancies relative to the reference economy.
        factors: Each labour transition's hazard multiplier from the economy (month, sector of the person's
            employer, transition); a last row after the sectors' is GM's, for people with no employer (job
            seekers, and people arriving in work before their employer is drawn); 1 for the job-entry
            moves, which the matching moves instead.
        furloughed: Share of people in work on furlough (kept on payroll, not working), GM's.
        hiring: Each sector's share of new hires relative to its share of employment (month, sector): its
            share of vacancies over its share of jobs; exactly 1 while every sector is staffed for its demand
            or sectors are alike.
        furloughed_by_sector: Share of each sector's people in work on furlough (month, sector).
    """

    demand: np.ndarray
    factors: np.ndarray
    furloughed: np.ndarray
    hiring: np.ndarray
    furloughed_by_sector: np.ndarray

    def extended(self, months: int) -> EconomyPath:
        """The path over ``months`` months, its last month held after its end (for runs past their plan)."""
        extra = months + 1 - len(self.demand)
        if extra <= 0:
            return self
        hold = lambda a: np.concatenate([a, np.repeat(a[-1:], extra, axis=0)])  # noqa: E731
        return EconomyPath(*(hold(a) for a in (self.demand, self.factors, self.furloughed, self.hiring,
                                               self.furloughed_by_sector)))  # fmt: skip

    @property
    def steady(self) -> bool:
        """Whether demand is 1 and every factor 1 throughout."""
        return bool(np.all(self.demand == 1) and np.all(self.factors == 1))

    @property
    def by_sector(self) -> bool:
        """Whether sectors fare differently in some month (then a run counts its people in work by sector)."""
        return bool(np.any(self.hiring != 1) or np.any(self.factors != self.factors[:, :1]))


def shape_exposure_ranges(shape: str) -> dict[str, tuple[float, float, float]]:
    """Each sector's exposure to a named shape's shock with its evidence range: ``(value, low, high)``."""
    spec = read_data("sectors.yaml")["sectors"]
    out = {}
    for name in codes.SECTORS:
        x = spec[name]["exposure"].get(shape)
        if x is not None:
            low, high = x.get("range", (x["value"], x["value"]))
            out[name] = (float(x["value"]), float(low), float(high))
    return out


def shape_exposure(shape: str) -> dict[str, float]:
    """Each sector's exposure to a named shape's shock (``data/sectors.yaml``); none (all 1) for others."""
    return {name: value for name, (value, _, _) in shape_exposure_ranges(shape).items()}


def shape_defaults(shape: str) -> dict[str, Any]:
    """The figures of a named shape of demand (``data/economies.yaml``), as an ``economy:`` block's keys."""

    def values(node: Any) -> Any:
        if isinstance(node, dict):
            return node["value"] if "value" in node else {k: values(v) for k, v in node.items() if k != "description"}
        return node

    return {**values(read_data("economies.yaml")["shapes"][shape]), "shape": shape}
