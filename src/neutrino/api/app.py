"""The ASGI application: network API v2.0 and the identity service in one process."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from neutrino import __version__, errors
from neutrino.api import faults
from neutrino.api import metrics as api_metrics
from neutrino.api.attributes import NETWORK, PORT, RBAC_POLICY, SUBNET
from neutrino.api.auth import Unauthenticated
from neutrino.api.direct import serve_directly
from neutrino.api.identity import ROUTERS as IDENTITY_ROUTERS
from neutrino.api.input_guard import RejectNulInUrl
from neutrino.api.routes import discovery, quotas, resources, tags
from neutrino.api.routes import security_groups
from neutrino.api.routes import subnet_pools as subnet_pool_routes
from neutrino.api.routes import address_groups as address_group_routes
from neutrino.api.routes import agents as agent_routes
from neutrino.api.routes import bus as bus_routes
from neutrino.api.routes import topology as topology_routes
from neutrino.api.routes import trace as trace_routes
from neutrino.api.routes import audit as audit_routes
from neutrino.api.routes import segments as segment_routes
from neutrino.api.routes import availability_zones, ip_availability
from neutrino.api.background import lifespan
from neutrino.api.state import AppState
from neutrino.api.security_attributes import NETWORK_SEGMENT_RANGE
from neutrino.domain.services import extensions, networks, ports, rbac_policies, segment_ranges, subnets

LOG = logging.getLogger(__name__)

_STATUS_TYPES = {404: "HTTPNotFound", 405: "HTTPMethodNotAllowed", 400: "HTTPBadRequest"}


class JsonSuffix:
    """Neutron accepts ``/v2.0/networks.json``; the SDK sends it for some calls (quotas)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.endswith(".json") and path.startswith("/v2.0"):
                scope = dict(scope)
                scope["path"] = path[: -len(".json")]
                scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


def _http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    type_ = _STATUS_TYPES.get(exc.status_code, "HTTPError")
    message = "The resource could not be found." if exc.status_code == 404 else str(exc.detail)
    return faults.fault_response(exc.status_code, type_, message)


def _validation_error(_request: Request, exc: Exception) -> Response:
    return faults.fault_response(400, "HTTPBadRequest", f"Invalid request: {exc}")


def _unauthenticated(_request: Request, _exc: Exception) -> Response:
    return faults.unauthorized_response()


def _add_routes(app: FastAPI, router: APIRouter) -> None:
    """Put ``router``'s routes on the app itself, in order, instead of ``app.include_router``.

    FastAPI's ``include_router`` keeps the router and, the first time a request's path is
    matched against it, builds a second copy of each of its routes (dependencies, response
    field, handler) for the including app: about 2 MiB of the server's resident size for our
    few hundred routes (measured with tracemalloc under bench/api.py). A router added with no
    prefix, tags or dependencies of its own gives the same route either way, so the app serves
    the routes already built. A router that includes another (a plugin's may) is included."""
    if all(isinstance(route, APIRoute) for route in router.routes):
        app.router.routes.extend(router.routes)
    else:
        app.include_router(router)


def create_app(state: AppState) -> Any:
    app = FastAPI(
        title="neutrino",
        version=__version__,
        description="OpenStack Networking API v2.0 and a Keystone v3 subset",
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
        # no OpenTelemetry here (the server's metrics are Prometheus, /metrics): without this
        # FastAPI asks OpenTelemetry's global providers at every request whether to trace it
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.neutrino = state
    app.add_exception_handler(errors.NeutronError, faults.neutron_error_handler)
    app.add_exception_handler(Unauthenticated, _unauthenticated)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, faults.unexpected_error_handler)

    _add_routes(app, discovery.router)
    extra_filters = {
        "networks": extensions.filter_names(state.domain.network_extensions),
        "ports": extensions.filter_names(state.domain.port_extensions),
    }
    for spec, service in ((NETWORK, networks), (SUBNET, subnets), (PORT, ports)):
        added = {a.name: a for p in state.service_plugins for a in p.attributes().get(spec.collection, [])}
        if added:  # a plugin's attributes (qos_policy_id) are accepted only where it is loaded
            spec = dataclasses.replace(spec, attrs={**spec.attrs, **added})
        _add_routes(app, resources.build_router(spec, service, extra_filters.get(spec.collection, frozenset())))
        _add_routes(app, tags.build_router(spec, service))
    _add_routes(app, resources.build_router(RBAC_POLICY, rbac_policies))
    for router in [*security_groups.build_routers(), *address_group_routes.build_routers()]:
        _add_routes(app, router)
    for router in subnet_pool_routes.build_routers():
        _add_routes(app, router)
    for plugin in state.service_plugins:
        for router in plugin.routers():
            _add_routes(app, router)
    _add_routes(app, quotas.router)
    _add_routes(app, agent_routes.router)
    _add_routes(app, segment_routes.router)
    _add_routes(app, resources.build_router(NETWORK_SEGMENT_RANGE, segment_ranges))
    _add_routes(app, ip_availability.router)
    _add_routes(app, availability_zones.router)
    _add_routes(app, bus_routes.router)
    _add_routes(app, trace_routes.router)
    _add_routes(app, topology_routes.router)
    _add_routes(app, audit_routes.router)
    for router in IDENTITY_ROUTERS:
        _add_routes(app, router)
    _add_routes(app, api_metrics.router)
    serve_directly(app.router.routes)
    if state.metrics is not None:
        app.add_middleware(api_metrics.ObserveLatency, metrics=state.metrics)
    app.add_middleware(RejectNulInUrl)
    return JsonSuffix(app)
