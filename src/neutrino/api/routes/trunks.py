"""``/v2.0/trunks`` (the generic resource routes) and the trunk member actions:
``PUT .../add_subports`` and ``PUT .../remove_subports`` (``{"sub_ports": [...]}`` in, the
trunk out, unwrapped as Neutron answers member actions) and ``GET .../get_subports``
(``{"sub_ports": [...]}``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from neutrino.api import body, respond, validators
from neutrino.api.attributes import NOT_SPECIFIED, REQUIRED, Attr, ResourceSpec, _bool, _name, _standard
from neutrino.api.auth import context_for, state_of
from neutrino.api.routes.common import in_transaction
from neutrino.domain.services import trunks
from neutrino.domain.trunks import rules

TRUNK = ResourceSpec(
    "trunk",
    "trunks",
    "trunks",
    {
        a.name: a
        for a in (
            *_standard(),
            _name(),
            _bool("admin_state_up", True),
            Attr("port_id", post=True, default=REQUIRED, validate=validators.validate_uuid),
            Attr("status", filter=False),
            Attr("sub_ports", post=True, default=[], validate=rules.validate_subports, filter=False, sort=False,
                 json_type="array"),
        )
    },
    tag_type="trunk",
)
assert TRUNK.attrs["name"].default is not NOT_SPECIFIED

router = APIRouter(tags=["trunks"])
_BASE = "/v2.0/trunks/{resource_id}"
_SUBPORTS_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": {"sub_ports": {"type": "array", "items": {"type": "object"}}},
        "required": ["sub_ports"],
    }}}},
}


async def _subports_action(request: Request, resource_id: str, *, add: bool) -> Response:
    ctx = context_for(request)
    cfg = state_of(request).domain
    parsed = body.load_json(await request.body())
    action = trunks.add_subports if add else trunks.remove_subports

    def work(session: Session) -> dict[str, Any]:
        trunk = action(session, ctx, cfg, resource_id, parsed)
        return trunks.render(session, cfg, [trunk])[0]

    return respond.json(await in_transaction(request, work))


@router.put(_BASE + "/add_subports", name="add_subports", openapi_extra=_SUBPORTS_BODY)
async def add_subports(request: Request, resource_id: str) -> Response:
    return await _subports_action(request, resource_id, add=True)


@router.put(_BASE + "/remove_subports", name="remove_subports", openapi_extra=_SUBPORTS_BODY)
async def remove_subports(request: Request, resource_id: str) -> Response:
    return await _subports_action(request, resource_id, add=False)


@router.get(_BASE + "/get_subports", name="get_subports")
async def get_subports(request: Request, resource_id: str) -> Response:
    ctx = context_for(request)

    def work(session: Session) -> list[dict[str, Any]]:
        return trunks.get_subports(session, ctx, resource_id)

    return respond.json({"sub_ports": await in_transaction(request, work, readonly=True)})
