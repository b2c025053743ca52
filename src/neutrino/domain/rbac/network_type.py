"""RBAC on networks: ``access_as_shared`` (ports, subnets) and ``access_as_external`` (gateways,
floating IPs), with Neutron's rules for taking access away and the cached flags.

The column ``networks.shared`` is true exactly when a ``*`` access_as_shared policy exists (the
API's ``shared`` also counts a policy for the caller's project: ``services/networks.py``);
``networks.router_external`` is Neutron's externalnetworks row: set by the first
access_as_external policy, cleared when the last one goes. Both are columns so that lists
filter on them without a join; this module keeps them in step with the policies.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.models import Network, Port, Router
from neutrino.domain.models.rbac import ACCESS_EXTERNAL, ACCESS_SHARED, WILDCARD
from neutrino.domain.rbac import access
from neutrino.domain.rbac.object_type import ObjectType
from neutrino.domain.services import default_external, networks

ROUTER_GATEWAY = "network:router_gateway"


def _find(session: Session, ctx: Context, network_id: str) -> Network:
    return networks.get(session, ctx, network_id)


def _in_use(net: Network, details: str) -> errors.RbacPolicyInUse:
    return errors.RbacPolicyInUse(object_id=net.id, details=details)


def _check_ports(session: Session, net: Network, losing: str, remaining: set[str]) -> None:
    """Neutron's ensure_no_project_ports_on_network: the ports that hold on to the access."""
    if losing == net.project_id:
        return  # the owner needs no policy
    stmt = select(Port.id).where(Port.network_id == net.id)
    if losing == WILDCARD:
        allowed = (remaining - {WILDCARD}) | {net.project_id}
        # ports without a project (router gateways, floating IPs) depend on no policy
        stmt = stmt.where(Port.project_id.notin_(allowed), Port.project_id != "")
    else:
        if WILDCARD in remaining:
            return
        stmt = stmt.where(Port.project_id == losing)
    if session.scalar(stmt.limit(1)) is not None:
        raise _in_use(
            net, f"Unable to reconfigure sharing settings for network {net.id}. Multiple tenants are using it."
        )


def _check_gateways(session: Session, net: Network, losing: str, remaining: set[str]) -> None:
    """Neutron's _validate_ext_not_in_use_by_project: routers whose gateway is on the network."""
    gateways = select(Port.id).where(Port.network_id == net.id, Port.device_owner == ROUTER_GATEWAY)
    stmt = select(Router.id).where(Router.gw_port_id.in_(gateways))
    if losing == WILDCARD:
        if default_external.is_default(session, net.id):
            raise _in_use(net, "Default external networks must be shared to everyone.")
        stmt = stmt.where(Router.project_id.notin_(remaining - {WILDCARD}))
    else:
        if WILDCARD in remaining:
            return
        stmt = stmt.where(Router.project_id == losing)
    if session.scalar(stmt.limit(1)) is not None:
        raise _in_use(net, "There are routers attached to this network that depend on this policy for access.")


def _check_losing(session: Session, net: Network, action: str, losing: str, remaining: set[str]) -> None:
    if action == ACCESS_SHARED:
        _check_ports(session, net, losing, remaining)
    else:
        _check_gateways(session, net, losing, remaining)


def _before_create(session: Session, ctx: Context, net: Network, action: str, event: str) -> None:
    # an access_as_external policy makes the network external (without a '*' policy of its own)
    if action == ACCESS_EXTERNAL and not net.router_external:
        net.router_external = True


def _after_change(session: Session, ctx: Context, net: Any, action: str, event: str) -> None:
    if action == ACCESS_SHARED:
        net.shared = WILDCARD in access.targets_of(session, "network", net.id, ACCESS_SHARED)
    elif event == "delete" and net.router_external and not access.targets_of(session, "network", net.id, ACCESS_EXTERNAL):
        gateway = session.scalar(
            select(Port.id).where(Port.network_id == net.id, Port.device_owner == ROUTER_GATEWAY).limit(1)
        )
        if gateway is not None:
            raise errors.ExternalNetworkInUse(net_id=net.id)
        net.router_external = False
    net.bump_revision()


TYPE = ObjectType(
    name="network",
    actions=(ACCESS_SHARED, ACCESS_EXTERNAL),
    find=_find,
    noun="networks",
    check_losing=_check_losing,
    before_create=_before_create,
    after_change=_after_change,
)
