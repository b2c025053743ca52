"""Apply the offload decisions of ``agent/l2/offloads.py`` on the host, once per pass.

Detects the facts (again after every resync, so a vswitchd restarted with userspace TSO is
seen; the probe of the vswitchd binary once per agent), writes ``userspace-tso-enable`` when
the decision says so, logs the decision once per change, and sets TX offload on each wired
hybrid port's ``qvb`` device. A device is checked
through the ethtool ioctl only when it is new (its ifindex differs: a fresh veth) or the wanted
state changed, so a pass over unchanged ports costs one ``if_nameindex`` (no attribute dump,
which costs about a millisecond per link in pyroute2: seconds with a thousand ports).
"""

from __future__ import annotations

import logging
from typing import Any

from neutrino.agent.l2 import offloads

LOG = logging.getLogger(__name__)


class OffloadApplier:
    def __init__(self, host_name: str, adapter: Any, netlink: Any, netns: str | None, datapath_type: str,
                 tso_ports: bool = False) -> None:  # fmt: skip
        self.host_name, self.adapter, self.netlink, self.netns = host_name, adapter, netlink, netns
        self.datapath_type, self.tso_ports = datapath_type, tso_ports
        self.decision: offloads.OffloadDecision | None = None
        self._version: tuple[int, ...] | None = None
        self._probe: tuple[bool, bool] | None = None
        self._probed = False
        self._logged = ""
        self._applied: dict[str, tuple[int, bool]] = {}
        """bridge-end device -> (its ifindex when set, TX offload on)."""

    def forget(self) -> None:
        """Detect again and check every device again on the next pass."""
        self.decision = None
        self._applied.clear()

    def _decide(self) -> offloads.OffloadDecision:
        if self.decision is not None:
            return self.decision
        kernel = self.datapath_type == "system"
        if self._version is None:
            line = self.adapter.vswitchd_version()
            self._version = offloads.parse_version(line)
            if not kernel and not self._probed:  # once per agent: the binary's answer (cached per machine)
                self._probe, self._probed = self.adapter.tso_probe(line), True
        keeps, tunnels = self._probe if self._probe is not None else (None, None)
        facts = offloads.SwitchFacts(
            kernel_module=kernel, version=self._version, setting=None if kernel else self.adapter.tso_setting(),
            tso_active=None if kernel else self.adapter.tso_active(), keeps_segment_size=keeps, tunnels_offloaded=tunnels,
        )  # fmt: skip
        decision = offloads.decide(facts, self.tso_ports)
        if decision.write_setting is not None:
            self.adapter.write_tso_setting(decision.write_setting)
        if decision.message != self._logged:
            LOG.info("agent %s: %s", self.host_name, decision.message)
            self._logged = decision.message
        if kernel or facts.tso_active is not None:  # else no packet socket yet: look again next pass
            self.decision = decision
        return decision

    def __call__(self, ports: list[offloads.PortPath], wires: dict[str, list[str]] | None = None) -> int:
        """(OVS port name, network type, network MTU, physical network) of the wired ports ->
        how many devices changed. ``wires``: per physical network, the kernel devices on its OVS
        bridge (their smallest MTU is the wire's)."""
        decision = self._decide()
        want = offloads.wanted_tx(decision, ports)
        for gone in set(self._applied) - set(want):
            del self._applied[gone]
        if not want:
            return 0
        indexes = self.netlink.link_indexes(netns=self.netns)
        wire_mtus = {}
        for net, devs in (wires or {}).items():  # a few devices per physical network: one netlink get each
            links = [self.netlink.link(d, netns=self.netns) for d in devs if d in indexes]
            found = [link.mtu for link in links if link is not None and getattr(link, "mtu", None)]
            if found:
                wire_mtus[net] = min(found)
        want = offloads.wanted_tx(decision, ports, wire_mtus)
        changed = 0
        for dev, on in sorted(want.items()):
            index = indexes.get(dev)
            if index is None or self._applied.get(dev) == (index, on):
                continue
            changed += bool(self.adapter.set_tx(dev, on))
            self._applied[dev] = (index, on)
        return changed
