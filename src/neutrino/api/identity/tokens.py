"""``/v3/auth/...``: issue, validate and "revoke" tokens, and what a token gives access to.

Authentication runs in short steps so that no database lock is held while the password hash is
checked: look the user up, verify the hash with no transaction open, resolve the scope, sign.

DELETE on a token revokes it: its audit id goes on the revocation list that every validation
reads (other server processes honour it within their validation cache's window). Disabling the
user, deleting the project or removing the user's roles on it invalidates it the same way.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from neutrino.api.identity import views
from neutrino.api.identity.common import (
    PREFIX,
    JsonBody,
    caller,
    identity_url,
    json_response,
    keystone_errors,
    no_content,
    section,
    state,
    transaction,
)
from neutrino.domain.identity import service
from neutrino.domain.identity.service import bad_request, unauthorized
from neutrino.domain.identity.tokens import TokenInfo

router = APIRouter(prefix=PREFIX)


def _object(parent: dict[str, Any], key: str, required: bool = True) -> dict[str, Any]:
    value = parent.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"Expecting to find {key} in the authentication request.")
    return value


def _password_identity(identity: dict[str, Any], request: Request) -> str:
    """Authenticate by password; return the user's id."""
    user = _object(_object(identity, "password"), "user")
    domain = _object(user, "domain", required=False)
    found = transaction(
        request,
        lambda s: service.lookup_user(
            s,
            user_id=user.get("id"),
            user_name=user.get("name"),
            domain_id=domain.get("id"),
            domain_name=domain.get("name"),
        ),
    )
    return service.verify_user_password(found, user.get("password")).id


def _scope_project(request: Request, user_id: str, scope: Any) -> str | None:
    """The project id the new token is scoped to, or None for an unscoped token."""
    if scope is None:
        def default(session: Any) -> str | None:
            user = service.get_user(session, user_id=user_id)
            project = service.default_project(session, user)
            return project.id if project else None

        return transaction(request, default)
    if scope == "unscoped":
        return None
    if not isinstance(scope, dict):
        raise bad_request("Invalid input for field 'scope'.")
    if "project" not in scope:
        raise unauthorized("neutrino issues project-scoped and unscoped tokens only.")
    project = _object(scope, "project")
    domain = _object(project, "domain", required=False)
    return transaction(
        request,
        lambda s: service.resolve_project_scope(
            s,
            user_id=user_id,
            project_id=project.get("id"),
            project_name=project.get("name"),
            domain_id=domain.get("id"),
            domain_name=domain.get("name"),
        ).id,
    )


def _token_response(request: Request, info: TokenInfo, status: int) -> Response:
    settings = state(request).settings
    body = views.token_view(
        info,
        server_url=settings.url,
        region=settings.region,
        with_catalog="nocatalog" not in request.query_params,
    )
    return json_response(body, status, {"X-Subject-Token": info.token})


@router.post("/v3/auth/tokens")
@keystone_errors
def create_token(request: Request, body: JsonBody) -> Response:
    auth = section(body, "auth")
    identity = _object(auth, "identity")
    methods = identity.get("methods")
    if not isinstance(methods, list) or not methods:
        raise bad_request("Expecting to find methods in identity.")
    expires_at = None
    parent_audit_id = None
    if "password" in methods:
        user_id = _password_identity(identity, request)
        token_methods = ["password"]
    elif "token" in methods:
        prior_id = _object(identity, "token").get("id")
        prior = state(request).tokens.validate(prior_id) if isinstance(prior_id, str) else None
        if prior is None:
            raise unauthorized()
        user_id, expires_at, parent_audit_id = prior.user_id, prior.expires_at, prior.audit_ids[0]
        token_methods = list(dict.fromkeys(["token", *prior.methods]))
    else:
        raise unauthorized("Attempted to authenticate with an unsupported method.")
    project_id = _scope_project(request, user_id, auth.get("scope"))
    info = state(request).tokens.issue(
        user_id, project_id, token_methods, expires_at=expires_at, parent_audit_id=parent_audit_id
    )
    return _token_response(request, info, 201)


def _subject(request: Request) -> TokenInfo:
    """The token named by X-Subject-Token, which the caller must own unless admin."""
    me = caller(request)
    subject_id = request.headers.get("x-subject-token")
    if not subject_id:
        raise bad_request("Expecting to find X-Subject-Token in the request headers.")
    subject = state(request).tokens.validate(subject_id)
    if subject is None:
        raise service.not_found("token", subject_id)
    if not (me.is_admin or me.user_id == subject.user_id):
        raise service.forbidden("identity:validate_token")
    return subject


@router.get("/v3/auth/tokens")
@keystone_errors
def validate_token(request: Request) -> Response:
    return _token_response(request, _subject(request), 200)


@router.head("/v3/auth/tokens")
@keystone_errors
def check_token(request: Request) -> Response:
    subject = _subject(request)
    return Response(status_code=200, headers={"X-Subject-Token": subject.token})


@router.delete("/v3/auth/tokens")
@keystone_errors
def revoke_token(request: Request) -> Response:
    state(request).tokens.revoke(_subject(request))
    return no_content()


@router.get("/v3/auth/projects")
@keystone_errors
def my_projects(request: Request) -> Response:
    """Projects the caller may scope to (what a client shows after an unscoped login)."""
    me = caller(request)
    base = identity_url(request)
    projects = transaction(request, lambda s: service.list_user_projects(s, user_id=me.user_id))
    items = [views.project_view(base, p) for p in projects if p.enabled]
    return json_response(views.collection(base, "projects", "auth/projects", items))


@router.get("/v3/auth/catalog")
@keystone_errors
def my_catalog(request: Request) -> Response:
    me = caller(request)
    if me.project_id is None:
        raise service.forbidden("identity:get_auth_catalog")
    settings = state(request).settings
    body = {
        "catalog": views.catalog(settings.url, settings.region),
        "links": {"self": f"{identity_url(request)}/v3/auth/catalog"},
    }
    return json_response(body)
