"""Every CLI error is one clear line and a non-zero exit (cli/main.py decides it once), and the
commands that act on the machine say that they need root before touching anything."""

from __future__ import annotations

import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from neutrino.cli import main as cli_main
from neutrino.cli.main import cli

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]


def one_line_error(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)


@pytest.mark.parametrize("argv", [["lab", "status"], ["lab", "down"], ["lab", "up"], ["lab", "logs"],
                                  ["lab", "exec", "outside", "--", "true"], ["vm", "list"], ["lab", "demo"]])  # fmt: skip
def test_root_commands_say_they_need_root(not_root, argv):
    line = one_line_error(CliRunner().invoke(cli, argv))
    assert "needs root" in line
    assert "remove what was built" not in line  # nothing was built


def test_lab_commands_without_root_still_work_offline(not_root):
    assert CliRunner().invoke(cli, ["lab", "plan", "--json"]).exit_code == 0


def test_bad_lab_name_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr("os.geteuid", lambda: 0)
    line = one_line_error(CliRunner().invoke(cli, ["lab", "down", "--name", "nosuchlab"]))
    assert "lab name 'nosuchlab'" in line


@pytest.mark.parametrize("exc, expected", [
    (PermissionError(1, "Operation not permitted"), "Operation not permitted"),
    (ValueError("bad input"), "bad input"),
    (LookupError("no lab is up"), "no lab is up"),
])  # fmt: skip
def test_expected_errors_become_one_line_and_bugs_keep_their_traceback(monkeypatch, exc, expected):
    @click.command("boom")
    def boom() -> None:
        raise exc

    cli.add_command(boom)
    try:
        assert expected in one_line_error(CliRunner().invoke(cli, ["boom"]))
        monkeypatch.setenv("NEUTRINO_DEBUG", "1")
        assert CliRunner().invoke(cli, ["boom"]).exception is exc  # the traceback, on demand
    finally:
        cli.commands.pop("boom")


def test_neutrino_errors_are_expected_and_bugs_are_not():
    from neutrino.lab.cloud import CloudError

    assert cli_main.is_expected(CloudError("x"))
    assert not cli_main.is_expected(TypeError("x")) and not cli_main.is_expected(AssertionError())


def test_permission_error_as_non_root_says_so(not_root):
    assert "needs root" in cli_main.one_line(PermissionError(1, "failed to open netns"))


def test_server_refuses_an_unknown_setting(tmp_path):
    config = tmp_path / "ml2.toml"
    config.write_text("prot = 9801\n")
    line = one_line_error(CliRunner().invoke(cli, ["server", "--config", str(config), "--state-dir", str(tmp_path / "s")]))
    assert "unknown setting 'prot'" in line


def test_second_server_on_a_state_directory_refuses(tmp_path):
    from neutrino.cli.server import hold_state_dir

    held = hold_state_dir(tmp_path)
    try:
        line = one_line_error(CliRunner().invoke(cli, ["server", "--state-dir", str(tmp_path), "--port", "1"]))
        assert "in use by another neutrino server" in line and str(tmp_path / "server.pid") in line
    finally:
        held.close()


def test_agent_reports_refuse_a_state_directory_without_a_database(tmp_path):
    for argv in (["device-up", "--host", "h", "p1"], ["dhcp-ready", "--host", "h", "p1"], ["heartbeat", "--host", "h", "--type", "dhcp"]):
        line = one_line_error(CliRunner().invoke(cli, ["agent", *argv, "--state-dir", str(tmp_path / "nostate")]))
        assert "no neutrino database" in line
    assert not (tmp_path / "nostate" / "neutrino.db").exists()


def test_dev_help_lists_every_command_and_exits_0():
    for argv in ([], ["--help"], ["help"]):
        done = subprocess.run(["bash", str(REPO / "dev"), *argv], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0 and "lab demo" in done.stdout and "openstack" in done.stdout, done
        assert not any(line.startswith("#") for line in done.stdout.splitlines())
    assert subprocess.run(["bash", str(REPO / "dev"), "nonsense"], capture_output=True, timeout=30).returncode == 2

