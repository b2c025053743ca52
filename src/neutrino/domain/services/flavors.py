"""Flavors (``/v2.0/flavors``): the kinds of a service an operator offers, and the service
profiles bound to them (Neutron's flavors service plugin, neutron/db/flavors_db.py).

Anybody reads flavors; only an admin creates, updates, deletes them or binds profiles (403
otherwise: the flavor is visible). ``service_type`` must be the plugin type of a service this
server runs (400 InvalidServiceType) and cannot change. ``service_profiles`` is accepted on
POST and PUT and ignored, as Neutron does: profiles are bound through the sub-resource
(``bind``/``unbind``). Deleting a flavor drops its bindings. ``next_providers`` resolves a
flavor to the provider of its first bound profile, as Neutron's L3 flavors do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.listing import ListQuery, apply_filters, apply_order_and_page
from neutrino.domain.models import Flavor, FlavorServiceProfileBinding, ServiceProfile
from neutrino.domain.models.base import new_id
from neutrino.domain.wiring import Domain

F = Flavor
B = FlavorServiceProfileBinding
COLUMNS = {
    "id": F.id, "name": F.name, "description": F.description, "service_type": F.service_type, "enabled": F.enabled,
}  # fmt: skip


def admin_only(ctx: Context, action: str) -> None:
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action=action)


def get(session: Session, ctx: Context, flavor_id: str) -> Flavor:
    found = session.get(F, flavor_id) if isinstance(flavor_id, str) else None
    if found is None:
        raise errors.FlavorNotFound(flavor_id=flavor_id)
    return found


def list_(session: Session, ctx: Context, cfg: Domain, q: ListQuery) -> list[Flavor]:
    stmt = apply_filters(select(F), F, q, COLUMNS)
    return list(session.scalars(apply_order_and_page(session, stmt, F, q, COLUMNS)))


def _check_service_type(cfg: Domain, service_type: Any) -> None:
    if service_type not in cfg.services.types:
        raise errors.InvalidServiceType(service_type=service_type)


def create(session: Session, ctx: Context, cfg: Domain, data: dict[str, Any]) -> Flavor:
    _check_service_type(cfg, data["service_type"])  # an attribute validator in Neutron: before policy
    admin_only(ctx, "create_flavor")
    row = F(
        id=new_id(), name=data.get("name", ""), description=data.get("description", ""),
        service_type=data["service_type"], enabled=data.get("enabled", True) is not False,
    )  # fmt: skip
    session.add(row)
    return row


def update(
    session: Session, ctx: Context, cfg: Domain, flavor_id: str, data: dict[str, Any], if_match: int | None = None
) -> Flavor:
    row = get(session, ctx, flavor_id)
    admin_only(ctx, "update_flavor")
    set_fields(row, data, ("name", "description"))
    session.flush()
    return row


def set_fields(row: Any, data: dict[str, Any], keys: tuple[str, ...]) -> None:
    """An update's plain attributes onto ``row``; ``enabled`` only when given (None leaves it)."""
    for key in keys:
        if key in data:
            setattr(row, key, data[key])
    if data.get("enabled") is not None:
        row.enabled = bool(data["enabled"])


def delete(session: Session, ctx: Context, cfg: Domain, flavor_id: str, if_match: int | None = None) -> None:
    row = get(session, ctx, flavor_id)
    admin_only(ctx, "delete_flavor")
    session.execute(sql_delete(B).where(B.flavor_id == row.id))
    session.delete(row)
    session.flush()


def bind(session: Session, ctx: Context, flavor_id: str, profile_id: str) -> Flavor:
    """Bind the service profile ``profile_id`` to the flavor."""
    admin_only(ctx, "create_flavor_service_profile")
    flavor = get(session, ctx, flavor_id)
    if session.get(ServiceProfile, profile_id) is None:
        raise errors.ServiceProfileNotFound(sp_id=profile_id)
    if session.get(B, (flavor.id, profile_id)) is not None:
        raise errors.FlavorServiceProfileBindingExists(sp_id=profile_id, fl_id=flavor.id)
    session.add(B(flavor_id=flavor.id, service_profile_id=profile_id))
    session.flush()
    return flavor


def unbind(session: Session, ctx: Context, flavor_id: str, profile_id: str) -> None:
    admin_only(ctx, "delete_flavor_service_profile")
    found = session.get(B, (flavor_id, profile_id))
    if found is None:
        raise errors.FlavorServiceProfileBindingNotFound(sp_id=profile_id, fl_id=flavor_id)
    session.delete(found)
    session.flush()


def next_providers(session: Session, ctx: Context, cfg: Domain, flavor_id: str) -> list[dict[str, Any]]:
    """The driver and provider name of the flavor's first bound profile (Neutron has no order
    for "first"; here the smallest profile id, so the answer is stable). Neutron has no policy
    rule for it: the default one (admin or owner) hides the item from anyone but an admin, after
    the errors."""
    first = session.scalars(
        select(B.service_profile_id).where(B.flavor_id == flavor_id).order_by(B.service_profile_id)
    ).first()
    if first is None:
        raise errors.FlavorServiceProfileBindingNotFound(sp_id="", fl_id=flavor_id)
    profile = session.get(ServiceProfile, first)
    if profile is None:
        raise errors.ServiceProfileNotFound(sp_id=first)
    if not profile.enabled:
        raise errors.ServiceProfileDisabled()
    providers = cfg.services.find({"driver": [profile.driver]})
    if not providers:
        raise errors.ServiceProfileDriverNotFound(driver=profile.driver)
    return [{"driver": profile.driver, "provider": providers[0].name}] if ctx.is_admin else []


def render(session: Session, cfg: Domain, rows: list[Flavor], fresh: bool = False) -> list[dict[str, Any]]:
    bound: dict[str, list[str]] = {r.id: [] for r in rows}
    if rows and not fresh:
        stmt = select(B.flavor_id, B.service_profile_id).where(B.flavor_id.in_(list(bound))).order_by(B.service_profile_id)
        for flavor_id, profile_id in session.execute(stmt):
            bound[flavor_id].append(profile_id)
    return [
        {
            "id": r.id, "name": r.name, "description": r.description, "service_type": r.service_type,
            "enabled": r.enabled, "service_profiles": bound[r.id],
        }
        for r in rows
    ]  # fmt: skip
