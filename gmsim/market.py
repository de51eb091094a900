"""GM's labour market: vacancies by borough, the job seekers' search, and the chance of work it gives them.

Each borough's workplaces are a market. Each month the job seekers (people looking for work and inactive
people, who also take jobs) *search*: a seeker's search is their own job-entry hazard before the market,
so health, time out of work, benefit, job readiness and any intervention's help all count. A borough's
residents aim their search at the boroughs' markets as they travel to work (``data/commuting.yaml``,
Census 2021), and each market's vacancies are its share of GM's jobs times the economy's demand
(:mod:`gmsim.economy`).

Matching is urn-ball (del Rio-Chanona et al. 2021, after Butters 1977): with ``x`` applications per
vacancy, a vacancy is filled with probability ``1 - exp(-x)``, so a unit of search finds work with
probability proportional to ``p(x) = (1 - exp(-x)) / x``. Applications are proportional to search, and
``x`` is ``labour_market.tightness`` (x0) when search and vacancies are at their reference: month 0's
search, and vacancies in the steady economy. A job seeker's entry hazard is then multiplied by their
borough's *job-finding factor*, ``sum_m C[b, m] p(x_m) / sum_m C[b, m] p(x0)``: 1 in the reference market,
lower when vacancies fall or others search harder, higher when vacancies rise or others stop searching.

So help that raises some people's search takes part of their extra jobs from other job seekers
(displacement), more so the slacker the market: at ``x`` the share is ``1 - x exp(-x) / (1 - exp(-x))``.
The factor of month ``t`` is set from the search at the end of month ``t - 1`` (applications made over the
month are answered the next); search is summed in whole units so that a run's total is the same however
it is worked out (:func:`gmsim.dynamics.labour.job_search`).

Vacancies are not fixed: employers open more where job seekers are easier to find (free entry of
vacancies, Pissarides 2000). Each market's *capacity* follows its search relative to the reference, with
a half-life of ``labour_market.vacancy_half_life`` months, so a lasting rise in search (a strand's
participants looking harder, or more people out of work) is met, over years, by more vacancies, and the
economy's demand sets applications per vacancy in the long run rather than vacancies themselves:
vacancies are ``reference x demand x capacity``. Displacement is therefore largest at first and fades.

Vacancies left unfilled at the end of a month close unless employers keep them open: each month a share
``labour_market.vacancy_withdrawal`` of them closes and the rest stay open into the next month, on top of
the month's new vacancies (a vacancy *stock*). At 1, the value shipped, every unfilled vacancy closes and a
month's vacancies are set afresh (``reference x demand x capacity``); below 1, a vacancy a participant fills
is one fewer open next month, so more of their extra jobs come out of other job seekers' (docs/model.md
section 7.8 gives the sensitivity). New vacancies are opened so that the reference market's stock stays at
the reference.

In a month when sectors hire unalike (a shock that falls on sectors unevenly, :mod:`gmsim.economy`), each
workplace's market splits into a market for each sector: its vacancies are shared by the sector's jobs
there times its relative hiring, and a job seeker aims the share ``labour_market.sector_attachment`` of
their search at the sector of their last job and the rest at the vacancies wherever they are. Each
workplace and sector is then an urn-ball market of its own, at its reference when its applications and
vacancies are, and a job seeker's factor is the job-finding of their search where it is aimed. Job seekers
from a sector that has stopped hiring crowd its few vacancies (mismatch, after Şahin et al. 2014). While
every sector hires alike, a workplace's sectors share one market.
"""

from __future__ import annotations

import numpy as np

from . import codes
from .agents.employers import Employers, hiring_tables, sector_shares
from .dynamics.labour import Market
from .economy import EconomyPath, adjusted, closed_a_month
from .geography import commuting, jobs_share, workplace_sector_mix
from .parameters import ParameterSet

#: The last few months' hiring tables, by employers' weights, sectors and workplaces and sectors' hiring
#: (shared runs' models all read the same): ``(weight, sector, borough, relative hiring bytes, tables)``;
#: holding the arrays keeps their identities from being reused by others. Employers' arrays are not
#: changed in place (they are fixed for a run).
_HIRING: list[tuple[np.ndarray, np.ndarray, np.ndarray, bytes, np.ndarray]] = []


def _hiring_cumulative(employers: Employers, relative: np.ndarray) -> np.ndarray:
    """The hiring tables (age group, borough) with each sector's ``relative`` hiring: :func:`hiring_tables`."""
    key = relative.tobytes()
    for w, s, b, k, cumulative in _HIRING:
        if w is employers.weight and s is employers.sector and b is employers.borough and k == key:
            return cumulative
    cumulative = hiring_tables(employers.weight, employers.sector, employers.borough, relative)
    _HIRING.append((employers.weight, employers.sector, employers.borough, key, cumulative))
    del _HIRING[:-4]
    return cumulative


def _by_seekers(search: np.ndarray) -> np.ndarray:
    """Weights of the boroughs (rows) in each column: their search, or all alike in a column nobody searches."""
    search = np.asarray(search, dtype=np.float64)
    return np.where(search.sum(axis=0) > 0, search, 1.0)


def job_finding(x: np.ndarray | float) -> np.ndarray:
    """Urn-ball job-finding per unit of search at ``x`` applications per vacancy: ``(1 - exp(-x)) / x``."""
    x = np.asarray(x, dtype=np.float64)
    return -np.expm1(-x) / x


def displacement_share(x: np.ndarray | float) -> np.ndarray:
    """Share of a small rise in one seeker's job entries that comes out of other seekers' at tightness ``x``.

    That is the elasticity of job-finding with respect to vacancies per unit of search,
    ``1 - x exp(-x) / (1 - exp(-x))``: near 0 in a very tight market, towards 1 in a very slack one.
    """
    x = np.asarray(x, dtype=np.float64)
    return 1 - x * np.exp(-x) / -np.expm1(-x)


class LabourMarket:
    """The labour market of one run: this month's job-finding factors, and its history for the outputs.

    Args:
        params: The run's parameters (``labour_market.*``).
        economy: The run's economy month by month.
        scale: The population's scale (vacancies are reported at it).

    Attributes:
        economy: The run's economy month by month (:class:`~gmsim.economy.EconomyPath`).
        tightness: Applications per vacancy in the reference market (x0).
        commuting: Residents' search by borough of residence and of workplace (:func:`commuting`).
        reference: Month 0's search by borough of residence (whole units), or None before month 0 is seen.
        search: Search by borough at the end of each month (whole units of 2^-32 of a hazard).
        factors: The job-finding factor of each month by borough of residence (a month's is set at the end of
            the month before).
        applications: Applications per vacancy in each month by workplace borough.
        capacity: Employers' vacancies in each month by workplace borough relative to the economy's demand:
            1 at the reference, following the market's search with a half-life of ``vacancy_half_life``.
        vacancy_response: The share of the gap between search and capacity closed in a month,
            ``1 - 2^(-1 / vacancy_half_life)``.
        kept_open: The share of a month's unfilled vacancies still open the next month,
            ``1 - labour_market.vacancy_withdrawal``.
        stock: Vacancies open in each month by workplace borough relative to those the month's demand and
            capacity open (1 when none are kept open: every month's vacancies set afresh).
        unfilled: The share of each month's vacancies by workplace borough left unfilled by its matching.
        by_sector: Whether sectors fare differently in this economy (:attr:`EconomyPath.by_sector
            <gmsim.economy.EconomyPath.by_sector>`).
        attachment: Share of a job seeker's search aimed at the sector of their last job
            (``labour_market.sector_attachment``; :meth:`by_last_sector`).
        employed: People with an employer at the end of each month by sector (counted only if ``by_sector``).
        search_by_sector: Search at the end of each month by borough of residence and last job's sector
            (column 0: no last job; column ``s + 1``: sector ``s``), whole units.
        sector_factors: The job-finding factor of each month by borough of residence and last job's sector:
            in a month sectors hire unalike, from the markets of each workplace and sector
            (:meth:`_set_sector_factors`); else the borough's, :attr:`factors`, in every column.
        rejoin: The chance in each month that a hire whose last job was in sector ``s`` joins a firm of it.
    """

    def __init__(self, params: ParameterSet, economy: EconomyPath, scale: float) -> None:
        months = len(economy.demand) - 1
        n = len(codes.BOROUGHS)
        self.economy = economy
        self.tightness = params.value("labour_market.tightness")
        self.commuting = commuting()
        self.reference: np.ndarray | None = None
        self.search = np.zeros((months + 1, n), dtype=np.int64)
        self.factors = np.ones((months + 1, n))
        self.applications = np.full((months + 1, n), self.tightness)
        self.capacity = np.ones((months + 1, n))
        self.by_sector = economy.by_sector
        self.employed = np.zeros((months + 1, len(codes.SECTORS)), dtype=np.int64)
        half_life = params.value("labour_market.vacancy_half_life")
        self.vacancy_response = closed_a_month(half_life)
        self.kept_open = 1.0 - params.value("labour_market.vacancy_withdrawal")
        # New vacancies a month, relative to the reference stock: what keeps the reference market's stock at 1.
        self._new_share = 1.0 - self.kept_open * float(np.exp(-self.tightness))
        self.stock = np.ones((months + 1, n))
        self.unfilled = np.full((months + 1, n), float(np.exp(-self.tightness)))
        self.attachment = params.value("labour_market.sector_attachment")
        sectors = len(codes.SECTORS)
        self.search_by_sector = np.zeros((months + 1, n, sectors + 1), dtype=np.int64)
        self.sector_factors = np.ones((months + 1, n, sectors + 1))
        self.rejoin = np.full((months + 1, sectors), self.attachment)
        self._sector_mix = workplace_sector_mix()
        self._reference_search_by_sector: np.ndarray | None = None  # month 0's, by borough and last sector
        self._reference_applications: np.ndarray | None = None  # by workplace and sector, from month 0's search
        self._reference_vacancies = params.value("labour_market.reference_vacancies") * scale * jobs_share()
        self._reference_finding = self.commuting @ np.full(n, float(job_finding(self.tightness)))

    def observe(self, search: np.ndarray, month: int) -> None:
        """Take the search at the end of ``month``; next month's job-finding factors follow from it.

        ``search`` is by borough and last job's sector (:data:`~gmsim.dynamics.labour.SEARCH_SHAPE`), or by
        borough only (then counted as search with no last job).
        """
        if month >= len(self.search):
            self._extend(2 * month)
        search = np.asarray(search, dtype=np.int64)
        if search.ndim == 1:
            search = np.column_stack([search, np.zeros((len(search), len(codes.SECTORS)), dtype=np.int64)])
        self.search_by_sector[month] = search
        self.search[month] = search.sum(axis=1)
        if self.reference is None:
            self.reference = self.search[month].copy()
            self._reference_search_by_sector = search.copy()
            self._reference_applications = self._sector_applications(search, self._sector_mix)
        if month + 1 < len(self.factors):  # else worked out if the run goes on (month())
            self._set_factors(month + 1)

    def observe_employed(self, employed: np.ndarray, month: int) -> None:
        """Take the people with an employer at the end of ``month`` by sector (in an economy with sectors)."""
        if month >= len(self.employed):
            self._extend(2 * month)
        self.employed[month] = employed

    def _set_factors(self, month: int) -> None:
        """The job-finding factors of ``month`` from the search at the end of the month before."""
        by_market = self.search[month - 1].astype(np.float64) @ self.commuting
        reference = self.reference.astype(np.float64) @ self.commuting
        relative = np.divide(by_market, reference, out=np.ones_like(by_market), where=reference > 0)
        capacity = adjusted(self.capacity[month - 1], np.maximum(relative, 1e-9), self.vacancy_response)
        self.capacity[month] = capacity
        demand = self.economy.demand[month]
        # The vacancies still open from last month, relative to those this month's demand and capacity open.
        carried = self.kept_open * self.unfilled[month - 1] * self.open_in(month - 1) / (demand * capacity)
        stock = self._new_share + carried
        self.stock[month] = stock
        x = np.maximum(self.tightness * (relative / capacity) / demand / stock, 1e-9)
        self.applications[month] = x
        self.factors[month] = (self.commuting @ job_finding(x)) / self._reference_finding
        self.unfilled[month] = np.exp(-x)
        if self.by_sector and np.any(self._hiring_in(month) != 1):
            self._set_sector_factors(month)
        else:
            self.sector_factors[month] = self.factors[month][:, None]
            self.rejoin[month] = self.attachment

    def open_in(self, month: int | slice) -> np.ndarray:
        """Vacancies open in ``month`` (or each month of a slice) by workplace borough, relative to the reference.

        Demand times capacity times the stock (:attr:`stock`: 1 when no vacancies are kept open).
        """
        return self.economy.demand[month, None] * self.capacity[month] * self.stock[month]

    def _hiring_in(self, month: int) -> np.ndarray:
        """Each sector's share of hires over its share of employment in ``month`` (the economy's last, past it)."""
        return self.economy.hiring[min(month, len(self.economy.hiring) - 1)]

    def _sector_applications(self, search: np.ndarray, mix: np.ndarray) -> np.ndarray:
        """Applications to each workplace's sectors (workplace, sector) from search by borough and last sector.

        A job seeker aims the share :attr:`attachment` of their search at the sector of their last job and the
        rest, like one with no last job, at the sectors' vacancies (``mix``: each workplace's vacancies by
        sector); a borough's residents aim at the workplaces as they travel to work.
        """
        search = np.asarray(search, dtype=np.float64)
        a = self.attachment
        attached = a * search[:, 1:]
        broad = search[:, 0] + (1 - a) * search[:, 1:].sum(axis=1)
        return self.commuting.T @ attached + (self.commuting.T @ broad)[:, None] * mix

    def _sector_finding(
        self, search: np.ndarray, mix: np.ndarray, vacancies: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Job-finding by borough of a unit of search aimed at each sector, and of one aimed at the vacancies.

        ``search`` by borough and last sector, ``mix`` each workplace's vacancies by sector and ``vacancies``
        each workplace and sector's relative to the reference: each workplace and sector an urn-ball market
        with :meth:`_sector_applications` over the reference's. Returns (borough, sector), (borough,), and
        the share of each workplace's vacancies left unfilled (workplace,).
        """
        applications = self._sector_applications(search, mix)
        reference = self._reference_applications
        relative = np.divide(applications, reference, out=np.ones_like(applications), where=reference > 0)
        x = np.maximum(self.tightness * relative / np.maximum(vacancies, 1e-12), 1e-9)
        finding = job_finding(x)
        unfilled = (mix * np.exp(-x)).sum(axis=1)
        return self.commuting @ finding, self.commuting @ (mix * finding).sum(axis=1), unfilled

    def _rejoining(self, month: int, mix: np.ndarray, vacancies: np.ndarray) -> np.ndarray:
        """The chance that a hire from each sector rejoins it: the part of its job-finding from its own markets.

        Worked out at the reference search and capacity, with ``month``'s demand and each workplace's
        ``mix`` of vacancies by sector (``vacancies``: relative to the reference), so that it is the same in
        every run of the economy (shared runs draw hires alike), and ``a`` in the reference market.
        """
        search = self._reference_search_by_sector
        own, broad, _ = self._sector_finding(search, mix, self.economy.demand[month] * vacancies)
        a = self.attachment
        own = a * own
        found = own + (1 - a) * broad[:, None]
        weight = _by_seekers(search[:, 1:])
        return (weight * own).sum(axis=0) / (weight * found).sum(axis=0)

    def _set_sector_factors(self, month: int) -> None:
        """Job-finding of ``month`` from a market of each workplace and sector (in a month sectors hire unalike).

        Each workplace's vacancies (its borough market's, as :meth:`_set_factors` works them out, with those
        still open from the month before) are shared among its sectors by their jobs there (Census 2021,
        :func:`~gmsim.geography.workplace_sector_mix`) times their relative hiring this month; each
        workplace and sector is an urn-ball market of its own, at its reference when its applications and
        vacancies are. A job seeker's factor is the job-finding of their search where it is aimed
        (:meth:`_sector_applications`), over the reference market's. So job seekers from a sector that has
        stopped hiring crowd its few vacancies, and find work less easily than its vacancies alone would say
        (mismatch).
        """
        hiring = self._hiring_in(month)
        tilted = self._sector_mix * hiring[None, :]
        level = tilted.sum(axis=1, keepdims=True)
        mix = tilted / level
        search = self.search_by_sector[month - 1]
        opened = self.economy.demand[month] * self.capacity[month][:, None] * hiring[None, :] / level
        own, broad, self.unfilled[month] = self._sector_finding(search, mix, opened * self.stock[month][:, None])
        a = self.attachment
        factors = np.empty_like(self.sector_factors[month])
        factors[:, 0] = broad
        factors[:, 1:] = a * own + (1 - a) * broad[:, None]
        self.rejoin[month] = self._rejoining(month, mix, hiring / level)
        factors /= self._reference_finding[:, None]
        self.sector_factors[month] = factors
        seekers = search.astype(np.float64)
        total = seekers.sum(axis=1)
        mean = np.divide((seekers * factors).sum(axis=1), total, out=factors[:, 0].copy(), where=total > 0)
        self.factors[month] = mean  # the borough's job seekers' mean factor

    def _extend(self, months: int) -> None:
        """Room for ``months`` months (a run going past its planned months: the economy's last month holds)."""
        extra = months + 1 - len(self.factors)
        self.economy = self.economy.extended(months)
        grow = lambda a, fill: np.concatenate([a, np.full((extra, *a.shape[1:]), fill, dtype=a.dtype)])  # noqa: E731
        self.search = grow(self.search, 0)
        self.factors = grow(self.factors, 1.0)
        self.applications = grow(self.applications, self.tightness)
        self.capacity = grow(self.capacity, 1.0)
        self.stock = grow(self.stock, 1.0)
        self.unfilled = grow(self.unfilled, float(np.exp(-self.tightness)))
        self.employed = grow(self.employed, 0)
        self.rejoin = grow(self.rejoin, self.attachment)
        self.search_by_sector = grow(self.search_by_sector, 0)
        self.sector_factors = grow(self.sector_factors, 1.0)

    @property
    def vacancies_by_sector(self) -> np.ndarray:
        """Vacancies open in each month by sector (GM), in the population's people.

        GM's vacancies shared among sectors by their share of employment times their relative hiring.
        """
        shares = sector_shares()[None, :] * self.economy.hiring
        return self.vacancies.sum(axis=1)[:, None] * shares / shares.sum(axis=1, keepdims=True)

    def furloughed(self, employed: np.ndarray) -> np.ndarray:
        """People on furlough at the end of each month ``0 .. len(employed) - 1``, in the population's people.

        ``employed``: GM's people with an employer in those months. Each sector's furloughed share of its
        own people where they are counted by sector, else GM's share of ``employed``.
        """
        n = len(employed)
        if self.by_sector:
            return (self.economy.furloughed_by_sector[:n] * self.employed[:n]).sum(axis=1)
        return self.economy.furloughed[:n] * employed

    @property
    def vacancies(self) -> np.ndarray:
        """Vacancies open in each month by workplace borough, in the population's people.

        The reference's times :meth:`open_in`; months not yet reached are at capacity and stock 1.
        """
        return self.open_in(slice(None)) * self._reference_vacancies[None, :]

    def by_last_sector(self, month: int) -> np.ndarray:
        """GM's job seekers' job-finding in ``month`` by the sector of their last job, relative to those with none.

        Column 0 is a job seeker with no last job (1), column ``s + 1`` one whose last job was in sector
        ``s``: the mean factor of the job seekers of each (:attr:`sector_factors`, weighted by their search)
        over that of those with none. 1 for everyone while sectors hire alike.
        """
        out = np.ones(len(codes.SECTORS) + 1)
        if not self.by_sector or month < 1 or month >= len(self.sector_factors):
            return out
        if np.all(self.sector_factors[month] == self.sector_factors[month][:, :1]):
            return out  # the sectors' markets pooled this month
        weight = _by_seekers(self.search_by_sector[month - 1])
        mean = (weight * self.sector_factors[month]).sum(axis=0) / weight.sum(axis=0)
        return mean / mean[0]

    def rejoining(self, month: int) -> np.ndarray:
        """The chance that a hire whose last job was in sector ``s`` joins a firm of that sector in ``month``.

        Of the job-finding of GM's job seekers from sector ``s`` (:meth:`_rejoining`), the part that comes from
        the search they aim at their own sector. ``a`` (:attr:`attachment`) while sectors hire alike; less for
        a sector hiring less than its share (its own markets crowded), so that hires follow vacancies.
        """
        return self.rejoin[min(month, len(self.rejoin) - 1)]

    def phi(self, month: int) -> np.ndarray:
        """The job-finding factors of ``month`` by borough and last job's sector.

        As :attr:`Market.phi <gmsim.dynamics.labour.Market.phi>` holds them (:attr:`sector_factors`).
        """
        return self.sector_factors[month]

    def month(self, month: int) -> Market:
        """The market as the labour kernel reads it in ``month`` (this run's factors; see :class:`Market`)."""
        if month >= len(self.factors):  # a run past its planned months
            self._extend(2 * month)
            self._set_factors(month)
        return self.for_kernel(month)

    def hiring(self, month: int, employers: Employers) -> Employers:
        """``employers`` as hires and movers are drawn from them in ``month``, with sectors' shares of vacancies.

        While sectors' shares of vacancies are their shares of employment (a steady month, or sectors alike),
        ``employers`` itself (:func:`~gmsim.agents.employers.hiring_tables`).
        """
        relative = self._hiring_in(month)
        if np.all(relative == 1):
            return employers
        return employers._replace(cumulative=_hiring_cumulative(employers, relative))

    def for_kernel(self, month: int, phi_top: float | None = None) -> Market:
        """:class:`Market` of ``month`` with ``phi_top`` at least every factor of the runs whose people it steps.

        ``phi_top`` None: this run's own largest factor.
        """
        factors = self.economy.factors[month]
        labour = factors[:, : codes.N_LABOUR]
        top = max(1.0, float(labour.max())) * (1 + 1e-9)
        phi = self.phi(month)
        phi_top = float(phi.max()) if phi_top is None else phi_top
        return Market(phi, phi_top * (1 + 1e-9), factors, top, self.rejoining(month))

    def summary(self, months: int) -> dict:
        """The market over months 1 .. ``months``: demand, vacancies, applications and factors (for outputs)."""
        m = slice(1, months + 1)
        return {
            "demand": self.economy.demand[m].tolist(),
            "vacancies": self.vacancies[m].sum(axis=1).tolist(),
            "furloughed_share": self.economy.furloughed[m].tolist(),
            "applications_per_vacancy": self.applications[m].mean(axis=1).tolist(),
            "job_finding_factor": self.factors[m].mean(axis=1).tolist(),
        }
