"""What kinds of service this server runs and which providers implement them.

Neutron validates a flavor's ``service_type`` against the plugin types of the loaded plugins
(``type:service_plugin_type``) and a service profile's ``driver`` against the configured
service providers; ``GET /v2.0/service-providers`` lists those providers. Here each service
plugin declares its ``plugin_type`` and its providers (``plugins.api.ServicePlugin``), and the
parts of the core that are service plugins in Neutron are always present (``CORE_TYPES``).
Data in, data out: the composition root builds a ``ServiceCatalog`` and hands it to the domain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CORE_TYPES = (
    "CORE", "segments", "NETWORK_SEGMENT_RANGE", "network-ip-availability", "timestamp", "revision_plugin",
)  # fmt: skip
"""Plugin types of what Neutron loads as plugins and neutrino serves in its core."""

L3 = "L3_ROUTER_NAT"
FLAVORS = "FLAVORS"


@dataclass(frozen=True)
class ServiceProvider:
    """One ``service_provider`` entry (Neutron's ``service_type:name:driver[:default]``)."""

    service_type: str
    name: str
    driver: str
    default: bool = False


@dataclass(frozen=True)
class ServiceCatalog:
    """The service types a flavor may name and the providers a profile's driver may name."""

    types: frozenset[str] = field(default_factory=lambda: frozenset(CORE_TYPES))
    providers: tuple[ServiceProvider, ...] = ()

    @classmethod
    def of(cls, plugin_types: Iterable[str], providers: Iterable[ServiceProvider]) -> ServiceCatalog:
        return cls(frozenset(CORE_TYPES) | {t for t in plugin_types if t}, tuple(providers))

    def find(self, filters: Mapping[str, Sequence[Any]] | None = None) -> list[ServiceProvider]:
        """The providers matching every given filter (each a list of accepted values), in order."""
        filters = filters or {}
        return [
            p for p in self.providers
            if all(getattr(p, key) in values for key, values in filters.items())
        ]  # fmt: skip
