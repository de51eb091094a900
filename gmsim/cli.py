"""Command line: ``python run_sim.py [SCENARIO.yaml] [options]``, also installed as ``gmsim``.

Runs a scenario (default ``scenarios/baseline.yaml``) and writes its results folder;
``gmsim compare BASELINE.yaml OTHER.yaml ... --runs N`` and ``gmsim sweep MIX.yaml --runs N`` run
ensembles (see :mod:`gmsim.comparison`); ``gmsim dashboard [--port N]`` serves the policy dashboard
(:mod:`gmsim.dashboard`). Bad input — a
missing or invalid scenario file, an invalid option, an unusable output path — is reported as one line
per problem naming the file (or option), the key and what was expected, with exit status 2 and nothing
written.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import time
from pathlib import Path

from . import __version__
from .folders import output_folder_problem
from .scenario import COMMAND_LINE, ScenarioError, load_scenario

DEFAULT_SCENARIO = Path("scenarios") / "baseline.yaml"
EXIT_BAD_INPUT = 2
#: Most replicates per scenario, and most worker processes, of ``compare`` and ``sweep``.
MAX_RUNS = 1000
MAX_WORKERS = 256
#: Most runs of one sweep (mixes and the baseline, each ``--runs`` times; the attribution's runs aside).
MAX_SWEEP_RUNS = 100_000


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {COMMAND_LINE}: {message} (see --help)\n")


SET_HELP = (
    "set a baseline parameter{where}, as a scenario's parameters: entry does (repeatable), for example "
    "--set labour_market.vacancy_withdrawal=0.5 (docs/model.md section 8.1 lists them)"
)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="gmsim",
        description="Run a gmsim scenario: Greater Manchester's working-age population month by month.",
        usage=(
            "%(prog)s [SCENARIO.yaml] [options]\n"
            "       %(prog)s {compare,sweep,dashboard} ... (see %(prog)s COMMAND --help)"
        ),
        epilog=(
            "other commands:\n"
            "  compare BASELINE.yaml OTHER.yaml ...  compare scenarios with the first, with replicates and intervals\n"
            "  sweep MIX.yaml                        try every split of a budget across strands; the best mix\n"
            "  dashboard                             the policy dashboard in a web browser\n"
            "\nDocumentation: README.md and docs/ (docs/scenarios.md for scenario files)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("scenario", nargs="?", default=None, help=f"scenario YAML file (default: {DEFAULT_SCENARIO})")
    p.add_argument("--out", metavar="DIR", help="results folder (default: results/<scenario name>/)")
    p.add_argument("--seed", type=int, help="seed of the random streams (overrides the scenario)")
    p.add_argument("--months", type=int, help="months to run (overrides the scenario)")
    p.add_argument("--scale", type=float, help="share of the 1,781,000 people simulated (overrides the scenario)")
    p.add_argument("--start", metavar="YYYY-MM", help="the month of month 1 (overrides the scenario)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help=SET_HELP.format(where=""))
    p.add_argument("--quiet", action="store_true", help="no progress bar or report on the terminal")
    return p


def parameter_settings(settings: list[str] | None) -> dict[str, float]:
    """The ``--set NAME=VALUE`` options as parameters; ScenarioError (``--set``) if one is not a name and a number."""
    out: dict[str, float] = {}
    for setting in settings or []:
        name, sep, value = setting.partition("=")
        try:
            number = float(value) if sep and name.strip() else None
        except ValueError:
            number = None
        if number is None or not math.isfinite(number):
            example = "labour_market.vacancy_withdrawal=0.5"
            problem = f"expected NAME=VALUE with a number, such as {example}, got {setting!r}"
            raise ScenarioError([("--set", problem)], COMMAND_LINE)
        out[name.strip()] = number
    return out


def _ensemble_parser(kind: str) -> argparse.ArgumentParser:
    p = _Parser(
        prog=f"gmsim {kind}",
        description=(
            "Compare scenarios against the first one, with replicates and uncertainty intervals."
            if kind == "compare"
            else "Run every split of a fixed budget across strands (MIX.yaml) and report the best mix."
        ),
    )
    if kind == "compare":
        p.add_argument(
            "scenarios",
            nargs="+",
            metavar="SCENARIO.yaml",
            help="the comparator (usually the baseline) first, then the scenarios to compare with it",
        )
    else:
        p.add_argument("mix", metavar="MIX.yaml", help="sweep file (see scenarios/funding_mix.yaml)")
    p.add_argument("--runs", type=int, default=10, help="replicates per scenario (default 10)")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (default: number of cores)")
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=None,
        help="run on a Dask cluster: a scheduler address (tcp://host:8786) or 'local' for a LocalCluster",
    )
    p.add_argument("--out", metavar="DIR", help="results folder (default: results/<name>/)")
    p.add_argument(
        "--no-parameter-uncertainty",
        action="store_true",
        help="keep baseline and effect parameters at their central values in every replicate",
    )
    p.add_argument("--seed", type=int, default=1, help="ensemble seed (replicate seeds derive from it)")
    p.add_argument("--months", type=int, help="months to run (overrides the scenarios)")
    p.add_argument("--scale", type=float, help="population scale (overrides the scenarios)")
    p.add_argument("--start", metavar="YYYY-MM", help="the month of month 1 (overrides the scenarios)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help=SET_HELP.format(where=" in every scenario"))
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary on the terminal")
    return p


def _ensemble_main(kind: str, argv: list[str]) -> int:
    import shutil
    import tempfile

    args = _ensemble_parser(kind).parse_args(argv)
    for flag, value, low, high, why in (
        (
            "--runs",
            args.runs,
            1,
            MAX_RUNS,
            " (every run is kept on disk; 1,000 runs pin a mean down 10 times more tightly than 10)",
        ),
        ("--workers", args.workers, 1, MAX_WORKERS, ""),
        ("--seed", args.seed, 0, 2**63 - 1, ""),
    ):
        if value is not None and not low <= value <= high:
            print(
                f"gmsim {kind}: {COMMAND_LINE}: {flag}: expected a whole number from {low:,} to {high:,}{why}, "
                f"got {value}",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
    from . import comparison, report

    try:
        settings = parameter_settings(args.set)
        if kind == "compare":
            scenarios = [
                load_scenario(p).with_overrides(
                    months=args.months, scale=args.scale, start=args.start, parameters=settings
                )
                for p in args.scenarios
            ]
            comparison.check_comparable(scenarios)
            name = "compare-" + "-".join(s.name for s in scenarios)
        else:
            spec = comparison.load_mix(args.mix)
            name = spec.name
            runs = (spec.mixes + 1) * args.runs * len(spec.economies or [None])
            if runs > MAX_SWEEP_RUNS:
                print(
                    f"gmsim sweep: {COMMAND_LINE}: --runs: {spec.mixes:,} mixes and the baseline, {args.runs:,} times "
                    f"each, make {runs:,} runs; expected at most {MAX_SWEEP_RUNS:,} (a full-scale run takes about a "
                    "second of two cores): use fewer runs, or a larger step",
                    file=sys.stderr,
                )
                return EXIT_BAD_INPUT
    except ScenarioError as err:
        print(str(err), file=sys.stderr)
        return EXIT_BAD_INPUT
    out = Path(args.out) if args.out else Path("results") / name[:120]
    problem = output_folder_problem(out, kind)
    if problem:
        print(f"gmsim {kind}: {COMMAND_LINE}: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    options = dict(
        runs=args.runs,
        seed=args.seed,
        parameter_uncertainty=not args.no_parameter_uncertainty,
        workers=args.workers,
        dask=args.dask,
        out=out,
        months=args.months,
        scale=args.scale,
        start=args.start,
        parameters=settings,
        progress=not args.quiet,
    )
    command = "gmsim " + " ".join([kind, *argv])
    try:
        if kind == "compare":
            result = comparison.compare(scenarios, **options)
        elif spec.economies:
            economies = comparison.sweep_economies(args.mix, **options)
            by_economy = economies["by_economy"]
            result = {**by_economy[spec.economies[0]], "robust": economies["robust"]}
        else:
            result = comparison.sweep(args.mix, **options)
    except KeyboardInterrupt:
        print(
            f"gmsim {kind}: interrupted; finished runs are kept in {out / 'runs'} and are reused by the same command",
            file=sys.stderr,
        )
        return 130
    except ScenarioError as err:
        print(str(err), file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as err:  # e.g. an unreachable Dask scheduler
        print(f"gmsim {kind}: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    notes = {
        "runs per scenario": str(args.runs),
        "ensemble seed": str(args.seed),
        "workers": str(args.workers or os.cpu_count()),
    }
    if kind == "sweep":
        notes["total budget"] = f"GBP {spec.total_budget_gbp_per_year:,.0f} a year across {', '.join(spec.strands)}"
        notes["shares tried"] = f"{spec.samples} random mixes" if spec.samples else f"every {100 * spec.step:g}% step"
    notes["parameter uncertainty"] = "off" if args.no_parameter_uncertainty else "on"
    notes["months"] = str(args.months or "as in the scenarios")
    notes["scale"] = str(args.scale or "as in the scenarios")
    notes["start"] = str(args.start or "as in the scenarios")
    if settings:
        notes["parameters set"] = ", ".join(f"{k} = {v:g}" for k, v in settings.items())
    tmp = Path(tempfile.mkdtemp(prefix=".report-partial-", dir=out))
    try:
        if kind == "compare":
            report.write_compare_report(result, tmp, command, notes)
        else:
            if spec.economies:
                notes["economy"] = f"{spec.economies[0]} (the others: economies/<name>/report.html)"
            report.write_sweep_report(result, tmp, command, notes)
            for economy in (spec.economies or [])[1:]:
                folder = tmp / "economies" / economy
                folder.mkdir(parents=True)
                report.write_sweep_report(by_economy[economy], folder, command, {**notes, "economy": economy})
        for item in tmp.iterdir():  # move each finished file into place; an old plots/ folder is replaced whole
            target = out / item.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    warning = comparison.few_runs_warning(args.runs)
    if warning:
        print(f"gmsim {kind}: {warning}", file=sys.stderr)
    if not args.quiet:
        for line in report.terminal_lines(result):
            print(line)
        runs = len(list((out / "runs").glob("*.npz")))
        print(f"{name}: {runs} runs in {out / 'runs'}; report: {out / 'report.html'}")
    return 0


def _dashboard_main(argv: list[str]) -> int:
    import errno
    import importlib.util
    import socket

    p = _Parser(
        prog="gmsim dashboard",
        description=(
            "Serve the policy dashboard: set the strands' budgets in a browser and compare with the baseline."
        ),
    )
    p.add_argument("--port", type=int, default=8765, help="TCP port (default 8765; 0 for any free port)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1, this computer only; 0.0.0.0 opens it to the network)",
    )
    p.add_argument("--scenarios", default=None, help="folder of scenario files (default: scenarios/)")
    p.add_argument(
        "--out", metavar="DIR", default=None, help="folder that keeps finished runs (default: results/dashboard/)"
    )
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    args = p.parse_args(argv)

    def bad(message: str) -> int:
        print(f"gmsim dashboard: {COMMAND_LINE}: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT

    if not 0 <= args.port <= 65535:
        return bad(f"--port: expected a whole number from 0 to 65535, got {args.port}")
    if importlib.util.find_spec("solara") is None:
        return bad(
            "the dashboard needs its optional dependencies; expected them installed: pip install -e '.[dashboard]'"
        )
    from .dashboard import DashboardError, default_folder, serve, start_scenarios

    folder = Path(args.scenarios) if args.scenarios else default_folder()
    try:
        start_scenarios(folder)
    except DashboardError as err:
        return bad(f"--scenarios: {err.messages[0]}")
    out = Path(args.out) if args.out else Path("results") / "dashboard"
    problem = output_folder_problem(out, "store")
    if problem:
        return bad(problem)
    try:
        family, _, _, _, address = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as err:
        return bad(
            f"--host: cannot resolve {args.host!r} ({getattr(err, 'strerror', None) or err}); expected a "
            "name or address of this computer, such as 127.0.0.1"
        )
    try:
        with socket.create_server(address, family=family):
            pass
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            return bad(
                f"--port: {args.port} is in use on {args.host}; expected a free port (--port 0 picks any free port)"
            )
        return bad(
            f"--host: cannot listen on {args.host} ({err.strerror or err}); expected an address of this "
            "computer, such as 127.0.0.1"
        )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"gmsim dashboard: http://{shown}:{args.port or '<port>'}/ (Ctrl-C to stop)", flush=True)
    return serve(args.host, args.port, folder, out, args.open)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``run_sim.py`` and the ``gmsim`` command; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("compare", "sweep"):
        return _ensemble_main(argv[0], argv[1:])
    if argv and argv[0] == "dashboard":
        return _dashboard_main(argv[1:])
    args = _parser().parse_args(argv)
    path = Path(args.scenario) if args.scenario else DEFAULT_SCENARIO
    try:
        scenario = load_scenario(path).with_overrides(
            seed=args.seed,
            months=args.months,
            scale=args.scale,
            start=args.start,
            parameters=parameter_settings(args.set),
        )
    except ScenarioError as err:
        print(str(err), file=sys.stderr)
        return EXIT_BAD_INPUT
    out = Path(args.out) if args.out else Path("results") / scenario.name
    problem = output_folder_problem(out, "run")
    if problem:
        print(f"gmsim: {COMMAND_LINE}: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT

    from .plots import Drawer

    drawer = Drawer.start()  # its imports go on while the run starts
    try:
        from .model import run  # imported here so that bad input is reported without compiling kernels
        from .output import summary, write_results

        started = time.perf_counter()
        model = run(scenario, progress=False if args.quiet else None)
        write_results(model, out, time.perf_counter() - started, ["gmsim", *argv], drawer)
    except KeyboardInterrupt:
        print("gmsim: interrupted; nothing was written", file=sys.stderr)
        return 130
    finally:
        if drawer is not None:
            drawer.close()
    if not args.quiet:
        s = summary(model)
        w = s["window"]
        print(
            f"{scenario.name}: {model.people.n:,} people x {model.month} months "
            f"in {time.perf_counter() - started:.1f} s -> {out}/"
        )
        print(
            f"  employment rate {100 * w['employment_rate']:.1f}%, out of work {w['out_of_work']:,.0f} "
            f"({w['out_of_work_health']:,.0f} because of health), {s['notes']['window']}"
        )
    return 0


def command() -> int:
    """The ``gmsim`` command and ``run_sim.py``: :func:`main` in a process of its own, which then ends.

    What is still alive is left to the process's end rather than scanned again by the garbage collector
    as the interpreter shuts down (``gc.freeze``); the results are written and closed by then.
    """
    status = main()
    gc.freeze()
    return status


if __name__ == "__main__":
    sys.exit(command())
