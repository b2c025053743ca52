"""Connection-tracking entries in a namespace: deleting them (``conntrack -D``), or marking them.

The L3 agent deletes a floating IP's entries. The firewall marks the entries a removed security
group rule matched (its state chain drops a marked connection both ways,
``agent/firewall/state_marks.py``). Each filter is one ``conntrack`` argument list (zone,
family, addresses, protocol, port). "No entry matched" is the common answer and not an error.

Marking takes two steps because conntrack-tools 1.4.7 cannot update an entry outside zone 0
(``-U`` refuses ``--zone`` and, without it, looks the entry up in zone 0): ``conntrack -L``
with the filter lists the entries (the tool keeps the filter's meaning: zone, masks, ports), and
each one listed gets its mark through netlink (pyroute2's conntrack socket, with the zone). An
entry without ports (ICMP, other protocols) is deleted instead: an ICMP reply without its
request is invalid, so nothing takes a deleted ICMP entry up the other way.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.nfnetlink.nfctsocket import NFCTAttrTuple, NFCTSocket

from neutrino.dataplane import exec as programs
from neutrino.dataplane.errors import ProgramMissing

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listed:
    """One entry as ``conntrack -L`` prints it: its original tuple and zone."""

    proto: int
    name: str
    """The protocol as the tool names it (``tcp``, ``icmp``...), which ``-p`` takes back."""
    src: str
    dst: str
    sport: int | None
    dport: int | None
    zone: int

    @property
    def ipv6(self) -> bool:
        return ":" in self.src


def parse_listing(text: str) -> list[Listed]:
    """``conntrack -L`` lines -> their original tuples (the first ``src=``/``dst=``/ports of each
    line); lines of another shape (the tool's summary on stderr aside) are skipped."""
    out = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 3 or not words[1].isdigit():
            continue
        fields: dict[str, str] = {}
        for word in words[2:]:
            key, eq, value = word.partition("=")
            if eq and key not in fields:
                fields[key] = value
        if "src" not in fields or "dst" not in fields:
            continue
        ports = [int(fields[k]) if k in fields else None for k in ("sport", "dport")]
        out.append(Listed(int(words[1]), words[0], fields["src"], fields["dst"], ports[0], ports[1], int(fields.get("zone", "0"))))
    return out


class Conntrack:
    def delete(self, filters: Iterable[Sequence[str]], *, netns: str | None) -> int:
        """Delete the entries matching each filter; the number of filters run."""
        count = 0
        for argv in filters:
            try:
                programs.run(["conntrack", "-D", *argv], netns=netns, check=False)
            except ProgramMissing:
                LOG.warning("conntrack is not installed: established connections outlive removed rules")
                return count
            count += 1
        return count

    def mark(self, filters: Iterable[Sequence[str]], mark: int, *, netns: str | None) -> int:
        """Set the mark of the entries matching each filter (those without ports: deleted); the
        number of entries listed. Where the conntrack netlink socket cannot be opened, the
        entries are deleted instead (with a warning): that still cuts, though racily."""
        entries: list[Listed] = []
        for argv in filters:
            try:
                listed = programs.run(["conntrack", "-L", *argv], netns=netns, check=False).stdout
            except ProgramMissing:
                LOG.warning("conntrack is not installed: established connections outlive removed rules")
                return 0
            entries += [e for e in parse_listing(listed) if e not in entries]
        portless = [e for e in entries if e.sport is None or e.dport is None]
        changed = self._delete_each(portless, netns)
        for family in (socket.AF_INET, socket.AF_INET6):
            mine = [e for e in entries if e not in portless and e.ipv6 == (family == socket.AF_INET6)]
            if not mine:
                continue
            marked: list[Listed] = []
            try:
                with NFCTSocket(nfgen_family=family, **({"netns": netns} if netns else {})) as sock:
                    for e in mine:
                        tuple_orig = NFCTAttrTuple(family=family, saddr=e.src, daddr=e.dst, proto=e.proto, sport=e.sport, dport=e.dport)
                        try:
                            sock.entry("set", mark=mark, zone=e.zone or None, tuple_orig=tuple_orig)
                        except NetlinkError as exc:  # gone meanwhile (timed out, or closed)
                            LOG.debug("conntrack entry %s not marked: %s", e, exc)
                        marked.append(e)
            except (OSError, NetlinkError) as exc:  # no conntrack netlink here: deleting still cuts, racily
                rest = [e for e in mine if e not in marked]
                LOG.warning("conntrack netlink unavailable (%s): deleting %d entries instead of marking them", exc, len(rest))
                self._delete_each(rest, netns)
            changed += len(mine)
        return changed

    def _delete_each(self, entries: Sequence[Listed], netns: str | None) -> int:
        """Delete these entries, each by its whole original tuple and zone."""
        filters = []
        for e in entries:
            argv = ["-w", str(e.zone), "-f", "ipv6" if e.ipv6 else "ipv4", "-s", e.src, "-d", e.dst, "-p", e.name]
            if e.sport is not None and e.dport is not None:
                argv += ["--sport", str(e.sport), "--dport", str(e.dport)]
            filters.append(argv)
        self.delete(filters, netns=netns)
        return len(filters)
