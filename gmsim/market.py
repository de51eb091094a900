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
"""

from __future__ import annotations

import numpy as np

from . import codes
from .agents.employers import Employers, hiring_tables, sector_shares
from .dynamics.labour import Market
from .economy import EconomyPath, adjusted, closed_a_month
from .geography import commuting, jobs_share
from .parameters import ParameterSet

#: The last few months' hiring tables, by employers' weights, sectors and workplaces and sectors' hiring
#: (shared runs' models all read the same): ``(weight, sector, borough, relative hiring bytes, tables)``;
#: holding the arrays keeps their identities from being reused by others. Employers' arrays are not
#: changed in place (they are fixed for a run).
_HIRING: list[tuple[np.ndarray, np.ndarray, np.ndarray, bytes, np.ndarray]] = []


def _hiring_cumulative(employers: Employers, relative: np.ndarray) -> np.ndarray:
    """Each borough's hiring table with each employer's sector's ``relative`` hiring (:func:`hiring_tables`)."""
    key = relative.tobytes()
    for w, s, b, k, cumulative in _HIRING:
        if w is employers.weight and s is employers.sector and b is employers.borough and k == key:
            return cumulative
    cumulative = hiring_tables(employers.weight, employers.sector, employers.borough, relative)
    _HIRING.append((employers.weight, employers.sector, employers.borough, key, cumulative))
    del _HIRING[:-4]
    return cumulative


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
        by_sector: Whether sectors fare differently in this economy (:attr:`EconomyPath.by_sector
            <gmsim.economy.EconomyPath.by_sector>`).
        attachment: Share of a job seeker's search aimed at the sector of their last job
            (``labour_market.sector_attachment``; :meth:`by_last_sector`).
        employed: People with an employer at the end of each month by sector (counted only if ``by_sector``).
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
        self.attachment = params.value("labour_market.sector_attachment")
        self._employment_shares = sector_shares()
        self._reference_vacancies = params.value("labour_market.reference_vacancies") * scale * jobs_share()
        self._reference_finding = self.commuting @ np.full(n, float(job_finding(self.tightness)))

    def observe(self, search: np.ndarray, month: int) -> None:
        """Take the search at the end of ``month``; next month's job-finding factors follow from it."""
        if month >= len(self.search):
            self._extend(2 * month)
        self.search[month] = search
        if self.reference is None:
            self.reference = search.copy()
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
        x = np.maximum(self.tightness * (relative / capacity) / self.economy.demand[month], 1e-9)
        self.applications[month] = x
        self.factors[month] = (self.commuting @ job_finding(x)) / self._reference_finding

    def _extend(self, months: int) -> None:
        """Room for ``months`` months (a run going past its planned months: the economy's last month holds)."""
        extra = months + 1 - len(self.factors)
        self.economy = self.economy.extended(months)
        grow = lambda a, fill: np.concatenate([a, np.full((extra, a.shape[1]), fill, dtype=a.dtype)])  # noqa: E731
        self.search = grow(self.search, 0)
        self.factors = grow(self.factors, 1.0)
        self.applications = grow(self.applications, self.tightness)
        self.capacity = grow(self.capacity, 1.0)
        self.employed = grow(self.employed, 0)

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

        Reference x demand x capacity; months not yet reached are at capacity 1.
        """
        return self.economy.demand[:, None] * self.capacity * self._reference_vacancies[None, :]

    def vacancies_over_employment(self, month: int) -> np.ndarray:
        """Each sector's share of GM's vacancies in ``month`` over its share of employment, ``r_s``.

        All 1 while sectors hire alike; employment-weighted mean 1.
        """
        relative = self.economy.hiring[min(month, len(self.economy.hiring) - 1)]
        if np.all(relative == 1):
            return np.ones(len(codes.SECTORS))
        return relative / (self._employment_shares @ relative)

    def by_last_sector(self, month: int) -> np.ndarray:
        """A job seeker's job-finding in ``month`` by the sector of their last job, relative to one with none.

        Column 0 is a job seeker with no last job (1), column ``s + 1`` one whose last job was in sector
        ``s``: ``1 - a + a r_s``, with ``a`` the share of their search aimed at that sector
        (:attr:`attachment`) and ``r_s`` the sector's share of vacancies over its share of employment
        (:meth:`vacancies_over_employment`). 1 for everyone while sectors hire alike.
        """
        r = self.vacancies_over_employment(month)
        factors = np.ones(len(codes.SECTORS) + 1)
        if np.any(r != 1):
            factors[1:] = 1 - self.attachment + self.attachment * r
        return factors

    def rejoining(self, month: int) -> np.ndarray:
        """The chance that a hire whose last job was in sector ``s`` joins a firm of that sector in ``month``.

        ``a r_s / (1 - a + a r_s)``: of a job seeker's job-finding ``1 - a + a r_s`` (:meth:`by_last_sector`),
        the part that comes from their own sector's vacancies. ``a`` while sectors hire alike; less for a
        sector hiring less than its share, so that its hires follow its vacancies.
        """
        r = self.vacancies_over_employment(month)
        return self.attachment * r / self.by_last_sector(month)[1:]

    def phi(self, month: int) -> np.ndarray:
        """The job-finding factors of ``month`` by borough and last job's sector: the borough's times the sector's.

        As :attr:`Market.phi <gmsim.dynamics.labour.Market.phi>` holds them (:meth:`by_last_sector`).
        """
        return self.factors[month][:, None] * self.by_last_sector(month)[None, :]

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
        relative = self.economy.hiring[min(month, len(self.economy.hiring) - 1)]
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
