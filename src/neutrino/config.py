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

from neutrino.domain.config import DEFAULT_QUOTAS, DomainConfig

__all__ = ["DEFAULT_QUOTAS", "ServerSettings", "load_server_settings"]

class ServerSettings(BaseSettings, DomainConfig):
    """What `neutrino server` needs. Section `[server]` of the TOML file. The settings of the
    domain (quotas, ML2, scheduling, ...) are inherited from ``DomainConfig``, defined once."""

    model_config = SettingsConfigDict(env_prefix="NEUTRINO_", extra="ignore", frozen=False)

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
    pagination_max_limit: int = -1
    log_level: str = "info"
    workers: int = Field(
        default=1, ge=1, description="API worker processes; more than one needs PostgreSQL (database_url)"
    )
    migrate: bool = Field(
        default=True,
        description="upgrade the database schema at start; off: operators run `neutrino db upgrade`",
    )
    access_log: bool = Field(default=True, description="one INFO line per request (uvicorn.access)")

    service_plugins: list[str] = Field(
        default_factory=lambda: ["router", "port_forwarding", "auto_allocate", "trunk", "qos", "flavors"],
        description="service plugins by entry point name (group neutrino.service_plugins), in order",
    )

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
        self._settings_cls = settings_cls
        super().__init__(settings_cls, toml_file=path)

    def _read_file(self, file_path: Path) -> dict[str, Any]:  # type: ignore[override]
        """Top-level keys, then every table (Neutron-style [ml2], [ml2_type_vlan], ...), then
        the role's own section; ``quotas`` and ``physical_network_mtus`` stay tables."""
        data = super()._read_file(file_path)
        keep = {"quotas", "physical_network_mtus"}
        flat = {k: v for k, v in data.items() if not isinstance(v, dict) or k in keep}
        own = {**flat, **data.get(self._section, {})}
        check_known_keys(own, self._settings_cls, f"{file_path} (top level or [{self._section}])")
        for name, table in data.items():
            if isinstance(table, dict) and name not in keep and name != self._section:
                flat.update(table)
        flat.update(data.get(self._section, {}))
        return flat


def check_known_keys(values: dict[str, Any], settings_cls: type[BaseSettings], where: str) -> None:
    """A misspelt key (``prot = 9801``) is refused rather than silently ignored. Only the top
    level and the role's own section are checked: other tables ([ml2], [agent], ...) may hold
    keys for other roles."""
    known = set(settings_cls.model_fields) - {"toml_file"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} in {where}")


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
