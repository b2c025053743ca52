"""The Linux bridge L2 agent's reconciliation: desired host state in, brq bridges out.

The same level-triggered runtime as the OVS agent: every pass reads what the host has (links,
VXLAN devices, permanent FDB and neighbour entries), asks ``bridge_plan`` for the difference
and applies only that. Nothing is torn down and rebuilt, so an agent restart adopts the bridges
as they are and traffic keeps flowing. Taps appear when Nova (the lab's ``vm create``), the
DHCP agent or the L3 agent plug a port; ``taps_changed`` lets the runner's idle timer notice
them without a notification from the server (as Neutron's agent polls for tap devices).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neutrino.agent.l2 import bridge_plan
from neutrino.agent.l2.reconciler import PassResult
from neutrino.contract.desired import BoundPort, DesiredHostState
from neutrino.dataplane.naming import TAP
from neutrino.dataplane.ports import Links, VxlanDevices

LOG = logging.getLogger(__name__)


@dataclass
class BridgeConfig:
    interface_mappings: dict[str, str]
    local_ip: str | None
    vlan_capable: bool = False
    arp_proxy: bool = True


class LinuxbridgeL2Reconciler:
    def __init__(self, cfg: BridgeConfig, netlink: Links, vxlan: VxlanDevices, netns: str | None,
                 firewall: Callable[[list[BoundPort], tuple[Any, ...]], bool] | None = None) -> None:  # fmt: skip
        self.cfg = cfg
        self.netlink = netlink
        self.vxlan = vxlan
        self.netns = netns
        self.firewall = firewall
        self.reported_up: set[str] = set()
        self._taps: frozenset[str] = frozenset()
        self._refused_logged: dict[str, str] = {}

    @property
    def settings(self) -> bridge_plan.Settings:
        return bridge_plan.Settings(self.cfg.interface_mappings, self.cfg.local_ip, self.cfg.vlan_capable, self.cfg.arp_proxy)

    def resync(self, keep_foreign: bool = False) -> None:
        """Nothing cached to forget: every pass compares with the kernel."""

    def taps_changed(self) -> bool:
        """Whether the set of tap devices changed since the last pass (a VIF plugged or gone)."""
        return self._tap_names() != self._taps

    def _tap_names(self) -> frozenset[str]:
        return frozenset(link.name for link in self.netlink.links(netns=self.netns) if link.name.startswith(TAP))

    def read(self) -> bridge_plan.KernelView:
        vx = self.vxlan.vxlan_devices(netns=self.netns)
        links = {}
        for link in self.netlink.links(netns=self.netns):
            vni, local = vx.get(link.name, (None, None))
            links[link.name] = bridge_plan.LinkState(link.name, link.kind, link.master, link.up, link.mtu, vni, local)
        owned = {n for n in links if n.startswith(bridge_plan.VXLAN_PREFIX)}
        fdb = {k: v for k, v in self.vxlan.fdb(netns=self.netns).items() if k in owned}
        neigh = {k: v for k, v in self.vxlan.neighbours(netns=self.netns).items() if k in owned}
        return bridge_plan.KernelView(links, fdb, neigh)

    def reconcile(self, desired: DesiredHostState) -> PassResult:
        result = PassResult()
        have = self.read()
        self._taps = frozenset(n for n in have.links if n.startswith(TAP))
        want = bridge_plan.desired(desired, self._taps, self.settings)
        for port_id, why in want.refused.items():
            if self._refused_logged.get(port_id) != why:
                LOG.error("linuxbridge: port %s cannot be wired here: %s", port_id, why)
                self._refused_logged[port_id] = why
        actions = bridge_plan.plan(want, have, self.cfg.local_ip, self.cfg.arp_proxy)
        self.apply(actions)
        result.ovsdb_commands = len(actions)
        if self.firewall is not None:
            bound = {p.port_id: p for p in desired.ports}
            result.firewall_applied = self.firewall([bound[pid] for pid in sorted(want.wired)], desired.remote_groups)
        now_up = set(want.wired)
        result.wired = sorted(now_up - self.reported_up)
        result.unwired = sorted(self.reported_up - now_up)
        return result

    def apply(self, actions: list[bridge_plan.Action]) -> None:
        netlink, netns = self.netlink, self.netns
        entries: dict[str, list[tuple[str, str, str]]] = {"fdb_add": [], "fdb_del": [], "neigh_add": [], "neigh_del": []}
        for action in actions:
            LOG.debug("linuxbridge: %s", action)
            op, args = action.op, action.args
            if op == "add_bridge":
                netlink.add_bridge(str(args[0]), netns=netns)
            elif op == "add_vxlan":
                self.vxlan.add_vxlan(str(args[0]), int(args[1] or 0), str(args[2]), mtu=args[3], proxy=bool(args[4]), netns=netns)  # type: ignore[arg-type]
            elif op == "add_vlan":
                self.vxlan.add_vlan(str(args[0]), str(args[1]), int(args[2] or 0), netns=netns)
            elif op == "missing_interface":
                LOG.error("linuxbridge: physical interface %s does not exist on this host", args[0])
            elif op == "set_master":
                netlink.set_link(str(args[0]), netns=netns, master=str(args[1]))
            elif op == "release":
                netlink.set_link(str(args[0]), netns=netns, master="")
            elif op == "set_up":
                netlink.set_link(str(args[0]), netns=netns, up=True, mtu=args[1])  # type: ignore[arg-type]
            elif op == "del_link":
                netlink.del_link(str(args[0]), netns=netns)
            elif op in entries:
                entries[op].append((str(args[0]), str(args[1]), str(args[2])))
            else:
                raise ValueError(f"unknown action {action}")
        if any(entries.values()):
            self.vxlan.change_entries(**entries, netns=netns)

    def reported(self, result: PassResult) -> None:
        self.reported_up |= set(result.wired)
        self.reported_up -= set(result.unwired)
