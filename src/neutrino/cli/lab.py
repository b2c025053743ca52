"""``neutrino lab``: build, inspect and remove an emulated cloud on this machine.

``validate`` and ``plan`` read a lab file and need no root; ``up``, ``status``, ``exec`` and
``down`` act on the machine. Without a FILE the default lab (the seed's cloud) is used.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from neutrino.cli import lab_hints as hints
from neutrino.cli import lab_tables
from neutrino.cli.lab_output import ERR, OUT
from neutrino.lab import resolve
from neutrino.lab import state, topology

# when output goes to a file or a pipe, Rich would wrap tables at 80 columns: give them room


def _load(file: Path | None) -> topology.LabFile:
    try:
        return topology.load(file) if file else topology.default_lab()
    except topology.LabFileError as exc:
        raise click.ClickException(str(exc)) from exc


def _resolve(lab_file: topology.LabFile, name: str | None) -> resolve.ResolvedLab:
    from neutrino.dataplane.ovs import detect_datapath_type

    try:
        return resolve.resolve(lab_file, name=name, detected_datapath=detect_datapath_type())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _print_json(doc: Any) -> None:
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False))


@contextmanager
def _steps(quiet: bool) -> Iterator[Any]:
    """A progress callback: a Rich status line on a terminal, plain lines otherwise."""
    if quiet:
        yield lambda _s: None
        return
    if ERR.is_terminal:
        with ERR.status("starting") as status:
            yield lambda s: (status.update(s), ERR.log(s))
    else:
        yield lambda s: ERR.print(f"· {s}", highlight=False)


def _lookup(name: str | None) -> resolve.ResolvedLab:
    try:
        return state.load(state.pick(name))
    except (LookupError, topology.LabFileError) as exc:
        raise click.ClickException(str(exc)) from exc


NO_ROOT_NEEDED = {"validate", "plan", "schema"}


def require_root(command: str) -> None:
    """Root-only commands say so before touching anything (no half-built lab, no traceback)."""
    if os.geteuid() != 0:
        raise click.ClickException(f"`neutrino {command}` needs root (namespaces, Open vSwitch): run it as root")


@click.group()
@click.pass_context
def lab(ctx: click.Context) -> None:
    """An emulated cloud: controller, network node and computes as namespaces, one OVS each."""
    if ctx.invoked_subcommand not in NO_ROOT_NEEDED and "--help" not in sys.argv and "-h" not in sys.argv:
        require_root(f"lab {ctx.invoked_subcommand}")


@lab.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate(file: Path) -> None:
    """Check a lab file (no root needed)."""
    lab_file = _load(file)
    resolved = _resolve(lab_file, None)
    click.echo(f"{file}: valid: lab {resolved.name}, {len(resolved.hosts)} hosts, {len(resolved.switches)} switches")


@lab.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="lab name (default: the file's name, else 'seed')")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def plan(file: Path | None, name: str | None, as_json: bool) -> None:
    """Show every namespace, switch, wire, bridge and address the lab would create (no root)."""
    resolved = _resolve(_load(file), name)
    if as_json:
        _print_json(resolved.to_dict())
        return
    lab_tables.plan_tables(resolved)


@lab.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="lab name (default: the file's name, else 'seed')")
@click.option("--json", "as_json", is_flag=True, help="print the lab's status as JSON when ready")
@click.option("--no-cloud", is_flag=True, help="only the dataplane: no API server, no agents")
@click.option("--bus", type=click.Choice(["http", "rabbitmq"]), default=None,
              help="the agents' bus: HTTP to the server, or RabbitMQ on the controller  [http]")
@click.option("--db", type=click.Choice(["sqlite", "postgresql"]), default=None,
              help="the server's database: SQLite, or PostgreSQL on the controller  [sqlite]")
@click.option("--mechanism", type=click.Choice(["openvswitch", "linuxbridge"]), default=None,
              help="how hosts switch (the lab file's defaults.mechanism; a host's own mechanism: wins)")
def up(file: Path | None, name: str | None, as_json: bool, no_cloud: bool, bus: str | None, db: str | None,
       mechanism: str | None) -> None:  # fmt: skip
    """Build the lab (idempotent); returns when every host's OVS, the server and the agents are up."""
    from neutrino.dataplane.errors import DataplaneError
    from neutrino.lab import cloud, realize
    from neutrino.lab.status import status

    lab_file = _load(file)
    if mechanism:
        defaults = lab_file.defaults.model_copy(update={"mechanism": topology.Mechanism(mechanism)})
        lab_file = lab_file.model_copy(update={"defaults": defaults})
    hints.say_if_reused(name or lab_file.name, ERR)
    started = time.monotonic()
    try:
        with _steps(as_json) as progress:
            done = realize.up(lab_file, name=name, source_file=str(file) if file else None, progress=progress)
            if not no_cloud:
                progress("API server and agents" + (f" ({bus or 'http'} bus, {db or 'sqlite'})" if bus or db else ""))
                cloud.start(done.lab, bus=bus, db=db)
                done.seconds = time.monotonic() - started
    except (realize.LabError, DataplaneError, ValueError, cloud.CloudError) as exc:
        raise click.ClickException(f"{exc} (remove what was built with: ./dev neutrino lab down --name {name or lab_file.name})") from exc
    doc = status(done.lab)
    doc["seconds"] = round(done.seconds, 3)
    if as_json:
        _print_json(doc)
        return
    lab_tables.status_tables(doc)
    if doc.get("cloud"):
        ERR.print(f"API: {doc['cloud']['url']}  server log: {doc['cloud'].get('log') or done.lab.state_dir / 'server.log'}")
    name_opt = "" if done.lab.name == "seed" else f" --name {done.lab.name}"
    ERR.print(f"[green]lab {done.lab.name} up in {done.seconds:.2f} s[/]. Next:", highlight=False)
    ERR.print(hints.explore(done.lab.name, doc.get("cloud"), done.lab.hosts[-1].name), highlight=False, soft_wrap=True)
    ERR.print(f"  ./dev neutrino lab down{name_opt}      # removes everything", highlight=False, soft_wrap=True)


@lab.command("status")
@click.option("--name", help="which lab (default: the only one up)")
@click.option("--json", "as_json", is_flag=True)
def status_cmd(name: str | None, as_json: bool) -> None:
    """Hosts, namespaces, OVS pids and sockets, bridges, switches, addresses, instances."""
    from neutrino.lab.status import status

    if name is None and not state.labs():
        if as_json:
            _print_json([])
            return
        click.echo("no lab is up (start one with `./dev neutrino lab up`)")
        return
    names = [state.pick(name)] if name or len(state.labs()) == 1 else state.labs()
    docs = [status(_lookup(n)) for n in names]
    if as_json:
        _print_json(docs[0] if name or len(docs) == 1 else docs)
        return
    for doc in docs:
        lab_tables.status_tables(doc)


@lab.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("host")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--name", help="which lab (default: the only one up)")
def exec_cmd(host: str, command: tuple[str, ...], name: str | None) -> None:
    """Run COMMAND on emulated HOST (its namespace; ovs-* tools reach its OVS)."""
    lab_ = _lookup(name)
    if host == "outside" and lab_.outside is not None:
        netns, env = lab_.outside.netns, dict(os.environ)  # the world: no OVS of its own
    else:
        try:
            h = lab_.host(host)
        except KeyError as exc:
            raise click.ClickException(str(exc.args[0]) + (", outside" if lab_.outside else "")) from exc
        netns, env = h.netns, {**os.environ, **h.context.ovs_env}
    argv = list(command[1:] if command and command[0] == "--" else command)
    if not argv:
        raise click.UsageError("give the command to run after --")
    sys.stdout.flush()
    os.execvpe("ip", ["ip", "netns", "exec", netns, *argv], env)


@lab.command("logs")
@click.argument("which", required=False, metavar="[HOST|server]")
@click.option("-f", "--follow", is_flag=True, help="keep printing what is appended (tail -F)")
@click.option("-n", "--lines", default=50, show_default=True, help="last lines of each file")
@click.option("--name", help="which lab (default: the only one up)")
def logs_cmd(which: str | None, follow: bool, lines: int, name: str | None) -> None:
    """Show the lab's logs: the API server's (`server`), a host's OVS and dnsmasq, or all."""
    from neutrino.lab import logs

    files = logs.select(_lookup(name), which)
    if not files:
        raise click.ClickException(f"no logs for {which or 'this lab'} yet")
    sys.stdout.flush()
    os.execvp("tail", ["tail", "-n", str(lines), *(["-F"] if follow else []), *files])


@lab.command()
@click.option("--name", help="which lab (default: the only one up)")
@click.option("--json", "as_json", is_flag=True)
def down(name: str | None, as_json: bool) -> None:
    """Remove exactly what the lab created: processes, namespaces, root links, state."""
    from neutrino.lab import teardown

    if name is None and not state.labs():
        if as_json:
            _print_json({"name": None, "processes": [], "namespaces": [], "links": [], "state_dir": None})
        else:
            ERR.print("no lab is up: nothing to remove")
        return
    lab_name = state.pick(name)
    result = teardown.down(lab_name)
    doc = {
        "name": result.name,
        "processes": result.processes,
        "namespaces": result.namespaces,
        "links": result.links,
        "state_dir": result.state_dir,
    }
    if as_json:
        _print_json(doc)
        return
    if result.empty:
        ERR.print(f"lab {lab_name}: nothing to remove")
        return
    ERR.print(
        f"lab {lab_name} removed: {len(result.processes)} processes, {len(result.namespaces)} namespaces, "
        f"{len(result.links)} root links" + (f", {result.state_dir}" if result.state_dir else "")
    )


@lab.command()
def schema() -> None:
    """Print the lab file's JSON schema."""
    _print_json(topology.json_schema())


@lab.command()
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="lab file to build (default: the seed's lab; examples/ha.yaml: two network nodes, HA routers)")
@click.option("--name", help="lab name (default: the file's name, else 'seed')")
@click.option("--json", "as_json", is_flag=True)
@click.option("--bus", type=click.Choice(["http", "rabbitmq"]), default="http", show_default=True,
              help="the agents' bus: HTTP to the server, or RabbitMQ on the controller")
@click.option("--db", type=click.Choice(["sqlite", "postgresql"]), default="sqlite", show_default=True,
              help="the server's database: SQLite, or PostgreSQL on the controller")
@click.option("--mechanism", type=click.Choice(["openvswitch", "linuxbridge"]),
              help="how the hosts switch: Open vSwitch, or Linux bridges with kernel VXLAN (default: the lab file's)")
def demo(file: Path | None, name: str | None, as_json: bool, bus: str, db: str, mechanism: str | None) -> None:
    """The seed's whole cloud: build it through the API, verify it with real traffic, keep it."""
    from neutrino.dataplane.errors import DataplaneError
    from neutrino.lab import demo as lab_demo
    from neutrino.lab.api import ApiError
    from neutrino.lab.cloud import CloudError
    from neutrino.lab.instances import InstanceError
    from neutrino.lab.realize import LabError

    lab_file = _load(file)
    name = name or lab_file.name
    try:
        with _steps(as_json) as progress:
            result = lab_demo.run(name, progress=progress, bus=bus, db=db, mechanism=mechanism, file=lab_file)
    except (lab_demo.DemoError, LabError, CloudError, ApiError, InstanceError, DataplaneError) as exc:
        raise click.ClickException(f"{exc} (remove what was built with: ./dev neutrino lab down --name {name})") from exc
    info = lab_demo.cloud.info(result.lab) or {}
    if as_json:
        _print_json({"ok": result.ok, "name": name, "seconds": {k: round(v, 2) for k, v in result.seconds.items()},
                     "checks": [c.__dict__ for c in result.checks], "facts": result.facts, "cloud": info})  # fmt: skip
    else:
        on = "" if file is None else f" on {file.name}"
        t = Table("check", "result", "detail", title=f"lab {name}: the seed's cloud{on}, verified")
        for c in result.checks:
            t.add_row(c.name, "[green]pass[/]" if c.ok else "[red]FAIL[/]", c.detail)
        OUT.print(t)
        secs = result.seconds
        OUT.print(
            f"{'all checks passed' if result.ok else 'SOME CHECKS FAILED'} — {secs['total']:.1f} s from nothing "
            f"(lab {secs['lab up']:.1f} s, server and agents {secs['server and agents']:.1f} s, "
            f"scenario {secs['scenario']:.1f} s, checks {secs['checks']:.1f} s)\n\n"
            "Explore it (each line works as written from this directory):\n"
            + hints.demo(name, info.get("clouds_yaml"), result.facts["vms"]["vm4"].split("/")[0]),
            highlight=False,
        )
    if not result.ok:
        sys.exit(1)


@lab.command()
@click.option("--keep", is_flag=True, help="leave the namespaces for exploring (remove: run basics again)")
@click.option("--json", "as_json", is_flag=True)
def basics(keep: bool, as_json: bool) -> None:
    """The seed's first example: 4 namespaces, 4 veth pairs, one bridge; ping and TCP; cleaned up."""
    from neutrino.lab import basics as lab_basics
    from neutrino.lab.realize import LabError, preflight

    try:
        preflight()
    except LabError as exc:
        raise click.ClickException(str(exc)) from exc
    with _steps(as_json) as progress:
        result = lab_basics.run(progress=progress, keep=keep)
    if as_json:
        _print_json({"ok": result.ok, "seconds": round(result.seconds, 3), "built": result.built,
                     "checks": [c.__dict__ for c in result.checks]})  # fmt: skip
    else:
        t = Table("check", "result", "detail", title="seed example 1: namespaces on a Linux bridge")
        for c in result.checks:
            t.add_row(c.name, "[green]pass[/]" if c.ok else "[red]FAIL[/]", c.detail)
        OUT.print(t)
        ERR.print(f"{'all passed' if result.ok else 'FAILED'} in {result.seconds:.2f} s; " + ("namespaces kept" if keep else "everything removed"))
    if not result.ok:
        sys.exit(1)


def _add_process_commands() -> None:
    """``lab agent``, ``lab server`` and the hidden ``lab supervise`` (cli/lab_processes.py)."""
    from neutrino.cli import lab_processes

    for command in (lab_processes.agent_group, lab_processes.server_group, lab_processes.metrics, lab_processes.supervise):
        lab.add_command(command)


_add_process_commands()
