"""Employers' sectors, and how an economy's shock falls on them (data/sectors.yaml, docs/model.md 7.8)."""

import numpy as np
import pandas as pd
import pytest
from conftest import make_people

from gmsim import codes
from gmsim.agents.employers import public_shares, sector_shares, synthesise_employers
from gmsim.dynamics.employers import employer_step
from gmsim.economy import Economy
from gmsim.geography import residents_by_sector, sector_mix_by_age, young_share_in_work
from gmsim.model import GMModel
from gmsim.output import write_results
from gmsim.streams import Streams

JOB_LOSS = codes.T["in_work_to_out_of_work"]


def test_each_sector_s_employers_hold_its_share_of_employment_and_public_services_are_large():
    e = synthesise_employers(1_290_000, Streams(3))
    held = np.bincount(e.sector, weights=e.weight, minlength=len(codes.SECTORS)) / e.weight.sum()
    # each sector within one small employer's size of its share, at full scale and at a test's
    small = e.size_band <= codes.EMPLOYER_SIZES.index("small")
    assert np.all(np.abs(held - sector_shares()) <= e.weight[small].max() / e.weight.sum())
    tiny = synthesise_employers(1_290_000 * 0.02, Streams(3))
    held = np.bincount(tiny.sector, weights=tiny.weight, minlength=len(codes.SECTORS)) / tiny.weight.sum()
    assert np.all(np.abs(held - sector_shares()) <= tiny.weight[tiny.size_band <= 2].max() / tiny.weight.sum())
    # Public bodies are large employers (data/sectors.yaml public_share), and each sector's other employment
    # is shared among size bands alike: micro firms' employment is shared as everyone's outside the public
    # sector. The large firms (about 670 of 1,000 people) land in a sector's stretch of the line by chance
    # and move its micro firms' share by about 18% of it for the smallest sector; over five seeds, about 8%:
    # within 30%.
    public = public_shares()
    private = sector_shares() * (1 - public)
    large = e.size_band == codes.EMPLOYER_SIZES.index("large")
    large_share = np.bincount(e.sector[large], weights=e.weight[large], minlength=len(codes.SECTORS))
    large_share /= np.bincount(e.sector, weights=e.weight, minlength=len(codes.SECTORS))
    k = codes.SECTORS.index
    assert public[k("public_admin_education")] > 0.5 and public[k("health_social_work")] > 0.3
    # the public part is large, and so is the large firms' share of the rest, as of every private sector
    rest = (large_share - public) / (1 - public)
    assert np.all(np.abs(rest - rest[public == 0].mean()) < 0.03)
    # UK private sector 2017: 40% of employment in large firms (uk_sme_employment_share_2017); here 52% of
    # all employment is in large firms, the public sector's 15% among it, so about 44% of the rest
    assert 0.4 < rest.mean() < 0.48
    micro_shares = []
    for seed in range(5):
        f = synthesise_employers(1_290_000, Streams(seed))
        micro = f.size_band == codes.EMPLOYER_SIZES.index("micro")
        micro_shares.append(np.bincount(f.sector[micro], weights=f.weight[micro], minlength=len(codes.SECTORS)))
    shares = np.sum(micro_shares, axis=0)
    assert np.all(np.abs(shares / shares.sum() / (private / private.sum()) - 1) < 0.3)
    # their own stream: the size bands, sizes and occupational health are those drawn before sectors were
    again = synthesise_employers(1_290_000, Streams(3))
    assert np.array_equal(again.sector, e.sector) and np.array_equal(again.cumulative, e.cumulative)


@pytest.mark.parametrize("shape", ["recession", "pandemic"])
def test_a_shock_s_extra_job_loss_is_shared_among_sectors_by_their_exposure(shape):
    economy = Economy(shape=shape)
    x = economy.exposure()
    assert sector_shares() @ x == pytest.approx(1)  # GM's mean exposure is 1
    alike = economy.path(120, 2.5, 6, sector_concentration=0.0)
    path = economy.path(120, 2.5, 6)
    gm = alike.factors[:, -1, JOB_LOSS]
    assert np.all(alike.factors == alike.factors[:, :1]) and not alike.by_sector
    # each sector's extra job loss is its exposure times GM's, so GM's (at the reference mix) is unchanged
    sectors = path.factors[:, : len(codes.SECTORS), JOB_LOSS]
    assert np.allclose(sectors - 1, (gm[:, None] - 1) * x[None, :])
    assert np.allclose((sectors - 1) @ sector_shares(), gm - 1)
    assert np.array_equal(path.factors[:, -1], alike.factors[:, -1])  # no employer: GM's, exactly
    # moves other than job loss are as GM's in every sector
    others = [t for t in range(codes.N_LABOUR) if t not in (JOB_LOSS, codes.T["at_risk_to_out_of_work"])]
    assert np.array_equal(path.factors[:, :, others], np.broadcast_to(alike.factors[:, :1, others], (121, 10, 8)))
    # hiring: GM's new hires are shared out (mean 1), away from exposed sectors while demand falls and
    # towards them as it recovers; furlough follows the exposure
    assert np.allclose(path.hiring @ sector_shares(), 1)
    most, least = x.argmax(), x.argmin()
    falling = np.diff(path.demand, prepend=1.0) < 0
    assert np.all(path.hiring[falling, most] < 1) and np.all(path.hiring[falling, least] > 1)
    assert path.hiring[:, most].max() > 1
    assert path.by_sector and path.hiring[0].tolist() == [1.0] * len(codes.SECTORS)


def test_a_sector_that_kept_its_staff_on_furlough_brings_them_back_rather_than_hiring():
    furloughed = Economy(shape="pandemic").path(60, 2.5, 6)
    laid_off = Economy(shape="pandemic", job_retention={"coverage": 0.0}).path(60, 2.5, 6)
    k = codes.SECTORS.index("accommodation_food")
    assert laid_off.hiring[:, k].max() > 1.4  # rebuilding its staff by hiring as demand returns
    assert furloughed.hiring[:, k].max() < 1.1
    assert furloughed.hiring[:, k].min() < 0.3  # and neither hires while it is closed


def test_a_steady_economy_and_a_uniform_shock_leave_hiring_to_size_alone():
    steady = Economy().path(24, 2.5, 6)
    assert steady.steady and not steady.by_sector and np.all(steady.hiring == 1)
    uniform = Economy(shape="recession", sector_exposure=dict.fromkeys(codes.SECTORS, 3.0)).path(60, 2.5, 6)
    assert not uniform.by_sector and np.all(uniform.hiring == 1)
    concentrated = Economy(shape="recession").path(60, 2.5, 6, sector_concentration=1.5)
    spread = Economy(shape="recession").exposure(1.5)
    assert np.ptp(spread) > np.ptp(Economy(shape="recession").exposure()) and concentrated.by_sector
    # spread by a power: a sector untouched stays untouched, and none is pushed below 0
    assert np.all(
        spread[[codes.SECTORS.index("public_admin_education"), codes.SECTORS.index("health_social_work")]] == 0
    )
    assert np.all(Economy(shape="recession").exposure(0.0) == 1)


@pytest.fixture(scope="module")
def recession_run():
    m = GMModel("scenarios/recession.yaml", scale=0.05, months=48, rng=1)
    m.run(progress=False)
    return m


def test_a_recession_shrinks_the_exposed_sectors_and_not_the_sheltered(recession_run):
    """UK 2008-10 (uk_jobs_by_industry_2008_2010): manufacturing -12%, construction -11%, wholesale and
    retail -7%, all jobs -3%, the public sector grew. Month 34 is Q1 2010 (the shock starts in month 13).
    Tolerance: a sector of about 3,500 people at this scale moves by 2-3 points between seeds.
    """
    employed = recession_run.market.employed
    change = employed[34] / employed[0] - 1
    s = {name: change[k] for k, name in enumerate(codes.SECTORS)}
    assert -0.22 < s["production"] < -0.08 and -0.18 < s["construction"] < -0.07
    assert -0.13 < s["wholesale_retail"] < -0.03
    assert s["public_admin_education"] > 0 and s["health_social_work"] > -0.01
    total = employed[34].sum() / employed[0].sum() - 1
    assert s["production"] < total < s["public_admin_education"]
    # everyone with an employer is counted, as the tally counts people in work and off sick
    stock = recession_run.results.stock[: recession_run.month + 1, :, : codes.AT_RISK + 1].sum(axis=(1, 2, 3))
    assert np.array_equal(employed.sum(axis=1)[: recession_run.month + 1], stock)


def test_a_run_with_sectors_writes_them(recession_run, tmp_path):
    write_results(recession_run, tmp_path, wall_time_s=1.0)
    assert (tmp_path / "plots" / "sectors.png").stat().st_size > 10_000
    table = pd.read_csv(tmp_path / "sectors.csv")
    assert len(table) == 48 * len(codes.SECTORS) and set(table.sector) == set(codes.SECTORS)
    at = table[table.month == 27].set_index("sector")
    assert np.isclose(at.vacancies.sum(), recession_run.market.vacancies[27].sum() / 0.05, rtol=1e-3)
    assert at.loc["production", "job_loss_factor"] > at.loc["business_services", "job_loss_factor"] > 1
    assert at.loc["public_admin_education", "job_loss_factor"] == 1
    # job seekers from a sector that has stopped hiring find work more slowly than those from one still hiring
    assert at.loc["production", "job_finding_relative"] < 1 < at.loc["health_social_work", "job_finding_relative"]
    assert np.allclose(at.job_finding_relative, recession_run.market.by_last_sector(27)[1:], atol=1e-4)
    import json

    market = json.loads((tmp_path / "summary.json").read_text())["labour_market"]
    sectors = market["sectors"]
    assert sectors["production"]["change_at_lowest"] < -0.08 and sectors["production"]["furloughed_peak"] == 0
    assert sectors["production"]["job_finding_lowest"] == pytest.approx(
        table[table.sector == "production"].job_finding_relative.min()
    )
    # jobs by workplace borough: everyone with an employer, in the places GM's residents travel to work
    # (within 2 points: the model's residents in work by borough are its calibration's, not the Census's)
    places = market["jobs_by_workplace"]
    working = (recession_run.people.employer >= 0).sum() / 0.05
    assert sum(v["jobs"] for v in places.values()) == pytest.approx(working, abs=len(places))
    assert all(abs(v["share"] - v["census_share"]) < 0.02 for v in places.values())


def test_furlough_falls_on_the_sectors_a_pandemic_closes():
    """HMRC CJRS to 30 June 2020: accommodation and food 77% furloughed, construction 60%, all 32% (at some
    point: the model counts the furloughed at once, a little fewer)."""
    m = GMModel("scenarios/pandemic.yaml", scale=0.02, months=20, rng=2)
    m.run(progress=False)
    employed = m.market.employed[: m.month + 1]
    furloughed = m.market.economy.furloughed_by_sector[: m.month + 1] * employed
    peak = furloughed.sum(axis=1).argmax()
    share = furloughed[peak] / employed[peak]
    k = {name: i for i, name in enumerate(codes.SECTORS)}
    assert 0.6 < share[k["accommodation_food"]] < 0.9 and share[k["health_social_work"]] < 0.06
    # GM: 326,800 furloughed by the end of May 2020, 25.5% of its residents in employment (uk_furlough_2020)
    assert 0.22 < furloughed[peak].sum() / employed[peak].sum() < 0.29
    # the GM-wide count is the sectors' sum
    total = m.market.furloughed(employed.sum(axis=1))
    assert np.allclose(total, furloughed.sum(axis=1))


def test_the_hiring_table_is_the_employers_own_and_follows_each_sector_s_hiring():
    from gmsim.geography import commuting
    from gmsim.market import _hiring_cumulative

    e = synthesise_employers(25_800, Streams(4))
    relative = np.linspace(0.5, 1.5, len(codes.SECTORS))
    table = _hiring_cumulative(e, relative)
    assert table.shape == (2, len(codes.BOROUGHS), e.n) and np.all(table[:, :, -1] == 1)
    cell = e.borough.astype(int) * len(codes.SECTORS) + e.sector
    held = np.bincount(cell, weights=e.weight, minlength=len(codes.BOROUGHS) * len(codes.SECTORS))
    for g, b in np.ndindex(2, len(codes.BOROUGHS)):
        # a resident of b of age group g: a workplace as b's residents travel, a sector as those of their age
        # work, each sector by its hiring, then a firm there by size
        weights = np.diff(table[g, b], prepend=0.0)
        aim = commuting()[b, e.borough] * sector_mix_by_age()[g, b, e.sector] * relative[e.sector]
        want = e.weight * aim / held[cell]
        assert np.allclose(weights, want / want.sum())
    # the same weights with other sectors or workplaces, or another month's hiring, are not served the table kept
    for other in (e._replace(sector=np.roll(e.sector, 1)), e._replace(borough=np.roll(e.borough, 1))):
        assert not np.array_equal(_hiring_cumulative(other, relative), table)
    assert not np.array_equal(_hiring_cumulative(e, relative[::-1].copy()), table)
    assert _hiring_cumulative(e, relative.copy()) is table


def test_the_boroughs_residents_by_sector_add_up_to_gm_s_shares():
    from gmsim.geography import workplace_sector_shares
    from gmsim.parameters import read_data

    spec = read_data("sectors.yaml")["residents_by_borough"]["value"]
    counts = np.array([[spec[b][s] for s in codes.SECTORS] for b in codes.BOROUGHS], dtype=np.float64)
    assert counts.sum() == 1_280_113  # GM's residents in employment, Census 2021 TS060
    assert np.allclose(counts.sum(axis=0) / counts.sum(), sector_shares(), atol=5e-5)  # the shares given, rounded
    share, gm = residents_by_sector(), sector_shares()
    k, b = codes.SECTORS.index("production"), codes.BOROUGHS.index
    assert share[b("Wigan"), k] > 1.25 * gm[k] and share[b("Manchester"), k] < 0.7 * gm[k]
    # by workplace: Manchester's jobs are the sectors of the people who travel there, more of them in
    # business services than Wigan's
    work = workplace_sector_shares()
    assert np.allclose(work.sum(axis=0), 1)
    s = codes.SECTORS.index("business_services")
    assert work[b("Manchester"), s] / work[b("Manchester")].sum() > work[b("Wigan"), s] / work[b("Wigan")].sum()


def test_the_mixes_of_hires_under_25_and_over_give_the_ifs_odds_ratio_and_each_borough_s_census_mix():
    """``sector_mix_by_age``: people in work by their age now have the IFS's odds ratio, and all the Census mix.

    People in work aged 25 or over hold ties made before 25 (``carried_share``) as well as after.
    """
    from gmsim.geography import split_by_odds
    from gmsim.parameters import read_data

    spec = read_data("sectors.yaml")["young_hires"]
    theta, carried = spec["odds_ratio"]["value"], spec["carried_share"]["value"]
    assert theta == pytest.approx((0.30 / 0.70) / (0.13 / 0.87), abs=0.005)  # 30% under 25 against 13% (IFS)
    mix, young = sector_mix_by_age(), young_share_in_work(spec["employment_ratio"]["value"])[:, None]
    made_young = young + (1 - young) * carried
    assert np.allclose(made_young * mix[0] + (1 - made_young) * mix[1], residents_by_sector(), atol=1e-12)
    tilted = np.isin(codes.SECTORS, spec["sectors"])
    y, o = mix[0][:, tilted].sum(axis=1), mix[1][:, tilted].sum(axis=1)
    older = (1 - carried) * o + carried * y  # what people in work aged 25 or over hold now
    assert np.allclose((y / (1 - y)) / (older / (1 - older)), theta)
    assert np.all(y > 0.40) and np.all(o < 0.20)  # Bolton: 46% of hires under 25 and 19% of others, Census 27%
    # within the tilted sectors, and within the others, each age keeps the Census proportions
    for part in (tilted, ~tilted):
        census = residents_by_sector()[:, part]
        for g in (0, 1):
            got = mix[g][:, part] / mix[g][:, part].sum(axis=1, keepdims=True)
            assert np.allclose(got, census / census.sum(axis=1, keepdims=True))
    # no tilt: both ages the Census mix; elsewhere the split keeps the share and the odds ratio
    assert split_by_odds(0.25, 0.2, 0.16, 1.0) == pytest.approx((0.25, 0.25))
    for share, weight, carry in ((0.05, 0.1, 0.0), (0.6, 0.3, 0.3)):
        a, b = split_by_odds(share, weight, carry, 4.0)
        w = weight + (1 - weight) * carry
        now = (1 - carry) * b + carry * a
        assert w * a + (1 - w) * b == pytest.approx(share) and (a / (1 - a)) / (now / (1 - now)) == pytest.approx(4.0)
    # figures no split can meet are refused, naming the data file
    for bad in ((1.0, 0.2, 0.16, 2.0), (0.25, 0.2, 0.16, 0.5), (0.25, 0.2, 1.0, 2.0), (0.25, 0.2, 0.16, 1e6)):
        with pytest.raises(ValueError, match="young_hires"):
            split_by_odds(*bad)


def test_hires_and_movers_under_25_join_their_age_s_mix_of_sectors():
    """Hires and job-to-job movers under 25 join the sectors of their age's mix, those aged 25 or over theirs.

    Borough 3's tables; 40,000 hires and 60,000 people in work a group; tolerance 4 standard errors.
    """
    from gmsim.parameters import read_data

    employers = synthesise_employers(200_000, Streams(4))
    tilted = np.isin(np.array(codes.SECTORS)[employers.sector], read_data("sectors.yaml")["young_hires"]["sectors"])
    hospitality = codes.SECTORS.index("accommodation_food")
    mine = np.flatnonzero(employers.sector == codes.SECTORS.index("production"))
    smallest = int(mine[np.argmin(employers.weight[mine])])  # movers start there: a draw of it again is rare
    for employer, move in ((-1, 0.0), (smallest, 0.9)):
        n = 40_000 if employer < 0 else 60_000
        p = make_people(2 * n, state=codes.IN_WORK, employer=employer)
        p.borough[:], p.age_months[:n] = 3, 20 * 12
        employer_step(p, employers, Streams(7).key("employers"), 4, move, rejoin=np.zeros(len(codes.SECTORS)))
        changed = p.employer != employer
        for g, rows in ((0, slice(0, n)), (1, slice(n, 2 * n))):
            expected = float(np.diff(employers.cumulative[g, 3], prepend=0.0)[tilted].sum())
            got, k = tilted[p.employer[rows][changed[rows]]], int(changed[rows].sum())
            assert k > 0.5 * n
            assert abs(got.mean() - expected) < 4 * np.sqrt(expected * (1 - expected) / k), (employer, g)
        under_25 = np.diff(employers.cumulative[0, 3], prepend=0.0)
        assert under_25[employers.sector == hospitality].sum() > 1.5 * sector_mix_by_age()[1, 3, hospitality]


def test_a_fresh_population_s_people_in_work_hold_the_ifs_odds_ratio_by_their_age_now():
    """Month 0 with no burn-in: people in work under 25 hold retail, hospitality and leisure ~2.87 times the odds.

    Those aged 25 or over hold a tie made before 25 with ``carried_share``'s chance. Without that share
    (ties drawn by age now alone) the odds ratio would be far higher. GM's share in the three sectors stays within 1.5
    points of the Census's (the synthesised ages' share in work differs a little from the weights'); the
    odds ratio within 10% (its standard error at this scale is about 2%).
    """
    from gmsim.parameters import read_data

    spec = read_data("sectors.yaml")["young_hires"]
    m = GMModel("scenarios/baseline.yaml", scale=0.05, months=1, rng=2, burn_in=0)
    p, e = m.people, m.employers
    working = p.employer >= 0
    tilted = np.isin(np.array(codes.SECTORS)[e.sector[p.employer[working]]], spec["sectors"])
    young = p.age_months[working] < codes.YOUNG_HIRE_MONTHS
    y, o = tilted[young].mean(), tilted[~young].mean()
    assert (y / (1 - y)) / (o / (1 - o)) == pytest.approx(spec["odds_ratio"]["value"], rel=0.10)
    census = residents_by_sector()[:, np.isin(codes.SECTORS, spec["sectors"])].sum(axis=1)
    employed = np.bincount(p.borough[working], minlength=len(codes.BOROUGHS))
    assert abs(tilted.mean() - (census * employed).sum() / employed.sum()) < 0.015


def test_each_borough_s_residents_work_in_its_own_mix_of_sectors_and_places():
    """After synthesis and two years of hires and moves, each borough's people in work hold its Census mixes.

    A resident of borough b joins a (workplace, sector) cell with b's share travelling to the workplace
    times the share of b's residents of their age in the sector, so the workplace's expected share is the
    travel to work's (while every cell has firms) and the sector's, over both ages, about the Census's (the
    ages' weights are GM's: at full scale Manchester's people in work hold retail, hospitality and leisure
    up to 1.3 points more often, docs/model.md 7.7); tolerance 4 binomial standard errors for each. Scale
    0.05: with fewer firms a cell's few firms' size bands and occupational health, which set how long their
    ties last, make the people in work vary more than a binomial's (at scale 0.02, seed 4, Tameside's
    residents working in Bolton were 4.4 standard errors above the travel to work's 0.4%).
    """
    from gmsim.geography import commuting

    m = GMModel("scenarios/baseline.yaml", scale=0.05, months=24, rng=4)
    e = m.employers
    for when in ("start", "after two years"):
        if when != "start":
            m.run(progress=False)
        p = m.people
        working = p.employer >= 0
        for attribute, expected in ((e.sector, residents_by_sector()), (e.borough, commuting())):
            counts = np.zeros(expected.shape)
            np.add.at(counts, (p.borough[working], attribute[p.employer[working]]), 1)
            n = counts.sum(axis=1, keepdims=True)
            se = np.sqrt(expected * (1 - expected) / n)
            assert np.all(np.abs(counts / n - expected) < 4 * se + 1e-9), when


def test_each_workplace_s_firms_hold_its_jobs_in_each_sector():
    from gmsim.geography import workplace_sector_shares

    e = synthesise_employers(1_290_000, Streams(3))
    held = np.zeros((len(codes.BOROUGHS), len(codes.SECTORS)))
    np.add.at(held, (e.borough, e.sector), e.weight)
    # within about one small firm of each cell's target
    target = workplace_sector_shares() * held.sum(axis=0, keepdims=True)
    small = e.weight[e.size_band <= codes.EMPLOYER_SIZES.index("small")].max()
    assert np.all(np.abs(held - target) <= small)


def test_a_recession_falls_hardest_on_the_boroughs_whose_residents_work_in_exposed_sectors(recession_run):
    """The job-loss factor of each borough's people in work at the trough follows its residents' sectors."""
    m, month = recession_run, 27
    p = m.people
    working = p.employer >= 0
    factor = m.market.economy.factors[month, m.employers.sector[p.employer[working]], JOB_LOSS]
    by_borough = np.bincount(p.borough[working], weights=factor, minlength=len(codes.BOROUGHS))
    by_borough /= np.bincount(p.borough[working], minlength=len(codes.BOROUGHS))
    # what the Census mix implies: each borough's residents' mean exposure, times GM's extra job loss
    gm = m.market.economy.factors[month, -1, JOB_LOSS]
    implied = 1 + (gm - 1) * residents_by_sector() @ Economy(shape="recession").exposure()
    assert np.corrcoef(by_borough, implied)[0, 1] > 0.9
    b = codes.BOROUGHS.index
    assert by_borough[b("Wigan")] - 1 > 1.1 * (by_borough[b("Trafford")] - 1)


def test_in_a_steady_economy_sectors_change_nothing_but_where_hires_and_movers_go():
    """Runs whose employers' sectors differ are the same, person by person, unless a shock falls on them.

    Or unless job seekers keep to the sector of their last job (``labour_market.sector_attachment``): then,
    even in a steady economy, a hire who returns to their sector, or a job-to-job mover who keeps to it,
    joins one of its firms, whose size and occupational health differ from another sector's. Job-finding
    itself is the same from every sector. (The record of each person's last sector differs, being read
    from the sectors.)
    (Who works for which employer is drawn from hiring tables made once from the sectors; here the
    sectors are changed afterwards, so only what reads them month by month can differ.)
    """

    def run(scenario, shuffle, attachment):
        parameters = {"labour_market.sector_attachment": attachment}
        m = GMModel(scenario, scale=0.02, months=24, rng=5, parameters=parameters)
        if shuffle:
            m.employers = m.population.employers = m.employers._replace(sector=np.roll(m.employers.sector, 7))
        m.run(progress=False)
        return m

    for scenario, attachment, same in (
        ("scenarios/baseline.yaml", 0.0, True),
        ("scenarios/recession.yaml", 0.0, False),
        ("scenarios/baseline.yaml", 0.42, False),
    ):
        a, b = run(scenario, False, attachment), run(scenario, True, attachment)
        assert not np.array_equal(a.employers.sector, b.employers.sector)
        kept = [f for f in a.people._fields if f != "last_sector"]  # who last worked in which sector differs
        assert all(np.array_equal(getattr(a.people, f), getattr(b.people, f)) for f in kept) == same, scenario
        assert np.array_equal(a.results.stock, b.results.stock) == same, scenario
        if scenario == "scenarios/baseline.yaml":
            for m in (a, b):  # job-finding is the same whatever the last job's sector
                assert np.all(m.market.by_last_sector(12) == 1) and np.all(m.market.phi(12) == m.market.phi(12)[:, :1])


def test_a_hire_returns_to_the_sector_of_their_last_job_with_the_chance_of_attachment():
    """A hire who has had a job joins a firm of its sector with chance a, else one drawn as anyone's is.

    So a share ``a + (1 - a) x`` of them work in it again, ``x`` the sector's share of their borough's
    hiring table; a hire with no last job gets the table's shares; a tie that ends records its sector.
    Tolerance: 4 standard errors of each share (40,000 hires a group).
    """
    employers = synthesise_employers(200_000, Streams(4))
    n, a = 40_000, 0.42
    p = make_people(3 * n, state=codes.IN_WORK, employer=-1)
    p.borough[:] = 3
    hospitality, construction = codes.SECTORS.index("accommodation_food"), codes.SECTORS.index("construction")
    p.last_sector[:n], p.last_sector[n : 2 * n], p.last_sector[2 * n :] = hospitality, construction, -1
    employer_step(p, employers, Streams(5).key("employers"), 3, 0.0, rejoin=np.full(len(codes.SECTORS), a))
    table = np.diff(employers.cumulative[1, 3], prepend=0.0)  # aged 25 or over, borough 3
    share = np.bincount(employers.sector, weights=table, minlength=len(codes.SECTORS))
    sector = employers.sector[p.employer]
    for rows, s in ((slice(0, n), hospitality), (slice(n, 2 * n), construction)):
        expected = a + (1 - a) * share[s]
        assert abs((sector[rows] == s).mean() - expected) < 4 * np.sqrt(expected * (1 - expected) / n)
    got = np.bincount(sector[2 * n :], minlength=len(codes.SECTORS)) / n
    assert np.all(np.abs(got - share) < 4 * np.sqrt(share * (1 - share) / n))
    # within its sector, a returning hire's firm is drawn as anyone's is: by size, in the same places
    returning = sector[:n] == hospitality
    large = employers.size_band[p.employer[:n][returning]] == codes.EMPLOYER_SIZES.index("large")
    in_sector = employers.sector == hospitality
    expected = table[in_sector & (employers.size_band == codes.EMPLOYER_SIZES.index("large"))].sum()
    expected /= table[in_sector].sum()
    assert abs(large.mean() - expected) < 4 * np.sqrt(expected * (1 - expected) / returning.sum())
    # leaving work records the employer's sector and ends the tie
    tied = p.employer.copy()
    p.state[: 2 * n] = codes.OUT_OF_WORK
    employer_step(p, employers, Streams(5).key("employers"), 4, 0.0, rejoin=np.full(len(codes.SECTORS), a))
    assert np.all(p.employer[: 2 * n] == -1) and np.array_equal(p.last_sector[: 2 * n], employers.sector[tied[: 2 * n]])
    assert np.all(p.last_sector[2 * n :] == -1)


def _sector_market(search_by_month, attachment=None):
    """A recession's market fed ``search_by_month`` (month -> search by borough and last sector) to month 20."""
    from gmsim.market import LabourMarket
    from gmsim.parameters import ParameterSet

    params = ParameterSet({} if attachment is None else {"labour_market.sector_attachment": attachment})
    market = LabourMarket(params, Economy(shape="recession").path(60, 1.5, 6), 1.0)
    for month in range(20):
        market.observe(search_by_month(month), month)
    return market


def _reference_search():
    """Search by borough and last sector: the boroughs' residents' sectors, a third with no last job."""
    from gmsim.dynamics.labour import SEARCH_SHAPE

    search = np.zeros(SEARCH_SHAPE, dtype=np.int64)
    search[:, 0] = 10**12
    search[:, 1:] = (2 * 10**12 * residents_by_sector()).astype(np.int64)
    return search


def _harder(search: np.ndarray, month: int) -> np.ndarray:
    """``search`` with some boroughs' and sectors' seekers searching harder from month 1 (capacity moves)."""
    if month == 0:
        return search
    out = search.copy()
    out[2] = out[2] * 13 // 10
    out[:, codes.SECTORS.index("production") + 1] = out[:, codes.SECTORS.index("production") + 1] * 3 // 2
    return out


def test_job_seekers_find_work_in_the_markets_of_their_last_sector_and_workplaces():
    """In a month sectors hire unalike, each workplace and sector is an urn-ball market of its own.

    Worked out here again with loops over workplaces and sectors, from the urn-ball ``(1 - exp(-x)) / x``:
    a job seeker's factor is, over the reference market's job-finding, the job-finding of their search where
    it goes: the share ``a`` at their last sector's market in each workplace, the rest at each workplace's
    vacancies by sector. A market's applications and vacancies are relative to month 0's (the reference);
    here the search has moved from it, so employers' capacity has too. The borough's factor is its job
    seekers' mean; GM's by last sector is the boroughs' mean weighted by search; a hire rejoins their sector
    with the part of their job-finding its markets give at the reference search. Before the shock, every
    column is the borough's factor and a hire rejoins their sector with chance ``a``.
    """
    from gmsim.geography import commuting, workplace_sector_mix
    from gmsim.market import job_finding

    reference = _reference_search()
    market = _sector_market(lambda month: _harder(reference, month))
    month, a, x0 = 20, market.attachment, market.tightness
    hiring, demand = market.economy.hiring[month], market.economy.demand[month]
    assert np.any(hiring != 1) and np.all(market.economy.hiring[:2] == 1)
    assert np.all(market.phi(1) == market.factors[1][:, None]) and np.all(market.rejoining(1) == a)
    assert np.all(np.abs(market.capacity[month] - 1) > 0.001)
    C, W = commuting(), workplace_sector_mix()
    n_b, n_s = W.shape
    mix = W * hiring / (W * hiring).sum(axis=1, keepdims=True)
    search = _harder(reference, month - 1)

    def applications(m, s, mix, search):
        total = 0.0
        for b in range(n_b):
            attached = a * search[b, s + 1]
            broad = search[b, 0] + (1 - a) * search[b, 1:].sum()
            total += C[b, m] * (attached + broad * mix[m, s])
        return total

    def finding(search, capacity):
        x = np.empty((n_b, n_s))
        for m in range(n_b):
            for s in range(n_s):
                relative = applications(m, s, mix, search) / applications(m, s, W, reference)
                x[m, s] = x0 * relative / (demand * capacity[m] * mix[m, s] / W[m, s])
        return job_finding(x)

    p = finding(search, market.capacity[month])
    phi = np.empty((n_b, n_s + 1))
    for b in range(n_b):
        base = sum(C[b, m] * job_finding(x0) for m in range(n_b))
        broad = sum(C[b, m] * (mix[m] * p[m]).sum() for m in range(n_b))
        phi[b, 0] = broad / base
        for s in range(n_s):
            own = sum(C[b, m] * p[m, s] for m in range(n_b))
            phi[b, s + 1] = (a * own + (1 - a) * broad) / base
    assert np.allclose(market.phi(month), phi, rtol=1e-9)
    assert np.allclose(market.factors[month], (search * phi).sum(axis=1) / search.sum(axis=1), rtol=1e-9)
    g = (search * phi).sum(axis=0) / search.sum(axis=0)
    assert np.allclose(market.by_last_sector(month), g / g[0], rtol=1e-9)
    # job seekers from the sector hiring least find work least easily; those with no last job in between
    g = market.by_last_sector(month)
    hit, boom = np.argmin(hiring), np.argmax(hiring)
    assert g[hit + 1] == g[1:].min() < 1 < g[boom + 1] == g[1:].max()
    # a hire from a sector rejoins it with the part of their job-finding its markets give (reference search)
    p = finding(reference, np.ones(n_b))
    own = a * (C @ p)
    found = own + (1 - a) * (C @ (mix * p).sum(axis=1))[:, None]
    rejoin = market.rejoining(month)
    assert np.allclose(rejoin, (reference[:, 1:] * own).sum(axis=0) / (reference[:, 1:] * found).sum(axis=0))
    assert rejoin[hit] == rejoin.min() < a < rejoin[boom] == rejoin.max()
    # with no attachment, the last job's sector changes nothing
    none = _sector_market(lambda month: _harder(reference, month), attachment=0.0)
    assert np.allclose(none.phi(month), none.phi(month)[:, :1], rtol=1e-12) and np.all(none.rejoining(month) == 0)
    assert np.allclose(none.by_last_sector(month), 1, rtol=1e-12)


def test_job_seekers_from_a_sector_crowd_its_markets():
    """More job seekers from a sector (the same vacancies) lower their job-finding most, and others' less.

    A sector's own market is where its job seekers' attached search goes, so doubling them raises its
    applications per vacancy; others feel it only through the part of it aimed at every sector's vacancies.
    """
    reference = _reference_search()
    production = codes.SECTORS.index("production")
    crowded = reference.copy()
    crowded[:, production + 1] *= 2
    plain = _sector_market(lambda month: reference)
    more = _sector_market(lambda month: crowded if month == 19 else reference)
    drop = more.phi(20) / plain.phi(20)
    assert np.all(drop < 1)
    others = np.delete(np.arange(len(codes.SECTORS) + 1), production + 1)  # and those with no last job
    assert np.all(drop[:, production + 1] < drop[:, others].min(axis=1) - 0.03)
    # where hires land follows the economy's vacancies, not a run's own search (shared runs draw hires alike)
    assert np.array_equal(more.rejoining(20), plain.rejoining(20))


def test_a_job_to_job_mover_keeps_to_their_employer_s_sector_with_the_chance_of_rejoining_it():
    """A mover's new firm is of their employer's sector with chance ``a + (1 - a) x`` (``x``: the sector's share of
    their borough's hiring table), as a returning hire's is; with no attachment, ``x``. Movers start at the
    smallest firm of the sector, so a draw of the same firm (no move) is negligible. 4 standard errors.
    """
    employers = synthesise_employers(200_000, Streams(4))
    hospitality = codes.SECTORS.index("accommodation_food")
    mine = np.flatnonzero(employers.sector == hospitality)
    smallest = int(mine[np.argmin(employers.weight[mine])])
    table = np.diff(employers.cumulative[1, 3], prepend=0.0)  # aged 25 or over, borough 3
    x = table[employers.sector == hospitality].sum()
    for a in (0.0, 0.42):
        p = make_people(120_000, state=codes.IN_WORK, employer=smallest)
        p.borough[:] = 3
        employer_step(p, employers, Streams(6).key("employers"), 5, 0.5, rejoin=np.full(len(codes.SECTORS), a))
        movers = p.job_move == 1
        expected, n = a + (1 - a) * x, int(movers.sum())
        assert n > 50_000
        stayed = (employers.sector[p.employer[movers]] == hospitality).mean()
        assert abs(stayed - expected) < 4 * np.sqrt(expected * (1 - expected) / n), (a, stayed, expected)
