"""The QoS limits of a host's bound ports: the port's own policy, else its network's."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.contract.desired import QosLimits
from neutrino.domain.models import QosNetworkBinding, QosPortBinding, QosRule
from neutrino.domain.qos.rules import port_qos


def qos_of(session: Session, ports: Iterable[tuple[str, str]]) -> dict[str, QosLimits]:
    """port id -> limits, for (port id, network id) pairs whose effective policy has a rule the
    agent enforces."""
    pairs = list(ports)
    if not pairs:
        return {}
    own = dict(session.execute(select(QosPortBinding.port_id, QosPortBinding.qos_policy_id)
                               .where(QosPortBinding.port_id.in_([p for p, _ in pairs]))).all())  # fmt: skip
    by_net = dict(session.execute(select(QosNetworkBinding.network_id, QosNetworkBinding.qos_policy_id)
                                  .where(QosNetworkBinding.network_id.in_({n for _, n in pairs}))).all())  # fmt: skip
    effective = {p: own.get(p) or by_net.get(n) for p, n in pairs}
    policy_ids = {pid for pid in effective.values() if pid}
    if not policy_ids:
        return {}
    rules: dict[str, list[dict[str, object]]] = {}
    for r in session.scalars(select(QosRule).where(QosRule.qos_policy_id.in_(policy_ids))):
        rules.setdefault(r.qos_policy_id, []).append({
            "type": r.type, "direction": r.direction, "max_kbps": r.max_kbps,
            "max_burst_kbps": r.max_burst_kbps, "dscp_mark": r.dscp_mark})  # fmt: skip
    out = {}
    for port_id, policy_id in effective.items():
        limits = port_qos(rules.get(policy_id, [])) if policy_id else None  # type: ignore[arg-type]
        if limits is not None:
            out[port_id] = limits
    return out
