"""What every transport does with a message before a listener or handler sees it.

A message of a version this side does not speak is dropped whole (never half-applied) and
logged once per version and place, not once per message: a newer server talking to an older
agent would otherwise fill the log. ``look_again`` is the synthetic notification a transport
hands its listeners when it may have missed messages (a reconnect, a gap in the event log):
agents are level-triggered, so "look again" is all they need to catch up.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from neutrino.contract import messages as m

LOG = logging.getLogger(__name__)
_seen: set[tuple[str, str]] = set()
_lock = threading.Lock()


def accept(msg: Any, where: str) -> bool:
    """True if ``msg`` is a message of the version this side speaks; else log (once per
    version and ``where``) and return False."""
    version = msg.get("v") if isinstance(msg, dict) else None
    if version == m.VERSION:
        return True
    key = (where, repr(version))
    with _lock:
        first = key not in _seen
        _seen.add(key)
    if first:
        LOG.error("bus: dropped a message of version %r on %s (this side speaks version %d); "
                  "further messages of that version are dropped silently", version, where, m.VERSION)  # fmt: skip
    return False


def look_again() -> dict[str, Any]:
    """The synthetic "host changed" a listener gets after a reconnect or a gap."""
    return m.message(m.HOST_CHANGED, revision=0, resync=True)
