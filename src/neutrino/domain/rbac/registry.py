"""The object types an RBAC policy may name: a table other features extend.

Each entry says which actions the type takes and carries its hooks: how to find the object
as the caller sees it, which projects would lose access that they still use (Neutron's
RbacPolicyInUse) and what to recompute once the policies changed (a network's ``shared`` and
``router:external``). Adding a type is a module like ``subnetpool_type`` (its
``TYPE = ObjectType(name="subnetpool", actions=(ACCESS_SHARED,), find=..., check_losing=...)``;
``rbac/bound.py`` holds Neutron's generic in-use rule), one line in ``OBJECT_TYPES``, and in
the type's own service ``access.granted("subnetpool", SubnetPool.id, ctx.project_id)`` in its
visibility rule and ``access.delete_policies_of`` when an object is deleted.
"""

from __future__ import annotations

from neutrino.domain.rbac import (
    address_group_type,
    address_scope_type,
    network_type,
    qos_policy_type,
    security_group_type,
    subnetpool_type,
)
from neutrino.domain.rbac.object_type import ObjectType

OBJECT_TYPES: dict[str, ObjectType] = {
    t.name: t
    for t in (
        network_type.TYPE,
        security_group_type.TYPE,
        qos_policy_type.TYPE,
        subnetpool_type.TYPE,
        address_scope_type.TYPE,
        address_group_type.TYPE,
    )
}


def object_types() -> dict[str, ObjectType]:
    """Every registered type, by name."""
    return OBJECT_TYPES
