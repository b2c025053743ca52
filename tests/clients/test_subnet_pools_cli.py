"""Subnet pools and address scopes through the unmodified ``openstack`` CLI."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.clients


def test_pool_in_a_scope_gives_a_subnet(server):
    osc = server.osc
    scope = osc("address", "scope", "create", "--ip-version", "4", "cli-scope")
    assert scope["ip_version"] == 4 and scope["shared"] is False
    pool = osc("subnet", "pool", "create", "--pool-prefix", "10.77.0.0/16", "--default-prefix-length", "24",
               "--address-scope", scope["id"], "cli-pool")  # fmt: skip
    assert pool["prefixes"] == ["10.77.0.0/16"] and pool["address_scope_id"] == scope["id"]
    assert str(pool["default_prefixlen"]) == "24"
    net = osc("network", "create", "cli-pool-net")
    subnet = osc("subnet", "create", "--network", net["id"], "--subnet-pool", pool["id"],
                 "--prefix-length", "26", "cli-pool-subnet")  # fmt: skip
    assert subnet["cidr"] == "10.77.0.0/26" and subnet["subnetpool_id"] == pool["id"]
    assert osc("network", "show", net["id"])["ipv4_address_scope"] == scope["id"]
    osc("subnet", "pool", "set", "--pool-prefix", "10.78.0.0/16", pool["id"])
    assert osc("subnet", "pool", "show", pool["id"])["prefixes"] == ["10.77.0.0/16", "10.78.0.0/16"]
    osc("subnet", "delete", subnet["id"])
    osc("network", "delete", net["id"])
    osc("subnet", "pool", "delete", pool["id"])
    osc("address", "scope", "delete", scope["id"])
