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
    from neutrino.domain.ml2 import network_ext, port_ext

    network_exts += [network_ext.ProviderNetworkExtension(), network_ext.ExternalNetworkExtension()]
    port_exts.append(port_ext.PortBindingExtension())
    from neutrino.domain.services import port_security

    network_exts.append(port_security.DefaultSecurityGroupOnNetwork())
    port_exts.append(port_security.PortSecurity())
    from neutrino.domain.services import l3_ports

    port_exts.insert(0, l3_ports.L3PortGuard())  # first: refuse before any other cleanup
    from neutrino.domain.services import port_status

    network_exts.append(port_status.NetworkBlocksCleanup())
    port_exts.append(port_status.PortBlocksCleanup())
    extensions.NETWORK_EXTENSIONS[:] = network_exts
    extensions.PORT_EXTENSIONS[:] = port_exts
