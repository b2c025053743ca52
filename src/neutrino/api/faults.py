"""Neutron's fault format: ``{"NeutronError": {"type", "message", "detail"}}`` with its status.

One place maps every error to a response, so handlers never build error bodies themselves.
"""

from __future__ import annotations

import logging

import orjson
from starlette.requests import Request
from starlette.responses import Response

from neutrino import errors

LOG = logging.getLogger(__name__)

INTERNAL = "Request Failed: internal server error while processing your request."


def fault_response(status: int, type_: str, message: str, detail: str = "") -> Response:
    key = "NotImplementedError" if status == 501 else "NeutronError"
    body = {key: {"type": type_, "message": message, "detail": detail}}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def neutron_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.NeutronError)
    return fault_response(exc.status, exc.type, exc.message)


def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    LOG.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return fault_response(500, "HTTPInternalServerError", INTERNAL)


def unauthorized_response(identity: bool = False) -> Response:
    """401 as keystonemiddleware (and Keystone itself) answer it."""
    body = {
        "error": {
            "code": 401,
            "title": "Unauthorized",
            "message": "The request you have made requires authentication.",
        }
    }
    return Response(
        orjson.dumps(body),
        status_code=401,
        media_type="application/json",
        headers={"WWW-Authenticate": 'Keystone uri="/identity"'},
    )
