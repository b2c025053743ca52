"""``GET /v2.0/trace``: admin only, one-line 4xx errors, the request travelling to the hosts'
agents over the bus and their answers back (agents here answer with canned probe outputs)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from neutrino.bus.client import AgentClient
from tests.api.agent_support import ago, report, state_of

pytestmark = pytest.mark.api


def _cloud(api: Any) -> tuple[dict, dict]:  # type: ignore[type-arg]
    for host, ip in (("h1", "172.31.9.1"), ("h2", "172.31.9.2")):
        # the default firewall (iptables_hybrid) plugs through a qbr: the agent says so
        report(api, host, "ovs", tunnel_types=["vxlan"], tunneling_ip=ip, ovs_hybrid_plug=True)
    net = api.network(name="blue", **{"provider:network_type": "vxlan", "provider:segmentation_id": 4242})
    api.subnet(net["id"], "10.7.0.0/24")
    a = api.port(net["id"], name="a", **{"binding:host_id": "h1"})
    b = api.port(net["id"], name="b", **{"binding:host_id": "h2"})
    return a, b


def _answering(api: Any, host: str, seen: list[dict]) -> Any:  # type: ignore[type-arg]
    client = AgentClient(state_of(api).bus.transport, host)

    def on_trace(msg: dict[str, Any]) -> None:
        seen.append(msg)
        results = {p["id"]: {"ok": True, "output": "Datapath actions: drop\n"} for p in msg["probes"]}
        client.trace_result(msg["request_id"], {"dpif": "", "results": results})

    return client.on_change(lambda _rev: None, trace=on_trace)


def test_trace_asks_the_agents_and_reports_what_they_answered(api):
    a, b = _cloud(api)
    # h2's agent is down, so only h1 is asked; h1's answer is waited for however slow the machine
    report(api, "h2", "ovs", now=ago(3600), tunnel_types=["vxlan"], tunneling_ip="172.31.9.2", ovs_hybrid_plug=True)
    state_of(api).bus.traces.timeout = 30.0
    seen: list[dict] = []  # type: ignore[type-arg]
    cancel = _answering(api, "h1", seen)
    try:
        resp = api.get("/v2.0/trace", params={"from": "a", "to": b["fixed_ips"][0]["ip_address"], "protocol": "tcp",
                                             "port": "22"})  # fmt: skip
    finally:
        cancel()
    assert resp.status_code == 200, resp.text
    doc = resp.json()["trace"]
    assert (doc["from"]["port_id"], doc["to"]["port_id"]) == (a["id"], b["id"])
    (leg,) = doc["path"]
    assert leg["segment"]["network_type"] == "vxlan" and leg["tunnel"] == {"src": "172.31.9.1", "dst": "172.31.9.2"}
    assert seen[0]["probes"][0]["bridge"] == "br-int" and seen[0]["probes"][0]["in_port"] == "qvo" + a["id"][:11]
    assert "tcp_dst=22" in seen[0]["probes"][0]["flow"]
    # h1's OVS dropped it (canned): the model said delivered, so that is a disagreement
    assert doc["verdict"] == "dropped" and doc["dropped_at"] == "dataplane"
    assert "OVS drops the packet" in doc["disagreements"][0]


def test_an_agent_that_does_not_answer_is_reported_after_the_timeout(api):
    _, b = _cloud(api)
    state_of(api).bus.traces.timeout = 0.3  # both agents look alive; neither answers
    doc = api.get("/v2.0/trace", params={"from": "a", "to": b["id"]}).json()["trace"]
    assert doc["verdict"] == "delivered" and doc["disagreements"] == []
    assert doc["unverified"] == [f"{h}: the agent on {h} did not answer within 0.3 s (down?)" for h in ("h1", "h2")]


def test_a_host_whose_agent_is_dead_is_not_waited_for(api):
    a, b = _cloud(api)
    report(api, "h2", "ovs", now=ago(3600), tunnel_types=["vxlan"], tunneling_ip="172.31.9.2")
    state_of(api).bus.traces.timeout = 30.0  # h1 answers; waiting for h2 would show
    seen: list[dict] = []  # type: ignore[type-arg]
    cancel = _answering(api, "h1", seen)
    try:
        started = time.monotonic()
        doc = api.get("/v2.0/trace", params={"from": a["id"], "to": "b"}).json()["trace"]
    finally:
        cancel()
    assert time.monotonic() - started < 10
    assert doc["unverified"] == ["h2: the agent on h2 is down (no heartbeat for over 75 s)"]
    assert [m["host"] for m in seen] == ["h1"]


@pytest.mark.parametrize(("params", "words"), [
    ({"from": "nosuch", "to": "a"}, "FROM 'nosuch': no bound port, instance or address of that name"),
    ({"from": "a", "to": "192.0.2.1"}, "TO 192.0.2.1 is on no network neutrino knows"),
    ({"from": "a", "to": "a"}, "FROM and TO are the same port"),
    ({"from": "a", "to": "outside"}, "TO outside: no router has a gateway"),
])  # fmt: skip
def test_bad_endpoints_are_one_line_400s(api, params, words):
    _cloud(api)
    resp = api.get("/v2.0/trace", params=params)
    assert resp.status_code == 400
    err = resp.json()["NeutronError"]
    assert err["type"] == "TraceNotPossible" and err["message"].startswith(words) and "\n" not in err["message"]


@pytest.mark.parametrize("params", [
    {"from": "a"}, {"from": "a", "to": "b", "protocol": "sctp"}, {"from": "a", "to": "b", "protocol": "icmp", "port": "1"},
    {"from": "a", "to": "b", "protocol": "tcp", "port": "70000"}, {"from": "a", "to": "b", "source_ip": "x"},
])  # fmt: skip
def test_bad_queries_are_invalid_input(api, params):
    resp = api.get("/v2.0/trace", params=params)
    assert resp.status_code == 400 and resp.json()["NeutronError"]["type"] == "InvalidInput"


def test_trace_needs_an_admin_and_is_listed(api):
    resp = api.as_project("p-member").get("/v2.0/trace", params={"from": "a", "to": "b"})
    assert resp.status_code == 403 and resp.json()["NeutronError"]["type"] == "PolicyNotAuthorized"
    ext = api.get("/v2.0/extensions/neutrino-trace").json()["extension"]
    assert ext["name"] == "Packet trace" and "hop by hop" in ext["description"]
