"""``lab validate``, ``plan`` and ``schema`` need no root and touch nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from neutrino.cli.main import cli

pytestmark = pytest.mark.unit
EXAMPLES = Path(__file__).parents[2] / "examples"


def test_validate_and_plan():
    runner = CliRunner()
    ok = runner.invoke(cli, ["lab", "validate", str(EXAMPLES / "seed.yaml")])
    assert ok.exit_code == 0 and "valid: lab seed, 4 hosts, 4 switches" in ok.output
    plan = json.loads(runner.invoke(cli, ["lab", "plan", "--name", "demo", "--json"]).output)
    assert plan["name"] == "demo" and plan["hosts"][1]["netns"] == "demo-network"
    text = runner.invoke(cli, ["lab", "plan", str(EXAMPLES / "multi.yaml")]).output
    assert "multi-sw-p2" in text and "netcomp" in text
    assert "multi-sw-mgt" in text and "management:" in text and ":9696" in text


def test_invalid_file_is_a_clean_error(tmp_path):
    bad = tmp_path / "lab.yaml"
    bad.write_text("name: Bad\nhosts: {a: {roles: [router]}}\n")
    out = CliRunner().invoke(cli, ["lab", "validate", str(bad)])
    assert out.exit_code == 1
    assert "name: Value error, lab name 'Bad'" in out.output and "hosts.a.roles.0" in out.output
    assert "Traceback" not in out.output


def test_schema_command():
    doc = json.loads(CliRunner().invoke(cli, ["lab", "schema"]).output)
    assert doc["title"] == "neutrino lab file" and "hosts" in doc["required"]
