"""The cohort impact evaluation: each strand's referrals against the same people with no strand funded."""

import json
from pathlib import Path

import numpy as np
import pytest

from gmsim import codes
from gmsim.agents.people import People
from gmsim.cli import main
from gmsim.evaluation import HORIZONS, MEASURES, CohortImpact, cohort_impact, columns, comparator_of, run_evaluated
from gmsim.model import GMModel
from gmsim.output import summary
from gmsim.scenario import Scenario, load_scenario
from gmsim.shared import SharedRuns

SC = Path(__file__).resolve().parents[1] / "scenarios"


def work_and_health(ratios: dict[str, float], months: int = 30, scale: float = 0.03) -> Scenario:
    """Work and health funded generously, with its ratios while supported set to ``ratios``."""
    parameters = {f"effects.{t}": v for t, v in ratios.items()}
    parameters.update({"after_effects.out_of_work_to_in_work": 1.0})
    from gmsim.interventions import registered

    # every ratio of in-work support (onto out of work and into inactivity) to 1
    in_work = registered()["work_and_health"].parameters({}).in_work_effects
    parameters.update({f"in_work_effects.{t}": 1.0 for t in in_work})
    return Scenario.from_dict(
        {
            "name": "w",
            "months": months,
            "seed": 3,
            "population": {"scale": scale, "history_sample": 0},
            "strands": {"work_and_health": {"budget_gbp_per_year": 5e7, "parameters": parameters}},
        }
    )


def evaluated(scenario: Scenario) -> GMModel:
    model = GMModel(scenario)
    run_evaluated(model, progress=False)
    return model


def test_a_strand_with_no_effect_has_exactly_no_impact_on_its_cohort():
    # Under common random numbers the referred live the same months in both runs when every ratio is 1.
    m = evaluated(work_and_health({"out_of_work_to_in_work": 1.0, "health_recovery": 1.0}))
    totals = m.interventions[0].impact.totals
    assert totals[0, 0, 0] > 100  # people followed 6 months
    assert np.array_equal(totals[..., 0], totals[..., 1])
    ci = cohort_impact(m.interventions[0].impact.in_people)
    assert all(ci[f"{h}m"]["started_work"]["impact"] == 0 for h in HORIZONS if ci[f"{h}m"]["followed"])


def test_an_effect_on_job_entry_shows_as_more_starts_and_less_deadweight_than_one():
    m = evaluated(work_and_health({"out_of_work_to_in_work": 3.0, "health_recovery": 1.0}))
    ci = cohort_impact(m.interventions[0].impact.in_people)["12m"]
    started = ci["started_work"]
    assert started["treated"] > started["comparison"] > 0
    assert started["deadweight"] == pytest.approx(started["comparison"] / started["treated"])
    assert ci["months_on_benefit"]["impact"] <= 0 and ci["months_in_work"]["impact"] > 0
    assert ci["severity"]["deadweight"] is None


def test_a_comparator_is_the_scenario_unfunded_from_the_same_people():
    m = GMModel(work_and_health({"out_of_work_to_in_work": 2.0}, months=6))
    c = comparator_of(m)
    assert not c.interventions and c.seed == m.seed
    assert all(np.array_equal(a, b) for a, b in zip(m.people, c.people, strict=True))
    assert c.people.state is not m.people.state  # a copy
    c.run(progress=False)
    strands = {**m.scenario.to_dict(), "strands": {}}
    alone = GMModel(Scenario.from_dict(strands))
    alone.run(progress=False)
    assert np.array_equal(c.results.stock, alone.results.stock)
    m.step()
    with pytest.raises(ValueError, match="month 0"):
        comparator_of(m)


@pytest.mark.parametrize("records", [False, True])
def test_shared_runs_evaluate_each_funded_run_against_their_trunk_as_a_pair_does(records):
    sc = load_scenario(SC / "working_well.yaml").with_overrides(scale=0.02, months=40)
    pair = evaluated(sc)
    base = load_scenario(SC / "baseline.yaml").with_overrides(scale=0.02, months=40)
    shared = SharedRuns([base, sc, sc], pair.seed, records=records)
    shared.run()
    assert shared.trunk.interventions == []
    for k in (1, 2):
        for a, b in zip(pair.interventions, shared.models[k].interventions, strict=True):
            if a.name != "in_work":
                assert a.impact.totals[0, 0, 0] > 0, a.name
            assert np.array_equal(a.impact.totals, b.impact.totals), a.name


def month_values(values: dict[str, list[int]], slots: list[int], n: int = 30):
    """``Population.month_values()`` of a made-up run: the given values at ``slots``, a blank person elsewhere."""
    people = People.blank(n)
    people.exit_event[:] = 0
    for field, column in values.items():
        getattr(people, field)[slots] = column
    nobody = np.zeros(0, dtype=np.int64)
    return columns((people, nobody, people.take(nobody)))


def test_following_a_cohort_counts_each_measure_as_defined():
    # Two people (slots 10 and 20) referred in month 1, followed for 6 months in a made-up run and comparator.
    impact = CohortImpact()
    employed = {  # (treated, comparison) labour states month by month
        0: ([2, 0, 0, 0, 0, 0], [2, 2, 0, 0, 0, 0]),
        1: ([0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 2]),
    }
    entry = codes.T["out_of_work_to_in_work"]
    for month in range(1, 7):
        sides = []
        for side in (0, 1):
            state = [employed[p][side][month - 1] for p in (0, 1)]
            before = [employed[p][side][month - 2] if month > 1 else 2 for p in (0, 1)]
            values = {
                "state": state,
                "labour_event": [entry if (b == 2 and s == 0) else -1 for b, s in zip(before, state, strict=True)],
                "benefit": [codes.JOBSEEKER if s == 2 else codes.NO_BENEFIT for s in state],
                "severity": [1, 2],
            }
            sides.append(month_values(values, [10, 20]))
        referred = np.array([10, 20]) if month == 1 else np.zeros(0, dtype=np.int64)
        impact.follow(month, referred, *sides)
        assert impact.slots.tolist() == ([10, 20] if month < 6 else [10, 20])
    t = dict(zip(MEASURES, impact.totals[HORIZONS.index(6)], strict=True))
    # Treated: person 0 starts in month 2 (5 months in work), person 1 in month 1 and works all 6.
    # Comparison: person 0 starts in month 3 (4 months), person 1 in month 1 and loses the job in month 6.
    assert t["followed"].tolist() == [2, 2]
    assert t["started_work"].tolist() == [2, 2]
    assert t["job_26_weeks"].tolist() == [1, 0]
    assert t["in_work"].tolist() == [2, 1]
    assert t["months_in_work"].tolist() == [11, 9]
    assert t["months_on_benefit"].tolist() == [1, 3]
    assert t["severity"].tolist() == [3, 3]


def test_someone_who_leaves_in_either_run_is_followed_no_further():
    impact = CohortImpact()
    stay = month_values({"state": [0, 0]}, [1, 2])
    left = month_values({"state": [0, 0], "exit_event": [0, 2]}, [1, 2])
    impact.follow(1, np.array([1, 2]), stay, stay)
    impact.follow(2, np.zeros(0, dtype=np.int64), stay, left)
    assert impact.slots.tolist() == [1]


def test_a_person_held_apart_has_their_own_values():
    # A shared run's branch holds its diverged people apart from the trunk's arrays.
    impact = CohortImpact()
    trunk = month_values({"state": [2, 2], "labour_event": [-1, -1]}, [3, 7])
    people = People.blank(30)
    people.exit_event[:] = 0
    people.state[[3, 7]], people.labour_event[[3, 7]] = 2, -1
    own = people.take(np.array([7]))
    own.state[0], own.labour_event[0] = 0, codes.T["out_of_work_to_in_work"]
    treated = columns((people, np.array([7]), own))
    impact.follow(1, np.array([3, 7]), treated, trunk)
    for month in range(2, 7):
        impact.follow(month, np.zeros(0, dtype=np.int64), treated, trunk)
    t = dict(zip(MEASURES, impact.totals[HORIZONS.index(6)], strict=True))
    assert t["started_work"].tolist() == [1, 0] and t["months_in_work"].tolist() == [6, 0]


def test_a_run_writes_its_cohort_impact_to_summary_json_and_a_table(tmp_path):
    out = tmp_path / "pilot"
    code = main(
        [str(SC / "working_well_pilot.yaml"), "--scale", "0.02", "--months", "20", "--out", str(out), "--quiet"]
    )
    assert code == 0
    block = json.loads((out / "summary.json").read_text())["strands"]["work_and_health"]["cohort_impact"]
    assert set(block) == {f"{h}m" for h in HORIZONS}
    twelve = block["12m"]
    assert twelve["followed"] > 1000 and set(twelve) == {"followed", *MEASURES[1:]}
    assert twelve["started_work"]["impact"] == pytest.approx(
        twelve["started_work"]["treated"] - twelve["started_work"]["comparison"]
    )
    assert block["36m"]["followed"] == 0 and block["36m"]["in_work"]["impact"] is None
    import pandas as pd

    table = pd.read_csv(out / "cohort_impact.csv")
    row = table[(table.horizon_months == 12) & (table.measure == "started_work")].iloc[0]
    assert row.treated == pytest.approx(twelve["started_work"]["treated"])


def test_a_model_run_on_its_own_has_no_cohort_impact():
    m = GMModel(work_and_health({"out_of_work_to_in_work": 2.0}, months=3))
    m.run(progress=False)
    assert summary(m)["strands"]["work_and_health"]["cohort_impact"] is None


def test_the_pilot_reproduces_rr946_no_gain_in_early_job_starts_and_a_gain_in_jobs_lasting_26_weeks():
    # DWP RR946: 4.7% of participants and of a matched comparison group started work early on; the pilot's
    # gain showed in jobs lasting 26+ weeks. The cohort impact reads the same from summary.json's figures.
    m = evaluated(load_scenario(SC / "working_well_pilot.yaml").with_overrides(scale=0.25))
    ci = summary(m)["strands"]["work_and_health"]["cohort_impact"]
    started = ci["12m"]["started_work"]
    assert abs(started["impact"]) < 0.01
    assert 0.03 < started["comparison"] < 0.07  # RR946's 4.7%
    assert ci["24m"]["job_26_weeks"]["impact"] > 0 and ci["36m"]["job_26_weeks"]["impact"] > 0


def test_a_large_run_follows_a_sample_of_referrals_the_same_in_every_run_and_counts_them_in_people():
    from gmsim.evaluation import SAMPLE_SCALE, sample_share

    assert sample_share(0.05) == sample_share(SAMPLE_SCALE) == 1 and sample_share(1.0) == pytest.approx(0.1)
    sc = work_and_health({"out_of_work_to_in_work": 1.5}, months=8, scale=0.25)
    m = evaluated(sc)
    iv = m.interventions[0]
    followed = cohort_impact(iv.impact.in_people)["6m"]["followed"]
    referred_by_month_3 = iv.counts[1:4, 1].sum() / m.scale  # counter 1: referred (people)
    assert iv.impact.share == pytest.approx(0.4)
    # a 40% sample of the first three months' referrals, scaled up: within 5 binomial standard errors
    n = referred_by_month_3 * m.scale
    assert abs(followed - referred_by_month_3) < 5 * np.sqrt(n * 0.4 * 0.6) / (0.4 * m.scale)
    assert followed < referred_by_month_3 * 1.1  # (leavers are followed no further)
