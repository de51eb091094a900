"""Ensembles: many (scenario, replicate) runs on an executor, stored on disk as they finish.

A *run* is one scenario at one replicate. Replicate ``r`` has a seed derived from the ensemble's seed
and ``r`` only, the same in every scenario, so scenarios compared at the same replicate share their
random numbers (common random numbers) and their differences are not Monte Carlo noise. With parameter
uncertainty on, replicate ``r`` also draws a baseline parameter set from the calibration's posterior
(``data/posterior.csv``, :func:`baseline_draw`; a scenario's own overrides keep their values), the
hazard-ratio gradients the calibration does not fit (:mod:`gmsim.gradients`), the labour market's uncertain
figures (:data:`DRAWN_MARKET`) and, in a shock, each sector's exposure, and every intervention effect
parameter from its distribution (log-normal, 95% interval ``[low, high]`` from
``data/interventions/<name>.yaml``), the same draws in every scenario.

Each finished run is written at once to ``<store>/<key>.npz``, where the key hashes the scenario's
content, the replicate, the seed, whether parameters were drawn, and the code and data of this gmsim
(so a changed scenario or code version never reuses stale results). The record's ``meta`` holds that key
and a checksum of its numbers. Re-running skips finished runs, after checking each: one that is damaged,
changed or another run's record is recomputed with a one-line warning. Stopping with Ctrl-C loses nothing
that had finished, and workers end with the process that started them, even one killed outright. Runs go
to local processes (``concurrent.futures.ProcessPoolExecutor``) or to a Dask cluster through Dask's standard executor
interface (``Client.get_executor()``); results are bit-identical whatever the executor.

Runs of one replicate that differ only in their interventions (a sweep's mixes and its baseline, say) go
to a worker together, as many at a time as its share of memory allows (:func:`shared_memory`), and advance as
shared runs over one trunk (:mod:`gmsim.shared`): each is bit-identical to the run alone, at a fraction of
the cost. Their records are written when the group finishes.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import multiprocessing
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from . import __version__, codes, hash_sources
from .evaluation import ENTRY_GROUPS
from .gradients import drawn_names, gradient_scores, values_at
from .results import HEALTH_LABELS, INACTIVE_CLAIMANTS, JOBSEEKERS, SUPPORT_GROUP
from .scenario import Scenario
from .streams import Streams


@cache
def code_hash() -> str:
    """Hash of gmsim's version, Python sources and data files (part of every run's key)."""
    return hash_sources(hashlib.sha256(__version__.encode()), (".py", ".yaml", ".csv")).hexdigest()


def modules_hash(modules: tuple[str, ...]) -> str:
    """Hash of the source of a scenario's ``modules`` (researchers' interventions) for run keys."""
    import importlib.util

    h = hashlib.sha256()
    for name in modules:
        path = Path(name) if name.endswith(".py") else None
        if path is None:
            spec = importlib.util.find_spec(name)
            path = Path(spec.origin) if spec and spec.origin else None
        h.update(name.encode())
        if path is not None and path.exists():
            h.update(path.read_bytes())
    return h.hexdigest()


def replicate_seed(seed: int, replicate: int) -> int:
    """Seed of replicate ``replicate`` of an ensemble with seed ``seed`` (the same for every scenario)."""
    digest = hashlib.blake2b(f"gmsim-replicate:{int(seed)}:{int(replicate)}".encode(), digest_size=7).digest()
    return int.from_bytes(digest, "little")


def parameter_draws(scenario: Scenario, seed: int) -> dict[str, dict[str, float]]:
    """Effect parameters drawn for a replicate with seed ``seed``: ``{strand: {parameter: value}}``.

    Each uncertain ratio is drawn from its prior (:class:`~gmsim.interventions.parameters.Effect`: median
    the scenario's value, its override or the data file's, and the stated 95% interval) at a standard normal
    score ``z = sqrt(r) s c + sqrt(1 - r) e``: ``c`` is common to the strand's ratios and ``e`` the ratio's
    own, ``r`` the strand's ``effect_correlation`` and ``s`` +1 for a move help makes more likely
    (:data:`~gmsim.codes.IMPROVING`), -1 for one it makes less likely. So each ratio keeps its prior, and a
    strand's ratios are correlated ``r`` in the direction of working (or not) on every margin. A strand's
    unit cost is drawn too, independently, with its data file's value as median and its range as 95%
    interval, unless the scenario sets it. The numbers depend only on the seed, the strand and the
    parameter: the same in every scenario.
    """
    from .interventions import registered
    from .interventions.parameters import EFFECT_GROUPS, split_lognormal

    out: dict[str, dict[str, float]] = {}
    streams = Streams(seed)
    reg = registered()
    for name, spec in scenario.strands.items():
        params = reg[name].parameters(spec.parameters)
        rho = params.effect_correlation
        common = streams.normal_at(f"draw.{name}.common")
        draws = {}
        for group in EFFECT_GROUPS:
            for transition, effect in getattr(params, group).items():
                if effect.low is None:
                    continue
                param = f"{group}.{transition}"
                sign = 1.0 if transition in codes.IMPROVING else -1.0
                z = np.sqrt(rho) * sign * common + np.sqrt(1 - rho) * streams.normal_at(f"draw.{name}.{param}")
                draws[param] = effect.quantile(float(z))
        cost = reg[name].provenance().get("unit_cost_gbp", {}).get("range")
        own = spec.unit_cost_gbp is not None or "unit_cost_gbp" in spec.parameters
        if cost is not None and not own:
            # The cost of a start: its value the median, its range the 95% interval (split log-normal).
            z = streams.normal_at(f"draw.{name}.unit_cost_gbp")
            draws["unit_cost_gbp"] = split_lognormal(params.unit_cost_gbp, float(cost[0]), float(cost[1]), z)
        out[name] = draws
    return out


def baseline_draw(scenario: Scenario, seed: int) -> tuple[int | None, dict[str, float]]:
    """The baseline parameter set drawn for a replicate with run seed ``seed``: its number and its values.

    One of the calibration's posterior sets (:func:`~gmsim.parameters.posterior_sets`), chosen by a number
    that depends only on the seed (stream ``draw.baseline``): the same set in every scenario of the
    replicate, so their differences are still the policy alone. Parameters the scenario sets itself keep
    its values (they are left out). With it, what the calibration does not fit (:func:`unfitted_at`), at the
    scores GM's targets allow (:func:`gmsim.conditioning.scores`). ``(None, those figures)`` if no
    posterior is shipped.
    """
    from .conditioning import scores
    from .parameters import posterior_sets

    sets = posterior_sets()
    drawn = unfitted_at(scenario, scores(seed).__getitem__)
    if not sets:
        return None, drawn
    u = float(Streams(seed).uniforms_at("draw.baseline", 0, np.array([0]))[0])
    k = min(int(u * len(sets)), len(sets) - 1)
    return k, {**{name: v for name, v in sets[k].items() if name not in scenario.parameters}, **drawn}


#: The labour market's figures that the calibration does not fit and a replicate draws from their stated ranges.
DRAWN_MARKET = (
    "labour_market.tightness",
    "labour_market.job_loss_elasticity",
    "labour_market.staffing_half_life",
    "labour_market.vacancy_half_life",
    "labour_market.sector_concentration",
    "labour_market.sector_attachment",
)


def labour_market_draw(scenario: Scenario, seed: int) -> dict[str, float]:
    """The labour market's uncertain figures for a replicate (:data:`DRAWN_MARKET`), from their ranges.

    Each is a split log-normal with its value as median and its range as 95% interval, at the score GM's
    targets allow (:func:`gmsim.conditioning.scores`, the same in every scenario of the replicate); a
    figure the scenario sets keeps its value (left out), and so does one that cannot act in the
    scenario's economy (how unevenly a shock falls on sectors, in an economy whose sectors are alike).
    """
    from .conditioning import scores

    return market_at(scenario, scores(seed).__getitem__)


def unfitted_at(scenario: Scenario, score: Callable[[str], float]) -> dict[str, float]:
    """What a replicate draws beside its posterior set, at the scores ``score`` gives by name.

    The gradients, figures and base rates the calibration does not fit (:func:`gmsim.gradients.values_at`)
    and the labour market's figures (:func:`market_at`), but for those the scenario sets itself. The
    calibration's conditioning runs (:func:`gmsim.calibrate.conditioning_runs`) draw through it too.
    """
    return {**values_at(set(scenario.parameters), score)[0], **market_at(scenario, score)}


def market_at(scenario: Scenario, score: Callable[[str], float]) -> dict[str, float]:
    """The figures of :data:`DRAWN_MARKET` at the scores ``score`` gives by name (:func:`labour_market_draw`)."""
    from .interventions.parameters import split_lognormal
    from .parameters import default_parameters

    defaults = default_parameters()
    sectors_alike = bool(np.all(scenario.economy.exposure() == 1))
    out = {}
    for name in DRAWN_MARKET:
        if name in scenario.parameters or (name == "labour_market.sector_concentration" and sectors_alike):
            continue
        p = defaults[name]
        out[name] = split_lognormal(p.value, p.low, p.high, score(name))
    return out


def sector_exposure_draw(scenario: Scenario, seed: int) -> dict[str, float]:
    """Each sector's exposure to the scenario's shock for a replicate, drawn from its evidence range.

    A sector's exposure (``data/sectors.yaml``) is read from one episode, UK-wide, often at second hand;
    its range says how far the evidence allows it to go. Each is drawn on its own (stream
    ``draw.market.sector_exposure.<sector>``, the same in every scenario and economy of the replicate):
    a split log-normal with the value as median and the range as 95% interval, or, where the range
    reaches 0 (a sector the evidence finds untouched), a split normal on the exposure itself cut at 0, so
    that the sector stays untouched in half the draws. ``labour_market.sector_concentration``, drawn as
    well, then spreads or narrows all of them together (the next shock need not fall where the last
    did). Sectors the scenario sets itself keep their values, and a shape with no exposures (steady,
    custom) draws none.
    """
    from .economy import shape_exposure_ranges
    from .interventions.parameters import Z975, split_lognormal

    own = scenario.economy.sector_exposure or {}
    streams, out = Streams(seed), {}
    for name, (value, low, high) in shape_exposure_ranges(scenario.economy.shape).items():
        if name in own or low == high:
            continue
        z = streams.normal_at(f"draw.market.sector_exposure.{name}")
        if low > 0:
            out[name] = split_lognormal(value, low, high, z)
        else:
            out[name] = max(0.0, value + z * ((high - value) if z > 0 else (value - low)) / Z975)
    return out


def with_sector_exposure(scenario: Scenario, exposure: dict[str, float]) -> Scenario:
    """``scenario`` with these sectors' exposures to its shock in place of its shape's (its own kept)."""
    if not exposure:
        return scenario
    given = {**exposure, **(scenario.economy.sector_exposure or {})}
    return scenario.model_copy(update={"economy": scenario.economy.model_copy(update={"sector_exposure": given})})


@dataclass(frozen=True)
class Task:
    """One run to do.

    Attributes:
        scenario: The scenario (already with months and scale as wanted).
        replicate: Replicate number.
        seed: The ensemble's seed (the run's own seed is derived from it and ``replicate``).
        draws: Whether baseline and effect parameters are drawn from their uncertainty distributions.
    """

    scenario: Scenario
    replicate: int
    seed: int
    draws: bool

    @property
    def key(self) -> str:
        """Name of the run's file in the store (changes with the scenario, the code and its modules)."""
        payload = json.dumps(
            [
                self.scenario.content_hash(),
                self.replicate,
                self.seed,
                self.draws,
                code_hash(),
                modules_hash(tuple(self.scenario.modules)),
            ]
        )
        return f"{self.scenario.name}-r{self.replicate}-{hashlib.sha256(payload.encode()).hexdigest()[:20]}"


def _import_modules(scenario: Scenario) -> None:
    """Import the scenario's ``modules`` in this process (a worker started fresh has not seen them)."""
    import importlib
    import importlib.util

    for name in scenario.modules:
        if name.endswith(".py"):
            mod_name = "gmsim_user_" + hashlib.sha256(name.encode()).hexdigest()[:12]
            if mod_name not in __import__("sys").modules:
                spec = importlib.util.spec_from_file_location(mod_name, name)
                module = importlib.util.module_from_spec(spec)
                __import__("sys").modules[mod_name] = module
                spec.loader.exec_module(module)
        else:
            importlib.import_module(name)


def run_tasks(tasks: list[Task], store: str | None) -> list[str | bytes]:
    """Run tasks of one replicate as shared runs (:mod:`gmsim.shared`) and write each record; their paths.

    A funded run is always a shared run, even alone: its trunk is the comparator its referral cohorts are
    evaluated against (:mod:`gmsim.evaluation`). The tasks must share replicate, seed, parameter draws
    and :func:`~gmsim.shared.trunk_key` (as :func:`groups` makes them); each record is exactly that of the
    task run alone. With ``store`` None the records' bytes are returned instead (remote workers).
    """
    from .interventions import registered
    from .model import GMModel
    from .shared import SharedRuns

    paths = [None if store is None else Path(store) / f"{t.key}.npz" for t in tasks]
    if all(p is not None and p.exists() for p in paths):
        return [str(p) for p in paths]
    for task in tasks:
        if any(name not in registered() for name in task.scenario.strands):
            _import_modules(task.scenario)
    ratio_names = drawn_names()
    seed = replicate_seed(tasks[0].seed, tasks[0].replicate)
    draws = [parameter_draws(t.scenario, seed) if t.draws else None for t in tasks]
    # The tasks share their scenarios' parameter overrides (trunk_key), so one draw serves them all.
    baseline_set, baseline = baseline_draw(tasks[0].scenario, seed) if tasks[0].draws else (None, {})
    exposure = sector_exposure_draw(tasks[0].scenario, seed) if tasks[0].draws else {}
    scores = gradient_scores(tasks[0].scenario, seed) if tasks[0].draws else {}
    scenarios = [with_sector_exposure(t.scenario, exposure) for t in tasks]
    if len(tasks) == 1 and not tasks[0].scenario.strands:
        model = GMModel(
            scenarios[0], rng=seed, parameters=baseline, intervention_draws=draws[0], record_transitions=False
        )
        model.run(progress=False)
        models = [model]
    else:
        runs = SharedRuns(scenarios, seed, draws, parameters=baseline)
        runs.run()
        models = runs.models
        del runs
    out: list[str | bytes] = []
    for task, model, d, path in zip(tasks, models, draws, paths, strict=True):
        record = run_record(model)
        record["meta"] = np.array(
            json.dumps(
                {
                    "key": task.key,
                    "checksum": record_checksum(record),
                    "code": code_hash(),
                    "draws_on": task.draws,
                    "scenario": task.scenario.name,
                    "scenario_hash": task.scenario.content_hash(),
                    "replicate": task.replicate,
                    "seed": task.seed,
                    "run_seed": seed,
                    "draws": d or {},
                    "baseline_set": baseline_set,
                    "baseline_ratios": {k: v for k, v in baseline.items() if k in ratio_names},
                    "baseline_scores": scores,
                    "labour_market": {
                        **{k: v for k, v in baseline.items() if k in DRAWN_MARKET},
                        **{f"sector_exposure.{k}": v for k, v in exposure.items()},
                    },
                    "gmsim": __version__,
                    "strands": [iv.name for iv in model.interventions],
                    "scale": model.scale,
                    "months": model.month,
                }
            )
        )
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **record)
        if path is None:
            out.append(buffer.getvalue())
        else:
            _write_atomic(path, buffer.getvalue())
            out.append(str(path))
    # Models refer to themselves (their interventions, data collector): free them now, not at the next
    # garbage collection, so that a worker never holds two sets at once.
    del model, models
    gc.collect()
    return out


#: Most runs advanced together as shared runs in one task.
SHARED_RUNS = 100
#: Share of this machine's memory that the workers together may give to the runs they advance together. A
#: funded run adds about 45 bytes a person (80 MB at full scale with all four strands: mostly its
#: interventions' per-person records, and where its hazard multipliers are), so on a 24 GiB machine with
#: two workers a group holds about 75 runs at full scale: a whole replicate of the funding-mix sweep.
SHARED_MEMORY_SHARE = 0.5
#: Memory a worker gives to shared runs where this machine's memory cannot be read (bytes).
SHARED_MEMORY = 2 * 2**30


def shared_memory(workers: int, dask: str | None = None) -> int:
    """Bytes each of ``workers`` workers may give to shared runs.

    :data:`SHARED_MEMORY_SHARE` of this machine's memory, shared among the workers (:data:`SHARED_MEMORY`
    where the machine's memory cannot be read, or the workers are a remote Dask cluster's, whose memory
    this machine cannot know). Larger groups share each trunk among more runs, so each run's share of the
    trunk's work is smaller (docs/performance.md).
    """
    if dask is not None and dask != "local":
        return SHARED_MEMORY
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return SHARED_MEMORY
    return int(physical * SHARED_MEMORY_SHARE / max(1, workers))


def group_size(scenario: Scenario, most: int = SHARED_RUNS, memory: int = SHARED_MEMORY) -> int:
    """How many runs of ``scenario``'s size a worker advances together within ``memory`` bytes."""
    from .model import working_age_population

    people = max(1, round(working_age_population() * scenario.population.scale))
    return max(1, min(most, memory // (45 * people + 5 * 2**20)))


def groups(tasks: list[Task], size: int = SHARED_RUNS, memory: int = SHARED_MEMORY) -> list[list[Task]]:
    """Tasks in groups that can run as shared runs: same replicate, seed, draws and trunk.

    A group holds at most ``size`` tasks and at most what :func:`group_size` allows in ``memory``; a
    larger one is cut into nearly equal parts. Groups keep the tasks' order.
    """
    from .shared import trunk_key

    by_key: dict[tuple, list[Task]] = {}
    for t in tasks:
        by_key.setdefault((t.replicate, t.seed, t.draws, trunk_key(t.scenario)), []).append(t)
    out = []
    for members in by_key.values():
        parts = -(-len(members) // group_size(members[0].scenario, max(1, size), memory))
        step = -(-len(members) // parts)
        out += [members[k : k + step] for k in range(0, len(members), step)]
    return out


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".partial-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# The health categories of the results' stocks (HEALTH_LABELS) of each severity, in codes.SEVERITIES order.
_OF_SEVERITY = [[h for h, (_, sev) in enumerate(HEALTH_LABELS) if sev == name] for name in codes.SEVERITIES]


def run_record(model: Any) -> dict[str, np.ndarray]:
    """The monthly series an ensemble needs from one run, in people (by month and borough).

    With each strand's monthly counters (``strand.<name>``) and, where it was evaluated, its referral
    cohorts' totals (``cohort.<name>``, :attr:`gmsim.evaluation.CohortImpact.in_people`) and the job entries
    gained against the comparator by participants and by everyone else (``entries_gained.<group>``,
    :func:`gmsim.evaluation.count_entries_gained`).
    """
    r, m, s = model.results, model.month + 1, model.scale
    stock = r.stock[:m] / s
    t = codes.T
    out = {
        "employed": stock[:, :, codes.IN_WORK].sum(axis=2) + stock[:, :, codes.AT_RISK].sum(axis=2),
        # Out of work: looking for work, or inactive and claiming a health-related benefit (gmsim.results).
        "out_of_work": stock[:, :, codes.OUT_OF_WORK].sum(axis=2) + r.spells[:m, :, INACTIVE_CLAIMANTS] / s,
        "out_of_work_health": r.spells[:m, :, :JOBSEEKERS].sum(axis=2) / s,
        "job_entries": (r.flows[:m, t["out_of_work_to_in_work"]] + r.flows[:m, t["inactive_to_in_work"]]) / s,
        "population": stock.sum(axis=(2, 3)),
        # For the appraisal (gmsim.appraisal): claimants by benefit, people off sick, and people by severity (GM).
        "jobseekers": r.spells[:m, :, JOBSEEKERS] / s,
        "support_group": r.spells[:m, :, SUPPORT_GROUP] / s,
        "at_risk": stock[:, :, codes.AT_RISK].sum(axis=2),
        "by_severity": np.stack([stock[..., cats].sum(axis=(1, 2, 3)) for cats in _OF_SEVERITY], axis=1),
    }
    if model.entries_gained is not None:
        for g, group in enumerate(ENTRY_GROUPS):
            out[f"entries_gained.{group}"] = model.entries_gained[:m, g] / s
    for iv in model.interventions:
        out[f"strand.{iv.name}"] = iv.counts[:m] / s
        if iv.impact is not None:
            out[f"cohort.{iv.name}"] = iv.impact.in_people
    return out


def record_checksum(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of a record's arrays (names, types, shapes and values; ``meta`` left out)."""
    h = hashlib.sha256()
    for name in sorted(k for k in arrays if k != "meta"):
        a = np.ascontiguousarray(arrays[name])
        h.update(json.dumps([name, a.dtype.str, a.shape]).encode())
        h.update(a.tobytes())
    return h.hexdigest()


class RecordError(ValueError):
    """A stored run that cannot be used: unreadable, changed since written, or another run's record."""


def load_record(path: str | Path, key: str | None = None) -> dict[str, Any]:
    """Read a run's record back, checked: arrays plus ``meta`` (a dict).

    Args:
        path: The record's file.
        key: The run it must be (:attr:`Task.key`); None to accept any run.

    Raises:
        RecordError: The file is empty or unreadable, its numbers do not match the checksum written with
            them, or it is the record of another run than ``key``. The message starts with the path.
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise RecordError(f"{path}: the file is empty")
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise RecordError(f"{path}: not a run record (one array, not an archive of them)")
        with loaded as f:
            rec = {k: f[k] for k in f.files}
        meta = json.loads(str(rec["meta"]))
    except RecordError:
        raise
    except Exception as e:  # noqa: BLE001 - damage shows as any of zlib, zipfile, numpy or json's errors
        raise RecordError(f"{path}: not a readable run record ({type(e).__name__})") from e
    if not isinstance(meta, dict) or "checksum" not in meta:
        raise RecordError(f"{path}: a run record without a checksum (written by an older gmsim)")
    if meta["checksum"] != record_checksum(rec):
        raise RecordError(f"{path}: its numbers do not match their checksum (the file was changed)")
    if key is not None and meta.get("key") != key:
        raise RecordError(f"{path}: it holds another run ({meta.get('key')})")
    rec["meta"] = meta
    return rec


def _usable(path: Path, key: str) -> bool:
    """Whether a stored run can be reused; a damaged or mismatched one is removed, with a warning."""
    if not path.exists():
        return False
    try:
        load_record(path, key)
        return True
    except RecordError as e:
        print(f"gmsim: {e}; recomputing it", file=sys.stderr, flush=True)
        path.unlink(missing_ok=True)
        return False


def _init_worker(parent: int | None = None) -> None:
    """Set up a worker process: default signals, death with its parent, one numba thread, reuse of populations.

    The processes are the parallelism, so each has one numba thread. Tasks come replicate by replicate, so
    a worker's next run usually has the same seed and can copy the starting population it synthesised last.
    A worker forked from a server (the dashboard) would otherwise inherit the server's signal handlers
    and outlive it; a worker whose parent ``parent`` is killed outright (SIGKILL, so that it could not stop
    its pool) ends too, rather than hold its memory forever.
    """
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:  # not the main thread (a Dask worker): its own process manager handles signals
        pass
    if parent is not None:
        _die_with(parent)
    from . import model

    model.KEEP_POPULATIONS = 2
    try:
        import numba

        numba.set_num_threads(1)
    except Exception:  # noqa: BLE001 - a worker without numba threads still runs correctly
        pass


def _die_with(parent: int) -> None:
    """End this process when ``parent`` ends: Linux's parent-death signal, else a thread watching the parent."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, signal.SIGTERM, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
                if os.getppid() != parent:  # it died before the signal was asked for
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="gmsim-parent-watch", daemon=True).start()


def _process_context() -> multiprocessing.context.BaseContext:
    """Fork where the platform has it, spawn elsewhere.

    Fork works from scripts and notebooks without a ``__main__`` guard, and numba's workqueue threading
    layer (which gmsim selects) is fork-safe.
    """
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class _DaskExecutor:
    """Dask's standard ``concurrent.futures`` executor for a cluster address or a local cluster."""

    def __init__(self, address: str, workers: int) -> None:
        from distributed import Client, LocalCluster

        if address == "local":
            # Worker processes read NUMBA_NUM_THREADS when they import numba: one thread each.
            previous = os.environ.get("NUMBA_NUM_THREADS")
            os.environ["NUMBA_NUM_THREADS"] = "1"
            try:
                self.cluster = LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
                )
            finally:
                if previous is None:
                    os.environ.pop("NUMBA_NUM_THREADS")
                else:
                    os.environ["NUMBA_NUM_THREADS"] = previous
            self.client = Client(self.cluster)
        else:
            self.cluster = None
            self.client = Client(address)
        self.client.run(_init_worker)
        self.executor = self.client.get_executor(pure=False)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def execute(
    tasks: Iterable[Task],
    store: str | Path,
    workers: int | None = None,
    dask: str | None = None,
    progress: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
    shared: int = SHARED_RUNS,
) -> list[Path]:
    """Run every task not already in ``store``; return the record paths in task order.

    Args:
        tasks: Runs to do.
        store: Folder of run records (created if missing).
        workers: Local processes (default: the number of cores); with ``dask="local"`` the number of
            workers of the local cluster.
        dask: None for local processes, ``"local"`` for a Dask LocalCluster on this machine, or the
            address of a Dask scheduler (``tcp://host:8786``).
        progress: Show a progress bar with runs done and the time left.
        on_progress: Called with (runs finished, runs in all) at the start and after each run (the dashboard's
            progress indicator).
        shared: Most runs of one replicate advanced together as shared runs (:mod:`gmsim.shared`; 1: every run
            on its own). Results are the same either way.
    """
    store = Path(store)
    store.mkdir(parents=True, exist_ok=True)
    tasks = list(tasks)
    paths = [store / f"{t.key}.npz" for t in tasks]
    todo = [t for t, p in zip(tasks, paths, strict=True) if not _usable(p, t.key)]
    workers = workers or os.cpu_count() or 1
    done = len(tasks) - len(todo)
    if on_progress:
        on_progress(done, len(tasks))
    if todo:
        bar = tqdm(
            total=len(tasks),
            initial=len(tasks) - len(todo),
            unit="run",
            disable=not progress,
            desc="runs",
            smoothing=0.1,
        )
        dask_exec = _DaskExecutor(dask, workers) if dask else None
        pool: Executor = (
            dask_exec.executor
            if dask_exec
            else ProcessPoolExecutor(
                max_workers=min(workers, len(todo)),
                initializer=_init_worker,
                initargs=(os.getpid(),),
                mp_context=_process_context(),
            )
        )
        try:
            # Dask workers may not share this disk: they return the records and this process writes them.
            remote = dask_exec is not None
            futures = {
                pool.submit(run_tasks, g, None if remote else str(store.resolve())): g
                for g in groups(todo, shared, shared_memory(workers, dask))
            }
            try:
                for f in as_completed(futures):
                    out = f.result()
                    if remote:
                        for t, data in zip(futures[f], out, strict=True):
                            _write_atomic(store / f"{t.key}.npz", data)
                    bar.update(len(out))
                    done += len(out)
                    if on_progress:
                        on_progress(done, len(tasks))
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
        finally:
            bar.close()
            if dask_exec:
                dask_exec.close()
            else:
                pool.shutdown(wait=True, cancel_futures=True)
    return paths
