"""Settings for each role, from defaults < TOML file < NEUTRINO_* environment < command line.

One class per role so that a server never sees agent options and vice versa. Settings are
passed in explicitly (never read from a global) so tests can build as many as they like.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_QUOTAS: dict[str, int] = {
    "network": 100,
    "subnet": 100,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "rbac_policy": 10,
    "subnetpool": -1,
}


class ServerSettings(BaseSettings):
    """What `neutrino server` needs. Section `[server]` of the TOML file."""

    model_config = SettingsConfigDict(env_prefix="NEUTRINO_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 9696
    state_dir: Path = Path("/var/lib/neutrino")
    auth: Literal["keystone", "noauth"] = "keystone"
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<state_dir>/neutrino.db"
    )
    admin_password: str | None = None
    transport_url: str = Field(
        default="",
        description="the agents' bus on RabbitMQ, amqp://user:password@host:5672/vhost; empty: in-process "
        "for embedded agents and HTTP (/bus/v1) for agent processes",
    )
    public_url: str | None = Field(
        default=None, description="URL clients use to reach this server; default http://host:port"
    )
    region: str = "RegionOne"
    token_expiration: int = 3600
    base_mac: str = "fa:16:3e:00:00:00"
    global_physnet_mtu: int = 1500
    max_dns_nameservers: int = 5
    max_subnet_host_routes: int = 20
    pagination_max_limit: int = -1
    quotas: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_QUOTAS))
    log_level: str = "info"
    workers: int = Field(
        default=1, ge=1, description="API worker processes; more than one needs PostgreSQL (database_url)"
    )
    migrate: bool = Field(
        default=True,
        description="upgrade the database schema at start; off: operators run `neutrino db upgrade`",
    )

    service_plugins: list[str] = Field(
        default_factory=lambda: ["router"],
        description="service plugins by entry point name (group neutrino.service_plugins), in order",
    )

    # ML2 (Neutron's [ml2] and [ml2_type_*] options; TOML sections of those names also work)
    type_drivers: list[str] = Field(default_factory=lambda: ["local", "flat", "vlan", "vxlan", "geneve"])
    tenant_network_types: list[str] = Field(default_factory=lambda: ["local"])
    mechanism_drivers: list[str] = Field(default_factory=lambda: ["openvswitch"])
    extension_drivers: list[str] = Field(default_factory=list)
    flat_networks: list[str] = Field(default_factory=lambda: ["*"])
    network_vlan_ranges: list[str] = Field(default_factory=list, description="physnet[:min:max]")
    vni_ranges: list[str] = Field(default_factory=list, description="VXLAN min:max")
    geneve_vni_ranges: list[str] = Field(default_factory=list, description="Geneve min:max")
    geneve_max_header_size: int = 30
    path_mtu: int = 0
    physical_network_mtus: dict[str, int] = Field(default_factory=dict)

    # agents and scheduling
    agent_down_time: int = 75
    enable_new_agents: bool = True
    dhcp_agents_per_network: int = 1
    network_auto_schedule: bool = True
    allow_automatic_dhcp_failover: bool = True
    router_auto_schedule: bool = True
    allow_automatic_l3agent_failover: bool = False

    # L3 and ports
    max_routes: int = 30
    max_allowed_address_pair: int = 10

    # filled in by load_server_settings, not by users
    toml_file: Path | None = Field(default=None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = _TOML_PATH.get("server")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml is not None:
            sources.append(_SectionToml(settings_cls, toml, "server"))
        return tuple(sources)

    @field_validator("transport_url")
    @classmethod
    def _check_transport_url(cls, value: str) -> str:
        if value:
            from neutrino.bus.broker_errors import check_url

            check_url(value)
        return value

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.state_dir / 'neutrino.db'}"

    @property
    def url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host if self.host not in ("0.0.0.0", "::") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def quota_defaults(self) -> dict[str, int]:
        merged = dict(DEFAULT_QUOTAS)
        merged.update(self.quotas)
        return merged


class _SectionToml(TomlConfigSettingsSource):
    """Reads one `[section]` of the TOML file (top-level keys also count, for brevity)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path, section: str) -> None:
        self._section = section
        super().__init__(settings_cls, toml_file=path)

    def _read_file(self, file_path: Path) -> dict[str, Any]:  # type: ignore[override]
        """Top-level keys, then every table (Neutron-style [ml2], [ml2_type_vlan], ...), then
        the role's own section; ``quotas`` and ``physical_network_mtus`` stay tables."""
        data = super()._read_file(file_path)
        keep = {"quotas", "physical_network_mtus"}
        flat = {k: v for k, v in data.items() if not isinstance(v, dict) or k in keep}
        for name, table in data.items():
            if isinstance(table, dict) and name not in keep and name != self._section:
                flat.update(table)
        flat.update(data.get(self._section, {}))
        return flat


_TOML_PATH: dict[str, Path | None] = {}


def load_server_settings(config_file: Path | None = None, **overrides: Any) -> ServerSettings:
    """Build server settings; ``overrides`` are command-line values (None means not given)."""
    if config_file is not None and not Path(config_file).is_file():
        raise FileNotFoundError(f"config file {config_file} does not exist")
    _TOML_PATH["server"] = Path(config_file) if config_file else None
    try:
        given = {k: v for k, v in overrides.items() if v is not None}
        return ServerSettings(**given)
    finally:
        _TOML_PATH.pop("server", None)
