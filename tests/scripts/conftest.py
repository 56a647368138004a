"""The tests here import the scripts' helper modules (`_common`,
`_mc_benchmark`, ...) as the scripts do: from `scripts/` on `sys.path`."""

import os
import sys

SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "scripts")
if SCRIPTS not in sys.path:
    sys.path.insert(0, SCRIPTS)
