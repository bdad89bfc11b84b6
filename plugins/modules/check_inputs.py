#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: check_inputs
short_description: Check the roles' inputs (secrets, addresses, interfaces, networks, ranges) before anything changes
version_added: 0.1.0
description:
  - Runs on the Ansible controller (an action plugin) and reads the named variables of the host itself, so that
    no secret is ever an argument of the task, and no value appears in its result or error.
  - Fails with one message that names every refused variable and says how to fix it, before the roles change
    anything.
author:
  - osdeploy.nova developers (@osdeploy)
options:
  secrets:
    description:
      - Variables that must be set and non-empty (unless C(required=false)), each a name or a dict.
    type: list
    elements: raw
    default: []
    suboptions:
      name:
        description: The variable's name.
        type: str
        required: true
      rules:
        description:
          - Rules the value must follow. C(printable_ascii) (database passwords, which PyMySQL sends as latin-1),
            C(no_slash) (RabbitMQ credentials with oslo.messaging of Zed and Epoxy), C(url_unreserved) (letters, digits
            and C(._~-) only, for the database URL of Keystone 22 and 27).
        type: list
        elements: str
        choices: [printable_ascii, no_slash, url_unreserved]
        default: []
      required:
        description: Whether an unset or empty value is refused.
        type: bool
        default: true
  addresses:
    description:
      - Variables that must hold an IP address of this host (checked against the gathered facts when there are any).
    type: list
    elements: str
    default: []
  interfaces:
    description:
      - Variables that, when set, must name a network interface of this host (checked against the gathered facts
        when there are any).
    type: list
    elements: str
    default: []
  host_interfaces:
    description:
      - The names of this host's network interfaces, read on the host (e.g. C(ip -o link)), for O(interfaces);
        default the gathered facts' (which a container may report from its host's /sys).
    type: list
    elements: str
  host_addresses:
    description:
      - This host's IP addresses, read on the host (e.g. C(ip -o addr)), for O(addresses) and O(within); default the
        gathered facts' (which a container may report without the interfaces made after it started).
    type: list
    elements: str
  networks:
    description:
      - Variables that, when set, must hold a network in CIDR notation that overlaps none of the networks of this
        host's own addresses (such as the management network).
    type: list
    elements: str
    default: []
  within:
    description:
      - Variables that, when set, must hold a network in CIDR notation that this host has an address in (checked
        against the gathered facts' addresses when there are any), such as the network migrations use.
    type: list
    elements: str
    default: []
  vni_ranges:
    description:
      - Variables that must hold the VXLAN network identifier (VNI) ranges Neutron gives project networks, in the
        syntax of ML2's C([ml2_type_vxlan] vni_ranges).
      - A value is a string C(MIN:MAX) or several joined by commas (C(1:1000,2000:2999)), or a list of such strings.
      - Refused are an unset or empty value (a project network needs at least one VNI), a part that is not two
        integers, C(MIN > MAX) (an empty range), C(MIN < 1), C(MAX > 16777215) (VXLAN's 24-bit VNI), and parts
        that overlap; all of a variable's faults make one problem.
      - An unquoted C(1:30) in YAML is the base-60 number 90, refused with the advice to quote it.
    type: list
    elements: str
    default: []
  address_ranges:
    description:
      - Ranges of IP addresses, such as a subnet's allocation pool (where Neutron takes the addresses of routers'
        gateways and floating IPs), each checked against the network it lies in and the addresses it must leave
        out.
      - Refused are a start or end that is not an IP address, IPv4 and IPv6 mixed, a start after the end, a start
        or end outside the network, a range that includes the network address or (IPv4) the broadcast address,
        which Neutron refuses in an allocation pool, and a range that overlaps an address or range of a variable
        of O(address_ranges[].outside) (the message names that variable and the overlapping addresses).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - The variable that holds the range, a dict with the keys C(start) and C(end), each an IP address.
          - Unset, null, C({}) or C('') is no range, and passes.
        type: str
        required: true
      network:
        description:
          - The variable that holds the network (CIDR) the range must lie in.
          - When that variable is unset or empty, the range is not checked against a network; when it holds no
            network in CIDR notation, the range is refused as impossible to check.
        type: str
      outside:
        description:
          - Variables that hold addresses the range must not include, each one IP address, one range (a dict with
            the keys C(start) and C(end)) or a list of ranges and addresses; unset or empty holds none.
          - An item that is neither an IP address nor a valid range is refused by the variable's name.
          - Addresses of the other IP version than the range's are left aside.
        type: list
        elements: str
        default: []
attributes:
  check_mode:
    support: full
    description: It only reads variables, so check mode runs it unchanged.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
  action:
    support: full
    description: It runs on the Ansible controller and never connects to the host.
notes:
  - The roles call it first, from the C(validate) entry points that C(site.yml) runs on every host before any change.
"""

EXAMPLES = r"""
- name: Check Nova's inputs before anything changes
  osdeploy.nova.check_inputs:
    secrets:
      - name: nova_db_password
        rules: [printable_ascii]
      - nova_keystone_password
      - name: osdeploy_rabbitmq_password
        rules: [no_slash]
    addresses: [osdeploy_management_ip]

- name: Check the provider network's ranges and the project networks' VNIs
  osdeploy.nova.check_inputs:
    networks: [baseline_provider_cidr]
    vni_ranges: [baseline_vxlan_vni_ranges]
    address_ranges:
      - name: baseline_floating_range
        network: baseline_provider_cidr
        outside: [baseline_provider_gateway, baseline_provider_reserved_ranges]
"""

RETURN = r"""
checked:
  description:
    - The names of the variables that were checked, sorted; for O(address_ranges), the range's, its network's
      and those of its O(address_ranges[].outside).
  returned: always
  type: list
  elements: str
  sample: [nova_db_password, osdeploy_management_ip]
"""
