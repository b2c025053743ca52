"""DHCP servers without processes, for the DHCP agent's unit tests (``ports.DhcpServers``).

Files are written for real under the given directory (the reconciler finds networks by their
directories, as on a host); the process is a record: its argv while "running", and counters of
starts, reloads and stops, so a test can check that a pass with nothing to do touched nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from neutrino.dataplane.dnsmasq import write_atomic

_PIDS = itertools.count(40000)


@dataclass
class FakeDhcpState:
    running: dict[Path, list[str]] = field(default_factory=dict)
    """conf_dir -> argv of the "running" server."""
    pids: dict[Path, int] = field(default_factory=dict)
    starts: list[Path] = field(default_factory=list)
    reloads: list[Path] = field(default_factory=list)
    stops: list[Path] = field(default_factory=list)
    leases: dict[Path, str] = field(default_factory=dict)

    def writes(self) -> int:
        return len(self.starts) + len(self.reloads) + len(self.stops)


class FakeDhcpServer:
    def __init__(self, state: FakeDhcpState, netns: str | None, conf_dir: Path, argv: Sequence[str]) -> None:
        self.state, self.netns, self.conf_dir, self.argv = state, netns, Path(conf_dir), list(argv)

    def running_argv(self) -> list[str] | None:
        argv = self.state.running.get(self.conf_dir)
        return list(argv) if argv is not None else None

    def write_files(self, files: Mapping[str, str]) -> list[str]:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        return [name for name, text in files.items() if write_atomic(self.conf_dir / name, text)]

    def write_leases(self, text: str) -> None:
        if self.conf_dir not in self.state.running:
            self.state.leases[self.conf_dir] = text

    def ensure(self, timeout: float = 10.0) -> int:
        if self.conf_dir not in self.state.running:
            self.state.running[self.conf_dir] = list(self.argv)
            self.state.pids[self.conf_dir] = next(_PIDS)
            self.state.starts.append(self.conf_dir)
        return self.state.pids[self.conf_dir]

    def reload(self) -> int:
        if self.conf_dir not in self.state.running:
            return self.ensure()
        self.state.reloads.append(self.conf_dir)
        return self.state.pids[self.conf_dir]

    def stop(self, timeout: float = 5.0) -> bool:
        return FakeDhcpServers(self.state).stop(self.conf_dir)


class FakeDhcpServers:
    def __init__(self, state: FakeDhcpState | None = None) -> None:
        self.state = state or FakeDhcpState()

    def server(self, netns: str | None, conf_dir: Path, argv: Sequence[str]) -> FakeDhcpServer:
        return FakeDhcpServer(self.state, netns, conf_dir, argv)

    def stop(self, conf_dir: Path) -> bool:
        conf_dir = Path(conf_dir)
        if self.state.running.pop(conf_dir, None) is None:
            return False
        self.state.pids.pop(conf_dir, None)
        self.state.stops.append(conf_dir)
        return True
