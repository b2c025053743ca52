"""Router member actions: ``PUT /v2.0/routers/{id}/add_router_interface`` and
``remove_router_interface`` (interface info in, interface info out, 200) and extraroute-atomic's
``add_extraroutes`` / ``remove_extraroutes`` (``{"router": {"routes": [...]}}`` in, the router
out). The router and floating IP CRUD routes come from the generic builder in ``resources``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from neutrino import errors
from neutrino.api import body, l3_validators, respond
from neutrino.api.auth import context_for, state_of
from neutrino.api.routes.common import in_transaction
from neutrino.domain.services import router_interfaces, routers

router = APIRouter(tags=["routers"])
_BASE = "/v2.0/routers/{resource_id}"


def _schema(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


_INTERFACE_BODY = _schema({"subnet_id": {"type": "string"}, "port_id": {"type": "string"}})
_ROUTE = {
    "type": "object",
    "properties": {"destination": {"type": "string"}, "nexthop": {"type": "string"}},
    "required": ["destination", "nexthop"],
}
_ROUTES_BODY = _schema(
    {"router": {"type": "object", "properties": {"routes": {"type": "array", "items": _ROUTE}}, "required": ["routes"]}},
    ["router"],
)


def _interface_ids(raw: bytes) -> tuple[str | None, str | None]:
    try:
        return l3_validators.interface_info(body.load_json(raw))
    except ValueError as exc:
        raise errors.BadRequest(resource="router", msg=str(exc)) from None


async def _interface_action(request: Request, resource_id: str, *, add: bool) -> Response:
    ctx = context_for(request)
    cfg = state_of(request).domain
    port_id, subnet_id = _interface_ids(await request.body())
    action = router_interfaces.add if add else router_interfaces.remove

    def work(session: Session) -> dict[str, Any]:
        return action(session, ctx, cfg, resource_id, port_id=port_id, subnet_id=subnet_id)

    return respond.json(await in_transaction(request, work))


@router.put(_BASE + "/add_router_interface", name="add_router_interface", openapi_extra=_INTERFACE_BODY)
async def add_router_interface(request: Request, resource_id: str) -> Response:
    return await _interface_action(request, resource_id, add=True)


@router.put(_BASE + "/remove_router_interface", name="remove_router_interface", openapi_extra=_INTERFACE_BODY)
async def remove_router_interface(request: Request, resource_id: str) -> Response:
    return await _interface_action(request, resource_id, add=False)


async def _routes_action(request: Request, resource_id: str, *, add: bool) -> Response:
    ctx = context_for(request)
    cfg = state_of(request).domain
    try:
        wanted = l3_validators.extraroutes(body.load_json(await request.body()))
    except ValueError as exc:
        raise body.bad(str(exc)) from None

    def work(session: Session) -> dict[str, Any]:
        row = routers.change_routes(session, ctx, cfg, resource_id, wanted, add=add)
        return routers.render(session, cfg, [row])[0]

    return respond.json({"router": await in_transaction(request, work)})


@router.put(_BASE + "/add_extraroutes", name="add_extraroutes", openapi_extra=_ROUTES_BODY)
async def add_extraroutes(request: Request, resource_id: str) -> Response:
    return await _routes_action(request, resource_id, add=True)


@router.put(_BASE + "/remove_extraroutes", name="remove_extraroutes", openapi_extra=_ROUTES_BODY)
async def remove_extraroutes(request: Request, resource_id: str) -> Response:
    return await _routes_action(request, resource_id, add=False)
