"""Run ``neutrino ARGS...`` and, when it exits, write the names of every module it had loaded
to the file named by NEUTRINO_MODULES_OUT: how a test sees the sys.modules of a running agent."""

import atexit
import os
import sys


def _dump() -> None:
    with open(os.environ["NEUTRINO_MODULES_OUT"], "w") as out:
        out.write("\n".join(sorted(sys.modules)))


atexit.register(_dump)
from neutrino.cli.main import cli  # noqa: E402

cli(prog_name="neutrino")
