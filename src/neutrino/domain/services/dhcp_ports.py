"""The DHCP port a DHCP agent serves a network from: its own, a reserved one, or a new one.

As Neutron's DHCP agent sets its port up (``DeviceManager.setup_dhcp_port``): the port whose
device_id is this host's DHCP device id if it exists; otherwise a port that a dead or removed
agent left behind with device_id ``reserved_dhcp_port`` (``scheduling.dhcp.remove_network``),
which is claimed (device_id and binding host set to this host), so that the network keeps its
DHCP server address and MAC across a failover and instances' unicast renewals still reach it;
otherwise a new port with the lowest free address on each DHCP-enabled subnet, bound here.
The last two only for an agent that hosts the network.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.models import Agent, Network, Port, Subnet
from neutrino.domain.scheduling import choice
from neutrino.domain.scheduling.common import take_turns
from neutrino.domain.scheduling.dhcp import DHCP_OWNER, RESERVED_DHCP_PORT, dhcp_device_id, hosting_agent_ids
from neutrino.domain.services import ports
from neutrino.domain.config import DomainConfig


def _port_with_device_id(session: Session, network_id: str, device_id: str, *, lock: bool = False) -> Port | None:
    stmt = (
        select(Port)
        .where(Port.network_id == network_id, Port.device_id == device_id, Port.device_owner == DHCP_OWNER)
        .order_by(Port.id)
        .limit(1)
    )
    if lock:
        stmt = stmt.with_for_update()  # two agents claiming one reserved port: one wins
    return session.scalar(stmt)


def _check_hosting(session: Session, host: str, network_id: str) -> None:
    """Only an agent that hosts the network gets a port on it: an agent whose pass started
    before the network was moved away must not leave a second DHCP port behind (Neutron's
    ``_is_dhcp_agent_hosting_network``)."""
    agent = session.scalar(select(Agent).where(Agent.host == host, Agent.agent_type == choice.DHCP_AGENT))
    if agent is None:
        raise errors.AgentNotFound(id=f"{choice.DHCP_AGENT}@{host}")
    if agent.id not in hosting_agent_ids(session, network_id):
        raise errors.NetworkNotHostedByDhcpAgent(network_id=network_id, agent_id=agent.id)


def ensure_dhcp_port(session: Session, cfg: DomainConfig, *, host: str, network_id: str) -> str:
    """The id of ``host``'s DHCP port on ``network_id``, claiming or creating it if needed."""
    take_turns(session, "dhcp")  # against a concurrent move of the network (failover, admin)
    device_id = dhcp_device_id(network_id, host)
    own = _port_with_device_id(session, network_id, device_id)
    if own is not None:
        return own.id
    net = session.get(Network, network_id)
    if net is None:
        raise errors.NetworkNotFound(net_id=network_id)
    _check_hosting(session, host, network_id)
    admin = Context.admin(net.project_id)
    reserved = _port_with_device_id(session, network_id, RESERVED_DHCP_PORT, lock=True)
    if reserved is not None:
        ports.update(session, admin, cfg, reserved.id, {"device_id": device_id, "binding:host_id": host})
        return reserved.id
    subnets = session.scalars(select(Subnet.id).where(Subnet.network_id == network_id, Subnet.enable_dhcp.is_(True)))
    data = {
        "project_id": net.project_id, "network_id": network_id, "name": "", "device_owner": DHCP_OWNER,
        "device_id": device_id, "fixed_ips": [{"subnet_id": sid} for sid in subnets], "binding:host_id": host,
    }  # fmt: skip
    return ports.create(session, admin, cfg, data).id
