"""``neutrino lab demo``: the seed's whole picture, built through the API and verified.

On the default lab: a VLAN network (physnet1, VID 100) and a VXLAN network, each with a
subnet; a router joining them with its gateway on the external network; instances on compute1
and compute2 on both networks, addressed by DHCP; a floating IP; a security group opening TCP
22 and ICMP from anywhere. Then real traffic checks, each a row of the table: DHCP leases,
instance to instance across hosts (TCP), VLAN to VXLAN through the router, SNAT seen from the
outside, DNAT to the floating IP, a port that stays blocked, the VID and VNI on the wire, and
the VXLAN MTU (a 1422-byte don't-fragment ping).

``mechanism="linuxbridge"`` builds the same cloud on Linux bridges (brq bridges, kernel VXLAN).
Where the kernel has no 8021q a Linux bridge host cannot carry a VLAN network: the first
network is then flat on physnet1, and the VID check is skipped with that reason.

``file`` runs the same scenario on another lab file (examples/ha.yaml): the instances go to
the lab's first two compute hosts, and on a lab with two network nodes the table also checks
the HA router's active and standby agents and each network's DHCP agents (lab/demo_ha.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.lab import cloud, instances, probes, realize, state, topology
from neutrino.lab import demo_ha, resolve
from neutrino.lab.api import LabApi
from neutrino.lab.probes import Check

VLAN_ID = 100


class DemoError(RuntimeError):
    pass


@dataclass
class DemoResult:
    lab: resolve.ResolvedLab
    checks: list[Check] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


def public_network(api: LabApi, lab: resolve.ResolvedLab, *, last_address: int) -> dict[str, Any]:
    """The external network ``public`` (flat, on the lab's outside wire, the outside host as its
    gateway) with addresses .10 to ``.last_address`` of the external /24 for routers and
    floating IPs; returns the network."""
    cidr = lab.external_cidr or "198.51.100.0/24"
    gateway = lab.outside.address.split("/")[0] if lab.outside else None
    network = api.request("POST", "networks", {"network": {
        "name": "public", "router:external": True, "provider:network_type": "flat",
        "provider:physical_network": lab.external_physnet}})["network"]  # fmt: skip
    base = cidr.rsplit(".", 1)[0]
    api.request("POST", "subnets", {"subnet": {
        "network_id": network["id"], "name": "public-subnet", "cidr": cidr, "ip_version": 4, "enable_dhcp": False,
        "gateway_ip": gateway, "allocation_pools": [{"start": f"{base}.10", "end": f"{base}.{last_address}"}]}})  # fmt: skip
    return network  # type: ignore[no-any-return]


def _build(api: LabApi, lab: resolve.ResolvedLab, vlan_ok: bool = True) -> dict[str, Any]:
    """The seed's scenario through the Neutron API; returns the objects' ids. Without
    ``vlan_ok`` the first network is flat (a Linux bridge host on a kernel without 8021q)."""
    ext = public_network(api, lab, last_address=99)
    provider = {"provider:network_type": "vlan", "provider:segmentation_id": VLAN_ID} if vlan_ok else {
        "provider:network_type": "flat"}  # fmt: skip
    vlan = api.request("POST", "networks", {"network": {
        "name": "vlan-net" if vlan_ok else "flat-net", "provider:physical_network": "physnet1", **provider}})["network"]  # fmt: skip
    vlan_sub = api.request("POST", "subnets", {"subnet": {
        "network_id": vlan["id"], "name": "vlan-subnet", "cidr": "10.0.1.0/24", "ip_version": 4}})["subnet"]  # fmt: skip
    vx = api.request("POST", "networks", {"network": {"name": "vxlan-net", "provider:network_type": "vxlan"}})["network"]
    vx_sub = api.request("POST", "subnets", {"subnet": {
        "network_id": vx["id"], "name": "vxlan-subnet", "cidr": "10.0.2.0/24", "ip_version": 4}})["subnet"]  # fmt: skip
    router = api.request("POST", "routers", {"router": {
        "name": "router1", "external_gateway_info": {"network_id": ext["id"]}}})["router"]  # fmt: skip
    for sub in (vlan_sub, vx_sub):
        api.request("PUT", f"routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    sg = api.request("POST", "security-groups", {"security_group": {"name": "ssh", "description": "TCP 22 and ICMP from anywhere"}})["security_group"]
    for rule in ({"protocol": "tcp", "port_range_min": 22, "port_range_max": 22}, {"protocol": "icmp"}):
        api.request("POST", "security-group-rules", {"security_group_rule": {
            "security_group_id": sg["id"], "direction": "ingress", "ethertype": "IPv4",
            "remote_ip_prefix": "0.0.0.0/0", **rule}})  # fmt: skip
    return {"ext": ext, "vlan": vlan, "vxlan": vx, "router": router, "sg": sg}


def run(name: str = "seed", progress: Callable[[str], None] = lambda _s: None, *, bus: str = "http",
        db: str = "sqlite", mechanism: str | None = None, file: topology.LabFile | None = None) -> DemoResult:  # fmt: skip
    """``bus``/``db``: ``rabbitmq``/``postgresql`` run the broker and the database on the
    controller too (lab/services.py); the checks are the same. ``file``: the lab to build (the
    seed's by default); ``mechanism`` overrides its hosts' switching."""
    started = time.monotonic()
    if name in state.labs():
        raise DemoError(f"lab {name} is already up: `./dev neutrino lab down --name {name}` first, or give --name")
    chosen = lab_file(mechanism, file)
    switching = "Linux bridges" if chosen.defaults.mechanism == "linuxbridge" else "Open vSwitch per host"
    progress(f"lab: hosts, underlay, {switching}")
    lab = realize.up(chosen, name=name, progress=progress).lab
    result = DemoResult(lab=lab)
    result.seconds["lab up"] = time.monotonic() - started
    progress("API server and agents")
    cloud.start(lab, bus=bus, db=db)
    result.seconds["server and agents"] = time.monotonic() - started - result.seconds["lab up"]
    api = LabApi(lab)
    t = time.monotonic()
    progress("networks, subnets, router, security group (through the API)")
    vlan_ok = vlan_supported(lab)
    objs = _build(api, lab, vlan_ok)
    c1, c2 = compute_hosts(lab)
    progress(f"instances on {c1} and {c2}, addressed by DHCP")
    specs = [("vm1", "vlan", c1), ("vm2", "vlan", c2), ("vm3", "vxlan", c1), ("vm4", "vxlan", c2)]
    vms = {}
    lease_s = {}
    for vm_name, net, host in specs:
        t_vm = time.monotonic()
        vms[vm_name] = instances.create_from_api(
            lab, vm_name, network=objs[net]["id"], host=host, security_groups=("default", objs["sg"]["id"])
        )
        lease_s[vm_name] = round(time.monotonic() - t_vm, 2)
    fip = api.request("POST", "floatingips", {"floatingip": {
        "floating_network_id": objs["ext"]["id"], "port_id": vms["vm1"].port_id}})["floatingip"]  # fmt: skip
    result.seconds["scenario"] = time.monotonic() - t
    t = time.monotonic()
    progress("checks")
    result.checks = checks(lab, api, objs, vms, fip)
    result.seconds["checks"] = time.monotonic() - t
    result.seconds["total"] = time.monotonic() - started
    result.facts = {
        "floating_ip": fip["floating_ip_address"],
        "vms": {k: v.ip for k, v in vms.items()},
        "port_create_to_lease_s": lease_s,
    }
    return result


def lab_file(mechanism: str | None = None, file: topology.LabFile | None = None) -> topology.LabFile:
    """The lab to build: ``file`` or the seed's, with ``mechanism`` (if given) as its default."""
    base = file or topology.default_lab()
    if mechanism is None:
        return base
    defaults = base.defaults.model_copy(update={"mechanism": topology.Mechanism(mechanism)})
    return base.model_copy(update={"defaults": defaults})


def compute_hosts(lab: resolve.ResolvedLab) -> tuple[str, str]:
    """The lab's first two compute hosts (the seed's compute1 and compute2), where the
    instances go: each network then spans two hosts."""
    computes = demo_ha.hosts_with(lab, "compute")
    if len(computes) < 2:
        raise DemoError(f"lab {lab.name} has {len(computes)} compute host(s): the demo needs two")
    return computes[0], computes[1]


def vlan_supported(lab: resolve.ResolvedLab) -> bool:
    """Whether every Linux bridge host can make VLAN subinterfaces (OVS hosts always can)."""
    from neutrino.dataplane.kernel_vxlan import KernelVxlan

    return all(KernelVxlan().vlan_supported(netns=h.netns) for h in lab.hosts if h.linuxbridge)


def _ip(vm: instances.Instance) -> str:
    return (vm.ip or "").split("/")[0]


def checks(lab: resolve.ResolvedLab, api: LabApi, objs: dict[str, Any], vms: dict[str, instances.Instance],
           fip: dict[str, Any]) -> list[Check]:  # fmt: skip
    out: list[Check] = []
    ports = {p["id"]: p for p in api.request("GET", "ports")["ports"]}
    for vm in vms.values():
        want = ports[vm.port_id]["fixed_ips"][0]["ip_address"]
        ok = _ip(vm) == want and ports[vm.port_id]["status"] == "ACTIVE"
        out.append(Check(f"DHCP lease {vm.name} on {vm.host}", ok, f"{vm.ip} via {vm.gateway}, MTU {vm.mtu}"))
    v1, v2, v3, v4 = (vms[n] for n in ("vm1", "vm2", "vm3", "vm4"))
    out += demo_ha.ha_checks(lab, api, objs["router"]["id"], [objs["vlan"], objs["vxlan"]])
    out.append(demo_ha.metadata(v4.netns, v4.name, v4.vm_uuid))
    first = objs["vlan"]["name"]
    vlan_ok = objs["vlan"]["provider:network_type"] == "vlan"
    out.append(probes.transfer(v1.netns, v2.netns, _ip(v2), name=f"{first}: vm1@{v1.host} → vm2@{v2.host}, TCP"))
    out.append(probes.transfer(v3.netns, v4.netns, _ip(v4), name=f"vxlan-net: vm3@{v3.host} → vm4@{v4.host}, TCP"))
    out.append(probes.transfer(v1.netns, v4.netns, _ip(v4), name=f"router: vm1 ({first}) → vm4 (VXLAN), TCP"))
    assert lab.outside is not None
    outside_ip = lab.outside.address.split("/")[0]
    gw_ip = objs_gateway_ip(api, objs["router"]["id"])
    snat = probes.transfer(v2.netns, lab.outside.netns, outside_ip, name="SNAT: vm2 → outside, TCP")
    out.append(Check(snat.name, snat.ok and snat.peer == gw_ip, f"the outside saw {snat.peer} (router gateway {gw_ip})"))
    addr = fip["floating_ip_address"]
    dnat = probes.transfer(lab.outside.netns, v1.netns, addr, port=22, name=f"DNAT: outside → {addr}:22 (vm1), TCP")
    out.append(Check(dnat.name, dnat.ok and dnat.peer == outside_ip, f"{dnat.detail}; vm1 saw {dnat.peer}"))
    blocked = probes.transfer(lab.outside.netns, v1.netns, addr, port=23, timeout=2)
    out.append(Check(f"security group: outside → {addr}:23 stays blocked", not blocked.ok,
                     "refused by the ssh/default groups" if not blocked.ok else "port 23 was reachable"))  # fmt: skip
    switch = next(s.name for s in lab.switches if s.purpose.startswith("physnet"))
    if vlan_ok:
        with probes.Capture(switch, "vlan and icmp", count=2) as cap:
            probes.ping(v1.netns, _ip(v2), count=2)
        where = (f"br-int on {v1.host} uses local VLAN {Ovsdb(lab.host(v1.host).context).port(instances.ovs_port(v1)).tag}"
                 if not lab.host(v1.host).linuxbridge else f"a VLAN subinterface on {v1.host}")  # fmt: skip
        seen = sorted({w for line in cap.lines for w in _vids(line)})
        out.append(Check(f"wire: {switch} carries VID {VLAN_ID}", seen == [VLAN_ID], f"VIDs seen {seen}; {where}"))
    else:
        out.append(Check(f"wire: {switch} carries VID {VLAN_ID}", True,
                         "skipped: this kernel has no 8021q, so Linux bridge hosts carry no VLAN network"))  # fmt: skip
    vni = objs["vxlan"]["provider:segmentation_id"]
    tunnel = next(s.name for s in lab.switches if s.purpose == "tunnel")
    with probes.Capture(tunnel, "udp port 4789", count=2) as cap:
        probes.ping(v3.netns, _ip(v4), count=2)
    out.append(Check(f"wire: {tunnel} carries VXLAN VNI {vni}", any(f"vni {vni}" in line for line in cap.lines),
                     f"{len(cap.lines)} VXLAN packets captured"))  # fmt: skip
    mtu = probes.ping_size(v3.netns, _ip(v4), size=1422)
    out.append(Check("MTU: 1422-byte don't-fragment ping across the tunnel", mtu.ok and v3.mtu == 1450,
                     f"{mtu.detail}; vm3's MTU {v3.mtu}"))  # fmt: skip
    return out


def objs_gateway_ip(api: LabApi, router_id: str) -> str | None:
    info = api.request("GET", f"routers/{router_id}")["router"]["external_gateway_info"] or {}
    ips = info.get("external_fixed_ips") or []
    return ips[0]["ip_address"] if ips else None


def _vids(line: str) -> list[int]:
    words = line.replace(",", " ").split()
    return [int(words[i + 1]) for i, w in enumerate(words[:-1]) if w == "vlan" and words[i + 1].isdigit()]
