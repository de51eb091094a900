"""Shared runs: runs of one replicate that differ only in their interventions, advanced together.

Scenarios compared in one replicate share their seed, so each person meets the same random numbers in
every one of them (common random numbers), and a person's month depends only on their own values, their
random numbers and their intervention multipliers (docs/model.md, section 7). A person whom no
intervention has reached therefore lives exactly the same months in a funded scenario as in the same
scenario unfunded, and over ten years that is nearly everyone (``benchmarks/divergence.py``).

Shared runs use that. One *trunk* run without interventions simulates everybody (:mod:`.trunk`). Each
*branch*, a scenario with interventions, keeps the values of the people it has diverged for, those whose
values differ from the trunk's, and each month simulates only them and the people its interventions
could change this month; everyone else's month is the trunk's (:mod:`.branch`). Both are
:class:`~gmsim.population.Population` objects: the seam through which a model's phases learn whom to step
and its interventions what they need to know of everyone. Nothing outside this package knows of trunks
or branches. :class:`SharedRuns` advances them together, phase by phase (:mod:`.runs`).

Every branch's results are bit-identical to running its scenario alone (``tests/test_shared.py``): the
same kernels run for the same people with the same numbers, and nobody else can differ. This relies on
interventions changing people only through hazard multipliers, as the intervention interface says, and on
the bound on those multipliers that the interventions give (``Intervention.largest_ratios``). One thing
is kept less fully than alone: the in-work strand marks the participation of the staff whose month its
effects could change and of the sampled pathways, not of every employee of its employers.
"""

from .runs import MOVABLE_FROM, RECORDS_FROM, SharedRuns, trunk_key
from .trunk import largest_multiplier

__all__ = ["MOVABLE_FROM", "RECORDS_FROM", "SharedRuns", "largest_multiplier", "trunk_key"]
