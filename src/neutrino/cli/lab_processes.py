"""``neutrino lab agent|server stop|start``: one of a lab's processes, through its supervisor;
``lab metrics``: what one of them measures; and the hidden ``neutrino lab supervise`` that
``lab up`` starts (lab/supervisor.py)."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console

from neutrino.lab import state, topology

ERR = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


def _lab(name: str | None) -> Any:
    try:
        return state.load(state.pick(name))
    except (LookupError, topology.LabFileError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.command(hidden=True)
@click.option("--name", required=True)
def supervise(name: str) -> None:
    """Start and keep the lab's server and agents running, in the foreground (started by `lab up`)."""
    from neutrino.lab import supervisor

    lab_ = _lab(name)
    supervisor.serve(lab_)


def _process_command(action: str, name: str | None, process: str) -> None:
    """``lab agent|server stop|start``: one process, through the lab's supervisor."""
    from neutrino.lab import process_control

    lab_ = _lab(name)
    try:
        if action == "stop":
            pid = process_control.stop(lab_, process)
            ERR.print(f"{process}: stopped (pid {pid}); the supervisor leaves it stopped" if pid else f"{process}: was not running")
        else:
            pid = process_control.start(lab_, process)
            ERR.print(f"{process}: running, pid {pid}")
    except (KeyError, process_control.ProcessError) as exc:
        raise click.ClickException(str(exc.args[0])) from exc


@click.group("agent")
def agent_group() -> None:
    """Stop or start one host's agent process (the supervisor restarts agents that die, not stopped ones)."""


@agent_group.command("stop")
@click.argument("host")
@click.option("--name", help="which lab (default: the only one up)")
def agent_stop(host: str, name: str | None) -> None:
    """Stop HOST's agents for good: returns once the process is gone; nothing restarts it."""
    _process_command("stop", name, host)


@agent_group.command("start")
@click.argument("host")
@click.option("--name", help="which lab (default: the only one up)")
def agent_start(host: str, name: str | None) -> None:
    """Start HOST's agents again after `lab agent stop`."""
    _process_command("start", name, host)


@click.group("server")
def server_group() -> None:
    """Stop or start the lab's API server process (on the controller)."""


@server_group.command("stop")
@click.option("--name", help="which lab (default: the only one up)")
def server_stop(name: str | None) -> None:
    """Stop the server for good: returns once the process is gone."""
    _process_command("stop", name, "server")


@server_group.command("start")
@click.option("--name", help="which lab (default: the only one up)")
def server_start(name: str | None) -> None:
    """Start the server again after `lab server stop`."""
    _process_command("start", name, "server")


@click.command("metrics")
@click.argument("target", default="server")
@click.option("--name", help="which lab (default: the only one up)")
def metrics(target: str, name: str | None) -> None:
    """Print the Prometheus metrics of the lab's server (default) or of TARGET host's agents."""
    from neutrino.lab import cloud
    from neutrino.lab import metrics as lab_metrics

    lab_ = _lab(name)
    try:
        click.echo(lab_metrics.scrape(lab_, target), nl=False)
    except (lab_metrics.MetricsError, cloud.CloudError) as exc:
        raise click.ClickException(str(exc)) from exc
