"""The host an adapter works on: which namespace, which Open vSwitch, which name prefix.

On a real machine the host is the root namespace, OVS is the system instance and names are
Neutron's own (``qdhcp-<network id>``). In the lab an emulated host is a namespace with a private
OVS instance (its own database, run directory and control sockets), and the namespaces it owns
carry its prefix, so that several emulated hosts share one kernel without clashing. Every
adapter takes a HostContext; the agent code is the same in both worlds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class HostContext:
    name: str
    netns: str | None = None
    """The namespace that is "the host"; None for the root namespace."""
    ovs_dir: Path | None = None
    """Private OVS run/db/log directory; None for the system instance."""
    prefix: str = ""
    """Prepended to the names of namespaces this host creates (qdhcp-, qrouter-, instances)."""

    @property
    def ovs_env(self) -> dict[str, str]:
        """Environment that points ovs-vsctl, ovs-ofctl and ovs-appctl at this host's OVS."""
        if self.ovs_dir is None:
            return {}
        d = str(self.ovs_dir)
        return {"OVS_RUNDIR": d, "OVS_DBDIR": d, "OVS_LOGDIR": d, "OVS_SYSCONFDIR": d, "OVS_PKGDATADIR": "/usr/share/openvswitch"}

    @property
    def ovsdb_remote(self) -> str:
        rundir = self.ovs_dir if self.ovs_dir is not None else Path("/var/run/openvswitch")
        return f"unix:{rundir / 'db.sock'}"

    @property
    def rundir(self) -> Path:
        return self.ovs_dir if self.ovs_dir is not None else Path("/var/run/openvswitch")

    def namespace(self, base: str) -> str:
        """The name of a namespace this host owns (``qdhcp-<id>`` → ``<prefix>qdhcp-<id>``)."""
        return self.prefix + base


ROOT = HostContext(name="localhost")
