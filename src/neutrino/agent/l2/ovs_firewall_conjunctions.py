"""Remote-group rules of the native OVS firewall as OpenFlow conjunctions: clauses to flows (pure).

``ovs_firewall_flows`` gathers, per (table, port, group, family), the rules naming a remote group
into one ``Conjunction``; this module turns them into flows at priority 71 (``CONJ_PRIORITY``:
above the plain rule flows at 70, since OVS leaves a plain flow and a conjunctive one that both
match at one priority undefined):

* clause 1/2, the port's side: one flow per match the port's rules give (``in_port=`` in 72,
  ``reg6=..,dl_dst=..`` in 82; the state, the protocol, one flow per port mask), a flow two
  groups' rules of one port share carrying both ids;
* clause 2/2, the group's side: one flow per merged member address (``ip,nw_src=``, egress
  ``nw_dst``), shared by every conjunction of the table naming that group and family, its
  actions ``conjunction(id,2/2)`` of each, sorted by id;
* ``conj_id=N,ip`` (or ``ipv6``) with the conjunction's action.

So a group of N ports on one host whose rule allows TCP 22 from its own M members costs N clause
flows, M member flows and N ``conj_id`` flows per table, 2N+M, instead of N*M plain flows (20
ports: 60 instead of 400). Conjunctions of one table may overlap (a member of two groups a port's
rules name): OVS then takes one of them, whose action is the same (both are the port's accept).
Ids (``conj_ids``) are the CRC32 of ``table port group family``, probed upwards on a collision
in sorted order: the same for the same rules whatever the order of the input or the other ports,
so an unchanged pass writes no flow (docs/dataplane.md, "The native OVS firewall").
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from neutrino.dataplane.openflow import Flow

CONJ_PRIORITY = 71
"""Remote-group conjunctions: above the plain rule flows, which may match the same packets."""


@dataclass
class Conjunction:
    """The remote-group rules of one port in one table naming one group and family: ``port``
    (clause 1) and ``members`` (clause 2) matches, ``actions`` of its ``conj_id`` flow."""

    table: int
    key: str
    family: str
    actions: str
    port: set[str]
    members: tuple[str, ...]


def conj_ids(keys: Iterable[str]) -> dict[str, int]:
    """A 32-bit id per key, unique among them: the key's CRC32, or the next free one above it
    (probing in sorted order, so the same keys always get the same ids; 0 is never used)."""
    out: dict[str, int] = {}
    used: set[int] = set()
    for key in sorted(set(keys)):
        n = zlib.crc32(key.encode())
        while n == 0 or n in used:
            n = (n + 1) & 0xFFFF_FFFF
        used.add(n)
        out[key] = n
    return out


def conjunction_flows(conjunctions: Iterable[Conjunction]) -> list[Flow]:
    """The clause flows (one per match, its ``conjunction()`` actions merged and sorted by id)
    and the ``conj_id`` flows of these conjunctions."""
    conjunctions = list(conjunctions)
    ids = conj_ids(c.key for c in conjunctions)
    clauses: dict[tuple[int, str], set[tuple[int, int]]] = {}
    out = []
    for c in conjunctions:
        n = ids[c.key]
        for match in c.port:
            clauses.setdefault((c.table, match), set()).add((n, 1))
        for match in c.members:
            clauses.setdefault((c.table, match), set()).add((n, 2))
        out.append(Flow(c.table, CONJ_PRIORITY, f"conj_id={n},{c.family}", c.actions))
    for (table, match), which in clauses.items():
        out.append(Flow(table, CONJ_PRIORITY, match, ",".join(f"conjunction({n},{k}/2)" for n, k in sorted(which))))
    return sorted(out)
