"""Service profiles (``/v2.0/service_profiles``): which provider driver, or what free-form
``metainfo``, implements a flavor (Neutron's neutron/db/flavors_db.py).

Admin only, reads included: to anyone else the list is empty and a profile is 404, and a
create is 403. A non-empty ``driver`` must be the driver of a provider this server has (404
ServiceProfileDriverNotFound); without a driver ``metainfo`` is required (400
ServiceProfileEmpty). A profile bound to a flavor can be neither updated nor deleted (409
ServiceProfileInUse), as in Neutron.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import FlavorServiceProfileBinding, ServiceProfile
from neutrino.domain.models.base import new_id
from neutrino.domain.services.flavors import admin_only, set_fields
from neutrino.domain.wiring import Domain

P = ServiceProfile
COLUMNS = {
    "id": P.id, "description": P.description, "driver": P.driver, "enabled": P.enabled, "metainfo": P.metainfo,
}  # fmt: skip


def get(session: Session, ctx: Context, profile_id: str) -> ServiceProfile:
    found = session.get(P, profile_id) if isinstance(profile_id, str) and ctx.is_admin else None
    if found is None:
        raise errors.ServiceProfileNotFound(sp_id=profile_id)
    return found


def list_(session: Session, ctx: Context, cfg: Domain, q: ListQuery) -> list[ServiceProfile]:
    if not ctx.is_admin:
        return []
    stmt = apply_filters(select(P), P, q, COLUMNS)
    return list(session.scalars(apply_order_and_page(session, stmt, P, q, COLUMNS)))


def _check_driver(cfg: Domain, driver: str) -> None:
    if not cfg.services.find({"driver": [driver]}):
        raise errors.ServiceProfileDriverNotFound(driver=driver)


def _ensure_unbound(session: Session, profile_id: str) -> None:
    B = FlavorServiceProfileBinding
    if session.scalar(select(exists().where(B.service_profile_id == profile_id))):
        raise errors.ServiceProfileInUse(sp_id=profile_id)


def create(session: Session, ctx: Context, cfg: Domain, data: dict[str, Any]) -> ServiceProfile:
    admin_only(ctx, "create_service_profile")
    driver = data.get("driver") or ""
    if driver:
        _check_driver(cfg, driver)
    elif not data.get("metainfo"):
        raise errors.ServiceProfileEmpty()
    row = P(
        id=new_id(), description=data.get("description", ""), driver=driver,
        enabled=data.get("enabled", True) is not False, metainfo=data.get("metainfo", ""),
    )  # fmt: skip
    session.add(row)
    return row


def update(
    session: Session, ctx: Context, cfg: Domain, profile_id: str, data: dict[str, Any], if_match: int | None = None
) -> ServiceProfile:
    row = get(session, ctx, profile_id)
    admin_only(ctx, "update_service_profile")
    if data.get("driver"):
        _check_driver(cfg, data["driver"])
    _ensure_unbound(session, row.id)
    set_fields(row, data, ("description", "driver", "metainfo"))
    session.flush()
    return row


def delete(session: Session, ctx: Context, cfg: Domain, profile_id: str, if_match: int | None = None) -> None:
    row = get(session, ctx, profile_id)
    admin_only(ctx, "delete_service_profile")
    _ensure_unbound(session, row.id)
    session.delete(row)
    session.flush()


def render(session: Session, cfg: Domain, rows: list[ServiceProfile], fresh: bool = False) -> list[dict[str, Any]]:
    return [
        {"id": r.id, "description": r.description, "driver": r.driver, "enabled": r.enabled, "metainfo": r.metainfo}
        for r in rows
    ]
