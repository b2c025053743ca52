"""Conntrack helpers of a router: ``/v2.0/routers/{router_id}/conntrack_helpers`` (l3-conntrack-helper).

A helper belongs to its router: whoever may see the router reads its helpers, whoever may change
it (its project's members, an admin) manages them, as Neutron's parent-owner rules say. Helper
and protocol are checked against the allowed list (domain/l3/conntrack_helpers.py); the same
(protocol, port, helper) twice on one router is a 400 naming the conflicting values, as in
Neutron. The L3 agent sets the helper on matching connections in the router's namespace
(agent/l3/ct_helpers.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.l3 import conntrack_helpers as rules
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import ConntrackHelper
from neutrino.domain.services import routers

COLUMNS = {
    "id": ConntrackHelper.id,
    "protocol": ConntrackHelper.protocol,
    "port": ConntrackHelper.port,
    "helper": ConntrackHelper.helper,
}
FIELDS = ("protocol", "port", "helper")


def get(session: Session, ctx: Context, router_id: str, helper_id: str) -> ConntrackHelper:
    routers.get(session, ctx, router_id)
    found = session.get(ConntrackHelper, helper_id)
    if found is None or found.router_id != router_id:
        raise errors.ConntrackHelperNotFound(id=helper_id)
    return found


def list_(session: Session, ctx: Context, router_id: str, q: ListQuery) -> list[ConntrackHelper]:
    routers.get(session, ctx, router_id)
    stmt = select(ConntrackHelper).where(ConntrackHelper.router_id == router_id)
    stmt = apply_filters(stmt, ConntrackHelper, q, COLUMNS)
    stmt = apply_order_and_page(session, stmt, ConntrackHelper, q, COLUMNS)
    return list(session.scalars(stmt))


def _check_duplicate(session: Session, router_id: str, values: dict[str, Any], own_id: str | None) -> None:
    stmt = select(ConntrackHelper.id).where(ConntrackHelper.router_id == router_id,
                                            *(COLUMNS[k] == values[k] for k in FIELDS))  # fmt: skip
    other = session.scalar(stmt)
    if other is not None and other != own_id:
        conflict = {"router_id": router_id, **{k: values[k] for k in FIELDS}}
        raise errors.BadRequest(resource=rules.RESOURCE, msg="A duplicate conntrack helper entry with same attributes "
                                f"already exists, conflicting values are {conflict}")  # fmt: skip


def create(session: Session, ctx: Context, cfg: Any, router_id: str, data: dict[str, Any]) -> ConntrackHelper:
    values = {k: data[k] for k in FIELDS}
    rules.check_allowed(values["helper"], values["protocol"])
    router = routers.get_for_write(session, ctx, router_id, "create_router_conntrack_helper")
    _check_duplicate(session, router.id, values, None)
    row = ConntrackHelper(router_id=router.id, **values)
    session.add(row)
    session.flush()
    return row


def update(session: Session, ctx: Context, cfg: Any, router_id: str, helper_id: str, data: dict[str, Any]) -> ConntrackHelper:
    routers.get_for_write(session, ctx, router_id, "update_router_conntrack_helper")
    row = get(session, ctx, router_id, helper_id)
    values = {k: data.get(k, getattr(row, k)) for k in FIELDS}
    rules.check_allowed(values["helper"], values["protocol"])
    _check_duplicate(session, router_id, values, row.id)
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
    return row


def delete(session: Session, ctx: Context, cfg: Any, router_id: str, helper_id: str) -> None:
    routers.get_for_write(session, ctx, router_id, "delete_router_conntrack_helper")
    session.delete(get(session, ctx, router_id, helper_id))
    session.flush()


def render(rows: list[ConntrackHelper]) -> list[dict[str, Any]]:
    return [{"id": r.id, "router_id": r.router_id, "protocol": r.protocol, "port": r.port, "helper": r.helper} for r in rows]

