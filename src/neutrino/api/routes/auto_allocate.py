"""``GET`` / ``DELETE /v2.0/auto-allocated-topology/{project_id}`` (auto-allocated-topology).

``?fields=dry-run`` only checks that a topology could be built; any other ``fields`` is 400.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from neutrino import errors
from neutrino.api import respond
from neutrino.api.auth import context_for, state_of
from neutrino.api.routes.common import fields_of, in_transaction
from neutrino.domain.services import auto_allocate

router = APIRouter(tags=["auto_allocated_topology"])
_PATH = "/v2.0/auto-allocated-topology/{project_id}"


@router.get(_PATH, name="show_auto_allocated_topology")
async def show(request: Request, project_id: str) -> Response:
    ctx = context_for(request)
    cfg = state_of(request).domain
    fields = fields_of(request)
    dry_run = auto_allocate.DRY_RUN in fields
    if fields and not dry_run:
        raise errors.BadRequest(resource="auto_allocate", msg="Unrecognized field")

    def work(session: Session) -> dict[str, Any]:
        return auto_allocate.get(session, ctx, cfg, project_id, dry_run=dry_run)

    found = await in_transaction(request, work)
    return respond.json({"auto_allocated_topology": found})


@router.delete(_PATH, name="delete_auto_allocated_topology", status_code=204)
async def delete(request: Request, project_id: str) -> Response:
    ctx = context_for(request)
    cfg = state_of(request).domain

    def work(session: Session) -> None:
        auto_allocate.delete(session, ctx, cfg, project_id)

    await in_transaction(request, work)
    return respond.empty()
