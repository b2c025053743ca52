"""Gratuitous ARP: tell the segment that an address now lives behind this device's MAC.

When a router moves to another network node (or takes a new floating IP), the outside's
neighbour caches and every switch's MAC table still point at the old place. Neutron announces
each new IPv4 address with ``arping -U`` then ``arping -A`` (``-c 1 -w 2``), three rounds two
seconds apart (``ip_lib.send_ip_addr_adv_notif``); the later rounds matter because the port
may not be tagged by the L2 agent yet when the first one goes out. The rounds run in a
background thread, so a reconciler's pass never waits for them. arping is iputils-arping's.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from neutrino.dataplane import exec as programs
from neutrino.dataplane.errors import DataplaneError, ProgramMissing

LOG = logging.getLogger(__name__)
ROUNDS = 3
INTERVAL = 2.0


class Announcer:
    """Sends gratuitous ARPs with arping, in the background; at most one warning if it is missing."""

    def __init__(self, run: Callable[..., Any] = programs.run, *, rounds: int = ROUNDS, interval: float = INTERVAL) -> None:
        self.run = run
        self.rounds = rounds
        self.interval = interval
        self.available = True
        self._stop = threading.Event()

    def announce(self, device: str, addresses: Iterable[str], *, netns: str | None) -> None:
        """Announce each IPv4 address (prefix lengths allowed) of ``device`` in ``netns``."""
        v4 = [a.split("/")[0] for a in addresses if ipaddress.ip_interface(a).version == 4]
        if not v4 or not self.available:
            return
        thread = threading.Thread(target=self._rounds, args=(device, v4, netns), name=f"garp-{device}", daemon=True)
        thread.start()

    def close(self) -> None:
        """Stop announcing (remaining rounds are skipped)."""
        self._stop.set()

    def _rounds(self, device: str, addresses: list[str], netns: str | None) -> None:
        for round_number in range(self.rounds):
            if round_number and self._stop.wait(self.interval):
                return
            for address in addresses:
                for mode in ("-U", "-A"):
                    try:
                        self.run(["arping", mode, "-I", device, "-c", "1", "-w", "2", address],
                                 netns=netns, check=False, timeout=5)  # fmt: skip
                    except ProgramMissing:
                        if self.available:
                            LOG.warning("arping is not installed (iputils-arping): no gratuitous ARP")
                        self.available = False
                        return
                    except DataplaneError as exc:  # the device or namespace went away meanwhile
                        LOG.debug("gratuitous ARP for %s on %s: %s", address, device, exc)
                        return
