"""The parts of one host's desired state that some ports and security groups reach (read-only).

An agent told ``host_changed`` with hints asks only for what they name (``get_desired_parts``)
instead of its whole state: for a port joining a group whose members sit on 500 hosts, each of
those hosts needs the group's new member list, not its 30 ports, tunnel peers and every other
group again. The answer is computed by the same queries as the whole projection (``build.py``),
restricted to the ids asked, so a merged state equals a whole one (an API test checks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from neutrino.contract.desired import DesiredParts, GroupRules, TunnelPeer
from neutrino.domain.projection.build import remote_sets
from neutrino.domain.projection.dhcp import dhcp_entries, served_networks
from neutrino.domain.projection.l2pop import remote_ports
from neutrino.domain.projection.tunnels import tunnel_peers
from neutrino.domain.projection.ports import bound_ports, group_rules
from neutrino.domain.projection.shared_parts import SharedParts

T = TypeVar("T")

MAX_IDS = 100
"""More ids than a notification carries of each kind: a caller asking for more asks for too much."""


def project_parts(session: Session, host: str, port_ids: list[str], group_ids: list[str],
                  shared: SharedParts | None = None, logged: int = 0,
                  local_networks: list[str] | None = None) -> DesiredParts:  # fmt: skip
    """The asked ports bound to ``host``, the asked groups' rules, and the members of every
    group either names or reaches (``DesiredParts``); the asked ports' DHCP entries on the
    networks the host's DHCP agent serves; and, when an asked port is not bound here and the
    agent named its ``local_networks`` (those of its last state), its tunnel peers and remote
    ports over them (what a port bound elsewhere changes: ``tunnels.py``, ``l2pop.py``).
    ``shared``: where the answers of one notification wave share the pieces that do not depend
    on the host (``shared_parts.py``); ``logged``: the event-log number of the notification the
    asking agent acts on."""
    asked_ports, asked_groups = tuple(sorted(set(port_ids))[:MAX_IDS]), tuple(sorted(set(group_ids))[:MAX_IDS])
    number = shared.number(session, logged) if shared is not None else 0

    def piece(key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        return shared.get(number, key, compute) if shared is not None else compute()

    ports = bound_ports(session, host, only=asked_ports) if asked_ports else []
    rules = piece(("rules", asked_groups), lambda: group_rules(session, set(asked_groups)))
    members = set(asked_groups) | {g for p in ports for g in p.security_groups}
    addresses: set[str] = set()
    for rule in [r for p in ports for r in p.rules] + [r for rs in rules.values() for r in rs]:
        if rule.remote_group_id:
            members.add(rule.remote_group_id)
        elif rule.remote_address_group_id:
            addresses.add(rule.remote_address_group_id)
    served = served_networks(session, host) if asked_ports else []
    peers: tuple[TunnelPeer, ...] | None = None
    local_ip = remote = None
    if local_networks is not None and set(asked_ports) - {p.port_id for p in ports}:
        peers, local_ip = tunnel_peers(session, host, set(local_networks))
        remote = remote_ports(session, peers)
    return DesiredParts(
        host=host,
        dhcp_networks=tuple(served),
        dhcp_ports=tuple(dhcp_entries(session, served, list(asked_ports))),
        tunnel_peers=peers,
        local_tunnel_ip=local_ip,
        remote_ports=remote,
        asked_ports=asked_ports,
        asked_groups=asked_groups,
        ports=tuple(sorted(ports, key=lambda p: p.port_id)),
        group_rules=tuple(GroupRules(g, rules.get(g, ())) for g in asked_groups),
        remote_groups=piece(("members", frozenset(members), frozenset(addresses)),
                            lambda: remote_sets(session, members, addresses)),
    )
