"""The input rules of the roles (module_utils/inputs.py)."""
import ipaddress

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import inputs


@pytest.mark.parametrize("value,rules,reason", [
    ("pw/x", ["no_slash"], "must not contain '/'"),
    ("pässwort", ["printable_ascii"], "printable ASCII"),
    ("tab\there", ["printable_ascii"], "printable ASCII"),
    ("a%b", ["url_unreserved"], "letters, digits and . _ ~ -"),
])
def test_a_rule_refuses_and_names_the_variable(value, rules, reason):
    problems = inputs.value_problems("some_password", value, rules)
    assert len(problems) == 1
    assert problems[0].startswith("some_password ")
    assert reason in problems[0]
    assert value not in problems[0]


@pytest.mark.parametrize("value,rules", [
    ("p@ss:w%rd$#? ~", ["no_slash", "printable_ascii"]),
    ("Abc-1.2_3~", ["url_unreserved", "printable_ascii"]),
    ("pässwort", []),
])
def test_values_that_follow_the_rules_pass(value, rules):
    assert inputs.value_problems("x", value, rules) == []


def test_missing_and_empty_are_refused_unless_optional():
    assert "x is not set" in inputs.value_problems("x", None, [])[0]
    assert "x is not set" in inputs.value_problems("x", "", ["no_slash"])[0]
    assert inputs.value_problems("x", "", [], required=False) == []


def test_a_non_string_is_refused():
    assert "must be a string" in inputs.value_problems("x", 12, [])[0]


def test_an_unknown_rule_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown input rule"):
        inputs.value_problems("x", "v", ["no_such_rule"])


def test_addresses():
    assert inputs.address_problems("ip", "192.0.2.5", ["192.0.2.5", "127.0.0.1"]) == []
    assert inputs.address_problems("ip", "192.0.2.5", None) == []
    assert "not an address of this host" in inputs.address_problems("ip", "192.0.2.6", ["192.0.2.5"])[0]
    assert "must be an IP address" in inputs.address_problems("ip", "controller", None)[0]
    assert inputs.address_problems("ip", "fe80::1", ["fe80::1%eth0"]) == []


def test_an_interface_that_the_host_lacks_is_refused_by_name():
    problems = inputs.interface_problems("baseline_provider_interface", "eth9", ["lo", "eth0", "eth1"])
    assert len(problems) == 1
    assert problems[0].startswith("baseline_provider_interface is 'eth9'")
    assert "eth0, eth1, lo" in problems[0]


def test_an_interface_of_the_host_or_none_passes():
    assert inputs.interface_problems("i", "eth1", ["eth0", "eth1"]) == []
    assert inputs.interface_problems("i", "", ["eth0"]) == []
    # facts not gathered: nothing to check against
    assert inputs.interface_problems("i", "eth7", None) == []


def test_a_network_that_overlaps_the_management_network_is_refused():
    problems = inputs.network_problems("baseline_provider_cidr", "192.168.56.0/25",
                                       ["192.168.56.10/255.255.255.0", "127.0.0.1/255.0.0.0"])
    assert len(problems) == 1
    assert "overlaps 192.168.56.0/24" in problems[0]
    assert problems[0].startswith("baseline_provider_cidr (192.168.56.0/25)")


@pytest.mark.parametrize("value", ["203.0.113.0/33", "203.0.113.1/24", "provider"])
def test_a_value_that_is_no_network_is_refused(value):
    problems = inputs.network_problems("baseline_provider_cidr", value, [])
    assert len(problems) == 1
    assert "CIDR" in problems[0]


def test_a_separate_network_passes():
    assert inputs.network_problems("n", "203.0.113.0/24", ["192.168.56.10/255.255.255.0"]) == []
    assert inputs.network_problems("n", "", ["192.168.56.10/255.255.255.0"]) == []


def test_a_migration_network_must_hold_an_address_of_the_host():
    assert inputs.membership_problems("nova_migration_network", "", ["192.0.2.11"]) == []
    assert inputs.membership_problems("nova_migration_network", "10.0.5.0/24", ["192.0.2.11", "10.0.5.11"]) == []
    # host bits set are accepted (it is where the host is, not a network to create)
    assert inputs.membership_problems("nova_migration_network", "10.0.5.1/24", ["10.0.5.11"]) == []
    # without facts, only the form is checked
    assert inputs.membership_problems("nova_migration_network", "10.0.5.0/24", None) == []


def test_a_migration_network_the_host_is_not_on_is_named_with_the_fix():
    problems = inputs.membership_problems("nova_migration_network", "10.0.9.0/24", ["192.0.2.11", "fe80::1%eth0"])
    assert len(problems) == 1
    assert problems[0].startswith("nova_migration_network is 10.0.9.0/24, but this host has no address in it "
                                  "(its addresses: 192.0.2.11, fe80::1%eth0)")
    assert "empty: the management network" in problems[0]


def test_a_migration_network_that_is_no_network():
    problems = inputs.membership_problems("nova_migration_network", "10.0.9.0/33", ["10.0.9.1"])
    assert problems and "must be a network in CIDR notation" in problems[0]


def test_addresses_in_network_keeps_the_given_texts_in_order():
    net = ipaddress.ip_network("10.0.5.0/24")
    found = inputs.addresses_in_network([" 10.0.5.11", "192.0.2.1", "not-an-address", "10.0.5.2%eth1", "fd00::1"], net)
    assert found == ["10.0.5.11", "10.0.5.2%eth1"]
