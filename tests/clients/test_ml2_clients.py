"""Provider networks, external networks and port binding with the unmodified clients.

A server of its own (ML2 ranges from NEUTRINO_* variables: VLANs 100-199 on physnet1, VNIs
1-1000, project networks VXLAN), driven by the openstack CLI and openstacksdk. Agents make
themselves known with ``neutrino agent heartbeat`` against the server's state directory.
"""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import openstack
import pytest

from tests.clients.conftest import HTTP_TIMEOUT, RUN_CONFIG_KEYS, clean_env, running_server

pytestmark = pytest.mark.clients

ML2_ENV = {
    "NEUTRINO_NETWORK_VLAN_RANGES": '["physnet1:100:199"]',
    "NEUTRINO_VNI_RANGES": '["1:1000"]',
    "NEUTRINO_TENANT_NETWORK_TYPES": '["vxlan"]',
}


@pytest.fixture(scope="module")
def ml2_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("neutrino-ml2"), env=ML2_ENV) as srv:
        yield srv


def heartbeat(server, host: str, *args: str) -> None:  # type: ignore[no-untyped-def]
    """One OVS agent report for ``host``, written into the server's store."""
    cmd = [
        sys.executable, "-m", "neutrino.cli.main", "agent", "heartbeat", "--state-dir", str(server.state_dir),
        "--host", host, "--type", "ovs", "--json", *args,
    ]  # fmt: skip
    done = subprocess.run(cmd, env=clean_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["agent"]["host"] == host


def _member(server, project: str, user: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """A member user of a new project, through the identity API (CLI calls cost a second each)."""
    base, headers = server.auth_url, {"X-Auth-Token": server.token()}
    r = httpx.post(f"{base}/projects", json={"project": {"name": project, "domain_id": "default"}}, headers=headers, timeout=HTTP_TIMEOUT)
    assert r.status_code == 201, r.text
    project_id = r.json()["project"]["id"]
    body = {"user": {"name": user, "password": password, "domain_id": "default", "default_project_id": project_id}}
    r = httpx.post(f"{base}/users", json=body, headers=headers, timeout=HTTP_TIMEOUT)
    assert r.status_code == 201, r.text
    user_id = r.json()["user"]["id"]
    [role] = httpx.get(f"{base}/roles?name=member", headers=headers, timeout=HTTP_TIMEOUT).json()["roles"]
    r = httpx.put(f"{base}/projects/{project_id}/users/{user_id}/roles/{role['id']}", headers=headers, timeout=HTTP_TIMEOUT)
    assert r.status_code == 204, r.text


def test_cli_provider_external_and_binding(ml2_server):
    osc = ml2_server.osc
    vlan = osc("network", "create", "--provider-network-type", "vlan", "--provider-physical-network", "physnet1",
               "--provider-segment", "100", "cli-vlan100")  # fmt: skip
    assert (vlan["provider:network_type"], vlan["provider:physical_network"], vlan["provider:segmentation_id"]) == (
        "vlan", "physnet1", 100,
    )  # fmt: skip
    assert vlan["mtu"] == 1500 and vlan["router:external"] is False
    err = ml2_server.osc_fail("network", "create", "--provider-network-type", "vlan",
                              "--provider-physical-network", "physnet1", "--provider-segment", "100", "cli-dup")  # fmt: skip
    assert "The VLAN 100 on physical network physnet1 is in use" in err
    err = ml2_server.osc_fail("network", "create", "--provider-network-type", "vlan",
                              "--provider-physical-network", "nowhere", "cli-bad")  # fmt: skip
    assert "physical_network 'nowhere' unknown for VLAN provider network" in err

    auto = osc("network", "create", "--provider-network-type", "vlan", "--provider-physical-network", "physnet1",
               "cli-vlan-auto")  # fmt: skip
    assert 101 <= auto["provider:segmentation_id"] <= 199
    vx = osc("network", "create", "--provider-network-type", "vxlan", "cli-vxlan")
    assert vx["provider:network_type"] == "vxlan" and vx["mtu"] == 1450
    project = osc("network", "create", "cli-project-net")
    assert project["provider:network_type"] == "vxlan" and project["mtu"] == 1450

    public = osc("network", "create", "--external", "--provider-network-type", "flat",
                 "--provider-physical-network", "extnet", "cli-public")  # fmt: skip
    assert public["router:external"] is True
    assert [r["Name"] for r in osc("network", "list", "--external")] == ["cli-public"]

    # binding: a port on a host with a live OVS agent that reaches physnet1
    heartbeat(ml2_server, "cli-host1", "--bridge-mappings", "physnet1:br-eth1", "--tunnel-types", "vxlan",
              "--tunneling-ip", "10.0.9.1")
    port = osc("port", "create", "--network", "cli-vlan100", "--host", "cli-host1", "cli-port1")
    assert port["binding_host_id"] == "cli-host1" and port["binding_vif_type"] == "ovs"
    assert port["binding_vif_details"]["bound_drivers"] == {"0": "openvswitch"}
    assert port["binding_vnic_type"] == "normal" and port["status"] == "DOWN"
    lost = osc("port", "create", "--network", "cli-vlan100", "--host", "cli-nowhere", "cli-port2")
    assert lost["binding_vif_type"] == "binding_failed"
    osc("port", "set", "--host", "cli-host1", "cli-port2")
    assert osc("port", "show", "cli-port2")["binding_vif_type"] == "ovs"
    assert {r["Name"] for r in osc("port", "list", "--host", "cli-host1")} == {"cli-port1", "cli-port2"}

    # deleting a network gives its VLAN back
    osc("port", "delete", "cli-port1", "cli-port2")
    osc("network", "delete", "cli-vlan100")
    again = osc("network", "create", "--provider-network-type", "vlan", "--provider-physical-network", "physnet1",
                "--provider-segment", "100", "cli-vlan100-again")  # fmt: skip
    assert again["provider:segmentation_id"] == 100
    [segment] = osc("network", "segment", "list", "--network", "cli-vlan100-again")
    assert (segment["Network Type"], segment["Segment"]) == ("vlan", 100)


def test_cli_member_view(ml2_server):
    osc = ml2_server.osc
    _member(ml2_server, "cli-ml2-demo", "cli-ml2-alice", "demo-pw")
    ml2_server.add_cloud("ml2-demo", "cli-ml2-alice", "demo-pw", "cli-ml2-demo")
    public = osc("network", "create", "--external", "cli-member-public")
    err = ml2_server.osc_fail("network", "create", "--provider-network-type", "vxlan", "cli-sneaky", cloud="ml2-demo")
    assert "disallowed by policy" in err
    own = osc("network", "create", "cli-alice-net", cloud="ml2-demo")
    assert own["provider:network_type"] is None and own["mtu"] == 1450  # hidden from members
    names = {r["Name"] for r in osc("network", "list", cloud="ml2-demo")}
    assert {"cli-alice-net", "cli-member-public"} <= names and "cli-project-net" not in names
    assert osc("network", "show", public["id"], cloud="ml2-demo")["router:external"] is True


def test_sdk_provider_external_and_binding(ml2_server, monkeypatch):
    for key in [k for k in __import__("os").environ if k.startswith("OS_") and k not in RUN_CONFIG_KEYS]:
        monkeypatch.delenv(key)
    conn = openstack.connect(
        auth_url=ml2_server.auth_url, username="admin", password=ml2_server.admin_password, project_name="admin",
        user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
    )  # fmt: skip
    # the CLI test's cli-vlan-auto holds a random VLAN of 101-199 on this module's server: the
    # fixed one is one no network holds (150 was taken about once in 99 runs)
    held = {n.provider_segmentation_id for n in conn.network.networks(provider_network_type="vlan")}
    vid = next(v for v in range(150, 200) if v not in held)
    net = conn.network.create_network(
        name="sdk-vlan150", provider_network_type="vlan", provider_physical_network="physnet1",
        provider_segmentation_id=vid,
    )  # fmt: skip
    assert (net.provider_network_type, net.provider_physical_network, net.provider_segmentation_id) == (
        "vlan", "physnet1", vid,
    )  # fmt: skip
    with pytest.raises(openstack.exceptions.ConflictException, match=f"VLAN {vid}"):
        conn.network.create_network(
            name="sdk-dup", provider_network_type="vlan", provider_physical_network="physnet1",
            provider_segmentation_id=vid,
        )  # fmt: skip
    tunnel = conn.network.create_network(name="sdk-vxlan")
    assert tunnel.provider_network_type == "vxlan" and tunnel.mtu == 1450
    ext = conn.network.create_network(name="sdk-public", is_router_external=True)
    assert ext.is_router_external is True
    assert "sdk-public" in {n.name for n in conn.network.networks(is_router_external=True)}
    assert "sdk-vxlan" not in {n.name for n in conn.network.networks(is_router_external=True)}

    heartbeat(ml2_server, "sdk-host1", "--bridge-mappings", "physnet1:br-eth1")
    port = conn.network.create_port(network_id=net.id, name="sdk-port", binding_host_id="sdk-host1")
    assert port.binding_vif_type == "ovs" and port.binding_host_id == "sdk-host1"
    assert port.binding_vif_details["bridge_name"] == "br-int"
    failed = conn.network.create_port(network_id=tunnel.id, binding_host_id="sdk-host1")  # no tunnel_types
    assert failed.binding_vif_type == "binding_failed"
    conn.network.delete_port(port)
    conn.network.delete_network(net)
    again = conn.network.create_network(
        name="sdk-vlan150b", provider_network_type="vlan", provider_physical_network="physnet1",
        provider_segmentation_id=vid,
    )  # fmt: skip
    assert again.provider_segmentation_id == vid
