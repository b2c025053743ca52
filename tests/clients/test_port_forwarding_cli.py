"""Floating IP port forwarding, port details and pools with the unmodified openstack CLI.

Names carry a ``pfcli-`` prefix: the server is shared with the other client tests."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.clients


def test_port_forwarding_with_the_cli(server):
    osc = server.osc
    ext = osc("network", "create", "--external", "pfcli-ext")
    ext_sub = osc("subnet", "create", "--network", "pfcli-ext", "--subnet-range", "172.31.0.0/24", "--no-dhcp",
                  "pfcli-ext-sub")  # fmt: skip
    net = osc("network", "create", "pfcli-net")
    sub = osc("subnet", "create", "--network", "pfcli-net", "--subnet-range", "10.31.0.0/24", "pfcli-sub")
    osc("router", "create", "--external-gateway", "pfcli-ext", "pfcli-r")
    osc("router", "add", "subnet", "pfcli-r", "pfcli-sub")
    port = osc("port", "create", "--network", "pfcli-net", "pfcli-p")
    ip = port["fixed_ips"][0]["ip_address"]
    fip = osc("floating", "ip", "create", "pfcli-ext")
    pf = osc("floating", "ip", "port", "forwarding", "create", "--internal-ip-address", ip, "--port", port["id"],
             "--internal-protocol-port", "80", "--external-protocol-port", "8080", "--protocol", "tcp",
             "--description", "web", fip["id"])  # fmt: skip
    assert pf["internal_port"] == 80 and pf["external_port"] == 8080 and pf["protocol"] == "tcp"
    listed = osc("floating", "ip", "port", "forwarding", "list", fip["id"])
    assert [row["ID"] for row in listed] == [pf["id"]]
    osc("floating", "ip", "port", "forwarding", "set", "--internal-protocol-port", "8000", fip["id"], pf["id"], fmt=False)
    shown = osc("floating", "ip", "port", "forwarding", "show", fip["id"], pf["id"])
    assert shown["internal_port"] == 8000 and shown["description"] == "web"
    err = server.osc_fail("floating", "ip", "delete", fip["id"])
    assert "in use by Port Forwarding" in err, err
    osc("floating", "ip", "port", "forwarding", "delete", fip["id"], pf["id"], fmt=False)
    osc("floating", "ip", "set", "--port", "pfcli-p", fip["id"])
    details = osc("floating", "ip", "show", fip["id"])["port_details"]
    assert details["mac_address"] == port["mac_address"] and details["network_id"] == net["id"]
    osc("floating", "ip", "delete", fip["id"])
    osc("router", "remove", "subnet", "pfcli-r", "pfcli-sub")
    osc("router", "delete", "pfcli-r")
    osc("port", "delete", port["id"])
    osc("subnet", "delete", sub["id"], ext_sub["id"])
    osc("network", "delete", net["id"], ext["id"])
