"""The OVS L2 agent's reconciliation: desired host state in, bridges, tags and flows out.

Level-triggered: every pass computes the whole desired dataplane from the server's projection
and what is plugged on br-int, reads what OVS has, plans the difference purely (``plan``,
``ovs_changes.changes``, ``flow_tables``) and applies only that: one OVSDB
transaction (bridges, patch and tunnel ports, VIF tags and other_config), a bundled flow diff
per bridge (a whole-table ``replace-flows`` on the first pass and after a vswitchd restart),
and, alongside them on a thread of its own, the firewall table when its text changed. Local VLANs are read back from the VIF ports'
other_config, so an agent restart keeps every tag and disturbs no traffic. Ports wired since
the last report are reported up, ports gone or dead are reported down.
One shortcut: when OVSDB's change number (``OvsDatabase.change_number``) is the one of the last
pass that succeeded and the desired state differs from that pass's only in security group rules
and remote group members (``same_wiring``), OVS has nothing to change and the pass applies the
firewall alone. A resync (vswitchd restart, periodic, audit) or an adapter that keeps no change
number always takes the whole pass.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from neutrino.agent.l2 import local_vlans
from neutrino.agent.l2 import ovs_changes
from neutrino.agent.l2 import ovs_firewall_flows
from neutrino.agent.l2 import ovs_flows
from neutrino.agent.l2 import qos
from neutrino.agent.l2.ovs_port_types import KERNEL_DEVICE_TYPES
from neutrino.agent.l2.same_wiring import same_wiring
from neutrino.agent.l2 import trunks
from neutrino.dataplane.naming import tunnel_port
from neutrino.dataplane.openflow import PROTOCOLS
from neutrino.dataplane.ports import Flows, OvsDatabase
from neutrino.contract.desired import BoundPort, DesiredHostState

LOG = logging.getLogger(__name__)


@dataclass
class L2Config:
    bridge_mappings: dict[str, str]
    tunnel_types: list[str]
    local_ip: str | None
    datapath_type: str
    integration_bridge: str = "br-int"
    tunnel_bridge: str = "br-tun"
    arp_responder: bool = True
    ovs_firewall: bool = False
    """Security groups as br-int flows with OVS conntrack (``firewall_driver = openvswitch``)."""


@dataclass
class PassResult:
    """What one pass did, for logs, tests and the convergence benchmark."""

    wired: list[str] = field(default_factory=list)
    unwired: list[str] = field(default_factory=list)
    ovsdb_commands: int = 0
    flow_changes: int = 0
    firewall_applied: bool = False


@dataclass(frozen=True)
class L2Plan:
    by_name: dict[str, Any]
    vifs: dict[str, Any]
    """port id -> its plugged OVS port on br-int."""
    bound: dict[str, BoundPort]
    wanted: dict[str, BoundPort]
    """The VIFs to wire (bound here, with a segment, admin up)."""
    firewalled: list[BoundPort]
    """The ports whose firewall chains the host holds: those that are or will be wired (bound
    here, with a segment, admin up), plugged or not yet. The rules name devices (``tap<id>``),
    so a port's chains can be in place before its VIF appears: the pass that wires a freshly
    plugged port then writes no firewall, and the port is filtered from its first frame."""
    vlans: dict[str, Any]
    """network id -> LocalVlan."""
    tunnel_ports: dict[str, str]
    layout: ovs_flows.L2Layout
    remote_groups: tuple[Any, ...] = ()
    """The members of the remote groups the ports' rules name (the OVS firewall's flows)."""


@dataclass(frozen=True)
class _Applied:
    """What the last pass that succeeded saw and did: OVSDB's change number, the desired state,
    the plan and the offloads' arguments."""

    number: int
    desired: DesiredHostState
    plan: L2Plan
    offloads: tuple[Any, ...]


class _Alongside:
    """Runs a call on a thread of its own while the pass goes on: one worker thread per
    reconciler, started at its first use and kept (a thread started per pass cost more CPU
    than a members-only pass's firewall render, ``bench/pass_cost.py``). ``submit`` returns a
    future whose ``result`` returns what the call returned or raises what it raised."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{threading.current_thread().name}-firewall")
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)


def is_vif(port: Any) -> bool:
    ids = port.iface_external_ids
    return bool(ids.get("iface-id") and ids.get("attached-mac")) and port.ofport not in (None, -1)


class OvsL2Reconciler:
    def __init__(self, cfg: L2Config, ovsdb: OvsDatabase, openflow: Flows,
                 firewall: Callable[[list[BoundPort], tuple[Any, ...]], bool] | None = None,
                 offloads: Any = None) -> None:  # fmt: skip
        self.cfg = cfg
        self.ovsdb = ovsdb
        self.openflow = openflow
        self.firewall = firewall
        self.offloads = offloads
        """An ``agent/l2/offload_applier.OffloadApplier`` (None: leave the plugs' offloads alone)."""
        self.reported_up: set[str] = set()
        self._synced = False
        self._alongside = _Alongside()
        self._last: _Applied | None = None
        """The last pass that succeeded (the firewall-only shortcut); None after a failure or a resync."""

    def close(self) -> None:
        """Ends the firewall's worker thread (the agent stops)."""
        self._alongside.close()

    @property
    def tunnel_type(self) -> str | None:
        return self.cfg.tunnel_types[0] if self.cfg.tunnel_types and self.cfg.local_ip else None

    def resync(self, keep_foreign: bool = False) -> None:
        """Forget what was applied: the next pass replaces whole flow tables (vswitchd restart),
        or only our cookie's flows of them with ``keep_foreign`` (the audit's repair)."""
        self.openflow.forget(keep_foreign=keep_foreign)
        self._synced = False
        self._last = None
        if self.offloads is not None:
            self.offloads.forget()

    def plan(self, desired: DesiredHostState, all_ports: list[Any]) -> L2Plan:
        """What this host's OVS should hold for ``desired`` given the ports plugged now: the
        VIFs and their local VLANs, the tunnel ports and the flow layout (used by ``reconcile``
        and by the audit, ``agent/audit/expect.py``)."""
        cfg = self.cfg
        tun = self.tunnel_type
        by_name = {p.name: p for p in all_ports}
        vifs = {p.iface_external_ids["iface-id"]: p for p in all_ports if p.bridge == cfg.integration_bridge and is_vif(p)}
        bound = {p.port_id: p for p in desired.ports}
        wiring = {pid: p for pid, p in bound.items() if p.segment is not None and p.admin_state_up}
        wanted = {pid: p for pid, p in wiring.items() if pid in vifs}
        existing = local_vlans.existing_lvids(vifs[pid].port_other_config for pid in vifs)
        vlans = local_vlans.allocate({p.network_id: p.segment for p in wanted.values()}, existing)  # type: ignore[misc]
        peers = [p for p in desired.tunnel_peers if tun and p.tunnel_type == tun]
        tunnel_ports = {p.ip_address: tunnel_port(tun, p.ip_address) for p in peers} if tun else {}
        layout = ovs_flows.L2Layout(
            integration_bridge=cfg.integration_bridge,
            tunnel_bridge=cfg.tunnel_bridge if tun else None,
            physnet_bridges=cfg.bridge_mappings,
            local_vlans=vlans,
            tunnel_ports=tunnel_ports,
            flood=ovs_flows.flood_from_peers(peers, tun) if tun else {},
            tunnel_type=tun or "vxlan",
            arp_responder=bool(tun) and cfg.arp_responder,
            arp_entries=ovs_flows.arp_entries_from_remote_ports(desired.remote_ports) if tun and cfg.arp_responder else {},
        )
        return L2Plan(by_name, vifs, bound, wanted, [wiring[pid] for pid in sorted(wiring)], vlans, tunnel_ports, layout,
                      desired.remote_groups)  # fmt: skip

    def flow_tables(self, plan: L2Plan) -> tuple[dict[str, list[Any]], dict[int, Any]]:
        """bridge -> its whole desired flow table, and br-int's QoS meters."""
        cfg = self.cfg
        tables = ovs_flows.desired_flows(plan.layout)
        meters, qos_flows = qos.plan(
            qos.QosPort(plan.vifs[pid].name, plan.vifs[pid].ofport, p.mac_address, p.qos)
            for pid, p in plan.wanted.items() if p.qos is not None
        )
        firewall = ovs_firewall_flows.flows(self.firewall_ports(plan), plan.remote_groups) if cfg.ovs_firewall else []
        tables[cfg.integration_bridge] = sorted([*tables[cfg.integration_bridge], *qos_flows, *firewall])
        return tables, meters

    def firewall_ports(self, plan: L2Plan) -> list[ovs_firewall_flows.FwPort]:
        """The wired VIFs as the OVS firewall sees them: tap, zone (the local VLAN), port."""
        return [ovs_firewall_flows.FwPort(plan.vifs[pid].name, plan.vlans[p.network_id].lvid, p)
                for pid, p in plan.wanted.items() if p.network_id in plan.vlans]  # fmt: skip

    def reconcile(self, desired: DesiredHostState) -> PassResult:
        """Plan (pure: ``plan``, ``ovs_changes.changes``, ``flow_tables``), then apply: one OVSDB
        transaction, the flow diffs, the firewall; then what to report. Only the firewall when
        neither OVSDB nor the wiring changed since the last pass (the module's docstring)."""
        number = self.ovsdb.change_number()
        last, self._last = self._last, None
        if (last is not None and number is not None and self._synced and last.number == number and not self.cfg.ovs_firewall
                and same_wiring(last.desired, desired)):  # the OVS firewall's rules are flows: the whole pass
            result = self._firewall_only(desired, last)
            self._last = replace(last, desired=desired)
            return result
        result = PassResult()
        all_ports = self.ovsdb.find_ports()
        if self._wire_trunks(desired, all_ports):
            result.ovsdb_commands += 1
            all_ports = self.ovsdb.find_ports()  # the new br-int ends are VIFs of this pass
        plan = self.plan(desired, all_ports)
        # the firewall goes in alongside the OVSDB and flow writes (its nft and they are programs
        # and daemons of their own: with hundreds of ports each takes seconds), joined before
        # anything is reported up
        firewall = self._alongside.submit(self.firewall, plan.firewalled, desired.remote_groups) if self.firewall is not None else None
        try:
            bridges = {name: self.ovsdb.bridge(name) for name in ovs_changes.bridges_wanted(self.cfg, self.tunnel_type)}
            result.ovsdb_commands += self._apply_ovsdb(ovs_changes.changes(self.cfg, self.tunnel_type, plan, bridges, all_ports))
            result.flow_changes += self._apply_flows(*self.flow_tables(plan))
            offloads = ([(plan.vifs[pid].name, *((p.segment.network_type, p.segment.mtu, p.segment.physical_network)
                                                  if p.segment else (None,)))
                         for pid, p in plan.wanted.items()],
                        {net: [w.name for w in all_ports if w.bridge == br and w.iface_type in KERNEL_DEVICE_TYPES]
                         for net, br in self.cfg.bridge_mappings.items()})  # fmt: skip
            if self.offloads is not None:  # before the ports are reported up (docs/dataplane.md, "Userspace TSO")
                self.offloads(*offloads)
        except BaseException:
            if firewall is not None:
                wait([firewall])
            raise
        if firewall is not None:
            result.firewall_applied = bool(firewall.result())
        self._report(result, plan)
        if number is not None:
            self._last = _Applied(number, desired, plan, offloads)
        return result

    def _firewall_only(self, desired: DesiredHostState, last: _Applied) -> PassResult:
        """The pass when only rules and members changed: the same ports, with their new rules,
        to the firewall; OVSDB and flows are left as the last pass left them. The offloads are
        checked as every pass does (they follow the kernel's links, which OVSDB may not see)."""
        result = PassResult()
        if self.offloads is not None:
            self.offloads(*last.offloads)
        if self.firewall is not None:
            by_id = {p.port_id: p for p in desired.ports}
            result.firewall_applied = bool(self.firewall([by_id[p.port_id] for p in last.plan.firewalled], desired.remote_groups))
        self._report(result, last.plan)
        return result

    def _report(self, result: PassResult, plan: L2Plan) -> None:
        now_up = set(plan.wanted)
        result.wired = sorted(now_up - self.reported_up)
        result.unwired = sorted(self.reported_up - now_up)

    def _apply_ovsdb(self, changes: ovs_changes.L2Changes) -> int:
        """The changes as one transaction (none when empty); the number of commands."""
        if not changes.count:
            return 0
        txn = self.ovsdb.transaction()
        for bridge in changes.bridges:
            txn.add_bridge(bridge, datapath_type=self.cfg.datapath_type, fail_mode="secure", protocols=PROTOCOLS)
        for port in changes.ports:
            txn.add_port(port.bridge, port.name, iface_type=port.iface_type, options=dict(port.options))
        for name in changes.removed_ports:
            txn.del_port(name)
        for tag in changes.tags:
            txn.set_port(tag.name, tag=tag.tag, other_config=dict(tag.other_config))
        txn.commit()
        return changes.count

    def _apply_flows(self, tables: dict[str, list[Any]], meters: dict[int, Any]) -> int:
        """Every bridge's table (whole on the first pass and after a resync, else a bundled
        diff) and br-int's meters; the number of flows and meters changed."""
        bridge = self.cfg.integration_bridge
        changed = self.openflow.set_meters(bridge, meters)
        for name, flows in tables.items():
            if self._synced:
                changed += len(self.openflow.apply(name, flows))
            else:
                self.openflow.replace(name, flows)
                changed += len(flows)
        self._synced = True
        return changed + self.openflow.prune_meters(bridge, meters)

    def _wire_trunks(self, desired: DesiredHostState, all_ports: list[Any]) -> bool:
        """Patch every plugged trunk bridge to br-int (agent/l2/trunks.py), in one transaction;
        True when something changed. Waits for br-int (the main transaction creates it)."""
        cfg = self.cfg
        bridges = {p.bridge for p in all_ports if p.bridge}
        if cfg.integration_bridge not in bridges and self.ovsdb.bridge(cfg.integration_bridge) is None:
            return False
        seen = [trunks.PortSeen(p.name, p.bridge, p.iface_type, p.iface_options.get("peer"), p.tag,
                                p.iface_external_ids) for p in all_ports]  # fmt: skip
        want = trunks.wanted(desired.trunks, bridges, cfg.integration_bridge)
        to_add, to_delete = trunks.plan(want, seen, cfg.integration_bridge)
        if not to_add and not to_delete:
            return False
        where = {p.name: p.bridge for p in all_ports}
        txn = self.ovsdb.transaction()
        for name in to_delete:
            txn.del_port(name)
        for patch in to_add:
            if where.get(patch.name) not in (None, patch.bridge):
                txn.del_port(patch.name)
            txn.add_port(patch.bridge, patch.name, iface_type="patch", options={"peer": patch.peer},
                         iface_external_ids=patch.external_ids(), tag=patch.tag)  # fmt: skip
        txn.commit()
        LOG.info("trunks: %d patch ports added or fixed, %d removed", len(to_add), len(to_delete))
        return True

    def reported(self, result: PassResult) -> None:
        """The server acknowledged the pass's device reports."""
        self.reported_up |= set(result.wired)
        self.reported_up -= set(result.unwired)
