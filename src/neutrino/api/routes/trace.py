"""``GET /v2.0/trace?from=..&to=..&protocol=..&port=..&source_ip=..`` (admin only): one packet's
path hop by hop, the intent checked against each host's dataplane (docs/trace.md)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from neutrino import errors
from neutrino.api import respond
from neutrino.api.auth import context_for, state_of
from neutrino.api.routes.common import in_transaction

router = APIRouter(tags=["trace"])
ALIAS = "neutrino-trace"
"""Listed in /v2.0/extensions (``discovery.EXTENSIONS``)."""


@router.get("/v2.0/trace", name="trace")
async def trace_packet(request: Request) -> Response:
    ctx = context_for(request)
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action="get_trace")
    return respond.json({"trace": await answer(request, dict(request.query_params))})


async def answer(request: Request, params: dict[str, str]) -> dict[str, Any]:
    """The trace's answer for ``params`` (the query's names), the caller's rights checked before:
    also what the topology page draws.

    The trace's code (``domain/services/trace.py``, ``tools/trace``) is imported here, at the
    first trace, not with the server: no other route needs it, and the server's memory at start
    is what ``bench/api.py`` holds to 100 MiB (docs/conformance.md, "API speed")."""
    from neutrino.domain.services import trace
    from neutrino.tools.trace import probes, report

    query = trace.parse(params)
    state = state_of(request)
    prepared = await in_transaction(request, lambda s: trace.prepare(s, state.domain, query), readonly=True)
    wanted = {h: p for h, p in probes.by_host(prepared.probes).items() if h not in prepared.down}
    live: dict[str, Any] = {h: {"error": why} for h, why in prepared.down.items()}
    if state.bus is None:
        live.update({h: {"error": "this server runs no agent bus"} for h in wanted})
    else:  # a dead host's agent is not waited for
        live.update(await asyncio.to_thread(state.bus.traces.ask, wanted))
    return report.build(prepared.world, prepared.plan, prepared.probes, live)
