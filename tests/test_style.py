"""Docstrings, lint and layout are enforced by ruff (Google convention and ``ruff format``; see pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ["gmsim", "tests", "benchmarks", "run_sim.py"]


def _ruff() -> str:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    return ruff


def test_ruff_check_is_clean():
    r = subprocess.run([_ruff(), "check", *CHECKED], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_code_is_laid_out_by_ruff_format():
    r = subprocess.run([_ruff(), "format", "--check", *CHECKED], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, "run `ruff format " + " ".join(CHECKED) + "`:\n" + r.stdout + r.stderr


def test_only_the_shared_runs_package_and_the_caseload_engine_know_of_shared_runs():
    """The seam: strands, the intervention interface and the dynamics never name the optimisation's parts."""
    words = ("trunk", "diverged", "movable", "model.shared", "shared run")
    sources = [*(ROOT / "gmsim" / "interventions").glob("*.py"), *(ROOT / "gmsim" / "dynamics").glob("*.py")]
    found = [
        f"{path.relative_to(ROOT)}: {word}"
        for path in sources
        if path.name != "caseload.py"
        for word in words
        if word in path.read_text(encoding="utf-8").lower()
    ]
    assert len(sources) > 10 and not found, found
