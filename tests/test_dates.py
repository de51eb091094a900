"""Dates of a run: the calendar of its months, financial years, and strand budgets that change by year."""

import datetime
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gmsim.comparison import check_comparable
from gmsim.dates import Calendar, YearMonth, financial_year_text, parse_financial_year
from gmsim.interventions import COUNTERS
from gmsim.model import GMModel
from gmsim.scenario import Scenario, ScenarioError, load_scenario

SC = Path(__file__).resolve().parents[1] / "scenarios"


def test_months_and_financial_years():
    cal = Calendar(YearMonth.parse("2026-04"))
    assert str(cal.date(1)) == "2026-04" and str(cal.date(0)) == "2026-03" and str(cal.date(12)) == "2027-03"
    assert str(cal.date(13)) == "2027-04" and cal.date(120).words() == "March 2036"
    assert [cal.date(m).financial_year for m in (0, 1, 12, 13)] == [2025, 2026, 2026, 2027]
    assert cal.span(120) == "April 2026 to March 2036"
    assert cal.labels(2) == ["2026-03", "2026-04", "2026-05"]
    assert list(cal.months_as_dates([0, 1, 10]).astype(str)) == ["2026-03", "2026-04", "2027-01"]
    assert YearMonth.parse("2030-1") == YearMonth(2030, 1) and YearMonth(2030, 1).plus(-1) == YearMonth(2029, 12)
    assert parse_financial_year("2027-28") == 2027 == parse_financial_year("2027/28")
    assert financial_year_text(2099) == "2099-00" and parse_financial_year("2099-00") == 2099
    for bad in ("2026-13", "26-04", "April 2026", "2026"):
        with pytest.raises(ValueError, match="expected a month as YYYY-MM"):
            YearMonth.parse(bad)
    for bad in ("2027-29", "2027", "27-28"):
        with pytest.raises(ValueError, match="expected a financial year as YYYY-YY"):
            parse_financial_year(bad)


def test_a_scenario_starts_in_april_2026_unless_it_says_otherwise():
    assert Scenario.default().start == "2026-04"
    assert load_scenario(SC / "baseline.yaml").start == "2026-04"
    assert Scenario.from_dict({"name": "a", "start": datetime.date(2027, 1, 15)}).start == "2027-01"
    with pytest.raises(ScenarioError, match="start: expected a month as YYYY-MM"):
        Scenario.from_dict({"name": "a", "start": 2026})
    a, b = Scenario.from_dict({"name": "a"}), Scenario.from_dict({"name": "b", "start": "2027-04"})
    with pytest.raises(ScenarioError, match="expected the same start in every scenario"):
        check_comparable([a, b])
    assert a.with_overrides(start="2030-01").start == "2030-01"


def test_a_budget_schedule_holds_each_figure_from_its_year_until_the_next():
    s = Scenario.from_dict(
        {
            "name": "a",
            "strands": {
                "early_help": {
                    "budget_gbp_per_year": 3e6,
                    "budget_by_financial_year": {"2032-33": 0, "2027-28": 6e6},
                }
            },
        }
    )
    spec = s.strands["early_help"]
    assert list(spec.budget_by_financial_year) == ["2027-28", "2032-33"]  # in date order
    assert [spec.annual_budget(y) for y in (2026, 2027, 2031, 2032, 2040)] == [3e6, 6e6, 6e6, 0.0, 0.0]
    assert (
        not spec.unfunded
        and spec.budget_text() == "GBP 3,000,000 a year (GBP 6,000,000 from 2027-28, GBP 0 from 2032-33)"
    )
    off = Scenario.from_dict({"name": "a", "strands": {"early_help": {"budget_by_financial_year": {"2027-28": 0}}}})
    assert off.strands["early_help"].unfunded
    with pytest.raises(ScenarioError, match=r"budget_by_financial_year: 2027-28: expected a number of GBP from 0"):
        Scenario.from_dict({"name": "a", "strands": {"early_help": {"budget_by_financial_year": {"2027-28": -1}}}})


def _spend_by_financial_year(model, strand):
    iv = next(iv for iv in model.interventions if iv.name == strand)
    spend = iv.counts[1 : model.month + 1, COUNTERS.index("spend_gbp")].sum(axis=1) / model.scale
    years = model.calendar.financial_years(model.month)[1:]
    return pd.Series(spend).groupby(years).sum()


@pytest.mark.parametrize("start", ["2026-04", "2026-10"])
def test_a_strand_spends_each_financial_year_s_budget_from_its_april(start):
    """Early help, with more people waiting than places, spends GBP 3m a year, then 6m from April 2027.

    Each month's places are the month's budget over the unit cost, whole places with the fraction carried
    over, so a year's spend is its budget to within one place (GBP 877, scaled up by 1/scale = 50).
    """
    sc = load_scenario(SC / "double_early_help.yaml").with_overrides(months=30, scale=0.02, start=start)
    model = GMModel(sc)
    model.run(progress=False)
    spend = _spend_by_financial_year(model, "early_help")
    unit = next(iv for iv in model.interventions if iv.name == "early_help").unit_cost
    months = pd.Series(model.calendar.financial_years(model.month)[1:]).value_counts()
    for year, gbp in spend.items():
        budget = 3e6 if year < 2027 else 6e6
        assert abs(gbp - budget * months[year] / 12) <= unit / model.scale + 1e-6, (year, gbp)
    assert spend[2027] == pytest.approx(6e6, abs=unit / model.scale)


def test_every_output_is_dated(tmp_path):
    from gmsim.output import write_results

    sc = load_scenario(SC / "double_early_help.yaml").with_overrides(months=3, scale=0.002, start="2027-01")
    model = GMModel(sc)
    model.run(progress=False)
    out = write_results(model, tmp_path / "run", 1.0)
    for name in ("timeseries.csv", "monthly.csv", "transitions.csv", "strands.csv", "pathways.csv.gz"):
        df = pd.read_csv(out / name)
        assert list(df.columns[:2]) == ["month", "date"], name
        assert set(zip(df.month, df.date, strict=True)) == {
            (0, "2026-12"),
            (1, "2027-01"),
            (2, "2027-02"),
            (3, "2027-03"),
        }, name
    s = json.loads((out / "summary.json").read_text())
    assert (s["start"], s["end"]) == ("2027-01", "2027-03") and s["notes"]["final"] == "end of month 3 (March 2027)"
    assert s["strands"]["early_help"]["budget_by_financial_year"] == {"2027-28": 6e6, "2032-33": 3e6}


def test_the_shipped_example_doubles_early_help_for_five_years():
    sc = load_scenario(SC / "double_early_help.yaml")
    base = load_scenario(SC / "working_well.yaml")
    years = sc.calendar.financial_years(sc.months)[1:]
    extra = np.array(
        [sc.strands["early_help"].annual_budget(y) - base.strands["early_help"].annual_budget(y) for y in years]
    )
    assert sc.start == base.start == "2026-04"
    assert extra.sum() / 12 == 15e6 and set(np.unique(years[extra > 0])) == {2027, 2028, 2029, 2030, 2031}


@pytest.mark.parametrize("strand", ["in_work", "early_help"])
def test_no_financial_year_spends_more_than_its_budget_after_a_cut(strand):
    """Money left of the old budget lapses when the budget changes, so a cut year keeps to its budget.

    (The in-work strand saves up across months to enrol an employer whose staff cost more than a month's
    budget; before, its savings from a GBP 4m year were spent in the GBP 0.2m year after, 2.5 times over.)
    """
    strands = {strand: {"budget_gbp_per_year": 4e6, "budget_by_financial_year": {"2027-28": 2e5}}}
    sc = Scenario.from_dict({"name": "cut", "months": 24, "population": {"scale": 0.01}, "strands": strands})
    model = GMModel(sc)
    model.run(progress=False)
    spend = _spend_by_financial_year(model, strand)
    assert spend[2027] <= 2e5 + 1e-6
    assert spend[2027] > 0 and spend[2026] > 1e6
