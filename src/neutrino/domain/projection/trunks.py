"""The trunks of one host: those whose parent port is bound there, with their subports."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from neutrino.contract.desired import TrunkState, TrunkSubPort
from neutrino.domain.models import Port, PortBinding, SubPort, Trunk
from neutrino.domain.projection.lookups import UNBOUND


def trunks_of(session: Session, host: str) -> tuple[TrunkState, ...]:
    parents = session.execute(
        select(Trunk.id, Trunk.port_id, Trunk.admin_state_up, Port.mac_address)
        .join(Port, Port.id == Trunk.port_id)
        .join(PortBinding, PortBinding.port_id == Trunk.port_id)
        .where(PortBinding.host == host, PortBinding.vif_type.notin_(UNBOUND))
        .order_by(Trunk.id)
    ).all()
    if not parents:
        return ()
    sub_port = aliased(Port)
    subs: dict[str, list[TrunkSubPort]] = {}
    for trunk_id, port_id, mac, seg_id in session.execute(
        select(SubPort.trunk_id, SubPort.port_id, sub_port.mac_address, SubPort.segmentation_id)
        .join(sub_port, sub_port.id == SubPort.port_id)
        .where(SubPort.trunk_id.in_([p.id for p in parents]))
        .order_by(SubPort.segmentation_id)
    ):
        subs.setdefault(trunk_id, []).append(TrunkSubPort(port_id, mac, seg_id))
    return tuple(
        TrunkState(p.id, p.port_id, p.mac_address, p.admin_state_up, tuple(subs.get(p.id, ())))
        for p in parents
    )
