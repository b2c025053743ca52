"""The ``service_types`` of subnets (subnet-service-types): stored, replaced, read in bulk.

Which ports a typed subnet serves is decided by ``domain/ipam/service_types.py`` at allocation.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from neutrino.domain.ipam import service_types
from neutrino.domain.models import SubnetServiceType


def replace(session: Session, subnet_id: str, wanted: Any) -> bool:
    """Set the subnet's service types (validated); whether they changed."""
    types = service_types.validate(wanted)
    current = sorted(session.scalars(select(SubnetServiceType.service_type).where(SubnetServiceType.subnet_id == subnet_id)))
    if current == sorted(types):
        return False
    session.execute(delete(SubnetServiceType).where(SubnetServiceType.subnet_id == subnet_id))
    session.add_all(SubnetServiceType(subnet_id=subnet_id, service_type=t) for t in types)
    session.flush()
    return True


def by_subnet(session: Session, ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        for sid, kind in session.execute(
            select(SubnetServiceType.subnet_id, SubnetServiceType.service_type)
            .where(SubnetServiceType.subnet_id.in_(ids[start : start + 500]))
            .order_by(SubnetServiceType.subnet_id, SubnetServiceType.service_type)
        ):
            out[sid].append(kind)
    return out
