"""``GET /v2.0/segments[/{id}]``, ``PUT`` of a name or description: the network segments, admin-only.

A view for operators (which VLAN or VNI a network got); segments are created and released
with their networks (provider attributes), so there is no POST or DELETE here, and the
``segment`` extension (which has them) is not announced. ``standard-attr-segment`` is: segments
carry a description, timestamps and a revision number, and a name and description may change.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.engine import Connection
from starlette.requests import Request
from starlette.responses import Response

from neutrino.api import body, respond
from neutrino.api import validators
from neutrino.api.attributes import Attr, ResourceSpec
from neutrino.api.auth import context_for
from neutrino.api.query import parse_list_query, select_fields
from neutrino.api.routes.common import in_transaction
from neutrino.domain.ml2 import segments

SEGMENT = ResourceSpec(
    "segment",
    "segments",
    "segments",
    {
        a.name: a
        for a in (
            Attr("id"),
            Attr("network_id"),
            Attr("network_type"),
            Attr("physical_network"),
            Attr("segmentation_id", convert=validators.convert_to_int, json_type="integer"),
            Attr("name", put=True, filter=False, sort=False, validate=validators.validate_string_or_none, validate_arg=255),
            Attr("description", put=True, filter=False, sort=False, validate=validators.validate_string, validate_arg=255),
            Attr("created_at", filter=False),
            Attr("updated_at", filter=False),
            Attr("revision_number", filter=False, json_type="integer"),
        )
    },
)

router = APIRouter(tags=["segments"])


@router.get("/v2.0/segments", name="list_segments")
async def list_segments(request: Request) -> Response:
    ctx = context_for(request)
    q, fields = parse_list_query(SEGMENT, list(request.query_params.multi_items()))

    def work(conn: Connection) -> list[dict[str, Any]]:
        rows = segments.list_view(conn, ctx, q)
        if q.page_reverse:
            rows.reverse()
        return segments.render_view(rows)

    found = await in_transaction(request, work, readonly=True, core_reads=True)  # type: ignore[arg-type]
    return respond.json({"segments": [select_fields(d, fields) for d in found]})


@router.get("/v2.0/segments/{segment_id}", name="show_segment")
async def show_segment(request: Request, segment_id: str) -> Response:
    ctx = context_for(request)
    fields = [f for k, val in request.query_params.multi_items() if k == "fields" for f in val.split(",") if f]

    def work(conn: Connection) -> dict[str, Any]:
        return segments.render_view([segments.get_view(conn, ctx, segment_id)])[0]

    found = await in_transaction(request, work, readonly=True, core_reads=True)  # type: ignore[arg-type]
    return respond.json({"segment": select_fields(found, fields)})


@router.put("/v2.0/segments/{segment_id}", name="update_segment")
async def update_segment(request: Request, segment_id: str) -> Response:
    ctx = context_for(request)
    changes = body.parse_update(SEGMENT, await request.body())

    def work(conn: Connection) -> dict[str, Any]:
        return segments.render_view([segments.update_view(conn, ctx, segment_id, changes)])[0]

    return respond.json({"segment": await in_transaction(request, work)})  # type: ignore[arg-type]
