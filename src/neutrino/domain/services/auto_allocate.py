"""Get-me-a-network (auto-allocated-topology): one call gives a project a working network.

``GET /v2.0/auto-allocated-topology/{project_id}`` returns the project's allocated network,
building it on first use: a network ``auto_allocated_network``, one subnet per default subnet
pool (``auto_allocated_subnet_v4``/``_v6``) and a router ``auto_allocated_router`` with its
gateway on the default external network (``is_default``) and an interface on each subnet. The
network is created down and set up once everything is in place, as Neutron does. Without a
default external network: 409 AutoAllocationFailure "No default router:external network";
without a default subnet pool: 409 "Unable to provide project private network" (the dry run,
``?fields=dry-run``, says "No default subnetpools defined"). Unlike Neutron, the whole build
is one transaction, so a failure leaves nothing behind. ``DELETE`` removes the topology.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.models import AutoAllocatedTopology, ExternalNetworkDefault, Network, Router, Subnet
from neutrino.domain.services import networks, router_interfaces, routers, subnet_pools, subnets
from neutrino.domain.wiring import Domain

DRY_RUN = "dry-run"
NETWORK_NAME = "auto_allocated_network"
ROUTER_NAME = "auto_allocated_router"


def project_of(ctx: Context, project_id: str) -> str:
    """``None`` in the path means the caller's project; another project needs admin (401, as
    Neutron's NotAuthorized)."""
    if project_id == "None":
        project_id = ctx.project_id or ""
    if not ctx.is_admin and project_id != ctx.project_id:
        raise errors.NotAuthorized()
    return project_id


def default_external_network(session: Session) -> str:
    found = session.scalars(
        select(ExternalNetworkDefault.network_id)
        .join(Network, Network.id == ExternalNetworkDefault.network_id)
        .where(ExternalNetworkDefault.is_default.is_(True), Network.router_external.is_(True))
        .order_by(ExternalNetworkDefault.network_id)
    ).first()
    if found is None:
        raise errors.AutoAllocationFailure(reason="No default router:external network")
    return found


def default_subnet_requests(session: Session, ctx: Context) -> list[dict[str, Any]]:
    """The subnets to create, one per default subnet pool ``ctx`` sees (IPv4 first): Neutron
    asks each default pool for a prefix of its default length (network_id and project_id are
    filled in by the caller)."""
    requests = []
    for version in (4, 6):
        pool = subnet_pools.default_pool(session, ctx, version)
        if pool is not None:
            requests.append({"name": f"auto_allocated_subnet_v{version}", "ip_version": version, "subnetpool_id": pool.id})
    return requests


def _subnet_data(item: dict[str, Any], network_id: str, project_id: str) -> dict[str, Any]:
    return {
        "description": "",
        "enable_dhcp": True,
        "dns_nameservers": [],
        "host_routes": [],
        "ipv6_ra_mode": None,
        "ipv6_address_mode": None,
        **item,
        "network_id": network_id,
        "project_id": project_id,
    }


def _response(network_id: str, project_id: str) -> dict[str, Any]:
    return {"id": network_id, "project_id": project_id, "tenant_id": project_id}


def get(session: Session, ctx: Context, cfg: Domain, project_id: str, *, dry_run: bool = False) -> dict[str, Any]:
    project_id = project_of(ctx, project_id)
    if dry_run:
        default_external_network(session)
        if not default_subnet_requests(session, dataclasses.replace(ctx, project_id=project_id)):
            raise errors.AutoAllocationFailure(reason="No default subnetpools defined")
        return {"id": "dry-run=pass", "project_id": project_id, "tenant_id": project_id}
    existing = session.get(AutoAllocatedTopology, project_id)
    if existing is not None:
        return _response(existing.network_id, project_id)
    external_id = default_external_network(session)
    owner = dataclasses.replace(ctx, project_id=project_id)
    net = networks.create(
        session, owner, cfg,
        {"name": NETWORK_NAME, "admin_state_up": False, "project_id": project_id, "shared": False, "description": ""},
    )
    requests = default_subnet_requests(session, owner)
    if not requests:
        raise errors.AutoAllocationFailure(reason="Unable to provide project private network")
    made = [subnets.create(session, owner, cfg, _subnet_data(r, net.id, project_id)) for r in requests]
    router = routers.create(
        session, owner, cfg,
        {"name": ROUTER_NAME, "project_id": project_id, "admin_state_up": True, "description": "",
         "external_gateway_info": {"network_id": external_id}},
    )
    for subnet in made:
        router_interfaces.add(session, owner, cfg, router.id, subnet_id=subnet.id)
    session.add(AutoAllocatedTopology(project_id=project_id, network_id=net.id, router_id=router.id))
    networks.update(session, owner, cfg, net.id, {"admin_state_up": True})
    session.flush()
    return _response(net.id, project_id)


def delete(session: Session, ctx: Context, cfg: Domain, project_id: str) -> None:
    """Interfaces, router, then the network (its subnets go with it); parts already removed by
    hand are skipped, as in Neutron."""
    project_id = project_of(ctx, project_id)
    topology = session.get(AutoAllocatedTopology, project_id)
    if topology is None:
        return
    network_id, router_id = topology.network_id, topology.router_id
    session.delete(topology)
    session.flush()
    if router_id and session.get(Router, router_id) is not None:
        for subnet_id in session.scalars(select(Subnet.id).where(Subnet.network_id == network_id)):
            try:
                router_interfaces.remove(session, ctx, cfg, router_id, subnet_id=subnet_id)
            except errors.NotFound:
                pass
        routers.delete(session, ctx, cfg, router_id)
    if session.get(Network, network_id) is not None:
        networks.delete(session, ctx, cfg, network_id)
