"""``neutrino vm``: emulated instances plugged into a lab host the way Nova plugs a VM."""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table

from neutrino.cli.lab import OUT, _lookup, _print_json, require_root


@click.group()
@click.pass_context
def vm(ctx: click.Context) -> None:
    """Instances: a namespace with eth0 behind tap, qbr, qvb/qvo on br-int."""
    if "--help" not in sys.argv and "-h" not in sys.argv:
        require_root(f"vm {ctx.invoked_subcommand}")


@vm.command()
@click.argument("name")
@click.option("--network", help="create the port on this network through the API (name or id)")
@click.option("--port", "api_port", help="plug this existing API port (bound to the host here)")
@click.option("--static", is_flag=True, help="with --network/--port: set the port's address statically, no DHCP")
@click.option("--security-group", "security_groups", multiple=True, help="with --network: security group (repeatable)")
@click.option("--host", help="the emulated host (default with --network: the least loaded compute)")
@click.option("--mac", help="without --network: eth0's MAC (Neutron's are fa:16:3e:...)")
@click.option("--ip", help="static address, CIDR (e.g. 10.0.0.11/24); with --network: the fixed IP to ask for")
@click.option("--gw", "gateway", help="default gateway")
@click.option("--mtu", type=int, help="MTU of eth0 and the VIF devices (1450 on VXLAN networks)")
@click.option("--tag", type=int, help="local VLAN on br-int (normally set by the L2 agent)")
@click.option("--port-id", help="the port's id (iface-id); default a new UUID")
@click.option("--trunk", is_flag=True, help="with --network: the port is a trunk's parent (VLAN-aware instance)")
@click.option("--subport", "subports", multiple=True, metavar="NETWORK:VID",
              help="with --trunk: a subport on NETWORK, seen in the instance as eth0.VID (repeatable)")
@click.option("--lab", "lab_name", help="which lab (default: the only one up)")
@click.option("--json", "as_json", is_flag=True)
def create(name: str, network: str | None, api_port: str | None, static: bool, security_groups: tuple[str, ...], host: str | None, mac: str | None,
           ip: str | None, gateway: str | None, mtu: int | None, tag: int | None, port_id: str | None,
           trunk: bool, subports: tuple[str, ...], lab_name: str | None, as_json: bool) -> None:  # fmt: skip
    """Create instance NAME: from an API port (--network), or by hand (--host and --mac).

    With --trunk the port is a trunk's parent and each --subport NETWORK:VID a VLAN
    subinterface eth0.VID inside the instance (a userspace VLAN helper: this kernel has no
    8021q)."""
    from neutrino.dataplane.errors import DataplaneError
    from neutrino.lab import instances
    from neutrino.lab.api import ApiError
    from neutrino.lab.cloud import CloudError

    lab = _lookup(lab_name)
    try:
        if trunk or subports:
            from neutrino.lab import trunk_instances

            if not trunk or not network or api_port or mac or ip or static or tag or port_id or mtu:
                raise click.UsageError("--trunk takes --network (the parent's), --subport, --host, --security-group only")
            inst = trunk_instances.create(lab, name, network=network, host=host, security_groups=security_groups,
                                          subports=[trunk_instances.parse_subport(s) for s in subports])  # fmt: skip
        elif network or api_port:
            if mac or gateway or tag or port_id or mtu:
                raise click.UsageError("--network/--port take the MAC, gateway, MTU and VLAN from the API")
            inst = instances.create_from_api(lab, name, network=network, port_id=api_port, host=host,
                                             security_groups=security_groups, fixed_ip=ip,
                                             dhcp=False if static else None)  # fmt: skip
        else:
            if not host or not mac:
                raise click.UsageError("give --network, or --host and --mac")
            inst = instances.create(lab, name, host=host, mac=mac, ip=ip, gateway=gateway, mtu=mtu, tag=tag, port_id=port_id)
    except (instances.InstanceError, DataplaneError, ValueError, ApiError, CloudError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        _print_json(inst.to_dict())
        return
    d = inst.devices
    bridge = f"tbr-{inst.trunk_id[:10]} (trunk {inst.trunk_id})" if inst.trunk_id else "br-int"
    on_ovs = not lab.host(inst.host).linuxbridge
    path = (f"{d['tap']} → {d['qbr']} → {d['qvb']}/{d['qvo']} → {bridge}" if "qbr" in d
            else f"{d['tap']} → {bridge}" if on_ovs else f"{d['tap']} → its network's brq bridge")  # fmt: skip
    click.echo(
        f"instance {name} on {inst.host}: namespace {inst.netns}, eth0 {inst.mac} {inst.ip or '(no address)'}\n"
        f"  {path}"
        + (f" tag {tag}" if tag else "")
        + f"  (iface-id {inst.port_id})"
    )
    for sub in inst.subports:
        click.echo(f"  eth0.{sub['vid']} {sub['mac']} {sub.get('ip') or '(no address)'}  (subport {sub['port_id']})")


@vm.command()
@click.argument("name")
@click.option("--lab", "lab_name", help="which lab (default: the only one up)")
def dhcp(name: str, lab_name: str | None) -> None:
    """Ask for a DHCP lease again in instance NAME (picks up a changed fixed IP)."""
    from neutrino.lab import instances

    try:
        vm = instances.dhcp_lease(_lookup(lab_name), name)
    except instances.InstanceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"instance {name}: {vm.ip} router {vm.gateway or '-'} mtu {vm.mtu or '-'}")


@vm.command("add-subport")
@click.argument("name")
@click.argument("subports", nargs=-1, required=True, metavar="NETWORK:VID...")
@click.option("--lab", "lab_name", help="which lab (default: the only one up)")
def add_subport(name: str, subports: tuple[str, ...], lab_name: str | None) -> None:
    """Add subports to the trunk of instance NAME (made with --trunk): each a port on NETWORK,
    seen in the instance as eth0.VID, as a guest configures a new VLAN."""
    from neutrino.lab import instances, trunk_instances

    try:
        vm = trunk_instances.add_subports(_lookup(lab_name), name, [trunk_instances.parse_subport(s) for s in subports])
    except instances.InstanceError as exc:
        raise click.ClickException(str(exc)) from exc
    for sub in vm.subports:
        click.echo(f"  eth0.{sub['vid']} {sub['mac']} {sub.get('ip') or '(no address)'}  (subport {sub['port_id']})")


@vm.command("list")
@click.option("--lab", "lab_name", help="which lab (default: the only one up)")
@click.option("--json", "as_json", is_flag=True)
def list_cmd(lab_name: str | None, as_json: bool) -> None:
    """The lab's instances."""
    from neutrino.lab import instances

    found = instances.list_(_lookup(lab_name))
    if as_json:
        click.echo(json.dumps([i.to_dict() for i in found], indent=2))
        return
    t = Table("name", "host", "namespace", "MAC", "IP", "port (iface-id)")
    for i in found:
        t.add_row(i.name, i.host, i.netns, i.mac, i.ip or "-", i.port_id)
    OUT.print(t)


@vm.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--lab", "lab_name", help="which lab (default: the only one up)")
def exec_cmd(name: str, command: tuple[str, ...], lab_name: str | None) -> None:
    """Run COMMAND inside instance NAME."""
    from neutrino.lab import instances

    argv = list(command[1:] if command and command[0] == "--" else command)
    try:
        code = instances.run_in(_lookup(lab_name), name, argv)
    except instances.InstanceError as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


@vm.command()
@click.argument("name")
@click.option("--lab", "lab_name", help="which lab (default: the only one up)")
def delete(name: str, lab_name: str | None) -> None:
    """Unplug and remove instance NAME."""
    from neutrino.lab import instances

    try:
        instances.delete(_lookup(lab_name), name)
    except instances.InstanceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"instance {name} removed")
