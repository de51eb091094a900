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

import os
import sys
from importlib import import_module
from typing import Any

# numba's own "workqueue" threading layer is fork-safe, so ensembles can fork worker processes after the
# parent has run a model (GNU OpenMP's layer can deadlock a forked child). Set before numba starts threads.
os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
if "numba" in sys.modules:
    sys.modules["numba"].config.THREADING_LAYER = os.environ["NUMBA_THREADING_LAYER"]

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
