"""The notebooks run top to bottom on a fresh install (small scale), and are stored without outputs."""

import json
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: strip outputs before committing"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A Jupyter kernel that runs this interpreter (the one with this checkout's gmsim installed)."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "gmsim-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "gmsim tests",
                "language": "python",
            }
        )
    )
    return str(root)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch, kernel):
    monkeypatch.setenv("JUPYTER_PATH", kernel)
    monkeypatch.setenv("GMSIM_NOTEBOOK_SCALE", os.environ.get("GMSIM_NOTEBOOK_SCALE", "0.01"))
    monkeypatch.setenv("GMSIM_NOTEBOOK_MONTHS", os.environ.get("GMSIM_NOTEBOOK_MONTHS", "36"))
    monkeypatch.setenv("GMSIM_NOTEBOOK_RUNS", os.environ.get("GMSIM_NOTEBOOK_RUNS", "2"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="gmsim-test", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
