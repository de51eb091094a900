"""Named random streams: common random numbers by construction.

Every random number gmsim uses is a pure function of four things: the run's seed, the name of the
stream (one per process: ``"health"``, ``"labour"``, ...), the month (with a draw index, for a process
that needs more than one number per person a month) and the person's slot. Nothing is carried from one
draw to the next, so

* a process that draws more or fewer numbers cannot shift anybody else's draws;
* person ``i`` sees the same numbers in month ``t`` in every scenario run with the same seed (common
  random numbers), whether or not a given draw is used;
* draws are the same in any order and on any number of threads or processes.

The generator is a counter-based construction in the spirit of Random123 (Salmon et al., SC'11): the
stream key and the (month, index) counter are hashed with the SplitMix64 finaliser (Steele, Lea & Flood,
OOPSLA 2014) into a starting point, and slot ``i`` takes the ``i``-th SplitMix64 output from there.
SplitMix64 passes BigCrush; ``tests/test_streams.py`` checks uniformity and independence statistically.
"""

from __future__ import annotations

import hashlib
from statistics import NormalDist

import numpy as np
from numba import njit, prange

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S32 = np.uint64(32)
_TWO_M53 = 1.0 / 9007199254740992.0


@njit(cache=True)
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def counter_start(key: np.uint64, month: int, index: int) -> np.uint64:
    """Starting point of the draws for one (stream, month, draw index)."""
    return _mix(key ^ _mix((np.uint64(month) << _S32) ^ np.uint64(index)))


@njit(cache=True)
def draw(start: np.uint64, slot: int) -> float:
    """Uniform number in [0, 1) for one person slot, from a :func:`counter_start`."""
    z = _mix(start + _GAMMA * np.uint64(slot + 1))
    return float(z >> _S11) * _TWO_M53


@njit(cache=True, parallel=True)
def _fill(key: np.uint64, month: int, index: int, out: np.ndarray) -> None:
    start = counter_start(key, month, index)
    for i in prange(out.shape[0]):
        out[i] = draw(start, i)


@njit(cache=True)
def _fill_at(key: np.uint64, month: int, index: int, slots: np.ndarray, out: np.ndarray) -> None:
    start = counter_start(key, month, index)
    for k in range(slots.shape[0]):
        out[k] = draw(start, slots[k])


def stream_key(seed: int, name: str) -> np.uint64:
    """64-bit key of the named stream for a seed (stable across platforms and Python versions)."""
    digest = hashlib.blake2b(f"gmsim:{int(seed)}:{name}".encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


class Streams:
    """The named random streams of one run, all derived from one seed.

    Args:
        seed: The run's seed.

    Example:
        >>> s = Streams(7)
        >>> u = s.uniforms("labour", month=3, n=5)
        >>> bool(((u >= 0) & (u < 1)).all())
        True
    """

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._keys: dict[str, np.uint64] = {}

    def key(self, name: str) -> np.uint64:
        """The key of stream ``name`` (what the compiled kernels take)."""
        if name not in self._keys:
            self._keys[name] = stream_key(self.seed, name)
        return self._keys[name]

    def uniforms(self, name: str, month: int, n: int, index: int = 0) -> np.ndarray:
        """Uniform numbers in [0, 1) for slots ``0..n-1`` of stream ``name`` in ``month``.

        Args:
            name: Stream name, one per process.
            month: Simulation month (``-1`` is used for the synthesis of the starting population).
            n: Number of slots.
            index: Draw index, for a process that needs several numbers per person a month.

        Returns:
            float64 array of length ``n``; entry ``i`` depends only on (seed, name, month, index, i).
        """
        out = np.empty(n, dtype=np.float64)
        _fill(self.key(name), month & 0xFFFFFFFF, index, out)
        return out

    def uniforms_at(self, name: str, month: int, slots: np.ndarray, index: int = 0) -> np.ndarray:
        """The numbers :meth:`uniforms` would give at ``slots`` only (same values, less work)."""
        slots = np.ascontiguousarray(slots, dtype=np.int64)
        out = np.empty(len(slots), dtype=np.float64)
        _fill_at(self.key(name), month & 0xFFFFFFFF, index, slots, out)
        return out

    def normal_at(self, name: str) -> float:
        """One standard normal number of stream ``name`` (month 0, slot 0): a draw made once per seed."""
        u = float(self.uniforms_at(name, 0, np.array([0]))[0])
        return NormalDist().inv_cdf(min(max(u, 1e-12), 1 - 1e-12))

    def generator(self, name: str) -> np.random.Generator:
        """A numpy Generator for one-off, non-per-slot randomness (e.g. synthesising employers)."""
        return np.random.default_rng(int(self.key(name)))
