"""The osdeploy.nova.addresses_in filter: a host's addresses in a network."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.osdeploy.nova.plugins.filter.addresses_in import FilterModule, addresses_in


def test_registered_under_its_name():
    assert FilterModule().filters()["addresses_in"] is addresses_in


def test_keeps_the_addresses_in_the_network_in_their_order():
    addrs = ["192.0.2.11", "10.0.5.12", "not-an-address", "10.0.5.3", "10.0.6.1"]
    assert addresses_in(addrs, "10.0.5.0/24") == ["10.0.5.12", "10.0.5.3"]


def test_host_bits_in_the_network_and_other_versions():
    assert addresses_in(["10.0.5.7", "fd00::7"], "10.0.5.9/24") == ["10.0.5.7"]
    assert addresses_in(["10.0.5.7", "fd00::7"], "fd00::/64") == ["fd00::7"]
    assert addresses_in([], "10.0.5.0/24") == []


@pytest.mark.parametrize("addrs,network,says", [
    (["10.0.5.7"], "10.0.5.0/33", "is not a network in CIDR notation"),
    (["10.0.5.7"], None, "network must be a CIDR string"),
    ("10.0.5.7", "10.0.5.0/24", "the input must be a list"),
])
def test_bad_input_is_named(addrs, network, says):
    with pytest.raises(AnsibleFilterError, match=says):
        addresses_in(addrs, network)
