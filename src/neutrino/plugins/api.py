"""The service plugin contract and its loader.

A plugin is constructed with the domain configuration once per server. What it returns is
merged into the server at build time: ``routers()`` into the FastAPI app, ``extensions`` into
the extension list, ``resources()`` into ``GET /v2.0/``, ``attributes()`` into the core resources' request parsing, ``port_extensions()`` / ``network_extensions()`` into the hooks around core
resources. Plugin hooks run before the core ones (a plugin usually guards its own resources,
for example refusing to delete a router's interface port), in the configured plugin order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from neutrino.domain.config import DomainConfig
from neutrino.domain.service_types import ServiceProvider
from neutrino.domain.services.extensions import Extension
from neutrino.entrypoints import EntryPoints, LoadError, installed_entry_points, load_classes

GROUP = "neutrino.service_plugins"


@dataclass(frozen=True)
class ApiExtension:
    """One entry of ``GET /v2.0/extensions``."""

    alias: str
    name: str
    description: str


class ServicePlugin:
    """Base class; a plugin overrides what it provides."""

    name = "plugin"
    extensions: Sequence[ApiExtension] = ()
    plugin_type = ""
    """Neutron's plugin type of the service (``L3_ROUTER_NAT``, ``QOS``): what a flavor's
    ``service_type`` names (domain/service_types.py)."""

    def __init__(self, cfg: DomainConfig) -> None:
        self.cfg = cfg

    def routers(self) -> list[Any]:
        """FastAPI ``APIRouter`` objects to include in the app."""
        return []

    def resources(self) -> list[Any]:
        """The ``ResourceSpec`` of each collection it serves (listed by ``GET /v2.0/``)."""
        return []

    def attributes(self) -> dict[str, list[Any]]:
        """Attributes (``api.attributes.Attr``) it adds to core collections, by collection
        (``networks``, ``ports``): requests may carry them only when the plugin is loaded."""
        return {}

    def service_providers(self) -> list[ServiceProvider]:
        """The providers of its service (listed by ``/v2.0/service-providers``)."""
        return []

    def port_extensions(self) -> list[Extension]:
        return []

    def network_extensions(self) -> list[Extension]:
        return []


def load_service_plugins(
    names: Iterable[str], cfg: DomainConfig, source: EntryPoints | None = None
) -> list[ServicePlugin]:
    """The configured plugins, constructed, in order; LoadError names a bad one."""
    plugins: list[ServicePlugin] = []
    for name, cls in load_classes(GROUP, names, "service plugin", source or installed_entry_points):
        if not (isinstance(cls, type) and issubclass(cls, ServicePlugin)):
            raise LoadError(f"service plugin '{name}' is not a neutrino.plugins.api.ServicePlugin")
        plugin = cls(cfg)
        plugin.name = name
        plugins.append(plugin)
    return plugins
