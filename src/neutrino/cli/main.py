"""``neutrino``: one command, a subcommand per role, each imported only when it runs."""

from __future__ import annotations

import click

from neutrino import __version__
from neutrino.cli.lazy import LazyGroup


@click.group(
    cls=LazyGroup,
    lazy={
        "server": "neutrino.cli.server:server",
        "db": "neutrino.cli.db:db",
        "identity": "neutrino.cli.identity:identity",
        "agent": "neutrino.cli.agent:agent",
        "lab": "neutrino.cli.lab:lab",
        "vm": "neutrino.cli.vm:vm",
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="neutrino")
def cli() -> None:
    """neutrino: the OpenStack Neutron networking model on real Linux."""


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
