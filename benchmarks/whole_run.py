"""A whole ``run_sim.py`` process against the whole process of the bare numba kernel, in one invocation.

Times, as whole processes (start-up, imports, synthesis, the run, outputs and plots), the command an
analyst types, ``python run_sim.py SCENARIO`` (full scale, 120 months by default), and the bare 3-state
numba kernel of ``benchmarks/bare_kernel.py --numba-only`` on the same people and months. The two are run
in alternation, ``--repeat`` times each (this machine's speed drifts), with compiled kernels cached
beforehand; prints each time, the medians and their ratio.

    python benchmarks/whole_run.py [--scenario scenarios/working_well.yaml] [--repeat 3] [--scale 1.0]
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/working_well.yaml")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--months", type=int, default=120)
    a = ap.parse_args()
    people = round(1_781_000 * a.scale)
    with tempfile.TemporaryDirectory() as out:
        run = [sys.executable, "run_sim.py", a.scenario, "--scale", str(a.scale), "--months", str(a.months)]
        run += ["--out", str(Path(out) / "run"), "--quiet"]
        bare = [sys.executable, "benchmarks/bare_kernel.py", "--numba-only", "--people", str(people)]
        bare += ["--months", str(a.months)]
        timed(run)  # kernels compiled and cached, files warm
        timed(bare)
        times: dict[str, list[float]] = {"run_sim": [], "bare_numba": []}
        for _ in range(a.repeat):
            times["run_sim"].append(timed(run))
            times["bare_numba"].append(timed(bare))
    median = {k: statistics.median(v) for k, v in times.items()}
    print(
        json.dumps(
            {
                "scenario": a.scenario,
                "people": people,
                "months": a.months,
                "run_sim_s": [round(t, 2) for t in times["run_sim"]],
                "bare_numba_s": [round(t, 2) for t in times["bare_numba"]],
                "ratio_of_medians": round(median["run_sim"] / median["bare_numba"], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
