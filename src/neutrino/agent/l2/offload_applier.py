"""Apply the offload decisions of ``agent/l2/offloads.py`` on the host, once per pass.

Detects the facts (again after every resync, so a vswitchd restarted with userspace TSO is
seen), writes ``userspace-tso-enable`` when the decision says so, logs the decision once per
change, and sets TX offload on each wired hybrid port's ``qvb`` device. A device is checked
with ethtool only when it is new (its MAC differs: a fresh veth) or the wanted state changed,
so a pass over unchanged ports costs one netlink dump (names and MACs only: ``dataplane/link_dump.py``).
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
        self._logged = ""
        self._applied: dict[str, tuple[str, bool]] = {}
        """bridge-end device -> (its MAC when set, TX offload on)."""

    def forget(self) -> None:
        """Detect again and check every device again on the next pass."""
        self.decision = None
        self._applied.clear()

    def _decide(self) -> offloads.OffloadDecision:
        if self.decision is not None:
            return self.decision
        kernel = self.datapath_type == "system"
        if self._version is None:
            self._version = offloads.parse_version(self.adapter.vswitchd_version())
        facts = offloads.SwitchFacts(
            kernel_module=kernel, version=self._version, setting=None if kernel else self.adapter.tso_setting(),
            tso_active=None if kernel else self.adapter.tso_active(),
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

    def __call__(self, ports: list[tuple[str, str | None]]) -> int:
        """(OVS port name, network type) of the wired ports -> how many devices changed."""
        want = offloads.wanted_tx(self._decide(), ports)
        for gone in set(self._applied) - set(want):
            del self._applied[gone]
        if not want:
            return 0
        macs = self.netlink.link_addresses(netns=self.netns)  # one dump, two fields decoded
        changed = 0
        for dev, on in sorted(want.items()):
            mac = macs.get(dev)
            if mac is None or self._applied.get(dev) == (mac, on):
                continue
            changed += bool(self.adapter.set_tx(dev, on))
            self._applied[dev] = (mac, on)
        return changed
