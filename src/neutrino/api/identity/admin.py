"""``/v3/domains``, ``/v3/projects`` and ``/v3/users``: the administration test tools rely on.

Policy is Keystone's legacy rule, reduced: an admin may do everything; a user may read its own
record, the project its token is scoped to, its domain and its projects. Changes that can take
rights away (disabling, renaming, deleting) flush this process's token cache so they apply at
once here, and within the cache window in other server processes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from neutrino.api.identity import views
from neutrino.api.identity.common import (
    PREFIX,
    JsonBody,
    forget_cached_tokens,
    identity_url,
    json_response,
    keystone_errors,
    no_content,
    query_bool,
    require_admin,
    require_admin_or,
    section,
    transaction,
)
from neutrino.domain.identity import service
from neutrino.domain.identity.service import bad_request

router = APIRouter(prefix=PREFIX)


# --- domains ----------------------------------------------------------------------------------


@router.get("/v3/domains")
@keystone_errors
def list_domains(request: Request) -> Response:
    require_admin(request, "list_domains")
    base = identity_url(request)
    enabled = query_bool(request, "enabled")
    domains = [
        d
        for d in service.list_domains(name=request.query_params.get("name"))
        if enabled is None or d.enabled == enabled
    ]
    items = [views.domain_view(base, d) for d in domains]
    return json_response(views.collection(base, "domains", "domains", items))


@router.get("/v3/domains/{domain_id}")
@keystone_errors
def get_domain(request: Request, domain_id: str) -> Response:
    require_admin_or(
        request,
        "get_domain",
        lambda me: domain_id in (me.user_domain_id, me.project_domain_id),
    )
    domain = service.get_domain(domain_id)
    return json_response({"domain": views.domain_view(identity_url(request), domain)})


# --- projects ---------------------------------------------------------------------------------


@router.post("/v3/projects")
@keystone_errors
def create_project(request: Request, body: JsonBody) -> Response:
    require_admin(request, "create_project")
    spec = section(body, "project")
    domain_id = spec.get("domain_id") or "default"
    if spec.get("is_domain"):
        raise bad_request("neutrino does not create projects that act as domains.")
    if spec.get("parent_id") not in (None, domain_id):
        raise bad_request("neutrino has no project hierarchy: parent_id must be the domain.")
    project = transaction(
        request,
        lambda s: service.create_project(
            s,
            name=spec.get("name"),  # type: ignore[arg-type] - validated by the service
            domain_id=domain_id,
            description=spec.get("description", ""),
            enabled=spec.get("enabled", True),
        ),
    )
    return json_response({"project": views.project_view(identity_url(request), project)}, 201)


@router.get("/v3/projects")
@keystone_errors
def list_projects(request: Request) -> Response:
    require_admin(request, "list_projects")
    query = request.query_params
    enabled = query_bool(request, "enabled")
    projects = transaction(
        request,
        lambda s: service.list_projects(
            s, name=query.get("name"), domain_id=query.get("domain_id"), enabled=enabled
        ),
    )
    base = identity_url(request)
    items = [views.project_view(base, p) for p in projects]
    return json_response(views.collection(base, "projects", "projects", items))


@router.get("/v3/projects/{project_id}")
@keystone_errors
def get_project(request: Request, project_id: str) -> Response:
    require_admin_or(request, "get_project", lambda me: me.project_id == project_id)
    project = transaction(request, lambda s: service.get_project(s, project_id=project_id))
    return json_response({"project": views.project_view(identity_url(request), project)})


@router.patch("/v3/projects/{project_id}")
@keystone_errors
def update_project(request: Request, project_id: str, body: JsonBody) -> Response:
    require_admin(request, "update_project")
    changes = section(body, "project")
    project = transaction(
        request, lambda s: service.update_project(s, project_id=project_id, changes=changes)
    )
    forget_cached_tokens(request)
    return json_response({"project": views.project_view(identity_url(request), project)})


@router.delete("/v3/projects/{project_id}")
@keystone_errors
def delete_project(request: Request, project_id: str) -> Response:
    require_admin(request, "delete_project")
    transaction(request, lambda s: service.delete_project(s, project_id=project_id))
    forget_cached_tokens(request)
    return no_content()


# --- users ------------------------------------------------------------------------------------


def _user_fields(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": spec.get("name"),
        "password": spec.get("password"),
        "domain_id": spec.get("domain_id") or "default",
        "default_project_id": spec.get("default_project_id"),
        "enabled": spec.get("enabled", True),
        "description": spec.get("description", ""),
        "email": spec.get("email"),
    }


@router.post("/v3/users")
@keystone_errors
def create_user(request: Request, body: JsonBody) -> Response:
    require_admin(request, "create_user")
    fields = _user_fields(section(body, "user"))
    user = transaction(request, lambda s: service.create_user(s, **fields))
    return json_response({"user": views.user_view(identity_url(request), user)}, 201)


@router.get("/v3/users")
@keystone_errors
def list_users(request: Request) -> Response:
    require_admin(request, "list_users")
    query = request.query_params
    enabled = query_bool(request, "enabled")
    users = transaction(
        request,
        lambda s: service.list_users(
            s, name=query.get("name"), domain_id=query.get("domain_id"), enabled=enabled
        ),
    )
    base = identity_url(request)
    items = [views.user_view(base, u) for u in users]
    return json_response(views.collection(base, "users", "users", items))


@router.get("/v3/users/{user_id}")
@keystone_errors
def get_user(request: Request, user_id: str) -> Response:
    require_admin_or(request, "get_user", lambda me: me.user_id == user_id)
    user = transaction(request, lambda s: service.get_user(s, user_id=user_id))
    return json_response({"user": views.user_view(identity_url(request), user)})


@router.patch("/v3/users/{user_id}")
@keystone_errors
def update_user(request: Request, user_id: str, body: JsonBody) -> Response:
    require_admin(request, "update_user")
    changes = section(body, "user")
    user = transaction(request, lambda s: service.update_user(s, user_id=user_id, changes=changes))
    forget_cached_tokens(request)
    return json_response({"user": views.user_view(identity_url(request), user)})


@router.delete("/v3/users/{user_id}")
@keystone_errors
def delete_user(request: Request, user_id: str) -> Response:
    require_admin(request, "delete_user")
    transaction(request, lambda s: service.delete_user(s, user_id=user_id))
    forget_cached_tokens(request)
    return no_content()


@router.post("/v3/users/{user_id}/password")
@keystone_errors
def change_password(request: Request, user_id: str, body: JsonBody) -> Response:
    """Self-service change; like Keystone it needs no token, only the current password."""
    spec = section(body, "user")
    transaction(
        request,
        lambda s: service.change_password(
            s,
            user_id=user_id,
            original_password=spec.get("original_password"),
            password=spec.get("password"),
        ),
    )
    return no_content()


@router.get("/v3/users/{user_id}/projects")
@keystone_errors
def list_user_projects(request: Request, user_id: str) -> Response:
    require_admin_or(request, "list_user_projects", lambda me: me.user_id == user_id)

    def work(session: Any) -> list[Any]:
        service.get_user(session, user_id=user_id)  # 404 for an unknown user, not an empty list
        return service.list_user_projects(session, user_id=user_id)

    projects = transaction(request, work)
    base = identity_url(request)
    items = [views.project_view(base, p) for p in projects]
    return json_response(views.collection(base, "projects", f"users/{user_id}/projects", items))
