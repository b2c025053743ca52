"""``GET /v2.0/availability_zones`` (availability_zone extension): the zones agents report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from neutrino.api import respond
from neutrino.api.auth import context_for
from neutrino.api.query import select_fields
from neutrino.api.routes.common import fields_of, in_transaction
from neutrino.domain.services import availability_zones

router = APIRouter(tags=["availability_zones"])

FILTERS = ("name", "resource", "state")


@router.get("/v2.0/availability_zones", name="list_availability_zones")
async def list_zones(request: Request) -> Response:
    context_for(request)
    fields = fields_of(request)
    filters: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key in FILTERS:
            filters.setdefault(key, []).append(value)

    def work(session: Session) -> list[dict[str, Any]]:
        return availability_zones.list_zones(session, filters)

    found = await in_transaction(request, work, readonly=True)
    return respond.json({"availability_zones": [select_fields(d, fields) for d in found]})
