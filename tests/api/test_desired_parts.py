"""``get_desired_parts`` (domain/projection/parts.py) and the agent's merge of its answer
(agent/desired_merge.py, agent/desired_source.py), on SQLite and PostgreSQL.

Each change goes through the API; the notifier's real ``host_changed`` for the watching host
feeds a ``DesiredSource`` on the in-process transport, which fetches the parts it names and
merges them into its last state. The merged state must equal the host's whole projection,
fingerprint included, and the pass must have come from parts, not a whole fetch."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from neutrino.agent.desired_source import DesiredSource
from neutrino.bus.client import AgentClient
from neutrino.contract import messages
from tests.addresses import free_hosts, held_by
from tests.api.agent_support import report, state_of

pytestmark = pytest.mark.api

HOST = "binding:host_id"


class Watcher:
    """A host's DesiredSource, fed by the notifier's passes, which the test runs by hand."""

    def __init__(self, api: Any, host: str, roles_l2_only: bool = True) -> None:
        self.state = state_of(api)
        self.notifier = self.state.bus.notifier
        self.notifier.stop()  # passes run by hand; the capture keeps listening
        self.notifier.capture.start()
        self.client = AgentClient(self.state.bus.transport, host)
        self.source = DesiredSource(self.client, ports_hints=roles_l2_only)
        self.got = threading.Event()
        self.hints: list[dict[str, Any]] = []

        def hinted(msg: dict[str, Any]) -> None:
            self.hints.append(msg)
            self.source.hinted(msg)

        self.cancel = self.client.on_change(lambda _rev: self.got.set(), hinted=hinted)

    def settle(self) -> None:
        """Run the notifier's pass; wait for this host's notification if it has one."""
        self.got.clear()
        hosts = self.notifier.pass_once()
        if self.client.host in hosts:
            assert self.got.wait(30)

    def whole(self) -> Any:
        return messages.decode_state(
            self.state.bus.rpc.handle(messages.message(messages.GET_DESIRED_STATE, host=self.client.host))["state"])


def _group(api: Any, name: str, remote: str | None = "self") -> str:
    gid = api.post("/v2.0/security-groups", {"security_group": {"name": name}}).json()["security_group"]["id"]
    if remote is not None:
        _rule(api, gid, gid if remote == "self" else remote)
    return gid


def _rule(api: Any, gid: str, remote: str, port: int = 22) -> None:
    r = api.post("/v2.0/security-group-rules", {"security_group_rule": {
        "security_group_id": gid, "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
        "port_range_min": port, "port_range_max": port, "remote_group_id": remote}})  # fmt: skip
    assert r.status_code == 201, r.text


def test_parts_merged_equal_the_whole_state(api):
    for n, host in enumerate(("c1", "c2")):
        report(api, host, "ovs", bridge_mappings={"physnet1": "br-eth1"}, tunnel_types=["vxlan"], tunneling_ip=f"192.0.2.{n + 1}")
    net = api.network()
    api.subnet(net["id"], "10.7.0.0/24")
    web, db, other = _group(api, "web"), _group(api, "db", remote=None), _group(api, "other", remote=None)
    _rule(api, db, web, 5432)
    api.port(net["id"], security_groups=[web], **{HOST: "c1"})
    mine = api.port(net["id"], security_groups=[db], **{HOST: "c2"})
    joiner = api.port(net["id"], security_groups=[other], **{HOST: "c1"})
    watch = Watcher(api, "c2")
    watch.settle()
    assert watch.source.next_state() == watch.whole()  # the first pass: whole
    assert watch.source.fetched == {"whole": 1, "parts": 0, "refused": 0}

    # a port on c1 joins web: c2 (db's rule names web) learns web's new member from parts
    api.put(f"/v2.0/ports/{joiner['id']}", {"port": {"security_groups": [other, web]}})
    watch.settle()
    assert watch.hints[-1]["security_groups"] == [web] and watch.hints[-1]["ports"] == []
    merged = watch.source.next_state()
    assert merged == watch.whole() and merged.with_fingerprint().fingerprint == watch.whole().fingerprint
    assert watch.source.fetched["parts"] == 1

    # db's rules now name other too: the new remote group comes with the parts
    _rule(api, db, other, 6000)
    watch.settle()
    merged = watch.source.next_state()
    assert merged == watch.whole() and any(g.group_id == other for g in merged.remote_groups)
    assert watch.source.fetched["parts"] == 2

    # c2's own port changes groups: its port is fetched again, its old remote groups dropped
    api.put(f"/v2.0/ports/{mine['id']}", {"port": {"security_groups": [other]}})
    watch.settle()
    assert mine["id"] in watch.hints[-1]["ports"]
    merged = watch.source.next_state()
    assert merged == watch.whole() and watch.source.fetched == {"whole": 1, "parts": 3, "refused": 0}

    # a new port on c2's network (bound elsewhere, joining web, whose rules name no group c2's
    # port uses): nothing of c2's state changes, no notification; a pass woken meanwhile (by
    # OVSDB) reuses the last state, which still equals the whole one
    seen = len(watch.hints)
    api.port(net["id"], security_groups=[web], **{HOST: "c1"})
    watch.settle()
    assert len(watch.hints) == seen
    assert watch.source.next_state() == watch.whole()
    assert watch.source.reused == 1 and watch.source.fetched == {"whole": 1, "parts": 3, "refused": 0}

    # a port on a new network: the host's networks (its tunnel peers) change: whole again
    net2 = api.network()
    api.subnet(net2["id"], "10.6.0.0/24")
    watch.settle()
    api.port(net2["id"], **{HOST: "c2"})
    watch.settle()
    assert watch.source.next_state() == watch.whole()
    assert watch.source.fetched["whole"] == 2
    watch.cancel()


def test_parts_of_ports_not_bound_here_and_unknown_ids(api):
    report(api, "c1", "ovs")
    net = api.network()
    api.subnet(net["id"], "10.5.0.0/24")
    elsewhere = api.port(net["id"], **{HOST: "c9"})
    reply = state_of(api).bus.rpc.handle(messages.message(
        messages.GET_DESIRED_PARTS, host="c1", ports=[elsewhere["id"], "nope"], security_groups=["nope"]))  # fmt: skip
    parts = messages.decode_parts(reply["parts"])
    assert parts.ports == () and parts.asked_ports == tuple(sorted([elsewhere["id"], "nope"]))
    assert [(g.group_id, g.rules) for g in parts.group_rules] == [("nope", ())]
    assert [(g.group_id, g.ipv4) for g in parts.remote_groups] == [("nope", ())]


def test_a_members_address_or_a_new_member_elsewhere_comes_as_its_groups_parts(api):
    """A port bound on another host reaches the hosts that hold its group as remote group as
    that group (security_groups), not as the port: they fetch the group's members (parts), not
    their whole state. On a network that is not tunnelled (no l2population peer hint with it)."""
    for host in ("c1", "c2"):
        report(api, host, "ovs", bridge_mappings={"physnet1": "br-eth1"})
    net = api.network()  # the tests' tenant type, local: not tunnelled
    api.subnet(net["id"], "10.8.0.0/24")
    web, db = _group(api, "web"), _group(api, "db", remote=None)
    _rule(api, db, web, 5432)
    member = api.port(net["id"], security_groups=[web], **{HOST: "c1"})
    other = api.port(net["id"], security_groups=[db], **{HOST: "c2"})
    watch = Watcher(api, "c2")
    watch.settle()
    assert watch.source.next_state() == watch.whole()

    subnet_id = member["fixed_ips"][0]["subnet_id"]
    # two addresses neither port holds (their own are random)
    moved, added = free_hosts("10.8.0.0/24", held_by([member, other]), count=2, first=77)
    api.put(f"/v2.0/ports/{member['id']}", {"port": {"fixed_ips": [{"subnet_id": subnet_id, "ip_address": moved}]}})
    watch.settle()
    assert watch.hints[-1]["ports"] == [] and watch.hints[-1]["security_groups"] == [web]
    assert watch.hints[-1]["logged"] > 0  # the event-log number, which the agent's call names
    merged = watch.source.next_state()
    assert merged == watch.whole() and any(moved in g.ipv4 for g in merged.remote_groups)

    api.port(net["id"], security_groups=[web], fixed_ips=[{"subnet_id": subnet_id, "ip_address": added}],
             **{HOST: "c1"})  # fmt: skip
    watch.settle()
    assert watch.hints[-1]["ports"] == [] and watch.hints[-1]["security_groups"] == [web]
    merged = watch.source.next_state()
    assert merged == watch.whole() and any(added in g.ipv4 for g in merged.remote_groups)
    assert watch.source.fetched == {"whole": 1, "parts": 2, "refused": 0}
    watch.cancel()


def test_the_hosts_woken_by_one_change_share_its_groups_pieces_and_the_next_change_is_seen(api):
    """A group's members are computed once for all the hosts one notification woke
    (``projection/shared_parts.py``); a later change is announced under a newer event number,
    so the next answers hold it."""
    hosts = ("c1", "c2", "c3", "c4")
    for host in hosts:
        report(api, host, "ovs", bridge_mappings={"physnet1": "br-eth1"})
    net = api.network()
    api.subnet(net["id"], "10.9.0.0/24")
    web, db = _group(api, "web"), _group(api, "db", remote=None)
    _rule(api, db, web, 5432)
    for host in hosts[1:]:
        api.port(net["id"], security_groups=[db], **{HOST: host})
    state = state_of(api)
    rpc, notifier = state.bus.rpc, state.bus.notifier
    notifier.stop()
    notifier.capture.start()
    notifier.pass_once()

    def members() -> list[tuple[str, ...]]:
        out = []
        for host in hosts[1:]:
            reply = rpc.handle(messages.message(messages.GET_DESIRED_PARTS, host=host, ports=[], security_groups=[web]))
            out.append(next(g.ipv4 for g in messages.decode_parts(reply["parts"]).remote_groups if g.group_id == web))
        return out

    first = api.port(net["id"], security_groups=[web], **{HOST: "c1"})
    assert set(notifier.pass_once()) >= set(hosts[1:])
    computed = rpc.shared_parts.computed
    got = members()
    assert got == [tuple(ip["ip_address"] for ip in first["fixed_ips"])] * 3
    assert rpc.shared_parts.computed - computed == 2  # the rules and the members, once for three hosts
    second = api.port(net["id"], security_groups=[web], **{HOST: "c1"})
    notifier.pass_once()
    addresses = tuple(sorted(ip["ip_address"] for p in (first, second) for ip in p["fixed_ips"]))
    assert members() == [addresses] * 3


def test_a_dhcp_host_and_a_peer_take_a_port_bound_elsewhere_as_parts(tmp_path, database_url):
    """A port bound on c1 reaches the network's DHCP host (n1: its entry) and c2 (a tunnel peer
    on the network) as the port: both fetch its parts (the DHCP entry, the tunnel peers and
    remote ports over their networks), not their whole state, and the merge equals the whole
    projection (a port's update or deletion reaches them as its network, resolved before the
    write: they fetch whole, as before). A router's port still
    makes the L3 host fetch whole (a unit test: the merge cannot tell its router's part)."""
    from tests.api.ml2_support import ml2_server

    with ml2_server(tmp_path, database_url) as (api, _state):
        _dhcp_host_and_peer(api)


def _dhcp_host_and_peer(api: Any) -> None:
    for n, host in enumerate(("c1", "c2", "n1")):
        report(api, host, "ovs", tunnel_types=["vxlan"], tunneling_ip=f"192.0.2.{n + 1}")
    report(api, "n1", "dhcp")
    net = api.network()  # VXLAN, the first tenant type
    api.subnet(net["id"], "10.9.0.0/24")
    api.port(net["id"], **{HOST: "c2"})
    dhcp, peer = Watcher(api, "n1", roles_l2_only=False), Watcher(api, "c2")
    for w in (dhcp, peer):
        w.settle()
        w.source.next_state()
    assert dhcp.source.cached.dhcp_networks, "the network is scheduled to n1's DHCP agent"

    def check(n1: int, c2: int) -> None:
        for w, expect_parts in ((dhcp, n1), (peer, c2)):
            w.settle()
            merged = w.source.next_state()
            assert merged.with_fingerprint() == w.whole(), w.client.host
            assert w.source.fetched == {"whole": 1, "parts": expect_parts, "refused": 0}, (w.client.host, w.source.why_whole)

    port = api.port(net["id"], **{HOST: "c1"})  # c1 joins the network: c2's and n1's peers change
    check(1, 1)
    assert any(p.host == "c1" for p in peer.source.cached.tunnel_peers)
    assert any(p.port_id == port["id"] for n in dhcp.source.cached.dhcp_networks for p in n.ports)
    api.port(net["id"], **{HOST: "c1"})  # a second one: c1 was a peer already
    check(2, 2)
    for w in (dhcp, peer):
        w.cancel()
