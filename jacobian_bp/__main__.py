"""`python -m jacobian_bp`: the command line."""

import sys

from .cli import main

sys.exit(main())
