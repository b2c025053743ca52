"""``neutrino``: one command, a subcommand per role, each imported only when it runs.

Every expected failure ends the command with one line on stderr and exit status 1, decided here
once rather than in each command: click's own errors, every exception class neutrino defines
(lab, cloud, dataplane, API and domain errors are all deliberate messages), and the errors of
input and the machine (``ValueError``, ``LookupError``, ``OSError``; a ``PermissionError`` adds
that the command needs root). Anything else is a bug and keeps its traceback; so does every
error with ``NEUTRINO_DEBUG=1``.
"""

from __future__ import annotations

import os
from typing import Any

import click

from neutrino import __version__
from neutrino.cli.lazy import LazyGroup

EXPECTED_BUILTIN_ERRORS = (ValueError, LookupError, OSError)


def is_expected(exc: BaseException) -> bool:
    """An error whose message is the whole story for a user (see the module docstring)."""
    if isinstance(exc, EXPECTED_BUILTIN_ERRORS):
        return True
    return any(cls.__module__.startswith("neutrino.") for cls in type(exc).__mro__)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        text = message
    if isinstance(exc, PermissionError) and os.geteuid() != 0:
        text += " (this command needs root)"
    return text


class Neutrino(LazyGroup):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("NEUTRINO_DEBUG", "") not in ("", "0") or not is_expected(exc):
                raise
            raise click.ClickException(one_line(exc)) from exc


@click.group(
    cls=Neutrino,
    lazy={
        "server": "neutrino.cli.server:server",
        "db": "neutrino.cli.db:db",
        "identity": "neutrino.cli.identity:identity",
        "agent": "neutrino.cli.agent:agent",
        "lab": "neutrino.cli.lab:lab",
        "vm": "neutrino.cli.vm:vm",
        "trace": "neutrino.cli.trace:trace",
        "topology": "neutrino.cli.topology:topology",
        "audit": "neutrino.cli.audit:audit",
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="neutrino")
def cli() -> None:
    """neutrino: the OpenStack Neutron networking model on real Linux.

    Set NEUTRINO_DEBUG=1 to see the traceback behind an error."""


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
