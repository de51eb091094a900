"""An intervention's parameters: declared once as a pydantic model, their values read from its data file.

Every intervention has the parameters of :class:`InterventionParameters`: its unit cost, how long support
and its after-effects last, the waiting list's limits, its referral routes (:class:`Route`) and its
hazard ratios (:class:`Effect`, each with the evidence behind it and a 95% interval that uncertainty runs
draw from). A strand adds parameters of its own (who is eligible, say) by subclassing the model.

The values come from ``gmsim/data/interventions/<name>.yaml``, where each figure carries its value, unit,
source and a note, or from an intervention's ``defaults`` in code (a researcher's module), in the same
layout. A scenario overrides any of them by dotted name (``routes.gp.rate``, ``effects.out_of_work_to_in_work``,
``eligibility.min_severity``); the overrides are checked here, once per scenario, and each problem is
named by its dotted name in the scenario's own words.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from statistics import NormalDist
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from .. import codes
from ..parameters import read_data
from .funding import MAX_UNIT_COST_GBP, MIN_UNIT_COST_GBP

#: The standard normal's 97.5th percentile: a 95% interval's ends are this many standard deviations out.
Z975 = 1.959963984540054
#: Keys of a data file's entry that describe a figure rather than hold a parameter.
META = ("value", "unit", "source", "note", "range", "low", "high", "distribution", "description")


def _checked(expected: str, ok: Callable[[float], bool], whole: bool = False) -> BeforeValidator:
    """A validator of numbers that says, when one is refused, what was expected (``expected a ..., got ...``)."""

    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"expected a number, got {value!r}")
        if not ok(float(value)):
            raise ValueError(f"expected {expected}, got {value!r}")
        if whole:
            if float(value) != int(value):
                raise ValueError(f"expected a whole number of months, got {value!r}")
            return int(value)
        return float(value)

    return BeforeValidator(check)


def _unit(unit: str, description: str, **default: Any) -> Any:
    return Field(description=description, json_schema_extra={"unit": unit}, **default)


#: A hazard ratio: the factor a transition's monthly hazard is multiplied by (> 0).
HazardRatio = Annotated[
    float,
    _checked(
        "a hazard ratio > 0 and at most 1000 (beyond that the move is certain)",
        lambda v: 0 < v <= 1000,
    ),
]
#: A share or probability, from 0 to 1.
Share = Annotated[float, _checked("a share between 0 and 1", lambda v: 0 <= v <= 1)]
#: A monthly rate (hazard), from 0 to 5 (a hazard of 5 a month makes the event 99.3% likely each month).
NonNegative = Annotated[
    float,
    _checked(
        "a value from 0 to 5 a month (a hazard of 5 is 99.3% a month)",
        lambda v: 0 <= v <= 5,
    ),
]
#: The power of job readiness a referral route selects on, from -3 to 3 (0: no selection).
Selection = Annotated[
    float, _checked("a power from -3 to 3 (0: no selection on job readiness)", lambda v: -3 <= v <= 3)
]
#: A number of people (GM people), from 0 to 100 million.
People = Annotated[
    float, _checked("a number of people from 0 to 100,000,000 (GM has 1,781,000)", lambda v: 0 <= v <= 1e8)
]
#: A whole number of months, from 0 to 1200 (the longest run).
Months = Annotated[
    int, _checked("a value >= 0 and at most 1200 months (the longest run)", lambda v: 0 <= v <= 1200, whole=True)
]
#: The cost of one start (GBP), from 1 to 1 million.
UnitCostGbp = Annotated[
    float,
    _checked(
        "a number of GBP from 1 to 1,000,000 (a start costing under GBP 1 would fund places without limit)",
        lambda v: MIN_UNIT_COST_GBP <= v <= MAX_UNIT_COST_GBP,
    ),
]


def _severity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value not in range(len(codes.SEVERITIES)):
        levels = ", ".join(f"{k} {name}" for k, name in enumerate(codes.SEVERITIES))
        raise ValueError(f"expected a severity level ({levels}), got {value!r}")
    return int(value)


#: A severity level: an index into ``codes.SEVERITIES`` (0 none, 1 mild, 2 moderate, 3 complex).
Severity = Annotated[int, BeforeValidator(_severity)]


def _names_from(levels: tuple[str, ...]) -> Callable[[Any], list[str]]:
    def check(value: Any) -> list[str]:
        if not isinstance(value, list):
            raise ValueError(f"expected a list like {list(levels[:2])!r}, got {value!r}")
        for item in value:
            if not isinstance(item, str):
                raise ValueError(f"expected a list of names like {list(levels[:2])!r}, got a list holding {item!r}")
            if item not in levels:
                match = difflib.get_close_matches(item, levels, n=1, cutoff=0.6)
                hint = f"did you mean {match[0]!r}? " if match else ""
                raise ValueError(f"unknown name {item!r} ({hint}expected names from {', '.join(levels)})")
        return list(value)

    return check


#: A list of benefit names (``codes.BENEFITS``).
Benefits = Annotated[list[str], BeforeValidator(_names_from(codes.BENEFITS))]


class Route(BaseModel):
    """A referral route (Jobcentre, GP, employer, self-referral): how often it refers, and how many take it up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate: NonNegative = _unit("per month of eligibility", "Monthly referral hazard of an eligible person it reaches.")
    take_up: Share = _unit("share", "Share of its referrals who accept and join the waiting list.")
    selection: Selection = _unit(
        "power of job readiness",
        "How the route selects on job readiness: a person's referral hazard is multiplied by their job readiness "
        "to this power. 0 refers regardless of it (a mandatory route); 1 in proportion to it (a voluntary route "
        "that recruits the more job-ready).",
        default=0.0,
    )


class Effect(BaseModel):
    """A hazard ratio, the evidence behind it, and the prior uncertainty runs draw it from.

    The prior (``distribution: lognormal``) has ``value`` as its median and ``[low, high]`` as its 95%
    interval: the log-ratio is normal on each side of ``log(value)``, with the spread that puts 2.5% below
    ``low`` and 2.5% above ``high`` (a split log-normal; the ordinary log-normal when ``value`` is the
    interval's geometric midpoint). An interval that spans 1 gives weight to no effect and to harm.

    Attributes:
        value: The ratio runs use (> 0): 1 is no effect; the prior's median.
        low: Lower end of the 95% interval, or None if the ratio is not uncertain.
        high: Upper end of the 95% interval.
        distribution: The prior the interval is of (``lognormal``, as above).
        unit: What the ratio applies to (e.g. ``hazard ratio while supported``).
        source: Evidence id (``data/sources.yaml``, ``shared/data/evidence.yaml``) or ``assumption``.
        note: What the evidence found.
        translation: How the evidence's outcome measure became a monthly hazard ratio.
        transferability: How well the evidence carries over to this strand in GM (``high``: GM's own
            evaluation or a UK trial of the same service; ``moderate``: a similar service or population;
            ``low``: a different service, population or country; ``none``: no evidence, a judgement).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: HazardRatio
    low: HazardRatio | None = None
    high: HazardRatio | None = None
    distribution: Literal["lognormal"] | None = None
    unit: str = "hazard ratio"
    source: str = "assumption"
    note: str = ""
    translation: str = ""
    transferability: Literal["high", "moderate", "low", "none"] = "none"

    @model_validator(mode="after")
    def _interval_holds_value(self) -> Effect:
        if (self.low is None) != (self.high is None):
            raise ValueError("expected both low and high (a 95% interval), or neither")
        if self.low is not None and not self.low <= self.value <= self.high:
            raise ValueError(f"expected low <= value <= high, got {self.low} <= {self.value} <= {self.high}")
        return self

    def quantile(self, z: float) -> float:
        """The ratio at standard normal score ``z`` of the prior (``value`` at 0, ``low`` at -1.96)."""
        if self.low is None or self.high is None:
            return self.value
        return split_lognormal(self.value, self.low, self.high, z)

    def below(self, ratio: float) -> float:
        """The prior probability that the ratio is below ``ratio`` (the inverse of :meth:`quantile`)."""
        if self.low is None or self.high is None or self.low == self.high or ratio == self.value:
            return 0.5 if ratio == self.value else float(ratio > self.value)
        end = self.low if ratio < self.value else self.high
        return NormalDist().cdf(Z975 * math.log(ratio / self.value) / abs(math.log(end / self.value)))


def split_lognormal(median: float, low: float, high: float, z: float) -> float:
    """The value at standard normal score ``z`` of a split log-normal with this median and 95% interval."""
    if z == 0:
        return median
    end = low if z < 0 else high
    return median * math.exp(abs(z) * math.log(end / median) / Z975)


class InterventionParameters(BaseModel):
    """The parameters every intervention has (docs/model.md section 7.4).

    A strand with parameters of its own subclasses this model and names the subclass as its
    ``Parameters``. Fields are read by attribute: ``params.support_months``, ``params.routes["gp"].rate``,
    ``params.effects["out_of_work_to_in_work"].value``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit_cost_gbp: UnitCostGbp = _unit("GBP per start", "Cost of one start.")
    support_months: Months = _unit("months", "How long a participant is supported.")
    after_months: Months = _unit("months", "How long weaker after-effects last once support ends.", default=0)
    in_work_support_months: Months = _unit("months", "In-work support after a job entry (0: none).", default=0)
    max_wait_months: Months = _unit("months", "Referrals not started within this time lapse.")
    dropout_rate: NonNegative = _unit(
        "per month while waiting", "Monthly hazard of leaving the waiting list.", default=0
    )
    max_referrals: People | None = _unit(
        "people", "A cap on referrals over the run (GM people); none if null.", default=None
    )
    routes: dict[str, Route] = _unit("", "Referral routes by name.", default_factory=dict)
    effects: dict[str, Effect] = _unit("hazard ratio", "Ratios by transition while supported.", default_factory=dict)
    after_effects: dict[str, Effect] = _unit(
        "hazard ratio", "Ratios by transition after support.", default_factory=dict
    )
    in_work_effects: dict[str, Effect] = _unit("hazard ratio", "Ratios during in-work support.", default_factory=dict)
    effect_correlation: Share = _unit(
        "correlation",
        "Correlation of the normal scores its ratios are drawn with, each signed so that a high score helps: "
        "a service that works on one margin tends to work on the others.",
        default=0.0,
    )

    def ratios(self, group: str) -> dict[str, float]:
        """``{transition: hazard ratio}`` of one effect group (``effects``, ``after_effects``, ``in_work_effects``)."""
        return {t: e.value for t, e in getattr(self, group).items()}

    def names(self) -> dict[str, Any]:
        """Every parameter's value by dotted name (an effect's name is its ratio's: ``effects.<transition>``)."""
        return _flatten(self)

    def with_values(self, values: Mapping[str, Any]) -> InterventionParameters:
        """A copy with some parameters replaced by dotted name, validated (e.g. effects drawn for a replicate)."""
        raw = self.model_dump()
        for name, value in values.items():
            _set(raw, name, value)
        return type(self).model_validate(raw)


EFFECT_GROUPS = ("effects", "after_effects", "in_work_effects")


# ----- from data files and scenario overrides ----------------------------------------------------------------


def _field_type(annotation: Any, key: str) -> Any:
    """The annotation of ``key`` under ``annotation`` (a model's field, or a mapping's values), or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(key)
        return None if field is None else _unwrap(field.annotation)
    if get_origin(annotation) is dict:
        return _unwrap(get_args(annotation)[1])
    return None


def _unwrap(annotation: Any) -> Any:
    """The model or mapping type inside ``Annotated[...]`` or ``X | None``, else the annotation itself."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is not dict and len(args) == 1 and get_origin(annotation) is not list:
        return _unwrap(args[0])
    return annotation


def _is_effect(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Effect)


def values_of(node: Any, annotation: Any) -> Any:
    """The parameter values of a data-file entry: each figure's ``value``; an effect keeps its whole entry."""
    if _is_effect(annotation):
        return {k: v for k, v in node.items() if k in Effect.model_fields} if isinstance(node, Mapping) else node
    if isinstance(node, Mapping) and "value" in node:
        return node["value"]
    if isinstance(node, Mapping):
        return {k: values_of(v, _field_type(annotation, k)) for k, v in node.items() if k not in META}
    return node


def provenance_of(node: Any, annotation: Any, prefix: str = "") -> dict[str, dict[str, Any]]:
    """Unit, source, note and range of each figure of a data-file entry (not effects), by dotted name."""
    if _is_effect(annotation) or not isinstance(node, Mapping):
        return {}
    if "value" in node:
        return {prefix[:-1]: {k: node[k] for k in ("unit", "source", "note", "range") if k in node}}
    out: dict[str, dict[str, Any]] = {}
    for k, v in node.items():
        if k not in META:
            out.update(provenance_of(v, _field_type(annotation, k), f"{prefix}{k}."))
    return out


def _flatten(model: BaseModel, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    items = model.items() if isinstance(model, Mapping) else ((k, getattr(model, k)) for k in type(model).model_fields)
    for k, v in items:
        if isinstance(v, Effect):
            out[f"{prefix}{k}"] = v.value
        elif isinstance(v, (BaseModel, Mapping)):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _set(raw: dict[str, Any], name: str, value: Any) -> None:
    """Set dotted ``name`` in ``raw`` (plain data of a parameters model); an effect's name sets its ratio.

    An effect's interval moves with its ratio: its ends keep their ratio to the value (a scenario that
    doubles a ratio doubles its uncertainty's ends too).
    """
    *path, last = name.split(".")
    node = raw
    for k in path:
        node = node[k]
    if isinstance(node.get(last), Mapping) and "value" in node[last]:
        effect = {**node[last], "value": value}
        old = node[last]["value"]
        if effect.get("low") is not None and _positive(value) and _positive(old):
            # (capped at the largest ratio, so that a value out of bounds is the one problem reported)
            effect["low"], effect["high"] = (min(effect[end] * value / old, 1000.0) for end in ("low", "high"))
        node[last] = effect
    else:
        node[last] = value


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def check_overrides(
    cls: type[InterventionParameters], defaults: InterventionParameters, overrides: Mapping[str, Any], owner: str
) -> tuple[InterventionParameters | None, list[tuple[str, str]]]:
    """``defaults`` with ``overrides`` (by dotted name) applied and validated, and ``(name, problem)`` for each bad one.

    Args:
        cls: The parameters model.
        defaults: The intervention's defaults.
        overrides: ``{dotted name: value}``.
        owner: The intervention's name, for messages.

    Returns:
        The parameters (None if there was a problem), and the problems.
    """
    known = defaults.names()
    raw = defaults.model_dump()
    problems: list[tuple[str, str]] = []
    for name, value in overrides.items():
        if name not in known:
            match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6) if len(problems) < 20 else []
            hint = f" (did you mean {match[0]!r}?)" if match else ""
            problems.append((name, f"unknown parameter of {owner}{hint}"))
        else:
            _set(raw, name, value)
    try:
        params = cls.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = [str(part) for part in err["loc"]]
            if loc and loc[-1] == "value" and loc[0] in EFFECT_GROUPS:
                loc = loc[:-1]
            message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            problems.append((".".join(loc), message))
        params = None
    return (params if not problems else None), problems


def defaults_from(
    cls: type[InterventionParameters], node: Mapping[str, Any]
) -> tuple[InterventionParameters, dict[str, dict[str, Any]]]:
    """The parameters in a data file's ``parameters:`` entry (or ``defaults`` in code, laid out alike).

    Returns:
        The validated parameters, and each figure's unit, source, note and range by dotted name.

    Raises:
        ValueError: Naming every figure that is missing or invalid.
    """
    try:
        return cls.model_validate(values_of(node, cls)), provenance_of(node, cls)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {str(e.get('msg', '')).removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        )
        raise ValueError(problems) from None


def data_file(name: str) -> dict[str, Any]:
    """Parse ``data/interventions/<name>.yaml``."""
    return read_data(f"interventions/{name}.yaml")
