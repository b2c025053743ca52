"""NUL characters are refused everywhere in a request, with a 400, on every database backend.

Why: PostgreSQL cannot store or even compare a text value containing NUL (the driver raises,
which would surface as a 500), while SQLite stores it silently; so the same request would
behave differently per backend. No Neutron attribute has a use for NUL, so the API refuses it
before anything reaches the database: in the path (an id), the query string (filters, markers)
and every string or key of a JSON body.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from neutrino import errors
from neutrino.api import faults

MESSAGE = "Invalid input: NUL characters are not allowed"


def has_nul(value: Any) -> bool:
    """True if any string (or dict key) inside a decoded JSON value contains NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


def check_body(value: Any) -> Any:
    """``value`` unchanged, or 400 if it carries NUL."""
    if has_nul(value):
        raise errors.HTTPBadRequest(msg=MESSAGE)
    return value


def _url_has_nul(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query


class RejectNulInUrl:
    """ASGI middleware: a path or query string with NUL (``%00``) gets 400 before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _url_has_nul(scope):
            if scope["path"].startswith("/identity"):
                body = {"error": {"code": 400, "title": "Bad Request", "message": MESSAGE}}
                response = Response(orjson.dumps(body), status_code=400, media_type="application/json")
            else:
                response = faults.fault_response(400, "HTTPBadRequest", MESSAGE)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
