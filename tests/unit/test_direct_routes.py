"""Routes whose handler needs nothing of FastAPI's request handling are called directly, and
answer as before: path ids, errors through the exception handlers, the same OpenAPI document."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.responses import JSONResponse, Response

from neutrino.api.direct import direct_handler, serve_directly

pytestmark = pytest.mark.unit


class Refused(Exception):
    pass


def _app() -> FastAPI:
    router = APIRouter()

    @router.get("/things/{thing_id}/parts/{part_id}")
    async def show_part(request: Request, thing_id: str, part_id: str) -> Response:
        return JSONResponse({"thing": thing_id, "part": part_id, "q": request.query_params.get("q")})

    @router.post("/things", status_code=201)
    async def create(request: Request) -> Response:
        body = await request.body()
        if body == b"refuse":
            raise Refused()
        return JSONResponse({"got": body.decode()}, status_code=201)

    @router.get("/counted/{n}")
    async def typed(request: Request, n: int) -> Response:  # not text: FastAPI converts it
        return JSONResponse({"n": n})

    @router.get("/plain")
    async def plain() -> dict[str, str]:  # returns data for FastAPI to serialise
        return {"plain": "yes"}

    @router.get("/with-dep")
    async def with_dep(request: Request, user: str = Depends(lambda: "u")) -> Response:
        return JSONResponse({"user": user})

    @router.get("/sync/{x}")
    def sync(request: Request, x: str) -> Response:  # FastAPI runs it in a thread
        return JSONResponse({"x": x})

    app = FastAPI()
    app.router.routes.extend(router.routes)
    app.add_exception_handler(Refused, lambda _r, _e: JSONResponse({"refused": True}, status_code=409))
    return app


def _route(app: FastAPI, name: str) -> APIRoute:
    return next(r for r in app.router.routes if isinstance(r, APIRoute) and r.name == name)


def test_only_routes_that_need_nothing_of_fastapi_qualify() -> None:
    app = _app()
    assert direct_handler(_route(app, "show_part")) is not None
    assert direct_handler(_route(app, "create")) is not None
    for name in ("typed", "plain", "with_dep", "sync"):
        assert direct_handler(_route(app, name)) is None, name
    assert serve_directly(app.router.routes) == 2


def test_direct_routes_answer_as_before() -> None:
    before = _app()
    after = _app()
    serve_directly(after.router.routes)
    assert after.openapi() == before.openapi()
    for app in (before, after):
        with TestClient(app) as client:
            got = client.get("/things/a%20b/parts/p1?q=z")
            assert (got.status_code, got.json()) == (200, {"thing": "a b", "part": "p1", "q": "z"})
            assert client.post("/things", content=b"x").json() == {"got": "x"}
            refused = client.post("/things", content=b"refuse")  # the app's exception handler
            assert (refused.status_code, refused.json()) == (409, {"refused": True})
            assert client.get("/counted/7").json() == {"n": 7}
            assert client.get("/counted/seven").status_code == 422
            assert client.get("/plain").json() == {"plain": "yes"}
            assert client.get("/with-dep").json() == {"user": "u"}
            assert client.get("/sync/s").json() == {"x": "s"}
