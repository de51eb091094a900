"""gmsim: an agent-based simulation of the Greater Manchester labour market for work-and-health policy.

Public API::

    from gmsim import GMModel, load_scenario, run

    model = run("scenarios/baseline.yaml", scale=0.1)   # build and run a scenario
    model.results.monthly()                              # headline stocks by month (people)
    gmsim.summary(model)                                  # what summary.json holds
    gmsim.compare(["scenarios/baseline.yaml", "scenarios/working_well.yaml"], runs=10)  # DataFrames
    gmsim.sweep("scenarios/funding_mix.yaml", runs=10)

Names are imported on first use, so ``import gmsim`` stays light.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

# numba's own "workqueue" threading layer is fork-safe, so ensembles can fork worker processes after the
# parent has run a model (GNU OpenMP's layer can deadlock a forked child). Set before numba starts threads.
os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
if "numba" in sys.modules:
    sys.modules["numba"].config.THREADING_LAYER = os.environ["NUMBA_THREADING_LAYER"]


def hash_sources(h: Any, suffixes: tuple[str, ...], root: Path | None = None) -> Any:
    """``h`` (a hashlib object) updated with the path and contents of each of gmsim's files with these suffixes."""
    root = root or Path(__file__).resolve().parent
    for path in sorted(root.rglob("*")):
        if path.suffix in suffixes and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h


def kernel_cache_folder(root: Path | None = None, base: Path | None = None) -> Path:
    """Where compiled kernels are cached: a folder named by a hash of gmsim's Python sources.

    numba recompiles a cached kernel when its own file changes, but not when a file whose kernels it calls
    (and compiles into itself) changes, so after an update a kernel could run with another file's old code.
    One folder per version of the sources rules that out; the newest three are kept.
    """
    h = hash_sources(hashlib.sha256(), (".py",), root)
    base = base or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gmsim" / "kernels"
    return base / h.hexdigest()[:16]


def _use_kernel_cache() -> None:
    """Cache kernels in :func:`kernel_cache_folder` unless ``NUMBA_CACHE_DIR`` says where (then there)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    try:
        folder = kernel_cache_folder()
        folder.mkdir(parents=True, exist_ok=True)
        older = sorted((p for p in folder.parent.iterdir() if p.is_dir() and p != folder), key=os.path.getmtime)
        for old in older[:-2]:
            shutil.rmtree(old, ignore_errors=True)
        os.utime(folder)
    except OSError:  # no writable cache folder: numba's own place, beside the sources
        return
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    if "numba" in sys.modules:
        sys.modules["numba"].config.CACHE_DIR = str(folder)


_use_kernel_cache()

__version__ = "0.1.0"

_EXPORTS = {
    "GMModel": "gmsim.model",
    "Scenario": "gmsim.scenario",
    "ScenarioError": "gmsim.scenario",
    "load_scenario": "gmsim.scenario",
    "ParameterSet": "gmsim.parameters",
    "summary": "gmsim.output",
    "write_results": "gmsim.output",
    "run": "gmsim.model",
    "compare": "gmsim.comparison",
    "sweep": "gmsim.comparison",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'gmsim' has no attribute {name!r}")
