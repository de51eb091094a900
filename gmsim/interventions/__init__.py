"""Interventions: the Working Well strands and researchers' own modules, as plug-ins behind one interface.

``Intervention`` is the class a module subclasses (:mod:`.intervention`), with its parameters declared as
a pydantic model (:mod:`.parameters`); ``register`` makes it available to scenarios by name, and
``registered()`` lists every intervention available (the four Working Well strands are always there). The
bookkeeping every intervention shares is its caseload (:mod:`.caseload`), and its effects are hazard
multipliers (:mod:`.multipliers`).
"""

from .caseload import COUNTERS, STOCK_COUNTERS, Caseload, Screen
from .funding import StrandSpec
from .intervention import REGISTRY, Intervention, effect_summary, register, registered
from .multipliers import HazardMultipliers
from .parameters import Effect, InterventionParameters, Route

__all__ = [
    "COUNTERS",
    "REGISTRY",
    "STOCK_COUNTERS",
    "Caseload",
    "Effect",
    "HazardMultipliers",
    "Intervention",
    "InterventionParameters",
    "Route",
    "Screen",
    "StrandSpec",
    "effect_summary",
    "register",
    "registered",
]
