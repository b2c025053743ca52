"""Security groups as nftables in a host's namespace, applied whenever their text changes.

The conntrack table (a zone per network, ``conntrack.py``) and the ports' bridge table
(``rules.py``); a rule removed also marks the conntrack entries it matched cut
(``state_marks.CUT``). Checks the
per-namespace br_netfilter sysctls first (docs/dataplane.md, "br_netfilter and the hybrid
firewall") and fixes them in an emulated host's namespace; on a real host (root namespace) it
only reports them. ``tables`` gives the same texts to the audit (docs/audit.md); ``forget``
makes the next call apply them again (the audit's repair).

Each table carries an empty chain named after its text's digest (``marker``). A fresh applier
(an agent just restarted) lists the chain names, milliseconds with no rules printed, and skips a
table whose marker matches what it would write: a restart rewrites no firewall
(docs/dataplane.md, "A restarted agent rewrites no firewall"). Any difference, and the audit's
repair, replace the table as before.

When a pass hands the same port objects as the last one (only remote groups' members changed:
the merge keeps a port whose rules did not change, ``agent/desired_merge.py``), the CT table,
the ports' part of the bridge table and the conntrack marks (no rule was removed) are the last
pass's: only the sets are rendered again. A member a remote group lost since the last applied
table marks cut the entries the rules naming that group allowed it (``members.py``), on this path
as on any other; groups the merge kept (the same objects) cost one comparison each.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from typing import Any

from neutrino.agent.firewall import conntrack, members, rules, state_marks, sysctls
from neutrino.contract.desired import BoundPort
from neutrino.dataplane.errors import DataplaneError
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.ports import ConnectionTracking, Firewall, Links

LOG = logging.getLogger(__name__)


def marker(body: str) -> str:
    """The name of the empty chain that records which text a table was written from."""
    return "fp_" + hashlib.sha256(body.encode()).hexdigest()[:24]


def marked(body: str) -> str:
    return body.rstrip("\n") + f"\n\tchain {marker(body)} {{\n\t}}\n"


class FirewallApplier:
    def __init__(self, host: HostContext, nft: Firewall, netlink: Links, conntracks: ConnectionTracking | None = None) -> None:
        self.host, self.nft, self.netlink, self.conntracks = host, nft, netlink, conntracks
        self.last: dict[str, str] = {}
        self.previous: list[BoundPort] = []
        self.previous_groups: tuple[Any, ...] = ()
        """The remote groups of the last applied bridge table: a member gone since is cut."""
        self._fresh = True
        """Nothing applied yet by this applier: the tables in place may be trusted by their marker."""
        self._texts: tuple[list[BoundPort], dict[tuple[str, int], str], str, str] | None = None
        """The ports, set names, CT body and ports' part of the bridge table of the last call."""

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
        self._fresh = False  # the audit found drift: write whatever the markers say

    def _adopt(self, ct: str, body: str) -> None:
        """Take the tables in place as applied when their markers match the texts."""
        self._fresh = False
        try:
            installed = self.nft.chains(netns=self.host.netns)
        except DataplaneError as exc:
            LOG.info("agent %s: firewall: cannot list chains (%s): writing the tables", self.host.name, exc)
            return
        if marker(ct) in installed.get((rules.CT_FAMILY, rules.CT_TABLE), ()):
            self.last["ct"] = ct
        if marker(body) in installed.get((rules.FAMILY, rules.TABLE), ()):
            self.last["body"] = body

    def __call__(self, ports: list[BoundPort], remote_groups: tuple[Any, ...] = ()) -> bool:
        """Apply the tables whose text changed, both in one script; True when the rules did."""
        netns = self.host.netns
        if "ct" not in self.last:
            self.check_sysctls()
        same = self._texts is not None and _same_objects(self._texts[0], ports)
        sets, set_lines = rules.remote_sets(remote_groups)
        if same and self._texts is not None and self._texts[1] == sets:
            ct, port_text = self._texts[2], self._texts[3]
        else:
            ct = conntrack.ct_body(ports)  # the zones follow the networks present
            port_text = rules.port_text(ports, sets)
        self._texts = (list(ports), sets, ct, port_text)
        body = rules.with_sets(set_lines, port_text)
        if self._fresh:
            self._adopt(ct, body)
        changed: dict[tuple[str, str], str | None] = {}
        if self.last.get("ct") != ct:
            changed[(rules.CT_FAMILY, rules.CT_TABLE)] = marked(ct)
        if self.last.get("body") != body:
            changed[(rules.FAMILY, rules.TABLE)] = marked(body)
        if changed:
            self.nft.apply_tables(changed, netns=netns)
        self.last["ct"] = ct
        if (rules.FAMILY, rules.TABLE) not in changed:
            self.previous, self.previous_groups = ports, tuple(remote_groups)
            return False
        self.last["body"] = body
        # the same port objects as the last applied: no rule was removed, nothing to cut
        cut = [] if _same_objects(self.previous, ports) else conntrack.removed_rule_filters(self.previous, ports)
        # the same group objects: no member was removed, nothing to cut either
        removed = members.removed_members(self.previous_groups, remote_groups) if self.previous_groups else {}
        cut += [argv for argv in members.removed_member_filters(ports, removed, remote_groups) if argv not in cut]
        if cut and self.conntracks is not None:
            self.conntracks.mark(cut, state_marks.CUT, netns=netns)
        self.previous, self.previous_groups = ports, tuple(remote_groups)
        return True


def _same_objects(before: list[BoundPort], now: list[BoundPort]) -> bool:
    return len(before) == len(now) and all(a is b for a, b in zip(before, now))
