"""Shared runs: every run advanced over a shared trunk is bit-identical to the same run on its own."""

import os
from pathlib import Path

import numpy as np
import pytest

from gmsim import codes
from gmsim.codes import SUPPORTED
from gmsim.ensemble import Task, execute, groups, load_record, parameter_draws
from gmsim.interventions import REGISTRY, Intervention, register
from gmsim.model import GMModel
from gmsim.scenario import Scenario, load_scenario
from gmsim.shared import SharedRuns, trunk_key

SC = Path(__file__).resolve().parents[1] / "scenarios"
SCALE, MONTHS, SEED = 0.02, 60, 17
NAMES = ("baseline", "working_well", "equal_split", "in_work", "working_well_pilot", "care_and_support")


#: Stronger effects than the shipped medians, so that every funded run diverges from the trunk for somebody
#: at this small scale (these tests are of the shared runs' bookkeeping, not of the effects).
STRONGER = {
    "care_and_support": {"effects.inactive_to_out_of_work": 2.0, "effects.health_worsening": 0.5, "support_months": 24},
    "work_and_health": {"effects.health_recovery": 1.6},
}


def scenarios(names=NAMES, **overrides):
    out = []
    for n in names:
        data = load_scenario(SC / f"{n}.yaml").with_overrides(scale=SCALE, months=MONTHS, **overrides).to_dict()
        for strand, spec in data["strands"].items():
            spec["parameters"] = {**STRONGER.get(strand, {}), **(spec.get("parameters") or {})}
        out.append(Scenario.from_dict(data))
    return out


def assert_same_run(shared: SharedRuns, k: int, alone: GMModel) -> None:
    """Everything a run leaves behind is the same, array by array."""
    m = shared.models[k]
    for name in ("stock", "spells", "flows", "cohort"):
        assert np.array_equal(getattr(m.results, name), getattr(alone.results, name)), name
    # The market's state, not only what it led to: a search off by a unit would show here first.
    for name in (
        "search",
        "search_by_sector",
        "capacity",
        "factors",
        "sector_factors",
        "rejoin",
        "vacancies",
        "employed",
    ):
        assert np.array_equal(getattr(m.market, name), getattr(alone.market, name)), name
    for a, b in zip(m.interventions, alone.interventions, strict=True):
        assert np.array_equal(a.counts, b.counts), a.name
        for name, mine, theirs in zip(a.caseload.records._fields, a.caseload.records, b.caseload.records, strict=True):
            assert np.array_equal(mine, theirs), f"{a.name}.{name}"
    # The in-work strand marks only the staff whose month its effects could change, and the sampled pathways'.
    staff_bits = sum(1 << iv.index for iv in m.interventions if iv.reaches_employers)
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
    shared = SharedRuns(scs, SEED, draws, records=many, find_movable=many)
    trunk = shared.trunk.population
    assert (trunk.records is not None) == many
    shared.run()
    assert (trunk.view.movable is not None) == many
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
    trunk = shared.trunk.population
    assert {ivs[0].name for ivs in trunk.screened} == {"work_and_health", "early_help", "care_and_support"}
    largest = max(b.hazard_multipliers.largest for b in shared.branches)
    assert 1 < largest <= trunk.largest < 3


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

    defaults = {
        "unit_cost_gbp": 100,
        "support_months": 6,
        "max_wait_months": 2,
        "routes": {"self": {"rate": 0.5, "take_up": 1.0}},
    }

    def eligible(self, people):
        return people.state == codes.AT_RISK

    def apply_effects(self, multipliers):
        multipliers.multiply("at_risk_to_out_of_work", self.caseload.participants(SUPPORTED), 4.0)


@pytest.mark.parametrize("records", [False, True], ids=["arrays", "records"])
def test_a_module_with_no_bound_on_its_ratios_makes_in_work_list_all_its_staff_and_runs_still_match(records):
    register(_Boost)
    try:
        base, iw = (s.with_overrides(months=36) for s in scenarios(("baseline", "in_work")))
        strands = {**iw.to_dict()["strands"], "test_shared_boost": {"budget_gbp_per_year": 2e8}}
        boosted = Scenario.from_dict({**iw.to_dict(), "name": "boosted", "strands": strands})
        shared = SharedRuns([base, iw, boosted], SEED, records=records)
        shared.run()
        assert shared.trunk.population.largest is None
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
    from gmsim.shared import runs

    scs = scenarios(("baseline", "working_well", "in_work", "early_help"))
    monkeypatch.setattr(runs, "RECORDS_FROM", 3)
    shared = SharedRuns(scs, SEED)
    branch, records = shared.branches[0], shared.trunk.population.records
    assert records is not None and branch.people.state.base is not None  # views of the records
    assert all(np.array_equal(a, b) for a, b in zip(branch.people, shared.trunk.people, strict=True))
    branch.people.state[5] = 9
    assert records["state"][5] == 9 and shared.trunk.people.state.base is None  # the trunk keeps arrays
    monkeypatch.setattr(runs, "RECORDS_FROM", 4)
    assert SharedRuns(scs, SEED).trunk.population.records is None


def test_every_model_of_shared_runs_keeps_mesa_s_step_count():
    shared = SharedRuns(scenarios(("baseline", "working_well", "in_work")), SEED)
    shared.run(5)
    assert [m.steps for m in shared.models] == [5, 5, 5]
    assert [m.month for m in shared.models] == [5, 5, 5]
    assert all(len(m.datacollector.get_model_vars_dataframe()) == 6 for m in shared.models)  # month 0 and five


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


def test_the_trunks_staff_table_corrected_for_a_runs_diverged_people_gives_the_counts_of_its_own_people():
    from gmsim.interventions import kernels
    from gmsim.shared import kernels as shared_kernels

    rng = np.random.default_rng(3)
    n, n_emp = 20_000, 300
    borough = rng.integers(0, 10, n).astype(np.int8)
    employer = np.where(rng.random(n) < 0.3, -1, rng.integers(0, n_emp, n)).astype(np.int32)
    emp_status = rng.integers(0, 6, n_emp).astype(np.int8)
    emp_events = rng.integers(0, 16, n_emp).astype(np.uint8) * (rng.random(n_emp) < 0.2)
    staff = np.empty(n, dtype=np.int8)
    # the trunk's staff table, corrected for 50 diverged people, gives staff_pass's counts
    table = shared_kernels.staff_table(employer, borough, n_emp, 10)
    assert np.array_equal(table.sum(axis=1), kernels.headcount(employer, n_emp))
    diverged = np.sort(rng.choice(n, 50, replace=False))
    theirs = employer.copy()
    theirs[diverged] = np.where(rng.random(50) < 0.5, -1, rng.integers(0, n_emp, 50))
    their_borough = borough.copy()
    their_borough[diverged] = rng.integers(0, 10, 50)
    for args in ((theirs, their_borough), (employer, borough)):
        want_status, want_event = np.zeros((6, 10), dtype=np.int64), np.zeros((4, 10), dtype=np.int64)
        kernels.staff_pass(*args[:1], emp_status, emp_events, args[1], staff, want_status, want_event, SUPPORTED, 4)
        got_status, got_event = np.zeros((6, 10), dtype=np.int64), np.zeros((4, 10), dtype=np.int64)
        for quiet in range(6):  # whichever status is counted from the total, and events in every status
            got_status, got_event = np.zeros((6, 10), dtype=np.int64), np.zeros((4, 10), dtype=np.int64)
            shared_kernels.staff_counts(
                table,
                table.sum(axis=0, dtype=np.int64),
                emp_status,
                emp_events,
                quiet,
                employer[diverged],
                borough[diverged],
                args[0][diverged],
                args[1][diverged],
                got_status,
                got_event,
            )
            assert np.array_equal(got_status, want_status) and np.array_equal(got_event, want_event)
    movable = np.sort(rng.choice(np.flatnonzero(employer >= 0), 3000, replace=False))
    grouped, offsets = shared_kernels.by_employer(movable, employer, n_emp)
    for e in range(n_emp):
        assert np.array_equal(grouped[offsets[e] : offsets[e + 1]], movable[employer[movable] == e])
    diverged = np.union1d(diverged, movable[:40])  # some of the listed staff diverged too
    theirs[diverged] = np.where(rng.random(len(diverged)) < 0.3, -1, rng.integers(0, n_emp, len(diverged)))
    a, b = shared_kernels.staff_among(grouped, offsets, diverged, theirs[diverged], emp_status, SUPPORTED, 4)
    among = np.union1d(movable, diverged)
    status_of = np.append(emp_status, np.int8(-1))[theirs[among]]
    assert np.array_equal(a, among[status_of == SUPPORTED]) and np.array_equal(b, among[status_of == 4])
    assert len(a) > 100 and len(b) > 100 and np.isin(a, diverged).any()


def test_shared_runs_with_a_posterior_baseline_set_are_each_the_run_on_its_own():
    from gmsim.parameters import posterior_sets

    baseline = dict(posterior_sets()[7])  # as an ensemble's replicate draws it (parameter uncertainty on)
    scs = [s.with_overrides(months=24) for s in scenarios(("baseline", "working_well", "in_work"))]
    shared = SharedRuns(scs, SEED, parameters=baseline)
    shared.run()
    for k, s in enumerate(scs):
        alone = GMModel(s, rng=SEED, parameters=baseline)
        alone.run(progress=False)
        assert_same_run(shared, k, alone)
    at_the_mean = GMModel(scs[0], rng=SEED)
    at_the_mean.run(progress=False)
    assert not np.array_equal(at_the_mean.results.stock, shared.models[0].results.stock)


@pytest.mark.parametrize("many, withdrawal", [(False, 1.0), (True, 0.5)], ids=["arrays", "records-stock"])
def test_shared_runs_in_a_shock_that_falls_on_sectors_are_the_runs_alone(many, withdrawal):
    """A pandemic: job loss by the sector of each person's employer, hires drawn by sectors' vacancies, and
    each run's people with an employer counted by sector (a branch's from the trunk's and its own people's);
    in one case with half the unfilled vacancies kept open (each run's vacancy stock from its own search).
    """
    names = ("baseline", "working_well", "in_work")
    scs = []
    for s in scenarios(names):
        data = s.to_dict()
        data["economy"] = {"shape": "pandemic", "start_month": 4}
        data["months"] = 30
        data["parameters"] = {**data.get("parameters", {}), "labour_market.vacancy_withdrawal": withdrawal}
        scs.append(Scenario.from_dict(data))
    draws = [parameter_draws(s, SEED) for s in scs]
    shared = SharedRuns(scs, SEED, draws, records=many, find_movable=many)
    shared.run()
    assert shared.trunk.market.by_sector and shared.trunk.market.employed[20].sum() > 0
    for k, (s, d) in enumerate(zip(scs, draws, strict=True)):
        alone = GMModel(s, rng=SEED, intervention_draws=d)
        alone.run(progress=False)
        assert_same_run(shared, k, alone)
    assert not np.array_equal(shared.models[1].market.employed, shared.trunk.market.employed)
    stock = [m.market.stock for m in shared.models]
    assert all(np.all(a == 1) for a in stock) if withdrawal == 1 else not np.array_equal(stock[0], stock[1])


def test_a_funded_run_beside_its_comparator_as_shared_runs_is_the_run_alone():
    from gmsim.evaluation import run_evaluated
    from gmsim.model import run

    scenario = scenarios(("working_well",))[0]
    shared = run(scenario, rng=SEED)  # the scenario as a branch over its comparator
    alone = GMModel(scenario, rng=SEED)
    run_evaluated(alone, progress=False)
    assert isinstance(shared.population, type(alone.population))  # its own people once the run ends
    for name in ("stock", "spells", "flows", "cohort", "moves"):
        assert np.array_equal(getattr(shared.results, name), getattr(alone.results, name)), name
    assert shared.results.moves.sum() > 0
    for field, mine, theirs in zip(alone.people._fields, shared.people, alone.people, strict=True):
        assert np.array_equal(mine, theirs), field
    assert np.array_equal(shared.entries_gained, alone.entries_gained)
    for a, b in zip(shared.interventions, alone.interventions, strict=True):
        assert np.array_equal(a.counts, b.counts) and np.array_equal(a.impact.totals, b.impact.totals), a.name
    assert np.array_equal(shared.market.factors, alone.market.factors)
    for name, rows in shared.pathways.data.items():
        assert all(np.array_equal(x, y) for x, y in zip(rows, alone.pathways.data[name], strict=True)), name
