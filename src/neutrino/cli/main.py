"""``neutrino``: one command, a subcommand per role."""

from __future__ import annotations

import click

from neutrino import __version__
from neutrino.cli.agent import agent
from neutrino.cli.db import db
from neutrino.cli.identity import identity
from neutrino.cli.lab import lab
from neutrino.cli.server import server
from neutrino.cli.vm import vm


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="neutrino")
def cli() -> None:
    """neutrino: the OpenStack Neutron networking model on real Linux."""


cli.add_command(server)
cli.add_command(db)
cli.add_command(identity)
cli.add_command(agent)
cli.add_command(lab)
cli.add_command(vm)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
