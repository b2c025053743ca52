"""``is_default`` on networks (added by auto-allocated-topology): which external network
get-me-a-network connects routers to.

Only an admin sets it (403 otherwise). It means something only on an external network: on
another network it is ignored, and an external network shows it (internal ones do not), as in
Neutron where it lives in the external network's own row. At most one external network is the
default: marking a second one is 409 DefaultExternalNetworkExists.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.models import ExternalNetworkDefault, Network
from neutrino.domain.services.extensions import Extension

IS_DEFAULT = "is_default"


def _denied(operation: str) -> errors.PolicyNotAuthorized:
    return errors.PolicyNotAuthorized(action=f"(rule:{operation}_network and rule:{operation}_network:{IS_DEFAULT})")


def _set(session: Session, network_id: str, value: bool) -> bool:
    row = session.get(ExternalNetworkDefault, network_id)
    current = bool(row.is_default) if row is not None else False
    if current == value:
        return False
    if value:
        other = session.scalar(
            select(ExternalNetworkDefault.network_id).where(
                ExternalNetworkDefault.is_default.is_(True), ExternalNetworkDefault.network_id != network_id
            ).limit(1)
        )
        if other is not None:
            raise errors.DefaultExternalNetworkExists(net_id=other)
    if row is None:
        session.add(ExternalNetworkDefault(network_id=network_id, is_default=value))
    else:
        row.is_default = value
    session.flush()
    return True


def is_default(session: Session, network_id: str) -> bool:
    """Whether ``network_id`` is the default external network."""
    row = session.get(ExternalNetworkDefault, network_id)
    return bool(row is not None and row.is_default)


class DefaultExternalNetwork(Extension):
    name = "auto-allocated-topology"
    filters = {
        IS_DEFAULT: lambda values: Network.id.in_(
            select(ExternalNetworkDefault.network_id).where(ExternalNetworkDefault.is_default.in_(values))
        )
        if any(values)
        else Network.id.not_in(
            select(ExternalNetworkDefault.network_id).where(ExternalNetworkDefault.is_default.is_(True))
        )
    }

    def after_create(self, session: Session, ctx: Context, cfg: Any, obj: Any, data: dict[str, Any]) -> None:
        if IS_DEFAULT not in data:
            return
        if not ctx.is_admin:
            raise _denied("create")
        if data.get("router:external") and data[IS_DEFAULT]:
            _set(session, obj.id, True)

    def before_update(self, session: Session, ctx: Context, cfg: Any, obj: Any, data: dict[str, Any]) -> bool:
        external = data.get("router:external", obj.router_external)
        if not external:
            session.execute(delete(ExternalNetworkDefault).where(ExternalNetworkDefault.network_id == obj.id))
        if IS_DEFAULT not in data:
            return False
        if not ctx.is_admin:
            raise _denied("update")
        return bool(external) and _set(session, obj.id, bool(data[IS_DEFAULT]))

    def render(self, db: Session | Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
        external = [r.id for r in rows if getattr(r, "router_external", False)]
        if not external:
            return
        defaults = set(
            db.execute(
                select(ExternalNetworkDefault.network_id).where(
                    ExternalNetworkDefault.network_id.in_(external), ExternalNetworkDefault.is_default.is_(True)
                )
            ).scalars()
        )
        for row, d in zip(rows, dicts, strict=True):
            if getattr(row, "router_external", False):
                d[IS_DEFAULT] = row.id in defaults
