"""Routers: create, read, update (name, state, gateway, extra routes), delete.

A router is a row plus the ports it owns (``router_ports``: interfaces and the gateway) and its
extra routes. The gateway lives in ``router_gateway``, interfaces in ``router_interfaces``;
this module keeps the resource itself, its rendering and the extra routes (extraroute and
extraroute-atomic), which must stay reachable through the router's own subnets. Every change of
ports or routes bumps the router's revision, as Neutron's revision plugin does.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, cast

from sqlalchemy import delete as sql_delete
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.l3 import rules
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import ConntrackHelper, IPAllocation, Port, Router, RouterPort, RouterRoute, Subnet
from neutrino.domain.services import availability_zones, common, l3_ha, l3_ports, router_gateway
from neutrino.domain.config import DomainConfig
from neutrino.domain.scheduling import schedule_router
from neutrino.domain.wiring import Domain

ROUTES = RouterRoute.__table__

COLUMNS = {
    "id": Router.id,
    "name": Router.name,
    "project_id": Router.project_id,
    "description": Router.description,
    "admin_state_up": Router.admin_state_up,
    "status": Router.status,
    "revision_number": Router.revision_number,
    "created_at": Router.created_at,
    "updated_at": Router.updated_at,
}


def get(session: Session, ctx: Context, router_id: str, *, lock: bool = False) -> Router:
    router = session.get(Router, router_id, with_for_update=lock or None)
    if router is None or not ctx.owns(router.project_id):
        raise errors.RouterNotFound(router_id=router_id)
    return router


def get_for_write(session: Session, ctx: Context, router_id: str, action: str) -> Router:
    """The router, locked (PostgreSQL): changes of one router's ports, gateway and routes take
    turns, and a floating IP association (which share-locks the router it goes through) cannot
    interleave with the removal of the interface or gateway it relies on."""
    router = get(session, ctx, router_id, lock=True)
    ctx.require_write(action)
    return router


def list_(session: Session, ctx: Context, cfg: DomainConfig, q: ListQuery) -> list[Router]:
    stmt = select(Router)
    if not ctx.is_admin:
        stmt = stmt.where(Router.project_id == ctx.project_id)
    stmt = apply_filters(stmt, Router, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, Router, q, COLUMNS)
    return list(session.scalars(stmt))


def schedule(session: Session, cfg: DomainConfig, router_id: str) -> None:
    """Hand the router to the L3 agent scheduler (after create and after a gateway change);
    an HA router's new agents get their HA ports."""
    schedule_router(session, cfg, router_id)
    l3_ha.sync_ports(session, cast(Domain, cfg), [router_id])


def create(session: Session, ctx: Context, cfg: DomainConfig, data: dict[str, Any]) -> Router:
    ctx.require_write("create_router")
    common.enforce_quota(session, cfg, data["project_id"], "router", Router)
    router = Router(
        project_id=data["project_id"],
        name=data.get("name", ""),
        description=data.get("description", ""),
        admin_state_up=data.get("admin_state_up", True),
        status="ACTIVE",
        enable_snat=True,
    )
    availability_zones.store_hints(session, "router", router, data)
    session.add(router)
    session.flush()
    l3_ha.on_create(session, ctx, cast(Domain, cfg), router, data)
    info = data.get("external_gateway_info")
    if info:
        router_gateway.apply(session, ctx, cfg, router, info, action="create_router")
    session.flush()
    schedule(session, cfg, router.id)
    return router


def update(
    session: Session, ctx: Context, cfg: DomainConfig, router_id: str, data: dict[str, Any],
    if_match: int | None = None,
) -> Router:
    router = get_for_write(session, ctx, router_id, "update_router")
    common.check_revision(router, if_match)
    changed = False
    reschedule = l3_ha.on_update(session, ctx, cast(Domain, cfg), router, data)
    if "external_gateway_info" in data:
        reschedule = router_gateway.apply(
            session, ctx, cfg, router, data["external_gateway_info"], action="update_router"
        ) or reschedule
    changed = reschedule
    if "routes" in data:
        changed = set_routes(session, cfg, router, data["routes"] or []) or changed
    changed = common.apply_updates(router, data, ("name", "description", "admin_state_up")) or changed
    if changed:
        router.bump_revision()
    session.flush()
    if reschedule:
        schedule(session, cfg, router.id)
    return router


def delete(
    session: Session, ctx: Context, cfg: DomainConfig, router_id: str, if_match: int | None = None
) -> None:
    router = get_for_write(session, ctx, router_id, "delete_router")
    common.check_revision(router, if_match)
    busy = session.scalar(
        select(RouterPort.port_id).where(
            RouterPort.router_id == router.id, RouterPort.port_type.in_(l3_ports.INTERFACE_OWNERS)
        ).limit(1)
    )
    if busy is not None:
        raise errors.RouterInUse(router_id=router.id)
    l3_ha.before_delete(session, cast(Domain, cfg), router)
    router_gateway.apply(session, ctx, cfg, router, None, action="delete_router")
    for port_id in list(session.scalars(select(RouterPort.port_id).where(RouterPort.router_id == router.id))):
        l3_ports.delete_port(session, cfg, port_id)
    common.delete_tags(session, router.id)
    session.delete(router)
    session.flush()


# --- extra routes -------------------------------------------------------------------------------


def current_routes(session: Session, router_id: str) -> list[dict[str, str]]:
    rows = session.execute(
        select(RouterRoute.destination, RouterRoute.nexthop)
        .where(RouterRoute.router_id == router_id)
        .order_by(RouterRoute.destination, RouterRoute.nexthop)
    )
    return [{"destination": d, "nexthop": n} for d, n in rows]


def connected(session: Session, router_id: str) -> tuple[list[str], list[str]]:
    """CIDRs of the subnets the router has a port on, and the router's own addresses."""
    rows = session.execute(
        select(Subnet.cidr, IPAllocation.ip_address)
        .join(IPAllocation, IPAllocation.subnet_id == Subnet.id)
        .join(RouterPort, RouterPort.port_id == IPAllocation.port_id)
        .where(RouterPort.router_id == router_id)
    ).all()
    return [c for c, _ in rows], [ip for _, ip in rows]


def set_routes(session: Session, cfg: DomainConfig, router: Router, routes: list[dict[str, str]]) -> bool:
    """Replace the extra routes after Neutron's checks; True if anything changed."""
    cidrs, ips = connected(session, router.id)
    rules.validate_routes(router.id, routes, connected_cidrs=cidrs, router_ips=ips, max_routes=cfg.max_routes)
    limit = common.quota_limit(session, cfg, router.project_id, "router_route")
    if 0 <= limit < len(routes):
        raise errors.OverQuota(overs="['router_route']")
    added, removed = rules.diff_routes(current_routes(session, router.id), routes)
    conn = session.connection()
    for r in removed:
        conn.execute(
            sql_delete(ROUTES).where(
                ROUTES.c.router_id == router.id,
                ROUTES.c.destination == r["destination"],
                ROUTES.c.nexthop == r["nexthop"],
            )
        )
    if added:
        conn.execute(insert(ROUTES), [{"router_id": router.id, **r} for r in added])
    return bool(added or removed)


def change_routes(
    session: Session, ctx: Context, cfg: DomainConfig, router_id: str, routes: list[dict[str, str]], *, add: bool
) -> Router:
    """PUT add_extraroutes / remove_extraroutes: a set union or difference, applied atomically."""
    router = get_for_write(session, ctx, router_id, "update_router")
    old = current_routes(session, router.id)
    new = rules.merge_routes(old, routes) if add else rules.subtract_routes(old, routes)
    if set_routes(session, cfg, router, new):
        router.bump_revision()
    session.flush()
    return router


# --- rendering ----------------------------------------------------------------------------------


def _gateway_details(session: Session, routers: list[Router]) -> dict[str, dict[str, Any]]:
    port_ids = [r.gw_port_id for r in routers if r.gw_port_id]
    if not port_ids:
        return {}
    nets = dict(session.execute(select(Port.id, Port.network_id).where(Port.id.in_(port_ids))).all())
    ips: dict[str, list[dict[str, str]]] = defaultdict(list)
    for port_id, subnet_id, ip in session.execute(
        select(IPAllocation.port_id, IPAllocation.subnet_id, IPAllocation.ip_address)
        .where(IPAllocation.port_id.in_(port_ids))
        .order_by(IPAllocation.port_id, IPAllocation.position)
    ):
        ips[port_id].append({"subnet_id": subnet_id, "ip_address": ip})
    return {
        r.id: {"network_id": nets[r.gw_port_id], "enable_snat": r.enable_snat,
               "external_fixed_ips": ips.get(r.gw_port_id, [])}
        for r in routers
        if r.gw_port_id in nets
    }


def _routes(session: Session, ids: list[str]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    if ids:
        for rid, dest, hop in session.execute(
            select(RouterRoute.router_id, RouterRoute.destination, RouterRoute.nexthop)
            .where(RouterRoute.router_id.in_(ids))
            .order_by(RouterRoute.router_id, RouterRoute.destination, RouterRoute.nexthop)
        ):
            out[rid].append({"destination": dest, "nexthop": hop})
    return out


def render(session: Session, cfg: DomainConfig, routers: list[Router], fresh: bool = False) -> list[dict[str, Any]]:
    ids = [r.id for r in routers]
    tags = {} if fresh else common.tags_by_resource(session, ids)
    gateways = _gateway_details(session, routers)
    routes = {} if fresh else _routes(session, ids)
    zones = availability_zones.router_zones(session, ids)
    helpers = _conntrack_helpers(session, ids)
    out = []
    for r in routers:
        d = {
            "id": r.id,
            "name": r.name,
            "admin_state_up": r.admin_state_up,
            "status": r.status,
            "external_gateway_info": gateways.get(r.id),
            "routes": routes.get(r.id, []),
            availability_zones.HINTS: availability_zones.split(r.az_hints),
            availability_zones.ZONES: zones.get(r.id, []),
            "conntrack_helpers": helpers.get(r.id, []),
        }
        d.update(common.standard_fields(r, tags.get(r.id, [])))
        out.append(d)
    l3_ha.render(session, routers, out)
    return out


def _conntrack_helpers(session: Session, router_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """``conntrack_helpers`` of each router as the router shows them (expose-l3-conntrack-helper):
    protocol, port and helper only (the sub-resource, services/conntrack_helpers.py, has the ids)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if router_ids:
        stmt = (select(ConntrackHelper).where(ConntrackHelper.router_id.in_(router_ids))
                .order_by(ConntrackHelper.protocol, ConntrackHelper.port, ConntrackHelper.helper))  # fmt: skip
        for h in session.scalars(stmt):
            out[h.router_id].append({"protocol": h.protocol, "port": h.port, "helper": h.helper})
    return out
