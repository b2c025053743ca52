"""``qos_policy_id`` on networks and ports (the qos service plugin's network and port extensions).

Neutron's rules (docs/neutron-behaviour.md, "QoS"): the policy must be visible to the caller
(its own or shared; else QosPolicyNotFound, 404); replacing or removing a policy the caller
cannot see is PolicyRemoveAuthorizationError (403); a network created without one gets its
project's default policy. A port without its own policy follows its network's, which the port
shows as ``qos_network_policy_id``; the agent enforces the port's own policy, else the network's.
An admin also sees the port's ``resource_request``, built from that policy's minimum rules
(domain/qos/resource_request.py; a project member does not see the attribute, as in Neutron).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.by_ids import ByIds
from neutrino.domain.context import Context, current
from neutrino.domain.models import (Network, NetworkSegment, Port, PortBinding, QosNetworkBinding, QosPolicy,
                                    QosPortBinding, QosRule)
from neutrino.domain.qos import resource_request
from neutrino.domain.qos.rules import MINIMUM_BANDWIDTH, MINIMUM_PACKET_RATE
from neutrino.domain.services import qos_policies
from neutrino.domain.services.extensions import Extension
from neutrino.domain.wiring import Domain

KEY = "qos_policy_id"

_NETWORK_POLICIES = ByIds(lambda cond: select(QosNetworkBinding.network_id, QosNetworkBinding.qos_policy_id)
                          .where(cond(QosNetworkBinding.network_id)))  # fmt: skip
_PORT_POLICIES = ByIds(lambda cond: select(QosPortBinding.port_id, QosPortBinding.qos_policy_id)
                       .where(cond(QosPortBinding.port_id)))  # fmt: skip


def _conn(db: Session | Connection) -> Connection:
    return db.connection() if isinstance(db, Session) else db


class _Binding(Extension):
    model: Any
    column: str
    """The binding's key column (its name: a mapped attribute is a descriptor on instances)."""
    reads: ByIds
    """(id, qos_policy_id) of the bound ids, prebuilt."""

    @property
    def key(self) -> Any:
        return getattr(self.model, self.column)

    def _current(self, session: Session, obj_id: str) -> Any:
        return session.get(self.model, obj_id)

    def _bind(self, session: Session, ctx: Context, obj_id: str, policy_id: str | None) -> None:
        if policy_id is not None:
            qos_policies.get(session, ctx, policy_id)  # visible to the caller, or 404
            session.add(self.model(**{self.column: obj_id, "qos_policy_id": policy_id}))
            session.flush()

    def before_update(self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]) -> bool:
        if KEY not in data:
            return False
        row = self._current(session, obj.id)
        if (row.qos_policy_id if row is not None else None) == data[KEY]:
            return False
        if row is not None:
            old = session.get(QosPolicy, row.qos_policy_id)
            if old is not None and not qos_policies.visible(session, ctx, old):
                raise errors.PolicyRemoveAuthorizationError(policy_id=row.qos_policy_id)
            session.delete(row)
            session.flush()
        self._bind(session, ctx, obj.id, data[KEY])
        return True

    def _policies(self, db: Session | Connection, ids: list[str]) -> dict[str, str]:
        if not ids:
            return {}
        return dict(self.reads.rows(_conn(db), ids))  # type: ignore[arg-type]


class NetworkQos(_Binding):
    name = "qos-network"
    model = QosNetworkBinding
    column = "network_id"
    reads = _NETWORK_POLICIES
    filters = {KEY: lambda values: Network.id.in_(
        select(QosNetworkBinding.network_id).where(QosNetworkBinding.qos_policy_id.in_(values)))}

    def after_create(self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]) -> None:
        policy_id = data.get(KEY)
        if policy_id is None:
            policy_id = qos_policies.default_policy_id(session, obj.project_id)
            if policy_id is not None:  # the project's default, whoever creates the network
                session.add(QosNetworkBinding(network_id=obj.id, qos_policy_id=policy_id))
                session.flush()
            return
        self._bind(session, ctx, obj.id, policy_id)

    def render(self, db: Session | Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
        found = self._policies(db, [r.id for r in rows])
        for row, d in zip(rows, dicts, strict=True):
            d[KEY] = found.get(row.id)


class PortQos(_Binding):
    name = "qos-port"
    model = QosPortBinding
    column = "port_id"
    reads = _PORT_POLICIES
    filters = {KEY: lambda values: Port.id.in_(
        select(QosPortBinding.port_id).where(QosPortBinding.qos_policy_id.in_(values)))}

    def after_create(self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]) -> None:
        self._bind(session, ctx, obj.id, data.get(KEY))

    def render(self, db: Session | Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
        own = self._policies(db, [r.id for r in rows])
        nets = list({r.network_id for r in rows})
        by_net = dict(_NETWORK_POLICIES.rows(_conn(db), nets)) if nets else {}  # type: ignore[arg-type]
        for row, d in zip(rows, dicts, strict=True):
            d[KEY] = own.get(row.id)
            d["qos_network_policy_id"] = by_net.get(row.network_id)
        viewer = current()
        if viewer is None or viewer.is_admin:
            _render_resource_requests(_conn(db), rows, dicts)


def _render_resource_requests(conn: Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
    """``resource_request`` of each port: from the minimum rules of its effective policy (its own,
    else its network's), the first segment of its network and its vnic type."""
    policies = {row.id: d[KEY] or d["qos_network_policy_id"] for row, d in zip(rows, dicts, strict=True)}
    wanted = {p for p in policies.values() if p}
    rules: dict[str, list[resource_request.MinimumRule]] = {}
    if wanted:
        stmt = select(QosRule).where(QosRule.qos_policy_id.in_(wanted),
                                     QosRule.type.in_((MINIMUM_BANDWIDTH, MINIMUM_PACKET_RATE)))  # fmt: skip
        for r in conn.execute(stmt).all():
            value = r.min_kbps if r.type == MINIMUM_BANDWIDTH else r.min_kpps
            rules.setdefault(r.qos_policy_id, []).append(resource_request.MinimumRule(r.id, r.type, r.direction, value))
    nets = {row.network_id for row in rows if policies[row.id] in rules}
    first: dict[str, tuple[str | None]] = {}
    if nets:
        stmt = (select(NetworkSegment.network_id, NetworkSegment.physical_network)
                .where(NetworkSegment.network_id.in_(nets)).order_by(NetworkSegment.segment_index.desc()))  # fmt: skip
        first = {net: (physnet,) for net, physnet in conn.execute(stmt).all()}  # the lowest index wins
    # the vnic type from the binding row: this extension renders before ML2's (plugin hooks first)
    wanted_ports = [row.id for row in rows if policies[row.id] in rules]
    vnic = dict(conn.execute(select(PortBinding.port_id, PortBinding.vnic_type)
                             .where(PortBinding.port_id.in_(wanted_ports))).all()) if wanted_ports else {}  # fmt: skip
    for row, d in zip(rows, dicts, strict=True):
        found = rules.get(policies[row.id] or "")
        d["resource_request"] = None if not found else resource_request.build(
            row.id, vnic.get(row.id) or "normal", found, first.get(row.network_id))
