"""What the running app shares between requests (settings, database, tokens)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from neutrino.config import ServerSettings
from neutrino.domain.services.common import DomainConfig


@dataclass
class AppState:
    settings: ServerSettings
    engine: Engine
    sessions: sessionmaker[Session]
    tokens: Any
    domain: DomainConfig
    default_project_id: str | None = None
    """The project a no-auth request acts for when it names none (the bootstrap admin project)."""
