"""``/v2.0/routers/{router_id}/conntrack_helpers``: a sub-resource of a router
(l3-conntrack-helper): list, show, create, update, delete, with the router's id in the path.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from neutrino.api import body, respond, validators
from neutrino.api.attributes import REQUIRED, Attr, ResourceSpec
from neutrino.api.auth import context_for, state_of
from neutrino.api.query import page_links, parse_list_query, select_fields
from neutrino.api.routes.common import fields_of, in_transaction
from neutrino.api.routes.port_forwardings import convert_protocol
from neutrino.domain.l3.conntrack_helpers import PROTOCOLS
from neutrino.domain.services import conntrack_helpers

CONNTRACK_HELPER = ResourceSpec(
    "conntrack_helper",
    "conntrack_helpers",
    "routers/{router_id}/conntrack_helpers",
    {
        a.name: a
        for a in (
            Attr("id", validate=validators.validate_uuid),
            Attr("project_id", post=True, visible=False, filter=False, sort=False,
                 validate=validators.validate_string, validate_arg=255),
            Attr("tenant_id", post=True, visible=False, filter=False, sort=False,
                 validate=validators.validate_string, validate_arg=255),
            Attr("protocol", post=True, put=True, default=REQUIRED, convert=convert_protocol,
                 validate=validators.validate_values, validate_arg=list(PROTOCOLS)),
            Attr("port", post=True, put=True, default=REQUIRED, convert=validators.convert_to_int,
                 validate=validators.validate_range, validate_arg=(1, 65535), json_type="integer"),
            Attr("helper", post=True, put=True, default=REQUIRED, validate=validators.validate_string, validate_arg=64),
        )
    },
    allow_bulk=False,
)

router = APIRouter(tags=["conntrack_helpers"])
_BASE = "/v2.0/routers/{router_id}/conntrack_helpers"
_ITEM = _BASE + "/{helper_id}"


@router.get(_BASE, name="list_conntrack_helpers")
async def list_items(request: Request, router_id: str) -> Response:
    ctx, state = context_for(request), state_of(request)
    items = list(request.query_params.multi_items())
    q, fields = parse_list_query(CONNTRACK_HELPER, items, max_limit=state.settings.pagination_max_limit)

    def work(session: Session) -> list[dict[str, Any]]:
        rows = conntrack_helpers.list_(session, ctx, router_id, q)
        if q.page_reverse:
            rows.reverse()
        return conntrack_helpers.render(rows)

    found = await in_transaction(request, work, readonly=True)
    out: dict[str, Any] = {"conntrack_helpers": [select_fields(d, fields) for d in found]}
    if q.limit:
        out["conntrack_helpers_links"] = page_links(f"{state.settings.url}{_BASE.format(router_id=router_id)}", items, q, found)
    return respond.json(out)


@router.get(_ITEM, name="show_conntrack_helper")
async def show_item(request: Request, router_id: str, helper_id: str) -> Response:
    ctx, fields = context_for(request), fields_of(request)

    def work(session: Session) -> dict[str, Any]:
        return conntrack_helpers.render([conntrack_helpers.get(session, ctx, router_id, helper_id)])[0]

    return respond.json({"conntrack_helper": select_fields(await in_transaction(request, work, readonly=True), fields)})


@router.post(_BASE, name="create_conntrack_helper", status_code=201)
async def create_item(request: Request, router_id: str) -> Response:
    ctx, cfg = context_for(request), state_of(request).domain
    parsed, _bulk = body.parse_create(CONNTRACK_HELPER, await request.body(), ctx)

    def work(session: Session) -> dict[str, Any]:
        return conntrack_helpers.render([conntrack_helpers.create(session, ctx, cfg, router_id, parsed[0])])[0]

    return respond.json({"conntrack_helper": await in_transaction(request, work)}, status=201)


@router.put(_ITEM, name="update_conntrack_helper")
async def update_item(request: Request, router_id: str, helper_id: str) -> Response:
    ctx, cfg = context_for(request), state_of(request).domain
    changes = body.parse_update(CONNTRACK_HELPER, await request.body())

    def work(session: Session) -> dict[str, Any]:
        return conntrack_helpers.render([conntrack_helpers.update(session, ctx, cfg, router_id, helper_id, changes)])[0]

    return respond.json({"conntrack_helper": await in_transaction(request, work)})


@router.delete(_ITEM, name="delete_conntrack_helper", status_code=204)
async def delete_item(request: Request, router_id: str, helper_id: str) -> Response:
    ctx, cfg = context_for(request), state_of(request).domain
    await in_transaction(request, lambda s: conntrack_helpers.delete(s, ctx, cfg, router_id, helper_id))
    return respond.empty()
