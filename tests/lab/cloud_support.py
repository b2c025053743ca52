"""A lab with its control plane (server, bus, agents) running inside the test process.

In-process so that a test can restart one host's agent while traffic flows, and read the
agents' state; the API is served over HTTP as in a real lab, so the lab's own API client and
the openstack CLI work against it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any, TypeVar

import uvicorn

from neutrino.lab import cloud, nodes, realize, teardown, topology
from neutrino.lab import resolve
from neutrino.lab.api import LabApi
from tests.addresses import free_hosts, held_by
from tests.lab.conftest import unique_name

START_TIMEOUT = 30.0


@dataclass
class Cloud:
    lab: resolve.ResolvedLab
    plane: cloud.ControlPlane
    api: LabApi

    def wait_active(self, port_ids: list[str], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            ports = {p["id"]: p["status"] for p in self.api.request("GET", "ports")["ports"]}
            if all(ports.get(pid) == "ACTIVE" for pid in port_ids):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"ports not ACTIVE within {timeout}s: { {p: ports.get(p) for p in port_ids} }")
            time.sleep(0.05)

    def vm(self, name: str, network: str, host: str, **kw: Any) -> Any:
        """An instance on ``network`` (DHCP-addressed), its port ACTIVE."""
        from neutrino.lab import instances

        vm = instances.create_from_api(self.lab, name, network=network, host=host, **kw)
        self.wait_active([vm.port_id])
        return vm

    def free_address(self, network: str, cidr: str, first: int = 200) -> str:
        """An address of ``cidr`` that no port of ``network`` holds now, from its ``first``-th
        host upward: instances' addresses are random, so a hard-coded "unused" one (a spoofed
        source, a port's new address) is now and then some instance's (tests/addresses.py)."""
        ports = self.api.request("GET", f"ports?network_id={network}")["ports"]
        return free_hosts(cidr, held_by(ports), first=first)[0]

    def stop_agent_for_good(self, host: str) -> None:
        """Stop every agent of ``host`` and never restart it (a host that died): its state
        reports stop, so the server marks its agents dead after ``agent_down_time``; its
        dataplane (OVS, dnsmasq, router namespaces) is left as it was."""
        self.plane.stop_agent(host)

    def start_agent(self, host: str) -> None:
        """Start ``host``'s agents again after ``stop_agent_for_good``."""
        self.plane.start_agent(host)

    def network(self, name: str, cidr: str, **provider: Any) -> dict[str, Any]:
        net = self.api.request("POST", "networks", {"network": {"name": name, **provider}})["network"]
        self.api.request("POST", "subnets", {"subnet": {"network_id": net["id"], "cidr": cidr, "ip_version": 4}})
        return net  # type: ignore[no-any-return]


@contextlib.contextmanager
def cloud_lab(
    lab_root: Path,
    lab_file: topology.LabFile | None = None,
    *,
    server_settings: dict[str, Any] | None = None,
    agent_settings: dict[str, Any] | None = None,
) -> Iterator[Cloud]:
    """``server_settings`` / ``agent_settings``: overrides for the lab's server and agents."""
    name = unique_name()
    plane = server = thread = None
    try:
        lab = realize.up(lab_file or topology.default_lab(), name=name, root=lab_root).lab
        plane = cloud.ControlPlane(lab, server_settings=server_settings, agent_settings=agent_settings)
        plane.start()
        server = uvicorn.Server(uvicorn.Config(plane.built.app, host="127.0.0.1", port=plane.port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError(f"the in-process API server did not start within {START_TIMEOUT:g} s")
            time.sleep(0.02)
        cloud.IN_PROCESS[name] = {
            "url": plane.settings.url,
            "pid": None,
            "clouds_yaml": str(nodes.clouds_yaml(lab)),
            "agents": sorted(plane.agents),
        }
        yield Cloud(lab=lab, plane=plane, api=LabApi(lab))
    finally:
        if server is not None:
            server.should_exit = True
            assert thread is not None
            thread.join(timeout=10)
        if plane is not None:
            plane.close()
        cloud.IN_PROCESS.pop(name, None)
        teardown.down(name, root=lab_root)


def ip_of(vm: Any) -> str:
    """The address of an instance, without its prefix length."""
    return str(vm.ip).split("/")[0]


@dataclass
class ProcessCloud:
    """A lab as ``lab up`` runs it: the server and every host's agents as separate processes
    in their namespaces, under the lab's supervisor (lab/supervisor.py)."""

    lab: resolve.ResolvedLab
    api: LabApi

    def pid(self, name: str) -> int | None:
        from neutrino.lab import process_control

        return process_control.pid_of(self.lab, name)

    def stop_agent_for_good(self, host: str) -> None:
        """Stop ``host``'s agent process; the supervisor leaves it stopped (a host that died)."""
        from neutrino.lab import process_control

        process_control.stop(self.lab, host)

    def start_agent(self, host: str) -> int:
        from neutrino.lab import process_control

        return process_control.start(self.lab, host)

    def wait_restarted(self, name: str, old_pid: int, timeout: float = 30.0) -> int:
        """The pid of ``name`` once the supervisor has replaced ``old_pid``."""
        deadline = time.monotonic() + timeout
        while (pid := self.pid(name)) in (None, old_pid):
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} was not restarted within {timeout}s")
            time.sleep(0.05)
        return pid  # type: ignore[return-value]

    def wait_api(self, timeout: float = 60.0) -> None:
        """Until the API answers again (after a server restart), with a fresh token."""
        from neutrino.lab.api import ApiError

        deadline = time.monotonic() + timeout
        while True:
            try:
                self.api = LabApi(self.lab)
                self.api.request("GET", "networks")
                return
            except (OSError, ApiError, cloud.CloudError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    wait_active = Cloud.wait_active
    vm = Cloud.vm
    network = Cloud.network


@contextlib.contextmanager
def process_lab(
    lab_root: Path,
    lab_file: topology.LabFile | None = None,
    *,
    bus: str | None = None,
    server_settings: dict[str, Any] | None = None,
    agent_settings: dict[str, Any] | None = None,
) -> Iterator[ProcessCloud]:
    """``lab up``: the lab, its supervisor, server and agents; always taken down (by pid).
    ``bus``: ``rabbitmq`` for a broker on the controller (default HTTP);
    ``server_settings`` / ``agent_settings``: overrides for the lab's server and agents."""
    name = unique_name()
    try:
        lab = realize.up(lab_file or topology.default_lab(), name=name, root=lab_root).lab
        cloud.start(lab, bus=bus, server_settings=server_settings, agent_settings=agent_settings)
        yield ProcessCloud(lab=lab, api=LabApi(lab))
    finally:
        teardown.down(name, root=lab_root)


T = TypeVar("T")


def poll(fn: Callable[[], T], done: Callable[[T], bool], timeout: float = 20.0, every: float = 0.2) -> T:
    """Call ``fn`` until ``done`` holds of its result or ``timeout`` passes; the last result
    (the caller asserts on it, so a slow machine fails with what it saw, not a hang)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(every)


def wait_established(netns: str, dst_ip: str, port: int, timeout: float = 5.0) -> None:
    """Until a TCP connection to dst_ip:port is established in ``netns`` (``ss``): the point a
    test means when it disturbs a running stream, rather than a guessed sleep."""
    from neutrino.dataplane import exec as programs

    argv = ["ss", "-Htn", "state", "established", "dst", f"[{dst_ip}]:{port}" if ":" in dst_ip else f"{dst_ip}:{port}"]
    deadline = time.monotonic() + timeout
    while not programs.run(argv, netns=netns).stdout.strip():
        if time.monotonic() > deadline:
            raise AssertionError(f"no TCP connection to {dst_ip}:{port} established within {timeout:g} s")
        time.sleep(0.05)


@contextlib.contextmanager
def stream_running(a: Any, b: Any, port: int) -> Iterator[None]:
    """A 3 s TCP stream from instance ``a`` to ``b`` on ``port``, established before the body
    runs; asserts it carried all its data once the body is done."""
    from neutrino.lab import probes

    result: dict[str, Any] = {}
    t = threading.Thread(target=lambda: result.setdefault("check", probes.transfer(
        a.netns, b.netns, ip_of(b), port=port, duration=3.0)))  # fmt: skip
    t.start()
    try:
        wait_established(a.netns, ip_of(b), port)
        yield
    finally:
        t.join(timeout=20)
    assert result["check"].ok, result


def restart_agent_under_a_stream(cl: Any, a: Any, b: Any, host: str = "compute1") -> Any:
    """Restart ``host``'s agent while a 3 s TCP stream runs from instance ``a`` to ``b``; assert
    the stream survived and that the restarted agent's first pass wrote nothing to OVSDB.
    Returns the new agent (its ``last_result`` is that first pass)."""
    with stream_running(a, b, 5002):
        cl.plane.stop_agent(host)
        agent = cl.plane.start_agent(host)
        with agent.converged:
            assert agent.converged.wait_for(lambda: agent.passes >= 1, timeout=10), "no pass after restart"
    assert agent.last_result is not None and agent.last_result.ovsdb_commands == 0
    return agent


@contextlib.contextmanager
def programs_started() -> Iterator[dict[str, int]]:
    """Count the programs the calling thread starts (argv[0]'s name, under ``ip netns exec``),
    by wrapping ``subprocess.Popen``; other threads (the other agents' passes) are not counted."""
    import subprocess

    counts: dict[str, int] = {}
    me, popen = threading.current_thread(), subprocess.Popen

    class Counting(popen):  # type: ignore[misc,valid-type]
        def __init__(self, args: Any, *rest: Any, **kw: Any) -> None:
            if threading.current_thread() is me:
                argv = [args] if isinstance(args, str) else [str(a) for a in args]
                if argv[:3] == ["ip", "netns", "exec"]:
                    argv = argv[4:]
                name = Path(argv[0]).name
                counts[name] = counts.get(name, 0) + 1
            super().__init__(args, *rest, **kw)

    subprocess.Popen = Counting  # type: ignore[misc]
    try:
        yield counts
    finally:
        subprocess.Popen = popen  # type: ignore[misc]
