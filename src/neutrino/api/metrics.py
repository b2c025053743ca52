"""Prometheus for the API: a middleware that times every request, and ``GET /metrics``.

The middleware labels a request with its route template (``/v2.0/ports/{resource_id}``, not the
id: one time series per route, however many ports), the method and the status. Requests that
match no route are labelled ``unmatched``. ``/metrics`` answers an admin token only, as the
rest of the server's operator surface (``/bus/v1``) does.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from neutrino import errors
from neutrino.api.auth import context_for, state_of

router = APIRouter(tags=["metrics"])


class ObserveLatency:
    def __init__(self, app: ASGIApp, metrics: Any) -> None:
        self.app = app
        self.metrics = metrics
        # each (method, route, status)'s histogram, as labels() returns it: the same object at
        # every request, without labels()' checks and lock each time (the histogram keeps
        # one child per label set either way)
        self._children: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observe_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe_status)
        finally:
            route = scope.get("route")  # set by the router on the scope it shares with us
            template = getattr(route, "path", None) or "unmatched"
            key = (scope["method"], template, status)
            child = self._children.get(key)
            if child is None:
                child = self._children[key] = self.metrics.api_latency.labels(key[0], template, str(status))
            child.observe(time.perf_counter() - started)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    ctx = context_for(request)
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action="rule:metrics")
    found = state_of(request).metrics
    if found is None:
        raise errors.HTTPNotFound(msg="this server keeps no metrics")
    from neutrino.metrics.server import CONTENT_TYPE

    return Response(found.render(), media_type=CONTENT_TYPE)
