"""Interventions: the Working Well strands and researchers' own modules, as plug-ins behind one interface.

``Intervention`` is the class a module subclasses, ``register`` makes it available to scenarios by name,
and ``registered()`` lists every intervention available (the four Working Well strands are always there).
"""

from .base import COUNTERS, STOCK_COUNTERS, Intervention, effect_summary, register, registered

__all__ = ["COUNTERS", "STOCK_COUNTERS", "Intervention", "effect_summary", "register", "registered"]
