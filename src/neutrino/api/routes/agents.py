"""``/v2.0/agents`` and the DHCP / L3 agent scheduler sub-resources.

Agents have no POST (they appear by reporting), so these are not the generic resource routes:
list (filters incl. ``alive``, fields, sorting, paging), show, update, delete, then
``/agents/{id}/dhcp-networks``, ``/networks/{id}/dhcp-agents``, ``/agents/{id}/l3-routers`` and
``/routers/{id}/l3-agents``. Adding a network or router answers 201 with a JSON ``null`` body,
as Neutron does (openstacksdk parses the body).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from neutrino.api import body, respond
from neutrino.api.attributes import AGENT
from neutrino.api.auth import context_for, state_of
from neutrino.api.openapi import request_body_schema
from neutrino.api.query import page_links, parse_list_query, select_fields
from neutrino.api.routes.common import fields_of, in_transaction
from neutrino.domain.services import agent_schedulers as sched
from neutrino.domain.services import agents, networks
from sqlalchemy.orm import Session

router = APIRouter(tags=["agents"])
BASE = "/v2.0/agents"
ONE = BASE + "/{agent_id}"


def _body_schema(key: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {key: {"type": "string"}}, "required": [key]}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _render_routers(session: Session, cfg: Any, rows: list[Any]) -> list[dict[str, Any]]:
    from neutrino.domain.services import routers  # the L3 service plugin renders its routers

    return routers.render(session, cfg, rows)  # type: ignore[no-any-return]


@router.get(BASE, name="list_agents")
async def list_agents(request: Request) -> Response:
    ctx = context_for(request)
    state = state_of(request)
    items = list(request.query_params.multi_items())
    q, fields = parse_list_query(AGENT, items, max_limit=state.settings.pagination_max_limit)

    def work(session: Session) -> list[dict[str, Any]]:
        rows = agents.list_(session, ctx, state.domain, q)
        if q.page_reverse:
            rows.reverse()
        return agents.render(rows, state.domain)

    found = await in_transaction(request, work, readonly=True)
    out: dict[str, Any] = {"agents": [select_fields(d, fields) for d in found]}
    if q.limit:
        out["agents_links"] = page_links(f"{state.settings.url}{BASE}", items, q, found)
    return respond.json(out)


@router.get(ONE, name="show_agent")
async def show_agent(request: Request, agent_id: str) -> Response:
    ctx = context_for(request)
    state = state_of(request)
    fields = fields_of(request)
    found = await in_transaction(
        request, lambda s: agents.render([agents.get(s, ctx, agent_id)], state.domain)[0], readonly=True
    )
    return respond.json({"agent": select_fields(found, fields)})


@router.put(ONE, name="update_agent", openapi_extra=request_body_schema(AGENT, create=False))
async def update_agent(request: Request, agent_id: str) -> Response:
    ctx = context_for(request)
    state = state_of(request)
    changes = body.parse_update(AGENT, await request.body())

    def work(session: Session) -> dict[str, Any]:
        return agents.render([agents.update(session, ctx, state.domain, agent_id, changes)], state.domain)[0]

    return respond.json({"agent": await in_transaction(request, work)})


@router.delete(ONE, name="delete_agent", status_code=204)
async def delete_agent(request: Request, agent_id: str) -> Response:
    ctx = context_for(request)
    state = state_of(request)
    await in_transaction(request, lambda s: agents.delete(s, ctx, state.domain, agent_id))
    return respond.empty()


# --- dhcp_agent_scheduler and l3_agent_scheduler: one shape, four routes each ------------------


async def _resources_of_agent(
    request: Request, collection: str, rows_of: Callable[[Session], list[Any]],
    render: Callable[[Session, Any, list[Any]], list[dict[str, Any]]],
) -> Response:  # fmt: skip
    """GET the networks (routers) an agent hosts."""
    cfg = state_of(request).domain
    fields = fields_of(request)

    def work(session: Session) -> list[dict[str, Any]]:
        rows = rows_of(session)
        return render(session, cfg, rows) if rows else []

    found = await in_transaction(request, work, readonly=True)
    return respond.json({collection: [select_fields(d, fields) for d in found]})


async def _add_to_agent(request: Request, key: str, add: Callable[[Session, Any, Any], None]) -> Response:
    """POST {key: id}: an admin puts a network (router) on an agent."""
    cfg = state_of(request).domain
    data = body.load_json(await request.body())
    resource_id = data.get(key) if isinstance(data, dict) else None
    await in_transaction(request, lambda session: add(session, cfg, resource_id))
    return respond.json(None, status=201)


async def _remove_from_agent(request: Request, remove: Callable[[Session, Any], None]) -> Response:
    cfg = state_of(request).domain
    await in_transaction(request, lambda session: remove(session, cfg))
    return respond.empty()


async def _agents_of(request: Request, agents_of: Callable[[Session], list[Any]]) -> Response:
    """GET the agents hosting a network (router)."""
    cfg = state_of(request).domain
    fields = fields_of(request)
    found = await in_transaction(request, lambda session: agents.render(agents_of(session), cfg), readonly=True)
    return respond.json({"agents": [select_fields(d, fields) for d in found]})


@router.get(ONE + "/dhcp-networks", name="list_dhcp_networks_of_agent")
async def list_agent_networks(request: Request, agent_id: str) -> Response:
    ctx = context_for(request)
    return await _resources_of_agent(
        request, "networks", lambda session: sched.networks_of_agent(session, ctx, agent_id), networks.render
    )


@router.post(ONE + "/dhcp-networks", name="add_network_to_dhcp_agent", status_code=201,
             openapi_extra=_body_schema("network_id"))  # fmt: skip
async def add_agent_network(request: Request, agent_id: str) -> Response:
    ctx = context_for(request)
    return await _add_to_agent(
        request, "network_id", lambda session, cfg, network_id: sched.add_network(session, ctx, cfg, agent_id, network_id)
    )


@router.delete(ONE + "/dhcp-networks/{network_id}", name="remove_network_from_dhcp_agent", status_code=204)
async def remove_agent_network(request: Request, agent_id: str, network_id: str) -> Response:
    ctx = context_for(request)
    return await _remove_from_agent(
        request, lambda session, cfg: sched.remove_network(session, ctx, cfg, agent_id, network_id)
    )


@router.get("/v2.0/networks/{network_id}/dhcp-agents", name="list_dhcp_agents_of_network")
async def list_network_agents(request: Request, network_id: str) -> Response:
    ctx = context_for(request)
    return await _agents_of(request, lambda session: sched.dhcp_agents_of_network(session, ctx, network_id))


@router.get(ONE + "/l3-routers", name="list_l3_routers_of_agent")
async def list_agent_routers(request: Request, agent_id: str) -> Response:
    ctx = context_for(request)
    return await _resources_of_agent(
        request, "routers", lambda session: sched.routers_of_agent(session, ctx, agent_id), _render_routers
    )


@router.post(ONE + "/l3-routers", name="add_router_to_l3_agent", status_code=201,
             openapi_extra=_body_schema("router_id"))  # fmt: skip
async def add_agent_router(request: Request, agent_id: str) -> Response:
    ctx = context_for(request)
    return await _add_to_agent(
        request, "router_id", lambda session, cfg, router_id: sched.add_router(session, ctx, cfg, agent_id, router_id)
    )


@router.delete(ONE + "/l3-routers/{router_id}", name="remove_router_from_l3_agent", status_code=204)
async def remove_agent_router(request: Request, agent_id: str, router_id: str) -> Response:
    ctx = context_for(request)
    return await _remove_from_agent(
        request, lambda session, cfg: sched.remove_router(session, ctx, cfg, agent_id, router_id)
    )


@router.get("/v2.0/routers/{router_id}/l3-agents", name="list_l3_agents_of_router")
async def list_router_agents(request: Request, router_id: str) -> Response:
    ctx = context_for(request)
    cfg = state_of(request).domain
    fields = fields_of(request)

    def work(session: Session) -> list[dict[str, Any]]:
        found = agents.render(sched.l3_agents_of_router(session, ctx, router_id), cfg)
        states = sched.l3_agent_states(session, cfg, router_id)
        if states:  # an HA router: each agent's VRRP state (l3-ha)
            for d in found:
                d["ha_state"] = states.get(d["id"], "standby")
        return found

    found = await in_transaction(request, work, readonly=True)
    return respond.json({"agents": [select_fields(d, fields) for d in found]})
