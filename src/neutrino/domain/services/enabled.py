"""Which extensions run around networks and ports, in order (one place, explicit).

``enable()`` fills the registries of ``extensions`` once per process; the server calls it
before building the app. Add a line here to add an extension.
"""

from __future__ import annotations

from neutrino.domain.services import extensions

_done = False


def enable() -> None:
    global _done
    if _done:
        return
    _done = True
    network_exts: list[extensions.Extension] = []
    port_exts: list[extensions.Extension] = []
    # (each extension module appends itself below, in the order its hooks must run)
    extensions.NETWORK_EXTENSIONS[:] = network_exts
    extensions.PORT_EXTENSIONS[:] = port_exts
