"""QoS rule types and bodies (domain/qos/rules.py)."""

from __future__ import annotations

import pytest

from neutrino.domain.qos import rules

pytestmark = pytest.mark.unit
BW, DSCP, MIN = (rules.RULE_TYPES[t] for t in ("bandwidth_limit", "dscp_marking", "minimum_bandwidth"))


def test_bodies():
    assert rules.check_body(BW, {"max_kbps": "200"}, create=True) == {"max_kbps": 200, "max_burst_kbps": 0, "direction": "egress"}
    assert rules.check_body(BW, {"direction": "ingress"}, create=False) == {"direction": "ingress"}
    assert rules.check_body(DSCP, {"dscp_mark": 46}, create=True) == {"dscp_mark": 46}
    for rule_type, body, message in [
        (BW, {}, "Required attribute 'max_kbps'"),
        (BW, {"max_kbps": -1}, "not in range"),
        (BW, {"max_kbps": 1, "direction": "up"}, "not in"),
        (BW, {"max_kbps": 1, "color": 1}, "Unrecognized attribute"),
        (DSCP, {"dscp_mark": 7}, "not in"),
        (MIN, {}, "Required attribute 'min_kbps'"),
        (MIN, {"min_kbps": True}, "not an integer"),
    ]:
        with pytest.raises(ValueError, match=message):
            rules.check_body(rule_type, body, create=True)


def test_port_qos_from_rules():
    assert rules.port_qos([]) is None
    assert rules.port_qos([{"type": "minimum_bandwidth", "min_kbps": 5, "direction": "egress"}]) is None
    got = rules.port_qos([
        {"type": "bandwidth_limit", "max_kbps": 50000, "max_burst_kbps": 0, "direction": "egress"},
        {"type": "bandwidth_limit", "max_kbps": 1000, "max_burst_kbps": 100, "direction": "ingress"},
        {"type": "dscp_marking", "dscp_mark": 26},
    ])
    assert got == rules.QosLimits(egress_kbps=50000, egress_burst_kbps=None, ingress_kbps=1000, ingress_burst_kbps=100,
                                dscp_mark=26)


def test_rule_type_details():
    details = rules.rule_type_details(BW)
    params = {p["parameter_name"]: p for p in details["drivers"][0]["supported_parameters"]}
    assert params["direction"]["parameter_values"] == ["egress", "ingress"]
    assert params["max_kbps"]["parameter_type"] == "range"
