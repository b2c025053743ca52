"""The trunk service's hooks around ports (a port extension of the ``trunk`` plugin).

* A port that is a trunk's parent or subport cannot be deleted (Neutron's
  ``enforce_port_deletion_rules``): PortInUseAsTrunkParent / PortInUseAsSubPort, 409.
* When a parent's ``binding:host_id`` changes, its subports follow to the same host (or are
  unbound with it), so the agent of that host wires them beside the parent.
* A parent port shows ``trunk_details`` (trunk-details extension): the trunk id and each
  subport with its MAC address; other ports have no such key.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, exists, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from neutrino import errors
from neutrino.db.by_ids import ByIds
from neutrino.domain.context import Context
from neutrino.domain.ml2.port_ext import HOST_ID
from neutrino.domain.models import Port, SubPort, Trunk
from neutrino.domain.services import trunks
from neutrino.domain.services.extensions import Extension
from neutrino.domain.wiring import Domain


# built once, run on the driver's cursor (db/by_ids.py): every port rendered asks, and almost
# none is a trunk's parent
_PARENTS = ByIds(lambda cond: select(Trunk.port_id, Trunk.id).where(cond(Trunk.port_id)))


class TrunkPorts(Extension):
    name = "trunk"

    def before_update(self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]) -> bool:
        if HOST_ID not in data:
            return False
        trunk_id = session.scalar(select(Trunk.id).where(Trunk.port_id == obj.id))
        if trunk_id is not None:
            subs = trunks.subports_of(session, [trunk_id]).get(trunk_id, [])
            trunks.bind_subports(session, cfg, [s.port_id for s in subs], data[HOST_ID] or "")
        return False

    def delete_probe(self, table: Table) -> ColumnElement[bool]:
        return or_(exists().where(SubPort.port_id == table.c.id), exists().where(Trunk.port_id == table.c.id))

    def before_delete(self, session: Session, ctx: Context, cfg: Domain, obj: Any) -> None:
        sub = session.get(SubPort, obj.id)
        if sub is not None:
            raise errors.PortInUseAsSubPort(port_id=obj.id, trunk_id=sub.trunk_id)
        trunk_id = session.scalar(select(Trunk.id).where(Trunk.port_id == obj.id))
        if trunk_id is not None:
            raise errors.PortInUseAsTrunkParent(port_id=obj.id, trunk_id=trunk_id)

    def render(self, db: Session | Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
        conn = db.connection() if isinstance(db, Session) else db
        parents = dict(_PARENTS.rows(conn, [r.id for r in rows]))
        if not parents:
            return
        subs = conn.execute(
            select(SubPort.trunk_id, SubPort.port_id, SubPort.segmentation_type, SubPort.segmentation_id, Port.mac_address)
            .join(Port, Port.id == SubPort.port_id)
            .where(SubPort.trunk_id.in_(list(parents.values())))
            .order_by(SubPort.segmentation_id, SubPort.port_id)
        ).all()
        by_trunk: dict[str, list[dict[str, Any]]] = {}
        for s in subs:
            by_trunk.setdefault(s.trunk_id, []).append({
                "segmentation_id": s.segmentation_id, "segmentation_type": s.segmentation_type,
                "port_id": s.port_id, "mac_address": s.mac_address,
            })
        for row, d in zip(rows, dicts, strict=True):
            trunk_id = parents.get(row.id)
            if trunk_id is not None:
                d["trunk_details"] = {"trunk_id": trunk_id, "sub_ports": by_trunk.get(trunk_id, [])}
