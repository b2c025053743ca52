"""``/v2.0/floatingips/{floatingip_id}/port_forwardings``: a sub-resource of a floating IP
(floating-ip-port-forwarding, with its -description and -port-ranges attributes).

Same list, show, create (single or bulk), update and delete semantics as the top-level
resources (api/routes/resources.py), with the floating IP's id in the path.
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
from neutrino.domain.l3.port_forwarding import PROTOCOLS
from neutrino.domain.services import port_forwardings

_PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "132": "sctp", "33": "dccp"}


def convert_protocol(value: Any) -> Any:
    """Names in any case, or their IP protocol numbers (neutron-lib's convert_to_protocol)."""
    text = str(value).lower()
    return _PROTOCOL_NUMBERS.get(text, text)


def validate_port_range(value: Any, arg: Any = None) -> str | None:
    """``N`` or ``N:M`` with 1 <= N <= M <= 65535 (neutron-lib's validate_port_range_or_none)."""
    if value is None:
        return None
    parts = str(value).split(":")
    if len(parts) > 2 or any(not p for p in parts):
        return "Port range must be two integers separated by a colon"
    for part in parts:
        if not part.isdigit():
            return f"Invalid port: {part}"
        if not 1 <= int(part) <= 65535:
            return f"Invalid port: {part}, the port must be in the range [1, 65535]"
    if len(parts) == 2 and int(parts[0]) > int(parts[1]):
        return "First port in a port range must be lower than the second port"
    return None


def _to_int_or_none(value: Any) -> int | None:
    return None if value is None else validators.convert_to_int(value)


def _port_or_none(value: Any, arg: Any = None) -> str | None:
    return None if value is None else validators.validate_range(value, (1, 65535))


def _port(name: str) -> Attr:
    return Attr(name, post=True, put=True, default=None, convert=_to_int_or_none, validate=_port_or_none,
                json_type="integer")


PORT_FORWARDING = ResourceSpec(
    "port_forwarding",
    "port_forwardings",
    "floatingips/{floatingip_id}/port_forwardings",
    {
        a.name: a
        for a in (
            Attr("id", validate=validators.validate_uuid),
            Attr("project_id", post=True, visible=False, filter=False, sort=False,
                 validate=validators.validate_string, validate_arg=255),
            Attr("tenant_id", post=True, visible=False, filter=False, sort=False,
                 validate=validators.validate_string, validate_arg=255),
            _port("external_port"),
            _port("internal_port"),
            Attr("external_port_range", post=True, put=True, default=None, validate=validate_port_range),
            Attr("internal_port_range", post=True, put=True, default=None, validate=validate_port_range,
                 filter=False, sort=False),
            Attr("internal_ip_address", post=True, put=True, default=None,
                 convert=validators.convert_ip_to_canonical, validate=validators.validate_ip_address_or_none),
            Attr("protocol", post=True, put=True, default=REQUIRED, convert=convert_protocol,
                 validate=validators.validate_values, validate_arg=list(PROTOCOLS)),
            Attr("internal_port_id", post=True, put=True, default=REQUIRED, validate=validators.validate_uuid),
            Attr("description", post=True, put=True, default="", validate=validators.validate_string,
                 validate_arg=255, sort=False),
        )
    },
)

router = APIRouter(tags=["port_forwardings"])
_BASE = "/v2.0/floatingips/{floatingip_id}/port_forwardings"
_ITEM = _BASE + "/{pf_id}"


@router.get(_BASE, name="list_port_forwardings")
async def list_items(request: Request, floatingip_id: str) -> Response:
    ctx = context_for(request)
    state = state_of(request)
    items = list(request.query_params.multi_items())
    q, fields = parse_list_query(PORT_FORWARDING, items, max_limit=state.settings.pagination_max_limit)

    def work(session: Session) -> list[dict[str, Any]]:
        rows = port_forwardings.list_(session, ctx, floatingip_id, q)
        if q.page_reverse:
            rows.reverse()
        return port_forwardings.render(rows)

    found = await in_transaction(request, work, readonly=True)
    out: dict[str, Any] = {"port_forwardings": [select_fields(d, fields) for d in found]}
    if q.limit:
        url = f"{state.settings.url}{_BASE.format(floatingip_id=floatingip_id)}"
        out["port_forwardings_links"] = page_links(url, items, q, found)
    return respond.json(out)


@router.get(_ITEM, name="show_port_forwarding")
async def show_item(request: Request, floatingip_id: str, pf_id: str) -> Response:
    ctx = context_for(request)
    fields = fields_of(request)

    def work(session: Session) -> dict[str, Any]:
        return port_forwardings.render([port_forwardings.get(session, ctx, floatingip_id, pf_id)])[0]

    found = await in_transaction(request, work, readonly=True)
    return respond.json({"port_forwarding": select_fields(found, fields)})


@router.post(_BASE, name="create_port_forwarding", status_code=201)
async def create_item(request: Request, floatingip_id: str) -> Response:
    ctx = context_for(request)
    cfg = state_of(request).domain
    parsed, bulk = body.parse_create(PORT_FORWARDING, await request.body(), ctx)

    def work(session: Session) -> list[dict[str, Any]]:
        rows = [port_forwardings.create(session, ctx, cfg, floatingip_id, item) for item in parsed]
        return port_forwardings.render(rows)

    created = await in_transaction(request, work)
    if bulk:
        return respond.json({"port_forwardings": created}, status=201)
    return respond.json({"port_forwarding": created[0]}, status=201)


@router.put(_ITEM, name="update_port_forwarding")
async def update_item(request: Request, floatingip_id: str, pf_id: str) -> Response:
    ctx = context_for(request)
    cfg = state_of(request).domain
    changes = body.parse_update(PORT_FORWARDING, await request.body())

    def work(session: Session) -> dict[str, Any]:
        row = port_forwardings.update(session, ctx, cfg, floatingip_id, pf_id, changes)
        return port_forwardings.render([row])[0]

    return respond.json({"port_forwarding": await in_transaction(request, work)})


@router.delete(_ITEM, name="delete_port_forwarding", status_code=204)
async def delete_item(request: Request, floatingip_id: str, pf_id: str) -> Response:
    ctx = context_for(request)
    cfg = state_of(request).domain

    def work(session: Session) -> None:
        port_forwardings.delete(session, ctx, cfg, floatingip_id, pf_id)

    await in_transaction(request, work)
    return respond.empty()
