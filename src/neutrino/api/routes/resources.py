"""The five routes of a Neutron resource (list, show, create incl. bulk, update, delete).

Every resource service module has the same functions, so one factory builds all routes and
the behaviour (fields=, filters, paging links, If-Match, bulk atomicity) is the same for all.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from neutrino.api import body, respond
from neutrino.api.attributes import ResourceSpec
from neutrino.api.auth import context_for, state_of
from neutrino.api.openapi import request_body_schema
from neutrino.api.query import page_links, parse_list_query, select_fields
from neutrino.api.routes.common import fields_of, if_match_revision, in_transaction
from sqlalchemy.orm import Session


def build_router(spec: ResourceSpec, service: ModuleType, extra_filters: frozenset[str] = frozenset()) -> APIRouter:
    router = APIRouter(tags=[spec.collection])
    base = f"/v2.0/{spec.path}"
    id_path = base + "/{resource_id}"
    core_reads = getattr(service, "CORE_READS", False)

    @router.get(base, name=f"list_{spec.collection}")
    async def list_items(request: Request) -> Response:
        ctx = context_for(request)
        state = state_of(request)
        items = list(request.query_params.multi_items())
        q, fields = parse_list_query(
            spec, items, max_limit=state.settings.pagination_max_limit, extra_filters=extra_filters
        )

        def work(session: Session) -> list[dict[str, Any]]:
            rows = service.list_(session, ctx, state.domain, q)
            if q.page_reverse:
                rows.reverse()
            return service.render(session, state.domain, rows)  # type: ignore[no-any-return]

        found = await in_transaction(request, work, readonly=True, core_reads=core_reads)
        out: dict[str, Any] = {spec.collection: [select_fields(d, fields) for d in found]}
        if q.limit:
            url = f"{state.settings.url}{base}"
            out[f"{spec.collection}_links"] = page_links(url, items, q, found)
        return respond.json(out)

    @router.get(id_path, name=f"show_{spec.singular}")
    async def show_item(request: Request, resource_id: str) -> Response:
        ctx = context_for(request)
        state = state_of(request)
        fields = fields_of(request)

        def work(session: Session) -> dict[str, Any]:
            fetch = getattr(service, "fetch", service.get)
            return service.render(session, state.domain, [fetch(session, ctx, resource_id)])[0]  # type: ignore[no-any-return]

        found = await in_transaction(request, work, readonly=True, core_reads=core_reads)
        return respond.json({spec.singular: select_fields(found, fields)})

    @router.post(
        base,
        name=f"create_{spec.singular}",
        status_code=201,
        openapi_extra=request_body_schema(spec, create=True),
    )
    async def create_item(request: Request) -> Response:
        ctx = context_for(request)
        state = state_of(request)
        parsed, bulk = body.parse_create(spec, await request.body(), ctx)

        def work(session: Session) -> list[dict[str, Any]]:
            rows = [service.create(session, ctx, state.domain, item) for item in parsed]
            session.flush()
            return service.render(session, state.domain, rows, fresh=True)  # type: ignore[no-any-return]

        created = await in_transaction(request, work)
        if spec.collection == "ports" and state.metrics is not None:
            state.metrics.ports_created(d["id"] for d in created)
        if bulk:
            return respond.json({spec.collection: created}, status=201)
        return respond.json({spec.singular: created[0]}, status=201)

    @router.put(id_path, name=f"update_{spec.singular}", openapi_extra=request_body_schema(spec, create=False))
    async def update_item(request: Request, resource_id: str) -> Response:
        ctx = context_for(request)
        state = state_of(request)
        changes = body.parse_update(spec, await request.body())
        if_match = if_match_revision(request)

        def work(session: Session) -> dict[str, Any]:
            row = service.update(session, ctx, state.domain, resource_id, changes, if_match)
            return service.render(session, state.domain, [row])[0]  # type: ignore[no-any-return]

        return respond.json({spec.singular: await in_transaction(request, work)})

    @router.delete(id_path, name=f"delete_{spec.singular}", status_code=204)
    async def delete_item(request: Request, resource_id: str) -> Response:
        ctx = context_for(request)
        state = state_of(request)
        if_match = if_match_revision(request)

        def work(session: Session) -> None:
            service.delete(session, ctx, state.domain, resource_id, if_match)

        await in_transaction(request, work)
        return respond.empty()

    return router
