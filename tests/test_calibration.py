"""The calibrated baseline against the GM targets (scale 0.2: noise well inside the tolerances)."""

from pathlib import Path

import numpy as np
import pytest

from gmsim import codes
from gmsim.agents.people import borough_shares
from gmsim.calibrate import (
    COORDINATES,
    _normalise_boroughs,
    _to_u,
    box,
    calibrate,
    calibrated_names,
    coordinates_of,
    fit_report,
    fitted_targets,
    prior,
    values_at,
)
from gmsim.model import GMModel
from gmsim.output import summary
from gmsim.parameters import default_parameters
from gmsim.targets import borough_employment_targets, load_targets


@pytest.fixture(scope="module")
def baseline():
    m = GMModel(scale=0.2, months=120, rng=1, record_transitions=True)
    m.run(progress=False)
    return summary(m)


@pytest.mark.parametrize("target", [t for t in load_targets()], ids=lambda t: t.key)
def test_target_within_tolerance(baseline, target):
    got = baseline["targets"][target.key]
    assert got["ok"], f"{target.description}: model {got['model']} vs target {target.value} ± {target.tolerance}"


def test_borough_ordering_and_gaps_are_kept(baseline):
    targets = borough_employment_targets()
    model = np.array([baseline["targets"][f"employment_rate_{b}"]["model"] for b in codes.BOROUGHS])
    # every pair of boroughs published more than 1 pp apart keeps its order
    for i in range(len(targets)):
        for j in range(len(targets)):
            if targets[i] - targets[j] > 0.01:
                assert model[i] > model[j], (codes.BOROUGHS[i], codes.BOROUGHS[j])
    # gaps between boroughs match the published ones within 1.5 pp
    assert np.abs((model - model.mean()) - (targets - targets.mean())).max() < 0.015


def test_borough_targets_average_to_the_gm_rate():
    assert np.dot(borough_shares(), borough_employment_targets()) == pytest.approx(0.724)
    published = borough_employment_targets()
    assert (
        np.argsort(published).tolist()
        == np.argsort([0.659, 0.778, 0.613, 0.647, 0.627, 0.665, 0.754, 0.687, 0.720, 0.702]).tolist()
    )


def test_health_claims_last_as_long_as_the_caseload_s_and_the_stock_is_stable(baseline):
    # not fitted: about half the health-related caseload has claimed for 5+ years (56% in 2008)
    assert 0.4 <= baseline["window"]["long_spell_share"] <= 0.65
    assert baseline["final"]["out_of_work_health"] == pytest.approx(150_000, rel=0.08)


def test_inactive_people_with_a_complex_condition_rarely_enter_work(baseline):
    """Job entry from inactivity depends on health: a few per cent a year with a complex condition.

    The LFS found 3.6% of people inactive because of ill health in work a year later
    (lfs_health_inactive_into_work_2014); until 6 December 2026 the model gave 40% a year.
    """
    rates = baseline["transition_rates"]["inactive_to_in_work"]
    assert 0.005 < rates["complex"] < 0.06
    assert rates["complex"] < rates["moderate"] < rates["mild"] < rates["none"]


def test_most_sickness_absences_end_in_a_return_and_claims_are_held_in_inactivity(baseline):
    flows, window = baseline["flows"], baseline["window"]
    assert 0.06 <= flows["sickness_absence_job_loss_share"] <= 0.12  # DWP 2019: 9%
    # claimants of health-related benefits are in and out of the labour force; the stocks add up
    assert 0.2 < window["inactive_claiming_health"] / window["out_of_work_health"] < 0.8
    parts = ("in_work", "at_risk", "looking_for_work", "inactive_claiming_health", "inactive_other")
    assert sum(window[k] for k in parts) == pytest.approx(1_781_000, rel=1e-6)
    assert window["out_of_work"] == pytest.approx(window["looking_for_work"] + window["inactive_claiming_health"])


def test_every_fitted_value_outside_its_range_is_explained_in_the_calibration_report():
    from pathlib import Path

    from gmsim.parameters import calibrated_values, default_parameters

    doc = (Path(__file__).resolve().parents[1] / "docs" / "calibration.md").read_text()
    reasons = doc.split("## Fitted values outside their stated range, and why", 1)[1].split("\n## ", 1)[0]
    defaults = default_parameters()
    for name, value in calibrated_values().items():
        p = defaults[name]
        if p.low is not None and not p.low <= value <= p.high:
            stem = (
                name.rsplit(".", 1)[0] if ".borough." in name or ".severity." in name or ".benefit." in name else name
            )
            assert f"`{stem}" in reasons, (
                f"{name} = {value:.4g} is outside {p.low:.4g}-{p.high:.4g} with no reason given"
            )


def test_normalised_borough_ratios_have_unit_weighted_geometric_mean():
    values = {
        f"{p}.borough.{b}": 1.0 + 0.1 * k
        for k, b in enumerate(codes.BOROUGHS)
        for p in ("out_of_work_to_in_work", "inactive_to_in_work")
    }
    _normalise_boroughs(values)
    logs = np.log([values[f"out_of_work_to_in_work.borough.{b}"] for b in codes.BOROUGHS])
    assert np.dot(borough_shares(), logs) == pytest.approx(0, abs=1e-12)


def test_calibration_runs_waves_samples_the_posterior_and_reports(tmp_path):
    from gmsim.parameters import ParameterSet

    runs = tmp_path / "runs.csv"
    cal = calibrate(
        waves=(30, 12), scale=0.002, draws=20, predictive=4, workers=1, steps=200, progress=False, runs_file=runs
    )
    assert len(cal.sets) == 20 and len(cal.runs) == 4
    for s in cal.sets:
        assert set(s) == calibrated_names()
        ParameterSet(s, calibrated=False)
    assert cal.method["runs_per_wave"] == [30, 12]
    assert len(cal.method["box_not_ruled_out_after_each_wave"]) == 2
    report = fit_report(cal.runs[0], cal.runs)
    assert len(report) == len(load_targets())
    assert (report["passed"] == ((report["model_value"] - report["target_value"]).abs() <= report["tolerance"])).all()
    assert (report["interval_low"] <= report["interval_high"]).all()
    # what a calibration writes: its sets, their mean, and the weights of the gradients it leaves out, from
    # the mean's population (so they follow each refit); then the conditioning of what it leaves out
    import shutil

    import pandas as pd
    import yaml

    from gmsim import conditioning, gradients
    from gmsim.calibrate import condition, posterior_mean, write

    data, docs = tmp_path / "data", tmp_path / "docs"
    data.mkdir(), docs.mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "docs" / "model.md", docs / "model.md")
    write(cal, cal.runs[0], report, 1, {}, data_dir=data, docs_dir=docs, weights_scale=0.02)
    assert len(pd.read_csv(data / "posterior.csv")) == 20
    assert yaml.safe_load((data / "calibrated.yaml").read_text())["values"] == pytest.approx(
        posterior_mean(cal.sets), rel=1e-5
    )
    weights = yaml.safe_load((data / gradients.WEIGHTS_FILE).read_text())["weights"]
    for t, attribute in gradients.gradients():
        assert sum(weights[t][attribute].values()) == pytest.approx(1, abs=1e-3), (t, attribute)
    assert weights != gradients.weights()  # another posterior's mean: other weights
    table = condition(cal.sets, waves=(3, 2), per_base=2, scale=0.002, workers=1, progress=False, data_dir=data)
    written = yaml.safe_load((data / conditioning.CONDITIONING_FILE).read_text())
    assert tuple(written["scores"]) == conditioning.conditioned_names() and written["method"]["pairs"] == 4
    assert [w["posterior_sets"] for w in written["method"]["waves"]] == [3, 2]
    assert list(table.target) == written["targets"] == [t.key for t in fitted_targets()]
    # a calibration can go on from the runs another wrote (in the same box): a further wave after them
    from gmsim.calibrate import read_runs

    earlier = read_runs(runs)
    assert list(earlier["wave"]) == [0] * 30 + [1] * 12
    more = calibrate(
        waves=(10,), scale=0.002, draws=8, predictive=2, workers=1, steps=100, progress=False,
        runs_file=tmp_path / "more.csv", earlier_runs=earlier,
    )  # fmt: skip
    assert more.method["runs_per_wave"] == [30, 12, 10]
    shares = more.method["box_not_ruled_out_after_each_wave"]
    assert len(shares) == 3 and shares[0] is None and all(0 <= s <= 1 for s in shares[1:])
    from gmsim.calibrate import _report_lines

    assert "not recorded (an earlier calibration's wave)" in "\n".join(_report_lines(more, report, 1, {}, "today"))
    again = read_runs(tmp_path / "more.csv")
    assert list(again["wave"]) == [0] * 30 + [1] * 12 + [2] * 10
    assert again.iloc[:42].reset_index(drop=True).equals(earlier)
    # runs from another fit's box are refused before anything is run
    moved = earlier.assign(onset=earlier["onset"] + 100)
    with pytest.raises(ValueError, match="outside the box searched, which is centred on data/calibrated.yaml"):
        calibrate(waves=(10,), scale=0.002, workers=1, progress=False, earlier_runs=moved)


def test_coordinates_map_to_parameters_and_back():
    defaults = default_parameters()
    start = {n: defaults[n].value for n in calibrated_names()}
    spread = [c.name for c in COORDINATES].index("job_readiness_spread")
    at_start = coordinates_of(start)  # a factor of 1 on every starting value: 0, but a spread is its value
    assert at_start[spread] == defaults["labour.job_readiness_sd"].value
    assert np.allclose(np.delete(at_start, spread), 0)
    u = np.linspace(-0.3, 0.3, len(COORDINATES))
    u[spread] = 0.4
    values = values_at(u)
    back = values_at(coordinates_of(values))
    assert all(back[k] == pytest.approx(values[k], rel=1e-9) for k in values)
    # members of a coordinate move by the same factor
    onset = [values[n] / defaults[n].value for n in COORDINATES[0].parameters]
    assert max(onset) == pytest.approx(min(onset))


def test_each_prior_has_its_parameters_stated_ranges_as_its_95_percent_interval_and_the_box_covers_it():
    defaults = default_parameters()
    priors = [prior(c) for c in COORDINATES]
    for c, p in zip(COORDINATES, priors, strict=True):
        members = [defaults[n] for n in c.parameters]
        if p.kind == "uniform":  # a spread: flat over its range, "none" included
            assert (p.a, p.b) == (members[0].low, members[0].high)
            continue
        lo, hi = p.interval(0.95)
        lows = [_to_u(m.value, m.kind, m.low) for m in members]
        highs = [_to_u(m.value, m.kind, m.high) for m in members]
        assert min(lows) - 1e-6 <= lo <= max(lows) + 1e-6, c.name
        assert min(highs) - 1e-6 <= hi <= max(highs) + 1e-6, c.name
    lower, upper = box(np.zeros(len(COORDINATES)), priors)
    for p, a, b in zip(priors, lower, upper, strict=True):
        lo, hi = p.interval(0.95) if p.kind == "normal" else (p.a, p.b)
        assert a <= lo + 1e-12 and b >= hi - 1e-12


def test_the_shipped_posterior_has_100_sets_or_more_whose_mean_is_the_calibrated_baseline():
    from gmsim.parameters import ParameterSet, calibrated_values, posterior_sets

    sets = posterior_sets()
    assert len(sets) >= 100
    assert all(set(s) == calibrated_names() for s in sets)
    for s in sets[:: max(1, len(sets) // 10)]:
        ParameterSet(s, calibrated=False)
    cal = calibrated_values()
    centre = np.mean([coordinates_of(s) for s in sets], axis=0)  # the mean on each coordinate's scale
    assert np.allclose(coordinates_of(cal), centre, atol=1e-4)
    for name in calibrated_names():
        values = np.array([s[name] for s in sets])
        assert values.min() <= cal[name] <= values.max(), name
    # the sets differ: the identified coordinates have a spread, the targets' measurement error
    assert np.std([s["inactive_to_in_work.base"] for s in sets]) > 0


def test_the_calibrated_flags_in_parameters_yaml_are_the_calibrations_coordinates():
    flagged = {name for name, p in default_parameters().items() if p.calibrated}
    moved_with_a_flagged_one = {
        "onset_musculoskeletal.base",
        "onset_other.base",
        "out_of_work_to_in_work.benefit.support_group",
    }
    assert calibrated_names() == flagged | moved_with_a_flagged_one
    for c in COORDINATES:  # every coordinate has a flagged parameter first, the one the reports show
        assert c.parameters[0] in flagged, c.name


def test_earlier_runs_that_are_not_a_calibrations_get_one_line_and_exit_status_2(tmp_path, capsys):
    from gmsim.calibrate import main

    bad = tmp_path / "runs.csv"
    bad.write_text("onset,health_worsening\n0.1,0.2\n")
    assert main(["--more-waves-from", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and "no column 'wave'" in err
    (tmp_path / "empty.csv").write_text("")
    assert main(["--more-waves-from", str(tmp_path / "empty.csv")]) == 2
    assert "cannot be read as the waves' runs" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, says",
    [
        (["--waves", "300,x"], "--waves: expected runs per wave as whole numbers of 10 or more"),
        (["--scale", "0"], "--scale: expected a number of at least 0.001"),
        (["--workers", "none"], "--workers: expected a whole number of at least 1"),
        (["--conditioning-waves", "100,1"], "--conditioning-waves: expected posterior sets per wave as whole numbers"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_status_2(argv, says, capsys):
    from gmsim.calibrate import main

    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and len(err.splitlines()) == 1 and says in err
