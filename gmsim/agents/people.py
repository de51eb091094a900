"""GM's working-age residents as arrays (structure of arrays), and their synthesis at month 0.

One row ("slot") per person. The number of slots is fixed for a run: when a person leaves the
working-age population (turns 65 or dies) a 16-year-old takes their slot, so slot ``i`` lines up across
scenarios run with the same seed, and every random stream draws one number per slot per month.

Month-0 attributes come from ``data/population.yaml``: borough shares (Census 2021), a flat age
distribution, skills, health by age band, labour state by health and borough, time in state and
benefit. Each figure's source is given in that file.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

import numpy as np
from numba import njit

from .. import codes
from ..parameters import read_data
from ..streams import Streams
from .employers import Employers

MIN_AGE_MONTHS = 16 * 12
MAX_AGE_MONTHS = 65 * 12


class People(NamedTuple):
    """Structure of arrays, one row per person slot (40 bytes a person).

    Attributes:
        person_id: Unique id of the person now in the slot (a new id when a 16-year-old enters).
        age_months: Age in completed months (192 .. 779).
        sex: Index into ``codes.SEXES``.
        borough: Index into ``codes.BOROUGHS``.
        skills: Index into ``codes.SKILLS``.
        job_readiness: Fixed factor on the person's job entry, mean 1 (:mod:`gmsim.dynamics.readiness`).
        condition: Index into ``codes.CONDITIONS`` (kind of long-term health condition).
        severity: Index into ``codes.SEVERITIES``.
        state: Index into ``codes.STATES`` (labour state).
        months_in_state: Completed months in the current labour state.
        benefit: Index into ``codes.BENEFITS``.
        months_on_benefit: Completed months on an out-of-work benefit (0 if none).
        employer: Row of the person's employer, -1 if not employed.
        last_sector: Sector of the person's last employer (index into ``codes.SECTORS``), set when a tie ends;
            -1 if they have had none in the model.
        health_claim_start: Month the person's latest health-related claim began (``codes.NO_CLAIM`` if
            none; claims begun before month 0 have negative months).
        claim_from_work: 1 if that claim began straight from work (at_risk or in_work).
        labour_event: This month's labour transition (index into ``codes.TRANSITIONS``), -1 if none.
        health_event: This month's health event (index into ``codes.TRANSITIONS``), -1 if none.
        exit_event: This month's demographic exit: 0 none, 1 turned 65, 2 died, 3 moved away (slot now a newcomer's).
        exit_borough: Borough of the person who left the slot this month (valid where ``exit_event`` > 0).
        job_move: 1 if the person moved to another employer this month without leaving work (a job-to-job
            move), else 0.
    """

    person_id: np.ndarray
    age_months: np.ndarray
    sex: np.ndarray
    borough: np.ndarray
    skills: np.ndarray
    job_readiness: np.ndarray
    condition: np.ndarray
    severity: np.ndarray
    state: np.ndarray
    months_in_state: np.ndarray
    benefit: np.ndarray
    months_on_benefit: np.ndarray
    employer: np.ndarray
    last_sector: np.ndarray
    health_claim_start: np.ndarray
    claim_from_work: np.ndarray
    labour_event: np.ndarray
    health_event: np.ndarray
    exit_event: np.ndarray
    exit_borough: np.ndarray
    job_move: np.ndarray

    @property
    def n(self) -> int:
        """Number of person slots."""
        return len(self.person_id)

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays, in bytes."""
        return sum(a.nbytes for a in self)

    @classmethod
    def blank(cls, n: int) -> People:
        """``n`` slots, each field at its value for an entrant (``ENTRANT``), job readiness 1, or 0 (a placeholder)."""
        blank = {**ENTRANT, "state": codes.INACTIVE, "job_readiness": 1.0}
        return cls(*(np.full(n, blank.get(f, 0), dtype=t) for f, t in FIELD_TYPES.items()))

    def copy(self) -> People:
        """A copy of every array."""
        return People(*(a.copy() for a in self))

    def take(self, slots: np.ndarray) -> People:
        """The people of ``slots`` only (row ``k`` is slot ``slots[k]``), copied."""
        return People(*(a[slots] for a in self))

    def rows(self, slots: np.ndarray) -> Rows:
        """The people of ``slots`` only, each field gathered when first read (:class:`Rows`)."""
        return Rows(self, slots)


class Rows:
    """Some people's values, one row each, a field gathered when first read (``rows.state`` is ``people.state[slots]``).

    Args:
        people: Everyone's arrays.
        slots: The slots of the people, in the order of the rows.
    """

    def __init__(self, people: People, slots: np.ndarray) -> None:
        self._people = people
        self.slots = slots

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.slots)

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_") or name not in People._fields:
            raise AttributeError(f"'Rows' object has no attribute {name!r}")
        values = getattr(self._people, name)[self.slots]
        setattr(self, name, values)
        return values


#: The type of each field's array.
FIELD_TYPES: dict[str, type] = {
    "person_id": np.int64,
    "age_months": np.int16,
    "sex": np.int8,
    "borough": np.int8,
    "skills": np.int8,
    "job_readiness": np.float32,
    "condition": np.int8,
    "severity": np.int8,
    "state": np.int8,
    "months_in_state": np.int16,
    "benefit": np.int8,
    "months_on_benefit": np.int16,
    "employer": np.int32,
    "last_sector": np.int8,
    "health_claim_start": np.int32,
    "claim_from_work": np.int8,
    "labour_event": np.int8,
    "health_event": np.int8,
    "exit_event": np.int8,
    "exit_borough": np.int8,
    "job_move": np.int8,
}
assert tuple(FIELD_TYPES) == People._fields, "FIELD_TYPES must list People's fields in order"

#: What a newcomer taking a freed slot holds in each field that demography does not draw or set (it draws
#: borough, age, sex, skills, health, job readiness and whether someone moving in arrives in work, and sets
#: the id, the labour state and the exit fields): no time in state, no benefit, no claim, no employer, no
#: last job and no event this month.
ENTRANT: dict[str, int] = {
    "months_in_state": 0,
    "benefit": 0,
    "months_on_benefit": 0,
    "employer": -1,
    "last_sector": -1,
    "health_claim_start": codes.NO_CLAIM,
    "claim_from_work": 0,
    "labour_event": -1,
    "health_event": -1,
    "job_move": 0,
}

#: Fields only demography writes (health, labour, benefits and employer ties leave them as they are).
DEMOGRAPHIC = ("person_id", "age_months", "sex", "borough", "skills", "job_readiness", "exit_event", "exit_borough")


def written_out(name: str, params: str, lines: list[str], module: str, path: str):
    """Compile ``def name(params)`` with body ``lines``, code written out from the people definition.

    Kernels that name every field of ``People`` (or of ``ENTRANT``) are written out from those fields here,
    so that a new field needs no change to them: a record's or an array's field set by name compiles to
    plain stores, where a loop over the fields is several times slower in numba (and one over ``getattr``
    leaks references). The function is cached like every kernel, under ``module`` and the file ``path``;
    its name carries a hash of its code, so a cached version is never used for other fields.
    """
    source = [f"def {name}({params}):", *(f"    {line}" for line in lines)]
    name_hashed = f"{name}_{hashlib.sha256(chr(10).join(source).encode()).hexdigest()[:12]}"
    source[0] = f"def {name_hashed}({params}):"
    namespace: dict = {"__name__": module}
    exec(compile("\n".join(source), path, "exec"), namespace)  # noqa: S102 - code made from the field names
    return njit(cache=True)(namespace[name_hashed])


def _entrants_kernel():
    lines = ["v = values[0]", "exit_event = p.exit_event"]
    lines += [f"{f} = p.{f}" for f in ENTRANT]
    lines += ["for i in range(lo, hi):", "    if exit_event[i] > 0:"]
    lines += [f"        {f}[i] = v.{f}" for f in ENTRANT]
    return written_out("set_entrants", "p, values, lo, hi", lines, __name__, __file__)


#: ``set_entrant_rows(p, values, lo, hi)``: :func:`set_entrants` for rows ``lo .. hi - 1`` (``values``:
#: :func:`entrant_record`), for compiled code.
set_entrant_rows = _entrants_kernel()


def set_entrants(people: People) -> None:
    """Give this month's entrants (``exit_event`` > 0) the values of ``ENTRANT`` in the fields they do not draw."""
    set_entrant_rows(people, ENTRANT_RECORD, 0, people.exit_event.shape[0])


def entrant_record() -> np.ndarray:
    """``ENTRANT`` as an array of one record, fields named and typed as in ``People`` (demography copies it)."""
    names = list(ENTRANT)
    record = np.zeros(1, dtype=[(f, FIELD_TYPES[f]) for f in names])
    for f in names:
        record[f] = ENTRANT[f]
    return record


#: :data:`ENTRANT` as a record array (:func:`entrant_record`), as :func:`set_entrant_rows` takes it.
ENTRANT_RECORD = entrant_record()


def _choice(rng: np.random.Generator, probs: np.ndarray, size: int) -> np.ndarray:
    return rng.choice(len(probs), size=size, p=np.asarray(probs) / np.sum(probs)).astype(np.int8)


def _rows_choice(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (people, categories) probability matrix."""
    return _categories(np.ascontiguousarray(probs, dtype=np.float64), rng.random(len(probs)))


@njit(cache=True)
def _categories(probs, u):
    """Row ``i``'s category: how many of its cumulative shares (divided by their total) are at most ``u[i]``."""
    n, k = probs.shape
    out = np.empty(n, dtype=np.int8)
    cum = np.empty(k)
    for i in range(n):
        total = 0.0
        for j in range(k):
            total += probs[i, j]
            cum[j] = total
        count = 0
        for j in range(k):
            count += u[i] >= cum[j] / total
        out[i] = count
    return out


def borough_shares() -> np.ndarray:
    """Share of working-age residents in each borough (Census 2021), in ``codes.BOROUGHS`` order."""
    counts = read_data("population.yaml")["boroughs"]["value"]
    c = np.array([counts[b] for b in codes.BOROUGHS], dtype=float)
    return c / c.sum()


#: Single years of age of the working-age population.
AGE_YEARS = np.arange(MIN_AGE_MONTHS // 12, MAX_AGE_MONTHS // 12)


def age_structure() -> np.ndarray:
    """People per single year of age 16-64 in each borough (boroughs x 49), from the Census bands.

    Within each band of ``population.yaml``'s ``age``, people per year of age are interpolated linearly
    between the bands' midpoints (flat beyond the first and last) and rescaled to the band's count.
    """
    raw = read_data("population.yaml")["age"]["value"]
    out = np.zeros((len(codes.BOROUGHS), len(AGE_YEARS)))
    for k, b in enumerate(codes.BOROUGHS):
        edges = [tuple(int(x) for x in band.split("-")) for band in raw[b]]
        counts = np.array(list(raw[b].values()), dtype=float)
        mids = np.array([(lo + hi + 1) / 2 for lo, hi in edges])
        density = counts / np.array([hi - lo + 1 for lo, hi in edges])
        per_year = np.interp(AGE_YEARS + 0.5, mids, density)
        for (lo, hi), count in zip(edges, counts, strict=True):
            band = (AGE_YEARS >= lo) & (AGE_YEARS <= hi)
            per_year[band] *= count / per_year[band].sum()
        out[k] = per_year
    return out


def migration() -> tuple[np.ndarray, np.ndarray]:
    """The net migration by borough and age that keeps :func:`age_structure` steady.

    With ``n(a)`` people of age ``a`` in a borough, a steady structure needs ``n(a) - n(a - 1)`` more people
    of age ``a`` a year than reach it from ``a - 1``: where that is positive, people move in at age ``a``;
    where negative, people of age ``a - 1`` move away at the rate that leaves ``n(a)`` of them a year on.

    Returns:
        ``(hazard, arrivals)``: the monthly hazard of moving away at each age (boroughs x 49), and the
        yearly arrivals at each age (boroughs x 49): 16-year-olds in the first column, people moving in
        in the others. Arrivals balance the departures and the exits at 65 in every borough.
    """
    n = age_structure()
    change = np.diff(n, axis=1)  # n(a) - n(a - 1), a = 17..64
    hazard = np.zeros_like(n)
    hazard[:, :-1] = -np.log1p(-np.maximum(0.0, -change) / n[:, :-1]) / 12
    arrivals = np.zeros_like(n)
    arrivals[:, 0] = n[:, 0]
    arrivals[:, 1:] = np.maximum(0.0, change)
    return hazard, arrivals


def entrant_distributions() -> dict[str, np.ndarray]:
    """What people entering a freed slot draw from: who arrives, and their sex, skills, health and work.

    ``arrivals`` are yearly arrivals by borough and age (:func:`migration`); ``severity`` is by age band
    (the month-0 health shares); ``employed`` is the chance that someone moving in (not a 16-year-old)
    arrives in work, by work-limiting health (no, yes), from the month-0 state shares.
    """
    pop = read_data("population.yaml")
    ctype = pop["condition_type"]["value"]
    init = pop["initial_state"]["value"]
    return {
        "arrivals": migration()[1],
        "female": np.array(pop["sex_female_share"]["value"]),
        "skills": np.array([pop["skills"]["value"][s] for s in codes.SKILLS]),
        "severity": np.array([[pop["health"]["value"][b][s] for s in codes.SEVERITIES] for b in codes.AGE_BANDS]),
        "condition": np.array([ctype[c] for c in codes.CONDITIONS[1:]]),
        "employed": np.array([init["other"]["employed"], init["work_limiting"]["employed"]]),
    }


def synthesise_people(n: int, streams: Streams, employers: Employers, target_employment: np.ndarray) -> People:
    """Create the month-0 population.

    Args:
        n: Number of person slots (1,781,000 x scale).
        streams: The run's random streams (stream ``"synthesis.people"``).
        employers: Employers to tie the employed to.
        target_employment: Target employment rate per borough; the month-0 state shares of each
            borough are tilted towards it.

    Returns:
        The people arrays.
    """
    pop = read_data("population.yaml")
    rng = streams.generator("synthesis.people")

    borough = _choice(rng, borough_shares(), n)
    ages = age_structure()
    cumulative = np.cumsum(ages / ages.sum(axis=1, keepdims=True), axis=1)
    u, year = rng.random(n), np.zeros(n, dtype=np.int64)
    for k in range(len(codes.BOROUGHS)):
        mine = borough == k
        year[mine] = np.searchsorted(cumulative[k], u[mine], side="right")
    year = np.minimum(year, len(AGE_YEARS) - 1)
    age_months = (AGE_YEARS[year] * 12 + rng.integers(0, 12, size=n)).astype(np.int16)
    sex = (rng.random(n) >= pop["sex_female_share"]["value"]).astype(np.int8)
    skills = _choice(rng, np.array([pop["skills"]["value"][s] for s in codes.SKILLS]), n)

    age_band = age_band_of(age_months)
    health_by_band = np.array([[pop["health"]["value"][b][s] for s in codes.SEVERITIES] for b in codes.AGE_BANDS])
    severity = _rows_choice(rng, health_by_band[age_band])
    ctype = pop["condition_type"]["value"]
    condition = np.where(
        severity > 0, 1 + _choice(rng, np.array([ctype[c] for c in codes.CONDITIONS[1:]]), n), 0
    ).astype(np.int8)

    # Labour state: shares by work-limiting health, tilted per borough so that employment matches
    # the borough's target and the other states share what is left in their usual proportions.
    init = pop["initial_state"]["value"]
    groups = np.array(
        [[g["employed"], g["out_of_work"], g["inactive_other"]] for g in (init["other"], init["work_limiting"])]
    )
    work_limiting = (severity >= codes.MODERATE).astype(np.int64)
    probs = groups[work_limiting].copy()
    gm_rate = float(np.sum(groups[work_limiting, 0]) / n)
    tilt = np.clip(target_employment[borough] / gm_rate, 0.5, 1.5)
    probs[:, 0] *= tilt
    probs[:, 1:] *= ((1 - probs[:, 0]) / probs[:, 1:].sum(axis=1))[:, None]
    coarse = _rows_choice(rng, probs)  # 0 employed, 1 out of work, 2 inactive
    at_risk_share = np.array([pop["initial_at_risk"]["value"][s] for s in codes.SEVERITIES])
    state = np.choose(coarse, [codes.IN_WORK, codes.OUT_OF_WORK, codes.INACTIVE]).astype(np.int8)
    state[(coarse == 0) & (rng.random(n) < at_risk_share[severity])] = codes.AT_RISK

    # Time in state, never longer than the time since the 16th birthday.
    adult_months = (age_months - MIN_AGE_MONTHS).astype(np.int64)
    months = rng.integers(0, 121, size=n)
    oow = state == codes.OUT_OF_WORK
    qualifies = np.array(codes.BENEFIT_FOR_SEVERITY, dtype=np.int8)[severity]
    benefit = np.where(oow, qualifies, 0).astype(np.int8)
    # Inactive people with a work-limiting condition hold the health-related benefit too; who of them (and of
    # those looking for work) actually claims is settled once their ids are final (benefits.settle_claims).
    inactive_claim = (state == codes.INACTIVE) & (qualifies >= codes.LIMITED_CAPABILITY)
    benefit[inactive_claim] = qualifies[inactive_claim]
    health_claim = benefit >= codes.LIMITED_CAPABILITY
    bands = pop["initial_duration_health"]["value"]
    edges = [tuple(int(x) for x in k.split("-")) for k in bands]
    band = _choice(rng, np.array(list(bands.values())), n)
    lo = np.array([e[0] for e in edges])[band]
    hi = np.array([e[1] for e in edges])[band]
    months = np.where(health_claim, rng.integers(lo, hi + 1), months)
    jobseeker = oow & ~health_claim
    mean_js = pop["initial_duration_other_mean"]["value"]
    months = np.where(jobseeker, rng.geometric(1 / (mean_js + 1), size=n) - 1, months)
    months = np.minimum(months, adult_months)
    months_in_state = months.astype(np.int16)
    months_on_benefit = np.where(benefit > 0, months_in_state, 0).astype(np.int16)

    employed = (state == codes.IN_WORK) | (state == codes.AT_RISK)
    employer = np.full(n, -1, dtype=np.int32)
    u, rows = rng.random(int(employed.sum())), np.flatnonzero(employed)
    # people in work aged 25 or over hold a tie made before 25 with the chance geography.sector_mix_by_age gives
    carried = read_data("sectors.yaml")["young_hires"]["carried_share"]["value"]
    made_young = rng.random(len(rows)) < carried
    group = ((age_months[rows] >= codes.YOUNG_HIRE_MONTHS) & ~made_young).astype(np.int64)
    for g, tables in enumerate(employers.cumulative):  # each from the hiring table of their age group and borough
        for b, table in enumerate(tables):
            mine = (borough[rows] == b) & (group == g)
            employer[rows[mine]] = np.searchsorted(table, u[mine], side="right")
    np.minimum(employer, employers.n - 1, out=employer)

    return People(
        person_id=np.arange(n, dtype=np.int64),
        age_months=age_months,
        sex=sex,
        borough=borough,
        skills=skills,
        job_readiness=np.ones(n, dtype=np.float32),  # set once the ids are final (readiness.assign_readiness)
        condition=condition,
        severity=severity.astype(np.int8),
        state=state,
        months_in_state=months_in_state,
        benefit=benefit,
        months_on_benefit=months_on_benefit,
        employer=employer,
        last_sector=np.full(n, -1, dtype=np.int8),  # last jobs are those left in the burn-in's months
        health_claim_start=np.where(health_claim, -months_in_state.astype(np.int32), codes.NO_CLAIM).astype(np.int32),
        claim_from_work=np.zeros(n, dtype=np.int8),
        labour_event=np.full(n, -1, dtype=np.int8),
        health_event=np.full(n, -1, dtype=np.int8),
        exit_event=np.zeros(n, dtype=np.int8),
        exit_borough=np.zeros(n, dtype=np.int8),
        job_move=np.zeros(n, dtype=np.int8),
    )


def age_band_of(age_months: np.ndarray) -> np.ndarray:
    """Index into ``codes.AGE_BANDS`` for ages in months."""
    lower = np.array(codes.AGE_BAND_LOWER_YEARS[1:]) * 12
    return np.searchsorted(lower, age_months, side="right").astype(np.int8)
