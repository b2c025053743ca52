"""Written rows -> the keys of what they change in hosts' desired states (domain/notify/changes.py)."""

from __future__ import annotations

import pytest

import neutrino.domain.models  # noqa: F401  (registers every table)
from neutrino.domain.models.base import Base
from neutrino.domain.notify.changes import NOT_PROJECTED, PORT_ALL, TABLES, RowChange, keys_of, moves

pytestmark = pytest.mark.unit


def _update(table: str, old: dict, **new: object) -> RowChange:
    return RowChange(table, old=old, new={**old, **new}, changed=frozenset(new))


def test_a_new_port_reaches_everything_a_port_reaches():
    assert keys_of(RowChange("ports", new={"id": "p1", "network_id": "n1"})) == {(k, "p1") for k in PORT_ALL}


def test_a_status_change_reaches_nobody():
    """No agent reads a port's status; Neutron's DHCP notifier skips status-only updates too."""
    port = {"id": "p1", "network_id": "n1", "status": "DOWN", "revision_number": 1}
    assert keys_of(_update("ports", port, status="ACTIVE", revision_number=2, updated_at="t")) == set()
    assert keys_of(_update("ports", port, name="web")) == set()


def test_a_revision_bump_alone_reaches_what_shows_the_revision():
    """A binding that changed bumps the port's revision: its DHCP hosts report it ready again."""
    port = {"id": "p1", "network_id": "n1", "status": "DOWN", "revision_number": 1}
    assert keys_of(_update("ports", port, revision_number=2, updated_at="t")) == {
        ("port_host", "p1"), ("port_dhcp", "p1")}  # fmt: skip


def test_security_group_membership_reaches_the_port_and_the_groups_users():
    row = {"port_id": "p1", "security_group_id": "sg1"}
    assert keys_of(RowChange("security_group_port_bindings", new=row)) == {("port_host", "p1"), ("sg_members", "sg1")}
    assert moves(RowChange("security_group_port_bindings", old=row))


def test_a_rule_reaches_its_groups_ports():
    assert keys_of(RowChange("security_group_rules", new={"security_group_id": "sg1", "remote_group_id": "sg2"})) == {
        ("sg_rules", "sg1")}  # fmt: skip


def test_a_binding_moving_hosts_is_resolved_before_and_after():
    change = _update("ml2_port_bindings", {"port_id": "p1", "host": "a", "vif_type": "ovs"}, host="b")
    assert keys_of(change) == {("port_host", "p1"), ("port_peers", "p1")}
    assert moves(change)
    assert not moves(_update("ports", {"id": "p1", "status": "DOWN"}, status="ACTIVE"))


def test_heartbeats_change_nothing_a_new_agent_its_host():
    agent = {"id": "a1", "host": "h1", "heartbeat_timestamp": 1}
    assert keys_of(_update("agents", agent, heartbeat_timestamp=2, configurations="{}")) == set()
    assert keys_of(RowChange("agents", new=agent)) == {("host", "h1")}
    assert keys_of(RowChange("agents", old=agent)) == {("agent", "a1"), ("host", "h1")}


def test_router_parts_reach_the_router():
    assert keys_of(RowChange("router_ports", new={"router_id": "r1", "port_id": "p1"})) == {
        ("router", "r1"), ("port_peers", "p1")}  # fmt: skip
    fip = {"id": "f1", "router_id": "r1", "fixed_port_id": None}
    assert keys_of(_update("floatingips", fip, router_id="r2")) == {("router", "r1"), ("router", "r2")}
    assert keys_of(_update("floatingips", fip, status="ACTIVE")) == {("router", "r1")}


def test_networks_and_subnets():
    assert keys_of(RowChange("networks", new={"id": "n1"})) == set()  # on no host yet
    assert keys_of(_update("networks", {"id": "n1", "mtu": 1500}, mtu=1450)) == {("network", "n1")}
    assert keys_of(_update("networks", {"id": "n1", "revision_number": 1}, revision_number=2)) == {("network_dhcp", "n1")}
    assert keys_of(RowChange("subnets", new={"id": "s1", "network_id": "n1"})) == {("network", "n1")}
    assert keys_of(RowChange("subnet_host_routes", new={"subnet_id": "s1"})) == {("subnet_dhcp", "s1")}


def test_tables_no_projection_reads_change_nothing():
    assert keys_of(RowChange("tags", new={"resource_id": "p1", "tag": "x"})) == set()
    assert keys_of(RowChange("bus_events", new={"seq": 1})) == set()
    assert not moves(RowChange("tags", old={"resource_id": "p1"}))


def test_every_kind_a_table_maps_to_has_a_resolver():
    from neutrino.domain.notify.changes import TABLES
    from neutrino.domain.notify.hosts import RESOLVERS

    columns = {c: "x" for c in ("id", "port_id", "network_id", "security_group_id", "remote_group_id", "host",
                                "address_group_id", "subnet_id", "router_id", "l3_agent_id", "dhcp_agent_id",
                                "floatingip_id", "qos_policy_id", "trunk_id", "address_scope_id")}  # fmt: skip
    kinds = set()
    for table in TABLES:
        for change in (RowChange(table, new=columns), RowChange(table, old=columns),
                       RowChange(table, old=columns, new=columns, changed=frozenset(columns))):  # fmt: skip
            kinds |= {kind for kind, _ in keys_of(change)}
    assert kinds and kinds <= set(RESOLVERS), kinds - set(RESOLVERS)


def test_hints_become_sorted_capped_message_fields():
    from neutrino.domain.notify.hosts import Hints

    hints = Hints(ports={"b", "a"}, security_groups={"g"})
    hints.merge(Hints(routers={"r"}, ports={"c"}))
    assert hints.as_message(limit=2) == {"ports": ["a", "b"], "networks": [], "security_groups": ["g"], "routers": ["r"],
                                         "more": True}  # c was cut: the agent must look at everything
    assert "more" not in hints.as_message(limit=3)


def test_every_table_is_mapped_or_known_unprojected():
    """A table added without a mapping would leave its changes unannounced (hosts would see
    them only at their periodic resync): each must be placed in TABLES or NOT_PROJECTED."""
    tables = set(Base.metadata.tables)
    assert tables - set(TABLES) - NOT_PROJECTED == set()
    assert set(TABLES) & NOT_PROJECTED == set()
    assert (set(TABLES) | NOT_PROJECTED) - tables == set()


def test_ha_and_conntrack_helper_rows_reach_the_router():
    ha = RowChange("ha_router_agent_port_bindings", old=None, new={"router_id": "r1", "port_id": "p", "l3_agent_id": "a"})
    assert keys_of(ha) == {("router", "r1")}
    state = RowChange("ha_router_agent_port_bindings", old={"router_id": "r1", "state": "standby"},
                      new={"router_id": "r1", "state": "active"}, changed=frozenset({"state"}))  # fmt: skip
    assert keys_of(state) == set()
    assert keys_of(RowChange("conntrack_helpers", new={"router_id": "r2", "port": 21})) == {("router", "r2")}


def test_in_lists_take_few_lengths_and_keep_their_ids():
    """Padding bounds the distinct IN statements (each one prepared and kept by SQLite's
    driver) without changing which ids a chunk asks for."""
    from neutrino.domain.notify.hosts import CHUNK, padded

    assert padded([]) == []
    assert padded(["a"]) == ["a"]
    assert padded(["a", "b", "c"]) == ["a", "b", "c", "c"]
    lengths = {len(padded([str(i) for i in range(n)])) for n in range(1, CHUNK + 1)}
    assert lengths == {1, 2, 4, 8, 16, 32, 64, 128, 256, CHUNK}
    for n in (5, 300, CHUNK):
        ids = [str(i) for i in range(n)]
        assert set(padded(ids)) == set(ids) and padded(ids)[:n] == ids
