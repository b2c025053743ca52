"""A whole agent (``HostAgent`` on the fake dataplane) on a bad bus day: it starts anyway, says
what is wrong once, keeps retrying, and never applies a desired state of an unknown format."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from neutrino.agent.adapters import AgentAdapters
from neutrino.agent.runner import AgentSettings, HostAgent
from neutrino.bus.inproc import InProcTransport
from neutrino.contract import desired
from neutrino.contract import messages
from neutrino.dataplane.fake import FakeNetlink, FakeNftables
from neutrino.dataplane.fake_ovs import FakeOpenFlow, FakeOvsdb, FakeOvsInstance, FakeOvsState
from neutrino.dataplane.host import HostContext


def _agent(transport: Any, state: FakeOvsState) -> HostAgent:
    netlink = FakeNetlink()
    switch = FakeOvsInstance(state=state)
    adapters = AgentAdapters(switch=switch, ovsdb=FakeOvsdb(state=state), openflow=FakeOpenFlow(state=state),
                             nftables=FakeNftables(netlink), netlink=netlink)  # fmt: skip
    switch.start()
    settings = AgentSettings(roles=("l2",), report_interval=0.5, resync_interval=3600, idle_check=0.2, firewall=False)
    return HostAgent(HostContext(name="trouble-host"), transport, settings, adapters)


def _wait(predicate: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.broker
def test_agent_with_wrong_broker_credentials_logs_once_and_retries(rabbitmq_broker: Any,
                                                                   caplog: pytest.LogCaptureFixture):  # fmt: skip
    from neutrino.bus.amqp import AmqpTransport

    broker = rabbitmq_broker.broker
    # a generous connect timeout: a connection timing out under load would be a second kind of
    # problem, logged once more, where the test counts one
    transport = AmqpTransport(broker.url.replace(f":{broker.password}@", ":wrong@"), max_backoff=0.2,
                              connect_timeout=20.0)  # fmt: skip
    attempts: list[float] = []
    connect = transport._connection
    transport._connection = lambda: (attempts.append(time.monotonic()), connect())[1]  # type: ignore[method-assign]
    agent = _agent(transport, FakeOvsState())
    with caplog.at_level(logging.INFO):
        agent.start()  # does not raise: the bus is retried in the background
        try:
            assert _wait(lambda: len(attempts) >= 6)
            time.sleep(1.0)  # heartbeats and passes retry meanwhile
        finally:
            agent.stop()
            transport.close()
    broker_lines = [r for r in caplog.records if r.name == "neutrino.bus.amqp"]
    agent_lines = [r for r in caplog.records if r.name == "neutrino.agent.runner"]
    assert len(broker_lines) == 1 and "wrong user or password" in broker_lines[0].getMessage()
    assert 1 <= len(agent_lines) <= 2, [r.getMessage() for r in agent_lines]
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    assert agent.passes == 0


@pytest.mark.unit
def test_agent_refuses_a_desired_state_of_unknown_format(caplog: pytest.LogCaptureFixture):
    transport = InProcTransport()
    doc = messages.encode_state(desired.DesiredHostState(host="trouble-host").with_fingerprint())
    doc["format_version"] = 99
    calls: list[str] = []

    def handler(msg: dict[str, Any]) -> dict[str, Any]:
        calls.append(msg["method"])
        if msg["method"] == messages.GET_DESIRED_STATE:
            return {"state": doc}
        return {"result": "ok"}

    transport.serve(messages.PLUGIN_TOPIC, handler)
    state = FakeOvsState()
    agent = _agent(transport, state)
    with caplog.at_level(logging.WARNING, logger="neutrino.agent.runner"):
        agent.start()
        try:
            assert _wait(lambda: calls.count(messages.GET_DESIRED_STATE) >= 1)
            for revision in range(1, 4):  # the server says "look again": the agent asks again, refuses again
                transport.publish(messages.host_topic("trouble-host"), messages.message(messages.HOST_CHANGED, revision=revision))
                assert _wait(lambda n=revision: calls.count(messages.GET_DESIRED_STATE) >= n + 1)
        finally:
            agent.stop()
            transport.close()
    refused = [r for r in caplog.records if "format 99" in r.getMessage()]
    assert len(refused) == 1 and not refused[0].exc_info
    assert agent.passes == 0 and "br-int" not in state.db.bridges  # nothing applied
