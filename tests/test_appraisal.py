"""The Green Book appraisal: unit values in one price base, drawn from their ranges, and present values."""

import numpy as np
import pytest

from gmsim import codes
from gmsim.appraisal import PERSPECTIVES, appraise, discount, drawn_values, unit_values
from gmsim.ensemble import replicate_seed
from gmsim.interventions import COUNTERS
from gmsim.parameters import read_data


def test_values_are_converted_to_the_price_base_year():
    raw = read_data("unit_costs.yaml")
    deflator = raw["gdp_deflator"]["value"]
    base = raw["price_base_year"]["value"]
    wellby = unit_values()["wellby_value"]
    assert wellby.price_year == 2019
    assert wellby.value == pytest.approx(13000 * deflator[base] / deflator[2019])
    assert wellby.low == pytest.approx(10000 * deflator[base] / deflator[2019])
    assert unit_values()["discount_rate"].value == 0.035 and unit_values()["discount_rate"].low is None


def test_uncertain_values_are_drawn_with_their_stated_median_and_95_percent_range():
    draws = [drawn_values(replicate_seed(5, r)) for r in range(2000)]
    se_tail, se_half = np.sqrt(0.025 * 0.975 / 2000), np.sqrt(0.25 / 2000)
    uncertain = [v for v in unit_values().values() if v.low is not None and v.low > 0]
    assert len(uncertain) >= 15
    for v in uncertain:
        x = np.array([d[v.name] for d in draws])
        assert abs((x < v.low).mean() - 0.025) < 3 * se_tail, v.name
        assert abs((x > v.high).mean() - 0.025) < 3 * se_tail, v.name
        assert abs((x < v.value).mean() - 0.5) < 3 * se_half, v.name
    assert drawn_values(None) == {k: v.value for k, v in unit_values().items()}
    assert drawn_values(7) == drawn_values(7) != drawn_values(8)


def record(months: int, **extra: np.ndarray) -> dict:
    """A run record of ``months`` months with nobody anywhere, but ``extra`` (GM series, or by severity)."""
    zero = np.zeros(months + 1)
    rec = {k: zero.copy() for k in ("employed", "jobseekers", "out_of_work_health", "support_group", "at_risk")}
    rec["by_severity"] = np.zeros((months + 1, len(codes.SEVERITIES)))
    rec.update(extra)
    return rec


def central(**changes: float) -> dict:
    return {**drawn_values(None), **changes}


def test_a_run_like_its_comparator_has_no_benefit_and_no_cost():
    out = appraise(record(24), record(24), central(), ())
    assert out == {
        "pv_cost_gbp": 0.0,
        **{f"{p}_benefit_pv": 0.0 for p in PERSPECTIVES},
        **{f"npv_{p}": 0.0 for p in PERSPECTIVES},
    }


def test_one_more_person_in_work_off_benefit_is_valued_as_the_method_says():
    months = 12
    v = central(persistence_years=0)
    one = np.r_[0.0, np.ones(months)]
    rec = record(months, employed=one, jobseekers=-one)
    out = appraise(rec, record(months), v, ())
    d = discount(months, v["discount_rate"]).sum() / 12  # a person-year, discounted month by month
    earnings = v["earnings_per_worker_year"]
    fiscal = v["jobseeker_benefit_per_year"] + v["housing_support_per_claimant_year"]
    fiscal += earnings * v["tax_ni_share_of_earnings"] - v["in_work_benefit_per_worker_year"]
    assert out["fiscal_benefit_pv"] == pytest.approx(fiscal * d)
    assert out["economic_benefit_pv"] == pytest.approx(earnings * d)
    wellbeing = v["life_satisfaction_gain_in_work"] * v["wellby_value"]
    assert out["social_benefit_pv"] == pytest.approx((earnings + wellbeing) * d)
    # The difference at the end lasts after the run, decaying: more benefit with persistence.
    longer = appraise(rec, record(months), central(), ())
    assert longer["social_benefit_pv"] > out["social_benefit_pv"] * 2


def test_health_gains_are_valued_in_qalys_at_the_health_rate_and_nhs_costs_saved():
    months = 12
    v = central(persistence_years=0)
    sev = np.zeros((months + 1, 4))
    sev[1:, codes.COMPLEX], sev[1:, codes.MODERATE] = -1, 1  # one person a year from complex to moderate
    out = appraise(record(months, by_severity=sev), record(months), v, ())
    nhs = v["nhs_cost_complex_per_year"] - v["nhs_cost_moderate_per_year"]
    qaly = (v["qaly_loss_complex"] - v["qaly_loss_moderate"]) * v["qaly_value"]
    d, dh = (discount(months, v[r]).sum() / 12 for r in ("discount_rate", "health_discount_rate"))
    assert out["fiscal_benefit_pv"] == pytest.approx(nhs * d)
    assert out["social_benefit_pv"] == pytest.approx(nhs * d + qaly * dh)
    assert out["economic_benefit_pv"] == 0


def test_the_cost_is_the_extra_spend_raised_for_optimism_bias_with_lapsed_referrals():
    months = 12
    v = central()
    counts = np.zeros((months + 1, len(COUNTERS), len(codes.BOROUGHS)))
    counts[1:, COUNTERS.index("spend_gbp"), 0] = 1000
    counts[1:, COUNTERS.index("referred"), 0] = 10
    counts[1:, COUNTERS.index("started"), 0] = 4
    rec = record(months, **{"strand.work_and_health": counts})
    d = discount(months, v["discount_rate"])
    expected = ((1000 * (1 + v["optimism_bias"]) + 6 * v["referral_cost_gbp"]) * d).sum()
    assert appraise(rec, record(months), v, ("work_and_health",))["pv_cost_gbp"] == pytest.approx(expected)
    without = ((1000 * (1 + v["optimism_bias"])) * d).sum()
    assert appraise(rec, record(months), v, ())["pv_cost_gbp"] == pytest.approx(without)
