"""What the RabbitMQ launcher hands the broker: private files and a clean environment (no
broker is started here; tests/integration/test_rabbitmq_launcher.py starts real ones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from neutrino.dataplane import rabbitmq

pytestmark = pytest.mark.unit


def test_identity_is_made_once_per_state_dir(tmp_path: Path):
    (tmp_path / "a").mkdir()
    first = rabbitmq._identity(tmp_path / "a")
    again = rabbitmq._identity(tmp_path / "a")
    (tmp_path / "b").mkdir()
    other = rabbitmq._identity(tmp_path / "b")
    assert first == again
    assert other["node"] != first["node"] and other["vhost"] != first["vhost"]
    assert other["password"] != first["password"]
    assert (tmp_path / "a" / "instance.json").stat().st_mode & 0o077 == 0


def test_environment_is_private_and_marked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RABBITMQ_NODENAME", "rabbit@elsewhere")
    monkeypatch.setenv("ERL_EPMD_PORT", "4369")
    ident = rabbitmq._identity(tmp_path)
    env = rabbitmq._environment(tmp_path, ident, "127.0.0.1", 5679, 45001, 45002)
    assert env["RABBITMQ_NODENAME"] == ident["node"] and env[rabbitmq.MARKER] == ident["node"]
    assert env["ERL_EPMD_PORT"] == "45002" and env["RABBITMQ_DIST_PORT"] == "45001"
    assert env["RABBITMQ_NODE_PORT"] == "5679" and env["RABBITMQ_NODE_IP_ADDRESS"] == "127.0.0.1"
    paths = [v for k, v in env.items() if k.endswith(("_BASE", "_FILE")) or k == "HOME"]
    assert paths and all(p.startswith(str(tmp_path)) for p in paths)  # nothing in /etc or /var


def test_config_creates_the_vhost_and_user(tmp_path: Path):
    ident = rabbitmq._identity(tmp_path)
    rabbitmq._write_files(tmp_path, ident)
    conf = (tmp_path / "rabbitmq.conf").read_text()
    assert f"default_vhost = {ident['vhost']}" in conf and f"default_pass = {ident['password']}" in conf
    assert (tmp_path / "enabled_plugins").read_text().strip() == "[]."
    assert (tmp_path / "home" / ".erlang.cookie").stat().st_mode & 0o777 == 0o400
