"""Each monthly rule against its parameters: exact where the rule is deterministic, otherwise
statistically (shares within 4 standard errors of the exact competing-risks probability)."""

import dataclasses

import numpy as np
import pytest
from conftest import assert_share, make_people

from gmsim import codes
from gmsim.agents.employers import employers_of
from gmsim.agents.people import age_structure, migration
from gmsim.dynamics.benefits import PROPENSITY_INDEX, benefits_step, settle_claims
from gmsim.dynamics.demography import DIED, MOVED_AWAY, demography_step
from gmsim.dynamics.employers import employer_step
from gmsim.dynamics.hazard import dense_multipliers, hazard_groups, no_multipliers
from gmsim.dynamics.health import health_step
from gmsim.dynamics.labour import SEARCH_SHAPE, Market, job_search, labour_step
from gmsim.dynamics.month import BLOCK, Counts, month_step
from gmsim.dynamics.readiness import READINESS_CAP, job_readiness
from gmsim.interventions import HazardMultipliers
from gmsim.model import _entrant_table
from gmsim.parameters import ParameterSet, read_data
from gmsim.results import Results
from gmsim.streams import Streams

N = 100_000
PARAMS = ParameterSet()
TABLES = PARAMS.hazard_tables()
# Two employers: a micro firm without occupational health and a large one with it.
EMP_SIZE = np.array([1, 4], dtype=np.int8)
EMP_OH = np.array([0, 1], dtype=np.int8)
EMPLOYERS = employers_of(
    EMP_SIZE, EMP_OH, np.array([0.4, 0.6]), np.array([4, 7], np.int8), np.array([2, 8], np.int8)
)._replace(cumulative=np.tile([0.4, 1.0], (2, len(codes.BOROUGHS), 1)))
NO_MULT = no_multipliers()
NO_REJOIN = np.zeros(len(codes.SECTORS))  # hires never kept to their last job's sector
REJOIN = np.full(len(codes.SECTORS), 0.42)  # hires kept to it with labour_market.sector_attachment's chance


def expected_hazard(t: str, **levels) -> float:
    """Reference hazard from the named parameters (independent of the kernels' packed tables)."""
    defaults = dict(
        state="in_work",
        severity="none",
        condition="none",
        age_band="35-49",
        sex="female",
        borough="Bolton",
        skills="medium",
        benefit="none",
        duration_band="0-5",
        employer_size="none",
        occupational_health="no",
    )
    defaults.update(levels)
    h = PARAMS.value(f"{t}.base")
    for dim, level in defaults.items():
        h *= PARAMS.value(f"{t}.{dim}.{level}")
    return h


def competing(hazards: dict[str, float]) -> dict[str, float]:
    total = sum(hazards.values())
    return {k: (1 - np.exp(-total)) * h / total for k, h in hazards.items()}


def run_labour(people, mult=NO_MULT, month=1, seed=5):
    labour_step(people, EMPLOYERS, TABLES, mult, Streams(seed).key("labour"), month)


def test_group_tables_reproduce_the_named_parameters():
    p = make_people(
        3,
        state=codes.AT_RISK,
        severity=codes.COMPLEX,
        condition=codes.MULTIPLE,
        age_months=55 * 12,
        skills=0,
        borough=6,
        months_in_state=8,
        employer=0,
    )
    groups = tuple(np.zeros(3, np.int16) for _ in range(3))
    hazard_groups(p, EMPLOYERS, *groups)
    a, b, c = (g[0] for g in groups)
    base, ga, gb, gc = TABLES.kernel
    for t in codes.TRANSITIONS:
        ti = codes.T[t]
        got = base[ti] * ga[a, ti] * gb[b, ti] * gc[c, ti]
        want = expected_hazard(
            t,
            state="at_risk",
            severity="complex",
            condition="multiple",
            age_band="50-64",
            skills="low",
            borough="Stockport",
            duration_band="6-11",
            employer_size="micro",
        )
        assert got == pytest.approx(want, rel=1e-12), t


@pytest.mark.parametrize("severity", [codes.NO_CONDITION, codes.MODERATE])
def test_in_work_transitions(severity):
    p = make_people(N, state=codes.IN_WORK, severity=severity, condition=1 if severity else 0, employer=1)
    run_labour(p)
    sev = codes.SEVERITIES[severity]
    h = {
        t: expected_hazard(
            t,
            severity=sev,
            condition="mental_health" if severity else "none",
            employer_size="large",
            occupational_health="yes",
        )
        for t in ("in_work_to_at_risk", "in_work_to_out_of_work", "in_work_to_inactive")
    }
    for t, prob in competing(h).items():
        assert_share(int((p.labour_event == codes.T[t]).sum()), N, prob, t)
    moved = p.labour_event >= 0
    assert np.all(p.months_in_state[moved] == 0) and np.all(p.months_in_state[~moved] == 1)
    assert np.all(p.state[p.labour_event == codes.T["in_work_to_at_risk"]] == codes.AT_RISK)


@pytest.mark.parametrize("months", [2, 8])
def test_at_risk_transitions_and_end_of_sick_pay(months):
    p = make_people(N, state=codes.AT_RISK, severity=codes.MODERATE, condition=2, months_in_state=months, employer=0)
    run_labour(p)
    band = "0-5" if months < 6 else "6-11"
    h = {
        t: expected_hazard(
            t,
            state="at_risk",
            severity="moderate",
            condition="musculoskeletal",
            duration_band=band,
            employer_size="micro",
        )
        for t in ("at_risk_to_in_work", "at_risk_to_out_of_work", "at_risk_to_inactive")
    }
    for t, prob in competing(h).items():
        assert_share(int((p.labour_event == codes.T[t]).sum()), N, prob, t)


@pytest.mark.parametrize(
    "benefit,months", [(codes.JOBSEEKER, 3), (codes.LIMITED_CAPABILITY, 30), (codes.SUPPORT_GROUP, 70)]
)
def test_out_of_work_transitions_with_duration_dependence(benefit, months):
    p = make_people(
        N,
        state=codes.OUT_OF_WORK,
        benefit=benefit,
        months_in_state=months,
        severity=benefit if benefit > 1 else 0,
        condition=1 if benefit > 1 else 0,
    )
    p.job_readiness[:] = job_readiness(p.person_id, Streams(5).key("demography"), TABLES.job_readiness_sd)
    run_labour(p)
    sev = codes.SEVERITIES[benefit] if benefit > 1 else "none"
    bands = zip(reversed(codes.DURATION_BANDS), reversed(codes.DURATION_BAND_LOWER_MONTHS), strict=True)
    band = next(b for b, lo in bands if months >= lo)
    h = {
        t: expected_hazard(
            t,
            state="out_of_work",
            benefit=codes.BENEFITS[benefit],
            duration_band=band,
            severity=sev,
            condition="mental_health" if benefit > 1 else "none",
        )
        for t in ("out_of_work_to_in_work", "out_of_work_to_inactive")
    }
    # job entry is multiplied by each person's job readiness: the expected shares average over people
    ready = p.job_readiness.astype(np.float64)
    entry, other = h["out_of_work_to_in_work"] * ready, h["out_of_work_to_inactive"]
    total = entry + other
    for t, hazard in (("out_of_work_to_in_work", entry), ("out_of_work_to_inactive", other)):
        prob = float(np.mean((1 - np.exp(-total)) * hazard / total))
        assert_share(int((p.labour_event == codes.T[t]).sum()), N, prob, t)
    # the more job-ready enter work more often
    moved = p.labour_event == codes.T["out_of_work_to_in_work"]
    assert ready[moved].mean() > ready[~moved].mean()


def test_job_readiness_is_lognormal_with_mean_one_and_fixed_for_a_person():
    sd = 0.5
    z = job_readiness(np.arange(N), Streams(6).key("demography"), sd).astype(np.float64)
    se = np.sqrt((np.exp(sd**2) - 1) / N)
    assert abs(z.mean() - 1) < 4 * se
    assert np.log(z).std() == pytest.approx(sd, rel=0.02)
    assert np.array_equal(z, job_readiness(np.arange(N), Streams(6).key("demography"), sd))
    assert np.all(job_readiness(np.arange(10), Streams(6).key("demography"), 0.0) == 1.0)
    assert z.max() <= np.exp(sd * READINESS_CAP - sd**2 / 2)


def test_duration_dependence_lowers_job_entry():
    short = make_people(N, state=codes.OUT_OF_WORK, benefit=codes.LIMITED_CAPABILITY, months_in_state=1)
    long = make_people(N, state=codes.OUT_OF_WORK, benefit=codes.LIMITED_CAPABILITY, months_in_state=80)
    run_labour(short)
    run_labour(long)
    t = codes.T["out_of_work_to_in_work"]
    assert (long.labour_event == t).sum() < 0.5 * (short.labour_event == t).sum()


def test_multipliers_change_only_their_transition():
    base = make_people(N, state=codes.IN_WORK, severity=codes.MILD, condition=1, employer=0)
    boosted = make_people(N, state=codes.IN_WORK, severity=codes.MILD, condition=1, employer=0)
    mult = HazardMultipliers(["in_work_to_at_risk", "in_work_to_inactive"], N)
    mult.multiply("in_work_to_at_risk", np.arange(N // 2), 0.0)  # the first half cannot become at risk
    run_labour(base)
    run_labour(boosted, mult.for_kernels())
    t = codes.T["in_work_to_at_risk"]
    assert (boosted.labour_event[: N // 2] == t).sum() == 0
    assert np.array_equal(base.labour_event[N // 2 :], boosted.labour_event[N // 2 :])


def test_kernels_read_multipliers_of_touched_people_only():
    people = [make_people(N, state=codes.IN_WORK, severity=codes.MILD, condition=1, employer=0) for _ in range(3)]
    mult = HazardMultipliers(["in_work_to_at_risk"], N)
    mult.multiply("in_work_to_at_risk", np.arange(N // 2), 0.0)
    run_labour(people[0], mult.for_kernels())
    run_labour(people[1], dense_multipliers(mult.dense(), mult.rows))  # a row per slot; touched from the values
    untouched = np.zeros(N, dtype=np.uint8)
    run_labour(people[2], dense_multipliers(mult.dense(), mult.rows, untouched))  # as if nobody had a multiplier
    assert np.array_equal(people[0].labour_event, people[1].labour_event)
    t = codes.T["in_work_to_at_risk"]
    assert (people[0].labour_event[: N // 2] == t).sum() == 0 < (people[2].labour_event[: N // 2] == t).sum()


def _all_totals(first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Summed hazards of every combination of levels (a, b, c), added in the kernels' order: shape (a, b, c)."""
    base, ga, gb, gc = TABLES.kernel
    total = np.zeros((ga.shape[0], gb.shape[0], gc.shape[0]))
    for k in range(int(count.max())):
        t = np.minimum(first + k, len(base) - 1)
        h = (base[t] * ga[np.arange(ga.shape[0]), t])[:, None, None] * gb[:, t].T[:, :, None] * gc[:, t].T[:, None, :]
        total += np.where((k < count)[:, None, None], h, 0.0)
    return total


@pytest.mark.parametrize("process", ["labour", "health"])
def test_thinning_bounds_hold_for_every_combination_of_levels(process):
    # The kernels skip the hazards of anyone whose number is at or above the bound of their first-group level,
    # which is exact only if no combination of the other levels has a larger summed hazard.
    levels = TABLES.group_a.shape[0]
    if process == "labour":
        from gmsim.dynamics.labour import _FIRST, labour_bounds

        state = np.arange(levels) // (levels // len(codes.STATES))
        first, count, bound = _FIRST[state], _FIRST[state + 1] - _FIRST[state], labour_bounds(TABLES.kernel)
    else:
        from gmsim.dynamics.health import health_bounds

        first, count = np.full(levels, codes.T["onset_mental_health"]), np.full(levels, 5)
        bound = health_bounds(TABLES.kernel)
    totals = _all_totals(first, count)
    assert np.all(totals.max(axis=(1, 2)) <= bound)
    # ... and is the sum of each transition's largest hazard, so no tighter bound of that form exists.
    largest = sum(
        np.where(k < count, _all_totals(first + k, np.minimum(count - k, 1)).max(axis=(1, 2)), 0.0)
        for k in range(int(count.max()))
    )
    np.testing.assert_allclose(bound, largest, rtol=1e-8)


@pytest.mark.parametrize("with_multipliers", [False, True])
def test_thinning_gives_the_events_of_working_out_every_hazard(with_multipliers):
    from gmsim.dynamics.labour import Market, _labour_everyone, labour_bounds, split_labour_bounds

    rng = np.random.default_rng(3)
    p = make_people(N, state=codes.IN_WORK, employer=1)
    for name, hi in (("state", 4), ("severity", 4), ("condition", 5), ("skills", 3), ("borough", 10), ("sex", 2)):
        getattr(p, name)[:] = rng.integers(0, hi, N)
    p.age_months[:] = rng.integers(16 * 12, 65 * 12, N)
    p.months_in_state[:] = rng.integers(0, 200, N)
    p.benefit[:] = rng.integers(0, 4, N)
    p.employer[:] = rng.integers(-1, 2, N)
    mult = NO_MULT
    if with_multipliers:  # half the people touched, every transition multiplied by 0.3 to 3
        touched = (rng.random(N) < 0.5).astype(np.uint8)
        values = np.where(touched[:, None] == 1, rng.uniform(0.3, 3.0, (N, len(codes.TRANSITIONS))), 1.0)
        values = values.astype(np.float32)
        mult = dense_multipliers(values, np.arange(len(codes.TRANSITIONS), dtype=np.int64), touched)

    # a wide spread of job readiness, so that the bound's allowance for it matters
    p.job_readiness[:] = job_readiness(p.person_id, Streams(8).key("demography"), 1.0)

    # a market that moves job entry (by borough) and the other moves (the economy, by sector) both ways
    phi = rng.uniform(0.7, 1.4, (len(codes.BOROUGHS), len(codes.SECTORS) + 1))  # by borough and last sector
    p.last_sector[:] = rng.integers(-1, len(codes.SECTORS), N)
    economy = np.ones((len(codes.SECTORS) + 1, len(codes.TRANSITIONS)))
    economy[:, : codes.N_LABOUR] = rng.uniform(0.5, 2.0, (len(codes.SECTORS) + 1, codes.N_LABOUR))
    top = economy[:, : codes.N_LABOUR].max() * (1 + 1e-9)
    market = Market(phi, phi.max() * (1 + 1e-9), economy, top, REJOIN)

    def run(bound, mult):
        q = make_people(N)
        for name in p._fields:
            getattr(q, name)[:] = getattr(p, name)
        _labour_everyone(q, EMPLOYERS, TABLES.kernel, bound, mult, market, Streams(9).key("labour"), 4, 4)
        return q

    levels = TABLES.group_a.shape[0]
    thinned = run(split_labour_bounds(TABLES.kernel), mult)
    full = run(np.full((2, levels), np.inf), mult)
    assert np.array_equal(thinned.labour_event, full.labour_event)
    assert np.array_equal(thinned.months_in_state, full.months_in_state)
    assert (thinned.labour_event >= 0).sum() > 1000  # plenty of moves, of every kind of state
    # the bound must allow for each person's job readiness: without it, job entries are lost
    blind = np.stack([labour_bounds(TABLES.kernel), np.zeros(levels)])
    assert (run(blind, mult).labour_event >= 0).sum() < (full.labour_event >= 0).sum()
    if with_multipliers:  # ... and for the largest multiplier
        unscaled = run(split_labour_bounds(TABLES.kernel), mult._replace(largest=1.0))
        assert (unscaled.labour_event >= 0).sum() < (full.labour_event >= 0).sum()


def test_health_events_and_their_effects():
    p = make_people(
        N, state=codes.OUT_OF_WORK, severity=codes.MILD, condition=codes.MUSCULOSKELETAL, age_months=30 * 12
    )
    health_step(p, EMPLOYERS, TABLES, NO_MULT, Streams(2).key("health"), 1)
    lv = dict(state="out_of_work", severity="mild", condition="musculoskeletal", age_band="25-34")
    names = ("onset_mental_health", "onset_musculoskeletal", "onset_other", "health_worsening", "health_recovery")
    probs = competing({t: expected_hazard(t, **lv) for t in names})
    for t, prob in probs.items():
        assert_share(int((p.health_event == codes.T[t]).sum()), N, prob, t)
    ev = p.health_event
    assert np.all(p.condition[ev == codes.T["onset_mental_health"]] == codes.MULTIPLE)
    assert np.all(p.condition[ev == codes.T["onset_musculoskeletal"]] == codes.MUSCULOSKELETAL)
    assert np.all(p.severity[ev == codes.T["health_worsening"]] == codes.MODERATE)
    recovered = ev == codes.T["health_recovery"]
    assert np.all((p.severity[recovered] == 0) & (p.condition[recovered] == 0))
    assert np.all(p.severity[ev == -1] == codes.MILD)


def test_worklessness_raises_mental_health_onset():
    assert expected_hazard("onset_mental_health", state="out_of_work") > expected_hazard("onset_mental_health")
    assert expected_hazard("health_recovery", state="out_of_work", severity="mild") < expected_hazard(
        "health_recovery", severity="mild"
    )


def test_demography_exits_deaths_moves_and_newcomers():
    n = N
    age = np.where(np.arange(n) < 1000, 65 * 12 - 1, 58 * 12).astype(np.int16)
    p = make_people(
        n,
        age_months=age,
        severity=np.where(np.arange(n) % 2 == 0, codes.COMPLEX, 0),
        state=codes.OUT_OF_WORK,
        benefit=codes.SUPPORT_GROUP,
        employer=-1,
        borough=3,
    )
    t, new = PARAMS.hazard_tables(), _entrant_table()
    demography_step(p, t, new, Streams(4).key("demography"), 3)
    left = p.exit_event > 0
    # everyone turning 65 leaves (unless they died first this month)
    assert np.all(p.exit_event[:1000] > 0)
    assert np.all(p.state[left] <= codes.INACTIVE) and np.all(p.benefit[left] == 0) and np.all(p.employer[left] == -1)
    assert len(np.unique(p.person_id)) == n
    assert np.all(p.exit_borough[left] == 3)  # exits are counted where the leaver lived
    # newcomers' boroughs follow the arrivals, not the leaver's; 16-year-olds arrive in education
    assert len(np.unique(p.borough[left])) > 5
    young = left & (p.age_months == 16 * 12)
    assert np.all(p.state[young] == codes.INACTIVE) and young.sum() > 0
    # deaths at 58: monthly probability from the 50-64 band, x ratio for complex conditions
    q = t.monthly_mortality[3]
    rest = np.arange(n) >= 1000
    complex_ = rest & (np.arange(n) % 2 == 0)
    assert_share(
        int((p.exit_event[complex_] == DIED).sum()), int(complex_.sum()), q * t.mortality_complex_ratio, "deaths"
    )
    # moves away at 58 in Oldham: the hazard that keeps Oldham's age structure (nobody else died)
    others = rest & (np.arange(n) % 2 == 1)
    hazard = new.move_away[3, 58 - 16]
    moved = int((p.exit_event[others] == MOVED_AWAY).sum())
    assert_share(moved, int(others.sum()) - int((p.exit_event[others] == DIED).sum()), 1 - np.exp(-hazard), "moves")
    assert np.all(p.age_months[rest & ~left] == 58 * 12 + 1)


def test_newcomers_arrive_as_the_census_age_structure_needs():
    """Arrivals by borough and age, and who arrives in work, follow the tables (4 standard errors)."""
    p = make_people(N, age_months=65 * 12 - 1, borough=0)  # everyone turns 65: N newcomers
    new = _entrant_table()
    demography_step(p, PARAMS.hazard_tables(), new, Streams(5).key("demography"), 2)
    _, arrivals = migration()
    shares = arrivals.sum(axis=1) / arrivals.sum()
    for b in (codes.BOROUGHS.index("Manchester"), codes.BOROUGHS.index("Wigan")):
        assert_share(int((p.borough == b).sum()), N, shares[b], codes.BOROUGHS[b])
    assert_share(int((p.age_months == 16 * 12).sum()), N, arrivals[:, 0].sum() / arrivals.sum(), "16-year-olds")
    movers = p.age_months > 16 * 12
    healthy = movers & (p.severity < codes.MODERATE)
    assert_share(int((p.state[healthy] == codes.IN_WORK).sum()), int(healthy.sum()), new.employed[0], "arrive in work")
    assert np.all(p.state[~movers] == codes.INACTIVE)


def test_migration_balances_in_every_borough():
    """Arrivals a year equal the departures and the 65th birthdays a year, borough by borough."""
    n = age_structure()
    hazard, arrivals = migration()
    departures = (n[:, :-1] * (1 - np.exp(-12 * hazard[:, :-1]))).sum(axis=1)
    assert np.allclose(arrivals.sum(axis=1), departures + n[:, -1])
    census = read_data("population.yaml")["age"]["value"]
    for k, b in enumerate(codes.BOROUGHS):
        assert n[k].sum() == pytest.approx(sum(census[b].values()))
        assert n[k, 20 - 16 : 25 - 16].sum() == pytest.approx(census[b]["20-24"])


def claims_health(seed: int, n: int) -> np.ndarray:
    """Whether each of people ``0 .. n - 1`` (their person ids) claims a health-related benefit they qualify for."""
    propensity = Streams(seed).uniforms("benefits", 0, n, index=PROPENSITY_INDEX)
    return propensity < TABLES.health_claim_take_up


def test_claims_follow_health_and_the_disposition_to_claim_when_looking_for_work():
    key, claims = Streams(1).key("benefits"), claims_health(1, N)
    assert_share(int(claims.sum()), N, TABLES.health_claim_take_up, "disposition to claim")
    # from sickness absence into looking for work: a mild condition claims limited capability pending assessment
    p = make_people(
        N, state=codes.OUT_OF_WORK, severity=np.arange(N) % 4, labour_event=codes.T["at_risk_to_out_of_work"]
    )
    benefits_step(p, TABLES, key, 9)
    health = np.array([codes.JOBSEEKER, codes.LIMITED_CAPABILITY, codes.LIMITED_CAPABILITY, codes.SUPPORT_GROUP])
    expected = np.where(claims & (p.severity > 0), health[p.severity], codes.JOBSEEKER)
    assert np.array_equal(p.benefit, expected)
    on_health = p.benefit >= codes.LIMITED_CAPABILITY
    assert np.all(p.health_claim_start[on_health] == 9) and np.all(p.claim_from_work[on_health] == 1)
    assert np.all(p.health_claim_start[~on_health] == codes.NO_CLAIM)
    # straight from work or from inactivity, the claim is what health qualifies for (mild: a jobseeker's)
    p = make_people(
        N, state=codes.OUT_OF_WORK, severity=np.arange(N) % 4, labour_event=codes.T["in_work_to_out_of_work"]
    )
    benefits_step(p, TABLES, key, 9)
    qualifies = np.array(codes.BENEFIT_FOR_SEVERITY)[p.severity]
    assert np.array_equal(p.benefit, np.where(claims, qualifies, codes.JOBSEEKER))
    # staying out of work: a claimant whose health does not qualify is assessed at the first-assessment rate
    p = make_people(
        N, state=codes.OUT_OF_WORK, severity=codes.MILD, benefit=codes.LIMITED_CAPABILITY, months_on_benefit=10
    )
    benefits_step(p, TABLES, key, 10)
    assert_share(int((p.benefit == codes.JOBSEEKER).sum()), N, 1 - np.exp(-TABLES.first_assessment_rate), "first")
    assert np.all(p.months_on_benefit == 11)
    # ... and one whose health qualifies at the reassessment rate, which re-grades to their health
    p = make_people(
        N, state=codes.OUT_OF_WORK, severity=codes.COMPLEX, benefit=codes.LIMITED_CAPABILITY, months_on_benefit=10
    )
    benefits_step(p, TABLES, key, 10)
    assessed = p.benefit != codes.LIMITED_CAPABILITY
    assert_share(int(assessed.sum()), N, 1 - np.exp(-TABLES.reassessment_rate), "reassessed")
    assert np.array_equal(p.benefit[assessed], np.where(claims[assessed], codes.SUPPORT_GROUP, codes.JOBSEEKER))
    assert np.all(p.health_claim_start == codes.NO_CLAIM)  # still the same health-related claim
    # going back to work ends the claim
    p = make_people(
        10,
        state=codes.IN_WORK,
        benefit=codes.JOBSEEKER,
        months_on_benefit=4,
        labour_event=codes.T["out_of_work_to_in_work"],
    )
    benefits_step(p, TABLES, key, 10)
    assert np.all(p.benefit == 0) and np.all(p.months_on_benefit == 0)


def test_health_related_claims_are_held_in_inactivity():
    key, claims = Streams(2).key("benefits"), claims_health(2, N)
    # leaving work for inactivity: a work-limiting condition claims, by disposition
    p = make_people(N, state=codes.INACTIVE, severity=np.arange(N) % 4, labour_event=codes.T["in_work_to_inactive"])
    benefits_step(p, TABLES, key, 5)
    qualifies = np.array([0, 0, codes.LIMITED_CAPABILITY, codes.SUPPORT_GROUP])[p.severity]
    assert np.array_equal(p.benefit, np.where(claims, qualifies, 0))
    claimed = p.benefit > 0
    assert np.all(p.health_claim_start[claimed] == 5) and np.all(p.claim_from_work[claimed] == 1)
    # leaving sickness absence for inactivity with a mild condition: limited capability pending assessment
    p = make_people(N, state=codes.INACTIVE, severity=codes.MILD, labour_event=codes.T["at_risk_to_inactive"])
    benefits_step(p, TABLES, key, 5)
    assert np.array_equal(p.benefit, np.where(claims, codes.LIMITED_CAPABILITY, 0))
    # a health-related claim carries over from looking for work into inactivity; a jobseeker's claim ends
    kept = np.arange(N) % 2 == 0
    p = make_people(
        N,
        state=codes.INACTIVE,
        severity=codes.COMPLEX,
        benefit=np.where(kept, codes.SUPPORT_GROUP, codes.JOBSEEKER),
        months_on_benefit=30,
        health_claim_start=-30,
        labour_event=codes.T["out_of_work_to_inactive"],
    )
    benefits_step(p, TABLES, key, 0)
    assert np.all(p.benefit[kept] == codes.SUPPORT_GROUP) and np.all(p.months_on_benefit[kept] == 31)
    assert np.all(p.health_claim_start[kept] == -30)
    # the former jobseekers' condition is complex: those disposed to claim start a health-related claim
    assert np.array_equal(p.benefit[~kept], np.where(claims[~kept], codes.SUPPORT_GROUP, 0))
    assert np.all(p.health_claim_start[~kept & claims] == 0) and np.all(p.months_on_benefit[~kept] == 0)
    # a condition becoming work-limiting while inactive: a claim by disposition, none otherwise
    worse = np.arange(N) % 2 == 0
    p = make_people(
        N, state=codes.INACTIVE, severity=codes.MODERATE, health_event=np.where(worse, codes.T["health_worsening"], -1)
    )
    benefits_step(p, TABLES, key, 3)
    assert np.array_equal(p.benefit, np.where(worse & claims, codes.LIMITED_CAPABILITY, 0))
    assert np.all(p.claim_from_work == 0)
    # an inactive claimant found fit for work at an assessment loses the claim
    p = make_people(N, state=codes.INACTIVE, severity=codes.MILD, benefit=codes.LIMITED_CAPABILITY, months_on_benefit=3)
    benefits_step(p, TABLES, key, 3)
    assert_share(int((p.benefit == 0).sum()), N, 1 - np.exp(-TABLES.first_assessment_rate), "found fit")


def test_synthesised_claims_are_settled_by_disposition():
    p = make_people(
        N,
        state=np.where(np.arange(N) % 2 == 0, codes.OUT_OF_WORK, codes.INACTIVE),
        severity=codes.COMPLEX,
        benefit=codes.SUPPORT_GROUP,
        months_on_benefit=20,
        health_claim_start=-20,
    )
    settle_claims(p, TABLES, Streams(3).key("benefits"))
    claims, looking = claims_health(3, N), np.arange(N) % 2 == 0
    assert np.array_equal(p.benefit, np.where(claims, codes.SUPPORT_GROUP, np.where(looking, codes.JOBSEEKER, 0)))
    assert np.all(p.health_claim_start[~claims] == codes.NO_CLAIM) and np.all(p.health_claim_start[claims] == -20)
    assert np.all(p.months_on_benefit[~claims & ~looking] == 0) and np.all(p.months_on_benefit[looking] == 20)


def test_employer_ties_form_from_the_hiring_table_of_the_persons_borough_and_age_and_break_on_leaving_work():
    cumulative = np.tile([0.2, 0.5, 1.0], (2, len(codes.BOROUGHS), 1))  # three employers: 20%, 30%, 50% of hires
    cumulative[1, 1] = [0.5, 0.8, 1.0]  # but for residents of borough 1 aged 25 or over: 50%, 30%, 20%
    cumulative[0, 1] = [0.1, 0.2, 1.0]  # and for those under 25: 10%, 10%, 80%
    employers = employers_of(
        np.ones(3, np.int8), np.zeros(3, np.int8), np.array([0.2, 0.3, 0.5]), *np.zeros((2, 3), np.int8)
    )
    employers = employers._replace(cumulative=cumulative)
    p = make_people(N, state=codes.IN_WORK, employer=-1)
    p.borough[1::2] = 1
    p.age_months[2::4] = p.age_months[3::4] = 25 * 12 - 1  # half of each borough's hires are 24
    p.age_months[0::8] = 25 * 12  # and some exactly 25: aged 25 or over
    employer_step(p, employers, Streams(8).key("employers"), 2, 0.0, rejoin=NO_REJOIN)
    young = p.age_months < 25 * 12
    for b, older, under_25 in ((0, (0.2, 0.3, 0.5), (0.2, 0.3, 0.5)), (1, (0.5, 0.3, 0.2), (0.1, 0.1, 0.8))):
        for rows, shares in (((p.borough == b) & ~young, older), ((p.borough == b) & young, under_25)):
            counts = np.bincount(p.employer[rows], minlength=3)
            for k, share in enumerate(shares):
                assert_share(int(counts[k]), int(rows.sum()), share, f"borough {b}, employer {k}")
    p.state[: N // 2] = codes.OUT_OF_WORK
    before = p.employer.copy()
    employer_step(p, employers, Streams(8).key("employers"), 3, 0.0, rejoin=NO_REJOIN)  # no job-to-job moves
    assert np.all(p.employer[: N // 2] == -1)
    assert np.array_equal(p.employer[N // 2 :], before[N // 2 :])


def test_job_to_job_moves_follow_their_chance_and_draw_the_new_employer_by_size():
    """Someone in work moves with this month's chance to an employer drawn by size; nobody else moves."""
    cumulative = np.tile([0.2, 0.5, 1.0], (2, len(codes.BOROUGHS), 1))  # three employers: 20%, 30%, 50% of hires
    employers = employers_of(
        np.ones(3, np.int8), np.zeros(3, np.int8), np.array([0.2, 0.3, 0.5]), *np.zeros((2, 3), np.int8)
    )
    employers = employers._replace(cumulative=cumulative)
    p = make_people(N, state=codes.IN_WORK, employer=0)
    p.state[: N // 4] = codes.AT_RISK
    move = TABLES.job_to_job_chance(2.0)  # twice the reference economy's chance, for a sharper test
    assert move == pytest.approx(1 - np.exp(-2 * PARAMS.value("labour_market.job_to_job_rate")))
    employer_step(p, employers, Streams(9).key("employers"), 4, move, rejoin=NO_REJOIN)
    in_work = p.state == codes.IN_WORK
    movers = p.job_move == 1
    assert not movers[~in_work].any() and np.all(p.employer[~in_work] == 0)  # off sick: no move
    assert np.all(p.employer[in_work & ~movers] == 0) and np.all(p.employer[movers] > 0)
    assert_share(int(movers.sum()), int(in_work.sum()), move * 0.8, "moves (a draw of the same employer is none)")
    assert_share(int((p.employer[movers] == 2).sum()), int(movers.sum()), 0.5 / 0.8, "movers to the largest")
    assert np.all(p.state[in_work] == codes.IN_WORK)
    employer_step(p, employers, Streams(9).key("employers"), 5, 0.0, rejoin=NO_REJOIN)
    assert not p.job_move.any()
    employer_step(p, employers, Streams(9).key("employers"), 6, 1e-300, rejoin=NO_REJOIN)  # a vanishing chance: no move
    employer_step(p, employers, Streams(9).key("employers"), 6, 1e-300, np.arange(N), rejoin=NO_REJOIN)
    assert not p.job_move.any()


def test_job_to_job_moves_of_some_people_are_those_of_everyone_in_any_order():
    """People stepped by slot (a shared run's) move exactly as when everyone is stepped, whatever the order.

    Several people of a tile share one walk along its moving slots while their slots ascend; a slot
    below the last starts the walk again.
    """
    rng = np.random.default_rng(12)
    everyone = make_people(N, state=codes.IN_WORK, employer=0)
    everyone.state[rng.random(N) < 0.2] = codes.AT_RISK
    key, move = Streams(10).key("employers"), 0.05
    some = np.sort(rng.choice(N, N // 3, replace=False))
    for slots in (some, rng.permutation(some), np.concatenate([some[::2], some[1::2]])):
        alone = everyone.take(slots)
        employer_step(alone, EMPLOYERS, key, 7, move, slots, rejoin=REJOIN)
        stepped = everyone.copy()
        employer_step(stepped, EMPLOYERS, key, 7, move, rejoin=REJOIN)
        assert alone.job_move.sum() > 100
        assert np.array_equal(alone.job_move, stepped.job_move[slots])
        assert np.array_equal(alone.employer, stepped.employer[slots])


def mixed_people(n: int, rng: np.random.Generator):
    """``n`` people of every kind: each attribute drawn at random, the employed tied to one of ``EMPLOYERS``."""
    p = make_people(n)
    for name, levels in (
        ("sex", codes.SEXES),
        ("borough", codes.BOROUGHS),
        ("skills", codes.SKILLS),
        ("condition", codes.CONDITIONS),
        ("severity", codes.SEVERITIES),
        ("state", codes.STATES),
    ):
        getattr(p, name)[:] = rng.integers(0, len(levels), n)
    p.age_months[:] = rng.integers(16 * 12, 65 * 12, n)
    p.months_in_state[:] = rng.integers(0, 200, n)
    p.benefit[:] = rng.integers(0, len(codes.BENEFITS), n)
    p.employer[:] = np.where(p.state <= codes.AT_RISK, rng.integers(0, 2, n), -1)
    p.last_sector[:] = rng.integers(-1, len(codes.SECTORS), n)
    return p


def test_processes_on_arrays_of_some_people_give_them_the_month_they_have_among_everyone():
    """A person's month depends only on their own values, numbers and multipliers (shared runs rely on it).

    Demography, health, labour, benefits and employer ties, in a month's order: run on arrays that hold just
    some people (each row with its slot), they give those people exactly the values running everyone gives.
    """
    rng = np.random.default_rng(11)
    n = 20_000
    p = mixed_people(n, rng)
    touched = (rng.random(n) < 0.5).astype(np.uint8)
    values = np.where(touched[:, None] == 1, rng.uniform(0.3, 3.0, (n, len(codes.TRANSITIONS))), 1.0).astype(np.float32)
    mult = dense_multipliers(values, np.arange(len(codes.TRANSITIONS), dtype=np.int64), touched)
    tables = dataclasses.replace(TABLES, monthly_mortality=TABLES.monthly_mortality * 50)

    def month(q, slots=None):
        s = Streams(4)
        m = mult if slots is None else mult._replace(row=mult.row[slots])  # the rows' own multipliers
        demography_step(q, tables, _entrant_table(), s.key("demography"), 7, slots, n)
        health_step(q, EMPLOYERS, tables, m, s.key("health"), 7, slots)
        labour_step(q, EMPLOYERS, tables, m, s.key("labour"), 7, slots)
        benefits_step(q, tables, s.key("benefits"), 7, slots)
        employer_step(q, EMPLOYERS, s.key("employers"), 7, 0.2, slots, rejoin=REJOIN)

    everyone = p.copy()
    month(everyone)
    slots = np.sort(rng.choice(n, 3000, replace=False))
    some = p.take(slots)
    month(some, slots)
    for name, a, b in zip(p._fields, everyone, some, strict=True):
        assert np.array_equal(b, a[slots]), name
    assert (everyone.labour_event[slots] >= 0).sum() > 100 and (everyone.health_event[slots] >= 0).sum() > 50
    assert (everyone.exit_event[slots] > 0).sum() > 20  # deaths (mortality raised 50-fold) and 65th birthdays


def test_a_month_in_blocks_is_each_process_in_turn_for_everyone():
    """``month_step`` (a block of people at a time) gives every value, count and search of the processes in turn."""
    rng = np.random.default_rng(12)
    n = 3 * BLOCK + 1234  # blocks and parallel chunks with ragged ends
    p = mixed_people(n, rng)
    p.health_claim_start[:] = np.where(p.benefit >= codes.LIMITED_CAPABILITY, rng.integers(-100, 7, n), codes.NO_CLAIM)
    p.job_readiness[:] = rng.lognormal(0, 0.3, n)
    tables = dataclasses.replace(TABLES, monthly_mortality=TABLES.monthly_mortality * 50)
    economy = np.ones((len(codes.SECTORS) + 1, len(codes.TRANSITIONS)))
    economy[:, codes.T["in_work_to_out_of_work"]] = np.linspace(1.0, 1.6, len(codes.SECTORS) + 1)
    phi = rng.uniform(0.5, 1.5, (len(codes.BOROUGHS), len(codes.SECTORS) + 1))
    market = Market(phi, 1.5, economy, 1.6, rng.uniform(0.2, 0.6, len(codes.SECTORS)))
    s = Streams(6)
    keys = tuple(s.key(k) for k in ("demography", "health", "labour", "benefits", "employers"))

    in_turn = p.copy()
    for month in (7, 8):
        demography_step(in_turn, tables, _entrant_table(), keys[0], month, None, n)
        health_step(in_turn, EMPLOYERS, tables, NO_MULT, keys[1], month, None)
        labour_step(in_turn, EMPLOYERS, tables, NO_MULT, keys[2], month, None, market)
        benefits_step(in_turn, tables, keys[3], month, None)
        employer_step(in_turn, EMPLOYERS, keys[4], month, tables.job_to_job_chance(), None, rejoin=market.rejoin)
    expected = Results(8, 1.0, moves=True)
    expected.record(in_turn, 8)
    search = job_search(in_turn, EMPLOYERS, tables, NO_MULT)

    in_blocks = p.copy()
    month_step(in_blocks, EMPLOYERS, tables, _entrant_table(), s, 7, market)  # counting nothing
    counted = Results(8, 1.0, moves=True)
    counts = Counts(*counted.month_counts(8), np.zeros(SEARCH_SHAPE, dtype=np.int64))
    month_step(in_blocks, EMPLOYERS, tables, _entrant_table(), s, 8, market, counts)
    for name, a, b in zip(p._fields, in_turn, in_blocks, strict=True):
        assert np.array_equal(a, b), name
    for name in ("stock", "spells", "flows", "cohort", "moves"):
        assert np.array_equal(getattr(expected, name), getattr(counted, name)), name
    assert np.array_equal(counts.search, search) and search.sum(axis=1).min() > 0
    assert (in_turn.labour_event >= 0).sum() > 500 and (in_turn.exit_event > 0).sum() > 100


def test_the_kernels_keep_no_hold_on_the_arrays_they_step():
    """Arrays of some people, made afresh each month by shared runs, are freed after every process."""
    import gc
    import weakref

    from gmsim.shared import records

    p = make_people(3000, state=codes.OUT_OF_WORK, severity=codes.COMPLEX, condition=1, age_months=64 * 12 + 11)
    slots = np.arange(0, 3000, 2)
    s = Streams(3)
    held = []
    for process in ("demography", "health", "labour", "benefits", "employers"):
        some = records.take(records.as_records(p), slots)
        q = records.fields(some)
        if process == "demography":
            demography_step(q, TABLES, _entrant_table(), s.key(process), 7, slots, p.n)
            assert (q.exit_event > 0).all() and np.isin(q.state, (codes.IN_WORK, codes.INACTIVE)).all()  # newcomers
        elif process == "health":
            health_step(q, EMPLOYERS, TABLES, NO_MULT, s.key(process), 7, slots)
        elif process == "labour":
            labour_step(q, EMPLOYERS, TABLES, NO_MULT, s.key(process), 7, slots)
        elif process == "benefits":
            benefits_step(q, TABLES, s.key(process), 7, slots)
        else:
            employer_step(q, EMPLOYERS, s.key(process), 7, 0.2, slots, rejoin=REJOIN)
        held += [(process, field, weakref.ref(a)) for field, a in zip(q._fields, q, strict=True)]
        del some, q
    gc.collect()
    assert [(process, field) for process, field, ref in held if ref() is not None] == []


def test_job_loss_in_a_shock_follows_the_sector_of_the_person_s_employer():
    """EMPLOYERS' firms are in sectors 4 and 7; people in work with no employer yet read GM's row (the last)."""
    n = 40_000
    p = make_people(3 * n)
    p.employer[:n], p.employer[n : 2 * n], p.employer[2 * n :] = 0, 1, -1
    economy = np.ones((len(codes.SECTORS) + 1, len(codes.TRANSITIONS)))
    loss = codes.T["in_work_to_out_of_work"]
    economy[4, loss], economy[-1, loss] = 20.0, 5.0  # sector 4's job loss 20 times, GM's 5 times
    phi = np.ones((len(codes.BOROUGHS), len(codes.SECTORS) + 1))
    market = Market(phi, 1.0, economy, 20.0 * (1 + 1e-9), NO_REJOIN)
    labour_step(p, EMPLOYERS, TABLES, NO_MULT, Streams(3).key("labour"), 5, None, market)
    for group, (employer_size, oh, factor) in enumerate(
        (("micro", "no", 20.0), ("large", "yes", 1.0), ("none", "no", 5.0))
    ):
        rows = slice(group * n, (group + 1) * n)
        hazards = {
            t: expected_hazard(t, employer_size=employer_size, occupational_health=oh)
            for t in ("in_work_to_at_risk", "in_work_to_out_of_work", "in_work_to_inactive")
        }
        hazards["in_work_to_out_of_work"] *= factor
        left = int((p.labour_event[rows] == loss).sum())
        assert_share(left, n, competing(hazards)["in_work_to_out_of_work"], f"employer {group}")


def test_a_job_seeker_s_entry_follows_the_factor_of_their_borough_and_last_job_s_sector():
    """``Market.phi[b, s + 1]`` multiplies the entry hazard of a job seeker of borough ``b`` last in sector ``s``.

    Three groups alike but for their last job (none, sector 2 at twice the factor, sector 5 at half):
    each group's entries against ``1 - exp(-f h)``, ``h`` read from the first group; 4 standard errors.
    """
    n = 60_000
    p = make_people(3 * n, state=codes.OUT_OF_WORK, benefit=codes.JOBSEEKER, months_in_state=2)
    p.last_sector[n : 2 * n], p.last_sector[2 * n :] = 2, 5
    phi = np.ones((len(codes.BOROUGHS), len(codes.SECTORS) + 1))
    phi[:, 3], phi[:, 6] = 2.0, 0.5
    economy = np.ones((len(codes.SECTORS) + 1, len(codes.TRANSITIONS)))
    labour_step(
        p, EMPLOYERS, TABLES, NO_MULT, Streams(4).key("labour"), 3, None, Market(phi, 2.0, economy, 1.0, NO_REJOIN)
    )
    entered = (p.labour_event == codes.T["out_of_work_to_in_work"]).reshape(3, n).mean(axis=1)
    h = -np.log1p(-entered[0])
    assert entered[0] > 0.02
    for k, f in ((1, 2.0), (2, 0.5)):
        expected = -np.expm1(-f * h)
        assert abs(entered[k] - expected) < 4 * np.sqrt(expected * (1 - expected) / n) + 4 * f * np.sqrt(entered[0] / n)
