"""``neutrino agent --host H`` in its own process, reaching the server over HTTP (/bus/v1) or
RabbitMQ (``--transport-url``, the server's ``transport_url`` pointing at the same private
broker): it takes over compute2 from the embedded agent, wires a port there, and a restart of
the process keeps the port's tag and the traffic."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.lab import cloud, instances, probes, topology
from tests.lab.cloud_support import cloud_lab

pytestmark = pytest.mark.root


def _start(cl, log, transport_url=None):  # type: ignore[no-untyped-def]
    h = cl.lab.host("compute2")
    info = cloud.info(cl.lab)
    cmd = [
        sys.executable, "-m", "neutrino.cli.main", "agent", "--host", "compute2", "--roles", "l2",
        "--server-url", info["url"], "--clouds-yaml", info["clouds_yaml"],
        "--bridge-mappings", ",".join(f"{k}:{v}" for k, v in h.bridge_mappings.items()),
        "--tunnel-types", "vxlan", "--tunneling-ip", h.tunnel_ip.split("/")[0],
        "--netns", h.netns, "--ovs-dir", str(h.ovs_dir), "--prefix", h.prefix,
        "--state-dir", str(cl.lab.state_dir / "standalone"),
    ]  # fmt: skip
    if transport_url:
        cmd += ["--transport-url", transport_url]
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))


def _stop(proc):  # type: ignore[no-untyped-def]
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("bus", ["http", pytest.param("rabbitmq", marks=pytest.mark.broker)])
def test_standalone_agent(lab_root, tmp_path, bus, request, monkeypatch):
    transport_url = None
    if bus == "rabbitmq":  # the lab's server on the broker too (settings from NEUTRINO_* variables)
        transport_url = request.getfixturevalue("rabbitmq_broker").url
        monkeypatch.setenv("NEUTRINO_TRANSPORT_URL", transport_url)
    lab_file = topology.parse({"hosts": {"network": {"roles": ["network"]}, "compute1": {"roles": ["compute"]},
                                         "compute2": {"roles": ["compute"]}}})  # fmt: skip
    with cloud_lab(lab_root, lab_file) as cl:
        cl.plane.stop_agent("compute2")
        log = open(tmp_path / "agent.log", "wb")  # noqa: SIM115
        proc = _start(cl, log, transport_url)
        try:
            net = cl.network("standalone", "10.9.0.0/24")
            a = instances.create_from_api(cl.lab, "sa", network=net["id"], host="compute1")
            b = instances.create_from_api(cl.lab, "sb", network=net["id"], host="compute2")
            cl.wait_active([a.port_id, b.port_id])
            check = probes.transfer(a.netns, b.netns, b.ip.split("/")[0])
            assert check.ok, check
            qvo = b.devices["qvo"]
            tag = Ovsdb(cl.lab.host("compute2").context).port(qvo).tag
            # restart the agent process while a TCP stream runs: the stream survives, the tag stays
            import threading

            result = {}
            t = threading.Thread(target=lambda: result.setdefault("c", probes.transfer(
                a.netns, b.netns, b.ip.split("/")[0], port=5003, duration=3.0)))  # fmt: skip
            t.start()
            time.sleep(0.5)
            _stop(proc)
            proc = _start(cl, log, transport_url)
            t.join(timeout=30)
            assert result["c"].ok, result["c"]
            assert Ovsdb(cl.lab.host("compute2").context).port(qvo).tag == tag
            agents = cl.api.request("GET", "agents?host=compute2")["agents"]
            assert agents and agents[0]["alive"]
        finally:
            _stop(proc)
            log.close()
            print((tmp_path / "agent.log").read_text()[-2000:])
