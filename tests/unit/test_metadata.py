"""The metadata service's pure parts: the layouts rendered from a port, the upstream signature
and headers, which proxies a host runs and their haproxy configuration, the DHCP side
(isolated subnets, route 121 to 169.254.169.254), the router's redirect, and the agent-side
answer to a proxied request."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from neutrino.agent.dhcp import config as dhcp_config
from neutrino.agent.l3 import nat
from neutrino.agent.metadata import content, proxies, upstream
from neutrino.agent.metadata.server import MetadataServer
from neutrino.agent.metadata.supervisor import MetadataSupervisor
from neutrino.contract.desired import (
    DesiredHostState, DhcpNetwork, DhcpPort, DhcpSubnet, FixedIP, RouterInterface, RouterState,
)  # fmt: skip
from neutrino.dataplane.host import HostContext

pytestmark = pytest.mark.unit
UUID = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"
PORT: dict[str, Any] = {
    "port_id": "8c2d1e0f-aaaa-4bbb-8ccc-111122223333", "device_id": UUID, "project_id": "p1", "name": "web-1",
    "dns_name": "", "mac_address": "fa:16:3e:00:00:01", "network_id": "net1", "mtu": 1450,
    "fixed_ips": [{"ip_address": "10.0.0.5", "subnet_id": "s1", "cidr": "10.0.0.0/24", "ip_version": 4,
                   "gateway_ip": "10.0.0.1", "enable_dhcp": True, "ipv6_address_mode": None,
                   "dns_nameservers": ["10.0.0.53"], "host_routes": []}],
    "floating_ips": ["172.24.4.10"],
}  # fmt: skip


def body(path: str, port: dict[str, Any] = PORT) -> Any:
    r = content.render(path, port)
    assert r.status == 200, path
    return json.loads(r.body) if r.content_type == "application/json" else r.body.decode()


def test_meta_data_json_names_the_instance_by_its_port():
    meta = body("/openstack/latest/meta_data.json")
    assert (meta["uuid"], meta["name"], meta["hostname"], meta["project_id"]) == (UUID, "web-1", "web-1", "p1")
    assert body("/openstack/2018-08-27/meta_data.json") == meta
    assert body("/openstack/latest/meta_data.json", {**PORT, "dns_name": "www"})["hostname"] == "www"
    assert body("/openstack/latest/meta_data.json", {**PORT, "name": "Web Server_2"})["hostname"] == "web-server-2"


def test_network_data_json_in_novas_shape():
    net = body("/openstack/latest/network_data.json")
    assert net["links"] == [{"id": "tap8c2d1e0f-aa", "vif_id": PORT["port_id"], "type": "ovs", "mtu": 1450,
                             "ethernet_mac_address": "fa:16:3e:00:00:01"}]  # fmt: skip
    assert net["networks"] == [{"id": "network0", "type": "ipv4_dhcp", "link": "tap8c2d1e0f-aa", "network_id": "net1"}]
    assert net["services"] == [{"type": "dns", "address": "10.0.0.53"}]
    static = {**PORT, "fixed_ips": [{**PORT["fixed_ips"][0], "enable_dhcp": False,
                                     "host_routes": [["192.168.0.0/16", "10.0.0.254"]]}]}  # fmt: skip
    (network,) = body("/openstack/latest/network_data.json", static)["networks"]
    assert network["type"] == "ipv4" and network["ip_address"] == "10.0.0.5" and network["netmask"] == "255.255.255.0"
    assert network["routes"] == [{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.0.0.1"},
                                 {"network": "192.168.0.0", "netmask": "255.255.0.0", "gateway": "10.0.0.254"}]  # fmt: skip


def test_listings_and_ec2_basics():
    assert "latest" in body("/openstack").split("\n")
    assert body("/openstack/latest/").split("\n") == ["meta_data.json", "network_data.json", "vendor_data.json"]
    keys = body("/latest/meta-data/").split("\n")
    assert {"instance-id", "local-ipv4", "hostname", "public-ipv4", "placement/"} <= set(keys)
    assert body("/latest/meta-data/instance-id") == "i-3f2a1b4c"
    assert body("/2009-04-04/meta-data/local-ipv4") == "10.0.0.5"
    assert body("/latest/meta-data/public-ipv4") == "172.24.4.10"
    assert body("/latest/meta-data/placement/") == "availability-zone"
    assert content.render("/latest/meta-data/public-ipv4", {**PORT, "floating_ips": []}).status == 404
    assert content.render("/openstack/latest/user_data", PORT).status == 404
    assert content.render("/openstack/1999-01-01/meta_data.json", PORT).status == 404


def test_signature_is_hmac_sha256_of_the_instance_id():
    expected = hmac.new(b"s3cret", UUID.encode(), hashlib.sha256).hexdigest()
    assert upstream.sign_instance_id("s3cret", UUID) == expected
    assert upstream.headers(UUID, "p1", "10.0.0.5", "s3cret") == {
        "X-Forwarded-For": "10.0.0.5", "X-Instance-ID": UUID, "X-Tenant-ID": "p1", "X-Instance-ID-Signature": expected}
    assert upstream.url("http://nova:8775", "/openstack/latest/meta_data.json?x=1") == \
        "http://nova:8775/openstack/latest/meta_data.json?x=1"
    assert upstream.url("http://nova:8775/md/", "/latest/meta-data/") == "http://nova:8775/md/latest/meta-data/"


def _subnet(sid: str, cidr: str, gw: str) -> DhcpSubnet:
    return DhcpSubnet(sid, cidr, 4, gw, True, None, None, (), ())


def _network(router: bool) -> DhcpNetwork:
    dhcp = DhcpPort("d1", "fa:16:3e:00:00:02", "network:dhcp", (FixedIP("s1", "10.0.0.2", "10.0.0.0/24", "10.0.0.1"),), ())
    ports = [dhcp]
    if router:
        ports.append(DhcpPort("r1", "fa:16:3e:00:00:03", "network:router_interface",
                              (FixedIP("s1", "10.0.0.1", "10.0.0.0/24", "10.0.0.1"),), ()))  # fmt: skip
    return DhcpNetwork("net1", None, 1450, (_subnet("s1", "10.0.0.0/24", "10.0.0.1"),), tuple(ports), ("d1",), 1)


def test_isolated_subnets_and_when_the_dhcp_namespace_serves_metadata():
    assert dhcp_config.isolated_subnets(_network(router=False)) == {"s1"}
    assert dhcp_config.isolated_subnets(_network(router=True)) == set()
    assert dhcp_config.should_enable_metadata(_network(False), True, False)
    assert not dhcp_config.should_enable_metadata(_network(True), True, False)
    assert not dhcp_config.should_enable_metadata(_network(False), False, False)
    assert dhcp_config.should_enable_metadata(_network(True), False, True)


def test_dhcp_hands_out_the_metadata_route():
    on = dhcp_config.DhcpSettings(enable_isolated_metadata=True)
    isolated, routed = _network(False), _network(True)
    opts = dhcp_config.render_opts(isolated, isolated.ports[0], on)
    assert "classless-static-route,169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.1" in opts
    opts = dhcp_config.render_opts(routed, routed.ports[0], on)
    assert "classless-static-route,169.254.169.254/32,10.0.0.1,0.0.0.0/0,10.0.0.1" in opts
    assert "169.254" not in dhcp_config.render_opts(isolated, isolated.ports[0], dhcp_config.DhcpSettings())


def _router() -> RouterState:
    iface = RouterInterface("i1", "net1", "fa:16:3e:00:00:03", (FixedIP("s1", "10.0.0.1", "10.0.0.0/24", "10.0.0.1"),), None)
    return RouterState("r1", True, (iface,), None, (), (), 1)


def test_router_redirects_metadata_to_its_proxy():
    text = nat.render(_router(), "", 9697)
    assert 'iifname "qr-*" ip daddr 169.254.169.254 tcp dport 80 redirect to :9697' in text
    assert "tcp dport 9697 ct status & dnat == 0 drop" in text  # not reachable but through the redirect
    assert "169.254" not in nat.render(_router(), "") and "9697" not in nat.render(_router(), "")


def test_proxies_wanted_and_their_haproxy_configuration(tmp_path: Path):
    desired = DesiredHostState(host="n", routers=(_router(),), dhcp_networks=(_network(False), ))
    settings = proxies.MetadataSettings(enable_isolated_metadata=True)
    wanted = proxies.wanted(desired, settings, l3=True, dhcp_networks=["net1"])
    assert set(wanted) == {"router-r1", "network-net1"}
    assert wanted["router-r1"].bind == "0.0.0.0:9697" and wanted["network-net1"].bind == "169.254.169.254:80"
    assert set(proxies.wanted(desired, settings, l3=False, dhcp_networks=[])) == set()
    text = proxies.haproxy_config(wanted["router-r1"], tmp_path / "sock", tmp_path / "r.pid")
    assert f"server metadata {tmp_path / 'sock'}" in text and "bind 0.0.0.0:9697" in text
    assert text.index("del-header X-Forwarded-For") < text.index("set-header X-Neutron-Router-ID r1")
    assert "del-header X-Neutron-Network-ID" in text and "option forwardfor" in text


def _server(lookup: Any, **settings: Any) -> MetadataServer:
    return MetadataServer(Path("/nonexistent"), proxies.MetadataSettings(**settings), lookup, lambda: {"r1": ["net1", "net2"]})


def test_answer_looks_the_source_up_on_the_routers_networks():
    asked = []

    def lookup(networks: list[str], ip: str) -> Any:
        asked.append((networks, ip))
        return PORT if ip == "10.0.0.5" else None

    server = _server(lookup)
    status, ctype, data = server.answer("/openstack/latest/meta_data.json", {"x-neutron-router-id": "r1"},
                                        ["10.0.0.99, 10.0.0.5"])  # fmt: skip
    assert status == 200 and json.loads(data)["uuid"] == UUID and asked == [(["net1", "net2"], "10.0.0.5")]
    assert server.answer("/", {"X-Neutron-Network-ID": "net9"}, ["10.0.0.6"])[0] == 404
    assert server.answer("/", {"X-Neutron-Network-ID": "n", "X-Neutron-Router-ID": "r1"}, ["10.0.0.5"])[0] == 400
    assert server.answer("/", {"X-Neutron-Router-ID": "r1"}, [])[0] == 404


def test_answer_forwards_to_an_upstream_signed(monkeypatch: pytest.MonkeyPatch):
    sent = {}

    class Reply:
        status = 200
        headers = {"Content-Type": "application/json"}

        def read(self) -> bytes:
            return b"{}"

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *a: Any) -> None:
            pass

    def urlopen(request: Any, timeout: float) -> Reply:
        sent["url"], sent["headers"] = request.full_url, dict(request.header_items())
        return Reply()

    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    server = _server(lambda n, ip: PORT, nova_metadata_url="http://nova:8775", shared_secret="s3cret")
    assert server.answer("/openstack/latest/meta_data.json", {"X-Neutron-Network-ID": "net1"}, ["10.0.0.5"])[0] == 200
    assert sent["url"] == "http://nova:8775/openstack/latest/meta_data.json"
    assert sent["headers"]["X-instance-id"] == UUID and sent["headers"]["X-tenant-id"] == "p1"
    assert sent["headers"]["X-instance-id-signature"] == upstream.sign_instance_id("s3cret", UUID)


class FakeProxy:
    alive: dict[str, int] = {}
    texts: dict[str, str] = {}

    def __init__(self, netns: Any, conf_dir: Path, key: str) -> None:
        self.key, self.netns, self.pidfile = key, netns, conf_dir / f"{key}.pid"
        self.config = conf_dir / f"{key}.cfg"

    @property
    def pid(self) -> int | None:
        return self.alive.get(self.key)

    def ensure(self, text: str) -> int:
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self.config.write_text(text)
        self.texts[self.key] = text
        return self.alive.setdefault(self.key, 100 + len(self.alive))

    def stop(self) -> bool:
        self.config.unlink(missing_ok=True)
        return self.alive.pop(self.key, None) is not None


def test_supervisor_starts_restarts_and_stops_proxies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(MetadataServer, "start", lambda self: None)
    host = HostContext("n", prefix="lab-n-")
    sup = MetadataSupervisor(host, proxies.MetadataSettings(), tmp_path, client=type("C", (), {"metadata_port": None})(), l3=True,
                             proxy_factory=FakeProxy)  # fmt: skip
    desired = DesiredHostState(host="n", routers=(_router(),))
    assert sup.reconcile(desired, []) == {} and set(FakeProxy.alive) == {"router-r1"}
    assert not sup.dead()
    FakeProxy.alive.pop("router-r1")  # killed
    assert sup.dead()
    sup.reconcile(desired, [])
    assert "router-r1" in FakeProxy.alive and not sup.dead()
    sup.reconcile(DesiredHostState(host="n"), [])
    assert FakeProxy.alive == {} and not list(tmp_path.glob("*.cfg"))


def test_agent_settings_carry_the_metadata_switches(tmp_path: Path):
    from neutrino.agent.config import load_agent_config, render
    from neutrino.agent.standalone import settings_for

    path = tmp_path / "agent.toml"
    path.write_text('[agent]\nhost = "n1"\nroles = ["l2", "dhcp", "l3"]\nenable_isolated_metadata = true\n'
                    'datapath_type = "netdev"\nnova_metadata_url = "http://nova:8775"\n'
                    'metadata_proxy_shared_secret = "s"\nmetadata_port = 9000\n')  # fmt: skip
    config = load_agent_config(path)
    md = settings_for(config).metadata
    assert (md.enable_isolated_metadata, md.force_metadata, md.metadata_port) == (True, False, 9000)
    assert (md.nova_metadata_url, md.shared_secret) == ("http://nova:8775", "s")
    path.write_text(render(config))
    assert load_agent_config(path) == config
    path.write_text('[agent]\nhost = "n1"\nforce_metadata = "yes"\n')
    with pytest.raises(ValueError, match="force_metadata must be true or false"):
        load_agent_config(path)

