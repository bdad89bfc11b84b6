# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: addresses_in
short_description: The addresses of a list that lie in a network
version_added: 0.1.0
author:
  - osdeploy.nova developers (@osdeploy)
description:
  - Returns the IP addresses of the input list that belong to O(network), in the order of the list, for example a
    host's address on its migration network out of C(ansible_facts.all_ipv4_addresses).
  - Entries that are not IP addresses are left out; an address of the other IP version is never in the network.
positional: network
options:
  _input:
    description: IP addresses (strings).
    type: list
    elements: str
    required: true
  network:
    description: The network in CIDR notation, for example C(10.0.5.0/24). Host bits may be set (C(10.0.5.7/24)).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: This host's address on the migration network
  ansible.builtin.set_fact:
    migration_ip: "{{ (ansible_facts.all_ipv4_addresses | osdeploy.nova.addresses_in('10.0.5.0/24'))[0] }}"
  # with all_ipv4_addresses [192.0.2.11, 10.0.5.11] -> 10.0.5.11
"""

RETURN = r"""
_value:
  description: The input's addresses in O(network), in their order; empty when none is.
  type: list
  elements: str
  sample: [10.0.5.11]
"""

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import string_types

from ansible_collections.osdeploy.nova.plugins.module_utils.inputs import addresses_in_network


def addresses_in(addresses, network):
    """[addresses] | osdeploy.nova.addresses_in(network)"""
    if not isinstance(network, string_types):
        raise AnsibleFilterError("osdeploy.nova.addresses_in: network must be a CIDR string, got %r" % (network,))
    try:
        net = ipaddress.ip_network(network.strip(), strict=False)
    except ValueError as e:
        raise AnsibleFilterError("osdeploy.nova.addresses_in: network %r is not a network in CIDR notation (%s)"
                                 % (network, e))
    if isinstance(addresses, string_types) or not isinstance(addresses, (list, tuple)):
        raise AnsibleFilterError("osdeploy.nova.addresses_in: the input must be a list of addresses, got %r"
                                 % (addresses,))
    return addresses_in_network(addresses, net)


class FilterModule(object):
    def filters(self):
        return {"addresses_in": addresses_in}
