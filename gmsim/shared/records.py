"""People held as records: a person's values side by side (an array of structures), for shared runs.

A record keeps a person's values in one cache line or two, so copying a run's scattered people out and
back costs a few times less than from every field's array. The record type, and the compiled pass that
writes people arrays into records (``agents.people.written_out``), are made from the people definition
(``People``), so a new person field needs no change here.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from ..agents.people import People, written_out
from .kernels import take_rows


def record_dtype(people: People) -> np.dtype:
    """One record per person: the fields largest first (so each is aligned), padded to 8-byte words."""
    order = sorted(range(len(people)), key=lambda f: -people[f].dtype.itemsize)
    offsets, at = [0] * len(people), 0
    for f in order:
        offsets[f] = at
        at += people[f].dtype.itemsize
    return np.dtype(
        {
            "names": list(People._fields),
            "formats": [a.dtype for a in people],
            "offsets": offsets,
            "itemsize": -(-at // 8) * 8,
        }
    )


@cache
def _pack_kernel():
    """The compiled pass writing people arrays into records, one record at a time, field by field."""
    fields = People._fields
    lines = [f"{f} = p.{f}" for f in fields]
    lines += ["for i in range(records.shape[0]):", "    r = records[i]"]
    lines += [f"    r.{f} = {f}[i]" for f in fields]
    return written_out("pack", "records, p", lines, __name__, __file__)


def pack(records: np.ndarray, people: People) -> None:
    """Write ``people``'s values into ``records`` (:func:`as_records`'s type), one pass over everyone."""
    _pack_kernel()(records, people)


def as_records(people: People) -> np.ndarray:
    """``people``'s values as a record array (padding zero, so that equal people have equal bytes)."""
    records = np.zeros(len(people[0]), dtype=record_dtype(people))
    pack(records, people)
    return records


def take(records: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``records[rows]``, several times faster than numpy's indexing of records."""
    return take_rows(words(records), rows).view(records.dtype).reshape(len(rows))


def fields(records: np.ndarray) -> People:
    """People arrays that are views of ``records``' fields (writing them writes the records)."""
    return People(*(records[f] for f in People._fields))


def words(records: np.ndarray) -> np.ndarray:
    """``records`` as rows of 8-byte words (a view)."""
    return records.view(np.uint64).reshape(len(records), records.dtype.itemsize // 8)
