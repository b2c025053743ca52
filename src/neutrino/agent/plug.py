"""How the DHCP and L3 agents plug their ports, per mechanism.

Both make a veth whose host end is ``tap<11>`` and then hand that tap to the host's switch.
With Open vSwitch that is a Port row on br-int carrying the Neutron port's iface-id (the
``Ovsdb`` adapter itself is the plug). With Linux bridges there is nothing to register: the
Linux bridge L2 agent finds the tap by name and makes it a port of its network's brq bridge,
as it does for an instance's tap. ``BridgePlug`` stands where the OVS database would, with no
ports and transactions that change nothing, so the reconcilers keep one code path.
"""

from __future__ import annotations

from typing import Any


class _NoTransaction:
    def __init__(self) -> None:
        self.commands: list[Any] = []

    def add_port(self, *_args: Any, **_kw: Any) -> None:
        return None

    def del_port(self, *_args: Any, **_kw: Any) -> None:
        return None

    def commit(self) -> None:
        return None

    def __enter__(self) -> _NoTransaction:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class BridgePlug:
    """The Linux bridge mechanism's plug: taps are found by name, nothing is registered."""

    def find_ports(self, **other_config: str) -> list[Any]:
        return []

    def transaction(self) -> _NoTransaction:
        return _NoTransaction()
