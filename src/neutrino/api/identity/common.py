"""Plumbing shared by the identity routes: errors, bodies, the caller's token, policy.

The identity router is mounted on an application it does not own, so it cannot install its
own exception handlers there; instead every handler is wrapped by ``keystone_errors``, which
turns an IdentityError into Keystone's ``{"error": {...}}`` body. For the same reason request
bodies are read by a dependency that never raises (``JsonBody``): a malformed body is reported
by the handler, in Keystone's format, when it asks for the section it needs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request
from starlette.responses import Response

from neutrino.api.input_guard import has_nul
from neutrino.db.engine import run_in_transaction
from neutrino.domain.identity.service import IdentityError, bad_request, forbidden, unauthorized
from neutrino.domain.identity.tokens import TokenInfo

T = TypeVar("T")
PREFIX = "/identity"  # where the application serves every identity route
MAX_BODY_BYTES = 1024 * 1024


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def no_content() -> Response:
    return Response(status_code=204)


def error_response(request: Request, exc: IdentityError) -> Response:
    headers = None
    if exc.status == 401:
        headers = {"WWW-Authenticate": f'Keystone uri="{identity_url(request)}"'}
    return json_response(exc.body(), exc.status, headers)


def keystone_errors(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Report IdentityError raised by a (synchronous) handler in Keystone's error format."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return handler(*args, **kwargs)
        except IdentityError as exc:
            request = kwargs.get("request") or next(a for a in args if isinstance(a, Request))
            return error_response(request, exc)

    return wrapper


class _Malformed:
    """Marks a request body that was present but not JSON (or that carries NUL characters)."""

    def __init__(self, message: str) -> None:
        self.message = message


MALFORMED = _Malformed("The request body is not valid JSON.")
HAS_NUL = _Malformed("Invalid input: NUL characters are not allowed")


async def _read_json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    if len(raw) > MAX_BODY_BYTES:
        return MALFORMED
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return MALFORMED
    return HAS_NUL if has_nul(parsed) else parsed


JsonBody = Annotated[Any, Depends(_read_json_body)]


def section(body: Any, key: str) -> dict[str, Any]:
    """``body[key]`` as an object, or 400 the way Keystone words it."""
    if isinstance(body, _Malformed):
        raise bad_request(body.message)
    if not isinstance(body, dict) or key not in body:
        raise bad_request(f"Expecting to find {key} in request body.")
    value = body[key]
    if not isinstance(value, dict):
        raise bad_request(f"Invalid input for field '{key}': an object is required.")
    return value


def state(request: Request) -> Any:
    """The shared server objects: settings, sessions (a sessionmaker) and tokens."""
    return request.app.state.neutrino


def identity_url(request: Request) -> str:
    return f"{state(request).settings.url}/identity"


def transaction(request: Request, work: Callable[[Any], T]) -> T:
    return run_in_transaction(state(request).sessions, work)


def caller(request: Request) -> TokenInfo:
    """The validated token of the caller (401 without a valid X-Auth-Token)."""
    token = request.headers.get("x-auth-token")
    info = state(request).tokens.validate(token) if token else None
    if info is None:
        raise unauthorized()
    return info


def require_admin(request: Request, action: str) -> TokenInfo:
    """The caller, who must hold the admin role (403 otherwise).

    As in Keystone's legacy policy, the admin role on any project makes a cloud administrator.
    """
    info = caller(request)
    if not info.is_admin:
        raise forbidden(f"identity:{action}")
    return info


def require_admin_or(request: Request, action: str, allowed: Callable[[TokenInfo], bool]) -> TokenInfo:
    """The caller, who must be an admin or satisfy ``allowed`` (e.g. be the user asked about)."""
    info = caller(request)
    if not (info.is_admin or allowed(info)):
        raise forbidden(f"identity:{action}")
    return info


def query_bool(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("", "1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise bad_request(f"Invalid value for query parameter '{name}': {value}.")


def forget_cached_tokens(request: Request) -> None:
    """After a change to users, projects or grants: this process re-reads roles at once."""
    state(request).tokens.clear_cache()
