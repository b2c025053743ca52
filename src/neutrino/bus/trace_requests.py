"""The server's side of a trace request: ask hosts' agents to run probes, wait for their answers.

The request is a notification on each host's topic, published on the transport (agents on the
in-process bus or RabbitMQ) and appended to the database's event log (agents that long-poll over
HTTP). Each agent answers with a ``trace_result`` call, which whichever API worker receives it
appends to the event log under the request's own topic; the waiting request reads that topic, so
it needs no memory shared between workers. A host that has not answered by the deadline is
reported as such (``{"error": ...}``), never waited for longer. The audit (docs/audit.md) asks
its question the same way, with its own method names and a longer deadline (a repair runs a pass).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from neutrino.bus.events import EventLog
from neutrino.bus.transport import Transport, TransportError
from neutrino.contract import messages

DEFAULT_TIMEOUT = 5.0


class TraceRequests:
    def __init__(self, transport: Transport, events: EventLog, timeout: float = DEFAULT_TIMEOUT, *,
                 request: str = messages.TRACE_REQUEST, result: str = messages.TRACE_RESULT,
                 topic: str = messages.TRACE_TOPIC, field: str = "probes") -> None:  # fmt: skip
        self.transport = transport
        self.events = events
        self.timeout = timeout
        self.request, self.result, self.topic, self.field = request, result, topic, field

    def answer(self, msg: dict[str, Any]) -> dict[str, Any]:
        """The RPC method: keep one agent's answer where the waiting request looks."""
        request_id = str(msg.get("request_id", ""))
        if not request_id or len(request_id) > 64:
            return {"error": {"type": "BadRequest", "message": f"{self.result} without a request id"}}
        body = messages.message(self.result, host=msg.get("host"), result=msg.get("result") or {})
        self.events.publish(self.topic.format(request_id=request_id), body)
        return {"ok": True}

    def ask(self, probes_by_host: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """host -> its agent's answer (``{"dpif", "results"}``) or ``{"error": why}``."""
        timeout = self.timeout if timeout is None else timeout
        if not probes_by_host:
            return {}
        request_id = uuid.uuid4().hex
        topic = self.topic.format(request_id=request_id)
        after = self.events.newest()
        for host, probes in probes_by_host.items():
            msg = messages.message(self.request, host=host, request_id=request_id, **{self.field: probes})
            try:
                self.transport.publish(messages.host_topic(host), msg)
            except TransportError:
                pass  # the event log still carries it to HTTP agents
            self.events.publish(messages.host_topic(host), msg)
        answers: dict[str, Any] = {}
        deadline = time.monotonic() + timeout
        while set(answers) != set(probes_by_host):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            doc = self.events.since(topic, after, remaining, from_now=False)
            after = max(after, doc["last"])
            for event in doc["events"]:
                if event.get("host") in probes_by_host:
                    answers[event["host"]] = event.get("result") or {}
        for host in probes_by_host:
            answers.setdefault(host, {"error": f"the agent on {host} did not answer within {timeout:g} s (down?)"})
        return answers
