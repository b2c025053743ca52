"""``/v2.0/address-groups``: the generic resource routes plus Neutron's two member actions,
``PUT /v2.0/address-groups/{id}/add_addresses`` and ``.../remove_addresses`` (body
``{"addresses": [...]}``, answer ``{"address_group": {...}}``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from neutrino import errors
from neutrino.api import body, respond
from neutrino.api.auth import context_for, state_of
from neutrino.api.routes import resources
from neutrino.api.routes.common import in_transaction
from neutrino.api.security_attributes import ADDRESS_GROUP
from neutrino.domain.models import AddressGroup
from neutrino.domain.services import address_groups

Action = Callable[..., AddressGroup]


def _action_route(router: APIRouter, name: str, action: Action) -> None:
    @router.put(f"/v2.0/{ADDRESS_GROUP.path}/{{resource_id}}/{name}", name=name)
    async def run(request: Request, resource_id: str) -> Response:
        ctx = context_for(request)
        state = state_of(request)
        doc = body.load_json(await request.body())
        if not isinstance(doc, dict) or "addresses" not in doc:
            raise errors.HTTPBadRequest(msg="Unrecognized action")
        addresses = doc["addresses"]

        def work(session: Session) -> dict[str, Any]:
            group = action(session, ctx, resource_id, addresses)
            return address_groups.render(session, state.domain, [group])[0]

        return respond.json({ADDRESS_GROUP.singular: await in_transaction(request, work)})


def build_routers() -> list[APIRouter]:
    actions = APIRouter(tags=[ADDRESS_GROUP.collection])
    _action_route(actions, "add_addresses", address_groups.add_addresses)
    _action_route(actions, "remove_addresses", address_groups.remove_addresses)
    return [resources.build_router(ADDRESS_GROUP, address_groups), actions]
