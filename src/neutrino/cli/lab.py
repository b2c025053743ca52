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
from rich.console import Console
from rich.table import Table

from neutrino.lab import resolve as rs
from neutrino.lab import state, topology

# when output goes to a file or a pipe, Rich would wrap tables at 80 columns: give them room
ERR = Console(stderr=True, width=None if sys.stderr.isatty() else 200)
OUT = Console(width=None if sys.stdout.isatty() else 200)


def _load(file: Path | None) -> topology.LabFile:
    try:
        return topology.load(file) if file else topology.default_lab()
    except topology.LabFileError as exc:
        raise click.ClickException(str(exc)) from exc


def _resolve(lab_file: topology.LabFile, name: str | None) -> rs.ResolvedLab:
    from neutrino.dataplane.ovs import detect_datapath_type

    try:
        return rs.resolve(lab_file, name=name, detected_datapath=detect_datapath_type())
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


def _lookup(name: str | None) -> rs.ResolvedLab:
    try:
        return state.load(state.pick(name))
    except (LookupError, topology.LabFileError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def lab() -> None:
    """An emulated cloud: controller, network node and computes as namespaces, one OVS each."""


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
    _plan_tables(resolved)


def _plan_tables(lab: rs.ResolvedLab) -> None:
    OUT.print(f"[bold]lab {lab.name}[/]  state {lab.state_dir}")
    sw = Table("switch (root namespace)", "stands for", title="underlay")
    for s in lab.switches:
        sw.add_row(s.name, s.purpose)
    OUT.print(sw)
    hosts = Table("host", "roles", "namespace", "management IP", "OVS bridges", "wires", "tunnel IP", "bridge_mappings", title="hosts")
    for h in lab.hosts:
        hosts.add_row(
            h.name,
            ",".join(h.roles),
            h.netns,
            f"{h.management_ip} (eth0)" if h.management_ip else "-",
            " ".join(h.bridges()) or "-",
            "\n".join(f"{w.host_end} ({w.bridge}) ↔ {w.root_end} on {w.switch}" for w in h.wires) or "-",
            h.tunnel_ip or "-",
            ",".join(f"{k}:{v}" for k, v in h.bridge_mappings.items()) or "-",
        )
    OUT.print(hosts)
    if lab.management:
        OUT.print(f"management: {lab.management.cidr} on {lab.management.switch}, root namespace {lab.management.root_address}; "
                  f"the API server on {lab.controller.name} at http://{lab.controller.address}:9696")
    if lab.outside:
        OUT.print(f"outside: namespace {lab.outside.netns}, {lab.outside.interface} {lab.outside.address} on {lab.outside.wire.switch}")


@lab.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="lab name (default: the file's name, else 'seed')")
@click.option("--json", "as_json", is_flag=True, help="print the lab's status as JSON when ready")
@click.option("--no-cloud", is_flag=True, help="only the dataplane: no API server, no agents")
@click.option("--bus", type=click.Choice(["http", "rabbitmq"]), default=None,
              help="the agents' bus: HTTP to the server, or RabbitMQ on the controller  [http]")
@click.option("--db", type=click.Choice(["sqlite", "postgresql"]), default=None,
              help="the server's database: SQLite, or PostgreSQL on the controller  [sqlite]")
def up(file: Path | None, name: str | None, as_json: bool, no_cloud: bool, bus: str | None, db: str | None) -> None:
    """Build the lab (idempotent); returns when every host's OVS, the server and the agents are up."""
    from neutrino.dataplane.errors import DataplaneError
    from neutrino.lab import cloud, realize
    from neutrino.lab.status import status

    lab_file = _load(file)
    started = time.monotonic()
    try:
        with _steps(as_json) as progress:
            done = realize.up(lab_file, name=name, source_file=str(file) if file else None, progress=progress)
            if not no_cloud:
                progress("API server and agents" + (f" ({bus or 'http'} bus, {db or 'sqlite'})" if bus or db else ""))
                cloud.start(done.lab, bus=bus, db=db)
                done.seconds = time.monotonic() - started
    except (realize.LabError, DataplaneError, ValueError, cloud.CloudError) as exc:
        raise click.ClickException(f"{exc}\n(remove what was built with: neutrino lab down --name {name or lab_file.name})") from exc
    doc = status(done.lab)
    doc["seconds"] = round(done.seconds, 3)
    if as_json:
        _print_json(doc)
        return
    _status_tables(doc)
    if doc.get("cloud"):
        ERR.print(f"API: {doc['cloud']['url']}  clients: OS_CLIENT_CONFIG_FILE={doc['cloud']['clouds_yaml']} OS_CLOUD=neutrino openstack network list")
    ERR.print(
        f"[green]lab {done.lab.name} up in {done.seconds:.2f} s[/]. Next: "
        f"`neutrino lab exec {done.lab.hosts[-1].name} -- ovs-vsctl show`, "
        f"`neutrino vm create vm1 --host {done.lab.hosts[-1].name} --mac fa:16:3e:00:00:01 --ip 10.0.0.1/24`, "
        f"`neutrino lab down --name {done.lab.name}`"
    )


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
        click.echo("no lab is up")
        return
    names = [state.pick(name)] if name or len(state.labs()) == 1 else state.labs()
    docs = [status(_lookup(n)) for n in names]
    if as_json:
        _print_json(docs[0] if name or len(docs) == 1 else docs)
        return
    for doc in docs:
        _status_tables(doc)


def _status_tables(doc: dict[str, Any]) -> None:
    health = "[green]healthy[/]" if doc["healthy"] else "[red]degraded[/]"
    OUT.print(f"[bold]lab {doc['name']}[/] {health}  state {doc['state_dir']}")
    t = Table("host", "roles", "namespace", "OVS (pids)", "bridges", "tunnel IP", title="hosts")
    for h in doc["hosts"]:
        ovs = h.get("ovs")
        if ovs is None:
            ovs_text = "-"
        else:
            pids = ovs["pids"]
            ovs_text = ("" if ovs["running"] else "[red]down[/] ") + " ".join(
                f"{k.split('-')[-1]}:{v or '✗'}" for k, v in pids.items()
            )
        t.add_row(
            h["name"],
            ",".join(h["roles"]),
            h["netns"] + ("" if h["netns_present"] else " [red](missing)[/]"),
            ovs_text,
            " ".join(h.get("bridges", [])) or "-",
            h["tunnel_ip"] or "-",
        )
    OUT.print(t)
    s = Table("switch", "stands for", "present", title="underlay (root namespace)")
    for sw in doc["switches"]:
        s.add_row(sw["name"], sw["purpose"], "yes" if sw["present"] else "[red]no[/]")
    OUT.print(s)
    if doc.get("cloud"):
        c = doc["cloud"]
        OUT.print(f"API server: {c['url']}; clouds.yaml {c['clouds_yaml']}")
    if doc.get("processes"):
        p = Table("process", "node", "pid", "health", "restarts", "log", title="processes")
        for proc in doc["processes"]:
            colour = "green" if proc["health"] == "running" else ("yellow" if proc["health"] == "stopped" else "red")
            p.add_row(proc["name"], proc["node"], str(proc["pid"] or "-"), f"[{colour}]{proc['health']}[/]",
                      str(proc["restarts"]), proc["log"])  # fmt: skip
        OUT.print(p)
    if doc["outside"]:
        o = doc["outside"]
        OUT.print(f"outside: {o['netns']} {' '.join(o['addresses']) or o['address']}")
    if doc["instances"]:
        v = Table("instance", "host", "MAC", "IP", "port", title="instances")
        for vm in doc["instances"]:
            v.add_row(vm["name"], vm["host"], vm["mac"], vm["ip"] or "-", vm["port_id"])
        OUT.print(v)


@lab.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("host")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--name", help="which lab (default: the only one up)")
def exec_cmd(host: str, command: tuple[str, ...], name: str | None) -> None:
    """Run COMMAND on emulated HOST (its namespace; ovs-* tools reach its OVS)."""
    lab_ = _lookup(name)
    try:
        h = lab_.host(host)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    argv = list(command[1:] if command and command[0] == "--" else command)
    env = {**os.environ, **h.context.ovs_env}
    sys.stdout.flush()
    os.execvpe("ip", ["ip", "netns", "exec", h.netns, *argv], env)


@lab.command()
@click.option("--name", help="which lab (default: the only one up)")
@click.option("--json", "as_json", is_flag=True)
def down(name: str | None, as_json: bool) -> None:
    """Remove exactly what the lab created: processes, namespaces, root links, state."""
    from neutrino.lab import teardown

    try:
        lab_name = state.pick(name)
    except LookupError as exc:
        if name is None:
            raise click.ClickException(str(exc)) from exc
        lab_name = name
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
@click.option("--name", default="seed", show_default=True, help="lab name")
@click.option("--json", "as_json", is_flag=True)
@click.option("--bus", type=click.Choice(["http", "rabbitmq"]), default="http", show_default=True,
              help="the agents' bus: HTTP to the server, or RabbitMQ on the controller")
@click.option("--db", type=click.Choice(["sqlite", "postgresql"]), default="sqlite", show_default=True,
              help="the server's database: SQLite, or PostgreSQL on the controller")
def demo(name: str, as_json: bool, bus: str, db: str) -> None:
    """The seed's whole cloud: build it through the API, verify it with real traffic, keep it."""
    from neutrino.dataplane.errors import DataplaneError
    from neutrino.lab import demo as dm
    from neutrino.lab.api import ApiError
    from neutrino.lab.cloud import CloudError
    from neutrino.lab.instances import InstanceError
    from neutrino.lab.realize import LabError

    try:
        with _steps(as_json) as progress:
            result = dm.run(name, progress=progress, bus=bus, db=db)
    except (dm.DemoError, LabError, CloudError, ApiError, InstanceError, DataplaneError) as exc:
        raise click.ClickException(f"{exc}\n(remove what was built with: neutrino lab down --name {name})") from exc
    info = dm.cloud.info(result.lab) or {}
    if as_json:
        _print_json({"ok": result.ok, "name": name, "seconds": {k: round(v, 2) for k, v in result.seconds.items()},
                     "checks": [c.__dict__ for c in result.checks], "facts": result.facts, "cloud": info})  # fmt: skip
    else:
        t = Table("check", "result", "detail", title=f"lab {name}: the seed's cloud, verified")
        for c in result.checks:
            t.add_row(c.name, "[green]pass[/]" if c.ok else "[red]FAIL[/]", c.detail)
        OUT.print(t)
        secs = result.seconds
        OUT.print(
            f"{'all checks passed' if result.ok else 'SOME CHECKS FAILED'} — {secs['total']:.1f} s from nothing "
            f"(lab {secs['lab up']:.1f} s, server and agents {secs['server and agents']:.1f} s, "
            f"scenario {secs['scenario']:.1f} s, checks {secs['checks']:.1f} s)\n\n"
            "Explore it:\n"
            f"  export OS_CLIENT_CONFIG_FILE={info.get('clouds_yaml')} OS_CLOUD=neutrino\n"
            "  openstack network list; openstack port list --long; openstack router show router1; openstack floating ip list\n"
            f"  neutrino vm list; neutrino vm exec vm1 -- ip addr; neutrino vm exec vm3 -- ping -c 2 {result.facts['vms']['vm4'].split('/')[0]}\n"
            "  neutrino lab exec compute1 -- ovs-ofctl dump-flows br-int; neutrino lab exec network -- ip netns\n"
            f"  neutrino lab down{'' if name == 'seed' else ' --name ' + name}      # removes everything",
            highlight=False,
        )
    if not result.ok:
        sys.exit(1)


@lab.command()
@click.option("--keep", is_flag=True, help="leave the namespaces for exploring (remove: run basics again)")
@click.option("--json", "as_json", is_flag=True)
def basics(keep: bool, as_json: bool) -> None:
    """The seed's first example: 4 namespaces, 4 veth pairs, one bridge; ping and TCP; cleaned up."""
    from neutrino.lab import basics as ex
    from neutrino.lab.realize import LabError, preflight

    try:
        preflight()
    except LabError as exc:
        raise click.ClickException(str(exc)) from exc
    with _steps(as_json) as progress:
        result = ex.run(progress=progress, keep=keep)
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

    for command in (lab_processes.agent_group, lab_processes.server_group, lab_processes.supervise):
        lab.add_command(command)


_add_process_commands()
