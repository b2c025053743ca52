"""``GET``/``POST /v2.0/audit``: an agent on the fake dataplane, connected to the server's bus,
audits its host, finds a deleted flow, a changed tag and a removed tunnel port with what differs,
repairs them through its own pass, leaves a foreign flow alone; one-line 4xx errors."""

from __future__ import annotations

import time
from typing import Any

import pytest

from neutrino.agent.adapters import AgentAdapters
from neutrino.agent.runner import AgentSettings, HostAgent
from neutrino.dataplane.fake import FakeNetlink, FakeNftables
from neutrino.dataplane.fake_ovs import FakeOpenFlow, FakeOvsdb, FakeOvsInstance, FakeOvsState
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.naming import hybrid_devices, tunnel_port
from neutrino.dataplane.openflow import Flow
from neutrino.domain.models.port import Port
from tests.api.agent_support import ago, report, run, state_of

pytestmark = pytest.mark.api
HOST = "aud1"
FOREIGN = Flow(0, 100, "in_port=9", "drop", cookie=0xF00D)


def _agent(api: Any) -> tuple[HostAgent, FakeOvsState]:
    state, netlink = FakeOvsState(), FakeNetlink()
    switch = FakeOvsInstance(state=state)
    adapters = AgentAdapters(switch=switch, ovsdb=FakeOvsdb(state=state), openflow=FakeOpenFlow(state=state),
                             nftables=FakeNftables(netlink), netlink=netlink)  # fmt: skip
    switch.start()
    settings = AgentSettings(roles=("l2",), tunnel_types=["vxlan"], tunneling_ip="172.31.8.1", report_interval=5,
                             resync_interval=3600, idle_check=0.2, firewall=False, audit_interval=0)  # fmt: skip
    return HostAgent(HostContext(name=HOST), state_of(api).bus.transport, settings, adapters), state


def _wait(agent: HostAgent, done: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the agent did not converge"
        time.sleep(0.05)


def test_audit_finds_drift_with_what_differs_and_repair_removes_it(api):
    report(api, "aud2", "ovs", tunnel_types=["vxlan"], tunneling_ip="172.31.8.2")
    agent, state = _agent(api)
    db = agent.l2.ovsdb
    agent.start()
    try:
        net = api.network(name="n", **{"provider:network_type": "vxlan", "provider:segmentation_id": 777})
        api.subnet(net["id"], "10.9.0.0/24")
        p = api.port(net["id"], **{"binding:host_id": HOST, "device_owner": "compute:nova", "device_id": "vm"})
        api.port(net["id"], **{"binding:host_id": "aud2", "device_owner": "compute:nova", "device_id": "vm2"})
        qvo = hybrid_devices(p["id"])["qvo"]
        with db.transaction() as txn:
            txn.add_port("br-int", qvo, iface_external_ids={"iface-id": p["id"], "attached-mac": p["mac_address"],
                                                             "iface-status": "active"})  # fmt: skip
        agent.queue.add("l2")
        tun = tunnel_port("vxlan", "172.31.8.2")
        _wait(agent, lambda: db.port(tun) is not None and db.port(qvo).tag == 1)
        agent.queue.add = lambda key: None  # type: ignore[method-assign] # no pass but the repair's from now on
        _wait(agent, agent.queue.idle)  # a pass under way ends
        clean = api.get("/v2.0/audit", params={"host": HOST}).json()["audit"]
        assert clean["drift_count"] == 0, clean
        # drift: a deleted flow, a changed tag, a removed tunnel port; and a foreign flow
        key = next(k for k, f in state.flows["br-tun"].items() if f.match == "tun_id=777")
        del state.flows["br-tun"][key]
        state.flows["br-int"][FOREIGN.key()] = FOREIGN
        with db.transaction() as txn:
            txn.set_port(qvo, tag=9)
            txn.del_port(tun)
        doc = api.get("/v2.0/audit", params={"host": HOST}).json()["audit"]
        found = {(d["kind"], d["object"], d["expected"], d["actual"]) for d in doc["hosts"][HOST]["drift"]}
        assert ("port_tag", qvo, "tag 1", "tag 9") in found
        assert ("tunnel_port", f"br-tun/{tun}", "present", "missing") in found
        assert ("flow", "br-tun table=4,priority=1,tun_id=777", "actions=push_vlan:0x8100,set_field:4097->vlan_vid,resubmit(,10)", "missing") in found
        assert doc["drift_count"] == len(found) and not doc["repair"]
        assert agent.metrics.drift_found.labels("port_tag")._value.get() == 1
        fixed = api.post("/v2.0/audit", params={"host": HOST}).json()["audit"]
        answer = fixed["hosts"][HOST]
        assert fixed["repair"] and fixed["drift_count"] == 0 and answer["remaining"] == [], answer
        assert {(d["kind"], d["object"]) for d in answer["repaired"]} >= {("port_tag", qvo), ("tunnel_port", f"br-tun/{tun}")}
        assert db.port(qvo).tag == 1 and db.port(tun) is not None
        assert agent.metrics.drift_repaired.labels("tunnel_port")._value.get() == 1
        assert state.flows["br-int"][FOREIGN.key()] == FOREIGN  # the repair replaced our cookie's flows only
        assert api.get("/v2.0/audit", params={"host": HOST}).json()["audit"]["drift_count"] == 0
        # the API's side: a port the agent wired whose status is not ACTIVE
        run(api, lambda s: setattr(s.get(Port, p["id"]), "status", "DOWN"))
        doc = api.get("/v2.0/audit", params={"host": HOST}).json()["audit"]
        assert {"kind": "port_status", "object": f"port {p['id']}", "expected": "ACTIVE", "actual": "DOWN",
                "role": "api"} in doc["hosts"][HOST]["drift"] and doc["drift_count"] == 1  # fmt: skip
    finally:
        agent.stop()


def test_repair_of_a_host_whose_agent_is_down_is_refused_in_one_line(api):
    report(api, "dead1", "ovs", now=ago(3600))
    resp = api.post("/v2.0/audit", params={"host": "dead1"})
    assert resp.status_code == 409
    err = resp.json()["NeutronError"]
    assert err["type"] == "AuditRepairRefused" and "the agent on dead1 is down" in err["message"] and "\n" not in err["message"]
    doc = api.get("/v2.0/audit", params={"host": "dead1"}).json()["audit"]  # a read-only audit says why instead
    assert doc["hosts"]["dead1"]["error"].startswith("the agent on dead1 is down")


def test_bad_queries_unknown_hosts_policy_and_listing(api):
    assert api.get("/v2.0/audit", params={"host": "nosuch"}).status_code == 404
    resp = api.get("/v2.0/audit", params={"repair": "maybe"})
    assert resp.status_code == 400 and resp.json()["NeutronError"]["type"] == "AuditBadQuery"
    resp = api.as_project("p-member").get("/v2.0/audit")
    assert resp.status_code == 403 and resp.json()["NeutronError"]["type"] == "PolicyNotAuthorized"
    ext = api.get("/v2.0/extensions/neutrino-audit").json()["extension"]
    assert ext["name"] == "Dataplane audit"
