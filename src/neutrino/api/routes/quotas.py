"""The quotas API (quotasv2 and quota_details extensions)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from neutrino.api import body, respond
from neutrino.api.auth import context_for, state_of
from neutrino.api.routes.common import in_transaction
from neutrino.domain.services import quotas as quota_service

router = APIRouter(tags=["quotas"])


@router.get("/v2.0/quotas", name="list_quotas")
async def list_quotas(request: Request) -> Response:
    ctx, cfg = context_for(request), state_of(request).domain
    return respond.json({"quotas": await in_transaction(request, lambda s: quota_service.list_overrides(s, ctx, cfg))})


@router.get("/v2.0/quotas/project", name="quota_own_project")
async def own_project(request: Request) -> Response:
    ctx = context_for(request)
    return respond.json({"project": {"project_id": ctx.project_id}})


@router.get("/v2.0/quotas/tenant", name="quota_own_tenant")
async def own_tenant(request: Request) -> Response:
    ctx = context_for(request)
    return respond.json({"tenant": {"tenant_id": ctx.project_id}})


@router.get("/v2.0/quotas/{project_id}", name="show_quota")
async def show_quota(request: Request, project_id: str) -> Response:
    ctx, cfg = context_for(request), state_of(request).domain
    return respond.json({"quota": await in_transaction(request, lambda s: quota_service.show(s, ctx, cfg, project_id))})


@router.get("/v2.0/quotas/{project_id}/default", name="show_quota_default")
async def show_default(request: Request, project_id: str) -> Response:
    context_for(request)
    return respond.json({"quota": quota_service.defaults(state_of(request).domain)})


@router.get("/v2.0/quotas/{project_id}/details", name="show_quota_details")
async def show_details(request: Request, project_id: str) -> Response:
    ctx, cfg = context_for(request), state_of(request).domain
    return respond.json({"quota": await in_transaction(request, lambda s: quota_service.details(s, ctx, cfg, project_id))})


def _forced(changes: dict[str, object]) -> bool:
    """The request's ``force``: only JSON ``true`` skips the usage check (quota-check-limit-default;
    Neutron compares ``force is not True``). ``check_limit``, the older opt-in, is accepted and
    ignored: the check is the default (docs/neutron-behaviour.md, "Quotas: the limit check")."""
    return changes.get("force") is True


@router.put(
    "/v2.0/quotas/{project_id}",
    name="update_quota",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "quota": {
                                "type": "object",
                                "properties": {k: {"type": "integer"} for k in quota_service.ALL},
                                "additionalProperties": False,
                            }
                        },
                        "required": ["quota"],
                    }
                }
            },
        }
    },
)
async def update_quota(request: Request, project_id: str) -> Response:
    ctx, cfg = context_for(request), state_of(request).domain
    data = body.load_json(await request.body())
    if not isinstance(data, dict) or "quota" not in data:
        raise body.bad("Unable to find 'quota' in request body")
    changes = quota_service.validate_changes(data["quota"])
    check_limit = not _forced(data["quota"])
    found = await in_transaction(
        request, lambda s: quota_service.update(s, ctx, cfg, project_id, changes, check_limit)
    )
    return respond.json({"quota": found})


@router.delete("/v2.0/quotas/{project_id}", name="reset_quota", status_code=204)
async def reset_quota(request: Request, project_id: str) -> Response:
    ctx = context_for(request)
    await in_transaction(request, lambda s: quota_service.reset(s, ctx, project_id))
    return respond.empty()
