"""Wall time and peak memory of the full gmsim baseline at several population sizes.

Each size runs in a fresh process (so peak memory is that run's alone; kernels are compiled and cached
beforehand). Reports wall time, people-months per second and peak resident memory, total and per
person, for the model step loop and for the whole command (synthesis, run, results).

    python benchmarks/model_scaling.py [--people 100000 1000000 1781000 5000000] [--months 120]
                                       [--scenario scenarios/working_well.yaml]
"""

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
from gmsim.model import GMModel, working_age_population
n, months, scenario = int(sys.argv[1]), int(sys.argv[2]), (sys.argv[3] or None)
base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
t0 = time.perf_counter()
m = GMModel(scenario, scale=n / working_age_population(), months=months)
t1 = time.perf_counter()
m.run(progress=False)
t2 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"people": m.people.n, "months": months, "setup_s": round(t1 - t0, 2),
                  "run_s": round(t2 - t1, 2), "people_months_per_s": round(m.people.n * months / (t2 - t1)),
                  "peak_rss_mb": round(peak / 2**20), "rss_before_model_mb": round(base_rss / 2**20),
                  "peak_bytes_per_person": round(peak / m.people.n),
                  "model_bytes_per_person": round((peak - base_rss) / m.people.n)}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, nargs="+", default=[100_000, 1_000_000, 1_781_000, 5_000_000])
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--scenario", default="", help="scenario file (default: the baseline)")
    a = ap.parse_args()
    subprocess.run([sys.executable, "-c", CHILD, "20000", "2", a.scenario], check=True, capture_output=True)
    rows = []
    for n in a.people:
        r = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), str(a.months), a.scenario], check=True, capture_output=True, text=True
        )
        rows.append(json.loads(r.stdout))
        print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
