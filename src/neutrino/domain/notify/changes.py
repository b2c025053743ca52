"""A written row -> the keys of what it may change in hosts' desired states (pure).

A key is ``(kind, id)``: ``("port_host", port_id)`` means "the host the port is bound to",
``("sg_members", group_id)`` "the hosts whose rules name this group as remote group", and so on
(``hosts.py`` answers each kind with one query). The mapping follows what
``domain/projection/`` reads: a table the projection never reads maps to nothing, and a column
it never reads (a name, a description, a port's status, an agent's heartbeat) changes nothing.
A port's revision number is projected (bound ports and DHCP entries carry it), so a bump of it
alone (a binding changed: the DHCP agent reports the port ready again) reaches the port's host and
its network's DHCP hosts; a status change, which bumps it too, reaches nobody: no agent's desired
state depends on it, as Neutron's DHCP notifier skips status-only port updates
(docs/neutron-behaviour.md, "One port's path"). The agents' copies of the port's revision then lag
until their next whole fetch, which nothing they do depends on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str]

PORT_ALL = ("port_host", "port_dhcp", "port_router", "port_peers", "port_members", "port_trunk")
"""What a port's addresses, MAC or existence reach: its host, DHCP, routers, l2population
peers, the hosts that hold it as a remote-group member, and its trunk's parent host."""

UNPROJECTED = frozenset({"name", "description", "created_at", "updated_at", "project_id", "tenant_id", "status"})
"""Columns no projection reads on any table (a port's status is not part of its desired state)."""

REVISION_ONLY = frozenset({"revision_number"}) | UNPROJECTED

MOVES = frozenset({
    "host", "vif_type", "network_id", "port_id", "router_id", "l3_agent_id", "dhcp_agent_id",
    "security_group_id", "remote_group_id", "remote_address_group_id", "qos_policy_id", "gw_port_id",
    "fixed_port_id", "trunk_id", "floatingip_id", "subnet_id", "address_scope_id",
})  # fmt: skip
"""Columns whose old value names hosts the new one may not: an update of one of them is
resolved before it runs as well as after (``capture.py``)."""


@dataclass(frozen=True)
class RowChange:
    """One row written: ``old`` (None for an insert) and ``new`` (None for a delete) hold the
    column values known; ``changed`` the columns an update sets."""

    table: str
    old: Mapping[str, Any] | None = None
    new: Mapping[str, Any] | None = None
    changed: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_update(self) -> bool:
        return self.old is not None and self.new is not None

    def values(self, column: str) -> set[str]:
        """Every known value of ``column``, old and new (both name hosts to tell)."""
        return {str(r[column]) for r in (self.old, self.new) if r is not None and r.get(column) not in (None, "")}


def _only(change: RowChange, columns: frozenset[str]) -> bool:
    return change.is_update and change.changed <= columns


def _keys(kinds: Iterable[str], ids: set[str]) -> set[Key]:
    return {(k, i) for k in kinds for i in ids}


def _ports(c: RowChange) -> set[Key]:
    if _only(c, UNPROJECTED) or ("status" in c.changed and _only(c, REVISION_ONLY)):
        return set()  # a status change: agents report it, none reads it (see the module's docstring)
    if _only(c, REVISION_ONLY):
        return _keys(("port_host", "port_dhcp"), c.values("id"))
    return _keys(PORT_ALL, c.values("id"))


def _networks(c: RowChange) -> set[Key]:
    if c.new is not None and c.old is None:
        return set()  # a new network is on no host yet
    if _only(c, UNPROJECTED):
        return set()
    if _only(c, REVISION_ONLY):
        return _keys(("network_dhcp",), c.values("id"))
    return _keys(("network",), c.values("id"))


def _subnets(c: RowChange) -> set[Key]:
    if _only(c, REVISION_ONLY):
        return set()
    return _keys(("network",), c.values("network_id"))


def _routers(c: RowChange) -> set[Key]:
    if _only(c, UNPROJECTED):
        return set()
    return _keys(("router",), c.values("id"))


UPDATES_UNPROJECTED = frozenset({"agents"})
"""Tables no update of which changes a projection (``_agents``): ``capture.py`` does not read
their old rows (a heartbeat, 33 a second from a thousand hosts, would read its agent twice)."""


def _agents(c: RowChange) -> set[Key]:
    if c.is_update:
        return set()  # heartbeats, configurations, admin state: none is projected
    if c.old is None:
        return _keys(("host",), c.values("host"))  # a new agent's host now counts
    return _keys(("agent",), c.values("id")) | _keys(("host",), c.values("host"))


def _floatingips(c: RowChange) -> set[Key]:
    if _only(c, UNPROJECTED - {"status"}):
        return set()
    return _keys(("router",), c.values("router_id"))


def _by_column(*pairs: tuple[str, tuple[str, ...]]) -> Any:
    """A mapping that takes the keys of ``kinds`` for the values of ``column``, per pair."""

    def keys(c: RowChange) -> set[Key]:
        if _only(c, UNPROJECTED):
            return set()
        out: set[Key] = set()
        for column, kinds in pairs:
            out |= _keys(kinds, c.values(column))
        return out

    return keys


TABLES: dict[str, Any] = {
    "ports": _ports,
    "ipallocations": _by_column(("port_id", PORT_ALL)),
    "allowed_address_pairs": _by_column(("port_id", ("port_host", "port_peers", "port_members"))),
    "extra_dhcp_opts": _by_column(("port_id", ("port_dhcp",))),
    "port_dns": _by_column(("port_id", ("port_dhcp",))),
    "ml2_port_bindings": _by_column(("port_id", ("port_host", "port_peers"))),
    "ml2_port_binding_levels": _by_column(("port_id", ("port_host",))),
    "security_group_port_bindings": _by_column(("port_id", ("port_host",)), ("security_group_id", ("sg_members",))),
    "security_group_rules": _by_column(("security_group_id", ("sg_rules",))),
    "security_groups": lambda c: set() if c.new is not None else _keys(("sg_rules",), c.values("id")),
    "address_group_addresses": _by_column(("address_group_id", ("address_group",))),
    "networks": _networks,
    "network_segments": _by_column(("network_id", ("network",))),
    "subnets": _subnets,
    "subnet_dns_nameservers": _by_column(("subnet_id", ("subnet_dhcp",))),
    "subnet_host_routes": _by_column(("subnet_id", ("subnet_dhcp",))),
    "subnetpools": lambda c: _keys(("subnetpool",), c.values("id")) if "address_scope_id" in c.changed else set(),
    "network_dhcp_agent_bindings": _by_column(("dhcp_agent_id", ("agent_only",)), ("network_id", ("network_peers",))),
    "router_l3_agent_bindings": _by_column(("l3_agent_id", ("agent_only",)), ("router_id", ("router_peers",))),
    "routers": _routers,
    "router_ports": _by_column(("router_id", ("router",)), ("port_id", ("port_peers",))),
    "router_routes": _by_column(("router_id", ("router",))),
    "floatingips": _floatingips,
    "portforwardings": _by_column(("floatingip_id", ("floatingip",))),
    "qos_rules": _by_column(("qos_policy_id", ("qos",))),
    "qos_port_bindings": _by_column(("port_id", ("port_host",))),
    "qos_network_bindings": _by_column(("network_id", ("network_ports",))),
    "trunks": _by_column(("port_id", ("port_host",))),
    "trunk_subports": _by_column(("trunk_id", ("trunk",))),
    "conntrack_helpers": _by_column(("router_id", ("router",))),
    "ha_routers": _by_column(("router_id", ("router",))),
    "ha_router_agent_port_bindings": lambda c: set() if _only(c, frozenset({"state"})) else _keys(("router",), c.values("router_id")),
    "agents": _agents,
    "ml2_tunnel_endpoints": _by_column(("host", ("host", "host_peers"))),
}  # fmt: skip
"""Table -> its mapping. A table not listed is read by no projection."""

NOT_PROJECTED = frozenset({
    "address_groups", "address_scopes", "auto_allocated_topologies", "bus_events", "bus_fingerprints",
    "flavors", "flavorserviceprofilebindings", "serviceprofiles",
    "default_security_group_rules", "default_security_groups", "external_network_defaults", "ha_router_networks",
    "identity_projects", "identity_revoked_tokens", "identity_role_assignments", "identity_roles",
    "identity_signing_keys", "identity_users", "ml2_flat_allocations", "ml2_geneve_allocations",
    "ml2_vlan_allocations", "ml2_vxlan_allocations", "network_dns_domains", "network_segment_ranges",
    "provisioning_blocks", "qos_default_policies", "qos_policies", "quotas", "rbac_policies",
    "subnet_allocation_pools", "subnet_service_types", "subnetpool_prefixes", "tags",
})  # fmt: skip
"""Tables no projection reads (what they hold reaches hosts through other tables, or never).
Every table is in ``TABLES`` or here, a unit test checks: a new table must be placed."""


def keys_of(change: RowChange) -> set[Key]:
    """The keys one written row touches (empty for a table no projection reads)."""
    mapping = TABLES.get(change.table)
    return mapping(change) if mapping is not None else set()


def moves(change: RowChange) -> bool:
    """Whether the row's old values must be resolved before the write (a delete, or an update
    of a column that places it): afterwards they name nothing any more."""
    if change.table not in TABLES:
        return False
    return change.new is None or bool(change.changed & MOVES)
