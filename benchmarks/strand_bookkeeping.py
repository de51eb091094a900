"""Time a full-scale run month by month, split into the strands' bookkeeping and everything else.

The bookkeeping is the time spent in the interventions' monthly ``step`` (eligibility, referrals, starts,
effects) and ``follow_up``, and in resetting the hazard multipliers; the rest is the compiled processes
and the monthly tally. Kernels are compiled (and cached) by a short run first; the first month of the
timed run is left out.

    python benchmarks/strand_bookkeeping.py [--scenario scenarios/working_well.yaml] [--months 60] [--scale 1.0]
"""

import argparse
import time

from gmsim.model import GMModel


def timed(acc: dict, f):
    """``f``, adding its wall time to ``acc["s"]``."""

    def g(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return f(*args, **kwargs)
        finally:
            acc["s"] += time.perf_counter() - t0

    return g


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="scenarios/working_well.yaml")
    ap.add_argument("--months", type=int, default=60)
    ap.add_argument("--scale", type=float, default=1.0)
    a = ap.parse_args()
    GMModel(a.scenario, scale=0.01, months=2).run(progress=False)
    m = GMModel(a.scenario, scale=a.scale, months=a.months)
    acc = {"s": 0.0}
    for iv in m.interventions:
        iv.step = timed(acc, iv.step)
        iv.follow_up = timed(acc, iv.follow_up)
    m.hazard_multipliers.reset = timed(acc, m.hazard_multipliers.reset)
    m.step()
    acc["s"] = 0.0
    t0 = time.perf_counter()
    m.run(a.months - 1, progress=False)
    per_month = 1000 / (a.months - 1)
    total = time.perf_counter() - t0
    print(
        f"{a.scenario}: {m.people.n:,} people, step {total * per_month:.1f} ms/month, "
        f"strands' bookkeeping {acc['s'] * per_month:.1f} ms/month, the rest {(total - acc['s']) * per_month:.1f}"
    )


if __name__ == "__main__":
    main()
