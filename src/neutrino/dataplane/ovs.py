"""One Open vSwitch instance (ovsdb-server + ovs-vswitchd) per host.

An emulated host runs its own pair inside its namespace with a private directory: vswitchd then
creates its taps in that namespace and uses that namespace's routing table for native
tunnelling (docs/dataplane.md, "One Open vSwitch per emulated host", "Tunnel endpoints"). Both
daemons keep their default unixctl path (``<dir>/<program>.<pid>.ctl``) so ``ovs-appctl``
finds them through OVS_RUNDIR alone. After a vswitchd crash its taps stay in the namespace,
which deleting the namespace cleans up; the bridges and ports survive in OVSDB but the flows do
not (docs/dataplane.md, "Flows are lost when vswitchd restarts"), so callers resync flows after
``start`` brought vswitchd back.
"""

from __future__ import annotations

from pathlib import Path

from neutrino.dataplane import daemons
from neutrino.dataplane import exec as programs
from neutrino.dataplane.errors import PermanentError
from neutrino.dataplane.host import HostContext

SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
SYSTEM_DBDIR = Path("/etc/openvswitch")
SYSTEM_LOGDIR = Path("/var/log/openvswitch")
UNIX_PATH_MAX = 107  # sun_path is 108 bytes including the final NUL
LONGEST_SOCKET = "ovs-vswitchd.4194304.ctl"  # pid_max is at most 2**22; bridge .mgmt names are shorter
OVSDB_SERVER = "ovsdb-server"
OVS_VSWITCHD = "ovs-vswitchd"


def detect_datapath_type() -> str:
    """"system" when the kernel has the openvswitch module, else "netdev" (userspace datapath)."""
    return "system" if Path("/sys/module/openvswitch").exists() else "netdev"


class OvsInstance:
    """Start, stop and inspect the OVS daemons of one HostContext (idempotently)."""

    def __init__(self, host: HostContext) -> None:
        self.host = host
        self.rundir = host.rundir
        self.dbdir = host.ovs_dir or SYSTEM_DBDIR
        self.logdir = host.ovs_dir or SYSTEM_LOGDIR
        self.db = self.dbdir / "conf.db"
        self.db_sock = self.rundir / "db.sock"

    def _pidfile(self, program: str) -> Path:
        return self.rundir / f"{program}.pid"

    def _daemon(self, program: str) -> daemons.Daemon:
        common = [
            f"--pidfile={self._pidfile(program)}",
            f"--log-file={self.logdir / (program + '.log')}",
            "-vconsole:off",
            "--detach",
        ]
        if program == OVSDB_SERVER:
            argv = [OVSDB_SERVER, str(self.db), f"--remote=punix:{self.db_sock}", *common]
        else:
            argv = [OVS_VSWITCHD, f"unix:{self.db_sock}", *common]
        return daemons.Daemon(program, argv, self._pidfile(program), self.host.netns, self.host.ovs_env)

    def _check_paths(self) -> None:
        longest = len(str(self.rundir / LONGEST_SOCKET).encode())
        if longest > UNIX_PATH_MAX:
            raise PermanentError("start ovs", self.host.name, f"{self.rundir} is too long for unix socket paths")

    def _prepare(self, timeout: float) -> None:
        for d in {self.rundir, self.dbdir, self.logdir}:
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.host.ovs_dir is not None:
            self.host.ovs_dir.chmod(0o700)
        if not self.db.exists():
            programs.run(["ovsdb-tool", "create", str(self.db), str(SCHEMA)], env=self.host.ovs_env, timeout=timeout)

    def start(self, timeout: float = 10.0, other_config: dict[str, str] | None = None) -> None:
        """Bring up whichever daemon is missing; a no-op when both run. ``other_config`` keys
        of the Open_vSwitch row are written before vswitchd starts (some, such as
        ``userspace-tso-enable``, are read only then)."""
        self._check_paths()
        server, switch = self._daemon(OVSDB_SERVER), self._daemon(OVS_VSWITCHD)
        if server.running and switch.running:
            return
        self._prepare(timeout)
        if not server.running:
            server.start(timeout)
            # creates the Open_vSwitch root row of a fresh database (harmless otherwise)
            programs.run(
                ["ovs-vsctl", f"--db={self.host.ovsdb_remote}", f"--timeout={max(1, int(timeout))}", "--no-wait", "init"],
                env=self.host.ovs_env,
                timeout=timeout + 1,
            )
        if other_config and not switch.running:
            settings = [f"other_config:{k}={v}" for k, v in sorted(other_config.items())]
            programs.run(["ovs-vsctl", f"--db={self.host.ovsdb_remote}", f"--timeout={max(1, int(timeout))}", "--no-wait",
                          "set", "Open_vSwitch", ".", *settings], env=self.host.ovs_env, timeout=timeout + 1)  # fmt: skip
        switch.start(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop vswitchd, then ovsdb-server; a no-op when neither runs."""
        self._daemon(OVS_VSWITCHD).stop(timeout)
        self._daemon(OVSDB_SERVER).stop(timeout)

    def pids(self) -> dict[str, int | None]:
        return {p: self._daemon(p).pid for p in (OVSDB_SERVER, OVS_VSWITCHD)}

    def running(self) -> bool:
        return all(pid is not None for pid in self.pids().values())

    def sockets(self) -> dict[str, Path]:
        """The OVSDB socket and the unixctl sockets of the daemons that run."""
        found = {"db": self.db_sock}
        for program, pid in self.pids().items():
            if pid is not None:
                found[f"{program}.ctl"] = self.rundir / f"{program}.{pid}.ctl"
        return found

    def appctl(self, *args: str, target: str = OVS_VSWITCHD, timeout: float = 10.0) -> str:
        """``ovs-appctl -t <target> <args>`` against this instance (ofproto/trace, ovs/route/show...)."""
        argv = ["ovs-appctl", f"--timeout={max(1, int(timeout))}", "-t", target, *args]
        return programs.run(argv, env=self.host.ovs_env, timeout=timeout + 1).stdout
