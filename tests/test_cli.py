"""run_sim.py end to end at small scale, bad input, and atomic result folders."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from gmsim import cli, plots

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, str(ROOT / "run_sim.py"), *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_end_to_end_small_scale(tmp_path):
    out = tmp_path / "base"
    r = run(
        "scenarios/baseline.yaml", "--scale", "0.005", "--months", "24", "--seed", "3", "--out", str(out), "--quiet"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    s = json.loads((out / "summary.json").read_text())
    for key in ("scenario", "seed", "months", "scale", "population", "final", "mean_last_12", "by_borough", "flows"):
        assert key in s
    assert s["seed"] == 3 and s["months"] == 24 and s["scale"] == 0.005
    assert s["population"] == pytest.approx(1_781_000, rel=0.001)
    for block in (s["final"], s["mean_last_12"], *[b["final"] for b in s["by_borough"].values()]):
        assert {"in_work", "at_risk", "out_of_work", "out_of_work_health", "inactive_other", "employment_rate"} <= set(
            block
        )
    assert set(s["by_borough"]) == {
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
    }
    assert {"job_entries", "job_losses", "sickness_absence_starts", "health_job_losses"} <= set(s["flows"])
    assert 0 < s["transition_rates"]["inactive_to_in_work"]["all"] < 5
    moves = pd.read_csv(out / "transitions.csv")  # job entries in the window (months 13-24), a year
    entries = moves[(moves.month >= 13) & (moves.to_state == "in_work") & (moves.from_state != "at_risk")]
    assert entries["count"].sum() == pytest.approx(s["flows"]["job_entries"], abs=0.1)
    ts = pd.read_csv(out / "timeseries.csv")
    assert list(ts.columns) == ["month", "date", "borough", "state", "health", "severity", "count"]
    assert ts.groupby("month")["count"].sum().round().eq(1_781_000).all()
    m = json.loads((out / "manifest.json").read_text())
    assert m["seed"] == 3 and len(m["scenario_hash"]) == 64
    assert {"gmsim", "mesa", "numpy"} <= set(m["versions"]) and m["wall_time_s"] > 0
    for png in ("stocks.png", "employment_by_borough.png", "out_of_work_by_duration.png"):
        assert (out / "plots" / png).stat().st_size > 10_000
    # the same command gives the same numbers
    out2 = tmp_path / "again"
    run("scenarios/baseline.yaml", "--scale", "0.005", "--months", "24", "--seed", "3", "--out", str(out2), "--quiet")
    assert (out2 / "summary.json").read_text() == (out / "summary.json").read_text()
    assert (out2 / "timeseries.csv").read_bytes() == (out / "timeseries.csv").read_bytes()


def test_default_scenario_and_results_folder(tmp_path):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "baseline.yaml").write_text(
        "name: quick\nmonths: 2\npopulation: {scale: 0.001, history_sample: 0}\n"
    )
    r = run(cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "results" / "quick" / "summary.json").exists()
    assert "quick" in r.stdout


@pytest.mark.parametrize(
    "content,args,needle",
    [
        (None, [], "no such file"),
        ("name: x\nmonths: [1\n", [], "line"),
        ("name: x\nsede: 3\n", [], "did you mean 'seed'"),
        ("name: x\npopulation: {scale: -1}\n", [], "population.scale"),
        ("name: x\nparameters: {in_work_to_at_risk.bas: 0.1}\n", [], "in_work_to_at_risk.base"),
        ("name: x\n", ["--scale", "-2"], "population.scale"),
        ("name: x\n", ["--months", "abc"], "--months"),
        ("name: x\n", ["--seed", "-1"], "seed"),
        ("name: x\n", ["--set", "labour_market.tightness"], "--set: expected NAME=VALUE"),
        ("name: x\n", ["--set", "labour_market.tightnes=1"], "did you mean 'labour_market.tightness'"),
        ("name: x\n", ["--set", "labour_market.vacancy_withdrawal=2"], "between 0 and 1"),
        ("name: x\nstrands: {work_and_heath: {budget_gbp_per_year: 1}}\n", [], "did you mean 'work_and_health'"),
        ("name: x\nstrands: {early_help: {budget_gbp_per_year: -5}}\n", [], "budget_gbp_per_year"),
        ("name: x\nstrands: {in_work: {parameters: {effects.in_work_to_at_risk: 0}}}\n", [], "hazard ratio > 0"),
        ("name: x\nstrands: {care_and_support: {start_month: 9, end_month: 3}}\n", [], "start_month"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(tmp_path, content, args, needle):
    path = tmp_path / "scenario.yaml"
    if content is not None:
        path.write_text(content)
    r = run(str(path), "--out", str(tmp_path / "out"), *args)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0]
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_every_error_in_a_file_is_listed(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nmonths: 0\nsede: 1\npopulation: {scale: 20}\n")
    r = run(str(path))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith(str(path)) for line in lines)


def test_out_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    r = run("--out", str(target), "--scale", "0.001", "--months", "1")
    assert r.returncode == 2 and "--out" in r.stderr
    assert target.read_text() == "keep me"


def test_failed_run_keeps_the_earlier_good_folder(tmp_path, monkeypatch):
    out = tmp_path / "res"
    assert cli.main(["--scale", "0.001", "--months", "2", "--out", str(out), "--quiet"]) == 0
    good = (out / "summary.json").read_text()

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(plots, "draw", broken)
    with pytest.raises(RuntimeError):
        cli.main(["--scale", "0.001", "--months", "3", "--out", str(out), "--quiet"])
    assert (out / "summary.json").read_text() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]  # no partial folder left behind


def test_interrupted_run_writes_nothing(tmp_path, monkeypatch):
    from gmsim import model

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(model.GMModel, "run", interrupted)
    out = tmp_path / "res"
    assert cli.main(["--scale", "0.001", "--out", str(out), "--quiet"]) == 130
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_folder_holding_other_files_is_refused_before_anything_is_simulated(tmp_path):
    """Issue 21, item 1: ``--out`` deleted a user's unrelated files; compare and sweep replaced plots/."""
    k = tmp_path / "k"
    (k / "sub").mkdir(parents=True)
    (k / "notes.txt").write_text("notes")
    (k / "sub" / "data.csv").write_text("y")
    for args in (
        ["scenarios/baseline.yaml", "--scale", "0.02", "--months", "12"],
        ["compare", "scenarios/baseline.yaml", "scenarios/in_work.yaml", "--runs", "1", "--scale", "0.002"],
        ["sweep", "scenarios/funding_mix.yaml", "--runs", "1", "--scale", "0.002", "--months", "2"],
    ):
        r = run(*args, "--out", str(k), "--quiet")
        assert r.returncode == 2, r.stderr
        assert "holds files gmsim did not write (notes.txt, sub)" in r.stderr and len(r.stderr.splitlines()) == 1
        assert (k / "notes.txt").read_text() == "notes" and (k / "sub" / "data.csv").read_text() == "y"
        assert sorted(p.name for p in k.iterdir()) == ["notes.txt", "sub"]
    mine = tmp_path / "plots_of_mine"
    (mine / "plots").mkdir(parents=True)
    (mine / "plots" / "draft.txt").write_text("mine")
    r = run("compare", "scenarios/baseline.yaml", "scenarios/in_work.yaml", "--out", str(mine), "--quiet")
    assert r.returncode == 2 and "plots/draft.txt" in r.stderr


def test_a_gmsim_results_folder_is_replaced_and_an_empty_one_filled(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    assert cli.main(["--scale", "0.001", "--months", "2", "--out", str(out), "--quiet"]) == 0
    assert cli.main(["--scale", "0.001", "--months", "3", "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "summary.json").read_text())["months"] == 3


def test_the_current_folder_cannot_be_a_run_s_results_folder(tmp_path):
    """Issue 21, item 4: ``--out .`` failed after the whole simulation (EBUSY) and left a partial folder."""
    here = tmp_path / "here"
    here.mkdir()
    r = run(str(ROOT / "scenarios" / "baseline.yaml"), "--scale", "0.02", "--months", "120", "--out", ".", cwd=here)
    assert r.returncode == 2 and "the current folder" in r.stderr and len(r.stderr.splitlines()) == 1
    assert list(here.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["here"]
    r = run(str(ROOT / "scenarios" / "baseline.yaml"), "--out", "/", cwd=here)
    assert r.returncode == 2 and "--out" in r.stderr


def test_a_mount_point_cannot_be_a_run_s_results_folder(tmp_path, monkeypatch):
    """A mount point cannot be replaced whole (rename fails with EBUSY): refused before anything runs."""
    from gmsim import folders

    mounted = tmp_path / "disk"
    mounted.mkdir()
    monkeypatch.setattr(folders.os.path, "ismount", lambda p: os.path.realpath(p) == str(mounted.resolve()))
    problem = folders.output_folder_problem(mounted, "run")
    assert problem is not None and "is a mount point" in problem
    assert folders.output_folder_problem(mounted / "results", "run") is None  # a new folder on it is fine


def test_help_lists_every_command_and_version_is_shown():
    r = run("--help")
    assert r.returncode == 0
    for command in ("compare BASELINE.yaml OTHER.yaml", "sweep MIX.yaml", "dashboard"):
        assert command in r.stdout, command
    from gmsim import __version__

    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"gmsim {__version__}"


def test_strands_csv_has_a_row_for_every_count_zeros_included(tmp_path):
    from gmsim.interventions import COUNTERS

    out = tmp_path / "ww"
    r = run("scenarios/working_well.yaml", "--scale", "0.002", "--months", "3", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out / "strands.csv")
    assert len(df) == 4 * 4 * len(COUNTERS) * 10  # months 0-3, four strands, every measure, ten boroughs
    assert (df.value == 0).any() and df.value.notna().all()


def test_set_changes_a_parameter_for_the_run_and_the_manifest_records_it(tmp_path):
    out = tmp_path / "out"
    args = ["--scale", "0.004", "--months", "3", "--out", str(out), "--quiet"]
    r = run(str(ROOT / "scenarios" / "baseline.yaml"), *args, "--set", "labour_market.vacancy_withdrawal=0.5")
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["parameters"]["labour_market.vacancy_withdrawal"] == 0.5
    assert manifest["parameters_changed_from_data_files"]["labour_market.vacancy_withdrawal"] == 0.5
