"""Two servers built in one process keep their own ML2 drivers and extensions.

Nothing the composition root builds lives in a module global (``docs/architecture.md``), so a
server configured with the router plugin and VXLAN tenant networks and another without the
plugin, giving local networks, answer side by side each after its own settings.
"""

from __future__ import annotations

import pytest

from neutrino.domain.services.l3_ports import L3PortGuard
from tests.api.ml2_support import ml2_server

pytestmark = pytest.mark.api


def _aliases(api):  # type: ignore[no-untyped-def]
    return {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}


def test_two_servers_in_one_process_share_no_drivers_or_extensions(tmp_path, database_url):
    with (
        ml2_server(tmp_path / "a", database_url, service_plugins=["router"]) as (api_a, state_a),
        ml2_server(
            tmp_path / "b", None, service_plugins=[], tenant_network_types=["local"], type_drivers=["local", "flat"]
        ) as (api_b, state_b),
    ):
        assert state_a.domain.ml2 is not state_b.domain.ml2
        assert any(isinstance(e, L3PortGuard) for e in state_a.domain.port_extensions)
        assert not any(isinstance(e, L3PortGuard) for e in state_b.domain.port_extensions)
        assert not set(map(id, state_a.domain.network_extensions)) & set(map(id, state_b.domain.network_extensions))

        net_a = api_a.post("/v2.0/networks", {"network": {"name": "a"}}).json()["network"]
        net_b = api_b.post("/v2.0/networks", {"network": {"name": "b"}}).json()["network"]
        assert net_a["provider:network_type"] == "vxlan"
        assert net_b["provider:network_type"] == "local"
        assert "router" in _aliases(api_a) and "router" not in _aliases(api_b)
        assert api_b.get("/v2.0/routers").status_code == 404
