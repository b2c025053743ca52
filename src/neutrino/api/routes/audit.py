"""``GET /v2.0/audit?host=H&repair=true`` and ``POST /v2.0/audit`` (admin only): each host's
dataplane against the desired state, object by object, repaired on request (docs/audit.md).

The question travels to the agents as a trace's does (``bus/trace_requests.py``); the API adds
its own side of the comparison: a port the agent says it wired whose status is not ACTIVE."""

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

router = APIRouter(tags=["audit"])
ALIAS = "neutrino-audit"
"""Listed in /v2.0/extensions (``discovery.EXTENSIONS``)."""


@router.get("/v2.0/audit", name="audit")
async def get_audit(request: Request) -> Response:
    return await _audit(request, repair=False)


@router.post("/v2.0/audit", name="audit_repair")
async def post_audit(request: Request) -> Response:
    """A repair (``POST`` says it changes something; ``GET ...&repair=true`` is the same)."""
    return await _audit(request, repair=True)


async def _audit(request: Request, repair: bool) -> Response:
    """The audit's code (``domain/services/audit.py``, ``tools/audit``) is imported here, at the
    first audit, not with the server: no other route needs it, and the server's memory at start
    is what ``bench/api.py`` holds to 100 MiB (docs/conformance.md, "API speed")."""
    from neutrino.domain.services import audit
    from neutrino.tools.audit import drift

    ctx = context_for(request)
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action="get_audit")
    query = audit.parse(dict(request.query_params), repair)
    state = state_of(request)
    hosts = await in_transaction(request, lambda s: audit.hosts(s, state.domain, query), readonly=True)
    answers: dict[str, Any] = {h: {"error": why} for h, why in hosts.down.items()}
    if state.bus is None:
        answers.update({h: {"error": "this server runs no agent bus"} for h in hosts.alive})
    elif hosts.alive:
        answers.update(await asyncio.to_thread(state.bus.audits.ask, dict.fromkeys(hosts.alive, query.repair)))
    wired = {pid for a in answers.values() for pid in a.get("wired") or []}
    statuses = await in_transaction(request, lambda s: audit.port_statuses(s, wired), readonly=True)
    out = {}
    for host, answer in sorted(answers.items()):
        if "error" in answer:
            out[host] = {"host": host, "error": answer["error"]}
            continue
        api = [d.as_dict() for d in drift.port_status(answer.get("wired") or [], statuses)]
        out[host] = {**answer, "drift": [*answer.get("drift", []), *api], "remaining": [*answer.get("remaining", []), *api]}
    total = sum(len(h.get("remaining", [])) for h in out.values())
    return respond.json({"audit": {"repair": query.repair, "hosts": out, "drift_count": total}})
