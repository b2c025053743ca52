"""The layers of docs/architecture.md, as import-linter contracts (``[tool.importlinter]`` in
pyproject.toml): the contract package is a leaf; agents, the dataplane and the bus's wire side
never reach the server's domain, database or web framework; api -> domain -> db; the domain
knows neither the web framework nor the CLI nor the lab; nothing but the CLI imports the CLI.

A broken contract fails here with import-linter's report naming the import chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter import cli

pytestmark = pytest.mark.unit

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_import_contracts_hold(capsys):
    status = cli.lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert status == cli.EXIT_STATUS_SUCCESS, report
    assert "0 broken" in report
