"""The pure parts of ./dev tempest: tempest.conf, the regex, and the summary."""

from __future__ import annotations

import configparser
import re

import pytest

from tests.tempest import conf, report
from tests.tempest.run import suite_regex

pytestmark = pytest.mark.unit


def _cloud(**kw: object) -> conf.LabCloud:
    base = dict(auth_url="http://100.64.0.2:9696/identity/v3", username="admin", password="pw", project_name="admin",
                region="RegionOne", public_network_id="net-1", extensions=["router", "port-security", "quotas"])  # fmt: skip
    base.update(kw)
    return conf.LabCloud(**base)  # type: ignore[arg-type]


def test_conf_has_dynamic_credentials_ipv6_extensions_and_only_neutron() -> None:
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.read_string(conf.render(_cloud()))
    assert parsed["auth"]["use_dynamic_credentials"] == "True"
    assert parsed["auth"]["admin_password"] == "pw"
    assert parsed["identity"]["uri_v3"].endswith("/identity/v3")
    assert parsed["network"]["public_network_id"] == "net-1"
    assert parsed["network-feature-enabled"]["ipv6"] == "True"
    assert parsed["network-feature-enabled"]["api_extensions"] == "port-security,quotas,router"
    assert parsed["network-feature-enabled"]["port_security"] == "True"
    assert parsed["neutron_plugin_options"]["create_shared_resources"] == "True"
    flags = {k: v for k, v in parsed["service_available"].items() if k not in parsed.defaults()}
    assert flags.pop("neutron") == "True"
    assert set(flags.values()) == {"False"}


def test_gate_quotas_raise_the_defaults() -> None:
    assert conf.GATE_QUOTAS["security_group_rule"] > conf.DEFAULT_QUOTAS["security_group_rule"]


def test_regex_narrows_to_the_two_suites() -> None:
    everything = re.compile(suite_regex(None))
    assert everything.search("tempest.api.network.test_ports.PortsTestJSON.test_x[id-1]")
    assert everything.search("neutron_tempest_plugin.api.test_trunk.TrunkTest.test_y")
    assert not everything.search("neutron_tempest_plugin.scenario.test_trunk.T.test_y")
    narrowed = re.compile(suite_regex("test_ports"))
    assert narrowed.search("tempest.api.network.test_ports.PortsTestJSON.test_x[id-1]")
    assert not narrowed.search("tempest.api.network.test_networks.NetworksTest.test_x")
    either = re.compile(suite_regex("test_ports|test_networks"))  # an alternation narrows as a whole
    assert either.search("tempest.api.network.test_networks.NetworksTest.test_x")
    assert not either.search("tempest.api.network.test_routers.RoutersTest.test_x")


KNOWN = """
# comment
tempest.api.network.test_a.A.test_known   # mtu not writable
tempest.api.network.test_a.A.test_fixed   # was broken
"""


def test_summary_groups_skips_and_checks_the_known_list() -> None:
    known = report.read_known(KNOWN)
    assert known["tempest.api.network.test_a.A.test_known"] == "mtu not writable"
    tests = [
        {"id": "tempest.api.network.test_a.A.test_ok[id-1]", "status": "success", "reason": ""},
        {"id": "tempest.api.network.test_a.A.test_fixed[id-2]", "status": "success", "reason": ""},
        {"id": "tempest.api.network.test_a.A.test_known[id-3]", "status": "fail", "reason": "Traceback\nBadRequest: 400"},
        {"id": "tempest.api.network.test_a.A.test_new[id-4]", "status": "fail", "reason": "Traceback\nConflict: 409"},
        {"id": "x.S.test_s1", "status": "skip", "reason": "qos extension not enabled."},
        {"id": "x.S.test_s2", "status": "skip", "reason": "Skipped because network extension: qos is not enabled"},
    ]
    summary = report.summarize(tests, known)
    assert len(summary.passed) == 2 and len(summary.failed) == 2
    assert summary.skipped["extension qos not enabled"] == 2
    assert summary.new_failures == ["tempest.api.network.test_a.A.test_new[id-4]"]
    assert summary.fixed == ["tempest.api.network.test_a.A.test_fixed"]
    assert not summary.ok
    text = report.render(summary, known)
    assert "passed 2, failed 2, skipped 2" in text
    assert "[NEW]" in text and "Conflict: 409" in text and "test_fixed" in text


def test_only_known_failures_is_ok() -> None:
    known = report.read_known("a.B.test_c  # reason")
    assert report.summarize([{"id": "a.B.test_c[id-1]", "status": "fail", "reason": "x"}], known).ok


def test_every_known_failure_says_why() -> None:
    text = report.KNOWN_FAILURES.read_text()
    known = report.read_known(text)
    assert text.startswith("# Tempest tests"), "the list is read (it may hold no test: the goal)"
    assert all(len(reason) > 10 for reason in known.values()), [t for t, r in known.items() if len(r) <= 10]
