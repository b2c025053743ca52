"""``/v2.0/security-groups`` and ``/v2.0/security-group-rules``: the generic resource routes,
with two differences from Neutron's other resources.

* Listing groups (or rules) first makes sure the project has its ``default`` group, as
  Neutron does: the list itself is a read, so the check is a read too, and only a project
  without its group pays for a write transaction before the list.
* Rules have no update: there is no PUT route (405), as in Neutron; nor have the default rule
  templates (``/v2.0/default-security-group-rules``), served here too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import ModuleType

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from neutrino.api.attributes import SECURITY_GROUP, SECURITY_GROUP_RULE, ResourceSpec
from neutrino.api.auth import context_for
from neutrino.api.routes import resources, tags
from neutrino.api.routes.common import in_transaction
from neutrino.api.security_attributes import DEFAULT_SECURITY_GROUP_RULE
from neutrino.domain.services import default_sg_rules, security_group_rules, security_groups
from sqlalchemy.orm import Session


def _project_to_ensure(request: Request) -> str | None:
    """The caller's project, or for an admin the project it filters on (Neutron's choice)."""
    ctx = context_for(request)
    if ctx.is_admin:
        for key in ("project_id", "tenant_id"):
            value = request.query_params.get(key)
            if value:
                return value
    return ctx.project_id


async def ensure_default_group(request: Request) -> None:
    project = _project_to_ensure(request)
    if not project:
        return

    def present(session: Session) -> bool:
        return security_groups.default_group_id(session, project) is not None

    if not await in_transaction(request, present, readonly=True):
        await in_transaction(request, lambda s: security_groups.ensure_default_security_group(s, project))


def _with_default_group(
    router: APIRouter, spec: ResourceSpec, *, drop_update: bool = False, ensure: bool = True
) -> APIRouter:
    """Wrap the generic list route so it ensures the default group first; drop PUT if asked."""
    out = APIRouter(tags=[spec.collection])
    for route in router.routes:
        assert isinstance(route, APIRoute)
        if drop_update and route.name == f"update_{spec.singular}":
            continue
        endpoint = route.endpoint
        if ensure and route.name == f"list_{spec.collection}":
            endpoint = _ensuring(route.endpoint)
        out.add_api_route(
            route.path,
            endpoint,
            methods=list(route.methods),
            name=route.name,
            status_code=route.status_code,
            openapi_extra=route.openapi_extra,
        )
    return out


def _ensuring(list_items: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def list_with_default(request: Request) -> Response:
        await ensure_default_group(request)
        return await list_items(request)

    return list_with_default


def build_routers() -> list[APIRouter]:
    groups: ModuleType = security_groups
    rules: ModuleType = security_group_rules
    return [
        _with_default_group(resources.build_router(SECURITY_GROUP, groups), SECURITY_GROUP),
        tags.build_router(SECURITY_GROUP, groups),
        _with_default_group(resources.build_router(SECURITY_GROUP_RULE, rules), SECURITY_GROUP_RULE, drop_update=True),
        _with_default_group(
            resources.build_router(DEFAULT_SECURITY_GROUP_RULE, default_sg_rules),
            DEFAULT_SECURITY_GROUP_RULE,
            drop_update=True,
            ensure=False,
        ),
    ]
