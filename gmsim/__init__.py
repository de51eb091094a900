"""gmsim: an agent-based simulation of the Greater Manchester labour market for work-and-health policy."""

__version__ = "0.1.0"
