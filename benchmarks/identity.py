"""Bit-identity check for refactors: dump every array of standalone and shared runs, and compare two dumps.

A refactor must leave every result as it was. This writes, for a fixed set of runs, every array a run
leaves behind (results, intervention counters and per-person records, employers' records, participation,
people, pathways, the data collector and ``summary.json``) to one ``.npz`` file per run; ``--compare``
then lists every array that differs between two dumps. Run it with the release before (for example from
a ``git worktree`` of it, with ``PYTHONPATH`` pointing there) and with the change, then compare:

    python benchmarks/identity.py dump /tmp/before [--quick]
    python benchmarks/identity.py dump /tmp/after [--quick]
    python benchmarks/identity.py compare /tmp/before /tmp/after

The runs: six shipped scenarios alone and as shared runs at two scales and seeds (parameter draws on),
shared runs in both people layouts (arrays and records, the records with the trunk's screen of who
could move), and a group with deadly complex conditions so that entrants differ between runs.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NAMES = (
    "baseline",
    "working_well",
    "equal_split",
    "in_work",
    "working_well_pilot",
    "care_and_support",
    "early_help",
    "work_and_health",
)
RECORDS = (
    "status",
    "status_month",
    "referred_month",
    "started_month",
    "job_month",
    "flags",
    "emp_status",
    "emp_status_month",
    "employer_counts",
    "counts",
    "cohort",
)


def _scenarios(scale: float, months: int, deadly: bool = False) -> list:
    from gmsim.scenario import Scenario, load_scenario

    out = [load_scenario(ROOT / "scenarios" / f"{n}.yaml").with_overrides(scale=scale, months=months) for n in NAMES]
    if deadly:
        out = [
            Scenario.from_dict({**s.to_dict(), "parameters": {"demography.mortality_complex_ratio": 200.0}})
            for s in out
        ]
    return out


def _people_of(model, shared=None, k=None):
    if shared is not None and hasattr(shared, "own_people"):
        return shared.own_people(k)
    return model.people


def _dump_model(model, people) -> dict[str, np.ndarray]:
    from gmsim.output import summary

    out: dict[str, np.ndarray] = {}
    r = model.results
    for name in ("stock", "spells", "flows", "cohort"):
        out[f"results.{name}"] = np.asarray(getattr(r, name))
    for iv in model.interventions:
        for name in RECORDS:
            a = getattr(iv, name, None)
            if a is None and hasattr(iv, "caseload"):  # the records kept by the intervention's caseload
                a = getattr(iv.caseload, name, None)
            if a is not None:
                out[f"{iv.name}.{name}"] = np.asarray(a)
    out["participation"] = np.asarray(model.participation)
    for field in people._fields:
        out[f"people.{field}"] = np.asarray(getattr(people, field))
    if model.pathways is not None:
        for name, rows in model.pathways.data.items():
            out[f"pathways.{name}"] = np.asarray(rows)
    df = model.datacollector.get_model_vars_dataframe()
    out["datacollector"] = df.to_numpy()
    out["summary"] = np.array(json.dumps(summary(model), sort_keys=True))
    out["steps"] = np.array([getattr(model, "steps", -1), model.month])
    return out


def dump(folder: Path, quick: bool) -> None:
    from gmsim import shared as shared_module
    from gmsim.ensemble import parameter_draws
    from gmsim.model import GMModel

    folder.mkdir(parents=True, exist_ok=True)
    cases = [(0.02, 60, 17, False)] if quick else [(0.02, 60, 17, False), (0.05, 48, 3, False), (0.02, 36, 5, True)]
    for scale, months, seed, deadly in cases:
        scs = _scenarios(scale, months, deadly)
        draws = [parameter_draws(s, seed) for s in scs]
        tag = f"s{scale}-m{months}-seed{seed}{'-deadly' if deadly else ''}"
        for s, d in zip(scs, draws, strict=True):
            m = GMModel(s, rng=seed, intervention_draws=d)
            m.run(progress=False)
            np.savez_compressed(folder / f"{tag}-alone-{s.name}.npz", **_dump_model(m, m.people))
            print("alone", tag, s.name, flush=True)
        for layout in ("arrays", "records"):
            many = layout == "records"  # as records, the trunk also finds everyone who could move
            if "find_movable" in inspect.signature(shared_module.SharedRuns).parameters:
                runs = shared_module.SharedRuns(scs, seed, draws, records=many, find_movable=many)
                runs.run()
            else:  # releases before the shared-runs package: a module threshold
                default = shared_module.MOVABLE_FROM
                shared_module.MOVABLE_FROM = 1 if many else 100
                try:
                    runs = shared_module.SharedRuns(scs, seed, draws, records=many)
                    runs.run()
                finally:
                    shared_module.MOVABLE_FROM = default
            for k, (s, m) in enumerate(zip(scs, runs.models, strict=True)):
                np.savez_compressed(folder / f"{tag}-{layout}-{s.name}.npz", **_dump_model(m, _people_of(m, runs, k)))
            print("shared", layout, tag, flush=True)


def compare(a: Path, b: Path) -> int:
    files = sorted(p.name for p in a.glob("*.npz"))
    missing = [f for f in files if not (b / f).exists()]
    bad = 0
    for f in files:
        if f in missing:
            continue
        with np.load(a / f) as x, np.load(b / f) as y:
            keys = set(x.files) | set(y.files)
            for k in sorted(keys):
                if k == "steps":
                    continue  # Mesa's step counter: compared on its own below
                if k not in x.files or k not in y.files:
                    print(f"{f}: {k} only in {'first' if k in x.files else 'second'}")
                    bad += 1
                elif not np.array_equal(x[k], y[k]):
                    print(f"{f}: {k} differs")
                    bad += 1
            if "steps" in y.files and y["steps"][0] != y["steps"][1]:
                print(f"{f}: model.steps {y['steps'][0]} != months {y['steps'][1]}")
    for f in missing:
        print(f"{f}: missing from {b}")
    print(f"{len(files)} runs compared, {bad} arrays differ, {len(missing)} runs missing")
    return 1 if bad or missing else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("folder", type=Path)
    d.add_argument("--quick", action="store_true", help="one scale and seed only")
    c = sub.add_parser("compare")
    c.add_argument("first", type=Path)
    c.add_argument("second", type=Path)
    a = ap.parse_args()
    if a.command == "dump":
        dump(a.folder, a.quick)
    else:
        sys.exit(compare(a.first, a.second))


if __name__ == "__main__":
    main()
