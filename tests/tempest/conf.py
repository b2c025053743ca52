"""tempest.conf for a lab's server: pure data in, INI text out (unit-tested in
tests/unit/test_tempest_harness.py).

What tempest needs to run the network API tests against neutrino: dynamic credentials created
through the server's Keystone-compatible API (the lab's admin from its clouds.yaml), IPv6 on, the
network extensions the server itself lists, the external network, and every other service off.
"""

from __future__ import annotations

import configparser
import io
from dataclasses import dataclass, field

from neutrino.config import DEFAULT_QUOTAS

__all__ = ["DEFAULT_QUOTAS", "GATE_DNS_DOMAIN", "GATE_QUOTAS", "GATE_VNI_RANGES", "LabCloud", "render"]

# Quotas of neutron-tempest-plugin's upstream gate jobs (its zuul job's [QUOTAS] in neutron.conf);
# the lab's server gets them through its settings (NEUTRINO_QUOTAS)
GATE_QUOTAS: dict[str, int] = {
    "router": 100,
    "floatingip": 500,
    "security_group": 150,
    "security_group_rule": 1000,
}

# the upstream gate's [DEFAULT] dns_domain (neutron-tempest-plugin's port DNS tests say so): under
# the default 'openstacklocal' a port's dns_name is not honoured (docs/neutron-behaviour.md, "DNS")
GATE_DNS_DOMAIN = "openstackgate.local"

# the gate's VXLAN range (the plugin's segment range tests say "default vxlan network segment range:
# 1-2000"): project networks take low ids, clear of the ranges those tests create at 1050-1155; with
# the lab's own 1000:1999 a concurrent test's network there blocks a range's deletion (409)
GATE_VNI_RANGES = ["1:2000"]

# the services tempest may probe: only the network service is there
OTHER_SERVICES = ("nova", "glance", "cinder", "swift", "horizon", "heat", "aodh", "ironic", "designate",
                  "octavia", "barbican", "placement")  # fmt: skip


@dataclass
class LabCloud:
    """What the conf is written from: the lab's admin credentials and its network facts."""

    auth_url: str  # .../identity/v3
    username: str
    password: str
    project_name: str
    region: str
    public_network_id: str
    extensions: list[str]
    type_drivers: list[str] = field(default_factory=lambda: ["flat", "vlan", "vxlan"])
    provider_vlans: list[str] = field(default_factory=list)
    log_file: str = "tempest.log"


def render(cloud: LabCloud) -> str:
    """The INI text of tempest.conf."""
    conf = configparser.ConfigParser(interpolation=None)
    conf["DEFAULT"] = {"log_file": cloud.log_file, "debug": "True"}
    conf["auth"] = {
        "use_dynamic_credentials": "True",
        "admin_username": cloud.username,
        "admin_password": cloud.password,
        "admin_project_name": cloud.project_name,
        "admin_domain_name": "Default",
        "default_credentials_domain_name": "Default",
        "create_isolated_networks": "False",
    }
    conf["identity"] = {
        "uri_v3": cloud.auth_url,
        "auth_version": "v3",
        "region": cloud.region,
        "v3_endpoint_type": "public",
    }
    conf["identity-feature-enabled"] = {"api_v2": "False", "api_v3": "True"}
    conf["network"] = {
        "region": cloud.region,
        "endpoint_type": "publicURL",
        "public_network_id": cloud.public_network_id,
        "floating_network_name": "public",
        "project_network_cidr": "10.100.0.0/16",
        "project_network_mask_bits": "28",
        "project_network_v6_cidr": "2001:db8::/48",
        "project_network_v6_mask_bits": "64",
        "project_networks_reachable": "False",
        # a lab converges in seconds: a port not ACTIVE within a minute will not become so, and
        # the default (300 s per wait) would stretch a run with such a failure to hours
        "build_timeout": "60",
    }
    conf["network-feature-enabled"] = {
        "ipv6": "True",
        "ipv6_subnet_attributes": "True",
        "api_extensions": ",".join(sorted(cloud.extensions)) or "None",
        "port_security": str("port-security" in cloud.extensions),
    }
    conf["neutron_plugin_options"] = {
        "available_type_drivers": ",".join(cloud.type_drivers),
        "provider_vlans": ",".join(cloud.provider_vlans),
        # every DHCP and L3 agent of the lab reports the default zone (agent setting availability_zone)
        "agent_availability_zone": "nova",
        # the plugin's QoS tests that share a policy with a project (an admin sets shared=True on
        # it): QoS policies are shared through RBAC here as in Neutron
        "create_shared_resources": "True",
    }
    conf["validation"] = {"run_validation": "False"}
    conf["service_available"] = {"neutron": "True", **{name: "False" for name in OTHER_SERVICES}}
    out = io.StringIO()
    conf.write(out)
    return out.getvalue()
