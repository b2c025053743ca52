"""Which extensions run around networks and ports, in order (one place, explicit).

``enable()`` fills the registries of ``extensions``; the server calls it before building the
app, with the hooks of its service plugins, which run first. Add a line here to add a core
extension.
"""

from __future__ import annotations

from collections.abc import Sequence

from neutrino.domain.services import extensions


def enable(
    plugin_network_exts: Sequence[extensions.Extension] = (),
    plugin_port_exts: Sequence[extensions.Extension] = (),
) -> None:
    network_exts: list[extensions.Extension] = list(plugin_network_exts)
    port_exts: list[extensions.Extension] = list(plugin_port_exts)
    # (each extension module appends itself below, in the order its hooks must run)
    from neutrino.domain.ml2 import network_ext, port_ext

    network_exts += [network_ext.ProviderNetworkExtension(), network_ext.ExternalNetworkExtension()]
    port_exts.append(port_ext.PortBindingExtension())
    from neutrino.domain.services import port_security

    network_exts.append(port_security.DefaultSecurityGroupOnNetwork())
    port_exts.append(port_security.PortSecurity())
    from neutrino.domain.services import port_status

    network_exts.append(port_status.NetworkBlocksCleanup())
    port_exts.append(port_status.PortBlocksCleanup())
    extensions.NETWORK_EXTENSIONS[:] = network_exts
    extensions.PORT_EXTENSIONS[:] = port_exts
