"""What a lab looks like right now, read from the machine (not from what ``up`` intended):
namespaces present, OVS daemons alive with their pids and sockets, bridges in each OVSDB,
underlay switches, addresses, instances."""

from __future__ import annotations

from typing import Any

from neutrino.dataplane.errors import DataplaneError
from neutrino.dataplane.netlink import Netlink
from neutrino.dataplane.ovs import OvsInstance
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.lab import cloud, instances, logs
from neutrino.lab import resolve


def status(lab: resolve.ResolvedLab) -> dict[str, Any]:
    with Netlink() as netlink:
        present = set(netlink.list_netns())
        root_links = {link.name: link for link in netlink.links()}
        hosts = []
        for h in lab.hosts:
            entry: dict[str, Any] = {
                "name": h.name,
                "roles": list(h.roles),
                "netns": h.netns,
                "netns_present": h.netns in present,
                "datapath": h.datapath if h.has_ovs else None,
                "mechanism": h.mechanism if h.has_dataplane else None,
                "tunnel_ip": h.tunnel_ip,
                "management_ip": h.management_ip,
                "bridge_mappings": h.bridge_mappings,
                "wires": [f"{w.host_end}→{w.switch}" for w in h.wires],
            }
            if h.tunnel_ip and h.netns in present:
                entry["tunnel_addresses"] = netlink.addresses(h.tunnel_device, netns=h.netns)
            if h.has_ovs:
                ovs = OvsInstance(h.context)
                entry["ovs"] = {"pids": ovs.pids(), "running": ovs.running(), "sockets": _str(ovs.sockets())}
                try:
                    entry["bridges"] = Ovsdb(h.context).list_bridges() if ovs.pids().get("ovsdb-server") else []
                except DataplaneError as exc:
                    entry["bridges"] = []
                    entry["error"] = str(exc)
            hosts.append(entry)
        switches = [
            {"name": s.name, "purpose": s.purpose, "present": s.name in root_links} for s in lab.switches
        ]
        outside = None
        if lab.outside:
            o = lab.outside
            outside = {
                "netns": o.netns,
                "address": o.address,
                "present": o.netns in present,
                "addresses": netlink.addresses(o.interface, netns=o.netns) if o.netns in present else [],
            }
    healthy = all(h["netns_present"] and h.get("ovs", {}).get("running", True) for h in hosts) and all(
        s["present"] for s in switches
    )
    return {
        "name": lab.name,
        "state_dir": str(lab.state_dir),
        "healthy": healthy,
        "hosts": hosts,
        "switches": switches,
        "outside": outside,
        "instances": [vm.to_dict() for vm in instances.list_(lab)],
        "cloud": cloud.info(lab),
        "processes": _processes(lab),
        "logs": logs.paths(lab),
    }


def _processes(lab: resolve.ResolvedLab) -> list[dict[str, Any]]:
    """The server, agent and supervisor processes, once the lab's control plane was started."""
    from neutrino.lab import process_control

    if lab.name in cloud.IN_PROCESS or not (lab.state_dir / "procs").is_dir():
        return []
    return process_control.processes(lab)


def _str(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if v is not None else None) for k, v in d.items()}
