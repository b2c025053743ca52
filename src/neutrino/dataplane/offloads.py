"""Read and set what decides the offloads between the kernel and Open vSwitch on one host.

The facts ``agent/l2/offloads.py`` decides from: the openvswitch kernel module, the version of
ovs-vswitchd, the ``userspace-tso-enable`` key in OVSDB, whether the running vswitchd has
userspace TSO on, and what the probe found its binary does with offloaded packets. OVS 3.1 offers no command that says the last one, and its taps keep the
offloads a previous vswitchd gave them; but with userspace TSO vswitchd opens every packet
socket with a virtio-net header, which ``ss -0 -e`` shows (docs/dataplane.md, "Userspace TSO"). The side effects: writing the
key (one ``ovs-vsctl`` call) and transmit checksum offload on or off on a device of the host,
as ``ethtool -K <dev> tx on|off`` does but through the ethtool ioctl (``Netlink.set_tx_checksum``:
no program in a pass), only when it differs (idempotent). Beside them, what the lab asks of a
host's vswitchd before and after it plugs an AF_XDP port (``iface_types``, an Interface's
``error``, its type set back): docs/dataplane.md, "AF_XDP ports".
"""

from __future__ import annotations

import os
from pathlib import Path

from neutrino.dataplane import exec as programs
from neutrino.dataplane.errors import CommandFailed, DataplaneError
from neutrino.dataplane.host import HostContext

KERNEL_MODULE = Path("/sys/module/openvswitch")
PROBE_CACHE_ENV = "NEUTRINO_TSO_PROBE_CACHE"
PROBE_CACHE = Path("/run/neutrino/ovs-tso-probe.json")
"""What ``dataplane/tso_probe.py`` found, per vswitchd version, for every agent and lab of the
machine; ``$NEUTRINO_TSO_PROBE_CACHE`` moves it (the test suite keeps it in its own temporary
directory, so that a test run leaves no file behind)."""
TSO_KEY = "userspace-tso-enable"
VSWITCHD = "ovs-vswitchd"


def features(ethtool_k: str) -> dict[str, bool]:
    """``ethtool -k`` output -> {feature: on}; "[fixed]" and "[requested on]" notes ignored."""
    out = {}
    for line in ethtool_k.splitlines():
        name, sep, rest = line.strip().partition(":")
        words = rest.split()
        if sep and words and words[0] in ("on", "off"):
            out[name] = words[0] == "on"
    return out


def vnethdr(ss_output: str, program: str) -> bool | None:
    """From ``ss -0 -e -p``: do ``program``'s packet sockets use a virtio-net header? None if
    it has none. Each socket is a line naming its process, then a line of flags."""
    found = None
    owner = False
    for line in ss_output.splitlines():
        if line.startswith("p_"):
            owner = f'(("{program}",' in line
        elif owner and "flags(" in line:
            flags = line.split("flags(", 1)[1].split(")", 1)[0].split()
            found = bool(found) or "vnethdr" in flags
    return found


def parse_iface_types(vsctl_get: str) -> frozenset[str]:
    """``ovs-vsctl get Open_vSwitch . iface_types`` (``[afxdp, "afxdp-nonpmd", geneve]``) -> names."""
    inner = vsctl_get.strip().strip("[]")
    return frozenset(t.strip().strip('"') for t in inner.split(",") if t.strip())


class HostOffloads:
    def __init__(self, host: HostContext) -> None:
        self.host = host

    def kernel_module(self) -> bool:
        return KERNEL_MODULE.exists()

    def vswitchd_version(self) -> str:
        """``ovs-vswitchd --version``'s first line ("" if it cannot be run)."""
        try:
            return programs.run(["ovs-vswitchd", "--version"], timeout=10).stdout.split("\n", 1)[0]
        except DataplaneError:
            return ""

    def _vsctl(self, *args: str) -> str:
        argv = ["ovs-vsctl", f"--db={self.host.ovsdb_remote}", "--timeout=10", *args]
        return programs.run(argv, env=self.host.ovs_env, timeout=15).stdout

    def tso_setting(self) -> str | None:
        out = self._vsctl("--if-exists", "get", "Open_vSwitch", ".", f"other_config:{TSO_KEY}").strip()
        return out.strip('"') or None

    def write_tso_setting(self, value: str) -> None:
        """Written with ``--no-wait``: vswitchd reads the key only when it starts."""
        self._vsctl("--no-wait", "set", "Open_vSwitch", ".", f"other_config:{TSO_KEY}={value}")

    def iface_types(self, timeout: float = 5.0) -> frozenset[str]:
        """The Interface types this vswitchd offers (its ``iface_types``, which it writes once
        it runs; read until it has, up to ``timeout``): ``afxdp-nonpmd`` among them where it was
        built with AF_XDP (``agent/l2/ovs_port_types.py``)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            found = parse_iface_types(self._vsctl("get", "Open_vSwitch", ".", "iface_types"))
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def interface_errors(self, names: list[str]) -> dict[str, str]:
        """{name: OVS's ``error``} for those of the Interfaces ``names`` vswitchd could not open."""
        out = {}
        for name in names:
            found = self._vsctl("--if-exists", "get", "Interface", name, "error").strip()
            if found not in ("", "[]"):
                out[name] = found.strip('"')
        return out

    def set_interface_type(self, name: str, iface_type: str) -> None:
        """Another netdev type for an existing Interface, its options cleared (they were the old
        type's)."""
        self._vsctl("set", "Interface", name, f"type={iface_type}", "--", "clear", "Interface", name, "options")

    def device_features(self, dev: str) -> dict[str, bool] | None:
        """The device's ethtool features in the host's namespace; None if it does not exist."""
        try:
            return features(programs.run(["ethtool", "-k", dev], netns=self.host.netns, timeout=10).stdout)
        except CommandFailed:
            return None

    def tso_probe(self, version: str) -> tuple[bool, bool] | None:
        """(keeps the sender's segment size, tunnels offloaded packets), asked of the vswitchd
        binary by a throwaway instance (``dataplane/tso_probe.py``, once per version on the
        machine); None when the probe could not tell."""
        from neutrino.dataplane import tso_probe

        cache = Path(os.environ.get(PROBE_CACHE_ENV) or PROBE_CACHE)
        found = tso_probe.cached(version, cache) if version else None
        return (found.keeps_segment_size, found.tunnels_offloaded) if found else None

    def tso_active(self) -> bool | None:
        """Has the running vswitchd userspace TSO on? Its packet sockets then carry a virtio-net
        header (``ss -0 -e``: flag ``vnethdr``); None when it has no packet socket (yet)."""
        out = programs.run(["ss", "-0", "-e", "-p"], netns=self.host.netns, timeout=10).stdout
        return vnethdr(out, VSWITCHD)

    def set_tx(self, dev: str, on: bool) -> bool:
        """TX checksum offload (and with it TSO) of ``dev`` on or off; True if it changed,
        False if it already was so or the device is gone."""
        from neutrino.dataplane.netlink import Netlink

        return bool(Netlink().set_tx_checksum(dev, on, netns=self.host.netns))
