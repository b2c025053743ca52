"""Which extensions run around networks and ports, in order (one place, explicit).

``assemble`` builds the ``Domain`` of one server: its ML2 manager and its extension hooks, the
hooks of its service plugins first. The composition root calls it once; add a line here to add
a core extension.
"""

from __future__ import annotations

from collections.abc import Sequence

from neutrino.domain.config import DomainConfig
from neutrino.domain.ml2 import network_ext, port_ext
from neutrino.domain.ml2.manager import Manager
from neutrino.domain.services import address_scopes, availability_zones, dns_ext, port_security, port_status
from neutrino.domain.service_types import ServiceCatalog
from neutrino.domain.services.extensions import Extension
from neutrino.domain.wiring import Domain
from neutrino.entrypoints import EntryPoints


def assemble(
    config: DomainConfig,
    plugin_network_exts: Sequence[Extension] = (),
    plugin_port_exts: Sequence[Extension] = (),
    *,
    ml2_source: EntryPoints | None = None,
    services: ServiceCatalog | None = None,
) -> Domain:
    """The domain of one server (DriverLoadError if the ML2 settings name a bad driver)."""
    network_exts: list[Extension] = [
        *plugin_network_exts,
        network_ext.ProviderNetworkExtension(),
        network_ext.ExternalNetworkExtension(),
        dns_ext.NetworkDNSDomainExtension(),
        availability_zones.NetworkAvailabilityZones(),
        port_security.DefaultSecurityGroupOnNetwork(),
        port_status.NetworkBlocksCleanup(),
        address_scopes.NetworkAddressScopes(),
    ]
    port_exts: list[Extension] = [
        *plugin_port_exts,
        port_ext.PortBindingExtension(),
        port_security.PortSecurity(),
        dns_ext.PortDNSExtension(config.dns_domain),
        port_status.PortBlocksCleanup(),
    ]
    return Domain(
        **{name: getattr(config, name) for name in DomainConfig.model_fields},
        ml2=Manager(DomainConfig.of(config), source=ml2_source),
        network_extensions=tuple(network_exts),
        port_extensions=tuple(port_exts),
        services=services or ServiceCatalog(),
    )
