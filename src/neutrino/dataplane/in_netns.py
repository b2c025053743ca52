"""Run a function with the calling thread's network namespace switched, for what netlink sockets
cannot carry: ``/proc/sys/net`` (sysctls are per namespace, docs/dataplane.md) and the ethtool
ioctl.

``setns(2)`` changes only the calling thread's namespace, so the function runs on a short-lived
thread of its own that is switched and then ends: the agent's threads never leave their
namespace, even when the function raises. What the function raises is raised again here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TypeVar

from pyroute2 import netns as pyroute2_netns

from neutrino.dataplane.errors import PermanentError

NETNS_DIR = "/run/netns"
T = TypeVar("T")


def call_in(netns: str | None, fn: Callable[[], T]) -> T:
    """``fn()`` inside ``netns`` (None: here, on the calling thread)."""
    if netns is None:
        return fn()
    outcome: dict[str, object] = {}

    def switched() -> None:
        try:
            fd = os.open(os.path.join(NETNS_DIR, netns), os.O_RDONLY)
        except FileNotFoundError:
            outcome["error"] = PermanentError("enter", f"namespace {netns}", "no such namespace")
            return
        try:
            pyroute2_netns.setns(fd, flags=0)
        except OSError as exc:
            outcome["error"] = PermanentError("enter", f"namespace {netns}", str(exc))
            return
        finally:
            os.close(fd)
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=switched, name=f"in-netns-{netns}", daemon=True)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
