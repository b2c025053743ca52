"""Build a resolved lab on this machine: underlay switches, host namespaces, one Open vSwitch
per host with Neutron's bridges (docs/dataplane.md), and the outside host.

Idempotent: every step is "ensure", so ``up`` on a lab that is (partly) up completes it, and
restarts a killed ovs-vswitchd. Hosts are built in parallel (each in its own thread with its
own netlink socket): the work is mostly waiting for the kernel and for OVS daemons.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from neutrino.dataplane import exec as programs
from neutrino.dataplane.netlink import Netlink
from neutrino.dataplane.openflow import PROTOCOLS
from neutrino.dataplane.ovs import OvsInstance, detect_datapath_type
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.lab import ovs_port_plug, resolve
from neutrino.lab import state, topology

Progress = Callable[[str], None]
OWNER_KEY = "neutrino-lab"
REQUIRED_PROGRAMS = ("ip", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ethtool", "sysctl")


class LabError(RuntimeError):
    """The lab cannot be built here (not root, a program missing, a name taken)."""


@dataclass
class UpResult:
    lab: resolve.ResolvedLab
    seconds: float


def preflight() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (namespaces, veth, Open vSwitch)")
    from shutil import which

    missing = [p for p in REQUIRED_PROGRAMS if which(p) is None]
    if missing:
        raise LabError(f"missing programs: {', '.join(missing)} (the README's first command installs them)")


def up(
    lab_file: topology.LabFile,
    *,
    name: str | None = None,
    source_file: str | None = None,
    progress: Progress = lambda _s: None,
    root: os.PathLike[str] | None = None,
) -> UpResult:
    preflight()
    started = time.monotonic()
    detected = detect_datapath_type()
    kw = {"root": root} if root is not None else {}
    lab = resolve.resolve(lab_file, name=name, detected_datapath=detected, **kw)  # type: ignore[arg-type]
    existing = state.read_manifest(lab.name, lab.state_dir.parent)
    if existing is not None and existing["lab_file"] != lab.source:
        raise LabError(f"lab {lab.name} is already up with a different lab file; `./dev neutrino lab down --name {lab.name}` first")
    state.write_manifest(lab, detected, source_file)
    with Netlink() as netlink:
        progress(f"underlay switches ({len(lab.switches)})")
        for sw in lab.switches:
            netlink.add_bridge(sw.name)
            netlink.set_link(sw.name, up=True)
        if lab.management:
            _address_management(netlink, lab.management)
    progress(f"hosts ({len(lab.hosts)}): namespaces, wires, Open vSwitch ({detected} datapath)")
    with ThreadPoolExecutor(max_workers=min(8, len(lab.hosts))) as pool:
        for fut in [pool.submit(build_host, lab, h) for h in lab.hosts]:
            fut.result()
    if lab.outside:
        progress("outside host")
        build_outside(lab)
    return UpResult(lab=lab, seconds=time.monotonic() - started)


def _wire(netlink: Netlink, wire: resolve.Wire, netns: str, mtu: int) -> None:
    netlink.add_veth(wire.root_end, wire.host_end, netns=None, peer_netns=netns, mtu=mtu)
    netlink.set_link(wire.root_end, master=wire.switch, up=True)
    netlink.set_link(wire.host_end, netns=netns, up=True)


def _address_management(netlink: Netlink, mgmt: resolve.Management) -> None:
    """The root namespace's address on the management switch, unless the range is routed
    elsewhere already (another lab or the machine's own network): then a clear error."""
    import ipaddress

    net = ipaddress.ip_network(mgmt.cidr)
    if mgmt.root_address in netlink.addresses(mgmt.switch):
        return
    for route in netlink.routes():
        if route["dst"] != "default" and ipaddress.ip_network(route["dst"], strict=False).overlaps(net):
            raise LabError(
                f"the management network {net} overlaps the route to {route['dst']} on this machine; "
                "set management_network.cidr in the lab file"
            )
    netlink.add_address(mgmt.switch, mgmt.root_address)


def build_host(lab: resolve.ResolvedLab, host: resolve.ResolvedHost) -> None:
    with Netlink() as netlink:
        netlink.add_netns(host.netns)
        netlink.set_link("lo", netns=host.netns, up=True)
        if host.management and host.management_ip:
            _wire(netlink, host.management, host.netns, lab.mtu)
            netlink.add_address(host.management.host_end, host.management_ip, netns=host.netns)
        for wire in host.wires:
            _wire(netlink, wire, host.netns, lab.mtu)
        if host.linuxbridge and host.tunnel_ip:
            # the kernel's VXLAN devices route by this address: it sits on the tunnel wire itself
            netlink.add_address(host.tunnel_device, host.tunnel_ip, netns=host.netns)
            if not lab.kernel_only:
                # OVS userspace on the other end checks the outer UDP checksum the kernel's
                # VXLAN leaves to offload: fill it in here (docs/dataplane.md, "Checksum offload")
                programs.run(["ethtool", "-K", host.tunnel_device, "tx", "off"], netns=host.netns)
        if not host.has_ovs:
            return
        ctx = host.context
        OvsInstance(ctx).start(other_config=switch_settings(lab, host))
        owner = {OWNER_KEY: lab.name}
        afxdp = []
        with Ovsdb(ctx).transaction() as txn:
            for bridge in host.bridges():
                txn.add_bridge(bridge, datapath_type=host.datapath, protocols=PROTOCOLS, external_ids=owner)
            for wire in host.wires:
                if wire.bridge:
                    txn.add_bridge(wire.bridge, datapath_type=host.datapath, protocols=PROTOCOLS, external_ids=owner)
                    kind = ovs_port_plug.port_type(lab, host, mtu=lab.mtu, offloaded=ovs_port_plug.wire_offloaded(lab, host, wire))
                    txn.add_port(wire.bridge, wire.host_end, iface_type=kind.iface_type, options=kind.options or None)
                    if kind.iface_type:
                        afxdp.append(wire.host_end)
                        # generic XDP reads the frame's bytes: a VLAN tag the kernel keeps beside
                        # them (hardware-accelerated) would be lost (docs/dataplane.md, "AF_XDP ports")
                        programs.run(["ethtool", "-K", wire.root_end, "txvlan", "off"])
        ovs_port_plug.fall_back(host, afxdp)
        if host.tunnel_ip:
            # the tunnel endpoint lives on br-phy's internal port, whose bridge holds the NIC (docs/dataplane.md)
            _wait_link(netlink, resolve.TUNNEL_BRIDGE, host.netns)
            netlink.add_address(resolve.TUNNEL_BRIDGE, host.tunnel_ip, netns=host.netns)
            netlink.set_link(resolve.TUNNEL_BRIDGE, netns=host.netns, up=True, mtu=lab.mtu)


def switch_settings(lab: resolve.ResolvedLab, host: resolve.ResolvedHost) -> dict[str, str]:
    """What vswitchd must find in OVSDB when it starts: userspace TSO where the agents' decision
    enables it."""
    from neutrino.agent.l2 import offloads

    decision = offload_decision(lab, host)
    return {offloads.SETTING: decision.write_setting} if decision.write_setting else {}


def offload_decision(lab: resolve.ResolvedLab, host: resolve.ResolvedHost) -> Any:
    """The agents' decision (agent/l2/offloads.py) before they run: the detected datapath, OVS
    version and probe of the vswitchd binary (the agents find the same, cached per machine), and
    the lab file's agent setting ``userspace_tso_ports`` (the lab's, or the host's own)."""
    from neutrino.agent.l2 import offloads
    from neutrino.lab.nodes import lab_agent_settings

    kernel = host.datapath == "system"
    line, probe = _switch_binary(probe=not kernel)
    keeps, tunnels = probe or (None, None)
    tso_ports = bool(lab_agent_settings(lab, host.name).get("userspace_tso_ports"))
    facts = offloads.SwitchFacts(kernel, offloads.parse_version(line), None, None, keeps, tunnels)
    return offloads.decide(facts, tso_ports)


@functools.lru_cache(maxsize=2)
def _switch_binary(probe: bool) -> tuple[str, tuple[bool, bool] | None]:
    """The machine's ovs-vswitchd (the same binary on every emulated host): its version line and
    the probe's answer, once per process (every instance plug asks)."""
    from neutrino.dataplane.host import ROOT
    from neutrino.dataplane.offloads import HostOffloads

    adapter = HostOffloads(ROOT)
    line = adapter.vswitchd_version()
    return line, adapter.tso_probe(line) if probe else None


def _wait_link(netlink: Netlink, name: str, netns: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while netlink.link(name, netns=netns) is None:
        if time.monotonic() > deadline:
            raise LabError(f"{name} did not appear in {netns} within {timeout:g}s (see {netns}'s ovs-vswitchd.log)")
        time.sleep(0.02)


def build_outside(lab: resolve.ResolvedLab) -> None:
    out = lab.outside
    assert out is not None
    with Netlink() as netlink:
        netlink.add_netns(out.netns)
        netlink.set_link("lo", netns=out.netns, up=True)
        _wire(netlink, out.wire, out.netns, lab.mtu)
        netlink.add_address(out.interface, out.address, netns=out.netns)
    # traffic originates here and crosses OVS userspace: no checksum offload (docs/dataplane.md)
    programs.run(["ethtool", "-K", out.interface, "tx", "off"], netns=out.netns)
