"""Burnt-in starting populations kept on disk, so that runs of the same seed and scale share the burn-in.

A run's month-0 population (``model.starting_population``) depends only on the seed, the number of slots,
the burn-in's length, the parameters it was burnt in with and gmsim's code and data. It takes a few
seconds to make at full scale, so it is kept in a file named by a hash of all of them: the workers of a
sweep, and later runs with the same seed, read it instead of making it again. A file is read only if its
arrays match the checksum written with them; one that does not (cut short, edited, from another version)
is deleted with a one-line warning and the population made again. Only populations of at least
``MIN_SLOTS`` slots are kept; small ones are quicker to make than to read. A population is written in a
thread of its own while the run goes on. Processes that need the same population at the same time (a
sweep's workers) take turns: one makes it while the others wait for its file (a lock file beside it, where
the system has ``fcntl``), rather than all making it at once on the same cores.

The folder is ``$GMSIM_CACHE_DIR`` if set (``off`` keeps nothing), else ``$XDG_CACHE_HOME/gmsim`` or
``~/.cache/gmsim``; at most ``MAX_FILES`` populations are kept there, the oldest removed first.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .agents.employers import DERIVED, Employers, employers_of
from .agents.people import People

#: Populations with fewer slots are not kept (a tenth of full scale takes well under a second to make).
MIN_SLOTS = 500_000
#: The most populations kept in the folder (about 20 MB each at full scale).
MAX_FILES = 20


def folder() -> Path | None:
    """Where populations are kept, or None if they are not."""
    chosen = os.environ.get("GMSIM_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "none", "0") else Path(chosen) / "populations"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gmsim" / "populations"


def path_for(key: tuple[Any, ...]) -> Path | None:
    """The file of the population with ``key`` (seed, slots, burn-in, parameters, calibrated), or None."""
    where = folder()
    if where is None or key[1] < MIN_SLOTS:
        return None
    from .ensemble import code_hash

    digest = hashlib.sha256(json.dumps([repr(key), code_hash()]).encode()).hexdigest()[:32]
    return where / f"population-{digest}.npz"


def _digest(name: str, array: np.ndarray) -> str:
    h = hashlib.sha256(f"{name}:{array.dtype.str}:{array.shape}".encode())
    h.update(np.ascontiguousarray(array))
    return h.hexdigest()


def _checksum(digests: dict[str, str]) -> str:
    """One hash of every array's (:func:`_digest`), in the order of their names."""
    return hashlib.sha256("".join(digests[name] for name in sorted(digests)).encode()).hexdigest()


def _read(path: Path, name: str) -> tuple[np.ndarray, str]:
    with np.load(path, allow_pickle=False) as f:
        array = f[name]
    return array, _digest(name, array)


def load(path: Path) -> tuple[Employers, People] | None:
    """The population kept in ``path``, or None if there is none or it fails its checksum (then removed).

    The arrays are read and checked two at a time (unzipping and hashing let other threads run).
    """
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            checksum = str(f["checksum"])
            names = sorted((k for k in f.files if k != "checksum"), key=lambda k: -f.zip.getinfo(f"{k}.npy").file_size)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="gmsim-read-population") as pool:
            read = dict(zip(names, pool.map(lambda name: _read(path, name), names), strict=True))
        if checksum != _checksum({name: digest for name, (_, digest) in read.items()}):
            raise ValueError("its arrays do not match their checksum")
        employers = employers_of(*(read[f"employers.{k}"][0] for k in Employers._fields if k not in DERIVED))
        people = People(*(read[f"people.{k}"][0] for k in People._fields))
    except Exception as e:  # noqa: BLE001 - any damage means: make it again
        print(f"gmsim: {path}: {e}; making the population again", file=sys.stderr)
        path.unlink(missing_ok=True)
        return None
    return employers, people


def save(path: Path, employers: Employers, people: People) -> None:
    """Keep a population in ``path`` (written whole or not at all), removing the oldest beyond ``MAX_FILES``."""
    # the hiring tables are made again from the employers' weights and sectors (twenty times their size)
    arrays = {f"employers.{k}": v for k, v in employers._asdict().items() if k not in DERIVED}
    arrays.update({f"people.{k}": v for k, v in people._asdict().items()})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".partial-", suffix=".npz", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                checksum = _checksum({name: _digest(name, a) for name, a in arrays.items()})
                np.savez_compressed(f, checksum=np.array(checksum), **arrays)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        kept = sorted(path.parent.glob("population-*.npz"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-MAX_FILES]:
            old.unlink(missing_ok=True)
            old.with_name(old.name + ".lock").unlink(missing_ok=True)
    except OSError as e:  # a full or read-only disk costs the next run the burn-in, nothing more
        print(f"gmsim: could not keep the population in {path.parent}: {e}", file=sys.stderr)


def kept_or_made(
    path: Path, make: Callable[[], tuple[Employers, People]]
) -> tuple[tuple[Employers, People], threading.Thread | None]:
    """The population kept in ``path``, or ``make()``'s, then kept there (the file written in a thread).

    While one process makes and writes a population, others asking for the same one wait for it; the lock
    is let go once the file is whole, or at once if there is no ``fcntl``.

    Returns:
        The population, and the thread writing it (None if it was read).
    """
    lock = _lock(path)
    try:
        kept = load(path)
        if kept is not None:
            _unlock(lock)
            return kept, None
        made = make()
    except BaseException:
        _unlock(lock)
        raise
    copies = (Employers(*(a.copy() for a in made[0])), People(*(a.copy() for a in made[1])))

    def write() -> None:
        try:
            save(path, *copies)
        finally:
            _unlock(lock)

    thread = threading.Thread(target=write, name="gmsim-keep-population")
    thread.start()
    return made, thread


def _lock(path: Path) -> Any:
    try:
        import fcntl
    except ImportError:  # no advisory locks here: processes may make the same population at once
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.parent / (path.name + ".lock"), "w")  # noqa: SIM115 - held until the file is whole
        fcntl.flock(handle, fcntl.LOCK_EX)
    except OSError:
        return None
    return handle


def _unlock(handle: Any) -> None:
    if handle is None:
        return
    import fcntl

    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()
