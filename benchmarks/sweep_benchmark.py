"""Throughput of ensembles: runs per minute and peak memory per worker for a funding-mix sweep.

Runs the first ``--mixes`` mixes of ``scenarios/funding_mix.yaml`` (plus the baseline) with ``--runs``
replicates at ``--scale`` on local worker processes, in a fresh run store, and reports wall time, runs
per minute, and the largest resident memory of any worker. The full sweep (56 mixes x 10 replicates plus
the attribution runs) takes about (56 + 1 + 14) x 10 / (runs per minute) minutes.

    python benchmarks/sweep_benchmark.py [--mixes 4] [--runs 2] [--scale 1.0] [--workers 2] [--records-from N]
"""

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from gmsim.comparison import _mix_scenario, load_mix, mix_grid, mix_label
from gmsim.ensemble import Task, execute
from gmsim.scenario import load_scenario
from gmsim.shared import runs as shared

ROOT = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mixes", type=int, default=4)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--records-from",
        type=int,
        default=None,
        help="funded runs from which shared runs hold people as records (gmsim.shared.runs.RECORDS_FROM)",
    )
    a = ap.parse_args()
    if a.records_from is not None:
        shared.RECORDS_FROM = a.records_from  # the workers are forked, and inherit it
    spec = load_mix(ROOT / "scenarios" / "funding_mix.yaml")
    base = load_scenario(ROOT / "scenarios" / spec.base)
    grid = mix_grid(len(spec.strands), spec.step, None, 1)[: a.mixes]
    scs = [load_scenario(ROOT / "scenarios" / spec.baseline)] + [
        _mix_scenario(base, spec, g, mix_label(spec, g)) for g in grid
    ]
    scs = [s.with_overrides(scale=a.scale, months=a.months) for s in scs]
    tasks = [Task(s, r, 1, True) for r in range(a.runs) for s in scs]  # replicate by replicate, as gmsim does
    with tempfile.TemporaryDirectory() as store:
        t0 = time.perf_counter()
        execute(tasks, store, workers=a.workers, progress=False)
        wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rpm = len(tasks) / wall * 60
    full = (len(mix_grid(len(spec.strands), spec.step, None, 1)) + 1 + 14) * 10
    print(
        json.dumps(
            {
                "runs": len(tasks),
                "scale": a.scale,
                "months": a.months,
                "workers": a.workers,
                "wall_s": round(wall, 1),
                "runs_per_minute": round(rpm, 2),
                "peak_rss_per_worker_mb": round(peak),
                "full_sweep_runs": full,
                "full_sweep_minutes_estimate": round(full / rpm, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
