"""Port binding (Neutron's ``binding`` extension): which host a port lives on, and how.

``binding:host_id`` and ``binding:profile`` are set by an admin (Nova, in a real cloud; a
member gets 403), ``binding:vnic_type`` by the owner too. When a port has a host and is not
bound (new host, or an earlier attempt failed), the mechanism drivers try to bind it (see
manager.bind_port): the result is ``binding:vif_type`` / ``binding:vif_details`` and one
``ml2_port_binding_levels`` row per level, all in the port's transaction. Members see only
``binding:vnic_type``; the other binding attributes are admin-only, as in Neutron's policy.

Every port created through the service gets its ``ml2_port_bindings`` row; a port without one
(e.g. written by other code) reads as unbound with the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.engine import connection_of
from neutrino.domain.context import Context, current
from neutrino.domain.ml2 import segments
from neutrino.domain.ml2.api import (
    VIF_TYPE_BINDING_FAILED,
    VIF_TYPE_UNBOUND,
    VNIC_NORMAL,
    Binding,
    NetworkContext,
    PortContext,
)
from neutrino.domain.ml2.manager import Manager
from neutrino.domain.ml2.network_ext import network_dict
from neutrino.domain.models import Network, Port, PortBinding, PortBindingLevel
from neutrino.domain.services import agents
from neutrino.domain.services import port_status
from neutrino.domain.config import DomainConfig
from neutrino.domain.rows import preloaded
from neutrino.domain.services.extensions import Extension
from neutrino.domain.wiring import Domain

HOST_ID = "binding:host_id"
VNIC_TYPE = "binding:vnic_type"
PROFILE = "binding:profile"
VIF_TYPE = "binding:vif_type"
VIF_DETAILS = "binding:vif_details"
ADMIN_ONLY = (HOST_ID, PROFILE)

BINDINGS = PortBinding.__table__
LEVELS = PortBindingLevel.__table__
NETWORKS = Network.__table__
_LOAD = select(
    BINDINGS.c.port_id, BINDINGS.c.host, BINDINGS.c.vnic_type, BINDINGS.c.profile,
    BINDINGS.c.vif_type, BINDINGS.c.vif_details,
).where(BINDINGS.c.port_id.in_(bindparam("ids", expanding=True)))  # fmt: skip
_NETWORK = select(NETWORKS).where(NETWORKS.c.id == bindparam("id"))


@dataclass
class BindingState:
    host: str = ""
    vnic_type: str = VNIC_NORMAL
    profile: dict[str, Any] = field(default_factory=dict)
    vif_type: str = VIF_TYPE_UNBOUND
    vif_details: dict[str, Any] = field(default_factory=dict)

    def attributes(self) -> dict[str, Any]:
        return {HOST_ID: self.host, VNIC_TYPE: self.vnic_type, PROFILE: dict(self.profile),
                VIF_TYPE: self.vif_type, VIF_DETAILS: dict(self.vif_details)}  # fmt: skip

    def needs_binding(self) -> bool:
        return bool(self.host) and self.vif_type in (VIF_TYPE_UNBOUND, VIF_TYPE_BINDING_FAILED)


def _check_policy(ctx: Context, data: dict[str, Any], operation: str) -> None:
    if ctx.is_admin:
        return
    for attr in ADMIN_ONLY:
        if attr in data:
            raise errors.PolicyNotAuthorized(action=f"(rule:{operation}_port and rule:{operation}_port:{attr})")


def _port_dict(port: Any, state: BindingState) -> dict[str, Any]:
    out = {
        key: getattr(port, key, None)
        for key in ("id", "project_id", "network_id", "name", "mac_address", "admin_state_up",
                    "status", "device_id", "device_owner")
    }  # fmt: skip
    out["fixed_ips"] = [
        {"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in (getattr(port, "fixed_ips", None) or [])
    ]
    out.update(state.attributes())
    return out


def _agent_lookup(session: Session, cfg: Domain):  # type: ignore[no-untyped-def]
    def lookup(host: str, agent_type: str) -> list[Any]:
        return list(agents.live_agents(session, cfg, host=host, agent_type=agent_type))

    return lookup


def port_context(session: Session, cfg: Domain, port: Any, state: BindingState) -> PortContext:
    net = session.connection().execute(_NETWORK, {"id": port.network_id}).first()
    segs = segments.of_network(session, port.network_id)
    network = NetworkContext(network_dict(net, segs), segs, session, cfg)
    return PortContext(_port_dict(port, state), network, session, cfg, agent_lookup=_agent_lookup(session, cfg))


def _bind(session: Session, cfg: Domain, mgr: Manager, port: Any, state: BindingState) -> Binding:
    result = mgr.bind_port(port_context(session, cfg, port, state))
    state.vif_type, state.vif_details = result.vif_type, result.vif_details
    return result


def _after_bound(session: Session, cfg: Domain, port: Any, state: BindingState) -> None:
    """A port just bound waits for its agents: the provisioning blocks (port status's part)."""
    if state.vif_type in (VIF_TYPE_UNBOUND, VIF_TYPE_BINDING_FAILED):
        return
    port_status.on_port_bound(session, cfg, port.id, port.network_id, port.device_owner or "")


def _write_levels(session: Session, port_id: str, host: str, binding: Binding | None, *, new: bool = False) -> None:
    """Replace the port's binding levels (``new``: the port has none yet)."""
    conn = session.connection()
    if not new:
        conn.execute(delete(LEVELS).where(LEVELS.c.port_id == port_id))
    if binding is not None and binding.levels:
        conn.execute(
            insert(LEVELS),
            [
                {"port_id": port_id, "host": host, "level": i, "driver": driver, "segment_id": segment_id}
                for i, (driver, segment_id) in enumerate(binding.levels)
            ],
        )


def binding_of(db: Session | Connection, port_ids: list[str]) -> dict[str, BindingState]:
    """The binding of each port that has a row (others are unbound with the defaults)."""
    out: dict[str, BindingState] = {}
    conn = connection_of(db)
    for start in range(0, len(port_ids), 500):
        for row in conn.execute(_LOAD, {"ids": port_ids[start : start + 500]}):
            out[row.port_id] = BindingState(row.host, row.vnic_type, row.profile or {}, row.vif_type, row.vif_details or {})
    return out


class PortBindingExtension(Extension):
    name = "binding"
    filters = {
        HOST_ID: lambda values: Port.id.in_(select(PortBinding.port_id).where(PortBinding.host.in_(values))),
        VNIC_TYPE: lambda values: Port.id.in_(select(PortBinding.port_id).where(PortBinding.vnic_type.in_(values))),
    }

    def after_create(self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]) -> None:
        _check_policy(ctx, data, "create")
        state = BindingState(
            host=data.get(HOST_ID) or "", vnic_type=data.get(VNIC_TYPE) or VNIC_NORMAL, profile=data.get(PROFILE) or {}
        )
        mgr = cfg.ml2
        bound = _bind(session, cfg, mgr, obj, state) if state.needs_binding() else None
        session.connection().execute(
            insert(BINDINGS),
            {"port_id": obj.id, "host": state.host, "vnic_type": state.vnic_type, "profile": state.profile,
             "vif_type": state.vif_type, "vif_details": state.vif_details, "status": "ACTIVE"},
        )  # fmt: skip
        if bound is not None:
            _write_levels(session, obj.id, state.host, bound, new=True)
            _after_bound(session, cfg, obj, state)
        obj.ml2_binding = state
        if mgr.wants("create_port"):
            mgr.notify(session, "create_port", port_context(session, cfg, obj, state))

    def before_update(self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]) -> bool:
        _check_policy(ctx, data, "update")
        row = session.get(PortBinding, obj.id)
        if row is None:
            row = PortBinding(port_id=obj.id, host="", vnic_type=VNIC_NORMAL, profile={},
                              vif_type=VIF_TYPE_UNBOUND, vif_details={}, status="ACTIVE")  # fmt: skip
            session.add(row)
        state = BindingState(row.host, row.vnic_type, dict(row.profile or {}), row.vif_type, dict(row.vif_details or {}))
        mgr = cfg.ml2
        original = _port_dict(obj, state) if mgr.wants("update_port") else None
        wanted = (
            (data.get(HOST_ID) or "") if HOST_ID in data else state.host,
            (data.get(VNIC_TYPE) or VNIC_NORMAL) if VNIC_TYPE in data else state.vnic_type,
            (data.get(PROFILE) or {}) if PROFILE in data else state.profile,
        )
        changed = wanted != (state.host, state.vnic_type, state.profile)
        if changed:  # a new host, vnic type or profile: unbind, then bind again below
            state = BindingState(*wanted)
            _write_levels(session, obj.id, state.host, None)
        vif_before = state.vif_type
        if state.needs_binding():
            bound = _bind(session, cfg, mgr, obj, state)
            _write_levels(session, obj.id, state.host, bound)
            session.flush()  # the port's pending changes (addresses) before status reads them
            _after_bound(session, cfg, obj, state)
        row.host, row.vnic_type, row.profile = state.host, state.vnic_type, state.profile
        row.vif_type, row.vif_details = state.vif_type, state.vif_details
        obj.ml2_binding = state
        if original is not None:
            context = port_context(session, cfg, obj, state)
            context.original = original
            mgr.notify(session, "update_port", context)
        return changed or state.vif_type != vif_before

    def before_delete(self, session: Session, ctx: Context, cfg: Domain, obj: Any) -> None:
        mgr = cfg.ml2
        if mgr.wants("delete_port"):
            state = binding_of(session, [obj.id]).get(obj.id, BindingState())
            full = session.get(Port, obj.id)
            mgr.notify(session, "delete_port", port_context(session, cfg, full, state))

    def render(self, db: Session | Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
        viewer = current()
        admin = viewer is None or viewer.is_admin
        missing = [r.id for r in rows if preloaded(r, "ml2_binding") is None]
        loaded = binding_of(db, missing) if missing else {}
        default = BindingState()
        for row, d in zip(rows, dicts, strict=True):
            state = preloaded(row, "ml2_binding") or loaded.get(row.id, default)
            if admin:
                d.update(state.attributes())
            else:
                d[VNIC_TYPE] = state.vnic_type
