"""Run a program: argv only (never a shell), optionally inside a network namespace, with a
timeout, and a typed failure.

Inside a namespace the program runs through ``ip netns exec``, which also gives it the
namespace's view of ``/sys`` (docs/dataplane.md, "ip netns exec, daemons and cleanup"). ``env`` adds variables (OVS_RUNDIR and friends for
an emulated host's Open vSwitch). Failures raise ``CommandFailed`` (with argv, exit code and
stderr), ``CommandTimeout`` (temporary) or ``ProgramMissing``; ``check=False`` returns the
result instead of raising on a non-zero exit.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping, Sequence

from neutrino.dataplane.errors import CommandFailed, CommandTimeout, ProgramMissing

LOG = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 30.0


def netns_argv(argv: Sequence[str], netns: str | None) -> list[str]:
    return ["ip", "netns", "exec", netns, *argv] if netns else list(argv)


def run(
    argv: Sequence[str],
    *,
    netns: str | None = None,
    input: str | None = None,  # noqa: A002 - the subprocess name
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    full = netns_argv(argv, netns)
    run_env = {**os.environ, **env} if env else None
    LOG.debug("run %s", full)
    try:
        done = subprocess.run(
            full,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=run_env,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise ProgramMissing(full[0]) from exc
    except subprocess.TimeoutExpired as exc:
        raise CommandTimeout(full, timeout) from exc
    if netns and done.returncode != 0 and done.stderr.startswith(f'exec of "{argv[0]}" failed: No such file'):
        raise ProgramMissing(argv[0])
    if check and done.returncode != 0:
        raise CommandFailed(full, done.returncode, done.stdout, done.stderr)
    return done
