"""RBAC on QoS policies (object type ``qos_policy``): ``access_as_shared`` lets a project read a
policy and put it on its networks and ports.

A policy is in use (RbacPolicyInUse, 409) while a project that has it on a network or port
would lose access (Neutron's ``_validate_rbac_policy_delete`` over the policy's bound
projects). Unlike networks and security groups, the owner's own networks and ports count when
the ``*`` policy goes: tempest ``test_policy_sharing_with_wildcard`` expects that 409
(docs/neutron-behaviour.md, "QoS"). ``QosPolicy.shared`` mirrors "a ``*`` policy exists".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.models import Network, Port, QosNetworkBinding, QosPolicy, QosPortBinding
from neutrino.domain.models.rbac import ACCESS_SHARED, WILDCARD
from neutrino.domain.rbac import access
from neutrino.domain.rbac.object_type import ObjectType

NAME = "qos_policy"


def _find(session: Session, ctx: Context, policy_id: str) -> QosPolicy:
    policy = session.get(QosPolicy, policy_id)
    if policy is None:
        raise errors.RbacPolicyNotFound(id=policy_id, object_type=NAME)
    return policy


def bound_projects(session: Session, policy_id: str) -> set[str]:
    """The projects whose networks or ports use the policy (its owner's included)."""
    nets = select(Network.project_id).join(QosNetworkBinding, QosNetworkBinding.network_id == Network.id).where(
        QosNetworkBinding.qos_policy_id == policy_id)
    ports = select(Port.project_id).join(QosPortBinding, QosPortBinding.port_id == Port.id).where(
        QosPortBinding.qos_policy_id == policy_id)
    return set(session.scalars(nets)) | set(session.scalars(ports))


def check_losing(session: Session, policy: QosPolicy, action: str, losing: str, remaining: set[str]) -> None:
    """May access for ``losing`` go? As Neutron's ``_validate_rbac_policy_delete``, the projects
    that keep access are those of the policies stored before the change: a retarget's new
    project does not count (retargeting ``*`` to the one project using the policy is still a
    409, tempest ``test_network_presence_prevents_policy_rbac_policy_deletion``), and a
    retarget to ``*`` is never checked."""
    if losing == policy.project_id:
        return
    users = bound_projects(session, policy.id)
    if losing != WILDCARD:
        if WILDCARD in remaining or losing not in users:
            return
    else:
        others = access.targets_of(session, NAME, policy.id, action) - {losing, WILDCARD}
        if users <= others:
            return
    raise errors.RbacPolicyInUse(object_id=policy.id, details=f"project_id={losing}")


def _after_change(session: Session, ctx: Context, policy: Any, action: str, event: str) -> None:
    policy.shared = WILDCARD in access.targets_of(session, NAME, policy.id, ACCESS_SHARED)


TYPE = ObjectType(
    name=NAME,
    actions=(ACCESS_SHARED,),
    find=_find,
    noun="objects",
    check_losing=check_losing,
    after_change=_after_change,
)
