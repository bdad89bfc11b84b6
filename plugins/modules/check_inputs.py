#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: check_inputs
short_description: Check the roles' inputs (secrets, addresses, interfaces, networks) before anything changes
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
"""

RETURN = r"""
checked:
  description: The names of the variables that were checked.
  returned: always
  type: list
  elements: str
  sample: [nova_db_password, osdeploy_management_ip]
"""
