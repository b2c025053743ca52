"""From request headers to a Context: Keystone tokens, or no authentication for development.

With ``--auth keystone`` every network API request carries ``X-Auth-Token``, validated by the
identity service's TokenService (cached, so this costs microseconds). With ``--auth noauth``
the caller is an admin acting for ``X-Project-Id`` (or the bootstrap admin project), as Neutron
behaves without keystonemiddleware.
"""

from __future__ import annotations

from starlette.requests import Request

from neutrino.api.state import AppState
from neutrino.domain.context import Context, set_current


class Unauthenticated(Exception):
    """No token, or a bad or expired one: 401."""


def state_of(request: Request) -> AppState:
    return request.app.state.neutrino  # type: ignore[no-any-return]


def context_for(request: Request) -> Context:
    """The caller's Context, also made the request's current one (domain.context.current)."""
    ctx = _authenticate(request)
    set_current(ctx)
    return ctx


def _authenticate(request: Request) -> Context:
    state = state_of(request)
    if state.settings.auth == "noauth":
        project = request.headers.get("x-project-id") or request.headers.get("x-tenant-id")
        roles = request.headers.get("x-roles")
        if roles:
            names = frozenset(r.strip().lower() for r in roles.split(",") if r.strip())
            return Context(
                project_id=project or state.default_project_id,
                roles=names,
                is_admin="admin" in names,
            )
        return Context.admin(project or state.default_project_id)
    token = request.headers.get("x-auth-token")
    if not token:
        raise Unauthenticated()
    info = state.tokens.validate(token)
    if info is None:
        raise Unauthenticated()
    roles = frozenset(name for _id, name in info.roles)
    return Context(
        project_id=info.project_id,
        user_id=info.user_id,
        roles=roles,
        is_admin="admin" in roles,
        project_name=info.project_name,
        user_name=info.user_name,
    )
