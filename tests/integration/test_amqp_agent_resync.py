"""A change made while RabbitMQ is down reaches the agent after the broker is back: a real
server (in-process, SQLite) and an agent (``HostAgent`` on the fake dataplane) each with their
own ``AmqpTransport``; the notification published during the outage is lost, the reconnect's
"look again" makes the agent fetch its desired state, and the new port is in it."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from neutrino.agent.adapters import AgentAdapters
from neutrino.agent.runner import AgentSettings, HostAgent
from neutrino.dataplane.fake import FakeNetlink, FakeNftables
from neutrino.dataplane.fake_ovs import FakeOpenFlow, FakeOvsdb, FakeOvsInstance, FakeOvsState
from neutrino.dataplane.host import HostContext
from tests.conftest import Api, make_settings

pytestmark = pytest.mark.broker
HOST = "rq-host"


def _agent(transport: Any) -> HostAgent:
    state, netlink = FakeOvsState(), FakeNetlink()
    switch = FakeOvsInstance(state=state)
    adapters = AgentAdapters(switch=switch, ovsdb=FakeOvsdb(state=state), openflow=FakeOpenFlow(state=state),
                             nftables=FakeNftables(netlink), netlink=netlink)  # fmt: skip
    switch.start()
    # no periodic resync within the test: only notifications (and the reconnect's) wake the agent
    settings = AgentSettings(roles=("l2",), report_interval=5, resync_interval=3600, idle_check=0.2, firewall=False)
    return HostAgent(HostContext(name=HOST), transport, settings, adapters)


def test_change_during_broker_outage_reaches_the_agent_after_it(rabbitmq_broker: Any, tmp_path: Path):
    from neutrino.bus.amqp import AmqpTransport
    from neutrino.server import build

    built = build(make_settings(tmp_path, transport_url=rabbitmq_broker.url), write_files=False)
    built.state.bus.transport.max_backoff = 0.5
    agent_transport = AmqpTransport(rabbitmq_broker.url, max_backoff=0.5, name="test-agent")
    agent = _agent(agent_transport)
    seen: list[set[str]] = []
    seen_cond = threading.Condition()
    fetch = agent.client.desired_state

    def recording() -> Any:
        desired = fetch()
        with seen_cond:
            seen.append({p.port_id for p in desired.ports})
            seen_cond.notify_all()
        return desired

    agent.client.desired_state = recording  # type: ignore[method-assign]
    try:
        with TestClient(built.app) as client:  # its lifespan starts the notifier
            api = Api(client, "p-admin")
            agent.start()
            net = api.network()
            api.subnet(net["id"])
            before = api.port(net["id"], **{"binding:host_id": HOST, "device_owner": "compute:nova", "device_id": "a"})
            with seen_cond:
                assert seen_cond.wait_for(lambda: any(before["id"] in s for s in seen), timeout=30), seen
            rabbitmq_broker.stop()
            during = api.port(net["id"], **{"binding:host_id": HOST, "device_owner": "compute:nova", "device_id": "b"})
            time.sleep(0.5)  # the notifier's pass: its publication fails, the broker is down
            rabbitmq_broker.start(rabbitmq_broker.broker.port)
            with seen_cond:
                assert seen_cond.wait_for(lambda: any(during["id"] in s for s in seen), timeout=60), seen
    finally:
        agent.stop()
        agent_transport.close()
        built.state.close()
        if not rabbitmq_broker.broker.running:
            rabbitmq_broker.start(rabbitmq_broker.broker.port)
