"""Real Neutron beside neutrino in one run (``bench/api.py --with-neutron``).

Neutron 29 from PyPI, pinned, in its own virtualenv (``.bench-neutron-venv``, created on first
use and kept, like the tempest one). Each run writes a fresh configuration in a temporary
directory: ML2 with the openvswitch mechanism driver and VXLAN project networks (a stock
ML2/OVS deployment's API), SQLite without a sync per commit (as neutrino's WAL with
``synchronous=NORMAL``: the comparison is of the servers, not of the disk), one process, the fake oslo.messaging transport (no broker;
the agent notifications are cast into it), and ``auth_strategy = keystone`` with
keystonemiddleware validating tokens against the neutrino server's Keystone-compatible
identity API, so both servers are driven with the same token, the same client and the same
sequence. Neutron's Alembic migrations do not run on SQLite (they ALTER constraints), so the
schema comes from the models' metadata, which is what Neutron's own unit tests do. The server
is stopped by pid and the directory removed at the end.
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".bench-neutron-venv"
PINS = ["neutron==29.0.0"]
START_TIMEOUT = 120.0

CONF = """\
[DEFAULT]
core_plugin = ml2
service_plugins =
auth_strategy = keystone
api_paste_config = {venv}/etc/neutron/api-paste.ini
state_path = {state}
transport_url = fake:/
debug = false
use_stderr = true
[database]
connection = sqlite:///{state}/neutron.db
sqlite_synchronous = false
[oslo_concurrency]
lock_path = {state}/lock
[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers = openvswitch
extension_drivers = port_security
[ml2_type_vxlan]
vni_ranges = 1:100000
[keystone_authtoken]
www_authenticate_uri = {identity}/v3
auth_url = {identity}
auth_type = password
username = admin
password = {password}
project_name = admin
user_domain_name = Default
project_domain_name = Default
"""

SCHEMA = (
    "import sqlalchemy as sa; from neutron.db.migration.models import head; "
    "head.get_metadata().create_all(sa.create_engine('sqlite:///' + __import__('sys').argv[1]))"
)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ensure_venv() -> Path:
    """The virtualenv's python, installing the pinned Neutron first if the pins changed."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    want = " ".join(PINS)
    if python.exists() and stamp.exists() and stamp.read_text() == want:
        return python
    log(f"installing {want} into {VENV} (a few minutes, once)")
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
    stamp.write_text(want)
    return python


class NeutronServer:
    """One Neutron API process on a free port, its state in a temporary directory."""

    def __init__(self, identity_url: str, password: str, port: int) -> None:
        self.python = ensure_venv()
        self.dir = Path(tempfile.mkdtemp(prefix="neutrino-bench-neutron-"))
        self.port = port
        self.db = self.dir / "neutron.db"
        self.log_path = self.dir / "neutron.log"
        (self.dir / "neutron.conf").write_text(
            CONF.format(venv=VENV, state=self.dir, identity=identity_url, password=password)
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        subprocess.run([str(self.python), "-c", SCHEMA, str(self.db)], check=True, capture_output=True)
        runner = Path(__file__).resolve().parent / "neutron_wsgi.py"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "NEUTRINO_"))}
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [str(self.python), str(runner), str(self.port), str(self.dir)],
                stdout=out, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"neutron exited with {self.proc.returncode} at start: {self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/")
                if conn.getresponse().status < 500:
                    conn.close()
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"neutron did not answer GET / within {START_TIMEOUT:.0f}s")
            time.sleep(0.2)

    def add_live_ovs_agent(self, host: str) -> None:
        """What an OVS agent's report leaves in Neutron's ``agents`` table. The heartbeat is
        dated ahead so that the agent stays alive (75 s agent_down_time) through the phase."""
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        beat = now + datetime.timedelta(minutes=30)
        conf = {"bridge_mappings": {"physnet1": "br-eth1"}, "tunnel_types": ["vxlan"], "datapath_type": "system"}
        with sqlite3.connect(self.db) as db:
            db.execute(
                "INSERT INTO agents (id, agent_type, binary, topic, host, admin_state_up, created_at, started_at,"
                " heartbeat_timestamp, configurations, load) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, 0)",
                (str(uuid.uuid4()), "Open vSwitch agent", "neutron-openvswitch-agent", "N/A", host,
                 now.isoformat(" "), now.isoformat(" "), beat.isoformat(" "), json.dumps(conf)),
            )  # fmt: skip

    def tail(self) -> str:
        try:
            return "".join(self.log_path.read_text(errors="replace").splitlines(True)[-20:])
        except OSError:
            return ""

    def stop(self) -> None:
        """By pid: SIGTERM, wait, SIGKILL; then remove the directory."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
