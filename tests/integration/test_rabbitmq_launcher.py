"""The private RabbitMQ launcher (``dataplane/rabbitmq.py``): a second instance beside the
session's shares nothing with it, and stopping it leaves no process behind (not even epmd)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from neutrino.contract import messages as m
from neutrino.dataplane import rabbitmq

pytestmark = pytest.mark.broker


def test_two_instances_share_nothing_and_stop_leaves_nothing(rabbitmq_broker: Any, tmp_path: Path):
    first = rabbitmq_broker.broker
    second = rabbitmq.start(tmp_path / "second", die_with_parent=True)
    try:
        assert second.port != first.port and second.vhost != first.vhost and second.node != first.node
        assert second.password != first.password and second.state_dir != first.state_dir
        pids = set(rabbitmq.instance_pids(second.node))
        assert {second.pid, second.epmd_pid} <= pids
        assert not pids & set(rabbitmq.instance_pids(first.node))
        assert rabbitmq.url_of(tmp_path / "second") == second.url
        from neutrino.bus.amqp import AmqpTransport

        transport = AmqpTransport(second.url)
        try:
            transport.serve("q-launcher", lambda msg: {"vhost": "second"})
            assert transport.call("q-launcher", m.message("ping")) == {"vhost": "second"}
        finally:
            transport.close()
    finally:
        second.stop()
    assert rabbitmq.instance_pids(second.node) == []
    assert not any(Path(f"/proc/{pid}").exists() and rabbitmq._ours(pid, second.node) for pid in pids)
    assert rabbitmq.stop(tmp_path / "second") is False  # idempotent
    assert first.running  # the other instance is untouched
