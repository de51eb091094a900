"""Results folders: what gmsim writes where, and writing them without losing anybody else's files.

A results folder is new, empty, or one gmsim wrote (holding only what gmsim writes there). A run's
folder is built in a temporary sibling folder and moved into place only when complete, so a failed or
interrupted run never leaves a half-written folder and never damages an earlier good one. This module
imports nothing heavy, so that a bad ``--out`` is reported before anything is simulated.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: What gmsim writes in a results folder, by the command that writes it; anything else is somebody else's.
RESULT_FILES = {
    "run": {
        "summary.json",
        "timeseries.csv",
        "monthly.csv",
        "transitions.csv",
        "labour_market.csv",
        "strands.csv",
        "cohort_impact.csv",
        "pathways.csv.gz",
        "manifest.json",
        "plots",
    },
    "compare": {"report.html", "impacts.csv", "replicates.csv", "over_time.csv", "stocks.csv", "plots", "runs"},
    "sweep": {
        "report.html",
        "mixes.csv",
        "decision.csv",
        "evppi.csv",
        "impacts.csv",
        "attribution.csv",
        "boroughs.csv",
        "replicates.csv",
        "robust.csv",
        "economies",
        "plots",
        "runs",
    },
}
# What gmsim writes inside its own subfolders.
_RESULT_SUFFIXES = {"plots": (".png",), "runs": (".npz",)}


class OutputFolderError(ValueError):
    """Raised when a results folder cannot be written without losing somebody else's files."""


def output_folder_problem(out: str | Path, kind: str = "run") -> str | None:
    """Why ``out`` cannot take the results of a ``kind`` command (``run``, ``compare``, ``sweep``, ``store``), or None.

    A results folder is new, empty, or a gmsim results folder of that kind (holding only the files gmsim
    writes there: :data:`RESULT_FILES`), which is then replaced (a run's atomically, whole). A folder
    holding anything else, the current folder or one that holds it, and a mount point are refused, so
    that nothing of anybody else's is deleted and nothing fails after the simulation.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        return f"--out: {str(out)!r} is a file; expected a folder"
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"--out: {str(parent)!r} is a file; expected a folder path"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"--out: cannot write in {str(parent)!r}; expected a writable folder"
    if not out.exists() or kind == "store":  # a run store (the dashboard's) adds its runs beside anything
        return None
    here, target = Path.cwd().resolve(), out.resolve()
    if kind == "run" and (target == here or target in here.parents or os.path.ismount(target)):
        return (
            f"--out: {str(out)!r} is the current folder, holds it, or is a mount point, so it cannot be "
            "replaced whole; expected a new folder or a gmsim results folder"
        )
    foreign = []
    for entry in sorted(target.iterdir()):
        if entry.name.startswith(".report-partial-") or entry.name.startswith(".partial-"):
            continue  # left by an interrupted gmsim command
        if entry.name not in RESULT_FILES[kind]:
            foreign.append(entry.name)
        elif entry.name == "economies":  # a sweep's reports in its other economies, each a sweep's folder
            from .economy import NAMED_ECONOMIES

            foreign += [
                f"economies/{e.name}"
                for e in sorted(entry.iterdir())
                if not e.is_dir() or e.name not in NAMED_ECONOMIES or output_folder_problem(e, "sweep")
            ]
        elif entry.is_dir():
            suffixes = _RESULT_SUFFIXES.get(entry.name, ())
            foreign += [
                f"{entry.name}/{e.name}"
                for e in sorted(entry.iterdir())
                if not (e.is_file() and e.name.endswith(suffixes)) and not e.name.startswith(".partial-")
            ]
        elif entry.name in _RESULT_SUFFIXES:
            foreign.append(entry.name)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        return (
            f"--out: {str(out)!r} holds files gmsim did not write ({shown}); expected a new folder, an empty "
            f"one, or the results folder of an earlier gmsim {kind}"
        )
    return None


@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``target`` only if the block finishes without error."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
