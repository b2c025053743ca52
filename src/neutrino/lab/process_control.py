"""Start, stop and inspect a lab's processes (the server, the agents) around its supervisor.

``launch`` starts the supervisor detached and ``wait_ready`` returns once the API answers on the
controller's management address and every agent process has reported to it. ``stop`` and
``start`` act on one process for operators and tests: ``stop`` leaves the stop marker first, so
the supervisor does not bring it back, then stops it by pid and returns once it is gone;
``start`` removes the marker and returns once the supervisor has started it again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from neutrino.dataplane import daemons
from neutrino.lab import nodes, supervisor
from neutrino.lab import resolve


class ProcessError(RuntimeError):
    pass


def supervisor_pidfile(lab: resolve.ResolvedLab) -> Path:
    return lab.state_dir / supervisor.PIDFILE


def supervisor_pid(lab: resolve.ResolvedLab) -> int | None:
    pid = daemons.read_pid(supervisor_pidfile(lab))
    return pid if daemons.alive(pid, supervisor.EXPECT) else None


def supervisor_log(lab: resolve.ResolvedLab) -> Path:
    return lab.state_dir / "supervisor.log"


def launch(
    lab: resolve.ResolvedLab, *, server: dict[str, Any] | None = None, agents: dict[str, Any] | None = None
) -> subprocess.Popen[bytes]:
    """Write the config files (``server``/``agents``: overrides, see ``nodes.write_configs``)
    and start ``neutrino lab supervise`` detached (its own session)."""
    nodes.write_configs(lab, server=server, agents=agents)
    env = {**os.environ, "NEUTRINO_LAB_DIR": str(lab.state_dir.parent)}
    with open(supervisor_log(lab), "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "neutrino.cli.main", "lab", "supervise", "--name", lab.name],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
        )  # fmt: skip
    supervisor_pidfile(lab).write_text(f"{proc.pid}\n")
    return proc


def recorded(lab: resolve.ResolvedLab) -> dict[str, dict[str, Any]]:
    """What the supervisor last wrote about each process (restarts, last exit), by name."""
    try:
        doc = json.loads((lab.state_dir / supervisor.STATE).read_text())
    except (OSError, ValueError):
        return {}
    return {p["name"]: p for p in doc.get("processes", [])}


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def admin_token(lab: resolve.ResolvedLab) -> str:
    import yaml

    from neutrino.bus.http import password_token

    auth = yaml.safe_load(nodes.clouds_yaml(lab).read_text())["clouds"]["neutrino"]["auth"]
    return password_token(auth)


def api_get(url: str, token: str | None = None, timeout: float = 2.0) -> Any:
    req = urllib.request.Request(url, headers={"X-Auth-Token": token} if token else {})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"{}")


def reported_agents(lab: resolve.ResolvedLab, token: str) -> dict[str, int]:
    """Live agents per host, as the server sees them."""
    out: dict[str, int] = {}
    for a in api_get(f"{nodes.api_url(lab)}/v2.0/agents", token)["agents"]:
        if a["alive"]:
            out[a["host"]] = out.get(a["host"], 0) + 1
    return out


def wait_ready(lab: resolve.ResolvedLab, proc: subprocess.Popen[bytes] | None, timeout: float = 60.0) -> None:
    """Until the API answers and every agent process has reported all its agents."""
    expected = {s.node: len(nodes.agent_config(lab, lab.host(s.node)).roles) for s in nodes.specs(lab) if s.kind == "agent"}
    server_log = nodes.find(lab, nodes.SERVER).log
    deadline = time.monotonic() + timeout
    token = None
    while True:
        if proc is not None and proc.poll() is not None:
            raise ProcessError(f"the lab's supervisor exited ({proc.returncode}): {_tail(supervisor_log(lab))}")
        if recorded(lab).get(nodes.SERVER, {}).get("restarts", 0) >= 2:
            raise ProcessError(f"the lab's server keeps exiting; {server_log} ends with:\n{_tail(server_log)}")
        try:
            token = token or admin_token(lab)
            have = reported_agents(lab, token)
            if all(have.get(host, 0) >= n for host, n in expected.items()):
                return
        except (OSError, ValueError, KeyError, TypeError):
            pass  # not serving yet (or clouds.yaml not written yet)
        if time.monotonic() > deadline:
            raise ProcessError(f"the lab's server and agents were not ready within {timeout:g}s; see the logs in {lab.state_dir}")
        time.sleep(0.1)


def pid_of(lab: resolve.ResolvedLab, name: str) -> int | None:
    """The live pid of process ``name`` (``server``, ``agent-HOST`` or a host name)."""
    return supervisor.live_pid(nodes.find(lab, name))


def stop(lab: resolve.ResolvedLab, name: str, timeout: float = 10.0) -> int | None:
    """Stop ``name`` on purpose (the supervisor leaves it stopped); returns once it is gone."""
    spec = nodes.find(lab, name)
    spec.stop_marker.touch()
    stopped = supervisor.stop_all([spec], timeout)
    return stopped[0] if stopped else None


def start(lab: resolve.ResolvedLab, name: str, timeout: float = 30.0) -> int:
    """Let the supervisor start ``name`` again; returns its pid once it runs."""
    spec = nodes.find(lab, name)
    if supervisor_pid(lab) is None:
        raise ProcessError(f"lab {lab.name}'s supervisor is not running (`neutrino lab up --name {lab.name}` starts it)")
    spec.stop_marker.unlink(missing_ok=True)
    deadline = time.monotonic() + timeout
    while (pid := supervisor.live_pid(spec)) is None:
        if time.monotonic() > deadline:
            raise ProcessError(f"{spec.name} did not start within {timeout:g}s; see {spec.log}")
        time.sleep(0.05)
    return pid


def processes(lab: resolve.ResolvedLab) -> list[dict[str, Any]]:
    """Every process of the lab with pid, node, health and log: ``running``, ``stopped`` (on
    purpose), ``down`` (dead; the supervisor restarts it), or for the server ``not answering``
    and for agents ``not reported`` when their pid lives but the server does not see them."""
    rec = recorded(lab)
    sup = supervisor_pid(lab)
    out: list[dict[str, Any]] = [{"name": "supervisor", "kind": "supervisor", "node": "(root namespace)",
                                  "pid": sup, "health": "running" if sup else "down", "log": str(supervisor_log(lab)),
                                  "restarts": 0}]  # fmt: skip
    from neutrino.lab import services

    chosen = services.read(lab)
    controller = lab.controller.name
    if chosen.db == "postgresql":
        pid = services.database_pid(lab)
        out.append({"name": "postgresql", "kind": "database", "node": controller, "pid": pid,
                    "health": "running" if pid else "down", "log": str(services.postgres_dir(lab) / "postgres.log"),
                    "restarts": 0})  # fmt: skip
    if chosen.bus == "rabbitmq":
        pid = services.broker_pid(lab)
        out.append({"name": "rabbitmq", "kind": "broker", "node": controller, "pid": pid,
                    "health": "running" if pid else "down", "log": str(services.rabbitmq_dir(lab)), "restarts": 0})  # fmt: skip
    agents: dict[str, int] | None = None
    try:
        agents = reported_agents(lab, admin_token(lab))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    for spec in nodes.specs(lab):
        pid = supervisor.live_pid(spec)
        if spec.stop_marker.exists() and pid is None:
            health = "stopped"
        elif pid is None:
            health = "down"
        elif spec.kind == nodes.SERVER:
            health = "running" if agents is not None else "not answering"
        else:
            want = len(nodes.agent_config(lab, lab.host(spec.node)).roles)
            health = "running" if agents is not None and agents.get(spec.node, 0) >= want else "not reported"
        out.append({"name": spec.name, "kind": spec.kind, "node": spec.node, "pid": pid, "health": health,
                    "log": str(spec.log), "restarts": rec.get(spec.name, {}).get("restarts", 0)})  # fmt: skip
    for entry in out:
        rss = daemons.rss_mib(entry["pid"])
        entry["rss_mib"] = round(rss, 1) if rss is not None else None
    return out
