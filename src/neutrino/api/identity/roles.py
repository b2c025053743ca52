"""``/v3/roles``, grants of a role to a user on a project, and ``/v3/role_assignments``.

Only direct user-on-project grants exist in neutrino (no groups, domain grants, system scope or
inheritance), so queries about those other kinds of assignment simply match nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from neutrino.api.identity import views
from neutrino.api.identity.common import (
    PREFIX,
    forget_cached_tokens,
    identity_url,
    json_response,
    keystone_errors,
    no_content,
    query_bool,
    require_admin,
    require_admin_or,
    transaction,
)
from neutrino.domain.identity import service

router = APIRouter(prefix=PREFIX)

GRANT = "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"


@router.get("/v3/roles")
@keystone_errors
def list_roles(request: Request) -> Response:
    require_admin(request, "list_roles")
    roles = transaction(request, lambda s: service.list_roles(s, name=request.query_params.get("name")))
    base = identity_url(request)
    items = [views.role_view(base, r) for r in roles]
    return json_response(views.collection(base, "roles", "roles", items))


@router.get("/v3/roles/{role_id}")
@keystone_errors
def get_role(request: Request, role_id: str) -> Response:
    require_admin(request, "get_role")
    role = transaction(request, lambda s: service.get_role(s, role_id=role_id))
    return json_response({"role": views.role_view(identity_url(request), role)})


@router.put(GRANT)
@keystone_errors
def grant_role(request: Request, project_id: str, user_id: str, role_id: str) -> Response:
    require_admin(request, "create_grant")
    transaction(
        request,
        lambda s: service.assign_role(s, user_id=user_id, project_id=project_id, role_id=role_id),
    )
    forget_cached_tokens(request)
    return no_content()


@router.head(GRANT, operation_id="check_grant_head")
@router.get(GRANT, operation_id="check_grant")
@keystone_errors
def check_grant(request: Request, project_id: str, user_id: str, role_id: str) -> Response:
    require_admin(request, "check_grant")
    transaction(
        request,
        lambda s: service.check_role_assignment(
            s, user_id=user_id, project_id=project_id, role_id=role_id
        ),
    )
    return no_content()


@router.delete(GRANT)
@keystone_errors
def revoke_grant(request: Request, project_id: str, user_id: str, role_id: str) -> Response:
    require_admin(request, "revoke_grant")
    transaction(
        request,
        lambda s: service.unassign_role(s, user_id=user_id, project_id=project_id, role_id=role_id),
    )
    forget_cached_tokens(request)
    return no_content()


@router.get("/v3/projects/{project_id}/users/{user_id}/roles")
@keystone_errors
def list_grants(request: Request, project_id: str, user_id: str) -> Response:
    require_admin_or(
        request,
        "list_grants",
        lambda me: me.user_id == user_id and me.project_id == project_id,
    )
    roles = transaction(
        request,
        lambda s: service.list_user_project_roles(s, user_id=user_id, project_id=project_id),
    )
    base = identity_url(request)
    items = [views.role_view(base, r) for r in roles]
    return json_response(
        views.collection(base, "roles", f"projects/{project_id}/users/{user_id}/roles", items)
    )


# Filters naming kinds of assignment neutrino does not have: when given, nothing matches.
_FOREIGN_FILTERS = ("group.id", "scope.domain.id", "scope.system", "scope.OS-INHERIT:inherited_to")


@router.get("/v3/role_assignments")
@keystone_errors
def list_role_assignments(request: Request) -> Response:
    query = request.query_params
    user_id = query.get("user.id")
    require_admin_or(request, "list_role_assignments", lambda me: user_id == me.user_id)
    include_names = bool(query_bool(request, "include_names"))
    items: list[dict[str, Any]] = []
    base = identity_url(request)
    if not any(name in query for name in _FOREIGN_FILTERS):
        found = transaction(
            request,
            lambda s: service.list_role_assignments(
                s,
                user_id=user_id,
                project_id=query.get("scope.project.id"),
                role_id=query.get("role.id"),
            ),
        )
        items = [views.assignment_view(base, a, include_names) for a in found]
    return json_response(views.collection(base, "role_assignments", "role_assignments", items))
