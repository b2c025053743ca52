"""``neutrino agent`` reports on a real database: a report the server ignores is an exit 1,
not a quiet success; ``dhcp-ready`` takes ``--host`` like ``device-up``."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from neutrino.cli.main import cli

pytestmark = pytest.mark.api


def test_agent_reports_on_unknown_ports_exit_1_and_dhcp_ready_takes_host(tmp_path):
    state = ["--state-dir", str(tmp_path)]
    runner = CliRunner()
    assert runner.invoke(cli, ["identity", "project", "list", *state]).exit_code == 0  # creates the store
    up = runner.invoke(cli, ["agent", "device-up", "--host", "h1", "nope", *state])
    assert up.exit_code == 1 and "nope: ignored (unknown port" in up.output and "1 of 1 report(s) ignored" in up.output
    ready = runner.invoke(cli, ["agent", "dhcp-ready", "--host", "h1", "nope", *state])
    assert ready.exit_code == 1 and "nope: unknown port" in ready.output
    down = runner.invoke(cli, ["agent", "device-down", "--host", "h1", "nope", *state])
    assert down.exit_code == 1
