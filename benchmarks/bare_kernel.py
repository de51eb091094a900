"""The reference point: a bare 3-state monthly Markov kernel on the same people and months.

States in work / out of work / inactive, fixed monthly transition probabilities (the LFS flows), one
uniform draw per person per month. Timed three ways: plain numpy, numba, and idiomatic Mesa agents (one
Python object per person; timed on a 1% sample and scaled up, since the full run takes minutes).

    python benchmarks/bare_kernel.py [--people 1781000] [--months 120] [--numba-only]
"""

import argparse
import json
import time

import mesa
import numpy as np
from numba import njit

# Monthly transition probabilities between in work (0), out of work (1), inactive (2): LFS flows.
P = np.array([[0.9903, 0.0034, 0.0063], [0.14, 0.80, 0.06], [0.019, 0.019, 0.962]])
CUM = np.cumsum(P, axis=1)


def numpy_kernel(n, months, seed=1):
    rng = np.random.default_rng(seed)
    state = rng.choice(3, size=n, p=[0.72, 0.13, 0.15]).astype(np.int8)
    for _ in range(months):
        u = rng.random(n)
        cum = CUM[state]
        state = (u[:, None] >= cum[:, :2]).sum(axis=1).astype(np.int8)
    return np.bincount(state, minlength=3)


@njit(cache=True)
def _numba_month(state, u, cum):
    for i in range(state.shape[0]):
        s = state[i]
        x = u[i]
        state[i] = 0 if x < cum[s, 0] else (1 if x < cum[s, 1] else 2)


def numba_kernel(n, months, seed=1):
    rng = np.random.default_rng(seed)
    state = rng.choice(3, size=n, p=[0.72, 0.13, 0.15]).astype(np.int8)
    for _ in range(months):
        _numba_month(state, rng.random(n), CUM)
    return np.bincount(state, minlength=3)


class _Person(mesa.Agent):
    def __init__(self, model, state):
        super().__init__(model)
        self.state = state

    def step(self):
        x = self.model.random.random()
        c = CUM[self.state]
        self.state = 0 if x < c[0] else (1 if x < c[1] else 2)


class _BareModel(mesa.Model):
    def __init__(self, n, seed=1):
        super().__init__(rng=seed)
        states = self.rng.choice(3, size=n, p=[0.72, 0.13, 0.15])
        for s in states:
            _Person(self, int(s))

    def step(self):
        self.agents.do("step")


def mesa_kernel(n, months, seed=1):
    m = _BareModel(n, seed)
    for _ in range(months):
        m.step()


def timed(f, *args):
    t0 = time.perf_counter()
    f(*args)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=1_781_000)
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--mesa-sample", type=float, default=0.01)
    ap.add_argument("--numba-only", action="store_true", help="run the numba kernel only (a whole process to time)")
    a = ap.parse_args()
    numba_kernel(1000, 2)  # compile
    if a.numba_only:
        print(
            json.dumps(
                {"people": a.people, "months": a.months, "numba_s": round(timed(numba_kernel, a.people, a.months), 2)}
            )
        )
        return
    out = {
        "people": a.people,
        "months": a.months,
        "numpy_s": round(timed(numpy_kernel, a.people, a.months), 2),
        "numba_s": round(timed(numba_kernel, a.people, a.months), 2),
    }
    k = max(1, int(a.people * a.mesa_sample))
    out["mesa_agents_s_extrapolated"] = round(timed(mesa_kernel, k, a.months) * a.people / k, 1)
    out["mesa_sample_people"] = k
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
