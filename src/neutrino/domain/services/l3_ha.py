"""HA routers (the l3-ha extension): the ``ha`` attribute, the per-project HA network, VRRP
ids, one HA port per (router, L3 agent) and the active/standby state agents report.

The router service calls in at create, update, delete and render time; the scheduler binds an
HA router to several agents and ``sync_ports`` then gives each binding its HA port (bound to
that agent's host, on the project's HA network, which no project owns or sees). Facts from
Neutron's l3_hamode_db are in docs/neutron-behaviour.md ("L3 HA").
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context, current
from neutrino.domain.l3 import ha as rules
from neutrino.domain.scheduling import choice
from neutrino.domain.models import Agent, HaNetwork, HaPortBinding, HaRouter, Port, Router, RouterL3AgentBinding
from neutrino.domain.config import DomainConfig
from neutrino.domain.services import agents, l3_ports, networks, subnets
from neutrino.domain.wiring import Domain

HA = "ha"


def is_ha(session: Session, router_id: str) -> bool:
    return session.scalar(select(HaRouter.router_id).where(HaRouter.router_id == router_id)) is not None


def ha_ids(session: Session, router_ids: list[str]) -> set[str]:
    if not router_ids:
        return set()
    return set(session.scalars(select(HaRouter.router_id).where(HaRouter.router_id.in_(router_ids))))


def check_policy(ctx: Context, data: dict[str, Any], operation: str) -> None:
    """``ha`` is admin-only to set (Neutron's policy ``create_router:ha``/``update_router:ha``)."""
    if HA in data and not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action=f"(rule:{operation}_router and rule:{operation}_router:ha)")


def on_create(session: Session, ctx: Context, cfg: Domain, router: Router, data: dict[str, Any]) -> None:
    """A new router is HA when asked, else when ``l3_ha`` says so."""
    check_policy(ctx, data, "create")
    wanted = data.get(HA)
    if wanted if wanted is not None else cfg.l3_ha:
        make_ha(session, cfg, router)


def on_update(session: Session, ctx: Context, cfg: Domain, router: Router, data: dict[str, Any]) -> bool:
    """Convert a router to or from HA (only while it is administratively down, as Neutron);
    its agents and HA ports are dropped and it is scheduled again. True if it changed."""
    if data.get(HA) is None:
        return False
    check_policy(ctx, data, "update")
    wanted = bool(data[HA])
    if wanted == is_ha(session, router.id):
        return False
    if data.get("admin_state_up", router.admin_state_up):
        raise errors.BadRequest(resource="router", msg=rules.CHANGE_WHILE_UP)
    drop_ports(session, cfg, router.id)
    session.execute(sql_delete(RouterL3AgentBinding).where(RouterL3AgentBinding.router_id == router.id))
    if wanted:
        make_ha(session, cfg, router)
    else:
        drop_ha(session, cfg, router)
    l3_ports.migrate_interfaces(session, cfg, router.id, l3_ports.interface_owner(session, router.id))
    return True


def before_delete(session: Session, cfg: Domain, router: Router) -> None:
    drop_ports(session, cfg, router.id)
    if is_ha(session, router.id):
        drop_ha(session, cfg, router)


def render(session: Session, routers: list[Router], dicts: list[dict[str, Any]]) -> None:
    """``ha`` is shown to admins only (Neutron's policy ``get_router:ha``)."""
    viewer = current()
    if viewer is not None and not viewer.is_admin:
        return
    ha = ha_ids(session, [r.id for r in routers])
    for r, d in zip(routers, dicts, strict=True):
        d[HA] = r.id in ha


# --- the HA network and VRRP ids ----------------------------------------------------------------


def network_of(session: Session, project_id: str) -> str | None:
    found = session.get(HaNetwork, project_id)
    return found.network_id if found is not None else None


def ensure_network(session: Session, cfg: Domain, project_id: str) -> str:
    """The project's HA network (created on its first HA router): owned by no project (so the
    project does not see it), its own tenant segment, one subnet of ``l3_ha_net_cidr`` without
    DHCP or gateway."""
    existing = network_of(session, project_id)
    if existing is not None:
        return existing
    admin = Context.admin(project_id)
    # not counted against any quota, as Neutron creates it through the plugin, not the API
    cfg = cast(Domain, cfg.model_copy(update={"quotas": {**cfg.quotas, "network": -1, "subnet": -1}}))
    net = networks.create(
        session, admin, cfg,
        {"project_id": "", "name": rules.HA_NETWORK_NAME % project_id, "admin_state_up": True, "shared": False},
    )  # fmt: skip
    subnets.create(
        session, admin, cfg,
        {"project_id": "", "network_id": net.id, "name": rules.HA_SUBNET_NAME % project_id, "ip_version": 4,
         "cidr": cfg.l3_ha_net_cidr, "enable_dhcp": False, "gateway_ip": None},
    )  # fmt: skip
    session.add(HaNetwork(project_id=project_id, network_id=net.id))
    session.flush()
    return cast(str, net.id)


def make_ha(session: Session, cfg: Domain, router: Router) -> None:
    network_id = ensure_network(session, cfg, router.project_id)
    used = session.scalars(select(HaRouter.vr_id).where(HaRouter.network_id == network_id))
    vr_id = rules.choose_vr_id(used)
    if vr_id is None:
        raise errors.NoVRIDAvailable(router_id=router.id)
    session.add(HaRouter(router_id=router.id, network_id=network_id, vr_id=vr_id))
    session.flush()


def drop_ha(session: Session, cfg: Domain, router: Router) -> None:
    """The router is no longer HA; the project's HA network goes with its last HA router."""
    session.execute(sql_delete(HaRouter).where(HaRouter.router_id == router.id))
    network_id = network_of(session, router.project_id)
    if network_id is None:
        return
    others = session.scalar(select(HaRouter.router_id).where(HaRouter.network_id == network_id).limit(1))
    if others is None:
        session.execute(sql_delete(HaNetwork).where(HaNetwork.project_id == router.project_id))
        networks.delete(session, Context.admin(), cfg, network_id)
    session.flush()


# --- HA ports and states ------------------------------------------------------------------------


def drop_ports(session: Session, cfg: Domain, router_id: str, agent_ids: set[str] | None = None) -> None:
    rows = session.scalars(select(HaPortBinding).where(HaPortBinding.router_id == router_id)).all()
    for row in rows:
        if agent_ids is None or row.l3_agent_id in agent_ids:
            l3_ports.delete_port(session, cfg, row.port_id)


def sync_ports(session: Session, cfg: Domain, router_ids: list[str]) -> None:
    """Each L3 agent hosting an HA router gets its HA port (bound to its host), and ports of
    agents no longer hosting it go: called after every scheduling change."""
    for router_id in sorted(ha_ids(session, router_ids)):
        ha = session.get(HaRouter, router_id)
        router = session.get(Router, router_id)
        if ha is None or router is None or ha.network_id is None:
            continue
        hosts = dict(
            session.execute(
                select(Agent.id, Agent.host)
                .join(RouterL3AgentBinding, RouterL3AgentBinding.l3_agent_id == Agent.id)
                .where(RouterL3AgentBinding.router_id == router_id)
            ).all()
        )
        have = {
            b.l3_agent_id: b for b in session.scalars(select(HaPortBinding).where(HaPortBinding.router_id == router_id))
        }
        drop_ports(session, cfg, router_id, {a for a in have if a not in hosts})
        for agent_id, host in sorted(hosts.items()):
            if agent_id in have:
                continue
            port = l3_ports.create_port(
                session, cfg, network_id=ha.network_id, project_id="", device_owner=rules.HA_INTERFACE,
                device_id=router_id,
            )  # fmt: skip
            port.name = rules.HA_PORT_NAME % router.project_id
            session.add(HaPortBinding(port_id=port.id, router_id=router_id, l3_agent_id=agent_id, state=rules.STANDBY))
            session.flush()
            l3_ports.update_port(session, cfg, port.id, {"binding:host_id": host})


def states(session: Session, cfg: DomainConfig, router_id: str) -> dict[str, str]:
    """{L3 agent id: active|standby|unknown} of an HA router (empty for a legacy one).

    A dead (or disabled) agent's last "active" is shown as standby while another agent lives,
    as unknown when none does (Neutron's ``_get_bindings_and_update_router_state_for_dead_agents``;
    shown, not stored: the agent's next report sets it)."""
    rows = session.execute(
        select(HaPortBinding.state, Agent)
        .join(Agent, Agent.id == HaPortBinding.l3_agent_id)
        .where(HaPortBinding.router_id == router_id)
    ).all()
    live = {agent.id for _, agent in rows if agent.admin_state_up and agents.is_alive(agent, cfg)}
    shown = {}
    for state, agent in rows:
        if state == rules.ACTIVE and agent.id not in live:
            state = rules.STANDBY if live else rules.UNKNOWN
        shown[agent.id] = state
    return shown


def update_states(session: Session, cfg: Domain, host: str, reported: dict[str, str]) -> list[str]:
    """An L3 agent's report of its HA routers' states (Neutron's update_ha_routers_states).
    The router's ports follow the active side: bound to its host, so that only there they
    become ACTIVE. Returns the routers whose state on this host changed."""
    changed = []
    agent_id = session.scalar(select(Agent.id).where(Agent.host == host, Agent.agent_type == choice.L3_AGENT))
    if agent_id is None:
        return changed
    for router_id, raw in sorted(reported.items()):
        state = rules.normalise_state(raw)
        row = session.scalar(
            select(HaPortBinding).where(HaPortBinding.router_id == router_id, HaPortBinding.l3_agent_id == agent_id)
        )
        if row is None or row.state == state:
            continue
        row.state = state
        changed.append(router_id)
        if state == rules.ACTIVE:
            _follow_active(session, cfg, router_id, host)
    session.flush()
    return changed


def _follow_active(session: Session, cfg: Domain, router_id: str, host: str) -> None:
    router = session.get(Router, router_id)
    if router is None:
        return
    owned = session.scalars(
        select(Port.id).where(Port.device_id == router_id, Port.device_owner.in_(l3_ports.INTERFACE_OWNERS
                                                                                  | {l3_ports.ROUTER_GATEWAY}))
    ).all()
    for port_id in owned:
        l3_ports.update_port(session, cfg, port_id, {"binding:host_id": host})
