"""The calibrated baseline against the GM targets (scale 0.2: noise well inside the tolerances)."""

import numpy as np
import pytest

from gmsim import codes
from gmsim.agents.people import borough_shares
from gmsim.calibrate import FITS, _normalise_boroughs, calibrate, fit_report
from gmsim.model import GMModel
from gmsim.output import summary
from gmsim.targets import borough_employment_targets, load_targets


@pytest.fixture(scope="module")
def baseline():
    m = GMModel(scale=0.2, months=120, rng=1)
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


def test_health_stock_has_long_durations_and_is_stable(baseline):
    # duration dependence: half the health-related caseload out of work 5+ years, and the stock steady
    assert 0.4 <= baseline["targets"]["long_spell_share"]["model"] <= 0.6
    assert baseline["final"]["out_of_work_health"] == pytest.approx(150_000, rel=0.08)


def test_normalised_borough_ratios_have_unit_weighted_geometric_mean():
    values = {
        f"{p}.borough.{b}": 1.0 + 0.1 * k
        for k, b in enumerate(codes.BOROUGHS)
        for p in ("out_of_work_to_in_work", "inactive_to_in_work")
    }
    _normalise_boroughs(values)
    logs = np.log([values[f"out_of_work_to_in_work.borough.{b}"] for b in codes.BOROUGHS])
    assert np.dot(borough_shares(), logs) == pytest.approx(0, abs=1e-12)


def test_calibration_runs_and_reports():
    fitted, got = calibrate(iterations=2, full_scale_iterations=0, sample_scale=0.002, verbose=False)
    assert set(fitted) == {n for f in FITS for n in f.parameters}
    report = fit_report(got)
    assert len(report) == len(load_targets())
    assert (report["passed"] == ((report["model_value"] - report["target_value"]).abs() <= report["tolerance"])).all()
