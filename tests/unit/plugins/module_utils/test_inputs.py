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


VNI = "baseline_vxlan_vni_ranges"


@pytest.mark.parametrize("value", ["1:1000", " 1:1000 ", "1:1000,2000:2999", "1 : 10, 11:20", "16777215:16777215",
                                   ["1:1000", "2000:2999,3000:3999"], ["7:7"]])
def test_vni_ranges_that_neutron_accepts_pass(value):
    assert inputs.vni_ranges_problems(VNI, value) == []


@pytest.mark.parametrize("value", [None, "", []])
def test_vni_ranges_unset_or_empty_are_refused(value):
    problems = inputs.vni_ranges_problems(VNI, value)
    assert len(problems) == 1
    assert problems[0].startswith(VNI + " is not set: a project (VXLAN) network needs at least one VNI")
    assert "such as 1:1000" in problems[0]


@pytest.mark.parametrize("value,reason", [
    ("0:10", "got '0:10' (MIN below 1, the lowest VNI)"),
    ("-5:10", "got '-5:10' (MIN below 1, the lowest VNI)"),
    ("1:16777216", "got '1:16777216' (MAX above 16777215)"),
    ("10:5", "got '10:5' (MIN > MAX: an empty range)"),
    ("1000", "got '1000' (not two integers MIN:MAX)"),
    ("1:2:3", "got '1:2:3' (not two integers MIN:MAX)"),
    ("a:b", "got 'a:b' (not two integers MIN:MAX)"),
    ("1:1_000", "got '1:1_000' (not two integers MIN:MAX)"),
    ("1:10,", "got '' (not two integers MIN:MAX)"),
    ("1:100,50:200", "got '1:100' and '50:200' (they overlap in 50:100)"),
    (["1:100", "100:200"], "got '1:100' and '100:200' (they overlap in 100:100)"),
    ("1:10,2:3", "got '1:10' and '2:3' (they overlap in 2:3)"),
    ({"min": 1}, "got a dict"),
    (["1:10", 5], "got the number 5"),
    # YAML 1.1 (Ansible's) reads an unquoted 1:30 as 90
    (90, "got the number 90: YAML reads an unquoted 1:30 as a base-60 number, quote it"),
])
def test_vni_ranges_neutron_refuses_are_named_with_the_rule(value, reason):
    problems = inputs.vni_ranges_problems(VNI, value)
    assert len(problems) == 1
    assert problems[0].startswith(VNI + " must be MIN:MAX with 1 <= MIN <= MAX <= 16777215 (VXLAN's 24-bit VNI)")
    assert problems[0].endswith(reason)


def test_every_fault_of_a_vni_ranges_variable_makes_one_problem():
    problems = inputs.vni_ranges_problems(VNI, "0:10,20:10,x,30:40,35:36,1:16777216")
    assert len(problems) == 1
    assert problems[0].endswith("got '0:10' (MIN below 1, the lowest VNI), '20:10' (MIN > MAX: an empty range), "
                                "'x' (not two integers MIN:MAX), '1:16777216' (MAX above 16777215), "
                                "'30:40' and '35:36' (they overlap in 35:36)")


FLOATING = "baseline_floating_range"
CIDR = "baseline_provider_cidr"


def floating(start, end, network="203.0.113.0/24", outside=()):
    return inputs.address_range_problems(FLOATING, {"start": start, "end": end}, CIDR, network, outside)


@pytest.mark.parametrize("value", [None, "", {}])
def test_no_address_range_passes(value):
    assert inputs.address_range_problems(FLOATING, value, CIDR, "203.0.113.0/24",
                                         [("gw", "203.0.113.1")]) == []


def test_an_address_range_in_its_network_clear_of_the_others_passes():
    outside = [("baseline_provider_gateway", "203.0.113.1"),
               ("baseline_provider_reserved_ranges", [{"start": "203.0.113.2", "end": "203.0.113.99"},
                                                      "203.0.113.201", {"start": "2001:db8::1", "end": "2001:db8::9"}]),
               ("empty_one", ""), ("empty_list", []), ("unset", None),
               ("single_range", {"start": "203.0.113.210", "end": "203.0.113.220"})]
    assert floating("203.0.113.100", "203.0.113.200", outside=outside) == []
    # the last host address and a single address are ranges too
    assert floating("203.0.113.254", "203.0.113.254") == []
    assert floating(" 203.0.113.5 ", "203.0.113.5") == []


def test_an_address_range_without_network_is_checked_for_form_and_overlaps_only():
    assert floating("198.51.100.0", "198.51.100.255", network="") == []
    assert floating("198.51.100.0", "198.51.100.255", network=None) == []
    problems = floating("198.51.100.0", "198.51.100.255", network=None, outside=[("gw", "198.51.100.1")])
    assert len(problems) == 1 and "overlaps gw (198.51.100.1)" in problems[0]


def test_an_ipv6_address_range_passes_in_its_network():
    assert floating("2001:db8::100", "2001:db8::ffff", network="2001:db8::/64",
                    outside=[("gw", "2001:db8::1"), ("v4", "203.0.113.7")]) == []
    # IPv6 has no broadcast address: the network's last address is a host's
    assert floating("2001:db8::100", "2001:db8::ffff:ffff:ffff:ffff", network="2001:db8::/64") == []


@pytest.mark.parametrize("start,end,reason", [
    ("203.0.113.x", "203.0.113.20", "its start must be an IP address, got '203.0.113.x'"),
    ("203.0.113.10", "floating", "its end must be an IP address, got 'floating'"),
    ("203.0.113.10", 5, "its end must be an IP address, got 5"),
    ("", "203.0.113.20", "its start is missing"),
    ("203.0.113.10", None, "its end is missing"),
    ("203.0.113.10", "2001:db8::1",
     "it mixes IPv4 and IPv6 (start 203.0.113.10, end 2001:db8::1): give both ends in one version"),
    ("203.0.113.200", "203.0.113.100", "its start 203.0.113.200 is after its end 203.0.113.100: swap them"),
])
def test_an_address_range_of_the_wrong_form_is_refused(start, end, reason):
    problems = floating(start, end)
    assert problems == ["%s must be a range {start: ADDRESS, end: ADDRESS} of IP addresses: %s" % (FLOATING, reason)]


def test_an_address_range_that_is_not_a_dict_is_refused():
    problems = inputs.address_range_problems(FLOATING, "203.0.113.10-203.0.113.20", CIDR, "203.0.113.0/24")
    assert problems == [FLOATING + " must be a range {start: ADDRESS, end: ADDRESS} of IP addresses, got a str"]
    problems = inputs.address_range_problems(FLOATING, {"end": "203.0.113.20"}, CIDR, "203.0.113.0/24")
    assert problems[0].endswith("its start is missing")


@pytest.mark.parametrize("start,end,network", [
    ("203.0.114.10", "203.0.114.20", "203.0.113.0/24"),
    ("203.0.113.10", "203.0.114.20", "203.0.113.0/24"),
    ("203.0.112.10", "203.0.113.20", "203.0.113.0/24"),
    ("2001:db8:1::10", "2001:db8:1::20", "2001:db8::/64"),
    ("203.0.113.10", "203.0.113.20", "2001:db8::/64"),
])
def test_an_address_range_outside_its_network_is_refused_naming_it(start, end, network):
    problems = floating(start, end, network=network)
    assert len(problems) == 1
    assert problems[0].startswith("%s (%s-%s) is not inside %s (%s): both its start and its end must be addresses "
                                  "of that network" % (FLOATING, start, end, CIDR, network))


def test_an_address_range_with_the_network_or_broadcast_address_is_refused():
    problems = floating("203.0.113.0", "203.0.113.255")
    assert problems == [
        "%s (203.0.113.0-203.0.113.255) includes 203.0.113.0, the network address of %s (203.0.113.0/24), which "
        "Neutron refuses in an allocation pool: start the range after it" % (FLOATING, CIDR),
        "%s (203.0.113.0-203.0.113.255) includes 203.0.113.255, the broadcast address of %s (203.0.113.0/24), "
        "which Neutron refuses in an allocation pool: end the range before it" % (FLOATING, CIDR)]
    assert "broadcast address" in floating("203.0.113.250", "203.0.113.255")[0]
    # host bits in the network's value: its network is still 203.0.113.0/24
    assert "network address" in floating("203.0.113.0", "203.0.113.9", network="203.0.113.1/24")[0]


def test_an_ipv6_address_range_with_the_subnet_router_anycast_address_is_refused():
    problems = floating("2001:db8::", "2001:db8::ff", network="2001:db8::/64")
    assert len(problems) == 1
    assert "includes 2001:db8::, the network address (the Subnet-Router anycast address) of " + CIDR in problems[0]


def test_an_address_range_against_a_network_that_is_no_network_is_refused():
    problems = floating("203.0.113.10", "203.0.113.20", network="provider")
    assert problems == ["%s (203.0.113.10-203.0.113.20) cannot be checked against %s, which is not a network in "
                        "CIDR notation (got 'provider'): set %s to the network the range is on"
                        % (FLOATING, CIDR, CIDR)]


def test_an_address_range_that_overlaps_an_address_outside_is_refused_naming_both():
    problems = floating("203.0.113.1", "203.0.113.200", outside=[("baseline_provider_gateway", "203.0.113.1")])
    assert problems == ["%s (203.0.113.1-203.0.113.200) overlaps baseline_provider_gateway (203.0.113.1) in "
                        "203.0.113.1: addresses that baseline_provider_gateway holds would be given out from the "
                        "range. Move or shrink %s to leave them out" % (FLOATING, FLOATING)]


def test_an_address_range_that_overlaps_ranges_outside_is_refused_with_each_overlap():
    reserved = [{"start": "203.0.113.150", "end": "203.0.113.250"}, "203.0.113.120", "203.0.113.50",
                {"start": "203.0.113.1", "end": "203.0.113.100"}]
    problems = floating("203.0.113.100", "203.0.113.200", outside=[("baseline_provider_reserved_ranges", reserved)])
    assert len(problems) == 3
    assert all(p.startswith(FLOATING + " (203.0.113.100-203.0.113.200) overlaps baseline_provider_reserved_ranges ")
               for p in problems)
    assert "(203.0.113.150-203.0.113.250) in 203.0.113.150-203.0.113.200:" in problems[0]
    assert "(203.0.113.120) in 203.0.113.120:" in problems[1]
    assert "(203.0.113.1-203.0.113.100) in 203.0.113.100:" in problems[2]
    # one range dict, not in a list
    problems = floating("203.0.113.100", "203.0.113.200",
                        outside=[("other", {"start": "203.0.113.200", "end": "203.0.113.210"})])
    assert len(problems) == 1 and "overlaps other (203.0.113.200-203.0.113.210) in 203.0.113.200:" in problems[0]


def test_an_ipv6_address_range_that_overlaps_is_refused():
    problems = floating("2001:db8::100", "2001:db8::200", network="2001:db8::/64",
                        outside=[("reserved", [{"start": "2001:db8::1ff", "end": "2001:db8::300"}])])
    assert len(problems) == 1
    assert "overlaps reserved (2001:db8::1ff-2001:db8::300) in 2001:db8::1ff-2001:db8::200" in problems[0]


def test_an_outside_variable_of_the_wrong_form_is_refused_by_its_name():
    reserved = ["203.0.113.5", "gateway", {"start": "203.0.113.9", "end": "203.0.113.8"}, {"start": "203.0.113.7"}]
    problems = floating("203.0.113.100", "203.0.113.200", outside=[("baseline_provider_reserved_ranges", reserved),
                                                                   ("baseline_provider_gateway", "router")])
    assert problems == [
        "baseline_provider_reserved_ranges must hold IP addresses and ranges {start: ADDRESS, end: ADDRESS} (one, or "
        "a list): item 2: 'gateway' is neither an IP address nor a range {start: ADDRESS, end: ADDRESS}, item 3: its "
        "start 203.0.113.9 is after its end 203.0.113.8: swap them, item 4: its end is missing",
        "baseline_provider_gateway must hold IP addresses and ranges {start: ADDRESS, end: ADDRESS} (one, or a "
        "list): 'router' is neither an IP address nor a range {start: ADDRESS, end: ADDRESS}"]


def test_an_address_range_with_several_faults_names_each():
    problems = floating("203.0.113.0", "203.0.113.20", outside=[("gw", "203.0.113.1")])
    assert len(problems) == 2
    assert "the network address of " + CIDR in problems[0]
    assert "overlaps gw (203.0.113.1)" in problems[1]
