"""Decisions under uncertainty: probability of being best, expected loss and the value of information."""

import numpy as np
import pandas as pd
import pytest

from gmsim.decision import (
    MIN_REPLICATES,
    NOISE_RANK,
    PERMUTATIONS,
    _basis,
    _fitted_evppi,
    decision_table,
    evpi,
    evppi,
    evppi_table,
)


def test_probability_best_and_expected_loss_count_each_replicate_as_a_possible_world():
    table = decision_table({"a": np.array([3, 1, 2]), "b": np.array([1, 2, 2]), "c": np.array([0, 0, 0])})
    row = table.set_index("scenario")
    # replicate 1: a best; 2: b best; 3: a and b tie (half each)
    assert row.loc["a", "probability_best"] == pytest.approx(0.5)
    assert row.loc["b", "probability_best"] == pytest.approx(0.5)
    assert row.loc["c", "probability_best"] == 0
    assert row.loc["a", "expected_loss"] == pytest.approx(1 / 3)
    assert row.loc["b", "expected_loss"] == pytest.approx(2 / 3)
    assert row.loc["c", "expected_loss"] == pytest.approx(7 / 3)
    assert list(table.scenario) == ["a", "b", "c"]  # least expected loss first


def test_evppi_of_the_input_that_decides_is_its_value_and_of_an_irrelevant_one_is_near_zero():
    # Mix A pays 10 + 5 phi, mix B pays 10: knowing phi first is worth 5 E[max(phi, 0)] = 5 / sqrt(2 pi).
    rng = np.random.default_rng(3)
    n = 2000
    phi, psi = rng.normal(size=n), rng.normal(size=n)
    values = {"A": 10 + 5 * phi + 0.5 * rng.normal(size=n), "B": np.full(n, 10.0)}
    exact = 5 / np.sqrt(2 * np.pi)
    assert evppi(values, phi)[0] == pytest.approx(exact, abs=0.15)
    assert evppi(values, psi)[0] < 0.1
    assert evppi(values, phi)[2] and not evppi(values, psi)[2]  # only the input that decides is beyond noise
    # an input that moves a mix but never the choice is worth nothing, and is not beyond noise
    never = {"A": 100 + phi + 0.5 * rng.normal(size=n), "B": np.zeros(n)}
    assert evppi(never, phi)[0] == pytest.approx(0, abs=1e-9) and not evppi(never, phi)[2]
    assert evppi(values, np.column_stack([phi, psi]))[0] == pytest.approx(exact, abs=0.15)
    assert evpi(values) >= evppi(values, phi)[0] - 1e-9  # perfect information is worth at least partial
    assert np.isnan(evppi({k: v[: MIN_REPLICATES - 1] for k, v in values.items()}, phi[: MIN_REPLICATES - 1])[0])


def test_with_few_replicates_what_a_fit_finds_in_noise_is_taken_off():
    # Ten replicates of two mixes whose difference is noise alone: an irrelevant input's raw EVPPI is well
    # above zero, and the permutation correction takes most of it off.
    rng = np.random.default_rng(5)
    raw, corrected = [], []
    for _ in range(200):
        values = {"A": rng.normal(size=10), "B": rng.normal(size=10)}
        x = rng.normal(size=(10, 1))
        raw.append(_fitted_evppi(np.array(list(values.values())), _basis(x, 10)))
        corrected.append(evppi(values, x)[0])
    assert np.mean(corrected) < 0.55 * np.mean(raw)  # (what is kept is the positive half of the noise)
    # and an irrelevant input is told apart from noise with the permutation test's chance, 2 in 51 (3 standard
    # errors of 2,000 tries, each with fresh values)
    beyond = np.mean(
        [evppi({"A": rng.normal(size=10), "B": rng.normal(size=10)}, rng.normal(size=(10, 1)))[2] for _ in range(2000)]
    )
    chance = (NOISE_RANK + 1) / (PERMUTATIONS + 1)
    assert abs(beyond - chance) < 3 * np.sqrt(chance * (1 - chance) / 2000)


def test_the_evppi_table_gives_the_evpi_first_then_groups_and_inputs_largest_first():
    rng = np.random.default_rng(4)
    n = 400
    inputs = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n), "fixed": np.ones(n)})
    values = {"A": 2 * inputs.x.to_numpy(), "B": np.zeros(n)}
    money = {k: 1000 * v for k, v in values.items()}
    table = evppi_table(values, money, inputs, {"x and y": ["x", "y"]}, no_bearing=frozenset({"y"}))
    assert table.iloc[0].kind == "all" and table.iloc[0].evppi == pytest.approx(evpi(values))
    assert list(table.input[1:3]) in (["x and y", "x"], ["x", "x and y"])
    assert "fixed" not in set(table.input)  # an input that never varies has no value of information
    assert table.set_index("input").loc["y", "evppi"] == 0  # cannot change the objective: not estimated
    by = table.set_index("input").beyond_noise
    assert by["x"] and by["x and y"] and not by["y"]  # the input that decides is beyond noise, y is not valued
    assert table.set_index("input").loc["x", "evppi_gbp"] == pytest.approx(
        1000 * table.set_index("input").loc["x", "evppi"]
    )
    assert table.set_index("input").loc["x", "share_of_evpi"] == pytest.approx(1.0, abs=0.05)
