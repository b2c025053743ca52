"""The app serves its routers' routes as they were built (no second copy per route)."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from neutrino.api.app import _add_routes

pytestmark = pytest.mark.unit


def _router(tag: str) -> APIRouter:
    router = APIRouter(tags=[tag])

    @router.get("/v2.0/things/{thing_id}")
    def show(thing_id: str) -> dict[str, str]:
        return {"id": thing_id, "tag": tag}

    return router


def test_routes_are_the_routers_own_objects_in_order() -> None:
    app = FastAPI()
    first, second = _router("first"), _router("second")
    _add_routes(app, first)
    _add_routes(app, second)
    added = [r for r in app.router.routes if r in first.routes or r in second.routes]
    assert added == [*first.routes, *second.routes]
    with TestClient(app) as client:  # the first router's route matches first, as with include_router
        assert client.get("/v2.0/things/a").json() == {"id": "a", "tag": "first"}


def test_a_router_that_includes_another_is_included() -> None:
    outer = APIRouter()
    outer.include_router(_router("inner"), prefix="/inner")
    app = FastAPI()
    _add_routes(app, outer)
    with TestClient(app) as client:
        assert client.get("/inner/v2.0/things/b").json() == {"id": "b", "tag": "inner"}
