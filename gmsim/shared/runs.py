"""SharedRuns: runs of one replicate that differ only in their interventions, advanced month by month together."""

from __future__ import annotations

import json

from ..evaluation import follow_cohorts
from ..model import GMModel, population_size, starting_population
from ..scenario import Scenario
from ..streams import Streams
from .branch import BranchArrays, BranchRecords
from .records import as_records
from .trunk import Trunk

#: With at least this many funded runs, the trunk finds everyone who could have an event with the runs'
#: largest multipliers once a month, so that the interventions give multipliers only to participants
#: whose month they could change (docs/performance.md gives the measurements behind the threshold).
MOVABLE_FROM = 12

#: With at least this many funded runs, the branches hold the people as records (:mod:`gmsim.shared.records`):
#: cheaper to exchange and compare a run's scattered people, at the cost of writing the records from the
#: trunk's arrays twice a month, which only several runs repay (docs/performance.md).
RECORDS_FROM = 12


def trunk_key(scenario: Scenario) -> str:
    """What runs must have in common to share a trunk: everything but name, description and interventions."""
    d = scenario.to_dict()
    return json.dumps({k: d[k] for k in ("months", "population", "economy", "parameters")}, sort_keys=True)


class SharedRuns:
    """Runs of scenarios that share a trunk (:func:`trunk_key`), with one seed, advanced month by month.

    Args:
        scenarios: The scenarios to run.
        seed: The runs' seed (as ``GMModel(rng=seed)``).
        draws: Per scenario, ``intervention_draws`` for its model (or None).
        parameters: Baseline parameter overrides for every run, burn-in included (as ``GMModel(parameters=)``:
            an ensemble's posterior draw).
        records: Whether the branches hold the people as records (default: with :data:`RECORDS_FROM` or
            more branches).
        find_movable: Whether the trunk finds everyone who could have an event each month (default: with
            :data:`MOVABLE_FROM` or more branches). The results are the same either way, for both options.
        record_transitions: Whether every run counts its moves by age band, severity, benefit and borough
            (``Results.moves``, a run's ``transitions.csv``); ensembles do without.

    Attributes:
        models: One model per scenario, in order. Their results, interventions and pathways are those of
            the scenario run alone; their ``people`` are the trunk's arrays, or views of a copy of them as
            records (:meth:`own_people` gives a run's own). Step them through :meth:`step` only.
        trunk: The model that simulates everybody without interventions (one of ``models`` if a scenario
            has no strands).
        branches: The other models.
    """

    def __init__(
        self,
        scenarios: list[Scenario],
        seed: int,
        draws: list[dict | None] | None = None,
        records: bool | None = None,
        find_movable: bool | None = None,
        parameters: dict[str, float] | None = None,
        record_transitions: bool = False,
    ) -> None:
        if len({trunk_key(s) for s in scenarios}) != 1:
            raise ValueError("shared runs need scenarios that differ only in their interventions")
        draws = draws or [None] * len(scenarios)
        trunk_at = next((k for k, s in enumerate(scenarios) if not s.strands), None)
        funded = len(scenarios) - (trunk_at is not None)
        records = funded >= RECORDS_FROM if records is None else records
        find_movable = funded >= MOVABLE_FROM if find_movable is None else find_movable

        if trunk_at is None:
            trunk_scenario, trunk_draws = scenarios[0].without_strands("trunk"), None
        else:
            trunk_scenario, trunk_draws = scenarios[trunk_at], draws[trunk_at]
        n = population_size(trunk_scenario.population.scale)
        employers, people = starting_population(n, Streams(seed), parameters=parameters)
        population = Trunk(people, employers, as_records(people) if records else None)
        self.trunk = GMModel(
            trunk_scenario,
            rng=seed,
            parameters=parameters,
            intervention_draws=trunk_draws,
            population=population,
            record_transitions=record_transitions,
        )
        self.models: list[GMModel] = []
        for k, scenario in enumerate(scenarios):
            if k == trunk_at:
                self.models.append(self.trunk)
            else:
                branch = (BranchRecords if records else BranchArrays)(population)
                self.models.append(
                    GMModel(
                        scenario,
                        rng=seed,
                        parameters=parameters,
                        intervention_draws=draws[k],
                        population=branch,
                        record_transitions=record_transitions,
                    )
                )
        self.branches = [m for m in self.models if m is not self.trunk]
        population.serve(self.branches, find_movable)

    def step(self) -> None:
        """Advance every run one month.

        The trunk's demography first (after which it works out what the branches read), then each branch's
        demography and interventions, then the rest of the trunk's month (health and work for everyone, and
        its record), then the rest of each branch's (see :mod:`gmsim.shared.branch`). Each model's ``step``
        completes its month, so Mesa's step counter and clock advance as in a run alone. Last, each branch's
        referral cohorts are followed in it and in the trunk, its comparator (:mod:`gmsim.evaluation`).
        """
        self.trunk.advance(through="demography")
        for b in self.branches:
            b.advance(through="intervene")
        self.trunk.step()
        for b in self.branches:
            b.step()
        for b in self.branches:
            follow_cohorts(b, self.trunk)

    def run(self, months: int | None = None) -> None:
        """Run ``months`` months (default: the scenarios' months less those already run)."""
        n = self.trunk.months_planned - self.trunk.month if months is None else int(months)
        for _ in range(n):
            self.step()

    def own_people(self, k: int):
        """Run ``k``'s people arrays as they are now (a copy: the trunk's with its diverged people's values)."""
        model = self.models[k]
        people = self.trunk.people.copy()
        if model is not self.trunk:
            population = model.population
            for a, v in zip(people, population.own_values(), strict=True):
                a[population.diverged] = v
        return people

    def diverged(self, k: int) -> int:
        """Number of people run ``k`` has diverged for (0 for the trunk)."""
        model = self.models[k]
        return 0 if model is self.trunk else len(model.population.diverged)

    def __repr__(self) -> str:
        return f"SharedRuns({len(self.models)} runs, month {self.trunk.month})"
