"""Scenario files: what one simulation run models, and how its file is read and checked.

A scenario names a run of the Greater Manchester labour-market model: which random seed it uses, how
many months it simulates, how large a share of the 1,781,000 working-age residents it represents, how
many people's month-by-month pathways it records, and which model parameters (monthly transition
hazards, hazard ratios, mortality, benefit reassessment) differ from the calibrated defaults.

Scenarios are written in YAML (see ``docs/scenarios.md``)::

    name: baseline
    seed: 1
    months: 120
    population: {scale: 1.0, history_sample: 1000}
    parameters: {out_of_work_to_in_work.base: 0.15}

Loading never stops at the first mistake: :func:`load_scenario` and :meth:`Scenario.from_dict` gather
every problem in the file (schema errors and parameter errors alike) and raise one
:class:`ScenarioError` listing them, one line each. Files are parsed with ``yaml.safe_load`` only, so
a scenario file cannot construct Python objects or run code.

The loader is built in two steps, reading (:func:`read_scenario_data`, file to plain data) and
validating (:meth:`Scenario.from_dict`), so that blocks added later (``strands:``, or ``extends:``
merging a parent file's data before validation) only need a new model field or a step between the two.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from .parameters import ParameterError, ParameterSet

__all__ = [
    "COMMAND_LINE",
    "PopulationSpec",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "read_scenario_data",
]

#: The ``path`` given to errors in values set on the command line (``--seed``, ``--months``, ``--scale``).
COMMAND_LINE = "command line"

#: Largest seed / history sample accepted: anything a 64-bit integer holds.
_MAX_INT = 2**63 - 1

_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class ScenarioError(Exception):
    """Raised when a scenario cannot be read or is invalid; lists every problem found.

    Attributes:
        path: The scenario file (``"command line"`` for command-line overrides), or None when the
            scenario came from a dict.
        problems: One ``(key, message)`` pair per problem. ``key`` is the dotted location of the value
            (``population.scale``, ``parameters.out_of_work_to_in_work.base``), or ``""`` for a problem
            with the file as a whole (missing, unreadable, malformed YAML).
    """

    def __init__(self, problems: list[tuple[str, str]], path: str | None = None) -> None:
        self.path = path
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        """One line per problem: ``{path}: {key}: {message}`` (empty parts are left out)."""
        lines = []
        for key, message in self.problems:
            parts = [p for p in (self.path, key) if p]
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
        1.0, gt=0, le=10,
        expected="a number > 0 and <= 10",
        description=(
            "Share of the 1,781,000 working-age residents of Greater Manchester simulated: 1.0 is "
            "everyone (one agent per person), 0.1 a tenth (each agent then stands for 10 people), values "
            "above 1 oversample. Number > 0 and <= 10; default 1.0."
        ),
    )
    history_sample: int = _field(
        1000, ge=0, le=_MAX_INT,
        expected="a whole number >= 0",
        description=(
            "How many people (chosen at random at month 0) have their month-by-month pathway of labour "
            "state, health and benefit recorded; 0 records none. Whole number >= 0; default 1000."
        ),
    )


class Scenario(BaseModel):
    """One simulation run: its name, seed, length, population size and parameter overrides.

    Build one with :func:`load_scenario` (from a YAML file), :meth:`from_dict` or :meth:`default`;
    these check every value and raise :class:`ScenarioError` listing all problems.

    Attributes:
        name: Identifier of the scenario, also the name of its results folder.
        description: Free text saying what the scenario represents.
        seed: Seed of the random number streams; the same scenario and seed give the same results.
        months: Number of months simulated.
        population: Population size and pathway sample.
        parameters: Parameter overrides, ``{dotted parameter name: value}``.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)

    name: str = _field(
        pattern=_NAME_PATTERN, max_length=100,
        expected="a name of letters, digits, '_', '.' or '-' starting with a letter or digit",
        description=(
            "Required. Identifier of the scenario, used as the name of its results folder: letters, "
            "digits, '_', '.' and '-', starting with a letter or digit, at most 100 characters."
        ),
    )
    description: str = _field(
        "", expected="text",
        description="What the scenario represents, in words. Text; default empty.",
    )
    seed: int = _field(
        1, ge=0, le=_MAX_INT,
        expected="a whole number >= 0",
        description=(
            "Seed of the random number streams: the same scenario with the same seed gives identical "
            "results. Whole number >= 0; default 1."
        ),
    )
    months: int = _field(
        120, ge=1, le=1200,
        expected="a whole number of months from 1 to 1200",
        description="Number of months simulated. Whole number from 1 to 1200; default 120 (10 years).",
    )
    population: PopulationSpec = _field(
        default_factory=PopulationSpec,
        expected="a mapping with keys 'scale' and 'history_sample'",
        description="Population size and pathway sample (see PopulationSpec). Mapping; default all defaults.",
    )
    parameters: dict[str, float] = _field(
        default_factory=dict,
        expected="a mapping of parameter names to numbers",
        description=(
            "Parameter overrides, {dotted name: number}, replacing the calibrated values: "
            "'<transition>.base', '<transition>.<dimension>.<level>', 'demography.mortality.<age band>', "
            "'demography.mortality_complex_ratio', 'benefits.reassessment_rate'. Checked against "
            "gmsim.parameters.ParameterSet. Default {} (none)."
        ),
    )

    @field_validator("population", "parameters", mode="before")
    @classmethod
    def _prepare_blocks(cls, value: Any, info: ValidationInfo) -> Any:
        # `population:` or `parameters:` with every entry commented out reads as null: use defaults.
        if value is None:
            return {}
        if info.field_name != "parameters":
            return value
        clean, problems = _check_parameters(value)
        sink = info.context.get("parameter_problems") if isinstance(info.context, dict) else None
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

        Args:
            data: The scenario as plain data: a mapping of the keys described in ``docs/scenarios.md``.
            path: Where the data came from, used in error messages; None if nowhere in particular.

        Returns:
            The validated scenario.

        Raises:
            ScenarioError: Listing every problem found (unknown keys, wrong types, out-of-range values,
                unknown or invalid parameters).
        """
        if not isinstance(data, Mapping):
            raise ScenarioError([("", "expected a mapping of scenario keys (" + ", ".join(cls.model_fields)
                                  + f") at the top level, got {_describe(data)}")], path)
        parameter_problems: list[tuple[str, str]] = []
        problems: list[tuple[str, str]] = []
        scenario = None
        try:
            scenario = cls.model_validate(dict(data), context={"parameter_problems": parameter_problems})
        except ValidationError as exc:
            problems = _translate(exc)
        except Exception as exc:  # noqa: BLE001 - a loader must only ever raise ScenarioError
            problems = [("", f"internal error while validating the scenario: {type(exc).__name__}: "
                             f"{_truncate(str(exc))}")]
        # List problems in the order of the file's top-level keys (missing keys last).
        order = {_key_text(k): i for i, k in enumerate(data)}
        problems = sorted(_dedupe(problems + parameter_problems),
                          key=lambda problem: order.get(problem[0].split(".", 1)[0], len(order)))
        if problems or scenario is None:
            raise ScenarioError(problems or [("", "invalid scenario")], path)
        return scenario

    def with_overrides(
        self, seed: int | None = None, months: int | None = None, scale: float | None = None
    ) -> Scenario:
        """A copy of the scenario with values given on the command line replacing the file's.

        Args:
            seed: New random seed, or None to keep the scenario's.
            months: New number of months, or None to keep the scenario's.
            scale: New population scale, or None to keep the scenario's.

        Returns:
            The new, validated scenario (this one is unchanged).

        Raises:
            ScenarioError: With path ``"command line"`` and keys ``seed``, ``months`` or
                ``population.scale`` if a new value is invalid.
        """
        data = self.to_dict()
        if seed is not None:
            data["seed"] = seed
        if months is not None:
            data["months"] = months
        if scale is not None:
            data["population"]["scale"] = scale
        return Scenario.from_dict(data, path=COMMAND_LINE)

    # ------------------------------------------------------------------ output

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain, JSON-serialisable data (every key, defaults included)."""
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        """The scenario as YAML text that :func:`load_scenario` reads back to an equal scenario."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, default_flow_style=False)

    def content_hash(self) -> str:
        """SHA-256 (hex) of the scenario's canonical JSON: equal content, equal hash; any change, another."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                               allow_nan=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def parameter_set(self) -> ParameterSet:
        """The full model parameter set: calibrated defaults with this scenario's overrides applied."""
        return ParameterSet(self.parameters)


# ---------------------------------------------------------------------- reading files


def read_scenario_data(path: str | Path) -> dict[str, Any]:
    """Read a scenario file into plain data, without checking its keys or values.

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
        raw = p.read_bytes()
    except ScenarioError:
        raise
    except (OSError, ValueError, TypeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise fail(f"cannot read the file: {_truncate(reason)}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise fail(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {line} cannot be decoded "
                   "(save the file as UTF-8)") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        raise fail(_yaml_message(exc)) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise fail(f"malformed YAML at line {line}, column {column}: character {exc.character!r} is not "
                   f"allowed in YAML ({exc.reason})") from None
    except RecursionError:
        raise fail("malformed YAML: nested too deeply to read") from None
    except Exception as exc:  # noqa: BLE001 - e.g. ValueError for integers with > 4300 digits
        raise fail(f"malformed YAML: {_truncate(str(exc))}") from None
    if data is None:
        raise fail("the file is empty: expected a scenario mapping with at least a 'name' key")
    if not isinstance(data, dict):
        raise fail("expected a mapping of scenario keys (" + ", ".join(Scenario.model_fields)
                   + f") at the top level, got {_describe(data)}")
    return data


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file.

    Args:
        path: The scenario's YAML file.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: Listing every problem with the file; no other exception escapes, whatever the
            file holds.
    """
    data = read_scenario_data(path)
    return Scenario.from_dict(data, path=str(path))


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    what = exc.problem or exc.context or "could not parse"
    if exc.context and exc.problem:
        what = f"{exc.problem} ({exc.context})"
    if isinstance(exc, yaml.constructor.ConstructorError):
        what += " (scenario files may only hold plain YAML: mappings, lists, text and numbers)"
    return f"malformed YAML{where}: {what}"


# ---------------------------------------------------------------------- validation helpers


def _check_parameters(value: Any) -> tuple[dict[str, float], list[tuple[str, str]]]:
    """Check a ``parameters:`` block: the valid overrides and one problem per invalid one."""
    if not isinstance(value, Mapping):
        expected = "expected a mapping of parameter names to numbers"
        return {}, [("parameters", f"{expected}, got {_describe(value)}")]
    problems: list[tuple[str, str]] = []
    numeric: dict[str, float] = {}
    for name, v in value.items():
        if not isinstance(name, str):
            problems.append((f"parameters.{_key_text(name)}",
                             f"parameter names must be text, got {_describe(name)}"))
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


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class holding the key at ``loc`` (a pydantic error location)."""
    model: type[BaseModel] = Scenario
    i = 0
    while i < len(loc) - 1:
        field = model.model_fields.get(str(loc[i]))
        if field is None:
            return None
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model, i = ann, i + 1
            continue
        # Mappings / lists of models (e.g. a future ``strands: {name: StrandSpec}``): skip the key/index.
        args = [a for a in get_args(ann) if isinstance(a, type) and issubclass(a, BaseModel)]
        if get_origin(ann) is not None and args and i + 1 < len(loc) - 1:
            model, i = args[-1], i + 2
            continue
        return None
    return model


def _expected(loc: tuple[Any, ...]) -> str | None:
    model = _model_at(loc)
    if model is None or not loc:
        return None
    field = model.model_fields.get(str(loc[-1]))
    extra = field.json_schema_extra if field is not None else None
    return extra.get("expected") if isinstance(extra, dict) else None  # type: ignore[return-value]


def _translate(exc: ValidationError) -> list[tuple[str, str]]:
    """Turn pydantic's errors into ``(key, message)`` pairs in the scenario's own words."""
    problems = []
    for err in exc.errors(include_url=False, include_context=False):
        loc = tuple(err.get("loc", ()))
        kind = err.get("type", "")
        value = err.get("input")
        key = ".".join(_key_text(part) for part in loc)
        if kind == "extra_forbidden":
            model = _model_at(loc)
            valid = list(model.model_fields) if model is not None else []
            unknown = loc[-1] if loc else value
            match = difflib.get_close_matches(str(unknown), valid, n=1, cutoff=0.6)
            hint = f" (did you mean {match[0]!r}?)" if match else f" (valid keys: {', '.join(valid)})"
            problems.append((key, f"unknown key {_key_text(unknown, quote=True)}{hint}"))
            continue
        if kind == "invalid_key":
            problems.append((key, f"unknown key {_describe(value)} (keys must be text)"))
            continue
        expected = _expected(loc)
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
