"""Port status through provisioning blocks: DOWN when bound, ACTIVE once the L2 agent (and the
DHCP agent, where one serves the network) reported the port wired; DOWN again when unwired."""

from __future__ import annotations

import pytest

from neutrino.domain.services import port_status
from tests.api.agent_support import bind, cfg_of, report, run

pytestmark = pytest.mark.api


def status(api, port_id: str) -> str:  # type: ignore[no-untyped-def]
    return api.get(f"/v2.0/ports/{port_id}").json()["port"]["status"]


def bound_port(api, net_id: str, host: str = "c1", owner: str = "compute:nova", **attrs) -> tuple[dict, set[str]]:  # type: ignore[no-untyped-def,type-arg]
    """A port bound to ``host`` the way binding leaves it, with the blocks binding adds."""
    port = api.port(net_id, device_owner=owner, **attrs)
    bind(api, port["id"], host)
    cfg = cfg_of(api)
    blocks = run(api, lambda s: port_status.on_port_bound(s, cfg, port["id"], net_id, owner))
    return port, blocks


def up(api, port_id: str, host: str = "c1"):  # type: ignore[no-untyped-def]
    cfg = cfg_of(api)
    return run(api, lambda s: port_status.device_up(s, cfg, port_id=port_id, host=host))


def test_l2_agent_report_makes_a_bound_port_active(api):
    net = api.network()
    api.subnet(net["id"])
    port, blocks = bound_port(api, net["id"])
    assert blocks == {"L2"} and status(api, port["id"]) == "DOWN"
    assert up(api, port["id"], host="elsewhere") is None  # not bound there: ignored
    assert up(api, "no-such-port") is None
    assert status(api, port["id"]) == "DOWN"
    assert up(api, port["id"]) == "ACTIVE"
    shown = api.get(f"/v2.0/ports/{port['id']}").json()["port"]
    assert shown["status"] == "ACTIVE" and shown["revision_number"] > port["revision_number"]
    assert run(api, lambda s: port_status.blocks_of(s, port["id"])) == set()
    # rebinding an ACTIVE port adds nothing to wait for
    cfg = cfg_of(api)
    assert run(api, lambda s: port_status.on_port_bound(s, cfg, port["id"], net["id"], "compute:nova")) == set()

    gone = run(api, lambda s: port_status.device_down(s, cfg, port_id=port["id"], host="elsewhere"))
    assert gone is True and status(api, port["id"]) == "ACTIVE"  # a foreign host's report changes nothing
    assert run(api, lambda s: port_status.device_down(s, cfg, port_id=port["id"], host="c1")) is True
    assert status(api, port["id"]) == "DOWN"
    assert run(api, lambda s: port_status.device_down(s, cfg, port_id="no-such-port", host="c1")) is False
    assert up(api, port["id"]) == "ACTIVE"  # wired again


def test_dhcp_block_when_a_dhcp_agent_serves_the_network(api):
    report(api, "net1", kind="dhcp")
    net = api.network()
    api.subnet(net["id"])
    report(api, "net1", kind="dhcp")  # the network is scheduled to it
    port, blocks = bound_port(api, net["id"])
    assert blocks == {"L2", "DHCP"}
    assert up(api, port["id"]) == "DOWN"  # DHCP not ready yet
    assert run(api, lambda s: port_status.dhcp_ready(s, [port["id"], "no-such-port"])) == {port["id"]: "ACTIVE"}
    assert status(api, port["id"]) == "ACTIVE"

    # in the other order too; and a port without an address on a DHCP subnet needs no DHCP
    second, blocks = bound_port(api, net["id"])
    run(api, lambda s: port_status.dhcp_ready(s, [second["id"]]))
    assert status(api, second["id"]) == "DOWN" and up(api, second["id"]) == "ACTIVE"
    bare, blocks = bound_port(api, net["id"], fixed_ips=[])
    assert blocks == {"L2"}


def test_no_dhcp_block_without_a_dhcp_subnet_or_for_network_owners(api):
    report(api, "net1", kind="dhcp")
    net = api.network()
    api.subnet(net["id"], enable_dhcp=False)
    _, blocks = bound_port(api, net["id"])
    assert blocks == {"L2"}  # the network needs no DHCP: not scheduled, no block
    net2 = api.network()
    api.subnet(net2["id"])
    report(api, "net1", kind="dhcp")
    dhcp_port, blocks = bound_port(api, net2["id"], owner="network:dhcp")
    assert blocks == set()
    iface, blocks = bound_port(api, net2["id"], owner="network:router_interface")
    assert blocks == {"DHCP"}
    assert up(api, dhcp_port["id"]) == "ACTIVE"  # nothing blocks: the first report activates it


def test_admin_down_or_unbound_ports_stay_down(api):
    net = api.network()
    disabled, _ = bound_port(api, net["id"], admin_state_up=False)
    assert up(api, disabled["id"]) == "DOWN"
    failed, _ = bound_port(api, net["id"])
    bind(api, failed["id"], "c1", vif_type="binding_failed")
    assert up(api, failed["id"]) == "DOWN"
    assert run(api, lambda s: port_status.blocks_of(s, failed["id"])) == set()  # L2 reported all the same


def test_blocks_go_with_their_port_or_network(api):
    net = api.network()
    api.subnet(net["id"])
    port, _ = bound_port(api, net["id"])
    assert api.delete(f"/v2.0/ports/{port['id']}").status_code == 204
    assert run(api, lambda s: port_status.blocks_of(s, port["id"])) == set()
    dhcp_port = api.port(net["id"], device_owner="network:dhcp")
    run(api, lambda s: port_status.add_blocks(s, dhcp_port["id"], ["L2", "DHCP", "L2"]))
    assert run(api, lambda s: port_status.blocks_of(s, dhcp_port["id"])) == {"L2", "DHCP"}
    run(api, lambda s: port_status.add_blocks(s, dhcp_port["id"], ["L2"]))  # already there: no error
    assert api.delete(f"/v2.0/networks/{net['id']}").status_code == 204
    assert run(api, lambda s: port_status.blocks_of(s, dhcp_port["id"])) == set()
