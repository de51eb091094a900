"""Decisions under uncertainty: how sure a sweep is of its best mix, and which evidence would change it.

A funding-mix sweep with parameter uncertainty runs every mix at replicates ``r = 1..R``; replicate ``r``
draws one set of uncertain inputs (each strand's effect ratios, a baseline parameter set from the
calibration's posterior, the appraisal's unit values), the same in every mix, so each replicate is one
possible world and the mixes' outcomes in it are comparable. From the mixes' values of the objective,
``v[m, r]``:

* **decision** (:func:`decision_table`): each mix's probability of being best (the share of replicates in
  which it has the highest value) and its expected loss against the best, ``mean_r(max_m v[m, r] - v[m, r])``:
  what choosing it costs on average, compared with always knowing the best mix;
* **EVPPI** (:func:`evppi_table`): the expected value of partial perfect information of an input or a
  group of inputs, ``E_phi[max_m E(v_m | phi)] - max_m E(v_m)``, by the regression method of Strong,
  Oakley & Brennan (2014, Medical Decision Making 34:311): each mix's values are regressed on the inputs
  ``phi`` across replicates (linear; a cubic in one input from 50 replicates), the fitted values stand for
  ``E(v_m | phi)``, and what the same fit finds in the inputs shuffled across replicates (noise) is taken
  off. It is what learning those inputs exactly would add to the expected outcome of the
  decision: an upper bound on what an evaluation of them is worth. With ``phi`` all the inputs it is the
  expected value of perfect information (EVPI), here ``mean_r max_m v[m, r] - max_m mean_r v[m, r]``, which
  also counts the runs' own chance variation and so overstates it.

The regression needs replicates: with fewer than ``MIN_REPLICATES`` nothing is estimated, and with tens of
replicates the estimates are rough (a regression fitted to few points follows their noise and overstates
the EVPPI); docs/model.md section 8.6 says how many to run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Fewest replicates for an EVPPI estimate.
MIN_REPLICATES = 8
#: Shuffles of an input across replicates whose mean EVPPI, what a fit finds in noise, is taken off.
PERMUTATIONS = 50
#: An input's EVPPI is told apart from noise when at most this many of its shuffled fits find as much.
NOISE_RANK = 1


def decision_table(values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Each mix's mean, probability of being best and expected loss against the best, from ``values``.

    Args:
        values: Per mix, its objective in each replicate (the same replicates, in order; more is better).

    Returns:
        ``scenario``, ``mean``, ``probability_best`` (ties shared) and ``expected_loss``, best first.
    """
    names = list(values)
    v = np.array([values[n] for n in names], dtype=float)  # (mix, replicate)
    top = v.max(axis=0)
    best = v == top
    probability = (best / best.sum(axis=0)).mean(axis=1)
    table = pd.DataFrame(
        {
            "scenario": names,
            "mean": v.mean(axis=1),
            "probability_best": probability,
            "expected_loss": (top - v).mean(axis=1),
        }
    )
    return table.sort_values(["expected_loss", "scenario"]).reset_index(drop=True)


def _basis(x: np.ndarray, replicates: int) -> np.ndarray:
    """Regressors of inputs ``x`` (replicate, input): linear terms; a cubic in one input from 50 replicates."""
    z = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    if z.shape[1] == 1 and replicates >= 50:
        return np.column_stack([z[:, 0] ** d for d in range(4)])
    return np.column_stack([np.ones(replicates), z])


def _fitted_evppi(v: np.ndarray, basis: np.ndarray) -> float:
    """``mean_r max_m fit - max_m mean_r fit`` of the mixes' values ``v`` (mix, replicate) fitted on ``basis``."""
    coef, *_ = np.linalg.lstsq(basis, v.T, rcond=None)
    fitted = basis @ coef  # (replicate, mix)
    return float(fitted.max(axis=1).mean() - fitted.mean(axis=0).max())


def evppi(values: dict[str, np.ndarray], inputs: np.ndarray) -> tuple[float, float, bool]:
    """The EVPPI of ``inputs`` (replicate, input) for choosing among the mixes of ``values`` (their units).

    A fitted curve follows some of the replicates' noise, which looks like information. So the same fit is
    made on the inputs shuffled across replicates (:data:`PERMUTATIONS` times, a fixed shuffle), whose
    EVPPI is noise alone, and its mean is taken off (never below 0). Among many inputs, the largest
    estimates are also the luckiest, so whether the fit finds more than all but :data:`NOISE_RANK` of the
    shuffled fits do is returned too (a permutation test: an input that carries no information passes it
    with chance ``(NOISE_RANK + 1) / (PERMUTATIONS + 1)``, 3.9%); an input that does not pass is not told
    apart from noise.

    Returns:
        The EVPPI, the part taken off as noise, and whether the fit is beyond noise; NaN (and False) with
        fewer than :data:`MIN_REPLICATES` replicates, or as many regressors as replicates.
    """
    v = np.array(list(values.values()), dtype=float)
    r = v.shape[1]
    x = np.asarray(inputs, dtype=float).reshape(r, -1)
    basis = _basis(x, r) if r >= MIN_REPLICATES else None
    if basis is None or basis.shape[1] >= r - 1:
        return float("nan"), float("nan"), False
    shuffles = np.random.default_rng(0)
    noise = np.array([_fitted_evppi(v, basis[shuffles.permutation(r)]) for _ in range(PERMUTATIONS)])
    fitted = _fitted_evppi(v, basis)
    # an input whose fits find nothing (the choice never changes) is not beyond noise, whatever the rounding
    found = fitted - float(noise.mean()) > 1e-9 * max(1.0, float(np.abs(v).max()))
    beyond = bool(found and np.sum(noise >= fitted) <= NOISE_RANK)
    return max(0.0, fitted - float(noise.mean())), float(noise.mean()), beyond


def evpi(values: dict[str, np.ndarray]) -> float:
    """The expected value of perfect information: ``mean_r max_m v[m, r] - max_m mean_r v[m, r]``."""
    v = np.array(list(values.values()), dtype=float)
    return float(v.max(axis=0).mean() - v.mean(axis=1).max())


def evppi_table(
    values: dict[str, np.ndarray],
    money: dict[str, np.ndarray],
    inputs: pd.DataFrame,
    groups: dict[str, list[str]],
    no_bearing: frozenset[str] = frozenset(),
) -> pd.DataFrame:
    """The EVPPI of each input and group of inputs, in the objective's units and in GBP.

    Args:
        values: Per mix, the objective in each replicate.
        money: Per mix, its social net present value in each replicate (GBP): the EVPPI in pounds.
        inputs: One row per replicate, one column per uncertain input (its drawn value).
        groups: Named groups of ``inputs``' columns (e.g. a strand's effects), valued together.
        no_bearing: Inputs that cannot change the objective (unit values, for an objective that is not
            money): their EVPPI in its units is 0, not estimated (an estimate would be noise).

    Returns:
        ``input``, ``kind`` (``parameter``, ``group`` or ``all``), ``inputs`` (how many), ``evppi``,
        ``evppi_gbp``, ``noise_taken_off`` and ``beyond_noise`` (in the objective's units: :func:`evppi`)
        and ``share_of_evpi``, largest first; the EVPI (``all``) first.
    """
    rows = [
        {"input": "all uncertain inputs (EVPI)", "kind": "all", "inputs": inputs.shape[1], "evppi": evpi(values)}
        | {"evppi_gbp": evpi(money)}
    ]
    for kind, named in (("group", groups), ("parameter", {c: [c] for c in inputs.columns})):
        for name, columns in named.items():
            x = inputs[columns].to_numpy(dtype=float)
            if np.all(x.std(axis=0) == 0):
                continue
            (value, noise, beyond), (gbp, _, _) = evppi(values, x), evppi(money, x)
            if set(columns) <= no_bearing:
                value, noise, beyond = 0.0, 0.0, False
            rows.append(
                {"input": name, "kind": kind, "inputs": len(columns), "evppi": value, "evppi_gbp": gbp}
                | {"noise_taken_off": noise, "beyond_noise": beyond}
            )
    table = pd.DataFrame(rows)
    total = rows[0]["evppi"]
    table["share_of_evpi"] = table["evppi"] / total if total > 0 else np.nan
    head, rest = table.iloc[:1], table.iloc[1:].sort_values("evppi", ascending=False, na_position="last")
    return pd.concat([head, rest], ignore_index=True)
