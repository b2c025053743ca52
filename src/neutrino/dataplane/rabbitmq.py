"""A private RabbitMQ broker from Debian's ``rabbitmq-server`` package, started and stopped by pid.

Usage (tests, the lab, the bus benchmark)::

    broker = rabbitmq.start(state_dir, host="127.0.0.1", port=5679, netns=None)
    broker.url        # amqp://neutrino:<password>@127.0.0.1:5679/neutrino-<id>
    broker.pid        # the Erlang VM (beam.smp)
    broker.stop()     # returns once every process of the instance is gone
    rabbitmq.stop(state_dir)   # the same from another process (``lab down``)

Everything of an instance lives in ``state_dir``: the database (RABBITMQ_MNESIA_BASE), logs
(RABBITMQ_LOG_BASE), the configuration file, an empty plugin list and env file (so nothing in
/etc/rabbitmq applies), HOME with the Erlang cookie, and ``instance.json`` with the node name,
vhost, user and password chosen at the first start. Starting again with the same ``state_dir``
(a broker restart) reuses them, so the user, the vhost and durable state survive. Two
instances with different state directories share no node name, vhost, password or port
(``port=None`` picks a free one; the Erlang distribution and epmd ports are always picked free).

The vhost and user are created by the broker itself at its first boot (``default_vhost``,
``default_user`` in the config file), so no ``rabbitmqctl`` (a second Erlang VM, seconds) runs.

epmd, the Erlang port mapper, would otherwise be started by the VM as a daemon that outlives
the broker and is shared by every Erlang node of the machine: we start our own on a private port
(ERL_EPMD_PORT), in the foreground, and stop it by pid. Every process of the instance carries
the marker ``NEUTRINO_RABBITMQ=<node>`` in its environment; ``stop`` signals the VM, then epmd,
then anything still carrying the marker, and returns once none is left.

With ``netns`` the processes run inside that network namespace (``ip netns exec``, which
execs, so the pids are the programs'); its loopback must be up.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from neutrino.dataplane import daemons
from neutrino.dataplane.errors import PermanentError, TemporaryError

LOG = logging.getLogger(__name__)

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
"""Debian's script that execs the Erlang VM (``/usr/sbin/rabbitmq-server`` would switch to the
``rabbitmq`` user through a wrapper, and the pid would not be the broker's)."""
MARKER = "NEUTRINO_RABBITMQ"
USER = "neutrino"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0

T = TypeVar("T")


def unavailable_reason() -> str | None:
    """Why this machine cannot run a broker, or None if it can."""
    if not os.access(SERVER, os.X_OK):
        return f"{SERVER} not found: install the Debian package 'rabbitmq-server' (./dev test does it)"
    if shutil.which("epmd") is None and not Path("/usr/lib/erlang/bin/epmd").exists():
        return "epmd (Erlang) not found: install the Debian package 'rabbitmq-server'"
    return None


def _epmd() -> str:
    return shutil.which("epmd") or "/usr/lib/erlang/bin/epmd"


def in_netns(netns: str | None, work: Callable[[], T]) -> T:
    """Run ``work`` inside ``netns`` (in a thread of its own: setns is per thread)."""
    if netns is None:
        return work()
    from pyroute2 import netns as pr_netns

    out: dict[str, Any] = {}

    def run() -> None:
        try:
            pr_netns.setns(netns)
            out["value"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            out["error"] = exc

    thread = threading.Thread(target=run, name=f"netns-{netns}")
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]  # type: ignore[no-any-return]


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Broker:
    """A running instance: what clients need (``url``) and what stops it (``pid``, ``stop``)."""

    state_dir: Path
    host: str
    port: int
    netns: str | None
    node: str
    vhost: str
    user: str
    password: str
    pid: int
    epmd_pid: int
    _procs: tuple[subprocess.Popen[bytes], ...] = ()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        vhost = urllib.parse.quote(self.vhost, safe="")
        return f"amqp://{self.user}:{self.password}@{host}:{self.port}/{vhost}"

    @property
    def running(self) -> bool:
        return _ours(self.pid, self.node)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the broker and its epmd by pid; returns once no process of the instance is left."""
        stop(self.state_dir, timeout=timeout)
        for proc in self._procs:  # reap our children (zombies otherwise, until we exit)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=timeout)


def _identity(state_dir: Path) -> dict[str, str]:
    """Node name, vhost, user and password of the instance in ``state_dir``, made at first use."""
    path = state_dir / "instance.json"
    if path.exists():
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    ident = secrets.token_hex(4)
    doc = {"node": f"neutrino-{ident}@localhost", "vhost": f"neutrino-{ident}", "user": USER,
           "password": secrets.token_urlsafe(18)}  # fmt: skip
    path.write_text(json.dumps(doc))
    path.chmod(0o600)
    return doc


def _config(ident: dict[str, str], state_dir: Path) -> str:
    return "\n".join([
        f"default_vhost = {ident['vhost']}",
        f"default_user = {ident['user']}",
        f"default_pass = {ident['password']}",
        "default_permissions.configure = .*",
        "default_permissions.read = .*",
        "default_permissions.write = .*",
        "default_user_tags.administrator = true",
        "loopback_users = none",
        "log.console = false",
        "log.file.level = info",
        # a small disk must not block publishers (the default limit is 50 MB anyway)
        "disk_free_limit.absolute = 10MB",
        f"log.dir = {state_dir / 'log'}",
        "",
    ])  # fmt: skip


def _environment(state_dir: Path, ident: dict[str, str], host: str, port: int, dist_port: int,
                 epmd_port: int) -> dict[str, str]:  # fmt: skip
    """A clean environment (nothing of the caller's RABBITMQ_* or ERL_* leaks in)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "HOME": str(state_dir / "home"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        MARKER: ident["node"],
        "ERL_EPMD_PORT": str(epmd_port),
        "RABBITMQ_NODENAME": ident["node"],
        "RABBITMQ_USE_LONGNAME": "false",
        "RABBITMQ_NODE_IP_ADDRESS": host,
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "RABBITMQ_MNESIA_BASE": str(state_dir / "mnesia"),
        "RABBITMQ_LOG_BASE": str(state_dir / "log"),
        "RABBITMQ_CONFIG_FILE": str(state_dir / "rabbitmq.conf"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(state_dir / "advanced.config"),
        "RABBITMQ_CONF_ENV_FILE": str(state_dir / "rabbitmq-env.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(state_dir / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(state_dir / "rabbitmq.pid"),
        # exec the VM from the script (no signal-forwarding shell in between): pid = broker
        "RABBITMQ_ALLOW_INPUT": "true",
        "RABBITMQ_SERVER_START_ARGS": "-noinput",
        # the distribution port only on loopback
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }


def _write_files(state_dir: Path, ident: dict[str, str]) -> None:
    home = state_dir / "home"
    home.mkdir(mode=0o700, exist_ok=True)
    cookie = home / ".erlang.cookie"
    if not cookie.exists():
        cookie.write_text(secrets.token_hex(16).upper())
        cookie.chmod(0o400)
    (state_dir / "log").mkdir(exist_ok=True)
    (state_dir / "rabbitmq.conf").write_text(_config(ident, state_dir))
    (state_dir / "advanced.config").write_text("[].\n")
    (state_dir / "rabbitmq-env.conf").write_text("")
    (state_dir / "enabled_plugins").write_text("[].\n")


def _spawn(argv: list[str], env: dict[str, str], netns: str | None, log: Path, die_with_parent: bool,
           pidfile: Path) -> subprocess.Popen[bytes]:  # fmt: skip
    if netns is not None:
        argv = ["ip", "netns", "exec", netns, *argv]
    if die_with_parent and shutil.which("setpriv"):
        # if the starting process dies without stop(), the broker is told to stop too
        argv = ["setpriv", "--pdeathsig", "TERM", "--", *argv]
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                cwd=env["HOME"], start_new_session=True)  # fmt: skip
    pidfile.write_text(f"{proc.pid}\n")
    return proc


def _log_tail(state_dir: Path, ident: dict[str, str], lines: int = 15) -> str:
    texts = []
    for path in (state_dir / "log" / f"{ident['node']}.log", state_dir / "rabbitmq.out"):
        with contextlib.suppress(OSError):
            texts += path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(texts)


def _amqp_ready(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.connect()
        return True
    except Exception:  # noqa: BLE001 - not up yet (refused, handshake, login before boot ends)
        return False


def start(state_dir: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int | None = None,
          netns: str | None = None, timeout: float = START_TIMEOUT, die_with_parent: bool = False) -> Broker:  # fmt: skip
    """Start a private broker listening for AMQP on ``host:port`` (inside ``netns`` if given)
    and return once a client can log in. ``port=None``: a free port. ``die_with_parent``: stop
    the broker if the calling process dies (tests; not for a launcher that exits)."""
    reason = unavailable_reason()
    if reason is not None:
        raise PermanentError("start", "rabbitmq", reason)
    state = Path(state_dir).resolve()
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    stop(state)  # a broker left running from this directory (a crashed caller): by its pidfiles
    ident = _identity(state)
    _write_files(state, ident)
    port, dist_port, epmd_port = in_netns(netns, lambda: (port or _free_port(host), _free_port("127.0.0.1"),
                                                          _free_port("127.0.0.1")))  # fmt: skip
    env = _environment(state, ident, host, port, dist_port, epmd_port)
    procs = []
    try:
        procs.append(_spawn([_epmd(), "-port", str(epmd_port), "-address", "127.0.0.1"], env, netns,
                            state / "epmd.out", die_with_parent, state / "epmd.pid"))  # fmt: skip
        procs.append(_spawn([str(SERVER)], env, netns, state / "rabbitmq.out", die_with_parent, state / "beam.pid"))
        broker = Broker(state_dir=state, host=host, port=port, netns=netns, node=ident["node"], vhost=ident["vhost"],
                        user=ident["user"], password=ident["password"], pid=procs[1].pid, epmd_pid=procs[0].pid,
                        _procs=tuple(procs))  # fmt: skip
        deadline = time.monotonic() + timeout
        while not in_netns(netns, lambda: _amqp_ready(broker.url)):
            for proc in procs:
                if proc.poll() is not None:
                    raise TemporaryError("start", f"rabbitmq {ident['node']}",
                                         f"{proc.args[0]} exited with {proc.returncode}:\n{_log_tail(state, ident)}")  # fmt: skip
            if time.monotonic() > deadline:
                raise TemporaryError("start", f"rabbitmq {ident['node']}",
                                     f"not ready after {timeout:g}s:\n{_log_tail(state, ident)}")  # fmt: skip
            time.sleep(0.2)
    except BaseException:
        stop(state)
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_TIMEOUT)
        raise
    (state / "url").write_text(broker.url + "\n")
    (state / "url").chmod(0o600)
    LOG.info("rabbitmq %s ready on %s:%d (pid %d)", broker.node, host, port, broker.pid)
    return broker


def _ours(pid: int, node: str) -> bool:
    """``pid`` is a live (not zombie) process of the instance ``node``: it carries the marker."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"{MARKER}={node}".encode() in environ.split(b"\0") and daemons.alive(pid, "")


def instance_pids(node: str) -> list[int]:
    """Live processes carrying the instance's marker in their environment (by /proc)."""
    return [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit() and _ours(int(e.name), node)]


def _terminate(pid: int | None, node: str, timeout: float) -> bool:
    """SIGTERM, wait up to ``timeout``, then SIGKILL; True if it was running."""
    if pid is None or not _ours(pid, node):
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while _ours(pid, node) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _ours(pid, node):
            return True
    raise TemporaryError("stop", f"rabbitmq {node} pid {pid}", "still running after SIGKILL")


def stop(state_dir: str | os.PathLike[str], timeout: float = STOP_TIMEOUT) -> bool:
    """Stop the instance of ``state_dir`` by pid: the VM (SIGTERM: a clean shutdown; SIGKILL
    after ``timeout``), then epmd, then any straggler of the instance. Idempotent; returns
    True if something was running. The state directory is kept (a restart reuses it)."""
    state = Path(state_dir)
    path = state / "instance.json"
    if not path.exists():
        return False
    node = json.loads(path.read_text())["node"]
    stopped = _terminate(daemons.read_pid(state / "beam.pid"), node, timeout)
    stopped = _terminate(daemons.read_pid(state / "epmd.pid"), node, 5.0) or stopped
    for pid in instance_pids(node):  # a port program the VM left (none normally)
        LOG.warning("rabbitmq %s: stopping leftover process %d", node, pid)
        stopped = _terminate(pid, node, 2.0) or stopped
    for name in ("beam.pid", "epmd.pid", "rabbitmq.pid"):
        (state / name).unlink(missing_ok=True)
    return stopped


def url_of(state_dir: str | os.PathLike[str]) -> str | None:
    """The AMQP URL of the instance last started in ``state_dir`` (None if never started)."""
    try:
        return (Path(state_dir) / "url").read_text().strip()
    except FileNotFoundError:
        return None
