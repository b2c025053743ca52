"""The lab's bus and database choice (lab/services.py): recorded once, kept, refused if changed;
the server's settings follow it (lab/nodes.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from neutrino.lab import nodes, services, topology
from neutrino.lab import resolve as rs

pytestmark = pytest.mark.unit


def _lab(tmp_path: Path) -> rs.ResolvedLab:
    lab = rs.resolve(topology.default_lab(), name="sv", root=tmp_path)
    lab.state_dir.mkdir(parents=True)
    return lab


def test_default_is_http_and_sqlite_and_a_lab_keeps_its_choice(tmp_path: Path) -> None:
    lab = _lab(tmp_path)
    chosen = services.settle(lab, None, None)
    assert (chosen.bus, chosen.db, chosen.db_password) == ("http", "sqlite", "")
    assert services.settle(lab, "http", None) == chosen
    with pytest.raises(ValueError, match="runs with --bus http --db sqlite"):
        services.settle(lab, "rabbitmq", None)
    assert "database_url" not in nodes.server_settings(lab, chosen)


def test_postgresql_and_rabbitmq(tmp_path: Path) -> None:
    lab = _lab(tmp_path)
    chosen = services.settle(lab, "rabbitmq", "postgresql")
    assert services.read(lab) == chosen and len(chosen.db_password) >= 16
    assert (lab.state_dir / services.RECORD).stat().st_mode & 0o077 == 0
    assert services.settle(lab, None, None) == chosen  # a later `lab up` without options
    settings = nodes.server_settings(lab, chosen, "amqp://u:p@100.64.0.2:5672/v")
    assert settings["database_url"].startswith("postgresql+psycopg://neutrino:")
    assert settings["database_url"].endswith("@127.0.0.1:5432/neutrino")
    assert settings["workers"] == 2 and settings["transport_url"] == "amqp://u:p@100.64.0.2:5672/v"
    agent = nodes.agent_config(lab, lab.host("compute1"), transport_url="amqp://u:p@100.64.0.2:5672/v")
    assert agent.transport_url == settings["transport_url"]


def test_unknown_choices_are_refused() -> None:
    with pytest.raises(ValueError, match="--bus kafka"):
        services.choose("kafka", "sqlite")
    with pytest.raises(ValueError, match="--db mysql"):
        services.choose("http", "mysql")
