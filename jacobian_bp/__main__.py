"""`python -m jacobian_bp`: the command line."""

import sys

from .entry import run

sys.exit(run())
