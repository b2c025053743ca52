"""What the topology page draws, read from the database in one transaction: every network,
subnet, port (with its binding's host), router (with the hosts of its L3 agents), floating IP
and agent (liveness, heartbeat age and the ``configurations`` it reports: bridge mappings,
tunnel IP and types), and which hosts serve each network's DHCP. An admin's view: nothing is
filtered by project. Drift is added by the API from the agents' audits when asked (``api/routes/topology.py``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from neutrino.domain.config import DomainConfig
from neutrino.domain.models import (
    Agent,
    FloatingIP,
    Network,
    NetworkDhcpAgentBinding,
    Port,
    PortBinding,
    Router,
    RouterL3AgentBinding,
    Subnet,
)
from neutrino.domain.models.base import utcnow
from neutrino.domain.models.segment import NetworkSegment
from neutrino.domain.scheduling import choice
from neutrino.tools.topology import state as st

def _agents(session: Session, cfg: DomainConfig, now: datetime) -> tuple[st.Agent, ...]:
    rows = session.scalars(select(Agent).order_by(Agent.host, Agent.agent_type)).all()
    return tuple(
        st.Agent(host=a.host, agent_type=a.agent_type, alive=choice.is_alive(a.heartbeat_timestamp, now, cfg.agent_down_time),
                 heartbeat_age=max(0.0, (now - a.heartbeat_timestamp).total_seconds()), admin_state_up=a.admin_state_up,
                 configurations=dict(a.configurations or {}))  # fmt: skip
        for a in rows
    )


def read(session: Session, cfg: DomainConfig, now: datetime | None = None) -> st.TopologyState:
    now = (now or utcnow()).replace(microsecond=0, tzinfo=None)
    segments: dict[str, list[st.Segment]] = {}
    for s in session.scalars(select(NetworkSegment).order_by(NetworkSegment.network_id, NetworkSegment.segment_index)):
        segments.setdefault(s.network_id, []).append(st.Segment(s.network_type, s.physical_network, s.segmentation_id))
    networks = tuple(
        st.Network(n.id, n.name, n.status, n.admin_state_up, n.router_external, n.shared, tuple(segments.get(n.id, ())))
        for n in session.scalars(select(Network).order_by(Network.name, Network.id))
    )
    subnets = tuple(
        st.Subnet(s.id, s.name, s.network_id, s.cidr, s.gateway_ip)
        for s in session.scalars(select(Subnet).order_by(Subnet.network_id, Subnet.cidr))
    )
    hosts = {pid: host for pid, host in session.execute(select(PortBinding.port_id, PortBinding.host))}
    ports = tuple(
        st.Port(p.id, p.name, p.network_id, p.device_owner, p.device_id, p.status, p.admin_state_up, hosts.get(p.id, ""),
                p.mac_address, tuple((a.subnet_id, a.ip_address) for a in p.fixed_ips))  # fmt: skip
        for p in session.scalars(select(Port).options(selectinload(Port.fixed_ips)).order_by(Port.id))
    )
    agent_hosts = {aid: host for aid, host in session.execute(select(Agent.id, Agent.host))}
    router_hosts: dict[str, list[str]] = {}
    for router_id, agent_id in session.execute(select(RouterL3AgentBinding.router_id, RouterL3AgentBinding.l3_agent_id)):
        router_hosts.setdefault(router_id, []).append(agent_hosts.get(agent_id, "?"))
    routers = tuple(
        st.Router(r.id, r.name, r.status, r.admin_state_up, tuple(sorted(router_hosts.get(r.id, ()))), r.enable_snat)
        for r in session.scalars(select(Router).order_by(Router.name, Router.id))
    )
    fips = tuple(
        st.FloatingIP(f.id, f.floating_ip_address, f.floating_network_id, f.fixed_port_id, f.fixed_ip_address, f.router_id,
                      f.status)  # fmt: skip
        for f in session.scalars(select(FloatingIP).order_by(FloatingIP.floating_ip_address))
    )
    dhcp: dict[str, list[str]] = {}
    for network_id, agent_id in session.execute(
        select(NetworkDhcpAgentBinding.network_id, NetworkDhcpAgentBinding.dhcp_agent_id)
    ):
        dhcp.setdefault(network_id, []).append(agent_hosts.get(agent_id, "?"))
    return st.TopologyState(
        networks=networks, subnets=subnets, ports=ports, routers=routers, floating_ips=fips,
        agents=_agents(session, cfg, now), dhcp_hosts={k: tuple(sorted(v)) for k, v in dhcp.items()},
        agent_down_time=cfg.agent_down_time,
    )  # fmt: skip
