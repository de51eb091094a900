"""Hazard multipliers: the one way interventions change people (docs/model.md section 7.4, Effects)."""

from __future__ import annotations

import numpy as np

from .. import codes
from ..dynamics.hazard import Multipliers
from . import kernels


class HazardMultipliers:
    """Per-person hazard multipliers for the transitions interventions claim, for the people given one.

    Each intervention multiplies its participants' hazards of the transitions it claims, once a month
    (docs/model.md section 7.4); the health and labour kernels read the products (:meth:`for_kernels`).

    Only claimed transitions get a column (``rows[t]`` is the column of transition ``t``, or -1), and only
    the people given a multiplier this month get a row of ``values`` (float32, all 1 but what was
    multiplied): ``index[slot]`` is the row of a slot's multipliers, or -1 where all are 1. A person's
    multipliers share a cache line, and a run holds one row per participant rather than one per person.
    ``largest`` is the largest multiplier (at least 1), which the kernels' thinning bound allows for.
    Each month the rows given out the month before are released first, so the cost is proportional to
    the number of participants, not the population.

    Args:
        transitions: Names of the claimed transitions.
        n: Number of person slots.
    """

    def __init__(self, transitions: list[str], n: int) -> None:
        names = sorted(set(transitions), key=codes.TRANSITIONS.index)
        self.rows = np.full(len(codes.TRANSITIONS), -1, dtype=np.int64)
        for k, t in enumerate(names):
            self.rows[codes.T[t]] = k
        self.index = np.full(n if names else 0, -1, dtype=np.int32)
        self.values = np.ones((0, len(names)), dtype=np.float32)
        self.used = 0  # rows of ``values`` given out this month
        self._owner = np.zeros(0, dtype=np.int64)  # the slot of each row
        self._column_largest = np.ones(len(names))  # at least every value written in each column this month
        self._touched: list[np.ndarray] = []
        self._touched_now: np.ndarray | None = None  # touched_slots(), until more are written

    @property
    def largest(self) -> float:
        """At least every multiplier this month, and at least 1."""
        return float(self._column_largest.max()) if len(self._column_largest) else 1.0

    @property
    def touched(self) -> np.ndarray:
        """Whether each slot has a multiplier written this month (a mask over slots)."""
        return self.index >= 0

    def for_kernels(self, slots: np.ndarray | None = None) -> Multipliers:
        """This month's multipliers as the health and labour kernels read them.

        With ``slots``, for arrays holding just the people of those slots (row ``k`` is slot ``slots[k]``).
        """
        index = self.index if slots is None or not len(self.index) else self.index[slots]
        return Multipliers(self.values, self.rows, index, self.largest)

    def dense(self) -> np.ndarray:
        """Every slot's multipliers (slots x claimed transitions, 1 where none was written), for inspection."""
        out = np.ones((len(self.index), self.values.shape[1]), dtype=np.float32)
        out[self._owner[: self.used]] = self.values[: self.used]
        return out

    def reset(self) -> None:
        """Release last month's rows: everyone's multipliers are 1 again."""
        kernels.set_at(self.index, self._owner[: self.used], np.int32(-1))
        self.values[: self.used] = 1.0
        self.used = 0
        self._touched = []
        self._touched_now: np.ndarray | None = None
        self._column_largest[:] = 1.0

    def largest_of(self, first: int, end: int) -> float:
        """At least every multiplier of transitions ``first .. end - 1`` this month, and at least 1."""
        cols = self.rows[first:end]
        cols = cols[cols >= 0]
        return float(self._column_largest[cols].max()) if len(cols) else 1.0

    def touched_slots(self) -> np.ndarray:
        """Slots with a multiplier written this month, ascending (worked out once until more are written)."""
        if self._touched_now is None:
            self._touched_now = self._touched_sorted()
        return self._touched_now

    def _touched_sorted(self) -> np.ndarray:
        if not self._touched:
            return np.zeros(0, dtype=np.int64)
        if all(map(kernels.ascending, self._touched)):
            out = self._touched[0]
            for slots in self._touched[1:]:  # a few lists: merged rather than sorted
                out = kernels.merge(out, slots)
            return out
        return np.sort(self._owner[: self.used])

    def multiply(self, transition: str, slots: np.ndarray, ratio: float | np.ndarray) -> None:
        """Multiply the hazard of ``transition`` for ``slots`` by ``ratio`` (one, or one per slot)."""
        r = self._column(transition)
        slots = self._slots(slots)
        if len(slots):
            ratio = np.asarray(ratio, dtype=np.float32).reshape(-1)
            if len(ratio) != 1 and len(ratio) != len(slots):
                raise ValueError(f"{len(ratio)} ratios for {len(slots)} slots")
            self._make_room(len(slots))
            self.used, top = kernels.multiply_at(self.values, self.index, self._owner, self.used, int(r), slots, ratio)
            self._column_largest[r] = max(self._column_largest[r], top)
            self._mark(slots)

    def multiply_each(self, ratios: dict[str, float], slots: np.ndarray) -> None:
        """Multiply the hazard of each transition in ``ratios`` for ``slots`` by its ratio; ratios of 1 are skipped.

        The same as :meth:`multiply` for each in turn, in one pass over the slots.
        """
        ratios = {t: r for t, r in ratios.items() if r != 1.0}
        slots = self._slots(slots)
        if not ratios or not len(slots):
            return
        cols = np.array([self._column(t) for t in ratios], dtype=np.int64)
        self._make_room(len(slots))
        top = np.ones(len(cols))
        self.used = kernels.multiply_cols(
            self.values,
            self.index,
            self._owner,
            self.used,
            cols,
            slots,
            np.array(list(ratios.values()), dtype=np.float32),
            top,
        )
        self._column_largest[cols] = np.maximum(self._column_largest[cols], top)
        self._mark(slots)

    def _column(self, transition: str) -> int:
        r = int(self.rows[codes.T[transition]])
        if r < 0:
            raise KeyError(f"transition {transition!r} was not claimed by any intervention")
        return r

    @staticmethod
    def _slots(slots: np.ndarray) -> np.ndarray:
        slots = np.asarray(slots)
        return np.flatnonzero(slots) if slots.dtype == bool else np.asarray(slots, dtype=np.int64)

    def _make_room(self, extra: int) -> None:
        """Grow ``values`` so that ``extra`` more rows can be given out."""
        if self.used + extra > len(self.values):
            size = max(self.used + extra, 2 * len(self.values), 1024)
            self.values = np.concatenate(
                [self.values[: self.used], np.ones((size - self.used, self.values.shape[1]), dtype=np.float32)]
            )
            self._owner = np.concatenate([self._owner[: self.used], np.zeros(size - self.used, dtype=np.int64)])

    def _mark(self, slots: np.ndarray) -> None:
        self._touched_now = None
        if not any(slots is done for done in self._touched):  # the same list for several transitions
            self._touched.append(slots)
