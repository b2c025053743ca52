"""Call a route's handler directly when FastAPI's request handling would change nothing.

Why: for each request FastAPI's handler reads the body when the route declares one, solves
the dependencies (for our routes: the ids in the path, validated as text), fills telemetry and
serialises what the handler returns. Our handlers take the ``Request`` and the path's ids as
text, read and check their bodies themselves (``api.body``) and return a ``Response``: for
them that work is a no-op, and it was about a sixth of the CPU time of a network GET
(cProfile of ``bench/api.py``'s GET loop). Such a route keeps everything else: its matching,
its OpenAPI entry (built from the same declaration), the exception handlers and middleware,
and FastAPI's ``request_response`` around the call.

A route qualifies only when that is certain from its declaration: an ``async`` handler whose
parameters are the request and ``str`` path parameters, no dependencies, no body or query
model, no body size limit, and a ``Response`` as its declared return type.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi.routing import APIRoute, request_response
from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Awaitable[Response]]


def _returns_response(call: Callable[..., Any]) -> bool:
    try:
        declared = typing.get_type_hints(call).get("return")
    except (NameError, TypeError):  # an annotation that does not resolve: leave it to FastAPI
        return False
    return isinstance(declared, type) and issubclass(declared, Response)


def direct_handler(route: APIRoute) -> Handler | None:
    """The handler to call with the request alone, or None if FastAPI's must stay."""
    dep = route.dependant
    call = dep.call
    if call is None or not inspect.iscoroutinefunction(call) or dep.request_param_name is None:
        return None
    if dep.query_params or dep.header_params or dep.cookie_params or dep.body_params or dep.dependencies:
        return None
    special = (dep.websocket_param_name, dep.http_connection_param_name, dep.response_param_name,
               dep.background_tasks_param_name, dep.security_scopes_param_name)  # fmt: skip
    if any(special) or getattr(route, "max_body_size", None) is not None:
        return None
    if any(p.field_info.annotation is not str for p in dep.path_params):
        return None
    if not _returns_response(call):
        return None
    names = tuple((p.name, p.alias) for p in dep.path_params)
    request_name = dep.request_param_name

    async def handler(request: Request) -> Response:
        params = request.path_params
        kwargs = {name: params[alias] for name, alias in names}
        kwargs[request_name] = request
        return await call(**kwargs)  # type: ignore[no-any-return]

    return handler


def serve_directly(routes: Iterable[Any]) -> int:
    """Give each qualifying route the direct handler; how many were changed."""
    changed = 0
    for route in routes:
        if type(route) is not APIRoute:
            continue
        handler = direct_handler(route)
        if handler is not None:
            route.app = request_response(handler)
            changed += 1
    return changed
