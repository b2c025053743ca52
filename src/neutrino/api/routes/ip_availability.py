"""``GET /v2.0/network-ip-availabilities[/{network_id}]`` (network-ip-availability, admin only)."""

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
from neutrino.domain.services import ip_availability

router = APIRouter(tags=["network_ip_availabilities"])


@router.get("/v2.0/network-ip-availabilities", name="list_network_ip_availabilities")
async def list_availabilities(request: Request) -> Response:
    ctx = context_for(request)
    fields = fields_of(request)
    filters: dict[str, list[Any]] = {}
    for key, value in request.query_params.multi_items():
        if key in ip_availability.FILTERS:
            filters.setdefault(key, []).append(int(value) if key == "ip_version" and value.isdigit() else value)

    def work(session: Session) -> list[dict[str, Any]]:
        return ip_availability.list_(session, ctx, filters)

    found = await in_transaction(request, work, readonly=True)
    return respond.json({"network_ip_availabilities": [select_fields(d, fields) for d in found]})


@router.get("/v2.0/network-ip-availabilities/{network_id}", name="show_network_ip_availability")
async def show_availability(request: Request, network_id: str) -> Response:
    ctx = context_for(request)
    fields = fields_of(request)

    def work(session: Session) -> dict[str, Any]:
        return ip_availability.show(session, ctx, network_id)

    found = await in_transaction(request, work, readonly=True)
    return respond.json({"network_ip_availability": select_fields(found, fields)})
