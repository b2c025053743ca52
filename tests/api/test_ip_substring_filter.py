"""``fixed_ips=ip_address_substr=...``: a plain substring ('%' and '_' match only themselves),
case-insensitive as on Neutron's MySQL, with the same answer on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api


def _matching(api, substring):  # type: ignore[no-untyped-def]
    ports = api.get("/v2.0/ports", params={"fixed_ips": f"ip_address_substr={substring}"}).json()["ports"]
    return sorted(p["name"] for p in ports)


def test_substring_is_literal_and_case_insensitive(api):
    net = api.network()
    v4 = api.subnet(net["id"], "10.0.0.0/24")
    v6 = api.subnet(net["id"], "2001:db8::/64", ipv6_address_mode="dhcpv6-stateful", ipv6_ra_mode="dhcpv6-stateful")
    for name, ip in (("a", "10.0.0.15"), ("b", "10.0.0.115"), ("c", "10.0.0.25")):
        api.port(net["id"], name=name, fixed_ips=[{"subnet_id": v4["id"], "ip_address": ip}])
    api.port(net["id"], name="d", fixed_ips=[{"subnet_id": v6["id"], "ip_address": "2001:db8::abcd"}])
    assert _matching(api, "0.1") == ["a", "b"]
    assert _matching(api, ".25") == ["c"]
    assert _matching(api, "0_1") == []
    assert _matching(api, "%") == []
    assert _matching(api, "10%25") == []
    assert _matching(api, "ABCD") == ["d"]
    assert _matching(api, "db8::ab") == ["d"]
