"""The Keystone-compatible identity API, its bootstrap and client files, and real clients on it.

The app is built here from the identity router alone (no network API), on a temporary SQLite
database, so these tests exercise exactly what the identity service owns.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import uvicorn
import yaml
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from neutrino.api.identity import ROUTERS
from neutrino.config import ServerSettings
from neutrino.db.engine import make_engine, make_sessionmaker
from neutrino.client_files import write_client_files
from neutrino.domain.identity import TokenService, bootstrap
from neutrino.domain.models import Base

pytestmark = pytest.mark.api

ADMIN_PASSWORD = "secret-admin"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$")


@dataclass
class Identity:
    settings: ServerSettings
    app: FastAPI
    http: TestClient
    sessions: Any
    tokens: TokenService
    admin_token: str

    def auth(self, body: dict[str, Any], **params: str) -> Any:
        return self.http.post("/identity/v3/auth/tokens", json=body, params=params)

    def as_(self, token: str) -> dict[str, str]:
        return {"X-Auth-Token": token}

    def admin(self, method: str, path: str, **kw: Any) -> Any:
        return self.http.request(method, f"/identity/v3{path}", headers=self.as_(self.admin_token), **kw)


def password_body(
    password: str,
    *,
    name: str | None = None,
    user_id: str | None = None,
    domain: dict[str, str] | None = None,
    scope: Any = None,
) -> dict[str, Any]:
    user: dict[str, Any] = {"password": password}
    if user_id:
        user["id"] = user_id
    else:
        user["name"] = name
        user["domain"] = domain or {"name": "Default"}
    auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": user}}}
    if scope is not None:
        auth["scope"] = scope
    return {"auth": auth}


def project_scope(name: str | None = None, *, project_id: str | None = None, domain: dict | None = None) -> dict:
    if project_id:
        return {"project": {"id": project_id}}
    return {"project": {"name": name, "domain": domain or {"name": "Default"}}}


def build_app(settings: ServerSettings) -> tuple[FastAPI, Any, TokenService]:
    engine = make_engine(settings.db_url)
    Base.metadata.create_all(engine)
    sessions = make_sessionmaker(engine)
    bootstrap(sessions, settings)
    tokens = TokenService(sessions, settings.token_expiration)
    app = FastAPI()
    app.state.neutrino = SimpleNamespace(settings=settings, sessions=sessions, tokens=tokens)
    for router in ROUTERS:
        app.include_router(router)
    return app, sessions, tokens


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[Identity]:
    settings = ServerSettings(state_dir=tmp_path, port=9876, admin_password=ADMIN_PASSWORD)
    app, sessions, tokens = build_app(settings)
    with TestClient(app) as http:
        r = http.post(
            "/identity/v3/auth/tokens",
            json=password_body(ADMIN_PASSWORD, name="admin", scope=project_scope("admin")),
        )
        assert r.status_code == 201, r.text
        yield Identity(settings, app, http, sessions, tokens, r.headers["X-Subject-Token"])


@dataclass
class Member:
    user_id: str
    project_id: str
    password: str
    token: str


@pytest.fixture
def member(idp: Identity) -> Member:
    """User ``demo`` with the member role on project ``demo`` (created through the API)."""
    project = idp.admin("POST", "/projects", json={"project": {"name": "demo"}}).json()["project"]
    user = idp.admin(
        "POST",
        "/users",
        json={"user": {"name": "demo", "password": "demo-pw", "default_project_id": project["id"]}},
    ).json()["user"]
    role = idp.admin("GET", "/roles", params={"name": "member"}).json()["roles"][0]
    r = idp.admin("PUT", f"/projects/{project['id']}/users/{user['id']}/roles/{role['id']}")
    assert r.status_code == 204
    r = idp.auth(password_body("demo-pw", name="demo", scope=project_scope("demo")))
    assert r.status_code == 201, r.text
    return Member(user["id"], project["id"], "demo-pw", r.headers["X-Subject-Token"])


# --- discovery ---------------------------------------------------------------------------------


def test_unversioned_discovery_lists_v3(idp: Identity) -> None:
    for path in ("/identity", "/identity/"):
        r = idp.http.get(path, follow_redirects=False)
        assert r.status_code == 300
        (v3,) = r.json()["versions"]["values"]
        assert v3["id"] == "v3.14" and v3["status"] == "stable"
        assert v3["links"] == [{"rel": "self", "href": "http://127.0.0.1:9876/identity/v3/"}]


def test_v3_version_document(idp: Identity) -> None:
    for path in ("/identity/v3", "/identity/v3/"):
        r = idp.http.get(path, follow_redirects=False)
        assert r.status_code == 200
        version = r.json()["version"]
        assert version["id"] == "v3.14" and version["status"] == "stable"
        assert version["links"][0]["href"] == "http://127.0.0.1:9876/identity/v3/"
        assert version["media-types"][0]["type"] == "application/vnd.openstack.identity-v3+json"


# --- issuing tokens ----------------------------------------------------------------------------


def test_password_auth_by_name_returns_the_full_token(idp: Identity) -> None:
    r = idp.auth(password_body(ADMIN_PASSWORD, name="admin", scope=project_scope("admin")))
    assert r.status_code == 201
    assert r.headers["X-Subject-Token"]
    token = r.json()["token"]
    assert token["methods"] == ["password"]
    assert token["user"]["name"] == "admin"
    assert token["user"]["domain"] == {"id": "default", "name": "Default"}
    assert token["project"]["name"] == "admin"
    assert token["project"]["domain"] == {"id": "default", "name": "Default"}
    assert {role["name"] for role in token["roles"]} == {"admin", "member", "reader"}
    assert token["is_domain"] is False and len(token["audit_ids"]) == 1
    assert STAMP.match(token["expires_at"]) and STAMP.match(token["issued_at"])
    services = {s["type"]: s for s in token["catalog"]}
    assert services["network"]["name"] == "neutron" and services["identity"]["name"] == "keystone"
    for kind, url in (("network", "http://127.0.0.1:9876"), ("identity", "http://127.0.0.1:9876/identity")):
        endpoints = services[kind]["endpoints"]
        assert {e["interface"] for e in endpoints} == {"public", "internal", "admin"}
        assert all(e["url"] == url and e["region"] == e["region_id"] == "RegionOne" for e in endpoints)


def test_password_auth_by_ids_and_domain_id(idp: Identity) -> None:
    first = idp.auth(password_body(ADMIN_PASSWORD, name="admin", domain={"id": "default"})).json()["token"]
    user_id, project_id = first["user"]["id"], first["project"]["id"]  # default project scope
    r = idp.auth(password_body(ADMIN_PASSWORD, user_id=user_id, scope=project_scope(project_id=project_id)))
    assert r.status_code == 201
    assert r.json()["token"]["project"]["id"] == project_id
    r = idp.auth(
        password_body(ADMIN_PASSWORD, user_id=user_id, scope=project_scope("admin", domain={"id": "default"}))
    )
    assert r.status_code == 201 and r.json()["token"]["project"]["name"] == "admin"


@pytest.mark.parametrize(
    "body",
    [
        password_body("wrong", name="admin"),
        password_body(ADMIN_PASSWORD, name="nobody"),
        password_body(ADMIN_PASSWORD, name="admin", domain={"name": "Elsewhere"}),
        password_body(ADMIN_PASSWORD, user_id="0" * 32),
        password_body(ADMIN_PASSWORD, name="admin", scope=project_scope("no-such-project")),
        {"auth": {"identity": {"methods": ["totp"], "totp": {}}}},
        {"auth": {"identity": {"methods": ["token"], "token": {"id": "forged"}}}},
    ],
)
def test_failed_authentication_is_401(idp: Identity, body: dict) -> None:
    r = idp.auth(body)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == 401 and r.json()["error"]["title"] == "Unauthorized"
    assert "X-Subject-Token" not in r.headers
    assert r.headers["WWW-Authenticate"].startswith("Keystone uri=")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"auth": {}},
        {"auth": {"identity": {"methods": []}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin"}}}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "password": "x"}}}}},
    ],
)
def test_malformed_auth_request_is_400(idp: Identity, body: dict) -> None:
    r = idp.auth(body)
    assert r.status_code == 400
    assert r.json()["error"]["title"] == "Bad Request"


def test_body_that_is_not_json_is_400(idp: Identity) -> None:
    r = idp.http.post("/identity/v3/auth/tokens", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == 400


def test_unscoped_token(idp: Identity, member: Member) -> None:
    idp.admin("POST", "/users", json={"user": {"name": "loner", "password": "pw"}})
    r = idp.auth(password_body("pw", name="loner"))
    assert r.status_code == 201
    token = r.json()["token"]
    assert "project" not in token and "catalog" not in token and "roles" not in token
    # the admin has a default project, so an explicit "unscoped" is needed to get an unscoped token
    assert "project" in idp.auth(password_body(ADMIN_PASSWORD, name="admin")).json()["token"]
    r = idp.auth(password_body(ADMIN_PASSWORD, name="admin", scope="unscoped"))
    assert "project" not in r.json()["token"]


def test_scope_requires_a_role_on_the_project(idp: Identity, member: Member) -> None:
    r = idp.auth(password_body("demo-pw", name="demo", scope=project_scope("admin")))
    assert r.status_code == 401


def test_rescope_with_a_token(idp: Identity, member: Member) -> None:
    r = idp.auth(password_body(ADMIN_PASSWORD, name="admin", scope="unscoped"))
    unscoped, first = r.headers["X-Subject-Token"], r.json()["token"]
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": unscoped}},
            "scope": project_scope(project_id=member.project_id),
        }
    }
    # the admin has no role on demo yet
    assert idp.auth(body).status_code == 401
    admin_role = idp.admin("GET", "/roles", params={"name": "admin"}).json()["roles"][0]["id"]
    idp.admin("PUT", f"/projects/{member.project_id}/users/{first['user']['id']}/roles/{admin_role}")
    r = idp.auth(body)
    assert r.status_code == 201
    token = r.json()["token"]
    assert token["project"]["id"] == member.project_id
    assert token["methods"][0] == "token" and "password" in token["methods"]
    assert token["audit_ids"][1] == first["audit_ids"][0]
    assert token["expires_at"] <= first["expires_at"]
    assert r.headers["X-Subject-Token"] != unscoped


def test_nocatalog_on_issue(idp: Identity) -> None:
    r = idp.auth(password_body(ADMIN_PASSWORD, name="admin", scope=project_scope("admin")), nocatalog="")
    assert r.status_code == 201 and "catalog" not in r.json()["token"]


# --- validating tokens -------------------------------------------------------------------------


def test_get_and_head_validate_a_token(idp: Identity, member: Member) -> None:
    headers = {**idp.as_(idp.admin_token), "X-Subject-Token": member.token}
    r = idp.http.get("/identity/v3/auth/tokens", headers=headers)
    assert r.status_code == 200
    assert r.headers["X-Subject-Token"] == member.token
    token = r.json()["token"]
    assert token["user"]["name"] == "demo" and token["project"]["id"] == member.project_id
    assert [role["name"] for role in token["roles"]] == ["member"]
    assert "catalog" in token

    r = idp.http.get("/identity/v3/auth/tokens?nocatalog", headers=headers)
    assert r.status_code == 200 and "catalog" not in r.json()["token"]

    r = idp.http.head("/identity/v3/auth/tokens", headers=headers)
    assert r.status_code == 200 and r.content == b""


def test_validation_errors(idp: Identity, member: Member) -> None:
    path = "/identity/v3/auth/tokens"
    r = idp.http.get(path, headers={**idp.as_(idp.admin_token), "X-Subject-Token": "bogus"})
    assert r.status_code == 404 and r.json()["error"]["title"] == "Not Found"
    assert idp.http.head(path, headers={**idp.as_(idp.admin_token), "X-Subject-Token": "bogus"}).status_code == 404
    assert idp.http.get(path, headers={"X-Subject-Token": member.token}).status_code == 401
    assert idp.http.get(path, headers={"X-Auth-Token": "bogus", "X-Subject-Token": member.token}).status_code == 401
    # a member may validate its own token, not someone else's
    assert idp.http.get(path, headers={**idp.as_(member.token), "X-Subject-Token": member.token}).status_code == 200
    assert idp.http.get(path, headers={**idp.as_(member.token), "X-Subject-Token": idp.admin_token}).status_code == 403


def test_delete_token_revokes_it(idp: Identity, member: Member) -> None:
    headers = {**idp.as_(member.token), "X-Subject-Token": member.token}
    assert idp.http.delete("/identity/v3/auth/tokens", headers=headers).status_code == 204
    assert idp.tokens.validate(member.token) is None
    fresh = TokenService(idp.sessions, idp.settings.token_expiration)  # another server process
    assert fresh.validate(member.token) is None
    assert fresh.validate(idp.admin_token) is not None


def test_auth_projects_lists_what_the_caller_can_scope_to(idp: Identity, member: Member) -> None:
    r = idp.http.get("/identity/v3/auth/projects", headers=idp.as_(member.token))
    assert r.status_code == 200
    assert [p["name"] for p in r.json()["projects"]] == ["demo"]


# --- administration ----------------------------------------------------------------------------


def test_domains(idp: Identity) -> None:
    r = idp.admin("GET", "/domains", params={"name": "Default"})
    assert r.status_code == 200
    (domain,) = r.json()["domains"]
    assert domain["id"] == "default" and domain["links"]["self"].endswith("/identity/v3/domains/default")
    assert idp.admin("GET", "/domains", params={"name": "Other"}).json()["domains"] == []
    assert idp.admin("GET", "/domains/default").json()["domain"]["name"] == "Default"
    r = idp.admin("GET", "/domains/nope")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": 404, "title": "Not Found", "message": "Could not find domain: nope."}}


def test_project_crud(idp: Identity) -> None:
    r = idp.admin("POST", "/projects", json={"project": {"name": "p1", "description": "first"}})
    assert r.status_code == 201
    project = r.json()["project"]
    assert project["domain_id"] == "default" and project["enabled"] is True and project["is_domain"] is False
    assert project["links"]["self"] == f"http://127.0.0.1:9876/identity/v3/projects/{project['id']}"

    r = idp.admin("POST", "/projects", json={"project": {"name": "p1"}})
    assert r.status_code == 409 and r.json()["error"]["title"] == "Conflict"
    assert idp.admin("POST", "/projects", json={"project": {"name": ""}}).status_code == 400
    assert idp.admin("POST", "/projects", json={"nothing": {}}).status_code == 400

    names = [p["name"] for p in idp.admin("GET", "/projects").json()["projects"]]
    assert names == ["admin", "p1"]
    assert [p["id"] for p in idp.admin("GET", "/projects", params={"name": "p1"}).json()["projects"]] == [project["id"]]
    assert idp.admin("GET", "/projects", params={"domain_id": "other"}).json()["projects"] == []
    assert idp.admin("GET", f"/projects/{project['id']}").json()["project"]["description"] == "first"
    assert idp.admin("GET", "/projects/p1").status_code == 404  # by id only: clients look names up with ?name=

    r = idp.admin("PATCH", f"/projects/{project['id']}", json={"project": {"description": "changed", "enabled": False}})
    assert r.status_code == 200
    assert r.json()["project"]["description"] == "changed" and r.json()["project"]["enabled"] is False
    assert idp.admin("PATCH", f"/projects/{project['id']}", json={"project": {"name": "admin"}}).status_code == 409

    assert idp.admin("DELETE", f"/projects/{project['id']}").status_code == 204
    assert idp.admin("GET", f"/projects/{project['id']}").status_code == 404
    assert idp.admin("DELETE", f"/projects/{project['id']}").status_code == 404


def test_user_crud_never_returns_the_password(idp: Identity) -> None:
    r = idp.admin("POST", "/users", json={"user": {"name": "u1", "password": "pw1", "email": "u1@example.org"}})
    assert r.status_code == 201
    user = r.json()["user"]
    assert "password" not in user and user["email"] == "u1@example.org" and user["enabled"] is True
    assert idp.admin("POST", "/users", json={"user": {"name": "u1", "password": "x"}}).status_code == 409
    bad_project = {"user": {"name": "u2", "default_project_id": "nope"}}
    assert idp.admin("POST", "/users", json=bad_project).status_code == 400

    listed = idp.admin("GET", "/users", params={"name": "u1"}).json()["users"]
    assert [u["id"] for u in listed] == [user["id"]]
    assert all("password" not in u for u in idp.admin("GET", "/users").json()["users"])
    assert idp.admin("GET", f"/users/{user['id']}").json()["user"]["name"] == "u1"

    assert idp.auth(password_body("pw1", name="u1")).status_code == 201
    r = idp.admin("PATCH", f"/users/{user['id']}", json={"user": {"password": "pw2"}})
    assert r.status_code == 200 and "password" not in r.json()["user"]
    assert idp.auth(password_body("pw1", name="u1")).status_code == 401
    assert idp.auth(password_body("pw2", name="u1")).status_code == 201

    idp.admin("PATCH", f"/users/{user['id']}", json={"user": {"enabled": False}})
    assert idp.auth(password_body("pw2", name="u1")).status_code == 401

    assert idp.admin("DELETE", f"/users/{user['id']}").status_code == 204
    assert idp.admin("GET", f"/users/{user['id']}").status_code == 404


def test_self_service_password_change(idp: Identity, member: Member) -> None:
    path = f"/identity/v3/users/{member.user_id}/password"
    wrong = {"user": {"original_password": "nope", "password": "new-pw"}}
    assert idp.http.post(path, json=wrong).status_code == 401
    right = {"user": {"original_password": "demo-pw", "password": "new-pw"}}
    assert idp.http.post(path, json=right).status_code == 204
    assert idp.auth(password_body("new-pw", name="demo")).status_code == 201


def test_roles(idp: Identity) -> None:
    roles = idp.admin("GET", "/roles").json()["roles"]
    assert [r["name"] for r in roles] == ["admin", "member", "reader"]
    (member_role,) = idp.admin("GET", "/roles", params={"name": "member"}).json()["roles"]
    assert idp.admin("GET", f"/roles/{member_role['id']}").json()["role"]["name"] == "member"
    assert idp.admin("GET", "/roles/member").status_code == 404


def test_admin_api_needs_a_token_and_the_admin_role(idp: Identity, member: Member) -> None:
    for method, path, body in [
        ("GET", "/projects", None),
        ("POST", "/projects", {"project": {"name": "x"}}),
        ("GET", "/users", None),
        ("POST", "/users", {"user": {"name": "x"}}),
        ("GET", "/roles", None),
        ("GET", "/domains", None),
        ("DELETE", f"/projects/{member.project_id}", None),
    ]:
        no_token = idp.http.request(method, f"/identity/v3{path}", json=body)
        assert no_token.status_code == 401, (method, path)
        bad_token = idp.http.request(method, f"/identity/v3{path}", json=body, headers=idp.as_("bogus"))
        assert bad_token.status_code == 401, (method, path)
        as_member = idp.http.request(method, f"/identity/v3{path}", json=body, headers=idp.as_(member.token))
        assert as_member.status_code == 403, (method, path)
        assert as_member.json()["error"]["title"] == "Forbidden"
    # but a user may read itself and the project it is scoped to
    assert idp.http.get(f"/identity/v3/users/{member.user_id}", headers=idp.as_(member.token)).status_code == 200
    assert idp.http.get(f"/identity/v3/projects/{member.project_id}", headers=idp.as_(member.token)).status_code == 200


def test_role_grants_change_what_tokens_carry(idp: Identity, member: Member) -> None:
    admin_role = idp.admin("GET", "/roles", params={"name": "admin"}).json()["roles"][0]["id"]
    grant = f"/projects/{member.project_id}/users/{member.user_id}/roles/{admin_role}"
    assert idp.admin("HEAD", grant).status_code == 404
    assert idp.admin("PUT", grant).status_code == 204
    assert idp.admin("PUT", grant).status_code == 204  # idempotent
    assert idp.admin("HEAD", grant).status_code == 204

    listed = idp.admin("GET", f"/projects/{member.project_id}/users/{member.user_id}/roles").json()["roles"]
    assert sorted(r["name"] for r in listed) == ["admin", "member"]

    r = idp.auth(password_body("demo-pw", name="demo", scope=project_scope("demo")))
    assert {role["name"] for role in r.json()["token"]["roles"]} == {"admin", "member"}
    # the member's existing token now carries the role too (roles are resolved at validation)
    assert idp.http.get("/identity/v3/projects", headers=idp.as_(member.token)).status_code == 200

    assert idp.admin("DELETE", grant).status_code == 204
    assert idp.admin("DELETE", grant).status_code == 404
    assert idp.http.get("/identity/v3/projects", headers=idp.as_(member.token)).status_code == 403
    r = idp.auth(password_body("demo-pw", name="demo", scope=project_scope("demo")))
    assert [role["name"] for role in r.json()["token"]["roles"]] == ["member"]

    assert idp.admin("PUT", f"/projects/{member.project_id}/users/{member.user_id}/roles/nope").status_code == 404
    assert idp.admin("PUT", f"/projects/nope/users/{member.user_id}/roles/{admin_role}").status_code == 404


def test_role_assignments_listing(idp: Identity, member: Member) -> None:
    everything = idp.admin("GET", "/role_assignments").json()["role_assignments"]
    assert len(everything) == 4  # admin x3 on admin, demo x1 on demo
    r = idp.admin("GET", "/role_assignments", params={"user.id": member.user_id, "include_names": "True"})
    (one,) = r.json()["role_assignments"]
    assert one["user"] == {"id": member.user_id, "name": "demo", "domain": {"id": "default", "name": "Default"}}
    assert one["scope"]["project"]["id"] == member.project_id and one["scope"]["project"]["name"] == "demo"
    assert one["role"]["name"] == "member"
    assert one["links"]["assignment"].endswith(f"/projects/{member.project_id}/users/{member.user_id}/roles/{one['role']['id']}")

    by_project = idp.admin("GET", "/role_assignments", params={"scope.project.id": member.project_id}).json()
    assert [a["user"]["id"] for a in by_project["role_assignments"]] == [member.user_id]
    assert "name" not in by_project["role_assignments"][0]["user"]
    admin_role = idp.admin("GET", "/roles", params={"name": "admin"}).json()["roles"][0]["id"]
    assert len(idp.admin("GET", "/role_assignments", params={"role.id": admin_role}).json()["role_assignments"]) == 1
    assert idp.admin("GET", "/role_assignments", params={"group.id": "g"}).json()["role_assignments"] == []
    # a user may list its own assignments
    mine = idp.http.get(
        "/identity/v3/role_assignments", params={"user.id": member.user_id}, headers=idp.as_(member.token)
    )
    assert mine.status_code == 200 and len(mine.json()["role_assignments"]) == 1


def test_deleting_a_project_or_disabling_it_ends_its_tokens(idp: Identity, member: Member) -> None:
    validate = {**idp.as_(idp.admin_token), "X-Subject-Token": member.token}
    assert idp.http.get("/identity/v3/auth/tokens", headers=validate).status_code == 200
    idp.admin("PATCH", f"/projects/{member.project_id}", json={"project": {"enabled": False}})
    assert idp.http.get("/identity/v3/auth/tokens", headers=validate).status_code == 404
    assert idp.auth(password_body("demo-pw", name="demo", scope=project_scope("demo"))).status_code == 401


# --- bootstrap and client files ----------------------------------------------------------------


def test_bootstrap_runs_once_and_generates_a_password(tmp_path: Path) -> None:
    settings = ServerSettings(state_dir=tmp_path)
    engine = make_engine(settings.db_url)
    Base.metadata.create_all(engine)
    sessions = make_sessionmaker(engine)
    password = bootstrap(sessions, settings)
    assert password and len(password) >= 20
    assert bootstrap(sessions, settings) is None
    tokens = TokenService(sessions)
    from neutrino.db.engine import run_in_transaction
    from neutrino.domain.identity import service

    user = run_in_transaction(sessions, lambda s: service.authenticate_password(
        s, password=password, user_name="admin", domain_name="Default"
    ))
    project = run_in_transaction(sessions, lambda s: service.resolve_project_scope(
        s, user_id=user.id, project_name="admin", domain_id="default"
    ))
    assert tokens.issue(user.id, project.id, ["password"]).role_names == {"admin", "member", "reader"}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_client_files_are_written_private_and_follow_the_port(tmp_path: Path) -> None:
    settings = ServerSettings(state_dir=tmp_path, port=9001, region="RegionTwo")
    changed = write_client_files(settings, "pw-1")
    clouds, openrc = tmp_path / "clouds.yaml", tmp_path / "openrc"
    assert set(changed) == {clouds, openrc}
    assert _mode(clouds) == 0o600 and _mode(openrc) == 0o600
    cloud = yaml.safe_load(clouds.read_text())["clouds"]["neutrino"]
    assert cloud["auth_type"] == "password" and cloud["region_name"] == "RegionTwo"
    assert cloud["identity_api_version"] == 3 and cloud["interface"] == "public"
    assert cloud["auth"] == {
        "auth_url": "http://127.0.0.1:9001/identity/v3",
        "username": "admin",
        "password": "pw-1",
        "project_name": "admin",
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }
    rc = openrc.read_text()
    assert "export OS_AUTH_URL=http://127.0.0.1:9001/identity/v3" in rc
    assert "export OS_PASSWORD=pw-1" in rc and "export OS_IDENTITY_API_VERSION=3" in rc
    assert "export OS_CLOUD" not in rc

    # next start, on another port, password not known: only the URL changes
    moved = ServerSettings(state_dir=tmp_path, port=9002)
    assert set(write_client_files(moved, None)) == {clouds, openrc}
    cloud = yaml.safe_load(clouds.read_text())["clouds"]["neutrino"]
    assert cloud["auth"]["auth_url"] == "http://127.0.0.1:9002/identity/v3"
    assert cloud["auth"]["password"] == "pw-1" and cloud["region_name"] == "RegionTwo"
    assert "OS_AUTH_URL=http://127.0.0.1:9002/identity/v3" in openrc.read_text()
    assert "OS_PASSWORD=pw-1" in openrc.read_text()
    assert write_client_files(moved, None) == []  # nothing left to change


def test_missing_files_are_written_only_when_the_password_is_known(tmp_path: Path) -> None:
    assert write_client_files(ServerSettings(state_dir=tmp_path), None) == []
    assert not (tmp_path / "clouds.yaml").exists()
    known = ServerSettings(state_dir=tmp_path, admin_password="from-settings")
    assert len(write_client_files(known, None)) == 2
    assert "from-settings" in (tmp_path / "clouds.yaml").read_text()


def test_system_wide_clouds_file_is_merged(tmp_path: Path) -> None:
    system = tmp_path / "etc" / "clouds.yaml"
    system.parent.mkdir()
    others = {"clouds": {"prod": {"auth": {"auth_url": "https://prod/v3"}, "region_name": "X"}}}
    system.write_text(yaml.safe_dump(others))
    system.chmod(0o640)
    settings = ServerSettings(state_dir=tmp_path / "state", port=9003)
    write_client_files(settings, "pw", install_system_wide=True, system_clouds_file=system)
    data = yaml.safe_load(system.read_text())
    assert data["clouds"]["prod"] == others["clouds"]["prod"]
    assert data["clouds"]["neutrino"]["auth"]["password"] == "pw"
    assert _mode(system) == 0o640
    write_client_files(settings.model_copy(update={"port": 9004}), None, install_system_wide=True, system_clouds_file=system)
    data = yaml.safe_load(system.read_text())
    assert data["clouds"]["neutrino"]["auth"]["auth_url"] == "http://127.0.0.1:9004/identity/v3"
    assert data["clouds"]["prod"] == others["clouds"]["prod"]

    # not asked to: the system file is left alone
    untouched = tmp_path / "etc2" / "clouds.yaml"
    write_client_files(settings, "pw", install_system_wide=False, system_clouds_file=untouched)
    assert not untouched.exists()


# --- the command line --------------------------------------------------------------------------


def test_identity_cli(tmp_path: Path) -> None:
    from neutrino.cli.identity import identity

    runner = CliRunner()
    store = ["--state-dir", str(tmp_path)]

    def run(*args: str) -> Any:
        result = runner.invoke(identity, [*args, *store, "--json"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        import orjson

        return orjson.loads(result.stdout)

    assert run("project", "create", "cli-proj", "--description", "d")["name"] == "cli-proj"
    assert {p["name"] for p in run("project", "list")} == {"admin", "cli-proj"}
    created = run("user", "create", "cli-user", "--password", "pw", "--project", "cli-proj")
    assert created["roles"] == "member"
    run("role", "add", "--user", "cli-user", "--project", "cli-proj", "reader")
    grants = run("role", "assignments", "--user", "cli-user")
    assert sorted(g["role"] for g in grants) == ["member", "reader"]
    run("role", "remove", "--user", "cli-user", "--project", "cli-proj", "reader")
    assert [g["role"] for g in run("role", "assignments", "--user", "cli-user")] == ["member"]
    assert [r["name"] for r in run("role", "list")] == ["admin", "member", "reader"]
    assert run("user", "delete", "cli-user")["deleted"] is True
    assert run("project", "delete", "cli-proj")["deleted"] is True
    failed = runner.invoke(identity, ["project", "delete", "nope", *store])
    assert failed.exit_code == 1 and "Could not find project: nope" in failed.output
    assert (tmp_path / "clouds.yaml").exists()  # the store was seeded, with client files
    table = runner.invoke(identity, ["user", "list", *store])
    assert table.exit_code == 0 and "admin" in table.output


# --- real clients over HTTP ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServerSettings]:
    """The identity app served by uvicorn on a free port, in a thread."""
    settings = ServerSettings(state_dir=tmp_path, port=_free_port(), admin_password=ADMIN_PASSWORD)
    app, _sessions, _tokens = build_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=settings.port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30  # bounds a failure only
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield settings
    finally:
        server.should_exit = True
        thread.join(10)


def test_keystoneauth_session(served: ServerSettings) -> None:
    from keystoneauth1 import session as ks_session
    from keystoneauth1.identity import v3

    auth = v3.Password(
        auth_url=f"{served.url}/identity/v3",
        username="admin",
        password=ADMIN_PASSWORD,
        project_name="admin",
        user_domain_name="Default",
        project_domain_name="Default",
    )
    sess = ks_session.Session(auth=auth)
    assert sess.get_token()
    assert sess.get_endpoint(service_type="network", interface="public") == served.url
    assert sess.get_endpoint(service_type="network", interface="public", region_name="RegionOne") == served.url
    assert sess.get_project_id()


@pytest.mark.clients
def test_openstacksdk_identity_calls(served: ServerSettings) -> None:
    import openstack

    conn = openstack.connect(
        auth_url=f"{served.url}/identity/v3",
        username="admin",
        password=ADMIN_PASSWORD,
        project_name="admin",
        user_domain_name="Default",
        project_domain_name="Default",
        region_name="RegionOne",
        identity_api_version="3",
    )
    try:
        project = conn.identity.create_project(name="sdk-project", domain_id="default")
        assert conn.identity.find_project("sdk-project").id == project.id
        user = conn.identity.create_user(name="sdk-user", password="pw", default_project_id=project.id)
        member = conn.identity.find_role("member")
        conn.identity.assign_project_role_to_user(project, user, member)
        assert conn.identity.validate_user_has_project_role(project, user, member)
        assert {r.name for r in conn.identity.roles()} == {"admin", "member", "reader"}
    finally:
        conn.close()


@pytest.mark.clients
@pytest.mark.skipif(shutil.which("openstack") is None and not Path(".venv/bin/openstack").exists(), reason="no openstack CLI")
def test_openstack_cli_with_the_written_clouds_yaml(served: ServerSettings, tmp_path: Path) -> None:
    write_client_files(served, ADMIN_PASSWORD)
    cli = shutil.which("openstack") or str(Path(".venv/bin/openstack").resolve())
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(served.state_dir / "clouds.yaml"), "OS_CLOUD": "neutrino"}
    env = {k: v for k, v in env.items() if not k.startswith("OS_") or k in ("OS_CLIENT_CONFIG_FILE", "OS_CLIENT_SECURE_FILE", "OS_CLOUD")}

    def osc(*args: str) -> str:
        done = subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "expires" in osc("token", "issue", "-f", "json")
    osc("project", "create", "osc-project")
    osc("user", "create", "--password", "pw", "osc-user")
    osc("role", "add", "--user", "osc-user", "--project", "osc-project", "member")
    import json

    grants = json.loads(osc("role", "assignment", "list", "--names", "--user", "osc-user", "-f", "json"))
    assert [(g["Role"], g["Project"]) for g in grants] == [("member", "osc-project@Default")]
