"""Interventions: the Working Well strands as plug-in modules behind one interface."""
