"""``/v2.0/{collection}/{id}/tags[/{tag}]`` for every tagged resource."""

from __future__ import annotations

from types import ModuleType

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from neutrino.api import body, respond
from neutrino.api.attributes import ResourceSpec
from neutrino.api.auth import context_for
from neutrino.api.routes.common import in_transaction
from neutrino.domain.services import tags as tag_service
from sqlalchemy.orm import Session


def build_router(spec: ResourceSpec, service: ModuleType) -> APIRouter:
    router = APIRouter(tags=["tags"])
    base = f"/v2.0/{spec.path}/{{resource_id}}/tags"
    kind = spec.singular
    getter = service.get

    @router.get(base, name=f"list_{kind}_tags")
    async def list_tags(request: Request, resource_id: str) -> Response:
        ctx = context_for(request)
        found = await in_transaction(request, lambda s: tag_service.get_all(s, ctx, getter, resource_id))
        return respond.json({"tags": found})

    @router.put(
        base,
        name=f"replace_{kind}_tags",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
                            "required": ["tags"],
                        }
                    }
                },
            }
        },
    )
    async def replace_tags(request: Request, resource_id: str) -> Response:
        ctx = context_for(request)
        data = body.load_json(await request.body())
        if not isinstance(data, dict) or "tags" not in data:
            raise body.bad("Invalid tags body")
        wanted = data["tags"]

        def work(session: Session) -> list[str]:
            return tag_service.replace(session, ctx, getter, kind, resource_id, wanted)

        return respond.json({"tags": await in_transaction(request, work)})

    @router.delete(base, name=f"delete_{kind}_tags", status_code=204)
    async def delete_tags(request: Request, resource_id: str) -> Response:
        ctx = context_for(request)
        await in_transaction(request, lambda s: tag_service.remove_all(s, ctx, getter, resource_id))
        return respond.empty()

    @router.get(base + "/{tag}", name=f"check_{kind}_tag", status_code=204)
    async def check_tag(request: Request, resource_id: str, tag: str) -> Response:
        ctx = context_for(request)
        await in_transaction(request, lambda s: tag_service.has(s, ctx, getter, kind, resource_id, tag))
        return respond.empty()

    @router.put(base + "/{tag}", name=f"add_{kind}_tag", status_code=201)
    async def add_tag(request: Request, resource_id: str, tag: str) -> Response:
        ctx = context_for(request)
        await in_transaction(request, lambda s: tag_service.add(s, ctx, getter, kind, resource_id, tag))
        return respond.empty(201)

    @router.delete(base + "/{tag}", name=f"delete_{kind}_tag", status_code=204)
    async def delete_tag(request: Request, resource_id: str, tag: str) -> Response:
        ctx = context_for(request)
        await in_transaction(request, lambda s: tag_service.remove(s, ctx, getter, kind, resource_id, tag))
        return respond.empty()

    return router
