"""Emulated instances (VMs): a namespace whose eth0 is plugged the hybrid way of the seed, or
straight on br-int when the port's binding says ``ovs_hybrid_plug`` False (an agent whose
firewall needs no qbr), or on a Linux bridge host as Nova's linuxbridge VIF does: just the
tap, which the Linux bridge agent makes a port of the network's brq bridge (no qbr, qvb or qvo).

As Nova and os-vif do it: tap<11> (the VM's NIC, here a veth whose other end is the instance's
eth0), a per-port Linux bridge qbr<11> (where security group rules apply), a veth qvb<11>/qvo<11>
from that bridge to br-int, and qvo's Interface row carrying external_ids iface-id (the port),
attached-mac, iface-status and vm-uuid, which is how the L2 agent recognises the port. The
instance's side has IPv6 off, and TX checksum offload off unless OVS takes offloads there
(docs/dataplane.md, "Checksum offload", "Userspace TSO", "IPv6 noise").

The address is static (``--ip``/``--gw``) for now; a later ``--port`` takes an API port and DHCP.

The plug starts no program: links, sysctls and the instance's checksum offload go through netlink
and the ethtool ioctl, and the OVS port is one OVSDB transaction on the host's connection, which
this process keeps open as Nova's os-vif does, as it keeps its netlink socket in the host's
namespace (``lab/host_connections.py``).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from neutrino.agent.l2.ovs_port_types import ASK_AFXDP, PortType
from neutrino.dataplane import exec as programs
from neutrino.dataplane.in_netns import call_in
from neutrino.dataplane.naming import QBR, QVB, QVO, TAP, device, hybrid_devices, trunk_bridge
from neutrino.dataplane.netlink import Netlink
from neutrino.dataplane.openflow import PROTOCOLS
from neutrino.lab import ovs_port_plug, resolve
from neutrino.lab.host_connections import host_links as _host_links, ovsdb as _ovsdb
from neutrino.lab.instance_offloads import ovs_takes_offloads

VM_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")


class InstanceError(ValueError):
    pass


@dataclass(frozen=True)
class Instance:
    name: str
    host: str
    netns: str
    port_id: str
    vm_uuid: str
    mac: str
    ip: str | None
    gateway: str | None
    mtu: int | None
    tag: int | None
    devices: dict[str, str]
    api_port: bool = False
    """The port was created through the API (deleted with the instance)."""
    trunk_id: str | None = None
    """The port is this trunk's parent: eth0 is plugged into tbr-<trunk> (lab/trunk_instances.py)."""
    subports: list[dict[str, Any]] = field(default_factory=list)
    """Per VLAN subinterface eth0.<vid>: vid, port_id, mac, ip (lab/trunk_instances.py)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _dir(lab: resolve.ResolvedLab) -> Any:
    return lab.state_dir / "instances"


def list_(lab: resolve.ResolvedLab) -> list[Instance]:
    d = _dir(lab)
    if not d.is_dir():
        return []
    return [Instance(**json.loads(p.read_text())) for p in sorted(d.glob("*.json"))]


def get(lab: resolve.ResolvedLab, name: str) -> Instance:
    path = _dir(lab) / f"{name}.json"
    if not path.exists():
        raise InstanceError(f"lab {lab.name} has no instance {name!r}")
    return Instance(**json.loads(path.read_text()))


def create(
    lab: resolve.ResolvedLab,
    name: str,
    *,
    host: str,
    mac: str,
    ip: str | None = None,
    gateway: str | None = None,
    mtu: int | None = None,
    tag: int | None = None,
    port_id: str | None = None,
    api_port: bool = False,
    trunk_id: str | None = None,
    hybrid: bool | None = None,
    network: tuple[str | None, int | None] | None = None,
) -> Instance:
    """``hybrid``: the binding's ``vif_details.ovs_hybrid_plug`` (as Nova and os-vif plug by
    it); None: what the lab's agents report (hybrid unless their firewall is off). ``network``:
    the port network's type and MTU, when known (``instance_offloads``)."""
    if not VM_NAME.match(name):
        raise InstanceError(f"instance name {name!r}: 1-31 characters, a-z then a-z0-9 and '-'")
    mac = mac.lower()
    if not MAC.match(mac):
        raise InstanceError(f"invalid MAC address {mac!r}")
    if tag is not None and not 1 <= tag <= 4094:
        raise InstanceError(f"local VLAN tag {tag} out of range 1-4094")
    try:
        h = lab.host(name=host)
    except KeyError as exc:
        raise InstanceError(str(exc.args[0])) from None
    if not h.has_dataplane:
        raise InstanceError(f"host {host} runs no L2 agent (roles: {', '.join(h.roles)}); use a compute host")
    if (_dir(lab) / f"{name}.json").exists():
        raise InstanceError(f"instance {name!r} exists in lab {lab.name}")
    port_id = port_id or str(uuid.uuid4())
    vm = Instance(
        name=name,
        host=host,
        netns=lab.vm_namespace(name),
        port_id=port_id,
        vm_uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"neutrino-lab:{lab.name}:{name}")),
        mac=mac,
        ip=ip,
        gateway=gateway,
        mtu=mtu,
        tag=tag,
        devices={TAP: device(TAP, port_id)} if h.linuxbridge or not _hybrid(lab, h, hybrid) else hybrid_devices(port_id),
        api_port=api_port,
        trunk_id=trunk_id,
    )
    _dir(lab).mkdir(parents=True, exist_ok=True)
    (_dir(lab) / f"{name}.json").write_text(json.dumps(vm.to_dict(), indent=2))
    try:
        offloads = lab.kernel_only or ovs_takes_offloads(lab, h, vm, network)
        plug(h, vm, checksum_offload=offloads, port_type=_port_type(lab, h, vm, network, offloads))
    except Exception:
        unplug(h, vm)
        (_dir(lab) / f"{name}.json").unlink(missing_ok=True)
        raise
    return vm


def create_from_api(
    lab: resolve.ResolvedLab,
    name: str,
    *,
    network: str | None = None,
    port_id: str | None = None,
    host: str | None = None,
    security_groups: tuple[str, ...] = (),
    fixed_ip: str | None = None,
    dhcp: bool | None = None,
) -> Instance:
    """Plug an API port, as Nova does: a new one on ``network`` (bound to the host), or the
    existing ``port_id`` (bound here). The address comes by DHCP when the port's subnet has
    it (``dhcp=None``), else it is set statically from the port's fixed IP and the MTU."""
    from neutrino.lab.api import LabApi

    if (_dir(lab) / f"{name}.json").exists():
        raise InstanceError(f"instance {name!r} exists in lab {lab.name}")
    if (network is None) == (port_id is None):
        raise InstanceError("give a network or a port")
    api = LabApi(lab)
    host = host or _least_loaded_compute(lab)
    vm_uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"neutrino-lab:{lab.name}:{name}"))
    binding = {"device_owner": "compute:nova", "device_id": vm_uuid, "binding:host_id": host}
    if port_id is not None:  # an unnamed port takes the instance's name (the metadata's "name", docs/metadata.md)
        named = {} if api.request("GET", f"ports/{port_id}")["port"].get("name") else {"name": name}
        port = api.request("PUT", f"ports/{port_id}", {"port": {**binding, **named}})["port"]
        created = False
    else:
        body: dict[str, Any] = {"network_id": api.find("networks", network)["id"], "name": name, **binding}  # type: ignore[arg-type]
        if fixed_ip:
            body["fixed_ips"] = [{"ip_address": fixed_ip.split("/")[0]}]
        if security_groups:
            body["security_groups"] = [api.find("security-groups", sg)["id"] for sg in security_groups]
        port = api.request("POST", "ports", {"port": body})["port"]
        created = True
    net = api.request("GET", f"networks/{port['network_id']}")["network"]
    try:
        ip = gw = None
        use_dhcp = False
        if port["fixed_ips"]:
            fixed = port["fixed_ips"][0]
            subnet = api.request("GET", f"subnets/{fixed['subnet_id']}")["subnet"]
            use_dhcp = subnet["enable_dhcp"] if dhcp is None else dhcp
            if not use_dhcp:
                ip = f"{fixed['ip_address']}/{subnet['cidr'].split('/')[1]}"
                gw = subnet.get("gateway_ip")
        hybrid = (port.get("binding:vif_details") or {}).get("ovs_hybrid_plug")
        vm = create(lab, name, host=host, mac=port["mac_address"], ip=ip, gateway=gw, mtu=None if use_dhcp else net.get("mtu"),
                    port_id=port["id"], api_port=created, hybrid=hybrid,
                    network=(net.get("provider:network_type"), net.get("mtu")))  # fmt: skip
        if use_dhcp:
            # as Nova waits for network-vif-plugged before booting: DHCP once the port is ACTIVE
            _wait_active(api, port["id"])
            vm = dhcp_lease(lab, name)
        return vm
    except Exception:
        if created:
            api.request("DELETE", f"ports/{port['id']}")
        raise


def _hybrid(lab: resolve.ResolvedLab, host: resolve.ResolvedHost, binding: bool | None) -> bool:
    if binding is not None:
        return bool(binding)
    from neutrino.lab.nodes import agent_config

    return agent_config(lab, host).ovs_hybrid_plug


UDHCPC_SCRIPT = Path(__file__).with_name("udhcpc.sh")


def _wait_active(api: Any, port_id: str, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while api.request("GET", f"ports/{port_id}?fields=status")["port"]["status"] != "ACTIVE":
        if time.monotonic() > deadline:
            return  # DHCP will tell: udhcpc retries, and fails with a clear message
        time.sleep(0.02)


def dhcp_lease(lab: resolve.ResolvedLab, name: str, attempts: int = 10) -> Instance:
    """Run busybox udhcpc in the instance (again: a renewal picks up a changed fixed IP); the
    lease's address, router and MTU are applied by ``udhcpc.sh`` and recorded."""
    vm = get(lab, name)
    argv = ["busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", str(attempts), "-T", "1",
            "-O", "staticroutes", "-O", "mtu", "-s", str(UDHCPC_SCRIPT)]  # fmt: skip
    done = programs.run(argv, netns=vm.netns, check=False, timeout=attempts * 3 + 5)
    lease = {}
    for line in done.stdout.splitlines():
        if line.startswith("udhcpc.sh: bound"):
            lease = dict(kv.split("=", 1) for kv in line.split()[2:] if "=" in kv)
    if not lease.get("ip"):
        raise InstanceError(f"instance {name}: no DHCP lease ({(done.stdout + done.stderr).strip()[-300:]})")
    prefix = ipaddress.ip_network(f"0.0.0.0/{lease['mask']}").prefixlen if "." in lease.get("mask", "") else lease.get("mask")
    vm = replace(vm, ip=f"{lease['ip']}/{prefix}", gateway=(lease.get("router") or "").split(" ")[0] or None,
                 mtu=int(lease["mtu"]) if lease.get("mtu") else vm.mtu)  # fmt: skip
    (_dir(lab) / f"{name}.json").write_text(json.dumps(vm.to_dict(), indent=2))
    return vm


def _least_loaded_compute(lab: resolve.ResolvedLab) -> str:
    computes = [h.name for h in lab.hosts if "compute" in h.roles]
    if not computes:
        raise InstanceError(f"lab {lab.name} has no compute host")
    load = {c: 0 for c in computes}
    for vm in list_(lab):
        if vm.host in load:
            load[vm.host] += 1
    return min(computes, key=lambda c: (load[c], computes.index(c)))


def _port_type(lab: resolve.ResolvedLab, host: resolve.ResolvedHost, vm: Instance,
               network: tuple[str | None, int | None] | None, instance_offloads: bool) -> PortType | None:  # fmt: skip
    """AF_XDP or AF_PACKET for the instance's OVS port (``lab/ovs_port_plug.py``); None off OVS.
    Trunk parents and hand-tagged ports stay AF_PACKET."""
    if lab.ovs_port_type != ASK_AFXDP or not host.has_ovs or host.linuxbridge or vm.tag is not None or vm.trunk_id:
        return None
    offloaded = ovs_port_plug.vif_offloaded(lab, host, hybrid=QVB in vm.devices, network=network,
                                            instance_offloads=instance_offloads)  # fmt: skip
    return ovs_port_plug.port_type(lab, host, mtu=vm.mtu or lab.mtu, offloaded=offloaded)


def plug(host: resolve.ResolvedHost, vm: Instance, *, checksum_offload: bool = False, port_type: PortType | None = None) -> None:
    """``port_type``: the netdev type of the instance's OVS port (None: AF_PACKET)."""
    d = vm.devices
    host_ns = host.netns
    with _host_links(host) as netlink:
        netlink.add_netns(vm.netns)
        netlink.add_veth(d[TAP], "eth0", netns=host_ns, peer_netns=vm.netns, mtu=vm.mtu)
        call_in(vm.netns, lambda: _instance_side(vm, checksum_offload))
        if QBR not in d:  # linuxbridge: the agent puts the tap on the network's bridge; OVS: on br-int below
            netlink.set_link(d[TAP], netns=host_ns, up=True)
            if host.linuxbridge or not host.has_ovs:
                return
        else:
            _hybrid_bridge(netlink, host_ns, vm)
    with _ovsdb(host).transaction() as txn:
        txn.add_bridge(resolve.INTEGRATION_BRIDGE, datapath_type=host.datapath, protocols=PROTOCOLS)
        bridge = resolve.INTEGRATION_BRIDGE
        if vm.trunk_id:  # os-vif plugs a trunk's parent into the trunk bridge (NORMAL switching)
            bridge = trunk_bridge(vm.trunk_id)
            txn.add_bridge(bridge, datapath_type=host.datapath, protocols=PROTOCOLS)
        txn.add_port(
            bridge,
            ovs_port(vm),
            iface_type=port_type.iface_type if port_type else None,
            options=port_type.options if port_type and port_type.options else None,
            tag=vm.tag,
            iface_external_ids={
                "iface-id": vm.port_id,
                "attached-mac": vm.mac,
                "iface-status": "active",
                "vm-uuid": vm.vm_uuid,
            },
        )
    if port_type and port_type.iface_type:
        ovs_port_plug.fall_back(host, [ovs_port(vm)])


def _hybrid_bridge(netlink: Netlink, host_ns: str | None, vm: Instance) -> None:
    """The hybrid plug's kernel hops: qbr with the tap and qvb on it, qvo for br-int."""
    d = vm.devices
    netlink.add_bridge(d[QBR], netns=host_ns)
    netlink.add_veth(d[QVB], d[QVO], netns=host_ns, mtu=vm.mtu)
    if vm.mtu:
        netlink.set_link(d[QBR], netns=host_ns, mtu=vm.mtu)
    for dev in (d[TAP], d[QVB]):
        netlink.set_link(dev, netns=host_ns, master=d[QBR], up=True)
    netlink.set_link(d[QBR], netns=host_ns, up=True)
    netlink.set_link(d[QVO], netns=host_ns, up=True)


def ovs_port(vm: Instance) -> str:
    """The instance's port on the OVS bridge: qvo (hybrid plug) or its tap (plugged straight)."""
    return vm.devices.get(QVO) or vm.devices[TAP]


def _instance_side(vm: Instance, checksum_offload: bool) -> None:
    """The instance's own links, run on a thread inside its namespace (``call_in``): the netlink
    socket opens there, where pyroute2 would fork a process to open one in another namespace
    (some 15 ms of every plug); ``netns=None`` below means this thread's namespace, the
    instance's (the sysctl and the ethtool call name it: they refuse or switch on their own)."""
    with Netlink() as netlink:
        netlink.set_link("lo", up=True)
        netlink.set_sysctl("net.ipv6.conf.all.disable_ipv6", 1, netns=vm.netns)
        netlink.set_link("eth0", address=vm.mac, up=True)
        if vm.ip:
            netlink.add_address("eth0", vm.ip)
        if vm.gateway:
            netlink.replace_route("default", gateway=vm.gateway)
        if not checksum_offload:
            netlink.disable_tx_checksum("eth0", netns=vm.netns)


def unplug(host: resolve.ResolvedHost, vm: Instance) -> None:
    """Remove the instance's port, devices and namespace; each step tolerates absence."""
    d = vm.devices
    if host.has_ovs and not host.linuxbridge:
        try:
            with _ovsdb(host).transaction() as txn:
                txn.del_port(ovs_port(vm), if_exists=True)
                if vm.trunk_id:
                    txn.del_bridge(trunk_bridge(vm.trunk_id))
        except Exception:  # noqa: BLE001 - a dead OVS must not stop the removal of the rest
            pass
    from neutrino.lab.teardown import kill_inside

    with Netlink() as netlink:
        if netlink.netns_exists(vm.netns):
            kill_inside(vm.netns)
            netlink.del_netns(vm.netns)
        if netlink.netns_exists(host.netns):
            for dev in (d.get(QVB), d.get(QBR), d[TAP]):
                if dev:
                    netlink.del_link(dev, netns=host.netns)


def delete(lab: resolve.ResolvedLab, name: str) -> Instance:
    vm = get(lab, name)
    unplug(lab.host(vm.host), vm)
    if vm.api_port and vm.trunk_id:
        from neutrino.lab import trunk_instances

        trunk_instances.release(lab, vm)
    elif vm.api_port:
        from neutrino.lab.api import ApiError, LabApi

        try:
            LabApi(lab).request("DELETE", f"ports/{vm.port_id}")
        except ApiError as exc:
            if " 404 " not in str(exc):
                raise
    (_dir(lab) / f"{name}.json").unlink(missing_ok=True)
    return vm


def exec_argv(lab: resolve.ResolvedLab, name: str, argv: list[str]) -> list[str]:
    vm = get(lab, name)
    return programs.netns_argv(argv, vm.netns)


def run_in(lab: resolve.ResolvedLab, name: str, argv: list[str]) -> int:
    """Run ``argv`` in the instance with the caller's terminal; its exit code."""
    import subprocess

    return subprocess.call(exec_argv(lab, name, argv), env=os.environ.copy())
