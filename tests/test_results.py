"""The monthly tally: moves between labour states by age, severity, benefit and borough, and their rates."""

import numpy as np
import pytest

from gmsim import codes
from gmsim.model import GMModel


@pytest.fixture(scope="module")
def run():
    m = GMModel(scale=0.02, months=24, rng=5)
    m.run(progress=False)
    return m


def test_the_moves_add_up_to_the_flows_and_the_state_changes(run):
    r = run.results
    moves = r.moves[: r.recorded].sum(axis=(2, 3, 4, 5))  # (month, labour transition)
    flows = r.flows[: r.recorded, : codes.N_LABOUR].sum(axis=2)
    assert np.array_equal(moves, flows) and moves[1:].sum() > 0
    table = run.results.transitions()
    assert list(table.columns) == [
        "month", "from_state", "to_state", "age_band", "severity", "benefit", "borough", "count"
    ]  # fmt: skip
    assert (table["count"] > 0).all()
    by_month = table[table.from_state == "inactive_other"].groupby("month")["count"].sum()
    t = [codes.T["inactive_to_in_work"], codes.T["inactive_to_out_of_work"]]
    assert by_month.to_numpy() == pytest.approx(flows[by_month.index.to_numpy()][:, t].sum(axis=1) / r.scale)
    # who moved, as they are at the end of the month: this month's movers' own attributes
    p = run.people
    moved = (p.labour_event >= 0) & (p.labour_event < codes.N_LABOUR)
    last = table[table.month == run.month]
    complex_inactive_entries = last[
        (last.from_state == "inactive_other") & (last.to_state == "in_work") & (last.severity == "complex")
    ]["count"].sum()
    mine = moved & (p.labour_event == codes.T["inactive_to_in_work"]) & (p.severity == 3)
    assert complex_inactive_entries == pytest.approx(mine.sum() / r.scale)


def test_transition_rates_are_moves_over_the_person_years_at_risk_of_them(run):
    r = run.results
    rates = r.transition_rates(13, 24)
    t = codes.T["out_of_work_to_in_work"]
    moved = r.moves[13:25, t].sum()
    exposure = r.stock[12:24, :, codes.OUT_OF_WORK].sum()
    assert rates["out_of_work_to_in_work"]["all"] == pytest.approx(12 * moved / exposure)
    complex_moved = r.moves[13:25, t, :, 3].sum()
    complex_cells = [1 + c * 3 + 2 for c in range(len(codes.CONDITIONS) - 1)]
    complex_exposure = r.stock[12:24, :, codes.OUT_OF_WORK][:, :, complex_cells].sum()
    assert rates["out_of_work_to_in_work"]["complex"] == pytest.approx(12 * complex_moved / complex_exposure)
    assert set(rates) == set(codes.TRANSITIONS[: codes.N_LABOUR])
    assert set(rates["inactive_to_in_work"]) == {*codes.SEVERITIES, "all"}


def test_moves_are_counted_only_when_asked_for():
    m = GMModel(scale=0.002, months=2, rng=1, record_transitions=False)
    m.run(progress=False)
    assert m.results.moves is None
    with pytest.raises(ValueError, match="did not count moves"):
        m.results.transitions()
