"""Ensembles: common random numbers, intervals, mixes, attribution, executors and resuming."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gmsim import codes, comparison
from gmsim.comparison import (
    GM,
    MixSpec,
    best_by_borough,
    compare,
    few_runs_warning,
    mix_grid,
    ratio_interval,
    shapley,
    summarise,
    summarise_groups,
    sweep,
)
from gmsim.ensemble import Task, execute, parameter_draws
from gmsim.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SC = ROOT / "scenarios"
TINY = dict(scale=0.004, months=24, workers=2)


def _area(result, scenario, metric):
    rep = result["replicates"]
    rows = rep[(rep.scenario == scenario) & (rep.metric == metric) & (rep.borough == GM) & (rep.strand == "all")]
    return rows.sort_values("replicate")["value"].to_numpy()


def test_identical_scenarios_differ_by_exactly_zero(tmp_path):
    base = load_scenario(SC / "working_well.yaml")
    twin = Scenario.from_dict({**base.to_dict(), "name": "working_well_twin"})
    res = compare([base, twin], runs=3, out=tmp_path, **TINY)
    for metric in ("extra_person_years_in_work", "extra_job_entries", "fewer_out_of_work_health_end"):
        assert np.array_equal(_area(res, "working_well_twin", metric), np.zeros(3))
    # the same draws and the same people in both: every strand count is the same run by run
    rep = res["replicates"]
    strand_rows = rep[(rep.strand != "all") & (rep.borough == GM)]
    a = strand_rows[strand_rows.scenario == "working_well"].sort_values(["metric", "strand", "replicate"])
    b = strand_rows[strand_rows.scenario == "working_well_twin"].sort_values(["metric", "strand", "replicate"])
    assert len(a) > 0 and np.array_equal(a["value"].to_numpy(), b["value"].to_numpy(), equal_nan=True)


def test_intervals_shrink_as_runs_grow(tmp_path):
    paths = [SC / "baseline.yaml", SC / "working_well.yaml"]
    widths = []
    for runs in (3, 12):
        res = compare(paths, runs=runs, out=tmp_path, parameter_uncertainty=False, scale=0.02, months=24, workers=2)
        imp = res["impacts"]
        row = imp[
            (imp.scenario == "working_well") & (imp.metric == "extra_person_years_in_work") & (imp.borough == GM)
        ].iloc[0]
        assert row["low"] <= row["mean"] <= row["high"] and row["runs"] == runs
        widths.append(row["high"] - row["low"])
    assert widths[1] < widths[0]


def test_parameter_draws_are_the_same_in_every_scenario_of_a_replicate():
    sc = load_scenario(SC / "working_well.yaml")
    other = load_scenario(SC / "equal_split.yaml")
    d1, d2 = parameter_draws(sc, 123), parameter_draws(other, 123)
    assert d1 == d2  # the same draw in every scenario for a replicate
    assert parameter_draws(sc, 124) != d1


def _two_strands(name: str) -> MixSpec:
    """A sweep of work and health and early help in halves of GBP 6m a year, from a base funding work and health."""
    return MixSpec(
        name=name,
        base="work_and_health.yaml",
        baseline="baseline.yaml",
        total_budget_gbp_per_year=6e6,
        strands=["work_and_health", "early_help"],
        step=0.5,
    )


def test_a_mix_with_one_strand_at_100_percent_matches_that_strand_alone(tmp_path):
    spec = _two_strands("t")
    res = sweep(spec, runs=2, out=tmp_path / "sweep", base_dir=SC, **TINY)
    alone = compare([SC / "baseline.yaml", SC / "work_and_health.yaml"], runs=2, out=tmp_path / "cmp", **TINY)
    for metric in ("extra_person_years_in_work", "extra_job_entries", "spend_gbp"):
        assert np.array_equal(_area(res, "mix-100-0", metric), _area(alone, "work_and_health", metric)), metric
    mixes = res["mixes"]
    assert len(mixes) == 3 and mixes["best"].sum() == 1
    assert mixes.loc[mixes.best, "within_noise_of_best"].all()


def test_attribution_adds_up_to_the_total_effect(tmp_path):
    spec = MixSpec(
        name="t2",
        base="working_well.yaml",
        baseline="baseline.yaml",
        total_budget_gbp_per_year=9e6,
        strands=["work_and_health", "early_help", "care_and_support"],
        step=0.5,
    )
    res = sweep(spec, runs=2, out=tmp_path, base_dir=SC, **TINY)
    att = res["attribution"]
    parts = att[~att.strand.isin(["total", "unattributed"])]["mean"].sum()
    total = att[att.strand == "total"]["mean"].iloc[0]
    assert parts == pytest.approx(total, rel=1e-9, abs=1e-6)
    # the best mix per borough: the highest mean there, and its paired gain over the GM best mix
    boroughs, rep = res["boroughs"], res["replicates"]
    assert len(boroughs) == 10 and (boroughs.metric == "extra_person_years_in_work").all()
    for _, b in boroughs.iterrows():
        vals = (
            rep[
                (rep.borough == b.borough)
                & (rep.metric == b.metric)
                & (rep.strand == "all")
                & rep.scenario.isin(res["mixes"].scenario)
            ]
            .groupby("scenario")["value"]
            .mean()
        )
        assert vals.idxmax() == b.best_mix and b["mean"] == pytest.approx(vals.max())


def _frame(values, metric="extra_person_years_in_work", strands=("all",)):
    rows = [
        (name, r, metric, borough, strand, v / len(strands))
        for name, vs in values.items()
        for r, v in enumerate(vs)
        for borough in codes.BOROUGHS
        for strand in strands
    ]
    return pd.DataFrame(rows, columns=["scenario", "replicate", "metric", "borough", "strand", "value"])


def test_best_by_borough_pairs_replicates_and_counts_mixes_within_noise():
    base = np.array([10.0, 20.0, 30.0, 40.0])
    values = {"gm": base, "up": base + [1.0, 1.2, 0.9, 1.1], "flat": np.full(4, 25.5)}
    mixes = pd.DataFrame({"scenario": list(values), "share_a": [1.0, 0.5, 0.0], "share_b": [0.0, 0.5, 1.0]})
    rep = _frame(values).sample(frac=1, random_state=3)  # row order must not matter
    b = best_by_borough(rep, mixes, "extra_person_years_in_work", "gm").iloc[0]
    assert b.best_mix == "up" and b.share_a == 0.5 and b["mean"] == pytest.approx(26.05)
    # paired, the gain over "gm" is 1.05 +- 0.21 (t, 3 df): clearly above zero; unpaired it would not be
    assert b.gap == pytest.approx(1.05) and 0 < b.gap_low < 1.05 < b.gap_high < 2
    assert b.within_noise == 2  # "flat" differs from "up" by -14.5 .. 15.5 run by run: within noise
    # a strand outcome is judged summed over strands; money falls back to person-years in work
    strands = best_by_borough(_frame(values, "sustained_jobs_12m", ("x", "y")), mixes, "sustained_jobs_12m", "gm")
    assert (strands.metric == "sustained_jobs_12m").all() and strands["mean"].iloc[0] == pytest.approx(26.05)
    money = best_by_borough(rep, mixes, "npv_social", "gm")
    assert (money.metric == "extra_person_years_in_work").all() and len(money) == 10


def test_shapley_values_of_a_known_game():
    players = ["a", "b"]
    v = {
        frozenset(): np.array([0.0]),
        frozenset("a"): np.array([1.0]),
        frozenset("b"): np.array([2.0]),
        frozenset("ab"): np.array([6.0]),
    }
    phi = shapley(v, players)
    assert phi["a"][0] == pytest.approx(2.5) and phi["b"][0] == pytest.approx(3.5)


def test_mix_grid_and_summary():
    grid = mix_grid(4, 0.2, None, 1)
    assert len(grid) == 56 and np.allclose(grid.sum(axis=1), 1)
    s = summarise(np.array([1.0, 2.0, 3.0]))
    # half-width t x sd / sqrt(n), with the exact 97.5% quantile of t with 2 df (closed form: 4.302653, tabulated
    # to 3 decimals as 4.303)
    t975 = 0.95 * np.sqrt(2 / (4 * 0.975 * 0.025))
    assert s["mean"] == 2 and s["low"] < 2 < s["high"]
    assert s["high"] - 2 == pytest.approx(t975 / np.sqrt(3), rel=1e-9)
    assert s["mean"] - s["low"] == pytest.approx(s["high"] - s["mean"], rel=1e-12)


def test_groups_are_summarised_as_one_by_one_bit_for_bit():
    """``summarise_groups`` gives each group's :func:`summarise`, and the table a groupby-apply unstacks to.

    Groups of one value, of missing values only, of several sizes, their rows shuffled, keys appearing out
    of order: the same figures to the last bit, the same rows in the same order, the same columns.
    """
    rng = np.random.default_rng(1)
    rows = []
    for scenario in ("zz", "base", "mix-a"):
        for metric in ("m2", "m1"):
            for borough in (GM, "Wigan", "Bolton"):
                for strand in ("all", "early_help"):
                    size = int(rng.integers(1, 12))
                    missing = rng.random(size) < (0.9 if borough == "Bolton" else 0.1)
                    for r in range(size):
                        rows.append(
                            (scenario, r, metric, borough, strand, np.nan if missing[r] else rng.normal(1e3, 300))
                        )
    frame = pd.DataFrame(rows, columns=["scenario", "replicate", "metric", "borough", "strand", "value"])
    frame = frame.sample(frac=1, random_state=3).reset_index(drop=True)
    keys = ["scenario", "metric", "borough", "strand"]
    one_by_one = (
        frame.groupby(keys, sort=False)["value"].apply(lambda v: pd.Series(summarise(v.to_numpy()))).unstack()
    ).reset_index()
    together = summarise_groups(frame, keys, "value")
    pd.testing.assert_frame_equal(together, one_by_one, check_exact=True)
    assert (together.runs == 0).any() and (together.runs == 1).any() and together.runs.max() > 5


@pytest.mark.parametrize("runs", [2, 3, 5])
def test_ratio_intervals_cover_the_true_ratio_95_percent_of_the_time_with_few_runs(runs):
    """Fieller's interval with t quantiles: coverage 95% with 2-5 paired, correlated normal replicates.

    4,000 simulated ensembles, each of ``runs`` replicates with mean numerator 10 (sd 2) and denominator 5
    (sd 0.1), true ratio 2, correlation 0.5. The standard error of a coverage estimate is 0.35 points; the tolerance is
    1.5 points (more than 4 standard errors). A bootstrap over 2 runs covers far less (the runs' min-max).
    """
    rng = np.random.default_rng(7)
    cov = [[4.0, 0.1], [0.1, 0.01]]
    hits = bounded = 0
    for _ in range(4000):
        x = rng.multivariate_normal([10.0, 5.0], cov, size=runs)
        r = ratio_interval(x[:, 0], x[:, 1])
        if np.isfinite(r["low"]):
            bounded += 1
            hits += r["low"] <= 2.0 <= r["high"]
    assert bounded == 4000  # the denominator is far from zero (its mean is 50 sd away)
    assert abs(hits / 4000 - 0.95) < 0.015


def test_a_ratio_from_two_runs_is_not_their_min_max_and_matches_the_delta_method_when_precise():
    num, den = np.array([0.393e6, 0.444e6]), np.array([1e6, 1e6])
    r = ratio_interval(num, den)
    assert r["low"] < 0.393 - 0.1 and r["high"] > 0.444 + 0.1  # t with 1 degree of freedom is 12.7
    # Fixed denominator: Fieller is mean(num) / den with the t interval of mean(num).
    s = summarise(num / 1e6)
    assert (r["low"], r["high"]) == pytest.approx((s["low"], s["high"]), rel=1e-12)
    # Many precise runs: Fieller and the delta method agree to within 1%.
    rng = np.random.default_rng(3)
    x = rng.multivariate_normal([100.0, 50.0], [[4.0, 1.0], [1.0, 1.0]], size=200)
    r = ratio_interval(x[:, 0], x[:, 1])
    a, b = x.mean(axis=0)
    c = np.cov(x.T) / 200
    se = np.sqrt(c[0, 0] / b**2 - 2 * a * c[0, 1] / b**3 + a**2 * c[1, 1] / b**4)
    half = 1.972 * se  # t(199) 97.5% to 3 decimals
    assert r["low"] == pytest.approx(a / b - half, rel=0.01) and r["high"] == pytest.approx(a / b + half, rel=0.01)


def test_a_cost_per_outcome_has_no_interval_when_the_outcome_may_be_zero():
    spend = np.array([4e6, 4e6, 4e6])
    years = np.array([-300.0, 900.0, 150.0])  # mean 250; its 95% CI includes zero
    r = ratio_interval(spend, years, "the extra person-years in work")
    assert r["mean"] == pytest.approx(4e6 / 250)
    assert np.isnan(r["low"]) and np.isnan(r["high"])
    assert r["note"] == "interval undefined: the 95% CI of the extra person-years in work includes zero"
    fell = ratio_interval(spend, -years, "the extra person-years in work")
    assert np.isnan(fell["mean"]) and "not above zero" in fell["note"]
    assert ratio_interval(spend[:1], years[1:2])["note"] == "one run: no interval"


def test_few_runs_are_warned_about():
    assert few_runs_warning(10) is None and few_runs_warning(5) is None
    assert few_runs_warning(4).startswith("Only 4 runs per scenario")
    assert "no intervals" in few_runs_warning(1)


def test_dask_local_cluster_gives_the_same_numbers_as_local_processes(tmp_path):
    pytest.importorskip("distributed")
    paths = [SC / "baseline.yaml", SC / "early_help.yaml"]
    local = compare(paths, runs=2, out=tmp_path / "local", **TINY)
    dask = compare(paths, runs=2, out=tmp_path / "dask", dask="local", **TINY)
    pd.testing.assert_frame_equal(local["replicates"], dask["replicates"])


def test_an_interrupted_ensemble_resumes_and_skips_what_finished(tmp_path):
    scs = [load_scenario(SC / "baseline.yaml").with_overrides(scale=0.004, months=12)]
    tasks = [Task(scs[0], r, 1, False) for r in range(3)]
    paths = execute(tasks, tmp_path, workers=2, progress=False)
    first = {p: p.stat().st_mtime_ns for p in paths}
    paths[1].unlink()  # as if stopped before run 1 finished
    again = execute(tasks, tmp_path, workers=2, progress=False)
    assert again == paths
    assert all(paths[k].stat().st_mtime_ns == first[paths[k]] for k in (0, 2))
    assert paths[1].exists()
    assert not list(tmp_path.glob(".partial-*"))
    # a changed scenario gets new keys: stale results are never reused
    changed = scs[0].with_overrides(months=13)
    assert Task(changed, 0, 1, False).key != tasks[0].key


def _self_contained(html):
    """No script, and nothing the page would fetch: every src and href is inline (a data URI)."""
    return "<script" not in html.lower() and not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)


def test_cli_compare_writes_a_report_and_rejects_bad_input(tmp_path):
    out = tmp_path / "cmp"
    in_work = tmp_path / "in_work.yaml"  # in_work.yaml with markup in its description: shown as text
    in_work.write_text(f'extends: {SC / "in_work.yaml"}\ndescription: "<script>alert(1)</script> & <b>co</b>"\n')
    cmd = [
        sys.executable,
        str(ROOT / "run_sim.py"),
        "compare",
        str(SC / "baseline.yaml"),
        str(in_work),
        "--runs",
        "2",
        "--scale",
        "0.004",
        "--months",
        "12",
        "--workers",
        "2",
        "--out",
        str(out),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    # The headline in the terminal, and a warning about intervals from 2 runs there and in the report.
    assert re.search(r"^in_work: extra person-years in work \S+ \(95% CI \S+ to \S+\); spend £", r.stdout, re.M)
    assert "gmsim compare: Only 2 runs per scenario" in r.stderr
    imp = pd.read_csv(out / "impacts.csv")
    assert list(imp.columns[:7]) == ["scenario", "metric", "borough", "strand", "mean", "low", "high"]
    html = (out / "report.html").read_text()
    assert "in_work" in html and "data:image/png;base64," in html and "http" not in html.split("<body")[0]
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;</td>" in html
    assert '<p class="warn">Only 2 runs per scenario' in html
    # the scenarios' descriptions say "full scale, 10 years": the report says how they were run here
    assert html.count("<td>12 months at scale 0.004 (7,124 people)</td>") == 2
    assert _self_contained(html)
    assert len(list((out / "runs").glob("*.npz"))) == 4
    big = tmp_path / "big.yaml"
    big.write_text(
        f"name: big\nbase: {SC / 'working_well.yaml'}\nbaseline: {SC / 'baseline.yaml'}\n"
        "total_budget_gbp_per_year: 6000000\nstrands: [work_and_health, early_help]\nstep: null\nsamples: 200\n"
    )
    for args in (
        ["compare", str(SC / "baseline.yaml")],
        ["compare", str(SC / "baseline.yaml"), "nope.yaml"],
        ["compare", str(SC / "baseline.yaml"), str(SC / "in_work.yaml"), "--runs", "0"],
        ["compare", str(SC / "baseline.yaml"), str(SC / "in_work.yaml"), "--runs", "100000000"],
        ["compare", str(SC / "baseline.yaml"), str(SC / "in_work.yaml"), "--workers", "100000"],
        ["sweep", str(big), "--runs", "1000"],  # 201 x 1,000 runs: too many
        ["sweep", str(tmp_path / "missing.yaml")],
        ["compare", str(SC / "baseline.yaml"), str(SC / "in_work.yaml"), "--set", "labour_market.tightness"],
        ["compare", str(SC / "baseline.yaml"), str(SC / "in_work.yaml"), "--set", "labour_market.tightnes=1"],
        ["sweep", str(big), "--set", "labour_market.vacancy_withdrawal=2"],
    ):
        r = subprocess.run(
            [sys.executable, str(ROOT / "run_sim.py"), *args], capture_output=True, text=True, timeout=120
        )
        assert r.returncode == 2, args
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr


def test_cli_sweep_writes_a_report_with_the_best_mix_per_borough(tmp_path):
    mix = tmp_path / "mix.yaml"
    mix.write_text(
        f"name: tiny_mix\nbase: {SC / 'working_well.yaml'}\nbaseline: {SC / 'baseline.yaml'}\n"
        "total_budget_gbp_per_year: 6000000\nstrands: [work_and_health, early_help]\nstep: 0.5\n"
        "objective: extra_person_years_in_work\nfrontier: [extra_person_years_in_work, kept_in_work]\n"
    )
    out = tmp_path / "out"
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "run_sim.py"),
            "sweep",
            str(mix),
            "--runs",
            "2",
            "--scale",
            "0.004",
            "--months",
            "12",
            "--workers",
            "2",
            "--out",
            str(out),
            "--quiet",
            "--set",
            "labour_market.vacancy_withdrawal=0.5",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    # The runs were made with the parameter set on the command line (the baseline's, say), and the report says so.
    setting = {"labour_market.vacancy_withdrawal": 0.5}
    with_it, without = (
        load_scenario(SC / "baseline.yaml").with_overrides(months=12, scale=0.004, parameters=p).content_hash()
        for p in (setting, None)
    )
    metas = [json.loads(str(np.load(record)["meta"])) for record in (out / "runs").glob("*.npz")]
    hashes = {m["scenario_hash"] for m in metas if m["scenario"] == "baseline"}
    assert hashes == {with_it} and with_it != without
    page = (out / "report.html").read_text()
    assert "<td>Parameters set</td><td>labour_market.vacancy_withdrawal = 0.5</td>" in page
    assert "0.5 share a month (set for these runs; 1 in the data file)" in page  # the assumptions page too
    mixes, boroughs = pd.read_csv(out / "mixes.csv"), pd.read_csv(out / "boroughs.csv")
    assert len(mixes) == 3 and mixes.best.sum() == 1
    assert list(boroughs.borough) == [
        "Bolton",
        "Bury",
        "Manchester",
        "Oldham",
        "Rochdale",
        "Salford",
        "Stockport",
        "Tameside",
        "Trafford",
        "Wigan",
    ]
    assert set(boroughs.best_mix) <= set(mixes.scenario)
    html = (out / "report.html").read_text()
    for section in ("Best mix", "By borough", "Attribution", "Frontier"):
        assert f"<h2>{section}</h2>" in html, section
    assert _self_contained(html)
    # What was split, and what every mix keeps funded from its base (working_well funds four strands).
    assert "<td>Shares tried</td><td>every 50% step</td>" in html
    assert "<td>Setting</td>" not in html and html.count("every 50% step") == 1
    kept = (
        "Care and support (care_and_support) GBP 2,000,000 a year, In work (employers) (in_work) GBP 1,000,000 a year"
    )
    assert f"<td>Kept funded in every mix (not split)</td><td>{kept}</td>" in html
    # The effect of what every mix keeps funded is stated apart from the attribution, and not in its total.
    assert "Not attributed, and not part of the total:" in html and f"keeps funded ({kept})" in html
    assert "unattributed" not in html.lower()


def test_a_sweep_with_uncertainty_writes_its_decision_and_the_value_of_information(tmp_path):
    spec = MixSpec.model_validate(
        {"name": "t3", "base": "working_well.yaml", "baseline": "baseline.yaml", "step": 0.5}
        | {"total_budget_gbp_per_year": 9e6, "strands": ["work_and_health", "early_help"]}
    )
    res = sweep(spec, runs=8, out=tmp_path, base_dir=SC, scale=0.002, months=12, workers=2)
    decision, evppi = res["decision"], res["evppi"]
    assert set(decision.scenario) == set(res["mixes"].scenario)
    assert decision.probability_best.sum() == pytest.approx(1.0)
    assert (decision.expected_loss >= 0).all() and decision.expected_loss.iloc[0] == decision.expected_loss.min()
    assert evppi.iloc[0].kind == "all" and len(evppi) > 10
    named = set(evppi.input)
    assert "early_help: effects.at_risk_to_in_work" in named and "early_help: every effect" in named
    assert "unit value: earnings_per_worker_year" in named
    assert "early_help: unit_cost_gbp" in named  # a strand's unit cost is drawn, and valued on its own
    # the gradients the calibration does not fit: a gradient's steepness one input, its ratios drawn on their
    # own beside it a group
    assert "baseline: inactive_to_in_work by severity" in named
    assert "baseline: inactive_to_in_work.severity.complex" not in named
    assert "baseline: onset_mental_health.age_band.25-34" in named
    assert "baseline: onset_mental_health by age_band, every ratio" in named
    assert "baseline: demography.mortality.50-64" in named
    finite = evppi[np.isfinite(evppi.evppi)]
    assert (finite.evppi >= 0).all() and (finite.evppi <= evppi.iloc[0].evppi + 1e-9).sum() >= 1


def test_a_sweep_across_economies_gives_each_economy_s_best_mix_and_the_least_regret(tmp_path):
    mix = tmp_path / "mix.yaml"
    mix.write_text(
        f"name: tiny_economies\nbase: {SC / 'working_well.yaml'}\nbaseline: {SC / 'baseline.yaml'}\n"
        "total_budget_gbp_per_year: 6000000\nstrands: [work_and_health, early_help]\nstep: 0.5\n"
        "economies: [steady, recession]\n"
    )
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, str(ROOT / "run_sim.py"), "sweep", str(mix), "--runs", "2", "--scale", "0.004",
         "--months", "24", "--workers", "2", "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    robust = pd.read_csv(out / "robust.csv")
    assert len(robust) == 3 and robust.least_regret.sum() >= 1
    for e in ("steady", "recession"):
        assert (robust[f"regret_{e}"] >= 0).all() and np.isclose(robust[f"regret_{e}"].min(), 0)
        best = robust.loc[robust[f"mean_{e}"].idxmax()]
        assert e in str(best.best_in)
    assert np.allclose(robust.max_regret, robust[["regret_steady", "regret_recession"]].max(axis=1))
    assert robust.max_regret.iloc[0] == robust.max_regret.min()
    # the steady economy's sweep is the report; the recession's in its own folder; its runs in a recession
    assert "<h2>Under each economy</h2>" in (out / "report.html").read_text()
    assert (out / "economies" / "recession" / "report.html").exists()
    assert len(list((out / "runs").glob("*.npz"))) >= 2 * 2 * 4  # mixes and baseline, 2 runs, 2 economies
    # a mix that is the same scenario apart from the economy gives a different outcome in the recession
    steady, rec = pd.read_csv(out / "mixes.csv"), pd.read_csv(out / "economies" / "recession" / "mixes.csv")
    assert not np.allclose(steady["mean"], rec["mean"])


def test_attribution_takes_an_empty_coalition_that_is_the_baseline_as_zero_without_running_it(tmp_path, monkeypatch):
    """With a base that funds only the swept strands, the empty coalition is the baseline run itself: its
    effect is 0 in every replicate, and the attribution is what running it gives."""
    spec = _two_strands("t4")
    skipped = sweep(spec, runs=2, out=tmp_path / "skipped", base_dir=SC, **TINY)
    monkeypatch.setattr(comparison, "_is_the_comparator", lambda scenario, comparator: False)
    run = sweep(spec, runs=2, out=tmp_path / "run", base_dir=SC, **TINY)
    pd.testing.assert_frame_equal(skipped["attribution"], run["attribution"])
    att = run["attribution"]
    assert (att.loc[att.strand == "unattributed", ["mean", "low", "high"]] == 0).all(axis=None)
    none = [p.name for p in (tmp_path / "run" / "runs").iterdir() if "-only-none-" in p.name]
    assert len(none) == 2 and not [p for p in (tmp_path / "skipped" / "runs").iterdir() if "-only-none-" in p.name]


def test_only_a_coalition_with_the_comparators_trunk_and_nothing_funded_is_taken_as_the_comparator():
    baseline, wah = load_scenario(SC / "baseline.yaml"), load_scenario(SC / "work_and_health.yaml")
    spec = _two_strands("t5")
    empty = comparison._mix_scenario(wah, spec, np.zeros(2), "none")
    assert comparison._is_the_comparator(empty, baseline)
    assert not comparison._is_the_comparator(comparison._mix_scenario(wah, spec, np.array([0.5, 0]), "a"), baseline)
    # a base that keeps another strand funded, a comparator that funds one, other parameters: not the comparator
    kept = comparison._mix_scenario(load_scenario(SC / "working_well.yaml"), spec, np.zeros(2), "kept")
    assert not comparison._is_the_comparator(kept, baseline)
    assert not comparison._is_the_comparator(empty, wah)
    other = Scenario.from_dict({**empty.to_dict(), "parameters": {"labour.job_readiness_sd": 0.1}}, path="other")
    assert not comparison._is_the_comparator(other, baseline)
