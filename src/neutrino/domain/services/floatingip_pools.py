"""``GET /v2.0/floatingip_pools`` (floatingip-pools): the IPv4 subnets of every external network,
the places a floating IP can come from. External networks are visible to every project, so the
pools are too; ``project_id`` is the caller's, as in Neutron's l3_fip_pools_db.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.domain.context import Context
from neutrino.domain.models import Network, Subnet


def list_(session: Session, ctx: Context) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Subnet.id, Subnet.name, Subnet.network_id, Subnet.cidr)
        .join(Network, Network.id == Subnet.network_id)
        .where(Network.router_external.is_(True), Subnet.ip_version == 4)
        .order_by(Subnet.id)
    ).all()
    return [
        {
            "subnet_id": row.id,
            "subnet_name": row.name,
            "network_id": row.network_id,
            "cidr": row.cidr,
            "project_id": ctx.project_id,
            "tenant_id": ctx.project_id,
        }
        for row in rows
    ]
