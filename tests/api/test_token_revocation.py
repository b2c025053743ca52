"""``DELETE /identity/v3/auth/tokens`` revokes the token: the network API and token validation
refuse it afterwards, other tokens of the same user keep working (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings

pytestmark = pytest.mark.api

PASSWORD = "secret-admin"
TOKENS = "/identity/v3/auth/tokens"


@pytest.fixture
def keystone_client(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    from neutrino.server import build

    settings = make_settings(tmp_path, database_url=database_url, auth="keystone", admin_password=PASSWORD)
    built = build(settings, write_files=False)
    with TestClient(built.app, raise_server_exceptions=False) as client:
        yield client
    built.state.close()


def _token(client: TestClient) -> str:
    user = {"name": "admin", "domain": {"id": "default"}, "password": PASSWORD}
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": user}},
                     "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    r = client.post(TOKENS, json=body)
    assert r.status_code == 201, r.text
    return r.headers["X-Subject-Token"]


def test_deleted_token_is_refused(keystone_client: TestClient) -> None:
    doomed, kept = _token(keystone_client), _token(keystone_client)
    assert keystone_client.get("/v2.0/networks", headers={"X-Auth-Token": doomed}).status_code == 200
    both = {"X-Auth-Token": kept, "X-Subject-Token": doomed}
    assert keystone_client.delete(TOKENS, headers=both).status_code == 204
    assert keystone_client.get("/v2.0/networks", headers={"X-Auth-Token": doomed}).status_code == 401
    assert keystone_client.get(TOKENS, headers=both).status_code == 404
    assert keystone_client.delete(TOKENS, headers=both).status_code == 404
    assert keystone_client.get("/v2.0/networks", headers={"X-Auth-Token": kept}).status_code == 200
    # a token may revoke itself; it is refused at once
    self_revoke = {"X-Auth-Token": kept, "X-Subject-Token": kept}
    assert keystone_client.delete(TOKENS, headers=self_revoke).status_code == 204
    assert keystone_client.get("/v2.0/networks", headers={"X-Auth-Token": kept}).status_code == 401


def test_identity_refuses_long_and_nul_input_on_every_backend(keystone_client: TestClient) -> None:
    admin = {"X-Auth-Token": _token(keystone_client)}
    long_name = "x" * 300
    for path, key, body in (
        ("/identity/v3/projects", "project", {"name": "p" * 65}),
        ("/identity/v3/projects", "project", {"name": "ok", "description": long_name}),
        ("/identity/v3/users", "user", {"name": long_name, "password": "pw"}),
        ("/identity/v3/users", "user", {"name": "u\x00", "password": "pw"}),
    ):
        r = keystone_client.post(path, json={key: body}, headers=admin)
        assert r.status_code == 400 and "error" in r.json(), (body, r.text)
    r = keystone_client.get("/identity/v3/projects", params={"name": long_name}, headers=admin)
    assert r.status_code == 200 and r.json()["projects"] == []
    r = keystone_client.get("/identity/v3/projects", params={"name": "a\x00"}, headers=admin)
    assert r.status_code == 400 and r.json()["error"]["code"] == 400
