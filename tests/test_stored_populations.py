"""Burnt-in populations kept on disk: read back exactly, remade when damaged, and never where switched off."""

import os
import threading
import time

import numpy as np
import pytest

from gmsim import model, stored_populations
from gmsim.streams import Streams


@pytest.fixture
def small_store(tmp_path, monkeypatch):
    monkeypatch.setenv("GMSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(stored_populations, "MIN_SLOTS", 1000)
    monkeypatch.setattr(model, "KEEP_POPULATIONS", 0)
    return tmp_path / "populations"


def make(seed=3, n=2000):
    made = model.starting_population(n, Streams(seed), burn_in=12)
    for thread in threading.enumerate():  # the population is written in a thread of its own
        if thread.name == "gmsim-keep-population":
            thread.join()
    return made


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip((*a[0], *a[1]), (*b[0], *b[1]), strict=True))


def test_a_kept_population_is_read_back_exactly(small_store):
    first = make()
    files = list(small_store.glob("population-*.npz"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    again = make()
    assert same(first, again) and files[0].stat().st_mtime_ns == stamp  # read, not made and written again
    other = make(seed=4)
    assert not same(first, other) and len(list(small_store.glob("population-*.npz"))) == 2


def test_a_damaged_population_is_made_again_with_a_warning(small_store, capsys):
    first = make()
    path = next(small_store.glob("population-*.npz"))
    path.write_bytes(path.read_bytes()[:-100])
    again = make()
    assert same(first, again)
    assert "making the population again" in capsys.readouterr().err
    assert path.exists()  # and kept again, whole


def test_nothing_is_kept_when_switched_off_or_small(tmp_path, monkeypatch):
    monkeypatch.setattr(model, "KEEP_POPULATIONS", 0)
    monkeypatch.setenv("GMSIM_CACHE_DIR", "off")
    assert stored_populations.folder() is None
    monkeypatch.setenv("GMSIM_CACHE_DIR", str(tmp_path))
    make(n=500)  # below MIN_SLOTS
    assert not (tmp_path / "populations").exists()


def test_at_most_max_files_are_kept(small_store, monkeypatch):
    monkeypatch.setattr(stored_populations, "MAX_FILES", 2)
    for seed in (1, 2, 3):
        make(seed=seed)
    assert len(list(small_store.glob("population-*.npz"))) == 2


def test_two_asking_at_once_make_the_population_once(small_store):
    """While one caller makes and writes a population, another asking for it waits and reads it."""
    made = []
    population = make(seed=7)  # the population to hand out (already kept under its own key)
    path = small_store / "population-test.npz"

    def slow_make():
        made.append(1)
        time.sleep(0.5)
        return population

    got = [None, None]

    def ask(k):
        got[k], thread = stored_populations.kept_or_made(path, slow_make)
        if thread is not None:
            thread.join()

    first = threading.Thread(target=ask, args=(0,))
    first.start()
    time.sleep(0.1)  # the first caller holds the lock by now
    ask(1)
    first.join()
    assert len(made) == 1
    assert same(got[0], population) and same(got[1], population)


def test_compiled_kernels_are_kept_in_a_folder_of_their_sources_version(tmp_path):
    """A change to any source file gives another kernel folder (numba would not notice a callee's change)."""
    import subprocess
    import sys

    from gmsim import kernel_cache_folder

    package = tmp_path / "package"
    (package / "dynamics").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "dynamics" / "b.py").write_text("y = 2\n")
    first = kernel_cache_folder(package, tmp_path / "kernels")
    (package / "dynamics" / "b.py").write_text("y = 3\n")
    second = kernel_cache_folder(package, tmp_path / "kernels")
    (package / "dynamics" / "b.py").write_text("y = 2\n")
    assert second != first and kernel_cache_folder(package, tmp_path / "kernels") == first
    assert first.parent == tmp_path / "kernels"
    # a run's processes use it, unless NUMBA_CACHE_DIR says otherwise
    show = [sys.executable, "-c", "import gmsim, numba; print(numba.config.CACHE_DIR)"]
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    used = subprocess.run(show, env={**env, "XDG_CACHE_HOME": str(tmp_path)}, capture_output=True, text=True)
    assert used.stdout.strip() == str(kernel_cache_folder(base=tmp_path / "gmsim" / "kernels"))
    mine = {**env, "NUMBA_CACHE_DIR": str(tmp_path / "mine")}
    chosen = subprocess.run(show, env=mine, capture_output=True, text=True)
    assert chosen.stdout.strip() == str(tmp_path / "mine")
