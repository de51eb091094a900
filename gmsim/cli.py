"""Command line: ``python run_sim.py [SCENARIO.yaml] [options]``, also installed as ``gmsim``.

Runs a scenario (default ``scenarios/baseline.yaml``) and writes its results folder. Bad input — a
missing or invalid scenario file, an invalid option, an unusable output path — is reported as one line
per problem naming the file (or option), the key and what was expected, with exit status 2 and nothing
written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .scenario import COMMAND_LINE, ScenarioError, load_scenario

DEFAULT_SCENARIO = Path("scenarios") / "baseline.yaml"
EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {COMMAND_LINE}: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="gmsim",
        description="Run a gmsim scenario: Greater Manchester's working-age population month by month.",
    )
    p.add_argument("scenario", nargs="?", default=None,
                   help=f"scenario YAML file (default: {DEFAULT_SCENARIO})")
    p.add_argument("--out", metavar="DIR", help="results folder (default: results/<scenario name>/)")
    p.add_argument("--seed", type=int, help="seed of the random streams (overrides the scenario)")
    p.add_argument("--months", type=int, help="months to run (overrides the scenario)")
    p.add_argument("--scale", type=float, help="share of the 1,781,000 people simulated (overrides the scenario)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or report on the terminal")
    return p


def _check_out_dir(out: Path) -> str | None:
    """Why ``out`` cannot take a results folder, or None."""
    if out.exists() and not out.is_dir():
        return f"--out: {str(out)!r} is a file; expected a folder (it is replaced whole)"
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"--out: {str(parent)!r} is a file; expected a folder path"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"--out: cannot write in {str(parent)!r}; expected a writable folder"
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``run_sim.py`` and the ``gmsim`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    path = Path(args.scenario) if args.scenario else DEFAULT_SCENARIO
    try:
        scenario = load_scenario(path).with_overrides(seed=args.seed, months=args.months, scale=args.scale)
    except ScenarioError as err:
        print(str(err), file=sys.stderr)
        return EXIT_BAD_INPUT
    out = Path(args.out) if args.out else Path("results") / scenario.name
    problem = _check_out_dir(out)
    if problem:
        print(f"gmsim: {COMMAND_LINE}: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT

    from .model import GMModel  # imported here so that bad input is reported without compiling kernels
    from .output import summary, write_results

    started = time.perf_counter()
    try:
        model = GMModel(scenario)
        model.run(progress=False if args.quiet else None)
        write_results(model, out, time.perf_counter() - started, ["gmsim", *argv])
    except KeyboardInterrupt:
        print("gmsim: interrupted; nothing was written", file=sys.stderr)
        return 130
    if not args.quiet:
        s = summary(model)
        w = s["window"]
        print(f"{scenario.name}: {model.people.n:,} people x {model.month} months "
              f"in {time.perf_counter() - started:.1f} s -> {out}/")
        print(f"  employment rate {100 * w['employment_rate']:.1f}%, out of work {w['out_of_work']:,.0f} "
              f"({w['out_of_work_health']:,.0f} because of health), {s['notes']['window']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
