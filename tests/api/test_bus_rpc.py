"""The server's side of the bus: each agent call is decoded and dispatched to a domain
operation in its own transaction, through the same in-process transport the lab uses."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino.bus.transport import TransportError
from neutrino.contract import messages
from tests.api.agent_support import report, state_of

pytestmark = pytest.mark.api


def call(api: Any, method: str, **body: Any) -> dict[str, Any]:
    transport = state_of(api).bus.transport
    return transport.call(messages.PLUGIN_TOPIC, messages.message(method, **body))


def test_report_state_registers_then_keeps_alive(api):
    body = {"agent_type": "DHCP agent", "binary": "neutron-dhcp-agent", "topic": "dhcp_agent",
            "host": "net1", "configurations": {}, "start_flag": True}  # fmt: skip
    assert call(api, messages.REPORT_STATE, **body) == {"result": "new"}
    assert call(api, messages.REPORT_STATE, **body) == {"result": "alive"}


def test_dhcp_port_is_created_once_with_the_lowest_address(api):
    net = api.network()
    api.subnet(net["id"], "10.9.0.0/24")
    report(api, "net1", "dhcp")
    first = call(api, messages.CREATE_DHCP_PORT, host="net1", network_id=net["id"])["port_id"]
    again = call(api, messages.CREATE_DHCP_PORT, host="net1", network_id=net["id"])["port_id"]
    assert first == again
    port = api.get(f"/v2.0/ports/{first}").json()["port"]
    assert port["device_owner"] == "network:dhcp"
    assert port["fixed_ips"][0]["ip_address"] == "10.9.0.2"
    assert port["binding:host_id"] == "net1"


def test_dhcp_port_of_a_missing_network_is_a_neutron_error_and_writes_nothing(api):
    before = len(api.get("/v2.0/ports").json()["ports"])
    reply = call(api, messages.CREATE_DHCP_PORT, host="net1", network_id="0" * 32)
    assert reply["error"]["type"] == "NetworkNotFound"
    assert len(api.get("/v2.0/ports").json()["ports"]) == before


def test_bind_router_ports_leaves_instance_ports_alone(api):
    net = api.network()
    api.subnet(net["id"], "10.8.0.0/24")
    report(api, "net1", "ovs")
    vm_port = api.port(net["id"], device_owner="compute:nova")
    router_port = api.port(net["id"], device_owner="network:router_interface", device_id="r1")
    reply = call(api, messages.BIND_PORTS, host="net1", port_ids=[vm_port["id"], router_port["id"]])
    assert reply == {"bound": [router_port["id"]]}
    assert api.get(f"/v2.0/ports/{vm_port['id']}").json()["port"]["binding:host_id"] == ""


def test_floatingip_statuses_ignore_unknown_ids(api):
    reply = call(api, messages.UPDATE_FIP_STATUSES, statuses={"0" * 32: "ACTIVE"})
    assert reply == {"updated": []}


def test_unknown_method_and_version(api):
    assert call(api, "no_such_method")["error"]["type"] == "UnknownMethod"
    transport = state_of(api).bus.transport
    with pytest.raises(TransportError, match="version 999"):  # refused by the transport, never handled
        transport.call(messages.PLUGIN_TOPIC, {"v": 999, "method": messages.REPORT_STATE})
    reply = state_of(api).bus.rpc.handle({"v": 999, "method": messages.REPORT_STATE})
    assert reply["error"]["type"] == "VersionMismatch"  # and the handler itself refuses it too
