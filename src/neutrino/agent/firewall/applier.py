"""Security groups as nftables in a host's namespace, applied whenever their text changes.

The conntrack table (a zone per network, ``conntrack.py``) and the ports' bridge table
(``rules.py``); a rule removed also deletes the conntrack entries it matched. Checks the
per-namespace br_netfilter sysctls first (docs/dataplane.md, "br_netfilter and the hybrid
firewall") and fixes them in an emulated host's namespace; on a real host (root namespace) it
only reports them. ``tables`` gives the same texts to the audit (docs/audit.md); ``forget``
makes the next call apply them again (the audit's repair).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from neutrino.agent.firewall import conntrack, rules, sysctls
from neutrino.contract.desired import BoundPort
from neutrino.dataplane.errors import DataplaneError
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.ports import ConnectionTracking, Firewall, Links

LOG = logging.getLogger(__name__)


class FirewallApplier:
    def __init__(self, host: HostContext, nft: Firewall, netlink: Links, conntracks: ConnectionTracking | None = None) -> None:
        self.host, self.nft, self.netlink, self.conntracks = host, nft, netlink, conntracks
        self.last: dict[str, str] = {}
        self.previous: list[BoundPort] = []

    def check_sysctls(self) -> None:
        values: dict[str, str | None] = {}
        for key in sysctls.KEYS:
            try:
                values[key] = self.netlink.get_sysctl(key, netns=self.host.netns)
            except DataplaneError:
                values[key] = None
        for key, want in sysctls.corrections(values).items():
            if self.host.netns is not None:
                self.netlink.set_sysctl(key, want, netns=self.host.netns)
        for problem in sysctls.problems(values):
            LOG.error("agent %s: firewall: %s", self.host.name, problem)

    @staticmethod
    def tables(ports: list[BoundPort], remote_groups: Iterable[Any] = ()) -> list[tuple[str, str, str]]:
        """(family, table, body) of both tables for these ports."""
        return [(rules.CT_FAMILY, rules.CT_TABLE, conntrack.ct_body(ports)),
                (rules.FAMILY, rules.TABLE, rules.render(ports, remote_groups))]  # fmt: skip

    def forget(self) -> None:
        self.last.clear()

    def __call__(self, ports: list[BoundPort], remote_groups: tuple[Any, ...] = ()) -> bool:
        """Apply the tables whose text changed, both in one script; True when the rules did."""
        netns = self.host.netns
        if "ct" not in self.last:
            self.check_sysctls()
        ct = conntrack.ct_body(ports)  # the zones follow the networks present
        body = rules.render(ports, remote_groups)
        changed: dict[tuple[str, str], str | None] = {}
        if self.last.get("ct") != ct:
            changed[(rules.CT_FAMILY, rules.CT_TABLE)] = ct
        if self.last.get("body") != body:
            changed[(rules.FAMILY, rules.TABLE)] = body
        if changed:
            self.nft.apply_tables(changed, netns=netns)
        self.last["ct"] = ct
        if (rules.FAMILY, rules.TABLE) not in changed:
            self.previous = ports
            return False
        self.last["body"] = body
        flush = conntrack.removed_rule_filters(self.previous, ports)
        if flush and self.conntracks is not None:
            self.conntracks.delete(flush, netns=netns)
        self.previous = ports
        return True
