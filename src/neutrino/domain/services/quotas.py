"""Quotas: per-project limits over the configured defaults, and their usage."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.models import Network, Port, Quota, Subnet
from neutrino.domain.models import SecurityGroup, SecurityGroupRule
from neutrino.domain.models import FloatingIP, RbacPolicy, Router, RouterRoute, SubnetPool
from neutrino.domain.config import DomainConfig

# the resources this server counts; later services register theirs here
TRACKED: dict[str, Any] = {"network": Network, "subnet": Subnet, "port": Port}
TRACKED["security_group"] = SecurityGroup
TRACKED["security_group_rule"] = SecurityGroupRule
TRACKED["router"] = Router
TRACKED["floatingip"] = FloatingIP
TRACKED["subnetpool"] = SubnetPool
TRACKED["rbac_policy"] = RbacPolicy
MAX_LIMIT = 2**31 - 1

# Neutron's other quotas, shown and settable like the rest so that clients (``openstack quota
# show``) see every resource: ``router_route`` limits the routes of one router (checked by
# routers.set_routes, as Neutron's limit_check)
LIMIT_ONLY = ("router_route",)
ALL = (*TRACKED, *LIMIT_ONLY)


def _require_admin(ctx: Context) -> None:
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action="rule:update_quota")


def _require_view(ctx: Context, project_id: str) -> None:
    if not ctx.is_admin and project_id != ctx.project_id:
        raise errors.NotAuthorized("Non-admin is not authorized to access quotas for another project")


def defaults(cfg: DomainConfig) -> dict[str, int]:
    return {name: cfg.quotas.get(name, -1) for name in ALL}


def limits(session: Session, cfg: DomainConfig, project_id: str) -> dict[str, int]:
    out = defaults(cfg)
    for row in session.scalars(select(Quota).where(Quota.project_id == project_id)):
        if row.resource in out:
            out[row.resource] = row.limit
    return out


def show(session: Session, ctx: Context, cfg: DomainConfig, project_id: str) -> dict[str, int]:
    _require_view(ctx, project_id)
    return limits(session, cfg, project_id)


def usage(session: Session, project_id: str, name: str) -> int:
    """How many of resource ``name`` the project holds (0 for those never used here)."""
    model = TRACKED.get(name)
    used = 0
    if model is not None:
        used = session.scalar(select(func.count()).select_from(model).where(model.project_id == project_id))
    elif name == "router_route":
        used = session.scalar(
            select(func.count()).select_from(RouterRoute).join(Router, Router.id == RouterRoute.router_id)
            .where(Router.project_id == project_id)
        )
    return used or 0


def details(session: Session, ctx: Context, cfg: DomainConfig, project_id: str) -> dict[str, Any]:
    _require_view(ctx, project_id)
    return {
        name: {"limit": limit, "used": usage(session, project_id, name), "reserved": 0}
        for name, limit in limits(session, cfg, project_id).items()
    }


def list_overrides(session: Session, ctx: Context, cfg: DomainConfig) -> list[dict[str, Any]]:
    _require_admin(ctx)
    projects = session.scalars(select(Quota.project_id).distinct().order_by(Quota.project_id))
    out = []
    for pid in projects:
        item: dict[str, Any] = dict(limits(session, cfg, pid))
        item["project_id"] = pid
        item["tenant_id"] = pid
        out.append(item)
    return out


def validate_changes(changes: Any) -> dict[str, int]:
    if not isinstance(changes, dict) or not changes:
        raise errors.HTTPBadRequest(msg="Unable to find 'quota' in request body")
    unknown = [k for k in changes if k not in ALL and k not in ("project_id", "tenant_id", "force", "check_limit")]
    if unknown:
        raise errors.HTTPBadRequest(msg=f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    out: dict[str, int] = {}
    for key, value in changes.items():
        if key not in ALL:
            continue
        try:
            number = int(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or (isinstance(value, float) and value != int(value)):
            raise errors.HTTPBadRequest(msg=f"Invalid input for {key}. Reason: '{value}' is not an integer.")
        if number < -1 or number > MAX_LIMIT:
            raise errors.HTTPBadRequest(
                msg=f"Invalid input for {key}. Reason: '{number}' is too small - must be at least '-1'."
                if number < -1
                else f"Invalid input for {key}. Reason: '{number}' is too large - must be no larger than '{MAX_LIMIT}'."
            )
        out[key] = number
    return out


def update(
    session: Session, ctx: Context, cfg: DomainConfig, project_id: str, changes: dict[str, int],
    check_limit: bool = False,
) -> dict[str, int]:
    """``check_limit`` (the default: the request did not say ``force: true``) refuses a limit
    below what the project already uses (400), as Neutron's quotasv2 ``update`` does; -1
    (unlimited) is never below usage (docs/neutron-behaviour.md)."""
    _require_admin(ctx)
    if check_limit:
        for resource, limit in changes.items():
            used = usage(session, project_id, resource)
            if 0 <= limit < used:
                raise errors.HTTPBadRequest(
                    msg=f"Quota limit {limit} for {resource} must be greater than or equal to "
                    f"already used {used}"
                )
    for resource, limit in changes.items():
        row = session.get(Quota, (project_id, resource))
        if row is None:
            session.add(Quota(project_id=project_id, resource=resource, limit=limit))
        else:
            row.limit = limit
    session.flush()
    return limits(session, cfg, project_id)


def reset(session: Session, ctx: Context, project_id: str) -> None:
    _require_admin(ctx)
    session.execute(sql_delete(Quota).where(Quota.project_id == project_id))
