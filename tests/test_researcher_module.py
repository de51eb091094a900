"""A researcher's own module, exactly as docs/write_an_intervention.md writes it, everywhere a strand runs.

The module, its scenario and its sweep file are taken from the page's code blocks, written beside copies
of the shipped baseline, and run through ``run_sim.py``, ``gmsim compare`` and ``gmsim sweep`` (whose
runs of a replicate are shared runs), the dashboard's controls, and shared runs checked against the run
alone, array by array.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gmsim.interventions import REGISTRY, registered

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "write_an_intervention.md"
SMALL = ["--scale", "0.01", "--months", "12", "--quiet"]


def guide_files() -> dict[str, str]:
    """The page's code blocks whose first line names a file (``# over_fifties.py``), by file name."""
    blocks = re.findall(r"```(?:python|yaml)\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)
    out = {}
    for block in blocks:
        first = block.splitlines()[0]
        if re.fullmatch(r"# [\w.]+\.(py|yaml)", first):
            out[first[2:]] = block
    return out


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A scenarios folder: the shipped baseline, and the guide's module, scenario and sweep file."""
    here = tmp_path_factory.mktemp("researcher")
    shutil.copy(ROOT / "scenarios" / "baseline.yaml", here / "baseline.yaml")
    for name, text in guide_files().items():
        (here / name).write_text(text, encoding="utf-8")
    yield here
    REGISTRY.pop("over_fifties", None)


def gmsim_command(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *args], cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return out


def test_the_guide_gives_a_module_of_about_60_lines_a_scenario_and_a_sweep_file():
    files = guide_files()
    assert set(files) == {"over_fifties.py", "over_fifties.yaml", "over_fifties_mix.yaml"}
    assert 40 <= len(files["over_fifties.py"].splitlines()) <= 70


def test_the_module_runs_from_the_command_line(folder):
    gmsim_command("over_fifties.yaml", *SMALL, "--out", "run", cwd=folder)
    summary = json.loads((folder / "run" / "summary.json").read_text())
    mine = summary["strands"]["over_fifties"]
    assert mine["started"] > 0 and mine["spend_gbp"] == pytest.approx(mine["started"] * 1200)
    assert mine["eligible"] > 0 and mine["referred"] >= mine["started"]


def test_its_parameters_are_checked_and_overridden_like_a_strand_s(folder):
    from gmsim.scenario import ScenarioError, load_scenario

    scenario = load_scenario(folder / "over_fifties.yaml")
    cls = registered()["over_fifties"]
    assert cls.parameters(scenario.strands["over_fifties"].parameters).min_age_years == 55
    assert cls.default_params().min_age_years == 50
    assert "effects.out_of_work_to_in_work" in cls.uncertain_parameters()
    bad = folder / "bad.yaml"
    bad.write_text(
        (folder / "over_fifties.yaml").read_text().replace("min_age_years: 55", "min_age_year: 55, dropout_rate: -1")
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    assert info.value.problems == [
        (
            "strands.over_fifties.parameters.min_age_year",
            "unknown parameter of over_fifties (did you mean 'min_age_years'?)",
        ),
        (
            "strands.over_fifties.parameters.dropout_rate",
            "expected a value from 0 to 5 a month (a hazard of 5 is 99.3% a month), got -1",
        ),
    ]


def test_the_module_is_compared_and_swept_with_common_random_numbers(folder):
    gmsim_command("compare", "baseline.yaml", "over_fifties.yaml", "--runs", "2", *SMALL, "--out", "cmp", cwd=folder)
    impacts = pd.read_csv(folder / "cmp" / "impacts.csv")
    assert "over_fifties" in set(impacts["scenario"])
    gmsim_command("sweep", "over_fifties_mix.yaml", "--runs", "2", *SMALL, "--out", "mix", cwd=folder)
    mixes = pd.read_csv(folder / "mix" / "mixes.csv")
    assert len(mixes) == 3  # 0%, 50% and 100% to the module
    assert "Over-50s job search" in (folder / "mix" / "report.html").read_text(encoding="utf-8")


def test_shared_runs_of_the_module_are_the_runs_on_their_own(folder):
    from gmsim.ensemble import parameter_draws
    from gmsim.model import GMModel
    from gmsim.scenario import load_scenario
    from gmsim.shared import SharedRuns

    names = ("baseline", "over_fifties")
    scenarios = [load_scenario(folder / f"{n}.yaml").with_overrides(scale=0.02, months=24) for n in names]
    scenarios.append(load_scenario(ROOT / "scenarios" / "working_well.yaml").with_overrides(scale=0.02, months=24))
    draws = [parameter_draws(s, 7) for s in scenarios]
    shared = SharedRuns(scenarios, 7, draws, find_movable=True)
    assert len(shared.trunk.population.screened) == 0  # one run of the module: screened on its own
    shared.run()
    for k, (s, d) in enumerate(zip(scenarios, draws, strict=True)):
        alone = GMModel(s, rng=7, intervention_draws=d)
        alone.run(progress=False)
        mine = shared.models[k]
        assert np.array_equal(mine.results.stock, alone.results.stock) and mine.steps == alone.steps == 24
        for a, b in zip(mine.interventions, alone.interventions, strict=True):
            assert np.array_equal(a.counts, b.counts), a.name
        for field, x, y in zip(alone.people._fields, shared.own_people(k), alone.people, strict=True):
            assert np.array_equal(x, y), field
    assert shared.models[1].interventions[0].totals()["started"] > 0


def test_the_dashboard_gives_the_module_a_slider(folder):
    from gmsim import dashboard
    from gmsim.dashboard import strand_controls

    controls = {c.name: c for c in strand_controls(dashboard.start_scenarios(folder))}
    assert controls["over_fifties"].title == "Over-50s job search"
    assert any(m.endswith("over_fifties.py") for m in controls["over_fifties"].modules)
