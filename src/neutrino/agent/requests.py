"""The server's requests to an agent that are not reconciling: a trace (read-only probes,
``agent/trace.py``) and an audit (``agent/audit/``). Each runs in a thread of its own, so a
reconcile pass never waits for it, and answers the server through the bus."""

from __future__ import annotations

import logging
import threading
from typing import Any

from neutrino.bus.transport import TransportError

LOG = logging.getLogger(__name__)


def answer_trace(agent: Any, msg: dict[str, Any]) -> None:
    """Run a trace request's probes against ``agent``'s switch and answer with their output."""

    def work() -> None:
        from neutrino.agent.trace import run_probes
        from neutrino.dataplane import exec as programs

        appctl = getattr(agent.switch, "appctl", None)
        if appctl is None:
            result: dict[str, Any] = {"error": "this agent's switch cannot trace"}
        else:
            result = run_probes(list(msg.get("probes") or []), appctl,
                                lambda argv, ns: programs.run(argv, netns=ns, timeout=10).stdout,
                                agent.host.namespace)  # fmt: skip
        try:
            agent.client.trace_result(str(msg.get("request_id", "")), result)
        except TransportError as exc:
            LOG.warning("agent %s: could not answer a trace request: %s", agent.host.name, exc)

    threading.Thread(target=work, name=f"agent-{agent.host.name}-trace", daemon=True).start()


def answer_audit(agent: Any, msg: dict[str, Any]) -> None:
    """Audit (and repair when asked) ``agent``'s host and answer with the drift found."""

    def work() -> None:
        try:
            result = agent.auditor.run(bool(msg.get("repair")))
        except Exception as exc:  # noqa: BLE001 - the answer says why
            result = {"error": f"the audit on {agent.host.name} failed: {exc}"}
        try:
            agent.client.audit_result(str(msg.get("request_id", "")), result)
        except TransportError as exc:
            LOG.warning("agent %s: could not answer an audit request: %s", agent.host.name, exc)

    threading.Thread(target=work, name=f"agent-{agent.host.name}-audit", daemon=True).start()
