"""``/v2.0/subnetpools`` (with tags and subnetpool-prefix-ops) and ``/v2.0/address-scopes``.

CRUD comes from the generic builder in ``resources``; the two member actions of
``subnetpool-prefix-ops`` are here: ``PUT /v2.0/subnetpools/{id}/add_prefixes`` and
``remove_prefixes`` take ``{"prefixes": [...]}`` and answer the pool's prefixes after the
change (200), as Neutron does.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from neutrino import errors
from neutrino.api import body, respond
from neutrino.api.auth import context_for, state_of
from neutrino.api.ipam_attributes import ADDRESS_SCOPE, SUBNETPOOL
from neutrino.api.routes import resources, tags
from neutrino.api.routes.common import in_transaction
from neutrino.api.validators import validate_subnet
from neutrino.domain.services import address_scopes, subnet_pools

_PREFIXES_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object",
            "properties": {"prefixes": {"type": "array", "items": {"type": "string"}}},
            "required": ["prefixes"],
        }}},
    }
}


def _prefixes(raw: bytes) -> list[str]:
    data = body.load_json(raw)
    found = data.get("prefixes") if isinstance(data, dict) else None
    if not found or not isinstance(found, list):
        raise errors.HTTPBadRequest(msg="Request body contains invalid data")
    for prefix in found:
        reason = validate_subnet(prefix)
        if reason:
            raise errors.HTTPBadRequest(msg=f"Invalid input for prefixes. Reason: {reason}.")
    return found


def _prefix_ops_router() -> APIRouter:
    router = APIRouter(tags=["subnetpools"])
    base = "/v2.0/subnetpools/{resource_id}"

    async def act(request: Request, resource_id: str, add: bool) -> Response:
        ctx = context_for(request)
        cfg = state_of(request).domain
        given = _prefixes(await request.body())
        action = subnet_pools.add_prefixes if add else subnet_pools.remove_prefixes

        def work(session: Session) -> list[str]:
            return action(session, ctx, cfg, resource_id, given)

        found: Any = await in_transaction(request, work)
        return respond.json({"prefixes": found})

    @router.put(base + "/add_prefixes", name="add_subnetpool_prefixes", openapi_extra=_PREFIXES_BODY)
    async def add_prefixes(request: Request, resource_id: str) -> Response:
        return await act(request, resource_id, True)

    @router.put(base + "/remove_prefixes", name="remove_subnetpool_prefixes", openapi_extra=_PREFIXES_BODY)
    async def remove_prefixes(request: Request, resource_id: str) -> Response:
        return await act(request, resource_id, False)

    return router


def build_routers() -> list[APIRouter]:
    return [
        resources.build_router(SUBNETPOOL, subnet_pools),
        tags.build_router(SUBNETPOOL, subnet_pools),
        _prefix_ops_router(),
        resources.build_router(ADDRESS_SCOPE, address_scopes),
    ]
