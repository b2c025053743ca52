"""Network extensions: provider segments and MTU (ML2), and external networks.

``provider:network_type`` / ``provider:physical_network`` / ``provider:segmentation_id``
(Neutron's ``provider`` extension) are an admin's choice of segment: a member sending any of
them is refused (403) and never sees them. ``segments`` (``multi-provider``) asks for several
segments at once; such a network shows the list instead of the provider attributes. Without them the network gets a project segment
from ``tenant_network_types`` (first type with a free one), else 503 NoNetworkAvailable.
The network's ``mtu`` follows its segment's type, or is what the user asked for within it
(``net-mtu-writable``, checked by domain/ml2/network_mtu.py). The segment is released when the network
goes. Changing the segment of an existing network is refused (400), as ML2 does.

``router:external`` (``external-net``) marks a network routers may use as a gateway and
floating IPs come from; only an admin sets it, and every project sees such a network.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context, current
from neutrino.domain.ml2 import network_mtu, segments
from neutrino.domain.ml2.api import NetworkContext, Segment
from neutrino.domain.ml2.manager import Manager
from neutrino.domain.models import Network, NetworkSegment, Port, Subnet
from neutrino.domain.rbac import access
from neutrino.domain.config import DomainConfig
from neutrino.domain.rows import preloaded
from neutrino.domain.services.extensions import Extension
from neutrino.domain.wiring import Domain

NETWORK_TYPE = "provider:network_type"
PHYSICAL_NETWORK = "provider:physical_network"
SEGMENTATION_ID = "provider:segmentation_id"
PROVIDER_ATTRS = (NETWORK_TYPE, PHYSICAL_NETWORK, SEGMENTATION_ID)
SEGMENTS = "segments"
EXTERNAL = "router:external"
ROUTER_GATEWAY = "network:router_gateway"

NETWORKS = Network.__table__


def _segment_filter(column: Any) -> Any:
    return lambda values: Network.id.in_(select(NetworkSegment.network_id).where(column.in_(values)))


def _provider_values(segment: Segment | None) -> dict[str, Any]:
    if segment is None:
        return dict.fromkeys(PROVIDER_ATTRS)
    return {
        NETWORK_TYPE: segment.network_type,
        PHYSICAL_NETWORK: segment.physical_network,
        SEGMENTATION_ID: segment.segmentation_id,
    }


def network_dict(net: Any, segs: list[Segment]) -> dict[str, Any]:
    """A network as mechanism drivers see it."""
    out = {
        key: getattr(net, key, None)
        for key in ("id", "project_id", "name", "admin_state_up", "status", "shared", "mtu")
    }
    out[EXTERNAL] = bool(getattr(net, "router_external", False))
    out.update(_provider_values(segs[0] if segs else None))
    return out


def _sees_admin_attrs() -> bool:
    viewer = current()
    return viewer is None or viewer.is_admin


def _denied(operation: str, attr: str) -> errors.PolicyNotAuthorized:
    return errors.PolicyNotAuthorized(action=f"(rule:{operation}_network and rule:{operation}_network:{attr})")


class ProviderNetworkExtension(Extension):
    name = "provider"
    filters = {
        NETWORK_TYPE: _segment_filter(NetworkSegment.network_type),
        PHYSICAL_NETWORK: _segment_filter(NetworkSegment.physical_network),
        SEGMENTATION_ID: _segment_filter(NetworkSegment.segmentation_id),
    }

    def after_create(self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]) -> None:
        given = {k: data[k] for k in PROVIDER_ATTRS if k in data}
        multi = data.get(SEGMENTS)
        if (given or multi is not None) and not ctx.is_admin:
            raise _denied("create", next(iter(given)) if given else SEGMENTS)
        if given and multi is not None:
            raise errors.SegmentsSetInConjunctionWithProviders()
        mgr = cfg.ml2
        if multi is not None:
            requests = requested_segments(multi)
            chosen = [mgr.reserve_provider_segment(session, r, obj.project_id) for r in requests]
        elif given:
            if NETWORK_TYPE not in given:
                raise errors.InvalidInput(error_message="network_type required")
            requested = Segment(given[NETWORK_TYPE], given.get(PHYSICAL_NETWORK) or None, given.get(SEGMENTATION_ID))
            chosen = [mgr.reserve_provider_segment(session, requested, obj.project_id)]
        else:
            chosen = [mgr.allocate_tenant_segment(session, obj.project_id)]
        stored = [segments.store(session, obj.id, segment, index) for index, segment in enumerate(chosen)]
        mtu = network_mtu.choose(data.get("mtu"), mgr.network_mtu(stored))
        if mtu != obj.mtu:
            session.connection().execute(update(NETWORKS).where(NETWORKS.c.id == obj.id).values(mtu=mtu))
            obj.mtu = mtu
        obj.ml2_segments = stored
        if mgr.wants("create_network"):
            mgr.notify(session, "create_network", NetworkContext(network_dict(obj, stored), stored, session, cfg))

    def before_update(self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]) -> bool:
        given = {k: data[k] for k in PROVIDER_ATTRS if k in data}
        if given and not ctx.is_admin:
            raise _denied("update", next(iter(given)))
        mgr = cfg.ml2
        mtu_changed = "mtu" in data and _update_mtu(session, mgr, obj, data["mtu"])
        if not given and not mgr.wants("update_network"):
            return mtu_changed
        segs = segments.of_network(session, obj.id)
        now = _provider_values(segs[0] if segs else None)
        changed = [k for k, v in given.items() if v != now[k] and not (k == PHYSICAL_NETWORK and not v and not now[k])]
        if changed:
            raise errors.InvalidInput(
                error_message="Plugin does not support updating the following provider network "
                f"attributes: {', '.join(changed)}"
            )
        if mgr.wants("update_network"):
            _notify_update(session, cfg, mgr, obj, segs, data)
        return mtu_changed

    def before_delete(self, session: Session, ctx: Context, cfg: Domain, obj: Any) -> None:
        mgr = cfg.ml2
        segs = segments.of_network(session, obj.id)
        if mgr.wants("delete_network"):
            mgr.notify(session, "delete_network", NetworkContext(network_dict(obj, segs), segs, session, cfg))
        for segment in segs:
            mgr.release_segment(session, segment)
        segments.delete_all(session, obj.id)

    def render(self, db: Session | Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
        if not _sees_admin_attrs():
            return
        missing = [r.id for r in rows if preloaded(r, "ml2_segments") is None]
        loaded = segments.of_networks(db, missing) if missing else {}
        for row, d in zip(rows, dicts, strict=True):
            segs = preloaded(row, "ml2_segments")
            if segs is None:
                segs = loaded.get(row.id, [])
            if len(segs) > 1:  # multi-provider: the list instead of the provider attributes
                d[SEGMENTS] = [_provider_values(seg) for seg in segs]
            else:
                d.update(_provider_values(segs[0] if segs else None))


def requested_segments(value: Any) -> list[Segment]:
    """A ``segments`` request (multi-provider) as segments to reserve, checked as Neutron does:
    a list of objects with only the three provider keys, each with a ``network_type``, no two
    fully specified ones equal."""
    if not isinstance(value, list) or not value or not all(isinstance(s, dict) for s in value):
        raise errors.InvalidInput(error_message="segments must be a non-empty list of objects")
    out = []
    for item in value:
        unknown = set(item) - set(PROVIDER_ATTRS)
        if unknown:
            raise errors.HTTPBadRequest(msg=f"Unrecognized attribute(s) '{', '.join(sorted(unknown))}'")
        if not item.get(NETWORK_TYPE):
            raise errors.InvalidInput(error_message="network_type required")
        seg_id = item.get(SEGMENTATION_ID)
        try:
            seg_id = int(seg_id) if seg_id not in (None, "") else None
        except (TypeError, ValueError):
            raise errors.InvalidInput(error_message=f"'{seg_id}' is not an integer") from None
        out.append(Segment(str(item[NETWORK_TYPE]), item.get(PHYSICAL_NETWORK) or None, seg_id))
    full = [(s.network_type, s.physical_network, s.segmentation_id) for s in out if s.segmentation_id is not None]
    if len(set(full)) != len(full):
        raise errors.SegmentsContainDuplicateEntry()
    return out


def _update_mtu(session: Session, mgr: Manager, obj: Any, requested: int) -> bool:
    """``net-mtu-writable``: the new MTU within what the segments carry and the subnets need."""
    mtu = network_mtu.choose(requested, mgr.network_mtu(segments.of_network(session, obj.id)))
    if mtu == obj.mtu:
        return False
    versions = session.scalars(select(Subnet.ip_version).where(Subnet.network_id == obj.id))
    network_mtu.check_subnets(obj.id, mtu, versions)
    obj.mtu = mtu
    return True


def _notify_update(
    session: Session, cfg: Domain, mgr: Manager, obj: Any, segs: list[Segment], data: dict[str, Any]
) -> None:
    original = network_dict(obj, segs)
    updated = {**original, **{k: v for k, v in data.items() if k in original}}
    mgr.notify(session, "update_network", NetworkContext(updated, segs, session, cfg, original=original))


class ExternalNetworkExtension(Extension):
    name = "external-net"
    filters = {EXTERNAL: lambda values: Network.router_external.in_(values)}

    def after_create(self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]) -> None:
        external = bool(data.get(EXTERNAL, False))
        if external:
            if not ctx.is_admin:
                raise _denied("create", EXTERNAL)
            session.connection().execute(update(NETWORKS).where(NETWORKS.c.id == obj.id).values(router_external=True))
            access.add_policy(session, "network", obj.id, obj.project_id, access.ACCESS_EXTERNAL)
        obj.router_external = external

    def before_update(self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]) -> bool:
        return self._update_external(session, ctx, obj, data)

    def _update_external(self, session: Session, ctx: Context, obj: Any, data: dict[str, Any]) -> bool:
        if EXTERNAL not in data or bool(data[EXTERNAL]) == obj.router_external:
            return False
        if not ctx.is_admin:
            raise _denied("update", EXTERNAL)
        if not data[EXTERNAL]:
            gateway = session.scalar(
                select(Port.id).where(Port.network_id == obj.id, Port.device_owner == ROUTER_GATEWAY).limit(1)
            )
            if gateway is not None:
                raise errors.ExternalNetworkInUse(net_id=obj.id)
            access.remove_policies(session, "network", obj.id, access.ACCESS_EXTERNAL)
        else:
            access.add_policy(session, "network", obj.id, obj.project_id, access.ACCESS_EXTERNAL)
        obj.router_external = bool(data[EXTERNAL])
        return True

    def render(self, db: Session | Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
        for row, d in zip(rows, dicts, strict=True):
            d[EXTERNAL] = bool(getattr(row, "router_external", False))
