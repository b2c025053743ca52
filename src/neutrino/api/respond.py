"""JSON responses serialised with orjson (several times faster than the stdlib on big lists)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


def json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def empty(status: int = 204) -> Response:
    return Response(status_code=status)
