"""Model parameters: loaded from ``gmsim/data/``, overridden by scenarios, turned into kernel tables.

Every figure lives in ``data/parameters.yaml`` with its unit, range and source; the values fitted by
``python -m gmsim.calibrate`` live in ``data/calibrated.yaml`` and take precedence. A parameter has a
dotted name:

* ``<transition>.base`` — a transition's base monthly hazard;
* ``<transition>.<dimension>.<level>`` — a hazard ratio (every transition has every dimension; levels not
  listed in the data file are 1.0, "no effect");
* ``demography.mortality.<age band>``, ``demography.mortality_complex_ratio``,
  ``benefits.reassessment_rate``, ``benefits.first_assessment_rate``, ``benefits.health_claim_take_up``,
  ``labour.job_readiness_sd``, ``labour_market.<name>`` (the demand side: :mod:`gmsim.market`).
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache, cached_property, lru_cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from . import codes

DATA_PACKAGE = "gmsim.data"

#: The parameters that are one figure each, not a transition's: (group, name, kind).
SCALAR_PARAMETERS = (
    ("demography", "mortality_complex_ratio", "ratio"),
    ("benefits", "reassessment_rate", "rate"),
    ("benefits", "first_assessment_rate", "rate"),
    ("benefits", "health_claim_take_up", "probability"),
    ("labour", "job_readiness_sd", "spread"),
    ("labour_market", "tightness", "ratio"),
    ("labour_market", "job_loss_elasticity", "ratio"),
    ("labour_market", "staffing_half_life", "count"),
    ("labour_market", "vacancy_half_life", "count"),
    ("labour_market", "vacancy_withdrawal", "probability"),
    ("labour_market", "job_to_job_rate", "rate"),
    ("labour_market", "sector_concentration", "ratio"),
    ("labour_market", "sector_attachment", "probability"),
    ("labour_market", "reference_vacancies", "count"),
)


def read_data(filename: str) -> Any:
    """Parse one YAML file shipped in ``gmsim/data/`` (a fresh copy each call: callers may change it)."""
    return copy.deepcopy(_parse(resources.files(DATA_PACKAGE).joinpath(filename).read_text(encoding="utf-8")))


#: libyaml's safe loader where PyYAML has it (the same documents, parsed several times faster), else PyYAML's.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=64)
def _parse(text: str) -> Any:
    # Keyed on the text, so an edited file is parsed afresh; parsing is most of the cost of building a model.
    return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader


@dataclass(frozen=True)
class Parameter:
    """One model figure with its provenance.

    Attributes:
        name: Dotted name, e.g. ``out_of_work_to_in_work.base``.
        value: Current value.
        unit: Unit, e.g. ``per month`` or ``hazard ratio``.
        low: Lower end of the plausible range, or None.
        high: Upper end of the plausible range, or None.
        source: Evidence id (see ``data/sources.yaml``), ``assumption`` or ``default``.
        description: What it stands for.
        calibrated: Whether ``gmsim.calibrate`` fits it.
        kind: ``rate`` (>= 0 per month), ``ratio`` (> 0 multiplier, 0 allowed for structural zeros),
            ``probability`` (0..1) or ``spread`` (a standard deviation, 0..3).
    """

    name: str
    value: float
    unit: str
    low: float | None
    high: float | None
    source: str
    description: str
    calibrated: bool = False
    kind: str = "ratio"


class ParameterError(ValueError):
    """Raised for unknown parameter names or values outside what a parameter can take.

    Attributes:
        problems: One ``(name, message)`` pair per problem.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{name}: {msg}" for name, msg in problems))


def _flatten_defaults() -> dict[str, Parameter]:
    raw = read_data("parameters.yaml")
    out: dict[str, Parameter] = {}
    for tname in codes.TRANSITIONS:
        spec = raw["transitions"][tname]
        base = spec["base"]
        lo, hi = base.get("range", (None, None))
        out[f"{tname}.base"] = Parameter(
            f"{tname}.base",
            float(base["value"]),
            base["unit"],
            lo,
            hi,
            base["source"],
            spec["description"].strip(),
            bool(base.get("calibrated", False)),
            "rate",
        )
        factors = spec.get("factors") or {}
        unknown = set(factors) - set(codes.DIMENSIONS)
        if unknown:
            raise KeyError(f"parameters.yaml: {tname}: unknown factor dimension(s) {sorted(unknown)}")
        for dim, levels in codes.DIMENSIONS.items():
            table = factors.get(dim)
            cal = table.get("calibrated", []) if table else []
            for level in levels:
                name = f"{tname}.{dim}.{level}"
                if table and level in table["value"]:
                    v = float(table["value"][level])
                    r = table.get("range", (None, None))
                    out[name] = Parameter(
                        name,
                        v,
                        table["unit"],
                        None if r[0] is None else v * r[0],
                        None if r[1] is None else v * r[1],
                        table["source"],
                        f"{tname}: hazard ratio for {dim} = {level}",
                        cal == "all" or level in cal,
                        "ratio",
                    )
                else:
                    out[name] = Parameter(
                        name,
                        1.0,
                        "hazard ratio",
                        None,
                        None,
                        "default",
                        f"{tname}: hazard ratio for {dim} = {level} (no effect by default)",
                    )
            if table:
                missing = set(table["value"]) - set(levels)
                if missing:
                    raise KeyError(f"parameters.yaml: {tname}.{dim}: unknown level(s) {sorted(missing)}")
    mort = raw["demography"]["mortality"]
    for band in codes.AGE_BANDS:
        v = float(mort["value"][band])
        out[f"demography.mortality.{band}"] = Parameter(
            f"demography.mortality.{band}",
            v,
            mort["unit"],
            v * mort["range"][0],
            v * mort["range"][1],
            mort["source"],
            mort["description"].strip(),
            False,
            "probability",
        )
    for group, key, kind in SCALAR_PARAMETERS:
        spec = raw[group][key]
        lo, hi = spec.get("range", (None, None))
        out[f"{group}.{key}"] = Parameter(
            f"{group}.{key}",
            float(spec["value"]),
            spec["unit"],
            lo,
            hi,
            spec["source"],
            spec["description"].strip(),
            bool(spec.get("calibrated", False)),
            kind,
        )
    return out


@cache
def default_parameters() -> dict[str, Parameter]:
    """Every parameter at its value in ``parameters.yaml`` (before calibration)."""
    return _flatten_defaults()


@cache
def calibrated_values() -> dict[str, float]:
    """The values written by ``python -m gmsim.calibrate`` (empty if it has not been run)."""
    try:
        raw = read_data("calibrated.yaml")
    except FileNotFoundError:
        return {}
    return {k: float(v) for k, v in (raw or {}).get("values", {}).items()}


@cache
def posterior_sets() -> tuple[dict[str, float], ...]:
    """The posterior sample of baseline parameter sets (``data/posterior.csv``, from ``python -m gmsim.calibrate``).

    Each set gives a value to every calibrated parameter; ``compare`` and ``sweep`` draw one per replicate
    (:func:`gmsim.ensemble.baseline_draw`). Empty if the file is missing.
    """
    try:
        text = resources.files(DATA_PACKAGE).joinpath("posterior.csv").read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    header, *rows = text.strip().splitlines()
    names = header.split(",")[1:]
    return tuple({n: float(v) for n, v in zip(names, row.split(",")[1:], strict=True)} for row in rows)


def check_value(p: Parameter, value: Any) -> str | None:
    """Why ``value`` cannot be given to parameter ``p``, or None if it can."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"expected a number, got {value!r}"
    v = float(value)
    if not np.isfinite(v):
        return f"expected a finite number, got {value!r}"
    if v < 0:
        return f"expected a value >= 0 ({p.unit}), got {value!r}"
    if p.kind == "probability" and v > 1:
        return f"expected a probability between 0 and 1, got {value!r}"
    if p.kind == "rate" and v > 5:
        return f"expected a monthly hazard below 5 ({p.unit}), got {value!r}"
    if p.kind == "ratio" and v > 1000:
        return f"expected a hazard ratio below 1000, got {value!r}"
    if p.kind == "spread" and v > 3:
        return f"expected a standard deviation from 0 to 3 ({p.unit}), got {value!r}"
    return None


#: Unknown names that get a "did you mean" suggestion, so that a file of many unknown names loads quickly.
MAX_SUGGESTIONS = 20


def suggest(name: str, known: Iterator[str] | list[str]) -> str:
    """A ' (did you mean X?)' hint for a misspelt name, or ''."""
    match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


class ParameterSet(Mapping[str, Parameter]):
    """The full, validated set of parameters for one model.

    Args:
        overrides: ``{dotted name: value}`` replacing defaults (and calibrated values).
        calibrated: Start from the fitted values in ``calibrated.yaml`` (True) or from the raw values
            in ``parameters.yaml`` (False, used by the calibration itself).

    Attributes:
        calibrated: Whether it starts from the fitted values.

    Raises:
        ParameterError: For unknown names (with the nearest valid one) or invalid values; every
            problem is listed.
    """

    def __init__(self, overrides: Mapping[str, Any] | None = None, calibrated: bool = True) -> None:
        params = dict(default_parameters())
        if calibrated:
            for name, v in calibrated_values().items():
                if name in params:
                    params[name] = replace(params[name], value=v)
        problems = []
        for name, value in (overrides or {}).items():
            if name not in params:
                # A suggestion compares with every parameter name: only the first few unknown names get one.
                hint = suggest(name, params) if len(problems) < MAX_SUGGESTIONS else ""
                problems.append((name, "unknown parameter" + hint))
                continue
            why = check_value(params[name], value)
            if why:
                problems.append((name, why))
            else:
                params[name] = replace(params[name], value=float(value))
        if problems:
            raise ParameterError(problems)
        self._params = params
        self.calibrated = bool(calibrated)

    def __getitem__(self, name: str) -> Parameter:
        return self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def value(self, name: str) -> float:
        """The value of one parameter."""
        return self._params[name].value

    def as_dict(self) -> dict[str, float]:
        """``{name: value}`` for every parameter."""
        return {k: p.value for k, p in self._params.items()}

    def changed(self) -> dict[str, float]:
        """Parameters whose value differs from ``parameters.yaml`` (calibrated or overridden)."""
        d = default_parameters()
        return {k: p.value for k, p in self._params.items() if p.value != d[k].value}

    def hazard_tables(self) -> HazardTables:
        """Pack the transition parameters into the arrays the compiled kernels read."""
        n_t, n_d = len(codes.TRANSITIONS), len(codes.DIMENSIONS)
        base = np.array([self.value(f"{t}.base") for t in codes.TRANSITIONS])
        factor = np.ones((n_d, n_t, codes.MAX_LEVELS))
        for ti, t in enumerate(codes.TRANSITIONS):
            for di, (dim, levels) in enumerate(codes.DIMENSIONS.items()):
                for li, level in enumerate(levels):
                    factor[di, ti, li] = self.value(f"{t}.{dim}.{level}")
        # The kernels look ratios up per group of dimensions: one product table per group, indexed by
        # the person's combined level in that group (see gmsim.dynamics.hazard.GROUPS).
        group_tables = []
        for dims in codes.HAZARD_GROUPS:
            table = np.ones((n_t,) + tuple(len(codes.DIMENSIONS[d]) for d in dims))
            for axis, dim in enumerate(dims):
                shape = [1] * len(dims)
                shape[axis] = len(codes.DIMENSIONS[dim])
                levels = factor[codes.DIM_INDEX[dim], :, : shape[axis]]
                table = table * levels.reshape((n_t, *shape))
            group_tables.append(np.ascontiguousarray(table.reshape(n_t, -1).T))
        mortality = np.array([self.value(f"demography.mortality.{b}") for b in codes.AGE_BANDS])
        return HazardTables(
            base=base,
            group_a=group_tables[0],
            group_b=group_tables[1],
            group_c=group_tables[2],
            monthly_mortality=1.0 - (1.0 - mortality) ** (1 / 12),
            mortality_complex_ratio=self.value("demography.mortality_complex_ratio"),
            reassessment_rate=self.value("benefits.reassessment_rate"),
            first_assessment_rate=self.value("benefits.first_assessment_rate"),
            health_claim_take_up=self.value("benefits.health_claim_take_up"),
            job_readiness_sd=self.value("labour.job_readiness_sd"),
            job_to_job_rate=self.value("labour_market.job_to_job_rate"),
            sector_attachment=self.value("labour_market.sector_attachment"),
        )


@dataclass(frozen=True)
class HazardTables:
    """The numeric form of a :class:`ParameterSet`, as the kernels take it.

    Attributes:
        base: Base monthly hazard per transition, shape (transitions,).
        group_a: Products of the ratios of the dimensions in ``codes.HAZARD_GROUPS[0]``, shape
            (combined level, transitions); likewise ``group_b`` and ``group_c``.
        monthly_mortality: Monthly probability of death per age band.
        mortality_complex_ratio: Mortality ratio for complex and enduring conditions.
        reassessment_rate: Monthly hazard of a benefit reassessment.
        first_assessment_rate: Monthly hazard of an assessment for a claimant whose health does not
            qualify them for their health-related benefit.
        health_claim_take_up: Share of people qualifying for a health-related benefit who claim it.
        job_readiness_sd: Log-scale standard deviation of people's job readiness (a factor on job entry).
        job_to_job_rate: Monthly hazard of a move to another employer for someone in work, in the reference
            economy (:meth:`job_to_job_chance`).
        sector_attachment: Share of a job seeker's search aimed at the sector of their last job: the chance
            that a hire who has had a job joins a firm of that sector (:mod:`gmsim.dynamics.employers`).
    """

    base: np.ndarray
    group_a: np.ndarray
    group_b: np.ndarray
    group_c: np.ndarray
    monthly_mortality: np.ndarray
    mortality_complex_ratio: float
    reassessment_rate: float
    first_assessment_rate: float
    health_claim_take_up: float
    job_readiness_sd: float
    job_to_job_rate: float
    sector_attachment: float

    def job_to_job_chance(self, demand: float = 1.0) -> float:
        """The chance in a month that someone in work moves to another employer, at the economy's ``demand``."""
        return float(-np.expm1(-self.job_to_job_rate * demand))

    @property
    def kernel(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(base, group_a, group_b, group_c)``, as :func:`gmsim.dynamics.hazard.hazard` takes them."""
        return (self.base, self.group_a, self.group_b, self.group_c)

    @cached_property
    def health_bound(self) -> np.ndarray:
        """The health process's thinning bound by level of the first hazard group (worked out once)."""
        from .dynamics.health import health_bounds

        return health_bounds(self.kernel)

    @cached_property
    def labour_split_bound(self) -> np.ndarray:
        """The labour bound without and of job entry, by level (worked out once; ``split_labour_bounds``)."""
        from .dynamics.labour import split_labour_bounds

        return split_labour_bounds(self.kernel)


def parameter_table() -> list[str]:
    """The rows of docs/model.md section 8.1: every entry of ``parameters.yaml`` with its fitted values.

    One row per base rate, factor table or demography and benefits figure: value(s), unit, range (a
    table's as multiples of each ratio), source (evidence id and title, or the assumption's first
    sentence), which values are fitted and the fitted values (``calibrated.yaml``).
    """
    raw = read_data("parameters.yaml")
    titles = {e["id"]: str(e.get("source_title") or e.get("definition") or "") for e in read_data("sources.yaml")}
    fitted = calibrated_values()

    def num(v: float) -> str:
        return f"{v:.4g}"

    def source(spec: dict) -> str:
        note = " ".join(str(spec.get("note", "")).split())
        if spec["source"] == "assumption":
            first = note.split(". ")[0].rstrip(".")
            return f"assumption: {first[:160]}{'…' if len(first) > 160 else ''}."
        partly = "; partly assumed (see note)" if "assumption" in note else ""
        return f"`{spec['source']}` ({titles.get(spec['source'], '')}){partly}"

    def row(name: str, values: str, spec: dict, rng: str, cal: str, fit: str) -> str:
        return f"| `{name}` | {values} | {spec['unit']} | {rng} | {source(spec)} | {cal} | {fit} |"

    rows = ["| parameter | value(s) | unit | range | source | calibrated | fitted |", "|---|---|---|---|---|:---:|---|"]
    for t in codes.TRANSITIONS:
        spec = raw["transitions"][t]
        base = spec["base"]
        cal = "yes" if base.get("calibrated") else "no"
        fit = num(fitted[f"{t}.base"]) if f"{t}.base" in fitted else ""
        rng = f"{num(base['range'][0])}–{num(base['range'][1])}" if "range" in base else "-"
        rows.append(row(f"{t}.base", num(base["value"]), base, rng, cal, fit))
        for dim, table in (spec.get("factors") or {}).items():
            values = table["value"]
            shown = "; ".join(f"{k}: {num(v)}" for k, v in values.items())
            if len(set(values.values())) == 1 and len(values) == len(codes.DIMENSIONS[dim]):
                shown = f"{num(next(iter(values.values())))} for every level"
            c = table.get("calibrated", [])
            levels = list(codes.DIMENSIONS[dim]) if c == "all" else list(c)
            cal = "all levels" if c == "all" else (", ".join(c) if c else "no")
            fit = "; ".join(f"{lv}: {num(fitted[f'{t}.{dim}.{lv}'])}" for lv in levels if f"{t}.{dim}.{lv}" in fitted)
            rng = f"×{num(table['range'][0])}–{num(table['range'][1])}" if "range" in table else "-"
            rows.append(row(f"{t}.{dim}", shown, table, rng, cal, fit))
    mort = raw["demography"]["mortality"]
    shown = "; ".join(f"{k}: {num(v)}" for k, v in mort["value"].items())
    rows.append(row("demography.mortality", shown, mort, f"×{num(mort['range'][0])}–{num(mort['range'][1])}", "no", ""))
    for group, key, _ in SCALAR_PARAMETERS:
        spec = raw[group][key]
        name = f"{group}.{key}"
        cal = "yes" if spec.get("calibrated") else "no"
        fit = num(fitted[name]) if name in fitted else ""
        rows.append(row(name, num(spec["value"]), spec, f"{num(spec['range'][0])}–{num(spec['range'][1])}", cal, fit))
    return rows
