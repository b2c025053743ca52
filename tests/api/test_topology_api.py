"""``GET /topology``: an admin's HTML page with both views drawn by Graphviz from the database
and the agents' reports, a trace's path on it, drift when the audit answers; 401 without a
token, 403 for a member, in Neutron's format."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.agent_support import ago, report, state_of
from tests.conftest import make_settings

pytestmark = [pytest.mark.api, pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")]


@pytest.fixture(autouse=True)
def _quick(request):  # type: ignore[no-untyped-def]
    """Agents that do not answer here are not waited for long (the page asks for dpif/show)."""
    if "api" in request.fixturenames:
        state_of(request.getfixturevalue("api")).bus.traces.timeout = 0.3


def _cloud(api: Any) -> tuple[dict, dict]:  # type: ignore[type-arg]
    report(api, "h1", "ovs", tunnel_types=["vxlan"], tunneling_ip="172.31.9.1", bridge_mappings={"physnet1": "br-physnet1"})
    report(api, "h2", "ovs", tunnel_types=["vxlan"], tunneling_ip="172.31.9.2")
    report(api, "h3", "ovs", now=ago(3600), tunnel_types=["vxlan"], tunneling_ip="172.31.9.3")
    net = api.network(name="blue", **{"provider:network_type": "vxlan", "provider:segmentation_id": 4242})
    api.subnet(net["id"], "10.7.0.0/24")
    a = api.port(net["id"], name="a", device_owner="compute:nova", device_id="vm-a", **{"binding:host_id": "h1"})
    b = api.port(net["id"], name="b", device_owner="compute:nova", device_id="vm-b", **{"binding:host_id": "h2"})
    return a, b


def _text(resp: Any) -> str:
    return html.unescape(resp.text)  # Graphviz writes - as &#45;


def test_the_page_draws_both_views_from_live_state(api):
    a, b = _cloud(api)
    resp = api.get("/topology")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    text = _text(resp)
    assert text.count("<svg") == 2 and "blue" in text and "vxlan 4242" in text and "10.7.0.0/24" in text
    assert f'id="vm-vm-a"' in text and f'id="port-{a["id"]}"' in text
    assert 'id="cluster_host_h1"' in text and 'id="h1/br-tun"' in text and 'id="h1/br-physnet1"' in text
    assert "Open vSwitch agent: alive" in text and re.search(r"Open vSwitch agent: DOWN, heartbeat 36\d\d s ago", text)
    assert "vxlan-ac1f0902 / vxlan-ac1f0901" in text  # the tunnel between h1 and h2
    assert re.search(r'<g id="cluster_host_h3" class="cluster">.*?stroke="#c62828"', text, re.S)  # h3's agent is down
    assert "no audit data" in text and 'class="node hl"' not in text
    assert "live state unknown: the agent on h1 did not answer" in text and "live state unknown: the agent is down" in text


def test_the_hosts_live_bridges_come_from_their_agents(api):
    from neutrino.bus.client import AgentClient

    a, _ = _cloud(api)
    client = AgentClient(state_of(api).bus.transport, "h1")
    dpif = ("netdev@ovs-netdev: hit:1 missed:1\n  br-int:\n    br-int 65534/1: (tap)\n"
            f"    patch-tun 2/none: (patch: peer=patch-int)\n    qvo{a['id'][:11]} 3/7: (system)\n"
            "  br-tun:\n    br-tun 65534/6: (tap)\n    patch-int 1/none: (patch: peer=patch-tun)\n"
            "  br-phy:\n    br-phy 65534/5: (tap)\n    eth2 1/4: (system)\n")  # fmt: skip
    asked: list[Any] = []

    def on_trace(msg: dict[str, Any]) -> None:
        asked.append(msg["probes"])
        client.trace_result(msg["request_id"], {"dpif": dpif, "results": {}})

    # h2's agent is down, so only h1 is asked; h1's answer is waited for however slow the machine
    report(api, "h2", "ovs", now=ago(3600), tunnel_types=["vxlan"], tunneling_ip="172.31.9.2")
    state_of(api).bus.traces.timeout = 30.0
    cancel = client.on_change(lambda _rev: None, trace=on_trace)
    try:
        text = _text(api.get("/topology"))
    finally:
        cancel()
    assert asked == [[]]  # no probes: dpif/show only
    assert "live (dpif/show): 3 bridges, 7 ports" in text and 'id="h1/br-phy"' in text and "(live only)" in text
    assert "int-br-physnet1 / phy-br-physnet1 (missing)" in text  # mapped, but not on the host
    assert f"qvo{a['id'][:11]}" in text and f"qvo{a['id'][:11]} (missing)" not in text


def test_a_trace_is_drawn_on_the_page(api):
    a, b = _cloud(api)
    state_of(api).bus.traces.timeout = 0.5  # h1's agent does not answer here: the intent's path is drawn
    text = _text(api.get("/topology", params={"trace_from": "a", "trace_to": "b", "protocol": "tcp", "port": "22"}))
    assert 'id="trace-verdict"' in text and "Trace a → b" in text.replace("&rarr;", "→")
    lit = set(re.findall(r'<g id="([^"]+)" class="node hl"', text))
    assert {f"port-{a['id']}", f"port-{b['id']}", "vm-vm-a", "vm-vm-b", "h1/br-int", "h1/br-tun", "h2/br-tun"} <= lit
    assert f"vif-{a['id']}" in " ".join(lit)


def test_a_bad_trace_is_shown_on_the_page(api):
    _cloud(api)
    resp = api.get("/topology", params={"trace_from": "nosuch", "trace_to": "a"})
    assert resp.status_code == 200
    assert "FROM 'nosuch': no bound port" in html.unescape(re.search(r'id="trace-error">([^<]*)<', resp.text).group(1))


def test_drift_is_shown_when_the_audit_answers(api):
    _cloud(api)
    asked: list[dict[str, Any]] = []

    class Audits:
        def ask(self, wanted: dict[str, Any]) -> dict[str, Any]:
            asked.append(wanted)
            return {h: {"drift": [{"kind": "port_tag", "object": "qvo1", "expected": "1", "actual": "4"}]} for h in wanted}

    state_of(api).bus.audits = Audits()
    try:
        assert "no audit data" in _text(api.get("/topology"))  # only when asked for: an audit takes time
        text = _text(api.get("/topology", params={"audit": "1"}))
    finally:
        del state_of(api).bus.audits
    assert asked == [{"h1": False, "h2": False}]  # the live hosts only
    assert "drift: 2 finding(s)" in text and 'id="h1/drift"' in text and "port_tag qvo1" in text


def test_the_page_needs_an_admin(api):
    resp = api.as_project("p-member").get("/topology")
    assert resp.status_code == 403 and resp.json()["NeutronError"]["type"] == "PolicyNotAuthorized"


PASSWORD = "secret-admin"


@pytest.fixture
def keystone_client(tmp_path: Path) -> Iterator[TestClient]:
    from neutrino.server import build

    built = build(make_settings(tmp_path, auth="keystone", admin_password=PASSWORD), write_files=False)
    with TestClient(built.app, raise_server_exceptions=False) as client:
        yield client
    built.state.close()


def test_without_a_token_401_with_the_admins_200(keystone_client):
    assert keystone_client.get("/topology").status_code == 401
    assert keystone_client.get("/topology", headers={"X-Auth-Token": "forged"}).status_code == 401
    user = {"name": "admin", "domain": {"id": "default"}, "password": PASSWORD}
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": user}},
                     "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}  # fmt: skip
    token = keystone_client.post("/identity/v3/auth/tokens", json=body).headers["X-Subject-Token"]
    resp = keystone_client.get("/topology", headers={"X-Auth-Token": token})
    assert resp.status_code == 200 and "<svg" in resp.text
