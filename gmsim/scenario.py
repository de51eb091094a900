"""Scenario files: what one simulation run models, and how its file is read and checked.

A scenario names a run of the Greater Manchester labour-market model: which random seed it uses, how
many months it simulates, how large a share of the 1,781,000 working-age residents it represents, how
many people's month-by-month pathways it records, which model parameters (monthly transition hazards,
hazard ratios, mortality, benefit reassessment) differ from the calibrated defaults, and which
interventions (the Working Well strands, or a researcher's own modules) are funded.

Scenarios are written in YAML (see ``docs/scenarios.md``)::

    extends: baseline.yaml            # start from another scenario file and change what follows
    name: work_and_health_6m
    months: 120
    population: {scale: 1.0, history_sample: 1000}
    parameters: {out_of_work_to_in_work.base: 0.15}
    modules: [my_package.my_strand]   # imported first, so that their interventions can be named below
    strands:
      work_and_health: {budget_gbp_per_year: 6000000, parameters: {support_months: 24}}

Loading never stops at the first mistake: :func:`load_scenario` and :meth:`Scenario.from_dict` gather
every problem in the file and in the files it extends (schema errors, parameter errors, strand errors
alike) and raise one :class:`ScenarioError` listing them, one line each. Files are parsed with
``yaml.safe_load`` only, so a scenario file cannot construct Python objects; only the modules it lists
under ``modules:`` run code.

Loading has three steps: reading (:func:`read_scenario_data`, file to plain data), resolving ``extends``
(each parent file read and its data deep-merged under the child's), and validating
(:meth:`Scenario.from_dict`); every file of an ``extends`` chain is also checked on its own, so that its
problems are reported with its own path.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import importlib
import importlib.util
import json
import math
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from .dates import DEFAULT_START, Calendar, YearMonth
from .economy import Economy
from .interventions import Intervention, StrandSpec, registered
from .parameters import ParameterError, ParameterSet

__all__ = [
    "COMMAND_LINE",
    "PopulationSpec",
    "Scenario",
    "ScenarioError",
    "StrandSpec",
    "load_scenario",
    "read_scenario_data",
]

#: The ``path`` given to errors in values set on the command line (``--seed``, ``--months``, ``--scale``).
COMMAND_LINE = "command line"

#: Largest seed / history sample accepted: anything a 64-bit integer holds.
_MAX_INT = 2**63 - 1

_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")

#: Longest ``extends`` chain followed (a guard against runaway chains; cycles are caught separately).
_MAX_EXTENDS_DEPTH = 32
#: Largest scenario file read (its own or one it extends), in bytes: a scenario is a page of settings.
MAX_FILE_BYTES = 1_000_000
#: Longest description, in characters (it is copied into every results folder's summary and manifest).
MAX_DESCRIPTION = 10_000
#: Most people whose pathways are recorded, and most person-months recorded (about 540 MB).
MAX_HISTORY_SAMPLE = 10_000
MAX_PATHWAY_MONTHS = 1_200_000
#: Smallest population scale: 1,781 simulated people, about 180 a borough.
MIN_SCALE = 0.001
#: Top-level mappings that ``extends`` merges key by key (every other key is replaced).
_MERGED_BLOCKS = ("population", "parameters", "strands")


class ScenarioError(Exception):
    """Raised when a scenario cannot be read or is invalid; lists every problem found.

    Attributes:
        path: The scenario file (``"command line"`` for command-line overrides), or None when the
            scenario came from a dict.
        problems: One ``(key, message)`` pair per problem. ``key`` is the dotted location of the value
            (``population.scale``, ``parameters.out_of_work_to_in_work.base``,
            ``strands.work_and_health.budget_gbp_per_year``), or ``""`` for a problem with the file as a
            whole (missing, unreadable, malformed YAML).
        files: The file each problem is in, one per problem: ``path``, except for problems in a file
            named by ``extends:`` (directly or further up the chain), which carry that file's path.
    """

    def __init__(
        self, problems: list[tuple[str, str]], path: str | None = None, files: list[str | None] | None = None
    ) -> None:
        self.path = path
        self.problems = list(problems)
        self.files = list(files) if files is not None else [path] * len(self.problems)
        if len(self.files) != len(self.problems):
            raise ValueError("ScenarioError needs one file per problem")
        super().__init__(str(self))

    def __str__(self) -> str:
        """One line per problem: ``{file}: {key}: {message}`` (empty parts are left out)."""
        lines = []
        for where, (key, message) in zip(self.files, self.problems, strict=True):
            parts = [p for p in (where, key) if p]
            lines.append(": ".join([*parts, message]))
        return "\n".join(lines)


def _field(default: Any = ..., *, expected: str, description: str, **constraints: Any) -> Any:
    """A pydantic Field that also records, in plain words, what the field accepts (for error messages)."""
    if "default_factory" not in constraints:
        constraints["default"] = default
    return Field(description=description, json_schema_extra={"expected": expected}, **constraints)


class PopulationSpec(BaseModel):
    """The size of the simulated population and how much of it is followed in detail.

    Attributes:
        scale: Share of Greater Manchester's 1,781,000 working-age residents simulated.
        history_sample: Number of people whose month-by-month pathway is recorded.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    scale: float = _field(
        1.0,
        ge=MIN_SCALE,
        le=10,
        expected=f"a number from {MIN_SCALE:g} (1,781 people, the fewest that can stand for ten boroughs) to 10",
        description=(
            "Share of the 1,781,000 working-age residents of Greater Manchester simulated: 1.0 is "
            "everyone (one agent per person), 0.1 a tenth (each agent then stands for 10 people), values "
            f"above 1 oversample. Number from {MIN_SCALE:g} (1,781 people) to 10; default 1.0."
        ),
    )
    history_sample: int = _field(
        1000,
        ge=0,
        le=MAX_HISTORY_SAMPLE,
        expected=(
            f"a whole number from 0 to {MAX_HISTORY_SAMPLE:,} (each recorded pathway takes memory for every "
            "month of the run)"
        ),
        description=(
            "How many people (chosen at random at month 0) have their month-by-month pathway of labour "
            f"state, health and benefit recorded; 0 records none. Whole number from 0 to {MAX_HISTORY_SAMPLE:,}; "
            "default 1000."
        ),
    )


class Scenario(BaseModel):
    """One simulation run: its name, seed, length, population size, parameter overrides and interventions.

    Build one with :func:`load_scenario` (from a YAML file), :meth:`from_dict` or :meth:`default`;
    these resolve ``extends``, import ``modules``, check every value and raise :class:`ScenarioError`
    listing all problems.

    Attributes:
        name: Identifier of the scenario, also the name of its results folder.
        description: Free text saying what the scenario represents.
        seed: Seed of the random number streams; the same scenario and seed give the same results.
        start: The calendar month of month 1 (``YYYY-MM``).
        months: Number of months simulated.
        population: Population size and pathway sample.
        economy: The economy the run is in: labour demand by month and a job-retention scheme.
        parameters: Parameter overrides, ``{dotted parameter name: value}``.
        modules: Python modules imported before the strands are checked (module names, or absolute
            paths of ``.py`` files), so that interventions they register can be named in ``strands``.
        strands: Funded interventions, ``{intervention name: StrandSpec}``, in the order the model runs them.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    name: str = _field(
        pattern=_NAME_PATTERN,
        max_length=100,
        expected="a name of letters, digits, '_', '.' or '-' starting with a letter or digit",
        description=(
            "Required. Identifier of the scenario, used as the name of its results folder: letters, "
            "digits, '_', '.' and '-', starting with a letter or digit, at most 100 characters."
        ),
    )
    description: str = _field(
        "",
        max_length=MAX_DESCRIPTION,
        expected=f"text of at most {MAX_DESCRIPTION:,} characters",
        description=(
            f"What the scenario represents, in words. Text of at most {MAX_DESCRIPTION:,} characters; default empty."
        ),
    )
    seed: int = _field(
        1,
        ge=0,
        le=_MAX_INT,
        expected="a whole number >= 0",
        description=(
            "Seed of the random number streams: the same scenario with the same seed gives identical "
            "results. Whole number >= 0; default 1."
        ),
    )
    start: str = _field(
        DEFAULT_START,
        expected="a month as YYYY-MM (e.g. 2026-04)",
        description=(
            "The calendar month of month 1, YYYY-MM; month 0 is the starting population, at the end of the "
            f"month before. Default {DEFAULT_START} (April 2026, the first month of financial year 2026-27)."
        ),
    )
    months: int = _field(
        120,
        ge=1,
        le=1200,
        expected="a whole number of months from 1 to 1200",
        description="Number of months simulated. Whole number from 1 to 1200; default 120 (10 years).",
    )
    population: PopulationSpec = _field(
        default_factory=PopulationSpec,
        expected="a mapping with keys 'scale' and 'history_sample'",
        description="Population size and pathway sample (see PopulationSpec). Mapping; default all defaults.",
    )
    economy: Economy = _field(
        default_factory=Economy,
        expected="a mapping with keys such as 'shape', 'start_month', 'depth' (see docs/scenarios.md)",
        description=(
            "The economy the run is in (gmsim.economy.Economy): 'shape' (steady, recession, pandemic or "
            "custom), and any of 'start_month', 'depth', 'months_to_trough', 'recovery_months', 'levels' "
            "(custom), 'inactivity_elasticity' and 'job_retention' ({coverage, months, "
            "furloughed_per_demand_fall}); figures left out are the shape's (data/economies.yaml). "
            "Default: steady."
        ),
    )
    parameters: dict[str, float] = _field(
        default_factory=dict,
        expected="a mapping of parameter names to numbers",
        description=(
            "Parameter overrides, {dotted name: number}, replacing the calibrated values: "
            "'<transition>.base', '<transition>.<dimension>.<level>', 'demography.mortality.<age band>', "
            "'demography.mortality_complex_ratio', 'benefits.<name>', 'labour.job_readiness_sd'. Checked against "
            "gmsim.parameters.ParameterSet. Default {} (none)."
        ),
    )
    modules: list[str] = _field(
        default_factory=list,
        expected="a list of Python module names or paths of .py files",
        description=(
            "Python modules imported (and so run) before the strands are checked, so that interventions "
            "they register with gmsim.interventions.register can be named under 'strands': dotted "
            "module names (importable from sys.path) or paths of .py files relative to the scenario's "
            "folder (recorded as absolute paths). Default [] (none)."
        ),
    )
    strands: dict[str, StrandSpec] = _field(
        default_factory=dict,
        expected="a mapping of strand names to their settings",
        description=(
            "Funded interventions, {name: settings}: a Working Well strand (care_and_support, "
            "work_and_health, early_help, in_work) or an intervention registered by one of 'modules'; "
            "settings as gmsim.interventions.StrandSpec (budget_gbp_per_year, unit_cost_gbp, "
            "start_month, end_month, parameters). Default {} (none)."
        ),
    )

    @field_validator("start", mode="before")
    @classmethod
    def _year_month(cls, value: Any) -> Any:
        # YAML reads 2026-04 as text and 2026-04-01 as a date: either names the month.
        if isinstance(value, str | _dt.date):
            return str(YearMonth.parse(value))
        return value  # not text: the type check reports it

    @field_validator("population", "parameters", "modules", "strands", mode="before")
    @classmethod
    def _prepare_blocks(cls, value: Any, info: ValidationInfo) -> Any:
        # A block with every entry commented out reads as null: use defaults.
        if value is None:
            return [] if info.field_name == "modules" else {}
        if info.field_name == "population":
            return value
        context = info.context if isinstance(info.context, dict) else {}
        if info.field_name == "parameters":
            clean, problems = _check_parameters(value)
        elif info.field_name == "modules":
            clean, problems = _check_modules(value, Path(context.get("folder") or "."))
        else:
            clean, problems = _check_strands(value)
        sink = context.get("problems")
        if sink is not None:
            sink.extend(problems)
        elif problems:
            raise ValueError("; ".join(f"{key}: {message}" for key, message in problems))
        return clean

    # ------------------------------------------------------------------ construction

    @classmethod
    def default(cls) -> Scenario:
        """The default scenario: named ``baseline``, every other value at its default."""
        return cls.from_dict({"name": "baseline"})

    @classmethod
    def from_dict(cls, data: Any, path: str | None = None) -> Scenario:
        """Validate scenario data (as read from YAML) and build the scenario.

        An ``extends:`` key is resolved first, relative to the folder of ``path`` (the current directory
        when ``path`` is None): the parent file is read (and its own parent, and so on), each file is
        checked on its own, and the data are merged, the child's over the parent's. ``modules:`` are
        imported before ``strands:`` are checked.

        Args:
            data: The scenario as plain data: a mapping of the keys described in ``docs/scenarios.md``.
            path: Where the data came from, used in error messages and to find the files named by
                ``extends:`` and ``modules:``; None if nowhere in particular.

        Returns:
            The validated scenario (fully resolved: it records nothing about ``extends``).

        Raises:
            ScenarioError: Listing every problem found (unknown keys, wrong types, out-of-range values,
                unknown or invalid parameters and strands, modules that cannot be imported, files named
                by ``extends:`` that are missing, unreadable, invalid or extend each other in a cycle).
        """
        if not isinstance(data, Mapping):
            raise ScenarioError(
                [
                    (
                        "",
                        f"expected a mapping of scenario keys ({', '.join(_TOP_KEYS)}) at the "
                        f"top level, got {_describe(data)}",
                    )
                ],
                path,
            )
        folder = _folder_of(path)
        chain = _read_chain(data, path, folder)
        if len(chain.layers) == 1 and not chain.problems:  # no extends: one file, checked as a whole
            scenario, problems = cls._validate(chain.layers[0].data, folder, require_name=True)
            if problems or scenario is None:
                raise ScenarioError(problems or [("", "invalid scenario")], path)
            return scenario

        found: dict[str | None, list[tuple[str, str]]] = {layer.where: [] for layer in chain.layers}
        for where, key, message in chain.problems:
            found.setdefault(where, []).append((key, message))
        # Root-most parent first, so that modules a parent imports are there when its children are checked.
        for layer in chain.layers:
            _, problems = cls._validate(layer.data, layer.folder, require_name=False)
            found[layer.where].extend(problems)
        merged: dict[str, Any] = {}
        for layer in chain.layers:
            merged = _merge(merged, _absolute_modules(layer.data, layer.folder))
        scenario = None
        if not any(found.values()):
            scenario, problems = cls._validate(merged, folder, require_name=True)
            found[path].extend(problems)
        elif "name" not in merged and not chain.problems:
            found[path].extend(cls._validate({}, folder, require_name=True)[1])
        if scenario is not None and not any(found.values()):
            return scenario
        # The loaded file's problems first, then its parent's, and so on up the chain.
        order = [path, *(w for w in chain.order if w != path)]
        problems, files = [], []
        for where in order:
            keys = chain.key_order.get(where, {})
            for problem in sorted(
                _dedupe(found.get(where, [])), key=lambda p: keys.get(p[0].split(".", 1)[0], len(keys))
            ):
                problems.append(problem)
                files.append(where)
        raise ScenarioError(problems or [("", "invalid scenario")], path, files if problems else None)

    @classmethod
    def _validate(
        cls, data: Mapping[Any, Any], folder: Path, require_name: bool
    ) -> tuple[Scenario | None, list[tuple[str, str]]]:
        """Validate one mapping of scenario keys (without ``extends``): the scenario, and every problem."""
        data = dict(data)
        if not require_name and "name" not in data:
            data["name"] = "unnamed"  # a file that is extended need not have a name of its own
        sink: list[tuple[str, str]] = []
        problems: list[tuple[str, str]] = []
        scenario = None
        try:
            scenario = cls.model_validate(data, context={"problems": sink, "folder": folder})
            sampled = scenario.population.history_sample * scenario.months
            if sampled > MAX_PATHWAY_MONTHS:
                problems.append(
                    (
                        "population.history_sample",
                        f"expected at most {MAX_PATHWAY_MONTHS:,} recorded person-months (history_sample x months, "
                        f"about 450 bytes of memory each), got {scenario.population.history_sample:,} x "
                        f"{scenario.months:,} = {sampled:,}",
                    )
                )
        except ValidationError as exc:
            problems = _translate(exc)
        except Exception as exc:  # noqa: BLE001 - a loader must only ever raise ScenarioError
            problems = [
                ("", f"internal error while validating the scenario: {type(exc).__name__}: {_truncate(str(exc))}")
            ]
        # List problems in the order of the file's top-level keys (missing keys last).
        order = {_key_text(k): i for i, k in enumerate(data)}
        problems = sorted(
            _dedupe(problems + sink), key=lambda problem: order.get(problem[0].split(".", 1)[0], len(order))
        )
        return (scenario if not problems else None), problems

    def with_overrides(
        self,
        seed: int | None = None,
        months: int | None = None,
        scale: float | None = None,
        start: str | None = None,
        parameters: Mapping[str, float] | None = None,
    ) -> Scenario:
        """A copy of the scenario with values given on the command line replacing the file's.

        Args:
            seed: New random seed, or None to keep the scenario's.
            months: New number of months, or None to keep the scenario's.
            scale: New population scale, or None to keep the scenario's.
            start: New month 1 (``YYYY-MM``), or None to keep the scenario's.
            parameters: Baseline parameters to set (``parameters:`` entries, replacing the file's of the same
                name: ``--set NAME=VALUE``), or None.

        Returns:
            The new, validated scenario (this one is unchanged).

        Raises:
            ScenarioError: With path ``"command line"`` and keys ``seed``, ``months``,
                ``population.scale``, ``start`` or ``parameters.<name>`` if a new value is invalid.
        """
        data = self.to_dict()
        if parameters:
            data["parameters"] = {**data["parameters"], **parameters}
        if seed is not None:
            data["seed"] = seed
        if months is not None:
            data["months"] = months
        if scale is not None:
            data["population"]["scale"] = scale
        if start is not None:
            data["start"] = start
        return Scenario.from_dict(data, path=COMMAND_LINE)

    def without_strands(self, name: str, history_sample: int | None = None) -> Scenario:
        """A copy named ``name`` with no strand and no module: the same population, months and parameters.

        Args:
            name: Its name.
            history_sample: People whose pathways it records, or None to keep the scenario's.
        """
        data = {**self.to_dict(), "name": name, "strands": {}, "modules": []}
        if history_sample is not None:
            data["population"] = {**data["population"], "history_sample": history_sample}
        return Scenario.from_dict(data, path=name)

    # ------------------------------------------------------------------ output

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain, JSON-serialisable data (every key, defaults included; no ``extends``)."""
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        """The scenario as YAML text that :func:`load_scenario` reads back to an equal scenario."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, default_flow_style=False)

    def content_hash(self) -> str:
        """SHA-256 (hex) of the scenario's canonical JSON: equal content, equal hash; any change, another."""
        canonical = json.dumps(
            self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def calendar(self) -> Calendar:
        """The dates of the run's months (month 1 is ``start``)."""
        return Calendar(YearMonth.parse(self.start))

    def parameter_set(self) -> ParameterSet:
        """The full model parameter set: calibrated defaults with this scenario's overrides applied."""
        return ParameterSet(self.parameters)


#: Every top-level key a scenario file may hold.
_TOP_KEYS = ("extends", *Scenario.model_fields)


# ---------------------------------------------------------------------- reading files


def read_scenario_data(path: str | Path) -> dict[str, Any]:
    """Read a scenario file into plain data, without checking its keys or values (nor following ``extends``).

    Args:
        path: The YAML file.

    Returns:
        The top-level mapping of the file.

    Raises:
        ScenarioError: If the file is missing, a directory, unreadable, not UTF-8, malformed YAML,
            empty, or not a mapping at the top level (one problem, as nothing further can be checked).
    """
    where = str(path)

    def fail(message: str) -> ScenarioError:
        return ScenarioError([("", message)], where)

    try:
        p = Path(path)
        if p.is_dir():
            raise fail("is a directory, not a scenario file")
        if not p.exists():
            raise fail("no such file")
        with p.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise fail(
                f"the file is larger than {MAX_FILE_BYTES:,} bytes; expected a scenario file (a page of settings)"
            )
    except ScenarioError:
        raise
    except (OSError, ValueError, TypeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise fail(f"cannot read the file: {_truncate(reason)}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise fail(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {line} cannot be decoded (save the file as UTF-8)"
        ) from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        raise fail(_yaml_message(exc)) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise fail(
            f"malformed YAML at line {line}, column {column}: character {exc.character!r} is not "
            f"allowed in YAML ({exc.reason})"
        ) from None
    except RecursionError:
        raise fail("malformed YAML: nested too deeply to read") from None
    except Exception as exc:  # noqa: BLE001 - e.g. ValueError for integers with > 4300 digits
        raise fail(f"malformed YAML: {_truncate(str(exc))}") from None
    if data is None:
        raise fail("the file is empty: expected a scenario mapping with at least a 'name' key")
    if not isinstance(data, dict):
        raise fail(
            f"expected a mapping of scenario keys ({', '.join(_TOP_KEYS)}) at the top level, got {_describe(data)}"
        )
    return data


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file, following its ``extends:`` chain and importing its ``modules:``.

    Args:
        path: The scenario's YAML file.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: Listing every problem with the file (and the files it extends); no other
            exception escapes, whatever the files hold (the code of ``modules:`` aside, whose import
            errors are reported as problems too).
    """
    data = read_scenario_data(path)
    return Scenario.from_dict(data, path=str(path))


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateKey(yaml.MarkedYAMLError):
    """A key given twice in one mapping (YAML would silently keep the last)."""


class _Loader(_SafeLoader):
    """YAML's safe loader, plus two things a scenario's author expects.

    Numbers in exponent form without a decimal point (``1e6``, ``2.5e+6``) are numbers, as in YAML 1.2
    (YAML 1.1 reads ``1e6`` as text). A key given twice in one mapping is an error, not a silent choice
    of the last value.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the constructor reports it
                continue
            if first is not None:
                raise _DuplicateKey(
                    None,
                    None,
                    f"key {_key_text(key, quote=True)} is given twice in one mapping (first at line "
                    f"{first.line + 1}); keep one",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    what = exc.problem or exc.context or "could not parse"
    if exc.context and exc.problem:
        what = f"{exc.problem} ({exc.context})"
    if isinstance(exc, yaml.constructor.ConstructorError):
        what += " (scenario files may only hold plain YAML: mappings, lists, text and numbers)"
    return f"malformed YAML{where}: {what}"


# ---------------------------------------------------------------------- extends


@dataclass
class _Layer:
    """One file of an ``extends`` chain: where it is, its folder, and its data without ``extends``."""

    where: str | None
    folder: Path
    data: dict[Any, Any]


@dataclass
class _Chain:
    """An ``extends`` chain as read: layers root-most parent first, and the problems met reading it.

    ``order`` lists every file met, the loaded one first (including parents that could not be read),
    ``key_order`` each file's top-level keys in file order, and ``problems`` ``(file, key, message)``.
    """

    layers: list[_Layer]
    order: list[str | None]
    key_order: dict[str | None, dict[str, int]]
    problems: list[tuple[str | None, str, str]]


def _folder_of(path: str | None) -> Path:
    """The folder ``extends`` and ``modules`` paths are relative to: the file's, else the current directory."""
    if path is None or path == COMMAND_LINE:
        return Path(".")
    try:
        return Path(path).parent
    except (TypeError, ValueError):
        return Path(".")


def _absolute(path: Path) -> str:
    """An absolute path as text, without resolving symbolic links."""
    return os.path.abspath(path)


def _read_chain(data: Mapping[Any, Any], where: str | None, folder: Path) -> _Chain:
    """Follow ``extends`` from ``data`` (read from ``where``) up to the root-most parent."""
    chain = _Chain(layers=[], order=[], key_order={}, problems=[])
    seen: list[tuple[str, str]] = []  # (real path, path as shown) of the files met so far
    if where is not None and where != COMMAND_LINE:
        try:
            seen.append((os.path.realpath(where), where))
        except (TypeError, ValueError, OSError):
            pass
    while True:
        chain.order.append(where)
        chain.key_order[where] = {_key_text(k): i for i, k in enumerate(data)}
        chain.layers.insert(0, _Layer(where, folder, {k: v for k, v in data.items() if k != "extends"}))
        if data.get("extends") is None:
            return chain
        found = _find_parent(data["extends"], folder, seen)
        if isinstance(found, str):
            chain.problems.append((where, "extends", found))
            return chain
        target, real = found
        try:
            parent = read_scenario_data(target)
        except ScenarioError as err:
            shown = os.path.normpath(target)
            chain.order.append(shown)
            chain.problems.extend((shown, k, m) for k, m in err.problems)
            return chain
        where = os.path.normpath(target)  # shown in messages: 'a/b/../c.yaml' as 'a/c.yaml'
        seen.append((real, where))
        data, folder = parent, target.parent


def _find_parent(value: Any, folder: Path, seen: list[tuple[str, str]]) -> tuple[Path, str] | str:
    """The file an ``extends:`` value names, with its real path; or why it cannot be read."""
    if not isinstance(value, str) or not value.strip():
        return f"expected the path of a scenario file to extend (text), got {_describe(value)}"
    if len(seen) > _MAX_EXTENDS_DEPTH:
        return f"too many files extending each other (more than {_MAX_EXTENDS_DEPTH})"
    shown = _key_text(value, quote=True)
    try:
        target = Path(value) if Path(value).is_absolute() else folder / value
        looked_in = _absolute(target.parent if Path(value).is_absolute() else folder)
        real = os.path.realpath(target)
        reals = [r for r, _ in seen]
        if real in reals:
            cycle = [s for _, s in seen[reals.index(real) :]] + [os.path.normpath(target)]
            return (
                f"{shown} closes a cycle: {' -> '.join(cycle)} (scenario files must not extend each other in a cycle)"
            )
        if not target.exists():
            return f"no such file {shown} (looked in {looked_in})"
        if target.is_dir():
            return f"{shown} is a directory, not a scenario file (looked in {looked_in})"
        if not target.is_file():
            return f"{shown} is not a regular file (looked in {looked_in})"
        if target.stat().st_size > MAX_FILE_BYTES:
            return f"{shown} is too large for a scenario file (over {MAX_FILE_BYTES:,} bytes)"
    except (OSError, ValueError) as exc:
        return f"cannot read {shown}: {_truncate(getattr(exc, 'strerror', None) or str(exc))}"
    return target, real


def _merge(parent: Mapping[Any, Any], child: Mapping[Any, Any]) -> dict[Any, Any]:
    """The child's data over the parent's: keys replace, except the mappings of ``_MERGED_BLOCKS``.

    ``population``, ``parameters`` and ``strands`` merge key by key (a null block changes nothing), each
    strand's settings merge key by key, and so do their ``parameters``; ``modules`` lists are joined
    (the parent's first) so that the merged scenario still imports every module its strands need.
    """
    out = dict(parent)
    for key, value in child.items():
        old = out.get(key)
        if key in _MERGED_BLOCKS and value is None and key in out:
            continue
        if key in _MERGED_BLOCKS and isinstance(old, Mapping) and isinstance(value, Mapping):
            merged = dict(old)
            for name, setting in value.items():
                before = merged.get(name)
                if key == "strands" and isinstance(before, Mapping) and isinstance(setting, Mapping):
                    spec = {**before, **setting}
                    if isinstance(before.get("parameters"), Mapping) and isinstance(setting.get("parameters"), Mapping):
                        spec["parameters"] = {**before["parameters"], **setting["parameters"]}
                    merged[name] = spec
                else:
                    merged[name] = setting
            out[key] = merged
        elif key == "modules" and isinstance(old, list) and isinstance(value, list):
            out[key] = [*old, *(m for m in value if m not in old)]
        else:
            out[key] = value
    return out


def _absolute_modules(data: Mapping[Any, Any], folder: Path) -> Mapping[Any, Any]:
    """``data`` with the ``.py`` paths under ``modules:`` made absolute (they are relative to ``folder``)."""
    modules = data.get("modules")
    if not isinstance(modules, list):
        return data
    fixed = []
    for entry in modules:
        if isinstance(entry, str) and entry.strip().endswith(".py"):
            try:
                entry = _absolute(folder / entry.strip())
            except (TypeError, ValueError, OSError):
                pass
        fixed.append(entry)
    return {**data, "modules": fixed}


# ---------------------------------------------------------------------- modules


def _check_modules(value: Any, folder: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """Check and import a ``modules:`` list: the entries as recorded, and one problem per bad entry."""
    if not isinstance(value, list):
        hint = " (write it as a list: [my_package.my_strand])" if isinstance(value, str) else ""
        return [], [
            ("modules", f"expected a list of Python module names or paths of .py files, got {_describe(value)}{hint}")
        ]
    clean: list[str] = []
    problems = []
    for i, entry in enumerate(value):
        recorded, problem = _import_entry(entry, folder)
        if problem is not None:
            problems.append((f"modules.{i}", problem))
        elif recorded not in clean:
            clean.append(recorded)
    return clean, problems


def _import_entry(entry: Any, folder: Path) -> tuple[str, str | None]:
    """Import one ``modules:`` entry: ``(entry as recorded, None)``, or ``("", why it failed)``."""
    expected = "expected a Python module name (like my_package.my_strand) or the path of a .py file"
    if not isinstance(entry, str) or not entry.strip():
        return "", f"{expected}, got {_describe(entry)}"
    entry = entry.strip()
    shown = _key_text(entry, quote=True)
    if entry.endswith(".py"):
        try:
            path = Path(entry) if Path(entry).is_absolute() else folder / entry
            if not path.is_file():
                looked_in = _absolute(path.parent if Path(entry).is_absolute() else folder)
                return "", f"no such file {shown} (looked in {looked_in})"
            recorded = _absolute(path)
            source = path.read_bytes()
        except (OSError, ValueError) as exc:
            return "", f"cannot read {shown}: {_truncate(getattr(exc, 'strerror', None) or str(exc))}"
        try:
            _import_file(Path(recorded), source)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - report whatever the module raised
            return "", f"cannot import {shown} ({type(exc).__name__}: {_truncate(str(exc), 200)})"
        return recorded, None
    if not _MODULE_NAME.fullmatch(entry):
        return "", f"{expected}, got {shown}"
    try:
        _import_named(entry)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - report whatever the module raised
        return "", f"cannot import {shown} ({type(exc).__name__}: {_truncate(str(exc), 200)})"
    return entry, None


def _import_named(name: str) -> None:
    """Import a module by its dotted name (``importlib.import_module``; imported once per process)."""
    importlib.import_module(name)


def _import_file(path: Path, source: bytes) -> None:
    """Import a ``.py`` file as a module, once per content (a changed file is imported again)."""
    digest = hashlib.sha256(source).hexdigest()
    stem = re.sub(r"\W", "_", path.stem)
    name = f"_gmsim_scenario_module_{stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__gmsim_source_sha256__", None) == digest:
        return
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    module.__gmsim_source_sha256__ = digest  # type: ignore[attr-defined]
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if sys.modules.get(name) is module:
            del sys.modules[name]
        raise


# ---------------------------------------------------------------------- strands


def _check_strands(value: Any) -> tuple[dict[str, StrandSpec], list[tuple[str, str]]]:
    """Check a ``strands:`` block: the valid strands and one problem per problem in the others."""
    if not isinstance(value, Mapping):
        return {}, [("strands", f"expected a mapping of strand names to their settings, got {_describe(value)}")]
    try:
        available = registered()
    except Exception as exc:  # noqa: BLE001 - a broken intervention module must not crash the loader
        return {}, [
            ("strands", f"cannot list the available strands ({type(exc).__name__}: {_truncate(str(exc), 200)})")
        ]
    settings = ", ".join(StrandSpec.model_fields)
    clean: dict[str, StrandSpec] = {}
    problems: list[tuple[str, str]] = []
    for name, spec in value.items():
        key = f"strands.{_key_text(name)}"
        if not isinstance(name, str):
            problems.append((key, f"strand names must be text, got {_describe(name)}"))
            continue
        strand = available.get(name)
        if strand is None:
            match = _suggest(name, list(available))
            hint = f" (did you mean {match!r}?)" if match else f" (known strands: {', '.join(available)})"
            problems.append((key, f"unknown strand {_key_text(name, quote=True)}{hint}"))
        if spec is None:
            spec = {}  # `work_and_health:` with nothing under it: every setting at its default
        if not isinstance(spec, Mapping):
            problems.append((key, f"expected a mapping of strand settings ({settings}), got {_describe(spec)}"))
            continue
        spec = dict(spec)
        strand_problems: list[tuple[str, str]] = []
        if "parameters" in spec:
            spec["parameters"], strand_problems = _check_strand_parameters(spec["parameters"], strand, key)
        try:
            parsed = StrandSpec.model_validate(spec)
        except ValidationError as exc:
            strand_problems = _translate(exc, root=StrandSpec, prefix=key) + strand_problems
            parsed = None
        problems.extend(strand_problems)
        if strand is not None and parsed is not None and not strand_problems:
            clean[name] = parsed
    return clean, problems


def _check_strand_parameters(
    value: Any, strand: type[Intervention] | None, key: str
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Check one strand's ``parameters:``: the valid overrides, and one problem per invalid one."""
    if value is None:
        return {}, []
    if not isinstance(value, Mapping):
        return {}, [(f"{key}.parameters", f"expected a mapping of parameter names to values, got {_describe(value)}")]
    problems: list[tuple[str, str]] = []
    plain: dict[str, Any] = {}
    for name, v in value.items():
        where = f"{key}.parameters.{_key_text(name)}"
        if not isinstance(name, str):
            problems.append((where, f"parameter names must be text, got {_describe(name)}"))
            continue
        why = _plain_value_problem(name, v)
        if why:
            problems.append((where, why))
        else:
            plain[name] = v
    clean: dict[str, Any] = {}
    if strand is not None and plain:
        try:
            found = strand.check_parameters(plain)
            bad = {name for name, _ in found}
            valid = {name: v for name, v in plain.items() if name not in bad}
            # The values as the parameters hold them (3 and 3.0 alike), so that equal scenarios hash alike.
            names = strand.parameters(valid).names()
        except Exception as exc:  # noqa: BLE001 - e.g. a researcher's strand whose defaults are invalid
            return {}, [
                *problems,
                (
                    f"{key}.parameters",
                    f"cannot check the parameters of {strand.name!r} "
                    f"({type(exc).__name__}: {_truncate(str(exc), 200)})",
                ),
            ]
        problems.extend((f"{key}.parameters.{name}", _truncate(str(message), 200)) for name, message in found)
        clean = {name: names[name] for name in valid}
    # Report in the order the file lists the parameters.
    order = {f"{key}.parameters.{_key_text(name)}": i for i, name in enumerate(value)}
    problems.sort(key=lambda problem: order.get(problem[0], -1))
    return clean, problems


def _plain_value_problem(name: str, value: Any) -> str | None:
    """Why ``value`` cannot be a strand parameter whatever the parameter (None if it might be)."""
    if isinstance(value, Mapping):
        hint = ""
        if value and isinstance(next(iter(value)), str):
            hint = f" (write each parameter's full dotted name, e.g. {f'{name}.{_truncate(next(iter(value)), 40)}'!r})"
        return f"expected a number, true/false or a list, got {_describe(value)}{hint}"
    if value is None or isinstance(value, (bool, str, float)):
        return None
    if isinstance(value, int):
        return None if _fits_float(value) else f"expected a number, got {_describe(value)}"
    if isinstance(value, list):
        for item in value:
            if not (
                item is None or isinstance(item, (bool, str, float)) or (isinstance(item, int) and _fits_float(item))
            ):
                return f"expected a list of names or numbers, got a list holding {_describe(item)}"
        return None
    return f"expected a number, true/false or a list, got {_describe(value)}"


def _fits_float(value: int) -> bool:
    try:
        float(value)
    except OverflowError:
        return False
    return True


def _check_parameters(value: Any) -> tuple[dict[str, float], list[tuple[str, str]]]:
    """Check a ``parameters:`` block: the valid overrides and one problem per invalid one."""
    if not isinstance(value, Mapping):
        expected = "expected a mapping of parameter names to numbers"
        return {}, [("parameters", f"{expected}, got {_describe(value)}")]
    problems: list[tuple[str, str]] = []
    numeric: dict[str, float] = {}
    for name, v in value.items():
        if not isinstance(name, str):
            problems.append((f"parameters.{_key_text(name)}", f"parameter names must be text, got {_describe(name)}"))
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            hint = ""
            if isinstance(v, Mapping) and v and isinstance(next(iter(v)), str):
                example = f"{name}.{_truncate(next(iter(v)), 40)}"
                hint = f" (write each parameter's full dotted name, e.g. {example!r})"
            problems.append((f"parameters.{name}", f"expected a number, got {_describe(v)}{hint}"))
            continue
        try:
            float(v)
        except OverflowError:
            problems.append((f"parameters.{name}", f"expected a number, got {_describe(v)}"))
            continue
        numeric[name] = v
    if numeric:
        try:
            ParameterSet(numeric)
        except ParameterError as exc:
            problems.extend((f"parameters.{name}", message) for name, message in exc.problems)
            for name, _ in exc.problems:
                numeric.pop(name, None)
    # Report in the order the file lists the parameters.
    order = {f"parameters.{_key_text(name)}": i for i, name in enumerate(value)}
    problems.sort(key=lambda problem: order.get(problem[0], len(order)))
    return {k: float(v) for k, v in numeric.items()}, problems


def _model_at(loc: tuple[Any, ...], root: type[BaseModel] = Scenario) -> type[BaseModel] | None:
    """The model class holding the key at ``loc`` (a pydantic error location under ``root``)."""
    model: type[BaseModel] = root
    i = 0
    while i < len(loc) - 1:
        field = model.model_fields.get(str(loc[i]))
        if field is None:
            return None
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model, i = ann, i + 1
            continue
        args = [a for a in get_args(ann) if isinstance(a, type) and issubclass(a, BaseModel)]
        # An optional model (``job_retention: JobRetention | None``): the model itself.
        if get_origin(ann) in (Union, UnionType) and len(args) == 1:
            model, i = args[0], i + 1
            continue
        # Mappings / lists of models (``strands: {name: StrandSpec}``): skip the key or index.
        if get_origin(ann) is not None and args and i + 1 < len(loc) - 1:
            model, i = args[-1], i + 2
            continue
        return None
    return model


def _expected(loc: tuple[Any, ...], root: type[BaseModel] = Scenario) -> str | None:
    model = _model_at(loc, root)
    if model is None or not loc:
        return None
    field = model.model_fields.get(str(loc[-1]))
    extra = field.json_schema_extra if field is not None else None
    return extra.get("expected") if isinstance(extra, dict) else None  # type: ignore[return-value]


def _translate(exc: ValidationError, root: type[BaseModel] = Scenario, prefix: str = "") -> list[tuple[str, str]]:
    """Turn pydantic's errors into ``(key, message)`` pairs in the scenario's own words.

    Args:
        exc: The validation error of ``root``.
        root: The model validated (``Scenario``, or ``StrandSpec`` for one strand).
        prefix: Dotted location of ``root`` in the scenario (``strands.work_and_health``), or "".
    """
    problems = []
    for err in exc.errors(include_url=False, include_context=False):
        loc = tuple(err.get("loc", ()))
        kind = err.get("type", "")
        value = err.get("input")
        key = ".".join([*([prefix] if prefix else []), *(_key_text(part) for part in loc)])
        if kind == "extra_forbidden":
            model = _model_at(loc, root)
            valid = list(model.model_fields) if model is not None else []
            if model is Scenario:
                valid = list(_TOP_KEYS)
            unknown = loc[-1] if loc else value
            match = _suggest(str(unknown), valid)
            hint = f" (did you mean {match!r}?)" if match else f" (valid keys: {', '.join(valid)})"
            problems.append((key, f"unknown key {_key_text(unknown, quote=True)}{hint}"))
            continue
        if kind == "invalid_key":
            problems.append((key, f"unknown key {_describe(value)} (keys must be text)"))
            continue
        if kind == "value_error":  # a model validator, e.g. StrandSpec's start_month <= end_month
            message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            problems.append((key, message))
            continue
        expected = _expected(loc, root)
        if kind == "missing":
            problems.append((key, f"required key missing: expected {expected or 'a value'}"))
            continue
        if expected is None:
            problems.append((key, f"{err.get('msg', 'invalid value')}, got {_describe(value)}"))
            continue
        hint = ""
        if expected.startswith(("text", "a name")) and isinstance(value, (int, float, _dt.date)):
            hint = " (put it in quotes to make it text)"
        problems.append((key, f"expected {expected}, got {_describe(value)}{hint}"))
    return problems


def _suggest(unknown: str, valid: list[str]) -> str | None:
    """The valid name nearest to ``unknown`` (whole names first, then their first words), or None."""
    match = difflib.get_close_matches(unknown, valid, n=1, cutoff=0.6)
    if match:
        return match[0]
    first_words = {name.split("_", 1)[0]: name for name in reversed(valid) if "_" in name}
    match = difflib.get_close_matches(unknown, list(first_words), n=1, cutoff=0.75)
    return first_words[match[0]] if match else None


def _dedupe(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def _truncate(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _key_text(key: Any, quote: bool = False) -> str:
    """A key for messages: strings as they are (quoted if asked), anything else described."""
    if isinstance(key, str):
        shown = _truncate(key, 60)
        return repr(shown) if quote else shown
    return _describe(key)


def _describe(value: Any) -> str:
    """A short, safe rendering of a value as YAML users see it, for 'got ...' in messages."""
    try:
        if value is None:
            return "nothing (null)"
        if isinstance(value, bool):
            return f"{str(value).lower()} (a true/false value)"
        if isinstance(value, int):
            if value.bit_length() > 130:
                return f"a number with about {int(value.bit_length() * math.log10(2)) + 1} digits"
            return str(value)
        if isinstance(value, float):
            return repr(value)
        if isinstance(value, str):
            return repr(_truncate(value, 60)) if value.strip() else f"{value!r} (blank text)"
        if isinstance(value, (_dt.date, _dt.datetime)):
            return f"{value.isoformat()} (a date)"
        if isinstance(value, Mapping):
            return "a mapping" if value else "an empty mapping"
        if isinstance(value, (list, tuple)):
            return "a list" if value else "an empty list"
        if isinstance(value, (set, frozenset)):
            return "a set"
        if isinstance(value, (bytes, bytearray)):
            return "binary data"
        return f"a value of type {type(value).__name__}"
    except Exception:  # noqa: BLE001 - e.g. str() of an int with more than 4300 digits
        return f"a value of type {type(value).__name__}"
