"""Shared runs: every run advanced over a shared trunk is bit-identical to the same run on its own."""

import os
from pathlib import Path

import numpy as np
import pytest

from gmsim import codes
from gmsim import shared as shared_module
from gmsim.ensemble import Task, execute, groups, load_record, parameter_draws
from gmsim.interventions.base import REGISTRY, SUPPORTED, Intervention, register
from gmsim.model import GMModel
from gmsim.scenario import Scenario, load_scenario
from gmsim.shared import SharedRuns, trunk_key

SC = Path(__file__).resolve().parents[1] / "scenarios"
SCALE, MONTHS, SEED = 0.02, 60, 17
NAMES = ("baseline", "working_well", "equal_split", "in_work", "working_well_pilot", "care_and_support")


def scenarios(names=NAMES, **overrides):
    return [load_scenario(SC / f"{n}.yaml").with_overrides(scale=SCALE, months=MONTHS, **overrides) for n in names]


def assert_same_run(shared: SharedRuns, k: int, alone: GMModel) -> None:
    """Everything a run leaves behind is the same, array by array."""
    m = shared.models[k]
    for name in ("stock", "spells", "flows", "cohort"):
        assert np.array_equal(getattr(m.results, name), getattr(alone.results, name)), name
    for a, b in zip(m.interventions, alone.interventions, strict=True):
        for name in (
            "counts",
            "cohort",
            "status",
            "status_month",
            "referred_month",
            "started_month",
            "job_month",
            "flags",
        ):
            assert np.array_equal(getattr(a, name), getattr(b, name)), f"{a.name}.{name}"
    # The in-work strand marks only the staff whose month its effects could change, and the sampled pathways'.
    staff_bits = sum(1 << iv.index for iv in m.interventions if iv.reads_staff_table)
    others = np.uint16(~staff_bits & 0xFFFF)
    assert np.array_equal(m.participation & others, alone.participation & others)
    assert not np.any(m.participation & ~alone.participation)
    for field, mine, theirs in zip(alone.people._fields, shared.own_people(k), alone.people, strict=True):
        assert np.array_equal(mine, theirs), field
    for name, rows in m.pathways.data.items():
        assert all(np.array_equal(x, y) for x, y in zip(rows, alone.pathways.data[name], strict=True)), name
    assert m.datacollector.get_model_vars_dataframe().equals(alone.datacollector.get_model_vars_dataframe())


@pytest.fixture(scope="module")
def alone_runs():
    scs = scenarios()
    draws = [parameter_draws(s, SEED) for s in scs]  # parameter uncertainty on: each run its own effects
    alone = []
    for s, d in zip(scs, draws, strict=True):
        m = GMModel(s, rng=SEED, intervention_draws=d)
        m.run(progress=False)
        alone.append(m)
    return scs, draws, alone


@pytest.fixture(scope="module", params=["arrays", "records"])
def shared_and_alone(request, alone_runs):
    """The runs shared, with the people held as arrays and as records, and the runs alone.

    Held as records, the trunk also finds everyone who could move each month, as it does with many runs
    (``MOVABLE_FROM``), so that the strands give multipliers only to them; as arrays it does not.
    """
    scs, draws, alone = alone_runs
    many = request.param == "records"
    default = shared_module.MOVABLE_FROM
    shared_module.MOVABLE_FROM = 1 if many else 100
    try:
        shared = SharedRuns(scs, SEED, draws, records=many)
        assert (shared._records is not None) == many
        shared.run()
    finally:
        shared_module.MOVABLE_FROM = default
    assert (shared._month_view[4] is not None) == many
    return shared, alone


@pytest.mark.parametrize("k", range(len(NAMES)), ids=NAMES)
def test_a_shared_run_is_the_run_on_its_own(shared_and_alone, k):
    shared, alone = shared_and_alone
    assert_same_run(shared, k, alone[k])


def test_the_baseline_is_the_trunk_and_the_branches_diverge_for_few_people(shared_and_alone):
    shared, alone = shared_and_alone
    assert shared.models[0] is shared.trunk and shared.diverged(0) == 0
    n = shared.trunk.people.n
    for k in range(1, len(NAMES)):
        # every funded run differs from the trunk for somebody, and for a small minority (docs: 0.4-2.7%)
        assert 0 < shared.diverged(k) < 0.05 * n, (NAMES[k], shared.diverged(k))
        # the counting is what differs: those people are exactly where the run's people differ
        differs = np.zeros(n, dtype=bool)
        for mine, trunk in zip(shared.own_people(k), shared.trunk.people, strict=True):
            differs |= mine != trunk
        assert differs.sum() == shared.diverged(k)


def test_the_trunk_screens_everyone_once_for_runs_with_the_same_strand_and_bounds_their_multipliers(shared_and_alone):
    shared, _ = shared_and_alone
    # working_well, equal_split, the pilot and care_and_support share strands (the same parameter draws),
    # so the matches above were made from the trunk's screens corrected by each run, and in-work's short lists
    assert {ivs[0].name for ivs in shared._screened} == {"work_and_health", "early_help", "care_and_support"}
    largest = max(b.hazard_multipliers.largest for b in shared.branches)
    assert 1 < largest <= shared._largest < 3


@pytest.mark.parametrize("records", [False, True], ids=["arrays", "records"])
def test_runs_match_when_people_die_in_one_and_not_the_other(records):
    # The strands change who has a complex condition; with such conditions made very deadly, some people
    # die in a funded run and not in the baseline (or the other way), and the entrants in their slots differ.
    names = ("baseline", "working_well", "equal_split")
    scs = [
        Scenario.from_dict({**s.to_dict(), "parameters": {"demography.mortality_complex_ratio": 200.0}})
        for s in scenarios(names)
    ]
    shared = SharedRuns(scs, SEED, records=records)
    shared.run()
    entrants_differ = [
        int((shared.own_people(k).person_id != shared.trunk.people.person_id).sum()) for k in range(1, len(names))
    ]
    assert sum(entrants_differ) > 0, entrants_differ
    for k in range(1, len(names)):  # and a run keeps just the people who differ
        mine, trunk = shared.own_people(k), shared.trunk.people
        assert sum((x != y) for x, y in zip(mine, trunk, strict=True)).astype(bool).sum() == shared.diverged(k)
    for k, s in enumerate(scs):
        alone = GMModel(s, rng=SEED)
        alone.run(progress=False)
        assert_same_run(shared, k, alone)


class _Boost(Intervention):
    """An intervention whose own apply_effects gives ratios that its parameters do not show."""

    name = "test_shared_boost"
    claims = ("in_work_to_at_risk", "at_risk_to_out_of_work")

    @classmethod
    def default_parameters(cls):
        return {
            "unit_cost_gbp": 100,
            "support_months": 6,
            "after_months": 0,
            "in_work_support_months": 0,
            "max_wait_months": 2,
            "dropout_rate": 0.0,
            "max_referrals": None,
            "routes.self.rate": 0.5,
            "routes.self.take_up": 1.0,
        }

    def eligible(self, model):
        return model.people.state == codes.AT_RISK

    def apply_effects(self, model, mult):
        mult.multiply("at_risk_to_out_of_work", self._with_status(SUPPORTED), 4.0)


@pytest.mark.parametrize("records", [False, True], ids=["arrays", "records"])
def test_a_module_with_no_bound_on_its_ratios_makes_in_work_list_all_its_staff_and_runs_still_match(records):
    register(_Boost)
    try:
        base, iw = (s.with_overrides(months=36) for s in scenarios(("baseline", "in_work")))
        strands = {**iw.to_dict()["strands"], "test_shared_boost": {"budget_gbp_per_year": 2e8}}
        boosted = Scenario.from_dict({**iw.to_dict(), "name": "boosted", "strands": strands})
        shared = SharedRuns([base, iw, boosted], SEED, records=records)
        shared.run()
        assert shared._largest is None
        assert shared.models[2].hazard_multipliers.largest > 3  # beyond any ratio in the strands' data
        for k, s in enumerate((base, iw, boosted)):
            alone = GMModel(s, rng=SEED)
            alone.run(progress=False)
            assert_same_run(shared, k, alone)
    finally:
        REGISTRY.pop("test_shared_boost", None)


def test_without_a_bare_scenario_a_trunk_is_made_and_not_returned():
    scs = scenarios(("early_help", "work_and_health"))
    shared = SharedRuns(scs, SEED)
    shared.run(24)
    assert shared.trunk not in shared.models and not shared.trunk.interventions
    for k, s in enumerate(scs):
        alone = GMModel(s, rng=SEED)
        alone.run(24, progress=False)
        assert np.array_equal(shared.models[k].results.stock[:25], alone.results.stock[:25])
        for field, mine, theirs in zip(alone.people._fields, shared.own_people(k), alone.people, strict=True):
            assert np.array_equal(mine, theirs), field


def test_many_runs_hold_the_people_as_records(monkeypatch):
    from gmsim import shared as shared_module

    scs = scenarios(("baseline", "working_well", "in_work", "early_help"))
    monkeypatch.setattr(shared_module, "RECORDS_FROM", 3)
    shared = SharedRuns(scs, SEED)
    branch = shared.branches[0]
    assert shared._records is not None and branch.people.state.base is not None  # views of the records
    assert all(np.array_equal(a, b) for a, b in zip(branch.people, shared.trunk.people, strict=True))
    branch.people.state[5] = 9
    assert shared._records["state"][5] == 9 and shared.trunk.people.state.base is None  # the trunk keeps arrays
    monkeypatch.setattr(shared_module, "RECORDS_FROM", 4)
    assert SharedRuns(scs, SEED)._records is None


def test_only_runs_that_differ_in_their_interventions_share_a_trunk():
    base, ww = scenarios(("baseline", "working_well"))
    assert trunk_key(base) == trunk_key(ww) == trunk_key(ww.with_overrides(seed=99))  # the run's seed is given
    tweaked = Scenario.from_dict({**ww.to_dict(), "parameters": {"out_of_work_to_in_work.base": 0.01}})
    for other in (tweaked, ww.with_overrides(months=12), ww.with_overrides(scale=0.03)):
        assert trunk_key(other) != trunk_key(base)
    with pytest.raises(ValueError, match="differ only in their interventions"):
        SharedRuns([base, tweaked], SEED)


def test_tasks_are_grouped_by_replicate_and_trunk_in_near_equal_parts():
    scs = scenarios(("baseline", "working_well", "equal_split", "in_work", "early_help"))
    tasks = [Task(s, r, 1, True) for r in range(2) for s in scs]
    tasks.append(Task(scs[0].with_overrides(months=12), 0, 1, True))  # another trunk
    parts = groups(tasks, size=3)
    assert sorted(len(g) for g in parts) == [1, 2, 2, 3, 3]
    for g in parts:
        assert len({(t.replicate, t.seed, t.draws, trunk_key(t.scenario)) for t in g}) == 1
    assert sorted((t.replicate, t.scenario.name, t.scenario.months) for g in parts for t in g) == sorted(
        (t.replicate, t.scenario.name, t.scenario.months) for t in tasks
    )
    assert [len(g) for g in groups(tasks, size=1)] == [1] * len(tasks)
    # memory bounds a group too: at full scale a funded run needs about 85 MB
    full = [Task(s.with_overrides(scale=1.0), 0, 1, True) for s in scs]
    assert [len(g) for g in groups(full, memory=250 * 2**20)] == [3, 2]
    assert [len(g) for g in groups(full, memory=2**20)] == [1] * 5


def test_workers_on_this_machine_share_half_its_memory_and_a_remote_clusters_get_the_fixed_amount():
    from gmsim.ensemble import SHARED_MEMORY, SHARED_MEMORY_SHARE, shared_memory

    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for dask in (None, "local"):
        assert shared_memory(2, dask) == int(physical * SHARED_MEMORY_SHARE / 2)
        assert shared_memory(4, dask) < shared_memory(1, dask)
    assert shared_memory(2, "tcp://scheduler:8786") == SHARED_MEMORY


def test_an_ensemble_gives_the_same_records_shared_or_not(tmp_path):
    scs = scenarios(("baseline", "working_well", "in_work"))
    tasks = [Task(s.with_overrides(months=24), r, 3, True) for r in range(2) for s in scs]
    shared = execute(tasks, tmp_path / "shared", workers=1, progress=False)
    alone = execute(tasks, tmp_path / "alone", workers=1, progress=False, shared=1)
    for a, b in zip(shared, alone, strict=True):
        ra, rb = load_record(a), load_record(b)
        assert ra["meta"] == rb["meta"]
        assert set(ra) == set(rb) and all(np.array_equal(ra[k], rb[k]) for k in ra if k != "meta")
