"""The metrics objects of the server and agents, and the agent's token-checked endpoint."""

from __future__ import annotations

import http.client
from typing import Any

import pytest

from neutrino.metrics import endpoint as ep
from neutrino.metrics.agent import AgentMetrics
from neutrino.metrics.server import ServerMetrics

pytestmark = pytest.mark.unit


def sample(text: bytes, name: str, **labels: str) -> float | None:
    """The value of one sample in a text exposition, or None."""
    want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")
    for line in text.decode().splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == want:
            return float(value)
    return None


def test_agent_metrics_heartbeat_age_changes_and_lag() -> None:
    now = [100.0]
    m = AgentMetrics("h1", clock=lambda: now[0])
    assert m.heartbeat_age() == -1.0  # before the first report
    m.reported()
    now[0] = 107.5
    assert m.heartbeat_age() == 7.5
    m.applied("l2", {"flow_changes": 3, "ovsdb_commands": 0})
    m.applied("l2", {"flow_changes": 2})
    m.notified(100.0)  # published at 100, received at 107.5
    m.notified(None)  # a message without a stamp is not a sample
    text = m.render()
    assert sample(text, "neutrino_agent_changes_applied_total", kind="flow_changes", role="l2") == 5
    assert sample(text, "neutrino_agent_changes_applied_total", kind="ovsdb_commands", role="l2") is None
    assert sample(text, "neutrino_agent_bus_lag_seconds_count") == 1
    assert sample(text, "neutrino_agent_bus_lag_seconds_sum") == 7.5
    assert sample(text, "neutrino_agent_heartbeat_age_seconds_local") == 7.5


def test_two_agents_in_one_process_do_not_share_counters() -> None:
    a, b = AgentMetrics("a"), AgentMetrics("b")
    a.failures.inc()
    assert sample(a.render(), "neutrino_agent_reconcile_failures_total") == 1
    assert sample(b.render(), "neutrino_agent_reconcile_failures_total") == 0


def test_server_pairs_creation_with_activation_once() -> None:
    m = ServerMetrics(agent_ages=lambda: [("c1", "Open vSwitch agent", 3.0)])
    m.ports_created(["p1", "p2"])
    m.ports_activated(["p1", "unknown"])
    m.ports_activated(["p1"])  # a second activation of the same port is not a second sample
    text = m.render()
    assert sample(text, "neutrino_port_create_to_active_seconds_count") == 1
    assert sample(text, "neutrino_agent_heartbeat_age_seconds", agent_type="Open vSwitch agent", host="c1") == 3.0


class _Check:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, token: str) -> bool:
        self.seen.append(token)
        return token == "admin-token"


def _get(port: int, path: str = "/metrics", token: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"X-Auth-Token": token} if token else {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_agent_endpoint_wants_an_admin_token() -> None:
    metrics = AgentMetrics("h1")
    server = ep.MetricsEndpoint("127.0.0.1", 0, metrics.render, _Check())
    server.start()
    try:
        assert _get(server.port)[0] == 401
        assert _get(server.port, token="member-token")[0] == 403
        status, body = _get(server.port, token="admin-token")
        assert status == 200 and b"neutrino_agent_reconcile_seconds" in body
        assert _get(server.port, "/other", token="admin-token")[0] == 404
    finally:
        server.stop()


def test_keystone_check_caches_verdicts_and_not_failures(monkeypatch: Any) -> None:
    now = [0.0]
    check = ep.KeystoneAdminCheck("http://identity.invalid/identity/v3", lambda: "own", clock=lambda: now[0])
    answers: list[bool | None] = [True, None, False]
    asked: list[str] = []

    def ask(token: str) -> bool | None:
        asked.append(token)
        return answers.pop(0)

    monkeypatch.setattr(check, "_ask", ask)
    assert check("t") is True
    now[0] = ep.CACHE_SECONDS - 1
    assert check("t") is True and asked == ["t"]  # cached
    now[0] = ep.CACHE_SECONDS + 1
    assert check("t") is False  # the service could not answer: refused, not cached
    assert check("t") is False and asked == ["t", "t", "t"]
