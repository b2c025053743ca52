"""``openstack quota show`` gives every Neutron quota a value (RBAC policies, subnet pools and
router routes included). The rows the SDK adds for what a stock Neutron does not return either
(its request flag and id fields, Octavia's load balancer quotas) stay empty, as with Neutron."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.clients

NEUTRON = {
    "floating_ips": 50, "networks": 100, "ports": 500, "rbac_policies": 10, "router_routes": 30, "routers": 10,
    "subnets": 100, "subnet_pools": -1, "security_group_rules": 100, "security_groups": 10,
}
NOT_NEUTRONS = {"check_limit", "project_id", "tenant_id", "health_monitors", "listeners", "load_balancers",
                "l7_policies", "pools"}


def _limits(rows):  # type: ignore[no-untyped-def]
    return {r["Resource"]: r["Limit"] for r in rows}


def test_quota_show_gives_every_neutron_quota(server):
    for args in (("quota", "show", "--network", "admin"), ("quota", "show", "--network", "--usage", "admin")):
        limits = _limits(server.osc(*args))
        assert {k: limits[k] for k in NEUTRON} == NEUTRON
        assert {name for name, limit in limits.items() if limit is None} <= NOT_NEUTRONS
    server.osc("quota", "set", "--router-routes", "5", "--rbac-policies", "3", "admin")
    limits = _limits(server.osc("quota", "show", "--network", "admin"))
    assert (limits["router_routes"], limits["rbac_policies"]) == (5, 3)
    server.osc("quota", "set", "--router-routes", "30", "--rbac-policies", "10", "admin")
