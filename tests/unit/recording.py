"""Wrap a fake adapter to record the calls that change something, so a test can say that a pass
with nothing to do wrote nothing (reads are not recorded)."""

from __future__ import annotations

from typing import Any

READS = frozenset({
    "netns_exists", "list_netns", "link", "links", "addresses", "routes", "get_sysctl", "list_tables", "table",
    "find_ports", "bridge", "port", "list_bridges", "bridge_ports", "transaction", "dump", "vxlan_devices", "fdb",
    "neighbours", "vlan_supported", "close",
})  # fmt: skip


class Recording:
    def __init__(self, target: Any, calls: list[tuple[str, str]], name: str) -> None:
        self._target, self._calls, self._name = target, calls, name

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._target, attr)
        if attr.startswith("_") or attr in READS or not callable(value):
            return value

        def call(*args: Any, **kw: Any) -> Any:
            self._calls.append((self._name, attr))
            return value(*args, **kw)

        return call


def record_commits(ovsdb: Any, calls: list[tuple[str, str]]) -> None:
    """Record every OVSDB transaction a fake ``FakeOvsdb`` commits (with at least one command)."""
    commit = ovsdb._commit

    def recorded(commands: Any) -> None:
        calls.append(("ovsdb", f"commit {len(commands)}"))
        commit(commands)

    ovsdb._commit = recorded
