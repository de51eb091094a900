"""How many people's lives a scenario changes: the room for sharing work between the runs of a sweep.

Runs the baseline and each scenario side by side with the same seed (common random numbers), month by
month, and compares every person's state arrays (labour state, time in state, health, benefit, employer,
age). A person has *diverged* once any of these differs from the baseline run; until then everything
that happens to them is what happens to them in the baseline. Also counts the people the scenario's
interventions *touch* (any hazard multiplier written for them), ever and in the average month.

Figures from this script are in the README ("Performance"): they bound what a sweep could save by
simulating, for each mix, only the people who differ from the baseline of the same replicate.

    python benchmarks/divergence.py [--scale 0.1] [--months 120] [--seed 1]
                                    [--scenarios scenarios/working_well.yaml ...]
"""

import argparse
import json

import numpy as np

from gmsim.model import GMModel

FIELDS = (
    "state",
    "months_in_state",
    "severity",
    "condition",
    "benefit",
    "months_on_benefit",
    "employer",
    "age_months",
    "health_claim_start",
)


def divergence(scenario: str, baseline: str, scale: float, months: int, seed: int) -> dict:
    """Shares of people diverged from the baseline and touched by interventions, by year."""
    base = GMModel(baseline, rng=seed, scale=scale, months=months)
    other = GMModel(scenario, rng=seed, scale=scale, months=months)
    n = base.people.n
    ever = np.zeros(n, dtype=bool)
    touched_ever = np.zeros(n, dtype=bool)
    touched_months = 0
    diverged_months = 0
    by_year = []
    for month in range(1, months + 1):
        base.step()
        other.step()
        now = np.zeros(n, dtype=bool)
        for f in FIELDS:
            now |= getattr(base.people, f) != getattr(other.people, f)
        ever |= now
        diverged_months += int(now.sum())
        t = other.hazard_multipliers.touched
        if len(t):
            touched_ever |= t != 0
            touched_months += int((t != 0).sum())
        if month % 12 == 0:
            by_year.append(
                {
                    "year": month // 12,
                    "diverged_now": round(float(now.mean()), 4),
                    "diverged_ever": round(float(ever.mean()), 4),
                }
            )
    return {
        "scenario": scenario,
        "people": n,
        "months": months,
        "diverged_ever": round(float(ever.mean()), 4),
        "diverged_person_months": round(diverged_months / (n * months), 4),
        "touched_ever": round(float(touched_ever.mean()), 4),
        "touched_person_months": round(touched_months / (n * months), 4),
        "by_year": by_year,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--scenarios",
        nargs="+",
        default=["scenarios/working_well.yaml", "scenarios/in_work.yaml", "scenarios/equal_split.yaml"],
    )
    ap.add_argument("--baseline", default="scenarios/baseline.yaml")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    for scenario in a.scenarios:
        print(json.dumps(divergence(scenario, a.baseline, a.scale, a.months, a.seed)), flush=True)


if __name__ == "__main__":
    main()
