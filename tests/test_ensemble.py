"""The run store: every stored run is checked before it is reused, and a damaged one is recomputed."""

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gmsim.ensemble import Task, execute, load_record
from gmsim.scenario import Scenario, load_scenario

SC = Path(__file__).resolve().parents[1] / "scenarios"


def _tasks(runs=3):
    scenario = load_scenario(SC / "baseline.yaml").with_overrides(scale=0.004, months=6)
    return [Task(scenario, r, 1, False) for r in range(runs)]


def _arrays(path):
    rec = load_record(path)
    return {k: v for k, v in rec.items() if k != "meta"}


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A store of three finished runs, and each run's arrays."""
    store = tmp_path_factory.mktemp("store")
    paths = execute(_tasks(), store, workers=1, progress=False)
    return store, paths, [_arrays(p) for p in paths]


def _damage(path, how, other=None):
    if how == "truncated":
        os.truncate(path, 1000)
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "another run's record":
        shutil.copyfile(other, path)
    elif how == "edited numbers":
        with np.load(path) as f:
            rec = {k: f[k] for k in f.files}
        rec["employed"] = rec["employed"] + 1.0
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **rec)
        path.write_bytes(buffer.getvalue())
    elif how == "not a record":
        path.write_text("hello")
    elif how == "flipped bytes":  # inside the compressed numbers: zlib's error, not zipfile's
        data = bytearray(path.read_bytes())
        for k in range(100, 400, 7):
            data[k] ^= 0xFF
        path.write_bytes(bytes(data))
    elif how == "one array":
        with path.open("wb") as f:
            np.save(f, np.arange(3))


@pytest.mark.parametrize(
    "how",
    ["truncated", "empty", "another run's record", "edited numbers", "not a record", "flipped bytes", "one array"],
)
def test_a_damaged_or_mismatched_run_is_recomputed_with_a_one_line_warning(stored, tmp_path, capfd, how):
    store, paths, arrays = stored
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    copied = [copy / p.name for p in paths]
    untouched = {p: p.stat().st_mtime_ns for p in (copied[0], copied[2])}
    _damage(copied[1], how, other=copied[0])
    capfd.readouterr()

    again = execute(_tasks(), copy, workers=1, progress=False)

    assert again == copied
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"gmsim: {copied[1]}: ") and err[0].endswith("; recomputing it")
    assert _same(_arrays(copied[1]), arrays[1])
    assert all(p.stat().st_mtime_ns == t for p, t in untouched.items())
    assert not list(copy.glob(".partial-*"))


def test_each_record_carries_its_key_code_and_checksum(stored):
    _, paths, _ = stored
    tasks = _tasks()
    meta = load_record(paths[2])["meta"]
    assert meta["key"] == tasks[2].key
    assert meta["replicate"] == 2 and meta["seed"] == 1 and meta["draws_on"] is False
    assert len(meta["code"]) == 64 and len(meta["checksum"]) == 64


def test_reading_a_damaged_record_names_the_file(stored, tmp_path):
    _, paths, _ = stored
    bad = tmp_path / paths[0].name
    shutil.copyfile(paths[0], bad)
    _damage(bad, "edited numbers")
    with pytest.raises(ValueError, match=f"{bad}: .*checksum"):
        load_record(bad)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
def test_workers_die_with_their_parent(tmp_path):
    """A sweep killed with SIGKILL leaves no worker behind (they would hold their memory forever)."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import sys\n"
        "from gmsim.ensemble import Task, execute\n"
        "from gmsim.scenario import load_scenario\n"
        f"s = load_scenario({str(SC / 'baseline.yaml')!r}).with_overrides(scale=0.05, months=600)\n"
        f"execute([Task(s, r, 1, False) for r in range(4)], {str(tmp_path / 'store')!r}, workers=2, progress=False)\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], start_new_session=True)
    children = []
    try:
        for _ in range(600):
            time.sleep(0.1)
            children = _children(parent.pid)
            if len(children) >= 2:
                break
        assert len(children) >= 2, "the workers never started"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        for _ in range(100):
            alive = [c for c in children if _alive(c)]
            if not alive:
                break
            time.sleep(0.1)
        assert not alive, f"workers {alive} outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()
        for c in children:
            if _alive(c):
                os.kill(c, signal.SIGKILL)


def _children(pid):
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_each_replicate_draws_one_posterior_baseline_set_the_same_in_every_scenario(tmp_path):
    scs = [load_scenario(SC / f"{n}.yaml").with_overrides(scale=0.004, months=6) for n in ("baseline", "in_work")]
    paths = execute([Task(s, r, 5, True) for r in range(4) for s in scs], tmp_path, workers=1, progress=False)
    drawn, ratios = {}, {}
    for p in paths:
        meta = load_record(p)["meta"]
        drawn.setdefault(meta["replicate"], set()).add(meta["baseline_set"])
        ratios.setdefault(meta["replicate"], set()).add(
            json.dumps([meta["baseline_ratios"], meta["baseline_scores"]], sort_keys=True)
        )
    assert all(len(sets) == 1 for sets in drawn.values())  # the same set in both scenarios of a replicate
    assert len({next(iter(sets)) for sets in drawn.values()}) > 1  # and not the same for every replicate
    # so are the gradients the calibration does not fit, recorded with the run
    assert all(len(r) == 1 for r in ratios.values()) and len({next(iter(r)) for r in ratios.values()}) == 4
    values, scores = json.loads(next(iter(ratios[0])))
    assert len(values) > 100 and 30 < len(scores) < len(values)
    from gmsim.gradients import gradient_draw, gradient_scores

    meta = load_record(paths[0])["meta"]  # what the replicate drew, at its own seed
    assert meta["baseline_ratios"] == gradient_draw(scs[0], meta["run_seed"])
    assert meta["baseline_scores"] == gradient_scores(scs[0], meta["run_seed"])
    off = execute([Task(scs[0], 0, 5, False)], tmp_path / "off", workers=1, progress=False)
    assert load_record(off[0])["meta"]["baseline_set"] is None  # no uncertainty: the posterior mean
    assert load_record(off[0])["meta"]["baseline_ratios"] == load_record(off[0])["meta"]["baseline_scores"] == {}


def test_a_replicates_runs_use_the_figures_their_record_says_they_drew(tmp_path, monkeypatch):
    import gmsim.ensemble as E

    used, original = [], E.run_record

    def record(model):
        used.append(model.params)
        return original(model)

    monkeypatch.setattr(E, "run_record", record)
    scs = [load_scenario(SC / f"{n}.yaml").with_overrides(scale=0.004, months=3) for n in ("baseline", "in_work")]
    # in this process, as a worker runs them: a shared group, then a run alone
    paths = E.run_tasks([Task(s, 1, 5, True) for s in scs], str(tmp_path))
    paths += E.run_tasks([Task(scs[0], 2, 5, True)], str(tmp_path))
    for path, params in zip(paths, used, strict=True):
        meta = load_record(path)["meta"]
        drawn = {**meta["baseline_ratios"], **meta["labour_market"]}
        assert len(meta["baseline_ratios"]) > 100 and drawn
        # every recorded draw is the value the run's parameters hold (not the shipped value)
        assert {name: params.value(name) for name in drawn} == drawn


def test_posterior_sets_are_drawn_evenly_and_a_scenarios_own_values_are_kept():
    from scipy import stats

    from gmsim.ensemble import DRAWN_MARKET, baseline_draw, replicate_seed
    from gmsim.gradients import gradient_draw
    from gmsim.parameters import posterior_sets

    scenario = load_scenario(SC / "baseline.yaml")
    n, draws = len(posterior_sets()), 4000
    counts = np.bincount([baseline_draw(scenario, replicate_seed(1, r))[0] for r in range(draws)], minlength=n)
    # Every set equally likely: a chi-square test of the counts at the 0.1% level.
    assert stats.chisquare(counts).pvalue > 1e-3
    from gmsim.scenario import Scenario

    own = Scenario.from_dict({**scenario.to_dict(), "parameters": {"inactive_to_in_work.base": 0.03}}, path="own")
    k, values = baseline_draw(own, 99)
    assert "inactive_to_in_work.base" not in values and k == baseline_draw(scenario, 99)[0]
    posterior = {name: v for name, v in posterior_sets()[k].items() if name != "inactive_to_in_work.base"}
    assert {name: v for name, v in values.items() if name in posterior} == posterior
    # and the labour market's uncertain figures, which the calibration does not fit, drawn beside them (all
    # but how unevenly a shock falls on sectors: a steady economy has no shock), with the gradients and
    # figures it does not fit either (tests/test_gradients.py)
    market = set(DRAWN_MARKET) - {"labour_market.sector_concentration"}
    assert set(values) - set(posterior) == market | set(gradient_draw(own, 99))
    assert len(set(gradient_draw(own, 99))) > 100


def test_the_labour_market_figures_are_drawn_from_their_stated_ranges():
    from gmsim.ensemble import DRAWN_MARKET, labour_market_draw, replicate_seed
    from gmsim.parameters import default_parameters

    scenario = load_scenario(SC / "recession.yaml")  # an economy in which every one of them acts
    draws = [labour_market_draw(scenario, replicate_seed(2, r)) for r in range(2000)]
    for name in DRAWN_MARKET:
        p = default_parameters()[name]
        x = np.array([d[name] for d in draws])
        # median at the value, 2.5% below the low end and 2.5% above the high end (3 standard errors)
        se = np.sqrt(0.025 * 0.975 / len(x))
        assert abs((x < p.value).mean() - 0.5) < 3 * np.sqrt(0.25 / len(x)), name
        assert abs((x < p.low).mean() - 0.025) < 3 * se and abs((x > p.high).mean() - 0.025) < 3 * se, name
    own = Scenario.from_dict({**scenario.to_dict(), "parameters": {"labour_market.tightness": 1.1}}, path="own")
    assert "labour_market.tightness" not in labour_market_draw(own, 5)
    # the same replicate's figures in a steady economy: the same draws, less the sectors' spread
    steady = labour_market_draw(load_scenario(SC / "baseline.yaml"), replicate_seed(2, 0))
    assert steady == {k: v for k, v in draws[0].items() if k != "labour_market.sector_concentration"}


def test_each_sectors_exposure_to_a_shock_is_drawn_from_its_stated_range():
    from gmsim.economy import shape_exposure_ranges
    from gmsim.ensemble import replicate_seed, sector_exposure_draw

    scenario = load_scenario(SC / "recession.yaml")
    draws = [sector_exposure_draw(scenario, replicate_seed(3, r)) for r in range(2000)]
    ranges = shape_exposure_ranges("recession")
    assert set(draws[0]) == set(ranges)  # every sector with a range, and no other
    se, se_half = np.sqrt(0.025 * 0.975 / len(draws)), np.sqrt(0.25 / len(draws))
    for name, (value, low, high) in ranges.items():
        x = np.array([d[name] for d in draws])
        # 2.5% above the high end (3 standard errors), and the value the median
        assert abs((x > high).mean() - 0.025) < 3 * se, name
        if low > 0:
            assert abs((x < value).mean() - 0.5) < 3 * se_half and abs((x < low).mean() - 0.025) < 3 * se, name
        else:  # a sector the evidence finds untouched stays untouched in half the replicates, never below
            assert abs((x == 0).mean() - 0.5) < 3 * se_half and x.min() == 0, name
    # sectors drawn apart: production's and construction's draws are not correlated (|r| < 4 / sqrt(n))
    r = np.corrcoef([d["production"] for d in draws], [d["construction"] for d in draws])[0, 1]
    assert abs(r) < 4 / np.sqrt(len(draws))
    # a sector the scenario sets keeps its value; a steady economy draws none
    own = with_exposure(scenario, {"production": 1.0})
    assert "production" not in sector_exposure_draw(own, 5) and "construction" in sector_exposure_draw(own, 5)
    assert sector_exposure_draw(load_scenario(SC / "baseline.yaml"), 5) == {}


def with_exposure(scenario, exposure):
    from gmsim.scenario import Scenario

    data = scenario.to_dict()
    return Scenario.from_dict({**data, "economy": {**data["economy"], "sector_exposure": exposure}}, path="own")


def test_a_replicate_of_a_shock_runs_with_its_drawn_exposures_and_records_them(tmp_path):
    from gmsim.ensemble import baseline_draw, replicate_seed, run_record, sector_exposure_draw, with_sector_exposure
    from gmsim.model import GMModel

    scenario = load_scenario(SC / "recession.yaml").with_overrides(scale=0.01, months=30)
    seed = replicate_seed(5, 0)
    drawn = sector_exposure_draw(scenario, seed)
    [path] = execute([Task(scenario, 0, 5, True)], tmp_path, workers=1, progress=False)
    record = load_record(path)
    recorded = record["meta"]["labour_market"]
    assert {k.removeprefix("sector_exposure."): v for k, v in recorded.items() if k.startswith("sector_")} == drawn
    # the replicate is the run of the scenario with those exposures, not with the shape's own
    _, baseline = baseline_draw(scenario, seed)
    runs = {}
    for name, sc in (("drawn", with_sector_exposure(scenario, drawn)), ("shape", scenario)):
        model = GMModel(sc, rng=seed, parameters=baseline, record_transitions=False)
        model.run(progress=False)
        runs[name] = run_record(model)
    assert np.array_equal(runs["drawn"]["employed"], record["employed"])
    assert not np.array_equal(runs["shape"]["employed"], record["employed"])


# ----- effect priors: the draws of uncertainty runs -----------------------------------------------------------


@pytest.fixture(scope="module")
def effect_draws():
    """2,000 replicates' effect draws for the four strands (``{strand: {parameter: array}}``)."""
    from gmsim.ensemble import parameter_draws, replicate_seed

    sc = load_scenario(SC / "working_well.yaml")
    draws = [parameter_draws(sc, replicate_seed(11, r)) for r in range(2000)]
    return {s: {p: np.array([d[s][p] for d in draws]) for p in draws[0][s]} for s in draws[0]}


def test_each_effect_is_drawn_with_its_stated_median_and_95_percent_interval(effect_draws):
    from gmsim.interventions import registered

    # Shares of 2,000 draws: each tail's 2.5% within 3 standard errors (0.0035 each), the median's 50% too.
    se_tail, se_half = np.sqrt(0.025 * 0.975 / 2000), np.sqrt(0.25 / 2000)
    checked = 0
    for strand, params in effect_draws.items():
        cls = registered()[strand]
        spec = cls.uncertain_parameters()
        low, high = cls.provenance()["unit_cost_gbp"]["range"]
        spec["unit_cost_gbp"] = {"value": cls.default_params().unit_cost_gbp, "low": low, "high": high}
        for name, x in params.items():
            d = spec[name]
            assert abs((x < d["low"]).mean() - 0.025) < 3 * se_tail, (strand, name)
            assert abs((x > d["high"]).mean() - 0.025) < 3 * se_tail, (strand, name)
            assert abs((x < d["value"]).mean() - 0.5) < 3 * se_half, (strand, name)
            checked += 1
    assert checked == sum(len(p) for p in effect_draws.values()) >= 18 + 4  # every strand's unit cost too


def test_a_strands_effects_are_drawn_with_its_stated_correlation_in_the_direction_of_help(effect_draws):
    from gmsim import codes
    from gmsim.interventions import registered

    for strand, params in effect_draws.items():
        cls = registered()[strand]
        rho = cls.default_params().effect_correlation
        spec = cls.uncertain_parameters()
        scores = {}
        for name, x in ((n, x) for n, x in params.items() if n != "unit_cost_gbp"):  # drawn on its own
            # Back to each draw's normal score, signed so that a high score helps.
            d = spec[name]
            below = x < d["value"]
            z = np.where(
                below,
                np.log(x / d["value"]) / np.log(d["low"] / d["value"]) * -1.959964,
                np.log(x / d["value"]) / np.log(d["high"] / d["value"]) * 1.959964,
            )
            scores[name] = z * (1 if name.split(".", 1)[1] in codes.IMPROVING else -1)
        names = list(scores)
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                r = np.corrcoef(scores[names[a]], scores[names[b]])[0, 1]
                assert abs(r - rho) < 4 * (1 - rho**2) / np.sqrt(2000), (strand, names[a], names[b], r)


def test_an_override_moves_the_interval_with_the_value_and_a_value_outside_it_is_refused():
    from gmsim.interventions import registered

    cls = registered()["work_and_health"]
    effect = cls.default_params().effects["out_of_work_to_in_work"]
    moved = cls.parameters({"effects.out_of_work_to_in_work": 2 * effect.value}).effects["out_of_work_to_in_work"]
    assert moved.low == pytest.approx(2 * effect.low) and moved.high == pytest.approx(2 * effect.high)
    from gmsim.interventions.parameters import Effect

    with pytest.raises(ValueError, match="low <= value <= high"):
        Effect(value=1.5, low=0.8, high=1.2)
    assert Effect(value=1.0, low=0.8, high=1.3).quantile(-1.959964) == pytest.approx(0.8)
    assert Effect(value=1.0, low=0.8, high=1.3).quantile(1.959964) == pytest.approx(1.3)
