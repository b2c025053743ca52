"""``GET /metrics``: an admin's, with API latency per route template, port create -> ACTIVE
through the bus, and each agent's heartbeat age."""

from __future__ import annotations

import pytest

from neutrino.contract import messages
from tests.api.agent_support import bind, cfg_of, report, run, state_of
from neutrino.domain.services import port_status
from tests.unit.test_metrics import sample

pytestmark = pytest.mark.api


def test_metrics_need_an_admin(api):
    resp = api.as_project("p-member").get("/metrics")
    assert resp.status_code == 403
    assert resp.json()["NeutronError"]["type"] == "PolicyNotAuthorized"


def test_api_latency_is_labelled_by_route_template(api):
    net = api.network()
    api.get(f"/v2.0/networks/{net['id']}")
    api.get("/v2.0/networks/no-such-id")
    text = api.get("/metrics").content
    assert sample(text, "neutrino_api_request_duration_seconds_count",
                  method="GET", route="/v2.0/networks/{resource_id}", status="200") == 1  # fmt: skip
    assert sample(text, "neutrino_api_request_duration_seconds_count",
                  method="GET", route="/v2.0/networks/{resource_id}", status="404") == 1  # fmt: skip
    assert sample(text, "neutrino_api_request_duration_seconds_count",
                  method="POST", route="/v2.0/networks", status="201") == 1  # fmt: skip
    assert b"no-such-id" not in text


def test_port_create_to_active_and_heartbeat_age(api):
    net = api.network()
    api.subnet(net["id"])
    report(api, "c1", "ovs")
    port = api.port(net["id"], device_owner="compute:nova")
    bind(api, port["id"], "c1")
    cfg = cfg_of(api)
    run(api, lambda s: port_status.on_port_bound(s, cfg, port["id"], net["id"], "compute:nova"))
    transport = state_of(api).bus.transport
    reply = transport.call(messages.PLUGIN_TOPIC, messages.message(
        messages.UPDATE_DEVICE_LIST, host="c1", devices_up=[port["id"]], devices_down=[]))  # fmt: skip
    assert reply["devices_up"] == [port["id"]]
    text = api.get("/metrics").content
    assert sample(text, "neutrino_port_create_to_active_seconds_count") == 1
    age = sample(text, "neutrino_agent_heartbeat_age_seconds", agent_type="Open vSwitch agent", host="c1")
    assert age is not None and 0 <= age < 60
