"""DNS names and domains (dns-integration) as pure logic: Neutron's validation and dns_assignment."""

from __future__ import annotations

import pytest

from neutrino.domain import dns_names as dns

pytestmark = pytest.mark.unit


def test_dns_name_and_domain_rules() -> None:
    assert dns.validate_domain("example.org.") is None and dns.validate_domain("") is None
    assert dns.validate_domain("example.org") == "'example.org' is not a FQDN"
    assert dns.validate_domain("<project_id>.example.org.") is None  # a keyword label
    assert "TLD '123' must not be all numeric" in (dns.validate_domain("a.123.") or "")
    assert "empty component" in (dns.validate_domain("a..org.") or "")
    # names are honoured only under a server domain other than the default
    assert not dns.names_honoured("openstacklocal") and not dns.names_honoured("") and dns.names_honoured("lab.test")
    assert dns.validate_name("vm.other.org.", "openstacklocal") is None  # not honoured: format only
    assert "higher level labels" in (dns.validate_name("vm.other.org.", "lab.test") or "")
    assert dns.validate_name("vm.lab.test.", "lab.test.") is None
    assert dns.assignment(["10.0.0.5", "2001:db8::5"], "", "lab.test") == [
        {"hostname": "host-10-0-0-5", "ip_address": "10.0.0.5", "fqdn": "host-10-0-0-5.lab.test."},
        {"hostname": "host-2001-db8--5", "ip_address": "2001:db8::5", "fqdn": "host-2001-db8--5.lab.test."},
    ]
    assert dns.assignment(["10.0.0.5"], "web", "lab.test")[0]["fqdn"] == "web.lab.test."
    assert dns.assignment(["10.0.0.5"], "web", "openstacklocal")[0]["hostname"] == "host-10-0-0-5"
    assert dns.validate_fip_name("vm1.") == "'vm1.' is a FQDN. It should be a relative domain name"
