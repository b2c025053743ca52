"""Attribute converters and validators: accepted values, reasons for the rejected ones."""

from __future__ import annotations

import pytest

from neutrino.api import validators

pytestmark = pytest.mark.unit

UUID = "6d5e0b12-0c10-4d1b-9a8e-2b7b5f3c0a11"


# --- strings, uuids, values, numbers ---------------------------------------------------------


def test_validate_string():
    assert validators.validate_string("abc") is None
    assert validators.validate_string("") is None
    assert validators.validate_string("x" * 255, 255) is None
    assert validators.validate_string("x" * 4, 3) == "'xxxx' exceeds maximum length of 3"
    assert validators.validate_string(5) == "'5' is not a valid string"
    assert validators.validate_string(None) == "'None' is not a valid string"


def test_validate_string_or_none():
    assert validators.validate_string_or_none(None) is None
    assert validators.validate_string_or_none(None, 3) is None
    assert validators.validate_string_or_none("abcd", 3) == "'abcd' exceeds maximum length of 3"
    assert validators.validate_string_or_none(1) == "'1' is not a valid string"


@pytest.mark.parametrize(
    "value", [UUID, UUID.upper(), UUID.replace("-", ""), "{" + UUID + "}", "urn:uuid:" + UUID]
)
def test_validate_uuid_accepts(value):
    assert validators.validate_uuid(value) is None


@pytest.mark.parametrize("value", ["abc", UUID[:-1], UUID + "0", "", 5, None, UUID.replace("-", "_")])
def test_validate_uuid_rejects(value):
    assert validators.validate_uuid(value) == f"'{value}' is not a valid UUID"


def test_validate_uuid_or_none():
    assert validators.validate_uuid_or_none(None) is None
    assert validators.validate_uuid_or_none(UUID) is None
    assert validators.validate_uuid_or_none("x") == "'x' is not a valid UUID"


def test_validate_values():
    assert validators.validate_values(4, [4, 6]) is None
    assert validators.validate_values(None, [None, "slaac"]) is None
    assert validators.validate_values(7, [4, 6]) == "7 is not in [4, 6]"
    assert validators.validate_values("x", None) is None
    assert validators.validate_values(["unhashable"], {"a", "b"}) is not None


def test_validate_non_negative():
    assert validators.validate_non_negative(0) is None
    assert validators.validate_non_negative("12") is None
    assert validators.validate_non_negative(-1) == "'-1' should be non-negative"
    assert validators.validate_non_negative("abc") == "'abc' is not an integer"
    assert validators.validate_non_negative(None) == "'None' is not an integer"


def test_validate_range():
    assert validators.validate_range(5, (1, 10)) is None
    assert validators.validate_range(1, (1, 10)) is None
    assert validators.validate_range(10, (1, 10)) is None
    assert validators.validate_range(0, (1, 10)) == "'0' is too small - must be at least '1'"
    assert validators.validate_range(11, (1, 10)) == "'11' is too large - must be no larger than '10'"
    assert validators.validate_range(-100, (None, 10)) is None
    assert validators.validate_range(10**9, (0, None)) is None
    assert validators.validate_range("x", (0, 1)) == "'x' is not an integer"


def test_validate_boolean():
    assert validators.validate_boolean("True") is None
    assert validators.validate_boolean(False) is None
    assert validators.validate_boolean("maybe") == "'maybe' is not a valid boolean value"


# --- addresses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["10.0.0.1", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::", "::ffff:10.0.0.1"]
)
def test_validate_ip_address_accepts(value):
    assert validators.validate_ip_address(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "10.0.0",
        "10.0.0.256",
        "1.2.3.4.5",
        "abc",
        "",
        " 10.0.0.1",
        "10.0.0.1 ",
        "fe80::1%eth0",
        167772161,
        None,
    ],
)
def test_validate_ip_address_rejects(value):
    assert validators.validate_ip_address(value) == f"'{value}' is not a valid IP address"


def test_validate_ip_address_recommends_without_leading_zeros():
    assert validators.validate_ip_address("010.000.000.001") == (
        "'010.000.000.001' is not an accepted IP address, '10.0.0.1' is recommended"
    )


def test_validate_ip_address_or_none():
    assert validators.validate_ip_address_or_none(None) is None
    assert validators.validate_ip_address_or_none("10.0.0.1") is None
    assert validators.validate_ip_address_or_none("x") == "'x' is not a valid IP address"


@pytest.mark.parametrize(
    "value", ["10.0.0.0/24", "10.0.0.5/24", "2001:db8::/64", "2001:DB8::/64", "0.0.0.0/0"]
)
def test_validate_subnet_accepts(value):
    assert validators.validate_subnet(value) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("10.0.0.0", "'10.0.0.0' isn't a recognized IP subnet cidr, '10.0.0.0/32' is recommended"),
        ("2001:db8::", "'2001:db8::' isn't a recognized IP subnet cidr, '2001:db8::/128' is recommended"),
        ("10.0.0.0/255.255.255.0", "isn't a recognized IP subnet cidr, '10.0.0.0/24' is recommended"),
        ("010.0.0.0/8", "isn't a recognized IP subnet cidr, '10.0.0.0/8' is recommended"),
        ("10.0.0.0/33", "'10.0.0.0/33' is not a valid IP subnet"),
        ("abc", "'abc' is not a valid IP subnet"),
        ("10.0.0.0 /24", "is not a valid IP subnet"),
        (None, "'None' is not a valid IP subnet"),
    ],
)
def test_validate_subnet_rejects(value, reason):
    assert reason in validators.validate_subnet(value)


@pytest.mark.parametrize(
    "value", ["fa:16:3e:11:22:33", "FA:16:3E:11:22:33", "fa-16-3e-11-22-33", "01:00:5e:00:00:01"]
)
def test_validate_mac_address_accepts(value):
    assert validators.validate_mac_address(value) is None


@pytest.mark.parametrize(
    "value",
    ["00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "FF-FF-FF-FF-FF-FF", "fa:16:3e:11:22", "nope", "", None, 1],
)
def test_validate_mac_address_rejects(value):
    assert validators.validate_mac_address(value) == f"'{value}' is not a valid MAC address"


# --- structures -------------------------------------------------------------------------------


def test_validate_dict_plain():
    assert validators.validate_dict({}) is None
    assert validators.validate_dict({"a": 1}) is None
    assert validators.validate_dict([1]) == "'[1]' is not a dictionary"


def test_validate_dict_with_key_specs():
    specs = {
        "name": {"type:string": 5, "required": True},
        "count": {"convert_to": validators.convert_to_int, "type:range": (0, 9)},
    }
    data = {"name": "ab", "count": "3"}
    assert validators.validate_dict(data, specs) is None
    assert data["count"] == 3  # converted in place
    assert "Expected keys: {'name'}" in validators.validate_dict({"count": 1}, specs)
    assert validators.validate_dict({"name": "a", "other": 1}, specs) == "Unexpected keys supplied: other"
    assert validators.validate_dict({"name": "toolong"}, specs) == "'toolong' exceeds maximum length of 5"
    assert validators.validate_dict({"name": "a", "count": "x"}, specs) == "'x' is not an integer"
    too_large = "'12' is too large - must be no larger than '9'"
    assert validators.validate_dict({"name": "a", "count": 12}, specs) == too_large
    assert validators.validate_dict({"x": 1}, {"x": {"type:nope": None}}) == "Validator 'type:nope' does not exist."


def test_validate_list_of_dicts():
    assert validators.validate_list_of_dicts([]) is None
    assert validators.validate_list_of_dicts([{"a": 1}, {}]) is None
    assert validators.validate_list_of_dicts({"a": 1}) == "'{'a': 1}' is not a list"
    assert validators.validate_list_of_dicts([{}, "x"]) == "'x' is not a dictionary"
    specs = {"opt_name": {"type:string": 64, "required": True}}
    assert validators.validate_list_of_dicts([{"opt_name": "mtu"}], specs) is None
    assert "Expected keys" in validators.validate_list_of_dicts([{}], specs)


def test_validate_allocation_pools():
    assert validators.validate_allocation_pools([]) is None
    assert validators.validate_allocation_pools([{"start": "10.0.0.2", "end": "10.0.0.9"}]) is None
    assert validators.validate_allocation_pools("x") == "Invalid data format for IP pool: 'x'"
    assert validators.validate_allocation_pools(["x"]) == (
        "Invalid input. 'x' must be a dictionary with keys: ['start', 'end']"
    )
    assert validators.validate_allocation_pools([{"start": "10.0.0.2"}]) == (
        "Validation of dictionary's keys failed. Expected keys: {'end', 'start'} Provided keys: {'start'}"
    )
    extra = [{"start": "10.0.0.2", "end": "10.0.0.9", "x": 1}]
    assert "Provided keys: {'end', 'start', 'x'}" in validators.validate_allocation_pools(extra)
    bad = [{"start": "10.0.0.2", "end": "bad"}]
    assert validators.validate_allocation_pools(bad) == "'bad' is not a valid IP address"


def test_validate_host_routes():
    route = {"destination": "192.168.0.0/16", "nexthop": "10.0.0.1"}
    assert validators.validate_host_routes([]) is None
    assert validators.validate_host_routes([route]) is None
    assert validators.validate_host_routes({"a": 1}) == "Invalid data format for hostroute: '{'a': 1}'"
    missing = validators.validate_host_routes([{"destination": "1.0.0.0/8"}])
    assert "Expected keys: {'destination', 'nexthop'}" in missing
    bad_dest = [{"destination": "x", "nexthop": "10.0.0.1"}]
    assert validators.validate_host_routes(bad_dest) == "'x' is not a valid IP subnet"
    bad_hop = [{"destination": "1.0.0.0/8", "nexthop": "y"}]
    assert validators.validate_host_routes(bad_hop) == "'y' is not a valid IP address"
    assert validators.validate_host_routes([route, dict(route)]) == f"Duplicate hostroute '{route}'"


def test_validate_nameservers():
    assert validators.validate_nameservers([]) is None
    assert validators.validate_nameservers(["8.8.8.8", "2001:4860:4860::8888"]) is None
    assert validators.validate_nameservers("8.8.8.8") == "Invalid data format for nameserver: '8.8.8.8'"
    assert validators.validate_nameservers(["8.8.8.8", "8.8.8.8"]) == "Duplicate nameserver '8.8.8.8'"
    assert validators.validate_nameservers(["dns.example"]) == (
        "'dns.example' is not a valid nameserver. 'dns.example' is not a valid IP address"
    )


def test_validate_fixed_ips():
    assert validators.validate_fixed_ips([]) is None
    assert validators.validate_fixed_ips([{"subnet_id": UUID}, {"ip_address": "10.0.0.5"}]) is None
    assert validators.validate_fixed_ips([{"subnet_id": UUID, "ip_address": "10.0.0.5"}, {"subnet_id": UUID}]) is None
    assert validators.validate_fixed_ips("x") == "Invalid data format for fixed IP: 'x'"
    assert validators.validate_fixed_ips(["x"]) == "Invalid data format for fixed IP: 'x'"
    assert validators.validate_fixed_ips([{}]) == "IP allocation requires subnet_id or ip_address"
    assert validators.validate_fixed_ips([{"subnet_id": UUID, "foo": 1}]) == "Unexpected keys supplied: foo"
    assert validators.validate_fixed_ips([{"subnet_id": "nope"}]) == "'nope' is not a valid UUID"
    bad_ip = [{"ip_address": "10.0.0.300"}]
    assert validators.validate_fixed_ips(bad_ip) == "'10.0.0.300' is not a valid IP address"
    dup = [{"ip_address": "10.0.0.5"}, {"subnet_id": UUID, "ip_address": "10.0.0.5"}]
    assert validators.validate_fixed_ips(dup) == "Duplicate IP address '10.0.0.5'"


def test_validate_tag_and_tags():
    assert validators.validate_tag("red") is None
    assert validators.validate_tag("a,b") is None  # Neutron does not forbid commas
    assert validators.validate_tag("x" * 256) == f"'{'x' * 256}' exceeds maximum length of 255"
    assert validators.validate_tag(3) == "'3' is not a valid string"
    assert validators.validate_tags([]) is None
    assert validators.validate_tags(["a", "b"]) is None
    assert validators.validate_tags([f"t{i}" for i in range(50)]) is None
    assert validators.validate_tags([f"t{i}" for i in range(51)]) == "The number of tags exceeds the limit 50"
    assert validators.validate_tags(["a", "b"], 1) == "The number of tags exceeds the limit 1"
    assert validators.validate_tags(["a", "b", "a", "b", "a"]) == "Duplicate items in the list: 'a, b'"
    assert validators.validate_tags("a") == "'a' is not a list"
    assert validators.validate_tags(["a", 1]) == "'1' is not a valid string"


def test_registry_names_resolve():
    assert validators.VALIDATORS["type:subnet"] is validators.validate_subnet
    assert validators.VALIDATORS["type:ip_address_or_none"](None, None) is None
    assert all(callable(f) for f in validators.VALIDATORS.values())


# --- converters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("TRUE", True), ("False", False), ("1", True),
     ("0", False), (1, True), (0, False), ("yes", True), ("off", False)],
)
def test_convert_to_boolean(value, expected):
    assert validators.convert_to_boolean(value) is expected


@pytest.mark.parametrize("value", ["maybe", "", 2, -1, None, [], 1.5])
def test_convert_to_boolean_rejects(value):
    with pytest.raises(validators.ConversionError) as exc:
        validators.convert_to_boolean(value)
    assert str(exc.value) == f"'{value}' cannot be converted to boolean"
    assert isinstance(exc.value, ValueError)


@pytest.mark.parametrize(("value", "expected"), [(4, 4), ("6", 6), ("-3", -3), (8.0, 8), (" 7 ", 7)])
def test_convert_to_int(value, expected):
    assert validators.convert_to_int(value) == expected


@pytest.mark.parametrize("value", ["abc", "1.5", 1.5, None, True, [], ""])
def test_convert_to_int_rejects(value):
    with pytest.raises(validators.ConversionError, match="is not an integer"):
        validators.convert_to_int(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10.0.0.5/24", "10.0.0.0/24"),
        ("10.0.0.0/24", "10.0.0.0/24"),
        ("2001:DB8::/64", "2001:db8::/64"),
        ("2001:db8:0:0::1/64", "2001:db8::/64"),
        ("10.0.0.0/255.255.255.0", "10.0.0.0/24"),
        ("10.0.0.0", "10.0.0.0"),  # no prefix: left for the validator to explain
        ("010.0.0.0/8", "010.0.0.0/8"),
    ],
)
def test_convert_cidr_to_canonical(value, expected):
    assert validators.convert_cidr_to_canonical(value) == expected


@pytest.mark.parametrize("value", ["abc/24", "10.0.0.0/33", None, 5])
def test_convert_cidr_to_canonical_rejects(value):
    with pytest.raises(validators.ConversionError) as exc:
        validators.convert_cidr_to_canonical(value)
    assert str(exc.value) == f"'{value}' is not a valid IP subnet"


def test_convert_ip_to_canonical():
    assert validators.convert_ip_to_canonical("2001:DB8:0:0::1") == "2001:db8::1"
    assert validators.convert_ip_to_canonical("10.0.0.1") == "10.0.0.1"
    assert validators.convert_ip_to_canonical("junk") == "junk"
    assert validators.convert_ip_to_canonical(None) is None


def test_convert_to_lowercase_mac():
    assert validators.convert_to_lowercase_mac("FA-16-3E-AA-BB-CC") == "fa:16:3e:aa:bb:cc"
    assert validators.convert_to_lowercase_mac("FA:16:3E:AA:BB:CC") == "fa:16:3e:aa:bb:cc"
    assert validators.convert_to_lowercase_mac("junk") == "junk"
    assert validators.convert_to_lowercase_mac(None) is None


def test_convert_none_to_empty_list_and_to_list():
    assert validators.convert_none_to_empty_list(None) == []
    assert validators.convert_none_to_empty_list(["a"]) == ["a"]
    assert validators.convert_none_to_empty_list("x") == "x"
    assert validators.convert_to_list(None) == []
    assert validators.convert_to_list("a") == ["a"]
    assert validators.convert_to_list(["a", "b"]) == ["a", "b"]
    assert validators.convert_to_list(("a",)) == ["a"]
    assert validators.convert_to_list(3) == [3]
