"""The deployment files shipped in the package (src/neutrino/deploy/, docs/deployment.md) load
through the code the commands use: the systemd units parse and start the right command with
the right file, the server TOML through ``load_server_settings``, the agent TOML files through
``load_agent_config`` (what ``neutrino agent --config`` calls)."""

from __future__ import annotations

import configparser
import shlex
from importlib.resources import files
from pathlib import Path

import pytest

from neutrino.agent.config import load_agent_config, read_file, render
from neutrino.config import load_server_settings

pytestmark = pytest.mark.unit
DEPLOY = Path(str(files("neutrino.deploy")))


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text())
    return parser


@pytest.mark.parametrize(("unit", "command", "config"), [
    ("neutrino-server.service", "server", "/etc/neutrino/server.toml"),
    ("neutrino-agent.service", "agent", "/etc/neutrino/agent.toml"),
])  # fmt: skip
def test_units_parse_and_run_the_command(unit: str, command: str, config: str) -> None:
    parsed = _unit(unit)
    assert {"Unit", "Service", "Install"} <= set(parsed.sections())
    argv = shlex.split(parsed["Service"]["ExecStart"])
    assert Path(argv[0]).name == "neutrino" and argv[1:] == [command, "--config", config]
    assert parsed["Service"]["Restart"] in ("on-failure", "always")
    assert parsed["Install"]["WantedBy"] == "multi-user.target"


def test_agent_unit_keeps_dnsmasq_across_restarts() -> None:
    assert _unit("neutrino-agent.service")["Service"]["KillMode"] == "process"


def test_server_toml_loads() -> None:
    settings = load_server_settings(DEPLOY / "server.toml")
    assert settings.url == "http://controller.example.net:9696"
    assert settings.db_url.startswith("postgresql+psycopg://") and settings.workers == 4
    assert settings.tenant_network_types == ("vxlan",) and settings.network_vlan_ranges == ("physnet1:100:199",)
    assert settings.flat_networks == ("extnet",) and settings.vni_ranges == ("1000:1999",)


def test_agent_tomls_load() -> None:
    compute = load_agent_config(DEPLOY / "agent-compute.toml")
    assert compute.host == "compute1" and compute.roles == ("l2",)
    assert compute.bridge_mappings == {"physnet1": "br-physnet1"} and compute.tunneling_ip == "192.0.2.21"
    assert compute.clouds_yaml == Path("/etc/neutrino/clouds.yaml")
    network = load_agent_config(DEPLOY / "agent-network.toml")
    assert network.roles == ("l2", "dhcp", "l3") and network.bridge_mappings["extnet"] == "br-ex"
    assert network.availability_zone == "nova" and compute.availability_zone == "nova"
    assert load_agent_config(DEPLOY / "agent-network.toml", availability_zone="az2").availability_zone == "az2"
    # the command line wins over the file
    assert load_agent_config(DEPLOY / "agent-compute.toml", host="compute7", roles="l2,dhcp").host == "compute7"


def test_the_rabbitmq_lines_load_when_uncommented(tmp_path: Path) -> None:
    for name in ("server.toml", "agent-compute.toml"):
        (tmp_path / name).write_text((DEPLOY / name).read_text().replace("# transport_url", "transport_url"))
    server = load_server_settings(tmp_path / "server.toml")
    agent = load_agent_config(tmp_path / "agent-compute.toml")
    assert server.transport_url == agent.transport_url and agent.transport_url.startswith("amqp://")


def test_agent_config_round_trips_and_rejects_mistakes(tmp_path: Path) -> None:
    config = load_agent_config(DEPLOY / "agent-network.toml")
    path = tmp_path / "agent.toml"
    path.write_text(render(config))
    assert load_agent_config(path) == config
    path.write_text('[agent]\nhost = "h"\nbridge_mapings = {}\n')
    with pytest.raises(ValueError, match="unknown key.*bridge_mapings"):
        read_file(path)
    path.write_text('[agent]\nhost = "h"\nroles = ["l2", "l4"]\n')
    with pytest.raises(ValueError, match="roles l4"):
        load_agent_config(path)
    path.write_text('[agent]\nhost = "h"\ntunnel_types = ["vxlan"]\n')
    with pytest.raises(ValueError, match="needs tunneling_ip"):
        load_agent_config(path)
    with pytest.raises(ValueError, match="no host"):
        load_agent_config(None)
    path.write_text('[agent]\nhost = "h"\navailability_zone = ""\n')
    with pytest.raises(ValueError, match="availability_zone"):
        load_agent_config(path)
