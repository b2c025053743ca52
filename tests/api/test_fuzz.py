"""Schema-driven fuzzing: no request generated from the served OpenAPI document gets a 5xx.

Schemathesis reads ``/openapi.json`` (request bodies derived from the attribute maps) and
sends generated requests, valid and invalid, through the ASGI app; any 5xx fails the test.
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


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors(case):  # type: ignore[no-untyped-def]
    if case.path.startswith("/identity"):
        case.headers = {**(case.headers or {}), "X-Auth-Token": "not-a-token"}
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text}"
