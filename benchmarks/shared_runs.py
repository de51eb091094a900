"""Where a shared run's time goes: funding mixes advanced together over one trunk (gmsim/shared/).

Builds the baseline and ``--mixes`` funding mixes of ``scenarios/funding_mix.yaml`` (from ``--first``) at
``--scale``, runs them as one group of shared runs on one thread, and reports the time per funded run a
month, split by step: the trunk's own steps (and what it works out once for all the branches), each
branch's interventions, exchanging its diverged people's differing values with the trunk's (swap),
copying its own people's values out (gather), their health and labour, comparing them with the trunk's
(gather_differs) and writing the differing ones in and back (put_where), the tally corrections (each phase
includes the work the population does around it). Also how
many people each run has diverged for at the end.

    python benchmarks/shared_runs.py [--first 0] [--mixes 5] [--months 120] [--scale 1.0]
"""

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

from gmsim import shared  # noqa: E402
from gmsim.comparison import _mix_scenario, load_mix, mix_grid, mix_label  # noqa: E402
from gmsim.ensemble import parameter_draws  # noqa: E402
from gmsim.population import PHASES  # noqa: E402
from gmsim.scenario import load_scenario  # noqa: E402
from gmsim.shared import branch as branch_module  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--mixes", type=int, default=5)
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument(
        "--records",
        choices=("auto", "yes", "no"),
        default="auto",
        help="hold the people as records (default: as SharedRuns chooses)",
    )
    a = ap.parse_args()
    spec = load_mix(os.path.join(ROOT, "scenarios", "funding_mix.yaml"))
    base = load_scenario(os.path.join(ROOT, "scenarios", spec.base))
    grid = mix_grid(len(spec.strands), spec.step, None, 1)[a.first : a.first + a.mixes]
    scs = [load_scenario(os.path.join(ROOT, "scenarios", spec.baseline))]
    scs += [_mix_scenario(base, spec, g, mix_label(spec, g)) for g in grid]
    scs = [s.with_overrides(scale=a.scale, months=a.months) for s in scs]
    t0 = time.perf_counter()
    runs = shared.SharedRuns(
        scs, 3, [parameter_draws(s, 3) for s in scs], records=None if a.records == "auto" else a.records == "yes"
    )
    build = time.perf_counter() - t0
    spent: dict[str, float] = {}

    def timed(owner, name: str, label: str) -> None:
        f = getattr(owner, name)

        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            out = f(*args, **kwargs)
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - t
            return out

        setattr(owner, name, wrapper)

    for m in runs.models:
        who = "trunk" if m is runs.trunk else "branch"
        for phase in PHASES:
            timed(m, phase, f"{who} {phase}")
    timed(runs.trunk.population, "_prepare_month", "trunk screens, staff table, movable staff")
    for name in ("swap_where", "put_where", "gather_differs", "swap_rows", "put_rows", "rows_differ", "may_move"):
        timed(branch_module, name, f"branch {name}")
    for name in ("tally_some",):
        timed(branch_module, name, f"branch {name}")
    t0 = time.perf_counter()
    runs.run()
    total = time.perf_counter() - t0
    per = 1000 / (len(runs.branches) * a.months)
    trunk = sum(v for k, v in spent.items() if k.startswith("trunk"))
    print(
        f"{len(scs)} runs ({len(runs.branches)} funded), {runs.trunk.people.n:,} people, {a.months} months: "
        f"built in {build:.1f} s, ran in {total:.1f} s"
    )
    print(f"a funded run's month: {(total - trunk) * per:.1f} ms, plus {trunk * per:.1f} ms as its share of the trunk")
    for k, v in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {k:42s} {v * per:6.1f} ms")
    print("people diverged at the end:", [runs.diverged(k) for k in range(len(scs))])


if __name__ == "__main__":
    main()
