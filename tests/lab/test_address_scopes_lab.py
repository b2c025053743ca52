"""Address scopes in a router, with real TCP in the lab (docs/neutron-behaviour.md, "Subnet pools
and address scopes"): a network whose pool is in the external network's scope reaches the
outside untranslated and is reachable from it; a network outside that scope is SNATed as
usual and not reachable; the router does not forward between the two scopes.

The outside host gets routes to both internal networks via the router's gateway address (in
its own lab namespace), as a provider's router would have for a routed address scope.
"""

from __future__ import annotations

import pytest

from neutrino.dataplane import exec as programs
from neutrino.lab import instances, probes
from tests.lab.cloud_support import cloud_lab, poll

pytestmark = pytest.mark.root

SCOPED, PLAIN = "10.50.0.0/24", "10.60.0.0/24"


@pytest.fixture(scope="module")
def cl(lab_root):
    with cloud_lab(lab_root) as c:
        yield c


@pytest.fixture(scope="module")
def world(cl):
    api, lab = cl.api, cl.lab
    assert lab.outside is not None
    ext_cidr = lab.external_cidr or "198.51.100.0/24"
    base = ext_cidr.rsplit(".", 1)[0]
    scope = api.request("POST", "address-scopes", {"address_scope": {"name": "routed", "ip_version": 4}})["address_scope"]

    def pool(name: str, prefix: str) -> str:
        body = {"name": name, "prefixes": [prefix], "address_scope_id": scope["id"], "default_prefixlen": 24}
        return api.request("POST", "subnetpools", {"subnetpool": body})["subnetpool"]["id"]  # type: ignore[no-any-return]

    ext = api.request("POST", "networks", {"network": {
        "name": "public", "router:external": True, "provider:network_type": "flat",
        "provider:physical_network": lab.external_physnet}})["network"]  # fmt: skip
    api.request("POST", "subnets", {"subnet": {
        "network_id": ext["id"], "cidr": ext_cidr, "ip_version": 4, "enable_dhcp": False,
        "subnetpool_id": pool("ext-pool", ext_cidr), "gateway_ip": lab.outside.address.split("/")[0],
        "allocation_pools": [{"start": f"{base}.10", "end": f"{base}.99"}]}})  # fmt: skip
    inner_pool = pool("inner-pool", "10.50.0.0/16")
    nets = {}
    for key, subnet in (("scoped", {"subnetpool_id": inner_pool}), ("plain", {"cidr": PLAIN})):
        net = api.request("POST", "networks", {"network": {"name": key, "provider:network_type": "vxlan"}})["network"]
        sub = api.request("POST", "subnets", {"subnet": {"network_id": net["id"], "ip_version": 4, **subnet}})["subnet"]
        nets[key] = (net, sub)
    assert nets["scoped"][1]["cidr"] == SCOPED
    assert api.request("GET", f"networks/{nets['scoped'][0]['id']}")["network"]["ipv4_address_scope"] == scope["id"]
    router = api.request("POST", "routers", {"router": {
        "name": "r", "external_gateway_info": {"network_id": ext["id"]}}})["router"]  # fmt: skip
    for _net, sub in nets.values():
        api.request("PUT", f"routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    gw_ip = api.request("GET", f"routers/{router['id']}")["router"]["external_gateway_info"][
        "external_fixed_ips"][0]["ip_address"]
    sg = api.request("POST", "security-groups", {"security_group": {"name": "tcp"}})["security_group"]
    api.request("POST", "security-group-rules", {"security_group_rule": {
        "security_group_id": sg["id"], "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
        "remote_ip_prefix": "0.0.0.0/0"}})  # fmt: skip
    vms = {}
    for key, host in (("scoped", "compute1"), ("plain", "compute2")):
        vm = instances.create_from_api(lab, f"as-{key}", network=nets[key][0]["id"], host=host,
                                       security_groups=("default", sg["id"]))  # fmt: skip
        cl.wait_active([vm.port_id])
        vms[key] = vm
    for cidr in (SCOPED, PLAIN):
        programs.run(["ip", "route", "replace", cidr, "via", gw_ip], netns=lab.outside.netns)
    return {"gw_ip": gw_ip, "vms": vms, "outside": lab.outside}


def _ip(vm: instances.Instance) -> str:
    return (vm.ip or "").split("/")[0]


def test_same_scope_as_external_is_routed_untranslated(world):
    vm, outside = world["vms"]["scoped"], world["outside"]
    outside_ip = outside.address.split("/")[0]
    out = poll(lambda: probes.transfer(vm.netns, outside.netns, outside_ip, timeout=3), lambda c: c.ok, 30.0, 0.5)
    assert out.ok and out.peer == _ip(vm), f"{out}; expected no SNAT (source {_ip(vm)}, gateway {world['gw_ip']})"
    inbound = probes.transfer(outside.netns, vm.netns, _ip(vm), timeout=5)
    assert inbound.ok and inbound.peer == outside_ip, inbound


def test_other_scope_is_snatted_and_not_reachable(world):
    vm, outside = world["vms"]["plain"], world["outside"]
    outside_ip = outside.address.split("/")[0]
    out = poll(lambda: probes.transfer(vm.netns, outside.netns, outside_ip, timeout=3), lambda c: c.ok, 30.0, 0.5)
    assert out.ok and out.peer == world["gw_ip"], out
    blocked = probes.transfer(outside.netns, vm.netns, _ip(vm), timeout=2)
    assert not blocked.ok, f"the outside reached {_ip(vm)} across scopes without a floating IP: {blocked}"


def test_no_forwarding_between_scopes(world):
    scoped, plain = world["vms"]["scoped"], world["vms"]["plain"]
    for src, dst in ((scoped, plain), (plain, scoped)):
        check = probes.transfer(src.netns, dst.netns, _ip(dst), timeout=2)
        assert not check.ok, f"{_ip(src)} reached {_ip(dst)} across address scopes: {check}"
