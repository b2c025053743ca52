"""Address groups: create, read, update, delete, and the add/remove addresses actions.

A group belongs to a project; its owner (or an admin) sees and changes it, another project
gets 404 unless an RBAC policy (rbac-address-group) shares it: then that project sees it and
may name it in its rules, but changing it is still 404, as in Neutron. A group named by a security group rule
(``remote_address_group_id``) cannot be deleted (409 AddressGroupInUse). Changing its
addresses changes what those rules match on every host: the projection lists the group's
addresses, and the notifier reaches the hosts whose rules name the group (docs/architecture.md).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import delete as sql_delete, insert, or_, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.config import DomainConfig
from neutrino.domain.context import Context
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import AddressGroup, AddressGroupAddress, SecurityGroupRule
from neutrino.domain.models.base import new_id
from neutrino.domain.rbac import access
from neutrino.domain.secgroups import address_groups as pure
from neutrino.domain.services import common

ADDRESSES = AddressGroupAddress.__table__

COLUMNS = {
    "id": AddressGroup.id,
    "name": AddressGroup.name,
    "project_id": AddressGroup.project_id,
    "description": AddressGroup.description,
    "revision_number": AddressGroup.revision_number,
    "created_at": AddressGroup.created_at,
    "updated_at": AddressGroup.updated_at,
}


def get(session: Session, ctx: Context, group_id: str) -> AddressGroup:
    """The group if the caller owns it or a policy shares it with its project (or '*')."""
    group = session.get(AddressGroup, group_id) if isinstance(group_id, str) else None
    if group is None or not (
        ctx.owns(group.project_id) or access.has_grant(session, "address_group", group.id, ctx.project_id)
    ):
        raise errors.AddressGroupNotFound(address_group_id=group_id)
    return group


def _owned(session: Session, ctx: Context, group_id: str, *, lock: bool = False) -> AddressGroup:
    """The group if the caller may change it: a project it is shared with gets 404 too."""
    group = session.get(AddressGroup, group_id, with_for_update=lock or None) if isinstance(group_id, str) else None
    if group is None or not ctx.owns(group.project_id):
        raise errors.AddressGroupNotFound(address_group_id=group_id)
    return group


def check_visible(session: Session, ctx: Context, group_id: str) -> None:
    """A rule may name only a group its creator can see (404 AddressGroupNotFound)."""
    get(session, ctx, group_id)


def list_(session: Session, ctx: Context, cfg: DomainConfig, q: ListQuery) -> list[AddressGroup]:
    stmt = select(AddressGroup)
    if not ctx.is_admin:
        stmt = stmt.where(
            or_(AddressGroup.project_id == ctx.project_id, access.granted("address_group", AddressGroup.id, ctx.project_id))
        )
    stmt = apply_filters(stmt, AddressGroup, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, AddressGroup, q, COLUMNS)
    return list(session.scalars(stmt))


def addresses_of(session: Session, group_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    if group_ids:
        stmt = select(ADDRESSES).where(ADDRESSES.c.address_group_id.in_(group_ids)).order_by(ADDRESSES.c.address)
        for row in session.connection().execute(stmt):
            out[row.address_group_id].append(row.address)
    return out


def create(session: Session, ctx: Context, cfg: DomainConfig, data: dict[str, Any]) -> AddressGroup:
    ctx.require_write("create_address_group")
    group = AddressGroup(
        id=new_id(), project_id=data["project_id"], name=data.get("name", ""), description=data.get("description", "")
    )
    session.add(group)
    session.flush()
    addresses = data.get("addresses")
    if addresses:
        _add(session, group, addresses)
    return group


def _add(session: Session, group: AddressGroup, requested: Any) -> None:
    present, missing = pure.split_requested(addresses_of(session, [group.id])[group.id], requested)
    if present:
        raise errors.AddressesAlreadyExist(addresses=present, address_group_id=group.id)
    if missing:
        session.connection().execute(
            insert(ADDRESSES), [{"address_group_id": group.id, "address": a} for a in missing]
        )


def update(
    session: Session, ctx: Context, cfg: DomainConfig, group_id: str, data: dict[str, Any],
    if_match: int | None = None,
) -> AddressGroup:
    group = _owned(session, ctx, group_id)
    ctx.require_write("update_address_group")
    common.check_revision(group, if_match)
    if common.apply_updates(group, data, ("name", "description")):
        group.bump_revision()
    session.flush()
    return group


def add_addresses(session: Session, ctx: Context, group_id: str, addresses: Any) -> AddressGroup:
    group = _owned(session, ctx, group_id, lock=True)
    ctx.require_write("add_addresses")
    _add(session, group, addresses)
    group.bump_revision()
    session.flush()
    return group


def remove_addresses(session: Session, ctx: Context, group_id: str, addresses: Any) -> AddressGroup:
    group = _owned(session, ctx, group_id, lock=True)
    ctx.require_write("remove_addresses")
    present, missing = pure.split_requested(addresses_of(session, [group.id])[group.id], addresses)
    if missing:
        raise errors.AddressesNotFound(addresses=missing, address_group_id=group.id)
    if present:
        session.connection().execute(
            sql_delete(ADDRESSES).where(ADDRESSES.c.address_group_id == group.id, ADDRESSES.c.address.in_(present))
        )
    group.bump_revision()
    session.flush()
    return group


def delete(session: Session, ctx: Context, cfg: DomainConfig, group_id: str, if_match: int | None = None) -> None:
    group = _owned(session, ctx, group_id)
    ctx.require_write("delete_address_group")
    common.check_revision(group, if_match)
    # any project's rule counts (Neutron looks with an elevated context)
    used = select(SecurityGroupRule.id).where(SecurityGroupRule.remote_address_group_id == group.id).limit(1)
    if session.scalar(used) is not None:
        raise errors.AddressGroupInUse(address_group_id=group.id)
    common.delete_tags(session, group.id)
    access.delete_policies_of(session, "address_group", group.id)
    session.delete(group)
    session.flush()


def render(session: Session, cfg: DomainConfig, groups: list[AddressGroup], fresh: bool = False) -> list[dict[str, Any]]:
    ids = [g.id for g in groups]
    addresses = addresses_of(session, ids)
    out = []
    for g in groups:
        d = {"id": g.id, "name": g.name, "addresses": addresses.get(g.id, [])}
        d.update(common.standard_fields(g, []))
        d.pop("tags", None)
        out.append(d)
    return out
