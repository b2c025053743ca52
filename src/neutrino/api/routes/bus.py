"""The bus over HTTP, for agents in other processes: ``POST /bus/v1/call`` (request-reply on
the server's RPC topic) and ``GET /bus/v1/events`` (long poll of a host's notifications).
Admin only; the RPC server and notifier behind them are the same the in-process agents use."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import anyio

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from neutrino import errors
from neutrino.api import respond
from neutrino.api.auth import context_for, state_of
from neutrino.bus.transport import TransportError

router = APIRouter(tags=["bus"], include_in_schema=False)
# which API worker answered (a debugging aid, admin-only like the routes): with several
# workers, a notification committed in one reaches a long poll served by another
_WORKER = {"X-Neutrino-Worker": str(os.getpid())}
# long polls wait in threads of their own: one per agent, mostly asleep, so they never take
# the threads that calls and the API need (asyncio's default pool has cpus + 4)
MAX_POLLERS = 500
_limiter: list[anyio.CapacityLimiter] = []


def _pollers() -> anyio.CapacityLimiter:
    if not _limiter:  # made inside the event loop, as anyio wants
        _limiter.append(anyio.CapacityLimiter(MAX_POLLERS))
    return _limiter[0]


def _bus(request: Request) -> Any:
    ctx = context_for(request)
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action="rule:bus")
    bus = state_of(request).bus
    if bus is None:
        raise errors.HTTPNotFound(msg="this server runs no agent bus")
    return bus


@router.post("/bus/v1/call")
async def call(request: Request) -> Response:
    bus = _bus(request)
    body = await request.json()
    try:
        reply = await asyncio.to_thread(bus.transport.call, body["topic"], body["msg"])
    except TransportError as exc:  # no server on the topic, a refused version: the agent retries
        raise errors.ServiceUnavailable(str(exc)) from None
    return respond.json(reply, headers=_WORKER)


@router.get("/bus/v1/events")
async def events(request: Request, topic: str, after: int = 0, timeout: float = 20.0) -> Response:
    bus = _bus(request)
    doc = await anyio.to_thread.run_sync(bus.events.since, topic, after, min(timeout, 30.0), limiter=_pollers())
    return respond.json(doc, headers=_WORKER)
