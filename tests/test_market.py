"""The labour market: matching, displacement, the economy's shapes, and what they do to a run."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gmsim import codes
from gmsim.economy import Economy
from gmsim.market import LabourMarket, commuting, displacement_share, job_finding, jobs_share
from gmsim.model import GMModel, run
from gmsim.output import unemployed_not_for_health
from gmsim.parameters import ParameterSet
from gmsim.results import F_JOB_TO_JOB
from gmsim.scenario import Scenario, ScenarioError, load_scenario

SC = Path(__file__).resolve().parents[1] / "scenarios"


def test_urn_ball_job_finding_falls_with_applications_and_displacement_rises():
    x = np.linspace(0.2, 4, 40)
    p, d = job_finding(x), displacement_share(x)
    assert np.all(np.diff(p) < 0) and np.all(np.diff(d) > 0)
    assert np.all((d > 0) & (d < 1))
    # The elasticity of job finding with respect to tightness is the displacement share (checked numerically).
    h = 1e-6
    elasticity = -(np.log(job_finding(x * (1 + h))) - np.log(job_finding(x))) / np.log(1 + h)
    assert np.allclose(elasticity, d, atol=1e-5)
    # At the reference tightness, the share is the matching literature's vacancy elasticity (0.3-0.5).
    x0 = ParameterSet().value("labour_market.tightness")
    assert 0.38 < displacement_share(x0) < 0.42


def test_commuting_rows_are_shares_and_most_search_stays_in_the_home_borough():
    c = commuting()
    assert c.shape == (len(codes.BOROUGHS), len(codes.BOROUGHS))
    assert np.allclose(c.sum(axis=1), 1)
    assert np.all(np.diag(c) > 0.6)  # Census 2021: 67-77% work in their own borough (home workers included)
    share = jobs_share()
    assert share.argmax() == codes.BOROUGHS.index("Manchester") and np.isclose(share.sum(), 1)


def test_the_economy_shapes_fall_to_their_trough_and_recover():
    path = Economy(shape="recession").path(120, 1.5, 1e9, sector_concentration=0.0)  # every sector as GM
    e = Economy(shape="recession").resolved()
    trough = e.start_month + e.months_to_trough - 1
    assert np.all(path.demand[: e.start_month] == 1)
    assert path.demand.argmin() == trough and np.isclose(path.demand.min(), 1 - e.depth)
    assert np.all(path.demand[trough : trough + e.months_at_trough + 1] == path.demand.min())
    assert np.isclose(path.demand[trough + e.months_at_trough + e.recovery_months], 1)
    t = codes.T
    # Staffing that never adjusts: job loss follows the level of demand.
    assert np.isclose(path.factors[trough, 0, t["in_work_to_out_of_work"]], (1 - e.depth) ** -1.5)
    # Staffing that adjusts: a burst of job loss while demand falls, over once employers have shed staff.
    burst = Economy(shape="recession").path(120, 2.5, 6, 0.0).factors[:, 0, t["in_work_to_out_of_work"]]
    assert burst.argmax() == trough and 1.8 < burst.max() < 2.2
    assert burst[trough + 24] < 1.05 and np.all(burst >= 1)
    assert np.all(path.factors[:, :, t["out_of_work_to_in_work"]] == 1)  # entry moves through the matching
    assert path.furloughed.max() == 0
    pandemic = Economy(shape="pandemic").path(60, 1.5, 1e9, 0.0)
    scheme = Economy(shape="pandemic").resolved().job_retention
    low = pandemic.demand.argmin()
    # Furlough keeps most of the extra job loss on payroll while the scheme runs.
    assert pandemic.factors[low, 0, t["in_work_to_out_of_work"]] - 1 < 0.2 * (pandemic.demand[low] ** -1.5 - 1)
    assert pandemic.furloughed[low] == pytest.approx(scheme.furloughed_per_demand_fall * (1 - pandemic.demand[low]))
    assert Economy().path(12, 1.5, 6).steady


@pytest.mark.parametrize(
    ("economy", "key", "words"),
    [
        ({"shape": "boom"}, "economy.shape", "'steady', 'recession', 'pandemic' or 'custom'"),
        ({"shape": "recession", "dpth": 0.3}, "economy.dpth", "did you mean 'depth'"),
        ({"shape": "recession", "depth": 1.2}, "economy.depth", "less than or equal to 0.95"),
        ({"shape": "custom"}, "economy", "'levels' is given with shape 'custom'"),
        ({"shape": "custom", "levels": [1.0, -0.5]}, "economy", "must all be positive"),
        ({"shape": "pandemic", "job_retention": {"cover": 1}}, "economy.job_retention.cover", "'coverage'"),
        ({"shape": "recession", "sector_exposure": {"mining": 2.0}}, "economy", "unknown sector 'mining'"),
        ({"shape": "recession", "sector_exposure": {"construction": -1.0}}, "economy", "from 0 to 10"),
    ],
)
def test_a_bad_economy_names_the_file_the_key_and_what_was_expected(tmp_path, economy, key, words):
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "economy": economy}))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems[0][0] == key
    assert words in str(info.value) and str(path) in str(info.value)


def test_the_steady_market_starts_at_its_reference_and_stays_near_it():
    m = GMModel(scale=0.02, months=24)
    m.run(progress=False)
    assert np.all(m.market.factors[1] == 1.0)  # month 0's search is the reference
    assert np.all(np.abs(m.market.factors - 1) < 0.05)
    assert np.allclose(m.market.vacancies[1].sum(), 34000 * 0.02)


def test_vacancies_follow_a_lasting_rise_in_search_closing_half_the_gap_in_the_half_life():
    params = ParameterSet({"labour_market.vacancy_half_life": 24})
    market = LabourMarket(params, Economy().path(120, 1.5, 6), scale=1.0)
    search = np.full(len(codes.BOROUGHS), 10**12, dtype=np.int64)
    market.observe(search, 0)
    for month in range(1, 120):  # one borough's residents search 30% harder from month 1 on
        market.observe(search * np.where(np.arange(len(search)) == 2, 13, 10) // 10, month)
    target = (search * np.where(np.arange(len(search)) == 2, 1.3, 1.0)) @ market.commuting / (search @ market.commuting)
    gap = np.log(target) - np.log(market.capacity)
    assert np.all(market.capacity[1] == 1) and np.all(market.factors[1] == 1)
    assert np.allclose(gap[25], 0.5 * gap[1]) and np.allclose(gap[49], 0.25 * gap[1])
    # At first the harder searchers' borough finds work less easily per unit of search; as employers open
    # vacancies its factor returns towards 1 (the economy's demand sets applications per vacancy).
    assert market.factors[2, 2] < 0.96 and abs(market.factors[119, 2] - 1) < 0.01
    fixed = LabourMarket(ParameterSet({"labour_market.vacancy_half_life": 1e9}), Economy().path(12, 1.5, 6), 1.0)
    fixed.observe(search, 0)
    fixed.observe(search * 2, 1)
    assert np.allclose(fixed.capacity[2], 1) and np.allclose(fixed.vacancies[2], fixed.vacancies[1])


def test_vacancies_kept_open_carry_into_the_next_month_and_a_burst_of_search_leaves_fewer():
    withdrawal = 0.5
    kept = 1 - withdrawal
    fixed = {"labour_market.vacancy_half_life": 1e9}  # employers' capacity held, to see the stock alone
    market = LabourMarket(
        ParameterSet({**fixed, "labour_market.vacancy_withdrawal": withdrawal}), Economy().path(24, 1.5, 6), 1.0
    )
    flow = LabourMarket(ParameterSet(fixed), Economy().path(24, 1.5, 6), 1.0)
    search = np.full(len(codes.BOROUGHS), 10**12, dtype=np.int64)
    burst = search * np.where(np.arange(len(search)) == 2, 15, 10) // 10  # one borough searches 50% harder
    for m in (market, flow):
        for month in range(24):
            m.observe(burst if month == 3 else search, month)
    # With the reference search the stock stays at the reference: what the month opens replaces what it fills.
    assert np.allclose(market.stock[1:4], 1, atol=1e-12) and np.allclose(market.factors[1:4], 1, atol=1e-12)
    # Each month's vacancies are the month's new ones and those the month before left unfilled and kept open.
    x0 = market.tightness
    opened = (1 - kept * np.exp(-x0)) * market.economy.demand[:, None] * market.capacity
    carried = kept * np.exp(-market.applications[:-1]) * market.vacancies[:-1] / market._reference_vacancies
    assert np.allclose(market.vacancies[1:] / market._reference_vacancies, opened[1:] + carried)
    # The burst (search of month 3, answered in month 4) fills more vacancies, so month 5 has fewer open
    # and its job seekers find work less easily than with vacancies set afresh each month (1 withdraws all).
    assert np.all(flow.stock == 1) and np.allclose(flow.vacancies[5], flow.vacancies[3], rtol=1e-6)
    assert np.all(market.vacancies[5] < market.vacancies[3]) and market.stock[5, 2] < 0.97  # most where it searched
    assert np.all(market.factors[5] < flow.factors[5] - 1e-4) and np.allclose(flow.factors[5], 1, atol=1e-6)
    # ... and the stock returns to the reference as the months refill it.
    assert np.allclose(market.stock[23], 1, atol=1e-6)


def _disp(levels, seed, months=36, half_life=None, parameters=None):
    """Participants' extra job entries and others' lost entries by month (work and health, strongly funded)."""
    d = load_scenario(SC / "work_and_health.yaml").with_overrides(scale=0.1, months=months, seed=seed).to_dict()
    d["economy"] = {"shape": "steady"} if levels is None else {"shape": "custom", "levels": [levels]}
    # A strong effect on job entry, so that the competition for vacancies shows at this small scale.
    d["strands"]["work_and_health"].update(
        budget_gbp_per_year=20_000_000, parameters={"effects.out_of_work_to_in_work": 3.0}
    )
    if half_life is not None:
        d["parameters"] = {**d.get("parameters", {}), "labour_market.vacancy_half_life": half_life}
    d["parameters"] = {**d.get("parameters", {}), **(parameters or {})}
    m = run(Scenario.from_dict(d))
    gained, others = m.entries_gained.sum(axis=2).T
    return gained, -others


def test_displacement_is_positive_smaller_than_the_gross_gain_and_larger_in_a_slack_market():
    # Measured on 2 seeds at scale 0.1 (common random numbers: the differences are the switching people
    # only): displaced/gained was 0.10-0.16 steady, 0.33-0.42 slack (demand 0.6), 0.07-0.08 tight (1.6).
    for seed in (1, 2):
        shares = {}
        for name, level in (("slack", 0.6), ("steady", None), ("tight", 1.6)):
            gained, displaced = (a.sum() for a in _disp(level, seed))
            assert 0 < displaced < gained, (name, seed, gained, displaced)
            shares[name] = displaced / gained
        assert shares["slack"] > shares["steady"] > shares["tight"], shares


def test_displacement_fades_as_employers_open_vacancies_for_the_extra_job_seekers():
    # Measured at seed 1 (scale 0.1, 120 months): displaced/gained 0.10 in years 1-3 and -0.02 after with
    # the 36-month half-life; 0.18 and 0.14 with vacancies fixed. Common random numbers: the differences
    # are the switching people only, so one seed is a fair test of the direction.
    share = {}
    for half_life in (36, 1e9):
        gained, displaced = _disp(None, 1, months=120, half_life=half_life)
        share[half_life] = [displaced[a:b].sum() / gained[a:b].sum() for a, b in ((1, 37), (37, 121))]
    assert share[36][1] < 0.5 * share[36][0], share
    assert share[1e9][1] > share[36][1] + 0.05 and share[1e9][0] > share[36][0], share


def test_vacancies_kept_open_make_more_of_a_strands_gain_come_out_of_other_job_seekers():
    # Measured at scale 0.1, 36 months, steady economy, seeds 1 and 2 (common random numbers: the differences
    # are the switching people only): displaced/gained 0.168 and 0.181 with every unfilled vacancy
    # withdrawn, 0.187 and 0.286 with half kept open, 0.293 and 0.382 with 70% kept open (the range's end).
    share = {}
    for withdrawal in (1.0, 0.3):
        gained = displaced = 0
        for seed in (1, 2):
            g, d = _disp(None, seed, parameters={"labour_market.vacancy_withdrawal": withdrawal})
            assert 0 < d.sum() < g.sum(), (withdrawal, seed, g.sum(), d.sum())
            gained, displaced = gained + g.sum(), displaced + d.sum()
        share[withdrawal] = displaced / gained
    assert share[0.3] > share[1.0] + 0.08, share


def _stocks(name: str, months: int) -> tuple[GMModel, pd.DataFrame]:
    """A scenario run at scale 0.02, and its headline stocks by month."""
    model = GMModel(load_scenario(SC / f"{name}.yaml").with_overrides(scale=0.02, months=months))
    model.run(progress=False)
    return model, model.datacollector.get_model_vars_dataframe()


def test_a_recession_raises_unemployment_not_due_to_health_and_it_recovers():
    (bm, b), (rm, r) = _stocks("baseline", 120), _stocks("recession", 120)
    rise = unemployed_not_for_health(rm) / unemployed_not_for_health(bm) - 1
    # The UK's 2008-14 history (checks.yaml, recession; docs/model.md 7.8): unemployment up 61% 40 months on,
    # 38% and 27% at 67 and 72 months; at full scale the model gives 0.60, 0.36 and 0.28. At scale 0.02 a
    # month's rise varies by about 0.05 (its standard deviation between seeds), hence the tolerance.
    start = rm.scenario.economy.resolved().start_month - 1
    assert np.all(rise[: start + 1] == 0)
    assert 0.4 < rise[start + 40] < 0.8
    assert 0.1 < rise[start + 72] < rise[start + 40]
    assert rise[120] < 0.15
    drop = (b.employment_rate - r.employment_rate).max()
    assert 0.02 < drop < 0.05
    inactive = (r.inactive_other - b.inactive_other) / b.inactive_other
    assert inactive.abs().max() < 0.06
    # Job-to-job moves follow demand (UK: 35% fewer in 2008-09, uk_job_to_job_moves). About 2,000 moves at the
    # trough and 2,500 in the first year: the ratio's standard error is about 0.02, the tolerance 4 of them.
    trough = slice(start + 16, start + 52)
    moved = lambda m, months: m.results.flows[months, F_JOB_TO_JOB].sum() / m.results.stock[months, :, :2].sum()  # noqa: E731
    ratio = moved(rm, trough) / moved(bm, trough)
    assert ratio == pytest.approx(rm.market.economy.demand[trough].mean(), abs=0.08)
    assert 0.55 < ratio < 0.7


def test_in_a_pandemic_furlough_and_inactivity_carry_most_of_the_shock():
    (_, b), (pan, p) = _stocks("baseline", 48), _stocks("pandemic", 48)
    jobs_lost = (b.in_work - p.in_work).max()
    furloughed = (pan.market.economy.furloughed * p.in_work.to_numpy()).max()
    assert furloughed > 5 * jobs_lost  # most of the shock is held on payroll
    more_inactive = (p.inactive_other - b.inactive_other).max()
    more_looking = (p.looking_for_work - b.looking_for_work).max()
    assert more_inactive > more_looking > 0
