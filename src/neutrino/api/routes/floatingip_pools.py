"""``GET /v2.0/floatingip-pools``: read-only, listed by the router plugin (floatingip-pools).

Neutron builds the path from the collection name with ``_`` turned into ``-`` (its clients and
tempest use ``floatingip-pools``); the API reference spells it ``floatingip_pools``: both work.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from neutrino import errors
from neutrino.api import respond
from neutrino.api.auth import context_for
from neutrino.api.query import select_fields
from neutrino.api.routes.common import fields_of, in_transaction
from neutrino.domain.services import floatingip_pools

router = APIRouter(tags=["floatingip_pools"])
FILTERS = ("subnet_id", "subnet_name", "network_id", "cidr", "project_id", "tenant_id")


@router.get("/v2.0/floatingip_pools", name="list_floatingip_pools_underscore", include_in_schema=False)
@router.get("/v2.0/floatingip-pools", name="list_floatingip_pools")
async def list_pools(request: Request) -> Response:
    ctx = context_for(request)
    fields = fields_of(request)
    wanted: dict[str, set[str]] = {}
    for key, value in request.query_params.multi_items():
        if key == "fields":
            continue
        if key not in FILTERS:
            raise errors.HTTPBadRequest(msg=f"[{key}] is invalid attribute for filtering")
        wanted.setdefault(key, set()).add(value)

    def work(session: Session) -> list[dict[str, Any]]:
        return floatingip_pools.list_(session, ctx)

    pools = await in_transaction(request, work, readonly=True)
    pools = [p for p in pools if all(str(p[k]) in values for k, values in wanted.items())]
    return respond.json({"floatingip_pools": [select_fields(p, fields) for p in pools]})
