"""Person and Employer: Mesa-style agent views over one row of the arrays, and sampled pathways.

The arrays are the state; a view reads one row when asked and holds nothing of its own, so there is
no second copy of any rule. Views are not registered in ``model.agents``: 1.78 million registered
agent objects are exactly what the array design avoids.

With ``population.history_sample`` > 0 the model records, every month, the attributes of a fixed random
sample of slots (:class:`PathwayRecorder`); a view of a sampled person then has its month-by-month
``pathway``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import codes

if TYPE_CHECKING:
    from ..model import GMModel

_LABELS = {
    "sex": codes.SEXES,
    "borough": codes.BOROUGHS,
    "skills": codes.SKILLS,
    "condition": codes.CONDITIONS,
    "severity": codes.SEVERITIES,
    "state": codes.STATES,
    "benefit": codes.BENEFITS,
}
_RECORDED = (
    "person_id",
    "age_months",
    "state",
    "months_in_state",
    "condition",
    "severity",
    "benefit",
    "employer",
    "participation",
)


class Person:
    """A view of the person in one slot, with labelled attributes.

    Args:
        model: The model holding the arrays.
        slot: Row in the people arrays.

    Attributes:
        unique_id: The person's id (changes when a new 16-year-old takes the slot).
        model: The model.
        slot: Row in the people arrays.
    """

    def __init__(self, model: GMModel, slot: int) -> None:
        if not 0 <= slot < model.people.n:
            raise IndexError(f"person slot {slot} is outside 0..{model.people.n - 1}")
        self.model = model
        self.slot = int(slot)
        self.unique_id = int(model.people.person_id[slot])

    def _raw(self, name: str) -> Any:
        return getattr(self.model.people, name)[self.slot].item()

    def __getattr__(self, name: str) -> Any:
        if name in _LABELS:
            return _LABELS[name][self._raw(name)]
        if name in ("months_in_state", "months_on_benefit", "health_claim_start"):
            return self._raw(name)
        raise AttributeError(name)

    @property
    def age(self) -> float:
        """Age in years (with months as a fraction)."""
        return self._raw("age_months") / 12

    @property
    def employer(self) -> Employer | None:
        """The person's employer, or None if not employed."""
        e = self._raw("employer")
        return None if e < 0 else Employer(self.model, e)

    @property
    def last_sector(self) -> str | None:
        """Sector of the person's last employer (``codes.SECTORS``), or None if they have had no job in the model."""
        s = self._raw("last_sector")
        return None if s < 0 else codes.SECTORS[s]

    @property
    def strands(self) -> list[str]:
        """Interventions (Working Well strands) the person has started, in the model's order."""
        bits = int(self.model.participation[self.slot])
        return [iv.name for k, iv in enumerate(self.model.interventions) if bits >> k & 1]

    @property
    def pathway(self) -> pd.DataFrame | None:
        """Month-by-month record of this person, if their slot is in the history sample, else None."""
        rec = self.model.pathways
        if rec is None:
            return None
        return rec.pathway(self.slot, self.unique_id)

    def as_dict(self) -> dict[str, Any]:
        """All attributes, labelled."""
        d: dict[str, Any] = {"unique_id": self.unique_id, "slot": self.slot, "age": round(self.age, 2)}
        for name in (
            "sex",
            "borough",
            "skills",
            "condition",
            "severity",
            "state",
            "months_in_state",
            "benefit",
            "months_on_benefit",
        ):
            d[name] = getattr(self, name)
        e = self._raw("employer")
        d["employer"] = None if e < 0 else e
        d["last_sector"] = self.last_sector
        return d

    def __repr__(self) -> str:
        return f"Person({self.as_dict()})"


class Employer:
    """A view of one employer row.

    Args:
        model: The model holding the arrays.
        row: Row in the employer arrays.
    """

    def __init__(self, model: GMModel, row: int) -> None:
        if not 0 <= row < model.employers.n:
            raise IndexError(f"employer {row} is outside 0..{model.employers.n - 1}")
        self.model = model
        self.unique_id = int(row)

    @property
    def size_band(self) -> str:
        """micro, small, medium or large."""
        return codes.EMPLOYER_SIZES[self.model.employers.size_band[self.unique_id]]

    @property
    def occupational_health(self) -> bool:
        """Whether the employer gives access to occupational health."""
        return bool(self.model.employers.occupational_health[self.unique_id])

    @property
    def sector(self) -> str:
        """Broad industry sector (``codes.SECTORS``)."""
        return codes.SECTORS[self.model.employers.sector[self.unique_id]]

    @property
    def borough(self) -> str:
        """Workplace borough."""
        return codes.BOROUGHS[self.model.employers.borough[self.unique_id]]

    @property
    def employees(self) -> np.ndarray:
        """Slots of the people tied to this employer now."""
        return np.flatnonzero(self.model.people.employer == self.unique_id)

    def __repr__(self) -> str:
        return (
            f"Employer(unique_id={self.unique_id}, size_band={self.size_band!r}, sector={self.sector!r}, "
            f"borough={self.borough!r}, occupational_health={self.occupational_health}, "
            f"employees={len(self.employees)})"
        )


class PathwayRecorder:
    """Records a fixed sample of slots every month.

    Args:
        slots: The sampled slots.
        months: Months to be run (grows if more are run).
        interventions: Names of the model's interventions, in order (to label participation).
    """

    def __init__(self, slots: np.ndarray, months: int, interventions: list[str] | None = None) -> None:
        self.interventions = list(interventions or [])
        self.slots = np.sort(np.asarray(slots, dtype=np.int64))
        self._index = {int(s): k for k, s in enumerate(self.slots)}
        self.data = {name: [] for name in _RECORDED}
        self.months: list[int] = []

    def record(self, model: GMModel) -> None:
        """Copy the sampled rows for the model's current month."""
        for name in _RECORDED:
            source = model.participation if name == "participation" else getattr(model.people, name)
            self.data[name].append(source[self.slots].copy())
        self.months.append(model.month)

    def pathway(self, slot: int, person_id: int) -> pd.DataFrame | None:
        """The months in which ``person_id`` occupied ``slot``, or None if the slot is not sampled."""
        k = self._index.get(int(slot))
        if k is None:
            return None
        cols = {name: np.array([row[k] for row in self.data[name]]) for name in _RECORDED}
        df = pd.DataFrame(cols, index=pd.Index(self.months, name="month"))
        df = self._labelled(df[df.pop("person_id") == person_id])
        df["age"] = df.pop("age_months") / 12
        return df

    def _labelled(self, df: pd.DataFrame) -> pd.DataFrame:
        """Codes replaced by their labels, and participation bits by strand names."""
        for name in ("state", "condition", "severity", "benefit"):
            df[name] = np.array(_LABELS[name], dtype=object)[df[name].to_numpy()]
        distinct, where = np.unique(df.pop("participation").to_numpy(), return_inverse=True)
        df["strands"] = np.array([self._strands(int(b)) for b in distinct.tolist()], dtype=object)[where]
        return df

    def _strands(self, bits: int) -> str:
        return "+".join(name for k, name in enumerate(self.interventions) if bits >> k & 1)

    def table(self) -> pd.DataFrame:
        """Every sampled slot and month, long format, labelled (for sequence plots)."""
        n = len(self.slots)
        df = pd.DataFrame({name: np.concatenate(self.data[name]) for name in _RECORDED})
        df.insert(0, "slot", np.tile(self.slots, len(self.months)))
        df.insert(0, "month", np.repeat(self.months, n))
        return self._labelled(df)
