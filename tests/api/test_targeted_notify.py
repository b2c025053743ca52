"""Targeted notifications (domain/notify/, bus/server.py) against the full-projection oracle.

A small cloud (agents on six hosts, VXLAN and VLAN networks, security groups whose rules name
other groups, routers with interfaces, floating IPs) takes a randomized series of changes
through the API and the agents' RPC; after each, the hosts the notifier targets must include
every host whose projection's fingerprint changed (``notify_oracle``). It also checks the
precision the scale bench relies on: a port joining a group reaches the hosts using the group,
no other (c4, with a port on the same network, is not woken).
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from neutrino.contract import messages
from tests.api import notify_oracle
from tests.api.ml2_support import ml2_server

pytestmark = pytest.mark.api

HOSTS = ["c1", "c2", "c3", "c4", "net1", "net2"]
HOST = "binding:host_id"


def _rpc(state: Any, method: str, **body: Any) -> dict[str, Any]:
    reply = state.bus.rpc.handle(messages.message(method, **body))
    assert "error" not in reply, reply
    return reply


def _report(state: Any, host: str, kind: str, n: int) -> None:
    from neutrino.agent.kinds import AGENT_KINDS, configurations_for

    agent_type, binary, topic, zone = AGENT_KINDS[kind]
    conf = configurations_for(kind, bridge_mappings={"physnet1": "br-eth1"}, tunnel_types=["vxlan"],
                              tunneling_ip=f"192.0.2.{n}")  # fmt: skip
    _rpc(state, messages.REPORT_STATE, host=host, agent_type=agent_type, binary=binary, topic=topic,
         configurations=conf, start_flag=True, availability_zone=zone)  # fmt: skip


class Cloud:
    def __init__(self, api: Any, state: Any, rng: random.Random) -> None:
        self.api, self.state, self.rng = api, state, rng
        notifier = state.bus.notifier
        notifier.stop()  # passes are run by hand here; the capture keeps listening
        notifier.capture.start()
        self.notifier = notifier
        for n, host in enumerate(HOSTS):
            _report(state, host, "ovs", n + 1)
            if host.startswith("net"):
                _report(state, host, "dhcp", n + 1)
                _report(state, host, "l3", n + 1)
        self.nets = [self.api.network(**({"provider:network_type": "vlan", "provider:physical_network": "physnet1"}
                                          if i == 3 else {})) for i in range(4)]  # fmt: skip
        self.subnets = [self.api.subnet(n["id"], cidr=f"10.{i}.0.0/24") for i, n in enumerate(self.nets)]
        self.groups = [self.api.post("/v2.0/security-groups", {"security_group": {"name": f"g{i}"}}).json()["security_group"]
                       for i in range(4)]  # fmt: skip
        self.ports: list[str] = []
        self.routers: list[str] = []
        self.interfaces: list[tuple[str, str]] = []
        self.fips: list[str] = []
        self.ext = self.api.network(**{"router:external": True})
        self.api.subnet(self.ext["id"], cidr="172.24.4.0/24")
        self.notifier.pass_once()

    # --- the changes --------------------------------------------------------------------------

    def add_port(self) -> None:
        net = self.rng.choice(self.nets)
        groups = self.rng.sample([g["id"] for g in self.groups], self.rng.randint(0, 2))
        port = self.api.port(net["id"], security_groups=groups, **{HOST: self.rng.choice(HOSTS)})
        self.ports.append(port["id"])

    def move_port(self) -> None:
        if self.ports:
            self.api.put(f"/v2.0/ports/{self.rng.choice(self.ports)}", {"port": {HOST: self.rng.choice(HOSTS)}})

    def regroup_port(self) -> None:
        if self.ports:
            groups = self.rng.sample([g["id"] for g in self.groups], self.rng.randint(0, 3))
            self.api.put(f"/v2.0/ports/{self.rng.choice(self.ports)}", {"port": {"security_groups": groups}})

    def pair_port(self) -> None:
        if self.ports:
            pairs = [{"ip_address": f"10.99.0.{self.rng.randint(1, 250)}"}] if self.rng.random() < 0.7 else []
            self.api.put(f"/v2.0/ports/{self.rng.choice(self.ports)}", {"port": {"allowed_address_pairs": pairs}})

    def delete_port(self) -> None:
        if self.ports:
            port = self.ports.pop(self.rng.randrange(len(self.ports)))
            if all(port != p for _, p in self.interfaces):
                self.api.delete(f"/v2.0/ports/{port}")

    def add_rule(self) -> None:
        group, remote = self.rng.choice(self.groups), self.rng.choice(self.groups)
        self.api.post("/v2.0/security-group-rules", {"security_group_rule": {
            "security_group_id": group["id"], "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
            "port_range_min": self.rng.randint(1, 60000), "remote_group_id": remote["id"]}})  # fmt: skip

    def delete_rule(self) -> None:
        rules = self.api.get("/v2.0/security-group-rules").json()["security_group_rules"]
        remote = [r for r in rules if r["remote_group_id"]]
        if remote:
            self.api.delete(f"/v2.0/security-group-rules/{self.rng.choice(remote)['id']}")

    def port_up(self) -> None:
        if self.ports:
            port = self.api.get(f"/v2.0/ports/{self.rng.choice(self.ports)}").json()["port"]
            if port[HOST]:
                _rpc(self.state, messages.UPDATE_DEVICE_LIST, host=port[HOST], devices_up=[port["id"]], devices_down=[])

    def add_router(self) -> None:
        router = self.api.post("/v2.0/routers", {"router": {"name": "r", "external_gateway_info": {
            "network_id": self.ext["id"]}}}).json()["router"]  # fmt: skip
        self.routers.append(router["id"])

    def add_interface(self) -> None:
        if self.routers:
            router, sub = self.rng.choice(self.routers), self.rng.choice(self.subnets)
            r = self.api.put(f"/v2.0/routers/{router}/add_router_interface", {"subnet_id": sub["id"]})
            if r.status_code == 200:
                self.interfaces.append((router, r.json()["port_id"]))

    def remove_interface(self) -> None:
        if self.interfaces:
            router, port = self.interfaces.pop(self.rng.randrange(len(self.interfaces)))
            self.api.put(f"/v2.0/routers/{router}/remove_router_interface", {"port_id": port})

    def floating_ip(self) -> None:
        if self.ports and self.rng.random() < 0.6:
            r = self.api.post("/v2.0/floatingips", {"floatingip": {"floating_network_id": self.ext["id"],
                                                                   "port_id": self.rng.choice(self.ports)}})  # fmt: skip
            if r.status_code == 201:
                self.fips.append(r.json()["floatingip"]["id"])
        elif self.fips:
            self.api.delete(f"/v2.0/floatingips/{self.fips.pop()}")

    def network_mtu(self) -> None:
        net = self.rng.choice(self.nets)
        self.api.put(f"/v2.0/networks/{net['id']}", {"network": {"mtu": self.rng.choice([1400, 1450])}})

    def agent_dies(self) -> None:
        agents = self.api.get("/v2.0/agents").json()["agents"]
        dhcp = [a for a in agents if a["agent_type"] == "DHCP agent"]
        if len(dhcp) > 1 and self.rng.random() < 0.3:
            self.api.delete(f"/v2.0/agents/{self.rng.choice(dhcp)['id']}")


CHANGES = [name for name in vars(Cloud) if not name.startswith("_")]


def _seeded(cloud: Cloud) -> Cloud:
    """Six ports and a router, their notifications already sent: the start of each walk."""
    for _ in range(6):
        cloud.add_port()
    cloud.add_router()
    cloud.notifier.pass_once()
    return cloud


def test_targeted_hosts_cover_every_changed_projection(tmp_path, database_url):
    rng = random.Random(20261205)
    with ml2_server(tmp_path, database_url) as (api, state):
        cloud = _seeded(Cloud(api, state, rng))
        extra = 0
        for step in range(70):
            change = rng.choice(CHANGES)
            before = notify_oracle.fingerprints(state.read_sessions)
            getattr(cloud, change)()
            targeted = set(cloud.notifier.pass_once())
            changed = notify_oracle.changed(before, notify_oracle.fingerprints(state.read_sessions))
            assert changed <= targeted, f"step {step} {change}: missed {changed - targeted}"
            extra += len(targeted - changed)
        assert extra <= 70 * len(HOSTS) // 3, extra  # mostly precise, never blind


def test_each_notification_names_every_role_whose_part_of_the_state_changed(tmp_path, database_url):
    """``host_changed`` names the agent roles its changes concern (``domain/notify/roles.py``):
    every role whose part of the host's projection changed is among them (the oracle cuts the
    projections before and after into each role's parts), and DHCP-only changes name DHCP alone."""
    rng = random.Random(20261206)
    with ml2_server(tmp_path, database_url) as (api, state):
        cloud = _seeded(Cloud(api, state, rng))
        events: list[dict[str, Any]] = []
        unsubscribe = [state.bus.transport.subscribe(messages.host_topic(h), events.append) for h in HOSTS]
        named_alone: dict[str, int] = {}
        for step in range(50):
            change = rng.choice(CHANGES)
            before = notify_oracle.role_parts(state.read_sessions)
            events.clear()
            getattr(cloud, change)()
            targeted = set(cloud.notifier.pass_once())
            deadline = time.monotonic() + 30  # bounds a failure only
            while {e["host"] for e in events} < targeted and time.monotonic() < deadline:
                time.sleep(0.002)  # the in-process bus delivers on its own thread
            named = {e["host"]: set(e.get("roles", ["l2", "dhcp", "l3"])) for e in events}
            for host, roles in notify_oracle.changed_roles(before, notify_oracle.role_parts(state.read_sessions)).items():
                assert roles <= named.get(host, set()), f"step {step} {change}: {host} missed {roles - named.get(host, set())}"
            for roles in named.values():
                key = ",".join(sorted(roles))
                named_alone[key] = named_alone.get(key, 0) + 1
        assert named_alone.get("dhcp") and named_alone.get("l2"), named_alone  # not every role every time
        for stop in unsubscribe:
            stop()


def test_a_port_joining_a_group_reaches_only_its_users(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, state):
        cloud = Cloud(api, state, random.Random(1))
        web, db = cloud.groups[0]["id"], cloud.groups[1]["id"]
        api.post("/v2.0/security-group-rules", {"security_group_rule": {
            "security_group_id": db, "direction": "ingress", "ethertype": "IPv4", "remote_group_id": web}})  # fmt: skip
        net = cloud.nets[3]["id"]  # VLAN: no l2population peers
        users = [api.port(net, security_groups=[db], **{HOST: h})["id"] for h in ("c1", "c2")]
        newcomer = api.port(net, security_groups=[], **{HOST: "c3"})
        api.port(net, security_groups=[], **{HOST: "c4"})
        cloud.notifier.pass_once()
        events: list[dict[str, Any]] = []
        unsubscribe = [state.bus.transport.subscribe(messages.host_topic(h), events.append) for h in HOSTS]
        before = notify_oracle.fingerprints(state.read_sessions, port_revisions=True)
        api.put(f"/v2.0/ports/{newcomer['id']}", {"port": {"security_groups": [web]}})
        targeted = set(cloud.notifier.pass_once())
        # the users of the group, the newcomer's host, and the network's DHCP host (the port's
        # revision went up, and DHCP entries carry it): exactly the projections that changed
        assert targeted == notify_oracle.changed(before, notify_oracle.fingerprints(state.read_sessions, port_revisions=True))
        assert {"c1", "c2", "c3"} <= targeted and "c4" not in targeted
        by_host = {e["host"]: e for e in events}
        assert newcomer["id"] in by_host["c3"]["ports"] and web in by_host["c1"]["security_groups"]
        # the group's users' L2 role (their firewall), the DHCP host's DHCP role (the entry's revision)
        assert by_host["c1"]["roles"] == ["l2"] and [by_host[h]["roles"] for h in by_host if h.startswith("net")] == [["dhcp"]]
        assert users and all(e["method"] == messages.HOST_CHANGED for e in events)
        for stop in unsubscribe:
            stop()


def test_a_port_delete_reads_only_the_ports_own_rows_before_it_and_still_reaches_every_host(tmp_path, database_url):
    """Before the delete the port's rows are read once (one statement, for its addresses and
    itself); the far ends (the users of its groups, its network's DHCP agents and peers) are
    answered by the pass after the commit, and still reach every host whose state changed."""
    from sqlalchemy import event

    with ml2_server(tmp_path, database_url) as (api, state):
        cloud = Cloud(api, state, random.Random(3))
        web = cloud.groups[0]["id"]
        api.post("/v2.0/security-group-rules", {"security_group_rule": {
            "security_group_id": web, "direction": "ingress", "ethertype": "IPv4", "remote_group_id": web}})  # fmt: skip
        net = cloud.nets[0]["id"]  # VXLAN: l2population peers
        ports = [api.port(net, security_groups=[web], **{HOST: h})["id"] for h in ("c1", "c2", "c3")]
        cloud.notifier.pass_once()
        statements: list[str] = []
        engine = state.sessions.kw["bind"]

        def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        before = notify_oracle.fingerprints(state.read_sessions)
        event.listen(engine, "before_cursor_execute", seen)
        try:
            assert api.delete(f"/v2.0/ports/{ports[0]}").status_code == 204
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        # the notifier's queries for a group's users and a network's DHCP hosts
        far = [s for s in statements if "SELECT DISTINCT security_group_rules.security_group_id, security_group_rules.remote"
               in s or "network_dhcp_agent_bindings.network_id, agents.host" in s]  # fmt: skip
        assert far == [] and sum("UNION ALL" in s and "trunk_subports" in s for s in statements) == 1
        targeted = set(cloud.notifier.pass_once())
        changed = notify_oracle.changed(before, notify_oracle.fingerprints(state.read_sessions))
        assert changed <= targeted and {"c1", "c2", "c3"} <= targeted


def test_a_heartbeat_reads_its_agent_once_and_wakes_no_host(tmp_path, database_url):
    """A heartbeat (a thousand hosts send 33 a second) changes no projection: the capture does
    not read the agent's row before the update (the report reads it once), and no host is told."""
    from sqlalchemy import event

    with ml2_server(tmp_path, database_url) as (api, state):
        # passes by hand only: a background pass (its agents query, on PostgreSQL the same
        # engine) could run inside the counted window, and would take the harvest the last
        # assertion looks at
        state.bus.notifier.stop()
        state.bus.notifier.capture.start()
        _report(state, "c1", "ovs", 1)
        state.bus.notifier.pass_once()
        statements: list[str] = []
        engine = state.sessions.kw["bind"]

        def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        from neutrino.agent.kinds import AGENT_KINDS, configurations_for

        agent_type, binary, topic, _zone = AGENT_KINDS["ovs"]
        conf = configurations_for("ovs", bridge_mappings={"physnet1": "br-eth1"}, tunnel_types=["vxlan"],
                                  tunneling_ip="192.0.2.1")  # fmt: skip
        event.listen(engine, "before_cursor_execute", seen)
        try:  # a new device count: the row is updated within the same second too
            _rpc(state, messages.REPORT_STATE, host="c1", agent_type=agent_type, binary=binary, topic=topic,
                 configurations={**conf, "devices": 7})  # fmt: skip
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM agents" in s]
        assert len(reads) == 1, statements
        assert any(s.lstrip().upper().startswith("UPDATE AGENTS") for s in statements), statements
        assert state.bus.notifier.pass_once() == []
