"""Schema-driven fuzzing: no request generated from the served OpenAPI document gets a 5xx.

Schemathesis reads ``/openapi.json`` (request bodies derived from the attribute maps) and
sends generated requests, valid and invalid, through the ASGI app; any 5xx fails the test.
Identity paths are fuzzed twice: with an invalid token (the 401 path) and, on a server with
keystone auth, with the admin's valid token, so that the handlers behind the 401 are reached.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import make_settings

pytestmark = pytest.mark.api

_tmp = tempfile.TemporaryDirectory(prefix="neutrino-fuzz-")


def _app():  # type: ignore[no-untyped-def]
    from neutrino.server import build

    return build(make_settings(Path(_tmp.name)), write_files=False).app


APP = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)

_ks_tmp = tempfile.TemporaryDirectory(prefix="neutrino-fuzz-ks-")
ADMIN_PASSWORD = "fuzz-admin-pw"


def _keystone_app_and_token():  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from neutrino.server import build

    app = build(make_settings(Path(_ks_tmp.name), auth="keystone", admin_password=ADMIN_PASSWORD), write_files=False).app
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "password": ADMIN_PASSWORD, "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}  # fmt: skip
    with TestClient(app) as client:
        response = client.post("/identity/v3/auth/tokens", json=body)
    assert response.status_code == 201, response.text
    return app, response.headers["X-Subject-Token"]


KS_APP, ADMIN_TOKEN = _keystone_app_and_token()
identity_schema = schemathesis.openapi.from_asgi("/openapi.json", KS_APP).include(path_regex="^/identity")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors(case):  # type: ignore[no-untyped-def]
    if case.path.startswith("/identity"):
        case.headers = {**(case.headers or {}), "X-Auth-Token": "not-a-token"}
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text}"


@identity_schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_identity_with_a_valid_token_no_server_errors(case):  # type: ignore[no-untyped-def]
    case.headers = {**(case.headers or {}), "X-Auth-Token": ADMIN_TOKEN}
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text}"
