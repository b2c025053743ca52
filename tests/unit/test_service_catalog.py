"""The service types and providers a server offers flavors (domain/service_types.py)."""

from __future__ import annotations

import pytest

from neutrino.domain.service_types import CORE_TYPES, ServiceCatalog, ServiceProvider

pytestmark = pytest.mark.unit

HA = ServiceProvider("L3_ROUTER_NAT", "ha", "drivers.ha.HaDriver")
SINGLE = ServiceProvider("L3_ROUTER_NAT", "single_node", "drivers.single_node.SingleNodeDriver", default=True)
OTHER = ServiceProvider("QOS", "fast", "drivers.qos.Fast")


def test_types_are_the_core_ones_and_the_plugins_declared():
    catalog = ServiceCatalog.of(["L3_ROUTER_NAT", "", "FLAVORS"], [])
    assert catalog.types == frozenset(CORE_TYPES) | {"L3_ROUTER_NAT", "FLAVORS"}
    assert "" not in catalog.types
    assert ServiceCatalog().types == frozenset(CORE_TYPES)


def test_find_matches_every_filter_in_order():
    catalog = ServiceCatalog.of([], [HA, SINGLE, OTHER])
    assert catalog.find() == [HA, SINGLE, OTHER]
    assert catalog.find({"service_type": ["L3_ROUTER_NAT"]}) == [HA, SINGLE]
    assert catalog.find({"service_type": ["L3_ROUTER_NAT"], "default": [True]}) == [SINGLE]
    assert catalog.find({"driver": ["drivers.qos.Fast", "drivers.ha.HaDriver"]}) == [HA, OTHER]
    assert catalog.find({"name": []}) == []
