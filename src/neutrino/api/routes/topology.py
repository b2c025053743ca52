"""``GET /topology`` (admin only): the topology page, the logical and the physical view drawn by
Graphviz from live state, with a trace on it when ``trace_from`` and ``trace_to`` are given
(docs/topology.md). An HTML page, not an API resource: the operator's surface, like ``/metrics``."""

from __future__ import annotations

import asyncio
import dataclasses
import html
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from neutrino import errors
from neutrino.api.auth import context_for, state_of
from neutrino.api.routes import trace as trace_routes
from neutrino.api.routes.common import in_transaction

if TYPE_CHECKING:
    from neutrino.tools.topology.page import Traced
    from neutrino.tools.topology.state import TopologyState

# The page's code (``tools/topology``, Graphviz, the trace's text) is imported in the functions
# that use it, at the first page, not with the server: no other route needs it, and the
# server's memory at start is what ``bench/api.py`` holds to 100 MiB (docs/conformance.md,
# "API speed").

router = APIRouter(tags=["topology"])
LIVE_TIMEOUT = 3.0
"""How long the page waits for the agents' ``dpif/show`` (a trace request with no probes)."""
TRACE_PARAMS = {"trace_from": "from", "trace_to": "to", "protocol": "protocol", "port": "port", "source_ip": "source_ip"}


async def _traced(request: Request) -> Traced | None:
    """The trace the query asks for, or None; bad input is shown on the page, not an error page."""
    from neutrino.tools.topology.page import Traced
    from neutrino.tools.trace import render as trace_text

    q = request.query_params
    if not q.get("trace_from") and not q.get("trace_to"):
        return None
    traced = Traced(q.get("trace_from", ""), q.get("trace_to", ""), protocol=q.get("protocol", "icmp"), port=q.get("port", ""))
    params = {name: q[key] for key, name in TRACE_PARAMS.items() if q.get(key)}
    try:
        traced.doc = await trace_routes.answer(request, params)
        traced.text = trace_text.text(traced.doc)
    except errors.NeutronError as exc:
        traced.error = exc.message
    return traced


def _svg(dot_text: str) -> str:
    """Graphviz's drawing; without Graphviz the page still shows the graph, as DOT text."""
    from neutrino.dataplane import graphviz
    from neutrino.dataplane.errors import DataplaneError

    try:
        return graphviz.svg(dot_text)
    except DataplaneError as exc:
        return f'<p class="error">cannot draw: {html.escape(str(exc))}</p><pre>{html.escape(dot_text)}</pre>'


async def _drift(request: Request, found: TopologyState) -> TopologyState:
    """With ``?audit=1``, each live host's audit (read-only) through the bus's audit requests,
    when this server has them (docs/topology.md); otherwise the page shows no drift data."""
    from neutrino.tools.topology.state import drift_from_answers

    bus = state_of(request).bus
    audits: Any = getattr(bus, "audits", None) if bus is not None else None
    if request.query_params.get("audit") not in ("1", "true") or audits is None:
        return found
    hosts = sorted({a.host for a in found.agents if a.alive})
    try:
        answers = await asyncio.to_thread(audits.ask, {h: False for h in hosts})
    except Exception as exc:  # noqa: BLE001 - an audit that fails leaves the page without drift, said so
        return dataclasses.replace(found, drift=(), drift_error=f"audit failed: {exc}")
    return dataclasses.replace(found, drift=drift_from_answers(answers))


async def _live(request: Request, found: TopologyState) -> TopologyState:
    """Each live Open vSwitch host's bridges and ports as its agent sees them now: a trace
    request with no probes, whose answer always carries ``dpif/show`` (docs/trace.md). Hosts
    whose agent is down are not asked; ``?live=0`` asks none."""
    from neutrino.tools.topology.state import OVS_AGENT, live_from_answers

    bus = state_of(request).bus
    if bus is None or request.query_params.get("live") in ("0", "false"):
        return found
    ovs = {a.host for a in found.agents if a.agent_type == OVS_AGENT}
    alive = {a.host for a in found.agents if a.agent_type == OVS_AGENT and a.alive}
    down = {h: "the agent is down" for h in sorted(ovs - alive)}
    timeout = min(LIVE_TIMEOUT, bus.traces.timeout)
    answers = await asyncio.to_thread(bus.traces.ask, {h: [] for h in sorted(alive)}, timeout)
    live, why = live_from_answers(answers)
    return dataclasses.replace(found, live=live, live_errors={**down, **why})


@router.get("/topology", include_in_schema=False)
async def topology(request: Request) -> Response:
    from neutrino.domain.services import topology_state
    from neutrino.tools.topology import draw

    ctx = context_for(request)
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action="get_topology")
    state = state_of(request)
    found = await in_transaction(request, lambda s: topology_state.read(s, state.domain), readonly=True)
    # the trace, the hosts' dpif/show and their audits wait on the agents: all at once
    traced, live, audited = await asyncio.gather(_traced(request), _live(request, found), _drift(request, found))
    found = dataclasses.replace(found, live=live.live, live_errors=live.live_errors, drift=audited.drift,
                                drift_error=audited.drift_error)  # fmt: skip
    drawn = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    text = await asyncio.to_thread(draw.html, found, _svg, traced=traced, generated_at=drawn)
    return HTMLResponse(text)
