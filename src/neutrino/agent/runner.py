"""An agent for one host: heartbeats, a work queue, and the reconcilers of its roles.

Wake-ups come from the server (``host_changed``), from OVSDB (a VIF plugged or unplugged),
from an OpenFlow connection to vswitchd that tells when a restarted vswitchd is up again (flows
lost: resync, ``dataplane/vswitchd_watch.py``), and from a periodic full resync. Each role (``l2``,
``dhcp``, ``l3``, ``metadata``) is its own key on a deduplicating queue, and a wake-up adds the
keys of the roles it concerns (``agent/wake_roles.py``); one worker thread takes every due key
at once and runs those roles in order on one desired state (``agent/role_passes.py``); a role
that failed is retried alone from the queue, with its own backoff (``agent/workqueue.py``).
A pass woken only by notifications that name ports and security groups fetches just those
parts of the desired state and merges them into the last one (``agent/desired_source.py``). Reports go back through the bus: device up/down after each
pass, the state report every ``report_interval`` seconds.

The composition root: it picks the real adapters (or fakes, in unit tests).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from neutrino.agent.adapters import AgentAdapters, real as real_adapters
from neutrino.agent.kinds import AGENT_KINDS, configurations_for
from neutrino.agent.l2.bridge_reconciler import BridgeConfig, LinuxbridgeL2Reconciler
from neutrino.agent.l2.offload_applier import OffloadApplier
from neutrino.agent.l2.reconciler import L2Config, OvsL2Reconciler, PassResult
from neutrino.agent.plug import BridgePlug
from neutrino.agent.settings import AgentSettings
from neutrino.agent.desired_source import DesiredSource
from neutrino.agent.requests import answer_audit, answer_trace
from neutrino.agent.role_passes import ROLE_PASSES
from neutrino.agent.wake_roles import concerned, in_order, roles_here
from neutrino.agent.workqueue import WorkQueue
from neutrino.bus.client import AgentClient
from neutrino.bus.transport import Transport, TransportError
from neutrino.contract.desired import DesiredHostState
from neutrino.contract.messages import VersionMismatch
from neutrino.dataplane.errors import DataplaneError, PermanentError, TemporaryError
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.ports import ConnectionTracking, Firewall, Links, PortPlug
from neutrino.metrics.agent import AgentMetrics

LOG = logging.getLogger(__name__)

PERMANENT_RETRY = 10.0
"""Seconds before a pass that failed for good (``PermanentError``) is tried again anyway."""


class HostAgent:
    def __init__(self, host: HostContext, transport: Transport, settings: AgentSettings, adapters: AgentAdapters | None = None) -> None:
        self.host = host
        self.metrics = AgentMetrics(host.name)
        self.settings = settings
        self.client = AgentClient(transport, host.name)
        self.desired = DesiredSource(self.client, ports_hints=tuple(settings.roles) == ("l2",))
        self.queue = WorkQueue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._cancel: Any = None
        self.passes = 0
        self.last_result: PassResult | None = None
        self.converged = threading.Condition()
        self.lock = threading.RLock()
        """Held by a pass and by an audit: an audit never reads a half-applied pass."""
        adapters = adapters or real_adapters(host, settings.mechanism)
        self.nftables = adapters.nftables
        self.firewall_tables: Any = None
        self.switch = adapters.switch
        self.monitor = adapters.monitor_factory(lambda: self.queue.add("l2")) if adapters.monitor_factory else None
        nft = settings.driver == "iptables_hybrid"
        firewall = self._firewall_applier(adapters.nftables, adapters.netlink, adapters.conntrack) if nft else None
        plug: PortPlug
        if settings.mechanism == "linuxbridge":
            self.l2: OvsL2Reconciler | LinuxbridgeL2Reconciler = self._linuxbridge(adapters, firewall)
            plug = adapters.plug or BridgePlug()
        else:
            if adapters.ovsdb is None or adapters.openflow is None:
                raise ValueError("the OVS mechanism needs the ovsdb and openflow adapters")
            self.l2 = OvsL2Reconciler(
                L2Config(
                    bridge_mappings=settings.bridge_mappings,
                    tunnel_types=settings.tunnel_types,
                    local_ip=settings.tunneling_ip,
                    datapath_type=settings.datapath_type,
                    arp_responder=settings.arp_responder, ovs_firewall=settings.driver == "openvswitch",
                ),
                adapters.ovsdb, adapters.openflow,
                firewall=firewall,
                offloads=adapters.offloads and OffloadApplier(host.name, adapters.offloads, adapters.netlink, host.netns,
                                                              settings.datapath_type, settings.userspace_tso_ports),
            )
            plug = adapters.plug or adapters.ovsdb
        self._vswitchd_pid: int | None = None
        self._vswitchd_back = threading.Event()
        self._switch_resync = False  # the pending pass reinstalls flows after a vswitchd restart
        self.switch_watch = adapters.switch_watch(self._on_vswitchd_back) if adapters.switch_watch else None
        self._start_reported = False
        self._trouble: str | None = None  # the bus problem last logged (logged once, not per retry)
        self.dhcp = self.l3 = self.metadata = None
        state_dir = settings.state_dir or Path("/var/lib/neutrino/dhcp") / host.name
        self.dhcp_ready: dict[str, int] = {}  # port -> the revision last reported DHCP-ready
        self.fip_statuses: dict[str, str] = {}  # the floating IP statuses last reported
        from neutrino.agent.audit.periodic import Auditor

        self.auditor = Auditor(self)
        if "dhcp" in settings.roles:
            from neutrino.agent.dhcp.config import DhcpSettings
            from neutrino.agent.dhcp.reconciler import DhcpReconciler

            self.dhcp = DhcpReconciler(host, adapters.netlink, plug, state_dir, self.client.create_dhcp_port,
                                       settings=replace(settings.metadata.dhcp_settings(), lease_duration=settings.dhcp_lease_duration),
                                       announcer=adapters.announcer, servers=adapters.dhcp_servers)  # fmt: skip
        if "l3" in settings.roles:
            from neutrino.agent.l3.ha_report import HaReporter, ha_routers
            from neutrino.agent.l3.reconciler import L3Reconciler

            ha = adapters.ha or ha_routers(settings.state_dir, host.name, settings.ha_vrrp_advert_int)
            self.l3 = L3Reconciler(host, adapters.netlink, plug, adapters.nftables, announcer=adapters.announcer, ha=ha,
                                   conntrack=adapters.conntrack,
                                   metadata_port=settings.metadata.metadata_port if settings.metadata.enable_metadata_proxy else None)  # fmt: skip
            self.ha_report = HaReporter(ha, self.client, lambda: self.queue.add("l3"), settings.ha_state_poll)
        if adapters.metadata_proxy is not None and (self.dhcp or self.l3):  # docs/metadata.md
            from neutrino.agent.metadata.supervisor import MetadataSupervisor

            self.metadata = MetadataSupervisor(host, settings.metadata, state_dir.parent / "metadata", self.client,
                                               self.l3 is not None, adapters.metadata_proxy)  # fmt: skip
        self.roles = roles_here(settings.roles, self.metadata is not None)  # the role keys on the queue
        self.failures: dict[str, Exception] = {}  # the roles that failed in the last pass
        self.served: list[str] = []  # the networks the DHCP role serves (for the metadata proxies)

    def _linuxbridge(self, adapters: AgentAdapters, firewall: Any) -> LinuxbridgeL2Reconciler:
        """The Linux bridge L2 agent; VLAN networks only where the kernel makes VLAN subinterfaces."""
        vxlan = adapters.vxlan
        if vxlan is None:
            raise ValueError("the Linux bridge mechanism needs the vxlan adapter")
        vlan = vxlan.vlan_supported(netns=self.host.netns)
        if not vlan:
            LOG.warning("agent %s: this kernel has no 8021q (VLAN subinterfaces): VLAN networks will not "
                        "bind to this Linux bridge agent", self.host.name)  # fmt: skip
        cfg = BridgeConfig(dict(self.settings.interface_mappings), self.settings.tunneling_ip, vlan, self.settings.arp_proxy)
        return LinuxbridgeL2Reconciler(cfg, adapters.netlink, vxlan, self.host.netns, firewall=firewall)

    def _firewall_applier(self, nft: Firewall, netlink: Links, conntracks: ConnectionTracking | None = None) -> Any:
        from neutrino.agent.firewall.applier import FirewallApplier

        applier = FirewallApplier(self.host, nft, netlink, conntracks)
        self._forget_firewall = applier.forget
        self.firewall_tables = applier.tables
        return applier

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        try:
            self.report(start=True)
            self._start_reported = True
        except TransportError as exc:  # the bus is down: the heartbeat reports the start later
            self._bus_trouble("state report", exc)
        self._cancel = self.client.on_change(lambda _rev: None, sent_at=self.metrics.notified,  # _hinted queues
                                             trace=lambda msg: answer_trace(self, msg),
                                             audit=lambda msg: answer_audit(self, msg), hinted=self._hinted)  # fmt: skip
        if self.monitor is not None:
            self.monitor.start()
        if self.switch_watch is not None:
            self.switch_watch.start()
        loops = [(self._work, "work"), (self._heartbeat, "heartbeat")]
        if self.l3 is not None:
            loops.append((lambda: self.ha_report.watch(self._stop), "ha-states"))
        for target, name in loops:
            t = threading.Thread(target=target, name=f"agent-{self.host.name}-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        for role in self.roles:
            self.queue.add(role)

    def forget_applied(self) -> None:
        """Forget what the reconcilers remember having applied: the next pass compares against
        the host itself and repairs whatever drifted (the audit's repair)."""
        self.l2.resync(keep_foreign=True)
        getattr(self, "_forget_firewall", lambda: None)()
        for reconciler in (self.dhcp, self.l3):
            if reconciler is not None:
                reconciler.forget()

    def stop(self) -> None:
        self._stop.set()
        self.queue.close()
        if self._cancel:
            self._cancel()
        if self.monitor is not None:
            self.monitor.stop()
        if self.switch_watch is not None:
            self.switch_watch.stop()
        if self.metadata is not None:
            self.metadata.stop()
        for reconciler in (self.dhcp, self.l3):
            if reconciler is not None:
                reconciler.announcer.close()
        for t in self._threads:
            t.join(timeout=10)
        getattr(self.l2, "close", lambda: None)()  # the firewall's worker thread

    def report(self, start: bool = False) -> None:
        linuxbridge = self.settings.mechanism == "linuxbridge"
        for role in self.settings.roles:
            kind = {"l2": "linuxbridge" if linuxbridge else "ovs"}.get(role, role)
            agent_type, binary, topic, zone = AGENT_KINDS[kind]
            l2 = kind in ("ovs", "linuxbridge")
            conf = configurations_for(
                kind,
                bridge_mappings=self.settings.bridge_mappings if kind == "ovs" else {},
                tunnel_types=self.settings.tunnel_types if l2 else [],
                tunneling_ip=self.settings.tunneling_ip if l2 else None,
            )
            if kind == "ovs":
                conf.update(datapath_type=self.settings.datapath_type, ovs_hybrid_plug=self.settings.ovs_hybrid_plug,
                            arp_responder_enabled=self.settings.arp_responder and bool(self.settings.tunneling_ip),
                            devices=len(self.l2.reported_up))  # fmt: skip
            elif kind == "linuxbridge":
                conf.update(interface_mappings=dict(self.settings.interface_mappings), l2_population=True,
                            vlan_subinterfaces=self.l2.cfg.vlan_capable, devices=len(self.l2.reported_up))  # fmt: skip
            if kind == "dhcp":
                conf["dhcp_lease_duration"] = self.settings.dhcp_lease_duration
            if linuxbridge and kind in ("dhcp", "l3"):
                conf["interface_driver"] = "linuxbridge"
            self.client.report_state(agent_type=agent_type, binary=binary, topic=topic, configurations=conf,
                                     start_flag=start, availability_zone=zone and self.settings.availability_zone)  # fmt: skip
        self.metrics.reported()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.settings.report_interval if self._start_reported else 2.0):
            try:
                self.report(start=not self._start_reported)
                self._start_reported = True
            except TransportError as exc:  # the transport logs the broker problem once
                self._bus_trouble("state report", exc)
            except Exception:  # noqa: BLE001 - the next heartbeat tries again
                LOG.exception("agent %s: state report failed", self.host.name)

    def _bus_trouble(self, what: str, exc: Exception, then: str = "retrying with backoff") -> None:
        """Log a bus problem once (not at every retry while the server or broker is away)."""
        if self._trouble != str(exc):
            self._trouble = str(exc)
            LOG.warning("agent %s: %s: %s; %s", self.host.name, what, exc, then)

    def _bus_ok(self) -> None:
        if self._trouble is not None:
            self._trouble = None
            LOG.warning("agent %s: the server answers again; resyncing", self.host.name)

    def _on_vswitchd_back(self) -> None:
        """The watcher's callback (its thread): a restarted vswitchd is up, resync now."""
        self._vswitchd_back.set()
        self.queue.add("l2")

    def _vswitchd_restarted(self) -> bool:
        if self.switch_watch is not None:
            back = self._vswitchd_back.is_set()
            self._vswitchd_back.clear()
            return back
        if self.switch is None:
            return False
        pid = self.switch.pids().get("ovs-vswitchd")
        restarted = self._vswitchd_pid is not None and pid is not None and pid != self._vswitchd_pid
        if pid is not None:
            self._vswitchd_pid = pid
        return restarted

    def _work(self) -> None:
        last_full = last_audit = time.monotonic()
        while not self._stop.is_set():
            taken = self.queue.get_all(timeout=self.settings.idle_check)
            if self._stop.is_set():
                return
            due = set(taken)
            if self.settings.audit_interval and time.monotonic() - last_audit > self.settings.audit_interval:
                last_audit = time.monotonic()
                try:
                    self.auditor.run(self.settings.audit_repair)
                except Exception as exc:  # noqa: BLE001 - the next audit tries again
                    LOG.warning("agent %s: audit failed: %s", self.host.name, exc)
            if self._vswitchd_restarted():
                LOG.warning("agent %s: ovs-vswitchd restarted, resyncing flows", self.host.name)
                self.l2.resync()
                self.desired.keep()  # the desired state still holds: only the switch lost its flows
                self._switch_resync = True
                due.add("l2")
            if time.monotonic() - last_full > self.settings.resync_interval:
                self.l2.resync()
                self.desired.invalidate()
                last_full = time.monotonic()
                due |= self.roles
            if not due and isinstance(self.l2, LinuxbridgeL2Reconciler):
                try:  # a tap plugged or gone: Neutron's Linux bridge agent polls for them too
                    due |= {"l2"} if self.l2.taps_changed() else set()
                except DataplaneError as exc:
                    LOG.debug("agent %s: tap scan: %s", self.host.name, exc)
            if self.metadata is not None and self.metadata.dead():  # a proxy died
                due.add("metadata")
            try:
                if due:
                    self._process(in_order(due, self.roles))
            finally:
                for key in taken:
                    self.queue.done(key)

    def _hinted(self, msg: dict[str, Any]) -> None:
        """A ``host_changed``: what it names waits for the next fetch, the roles it concerns
        (``agent/wake_roles.py``) are queued."""
        self.desired.hinted(msg)
        for role in concerned(msg, self.roles):
            self.queue.add(role)

    def _process(self, roles: list[str]) -> None:
        """One pass of ``roles``; each role that failed is retried on the queue alone: after a
        temporary failure (a bus or dataplane hiccup) with its own backoff that doubles up to a
        cap, after a permanent one (a bad argument, a missing program) only after
        ``PERMANENT_RETRY``, or at the next change."""
        self.failures = {}
        try:
            self.reconcile_once(roles)
        except Exception as exc:  # noqa: BLE001 - retried from the queue (dataplane or bus)
            self.failures = self.failures or dict.fromkeys(roles, exc)
        failures: dict[str, Exception] = self.failures
        for role in set(roles) - set(failures):
            self.queue.forget(role)
        self._switch_resync = self._switch_resync and ("l2" not in roles or "l2" in failures)
        if not failures:
            self._bus_ok()
        logged: set[int] = set()  # an error several roles share (the fetch's) counts once
        for role, exc in failures.items():
            if isinstance(exc, VersionMismatch):  # nothing applied; the next notification or resync retries
                self._bus_trouble("desired state refused, nothing applied", exc, "waiting for the next change")
                continue
            if id(exc) not in logged:
                logged.add(id(exc))
                self.metrics.failures.inc()
                if isinstance(exc, TransportError):
                    self._bus_trouble("fetching the desired state", exc)
                else:
                    LOG.warning("agent %s: %s failed (%s); will retry", self.host.name, role, exc)
            if role == "l2" and self._switch_resync and isinstance(exc, TemporaryError):
                self.desired.keep()  # vswitchd still settling: only the switch is behind
            else:
                self.desired.invalidate()
            if isinstance(exc, PermanentError):
                self.queue.add_after(role, PERMANENT_RETRY)
            else:
                self.queue.add_rate_limited(role)

    def reconcile_once(self, roles: list[str] | None = None) -> PassResult:
        """One pass of ``roles`` (every role of this host by default) on one desired state; the
        L2 role's result (empty when it did not run). A failed role does not stop the others:
        ``self.failures`` holds each one's error, and the first is raised once all have run."""
        with self.lock:
            result, self.failures = self._reconcile(roles if roles is not None else in_order(self.roles, self.roles))
        if self.failures:
            raise next(iter(self.failures.values()))
        return result or PassResult()

    def _reconcile(self, roles: list[str]) -> tuple[PassResult | None, dict[str, Exception]]:
        started = time.monotonic()
        try:  # one fetch for every role of the pass (an L2 pass woken by OVSDB alone reuses the last)
            desired = self.desired.next_state(l2_only=roles == ["l2"])
        except Exception as exc:  # noqa: BLE001 - every role of the pass failed
            return None, dict.fromkeys(roles, exc)
        failures: dict[str, Exception] = {}
        learnt: dict[str, Any] = {}
        for role in roles:  # in order: DHCP and router ports are plugged first, so that the L2 pass tags them at once
            try:
                ROLE_PASSES[role](self, desired, learnt)
            except Exception as exc:  # noqa: BLE001 - retried alone (_process)
                failures[role] = exc
        result: PassResult | None = learnt.get("l2")
        fip_changed: dict[str, str] = learnt.get("fip_changed", {})
        # every status this pass learnt, in one call and one transaction on the server; what
        # was reported is remembered only once it was (a failed pass reports it next time)
        try:
            if (result and (result.wired or result.unwired)) or fip_changed:
                self.client.report_pass(up=result.wired if result else [], down=result.unwired if result else [],
                                        dhcp_ready=[], fip_statuses=fip_changed)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - the roles that learnt them report again
            failures.update({role: exc for role, key in (("l2", "l2"), ("l3", "fip_statuses")) if key in learnt})
            return None, failures
        if "fip_statuses" in learnt:
            self.fip_statuses = learnt["fip_statuses"]
        if result is not None:
            self.l2.reported(result)
            self.metrics.applied("l2", {"ovsdb_commands": result.ovsdb_commands, "flow_changes": result.flow_changes,
                                        "firewall_tables": int(result.firewall_applied)})  # fmt: skip
        self.metrics.pass_duration.observe(time.monotonic() - started)
        if not failures:
            with self.converged:
                self.passes += 1
                self.last_result = result or self.last_result
                self.converged.notify_all()
        return result, failures
