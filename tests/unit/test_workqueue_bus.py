"""The work queue's deduplication and the bus's in-process transport and message codec."""

from __future__ import annotations

import threading

import pytest

from neutrino.agent.workqueue import WorkQueue
from neutrino.contract import messages
from neutrino.bus.inproc import InProcTransport
from neutrino.bus.transport import TransportError
from neutrino.contract import desired

pytestmark = pytest.mark.unit


def test_queue_deduplicates_and_requeues_a_key_added_while_processing():
    q = WorkQueue()
    q.add("a")
    q.add("a")
    q.add("b")
    assert len(q) == 2
    assert q.get(0) == "a"
    q.add("a")  # while processing: runs once more after done
    assert q.get(0) == "b"
    assert q.get(0) is None
    q.done("a")
    assert q.get(0) == "a"
    assert not q.idle()  # a and b are being processed
    q.done("a")
    q.done("b")
    assert q.get(0) is None and q.idle()
    q.add_after("c", 60)
    assert q.idle()  # a retry waiting for its delay is not work under way
    q.close()
    assert q.get() is None


def test_inproc_call_publish_and_versions():
    t = InProcTransport()
    try:
        t.serve("svc", lambda msg: {"echo": msg["x"]})
        assert t.call("svc", messages.message("echo", x=[1, 2])) == {"echo": [1, 2]}
        with pytest.raises(TransportError):
            t.call("nobody", messages.message("echo"))
        with pytest.raises(TransportError):
            t.call("svc", {"v": 99, "x": 1})
        got: list[dict] = []
        done = threading.Event()
        cancel = t.subscribe("topic", lambda msg: (got.append(msg), done.set()))
        t.publish("topic", messages.message(messages.HOST_CHANGED, host="h", revision=3))
        assert done.wait(30) and messages.check(got[0])["revision"] == 3
        cancel()
        with pytest.raises(messages.VersionMismatch):
            messages.check({"v": 99})
    finally:
        t.close()


def test_desired_state_round_trips_through_json():
    seg = desired.Segment("vlan", "physnet1", 100, 1500)
    port = desired.BoundPort(
        port_id="p1", network_id="n1", mac_address="fa:16:3e:00:00:01", admin_state_up=True,
        device_owner="compute:nova", device_id="d", vif_type="ovs", segment=seg,
        fixed_ips=(desired.FixedIP("s1", "10.0.0.5", "10.0.0.0/24", "10.0.0.1"),), port_security_enabled=True,
        security_groups=("g",), rules=(desired.SecurityRule("g", "ingress", "IPv4", "tcp", 22, 22, ("10.0.0.0/24",)),),
        allowed_address_pairs=(("10.0.0.9", "fa:16:3e:00:00:09"),), revision_number=4,
    )  # fmt: skip
    state = desired.DesiredHostState(
        host="h", ports=(port,), tunnel_peers=(desired.TunnelPeer("h2", "vxlan", "172.31.0.2", ("n1",)),),
        local_tunnel_ip="172.31.0.1",
    ).with_fingerprint()  # fmt: skip
    import orjson

    back = messages.decode_state(orjson.loads(orjson.dumps(messages.encode_state(state))))
    assert back == state and back.fingerprint == state.fingerprint
    assert back.ports[0].fixed_ips[0].prefixlen == 24
