"""The domain as one server assembled it: its settings plus the objects built from them.

The composition root (``neutrino.server``) builds one ``Domain`` per server
(``services.enabled.assemble``) and passes it down wherever the settings went before: to the
API state, the bus and every service call. It holds the ML2 manager (drivers loaded from the
settings) and the ordered extension hooks around networks and ports. Nothing of it lives in a
module global, so two servers in one process (tests) never share drivers or extensions.

``Domain`` extends ``DomainConfig``: code that only reads settings keeps taking a
``DomainConfig`` and is handed the same object.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from neutrino.domain.config import DomainConfig
from neutrino.domain.ml2.manager import Manager
from neutrino.domain.service_types import ServiceCatalog
from neutrino.domain.services.extensions import Extension


class Domain(DomainConfig):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    ml2: Manager = Field(exclude=True)
    """The ML2 type and mechanism drivers of this configuration."""
    network_extensions: tuple[Extension, ...] = Field(default=(), exclude=True)
    """Hooks around networks, in the order they run (service plugins' first)."""
    port_extensions: tuple[Extension, ...] = Field(default=(), exclude=True)
    """Hooks around ports, in the order they run (service plugins' first)."""
    services: ServiceCatalog = Field(default_factory=ServiceCatalog, exclude=True)
    """The service types and providers of the loaded plugins (flavors, service-providers)."""

    def settings(self) -> DomainConfig:
        """The plain settings (for a copy with some changed: ``model_copy(update=...)``)."""
        return DomainConfig.of(self)
