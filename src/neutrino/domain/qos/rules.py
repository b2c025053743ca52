"""The QoS rule types neutrino enforces, their parameters, and the checks on a rule body.

Pure, so the API routes, the services and the unit tests share one definition. Types,
parameters, ranges and defaults follow neutron-lib's ``api/definitions/qos.py`` and its
extensions (qos-bw-limit-direction, qos-bw-minimum-ingress, qos-pps-minimum), the DSCP marks its
``VALID_DSCP_MARKS`` (docs/neutron-behaviour.md, "QoS").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neutrino.contract.desired import QosLimits

BANDWIDTH_LIMIT, DSCP_MARKING, MINIMUM_BANDWIDTH = "bandwidth_limit", "dscp_marking", "minimum_bandwidth"
MINIMUM_PACKET_RATE = "minimum_packet_rate"
EGRESS, INGRESS, ANY = "egress", "ingress", "any"
DB_INT_MAX = 2**31 - 1
VALID_DSCP_MARKS = (0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 44, 46, 48, 56)


@dataclass(frozen=True)
class Param:
    name: str
    required: bool = False
    default: Any = None
    values: tuple[Any, ...] | None = None
    """Allowed values; None: an integer 0..2**31-1."""


@dataclass(frozen=True)
class RuleType:
    name: str
    collection: str
    """The sub-resource: ``/qos/policies/{id}/<collection>``."""
    params: tuple[Param, ...]

    @property
    def singular(self) -> str:
        return self.collection[:-1]

    @property
    def directional(self) -> bool:
        return any(p.name == "direction" for p in self.params)


RULE_TYPES = {
    BANDWIDTH_LIMIT: RuleType(BANDWIDTH_LIMIT, "bandwidth_limit_rules", (
        Param("max_kbps", required=True), Param("max_burst_kbps", default=0),
        Param("direction", default=EGRESS, values=(EGRESS, INGRESS)))),
    DSCP_MARKING: RuleType(DSCP_MARKING, "dscp_marking_rules", (Param("dscp_mark", required=True, values=VALID_DSCP_MARKS),)),
    MINIMUM_BANDWIDTH: RuleType(MINIMUM_BANDWIDTH, "minimum_bandwidth_rules", (
        Param("min_kbps", required=True), Param("direction", default=EGRESS, values=(EGRESS, INGRESS)))),
    MINIMUM_PACKET_RATE: RuleType(MINIMUM_PACKET_RATE, "minimum_packet_rate_rules", (
        Param("min_kpps", required=True), Param("direction", default=EGRESS, values=(ANY, EGRESS, INGRESS)))),
}  # fmt: skip
BY_COLLECTION = {t.collection: t for t in RULE_TYPES.values()}

DRIVER = "openvswitch"


def rule_type_details(rule_type: RuleType) -> dict[str, Any]:
    """``GET /qos/rule-types/{type}``: the one driver (the OVS agent) and its parameters, in
    Neutron's ``supported_parameters`` shape."""
    params = []
    for p in rule_type.params:
        if p.values is not None:
            params.append({"parameter_name": p.name, "parameter_type": "choices", "parameter_values": list(p.values)})
        else:
            params.append({"parameter_name": p.name, "parameter_type": "range",
                           "parameter_values": {"start": 0, "end": DB_INT_MAX}})  # fmt: skip
    return {"type": rule_type.name, "drivers": [{"name": DRIVER, "supported_parameters": params}]}


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not an integer")
    try:
        out = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"'{value}' is not an integer") from None
    if isinstance(value, float) and value != out:
        raise ValueError(f"'{value}' is not an integer")
    return out


def check_body(rule_type: RuleType, body: Any, *, create: bool) -> dict[str, Any]:
    """The rule's parameters from a request body (converted, defaults filled on create), or
    ValueError with the message of Neutron's API layer."""
    if not isinstance(body, dict):
        raise ValueError(f"Unable to find '{rule_type.singular}' in request body")
    known = {p.name: p for p in rule_type.params}
    unknown = [k for k in body if k not in known and k not in ("id", "qos_policy_id", "type")]
    if unknown:
        raise ValueError(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    out: dict[str, Any] = {}
    for p in rule_type.params:
        if p.name not in body:
            if create and p.required:
                raise ValueError(f"Failed to parse request. Required attribute '{p.name}' not specified")
            if create:
                out[p.name] = p.default
            continue
        value = body[p.name]
        if p.values is None or all(isinstance(v, int) for v in p.values):
            value = _int(p.name, value)
        if p.values is not None and value not in p.values:
            raise ValueError(f"Invalid input for {p.name}. Reason: {value} is not in {list(p.values)}.")
        if p.values is None and not 0 <= value <= DB_INT_MAX:
            raise ValueError(f"Invalid input for {p.name}. Reason: {value} is not in range 0 through {DB_INT_MAX}.")
        out[p.name] = value
    return out


def port_qos(rules: list[dict[str, Any]]) -> QosLimits | None:
    """The limits of a policy's rules; the minimum rules are scheduling hints, not enforced."""
    found: dict[str, Any] = {}
    for r in rules:
        if r["type"] == BANDWIDTH_LIMIT and r["max_kbps"]:
            prefix = "ingress" if r.get("direction") == INGRESS else "egress"
            found[f"{prefix}_kbps"] = r["max_kbps"]
            found[f"{prefix}_burst_kbps"] = r.get("max_burst_kbps") or None
        elif r["type"] == DSCP_MARKING:
            found["dscp_mark"] = r["dscp_mark"]
    return QosLimits(**found) if found else None


def mixes_any_direction(rule_type: str, new_direction: str | None, other_direction: str | None) -> bool:
    """Whether a minimum packet rate rule for ``any`` direction meets one for ``ingress`` or
    ``egress`` in the same policy, which Neutron refuses (QoSRuleParameterConflict): the
    directionless and the directed forms of the rule cannot be combined."""
    if rule_type != MINIMUM_PACKET_RATE or not new_direction or not other_direction:
        return False
    return (new_direction == ANY) != (other_direction == ANY)
