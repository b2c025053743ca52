"""The DHCP agent's lease duration (Neutron's ``dhcp_lease_duration``): read from the agent's
file, checked, and handed to dnsmasq's ranges."""

from __future__ import annotations

from pathlib import Path

import pytest

from neutrino.agent.config import load_agent_config, render
from neutrino.agent.standalone import settings_for

pytestmark = pytest.mark.unit


def _write(tmp_path: Path, line: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(f'[agent]\nhost = "net1"\nroles = ["l2", "dhcp"]\ndatapath_type = "netdev"\n{line}\n')
    return path


def test_lease_duration_from_the_file_reaches_the_agent_settings(tmp_path: Path) -> None:
    config = load_agent_config(_write(tmp_path, "dhcp_lease_duration = 120"))
    assert config.dhcp_lease_duration == 120
    assert settings_for(config).dhcp_lease_duration == 120
    assert "dhcp_lease_duration = 120" in render(config)
    assert load_agent_config(_write(tmp_path, "")).dhcp_lease_duration == 86400
    assert load_agent_config(_write(tmp_path, "dhcp_lease_duration = -1")).dhcp_lease_duration == -1


@pytest.mark.parametrize("value", ["0", "-5", "true", '"120"'])
def test_lease_duration_must_be_seconds_or_infinite(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="dhcp_lease_duration"):
        load_agent_config(_write(tmp_path, f"dhcp_lease_duration = {value}"))
