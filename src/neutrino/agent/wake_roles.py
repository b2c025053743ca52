"""Which of a host's roles a wake-up concerns, and the order a pass runs them in (pure).

Each role (``l2``, ``dhcp``, ``l3``, ``metadata``) is its own key on the agent's work queue
(``agent/workqueue.py``): a change that concerns one role runs that role alone, and a role that
failed is retried alone, with its own backoff. A ``host_changed`` names the roles its changes
concern (``roles``, from the kinds of change that reached the host: ``domain/notify/roles.py``);
one without them (an older server, a reconnect's "look again", a resync) concerns every role.
The host's own wake-ups name theirs: OVSDB (a VIF plugged or gone) and a vswitchd restart wake
L2, an HA state change L3, a dead metadata proxy the metadata role.

A pass runs the due roles in one order on one desired state (fetched once for all of them):
DHCP and L3 first, since they plug their ports, which the L2 pass then tags; the metadata
proxies after both, since they live in their namespaces and serve their networks and routers
(so they run whenever DHCP or L3 does); L2 last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ORDER = ("dhcp", "l3", "metadata", "l2")
"""The order in which a pass runs the roles."""


def roles_here(configured: Iterable[str], metadata: bool) -> frozenset[str]:
    """The role keys of a host running ``configured`` roles (``AgentSettings.roles``), with
    the metadata proxies when ``metadata``."""
    return frozenset({r for r in configured if r in ORDER and r != "metadata"} | ({"metadata"} if metadata else set()))


def concerned(msg: Mapping[str, Any], here: frozenset[str]) -> frozenset[str]:
    """The roles of ``here`` that a ``host_changed`` concerns: those it names; every role when
    it names none (an older server, a resync), or none that runs here (in doubt, look at all)."""
    named = msg.get("roles")
    if msg.get("resync") or not isinstance(named, list):
        return here
    return frozenset(str(r) for r in named) & here or here


def in_order(due: Iterable[str], here: frozenset[str]) -> list[str]:
    """The roles a pass for ``due`` runs, in ``ORDER``: the metadata proxies join DHCP or L3."""
    roles = set(due) & here
    if roles & {"dhcp", "l3"} and "metadata" in here:
        roles.add("metadata")
    return [r for r in ORDER if r in roles]
