#!/usr/bin/env python3
"""Run a gmsim scenario: ``python run_sim.py [SCENARIO.yaml] [--out DIR] [--seed N] [--months N] [--scale X]``.

Same as the installed ``gmsim`` command; see ``python run_sim.py --help`` and docs/scenarios.md.
"""

import sys

from gmsim.cli import command

if __name__ == "__main__":
    sys.exit(command())
