#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: service_conf_ini
short_description: Apply many settings of an OpenStack service's oslo.config INI file in one call
version_added: 0.1.0
description:
  - Edits the oslo.config file of any OpenStack service (C(/etc/keystone/keystone.conf),
    C(/etc/glance/glance-api.conf), C(/etc/placement/placement.conf), C(/etc/neutron/neutron.conf) and the
    agents' files...) in place, many settings in one call, and sets the file's owner, group and mode.
  - The settings are written as given. Nothing is checked against a service's option definitions, and no
    service is assumed, so O(group) is required. For nova.conf use M(osdeploy.nova.nova_conf_ini), which
    validates every setting against the installed Nova.
author:
  - osdeploy.nova developers (@osdeploy)
extends_documentation_fragment:
  - osdeploy.nova.conf_ini
options:
  settings:
    description:
      - Mapping of section -> option -> value. A value of V(null) removes every line of the option.
      - "Scalars are written as text, booleans as V(true)/V(false)."
      - "A list is written as repeated C(key = value) lines, as oslo.config reads a multi-valued option
        (C(MultiStrOpt)); an empty list removes the option. Give a list option (C(ListOpt)) a
        comma-separated string."
      - "A mapping is written as C(key:value,key:value) (oslo.config C(DictOpt))."
      - "C($name) and C(${group.name}) in a value are oslo.config references to other options and are written
        as given. Secret values and the options in O(literal_options) are written literally: each C($) is
        doubled."
    type: dict
    required: true
  group:
    description:
      - Group of the file, the service's own (C(keystone), C(glance), C(placement), C(neutron)...). The
        service reads its configuration as that group, and with the default O(mode) no one else can.
    type: str
    required: true
notes:
  - Options whose name ends in C(token) or C(key) are masked and written literally too, since no schema
    tells whether they are secret; name others in O(secret_options) (a C(connection) URL's password is
    masked in any case, but the URL is written literally only when it is listed).
seealso:
  - module: osdeploy.nova.nova_conf_ini
    description: The same edit for nova.conf and nova-compute.conf, validated against the installed Nova.
"""

EXAMPLES = r"""
- name: Keystone's configuration
  osdeploy.nova.service_conf_ini:
    path: /etc/keystone/keystone.conf
    group: keystone
    settings:
      database:
        connection: "{{ 'keystone' | osdeploy.nova.db_url(keystone_db_password, 'controller', 'keystone') }}"
      token:
        provider: fernet
    secret_options: [database.connection]

- name: Neutron's DHCP agent, with a list option and an option removed from the file
  osdeploy.nova.service_conf_ini:
    path: /etc/neutron/dhcp_agent.ini
    group: neutron
    settings:
      DEFAULT:
        interface_driver: openvswitch
        enable_isolated_metadata: true
        dnsmasq_dns_servers: 192.0.2.53,192.0.2.54   # a ListOpt: one comma-separated string
        dnsmasq_config_file: null                     # removed from the file
  register: dhcp_agent_conf

- name: Glance's service password, with a copy of the file it replaces
  osdeploy.nova.service_conf_ini:
    path: /etc/glance/glance-api.conf
    group: glance
    mode: "0640"
    backup: true
    settings:
      keystone_authtoken:
        password: "{{ glance_password }}"   # masked and written literally: the name says password
"""

RETURN = r"""
changed_options:
  description: The options added, changed or removed, as C(section.option); no values.
  returned: always
  type: list
  elements: str
  sample: [database.connection, token.provider]
changes:
  description: What happened to each changed option.
  returned: always
  type: list
  elements: dict
  contains:
    option:
      description: C(section.option).
      type: str
    action:
      description: C(added), C(updated) or C(removed).
      type: str
    collapsed:
      description: How many duplicate lines of the option were folded into one.
      type: int
  sample: [{option: token.provider, action: added, collapsed: 0}]
collapsed:
  description: Options that appeared more than once in a section and were collapsed into one line.
  returned: always
  type: list
  elements: str
  sample: [DEFAULT.bind_host]
backup_file:
  description: The copy of the previous file.
  returned: when O(backup) and the file changed
  type: str
  sample: /etc/glance/glance-api.conf.2385.2025-01-31@10:15:02~
module_warnings:
  description:
    - The warnings of this run (duplicate lines of an option in the file, collapsed duplicates), also issued
      as Ansible warnings. ansible-core 2.19 moves a module's C(warnings) out of the registered result, so
      they are returned here as well.
  returned: always
  type: list
  elements: str
  sample: ["[DEFAULT] debug is set 2 times in /etc/keystone/keystone.conf; oslo.config uses the last one ..."]
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.conf_ini_module import ConfIniModule, argument_spec


class ServiceConfIni(ConfIniModule):
    # plain INI: no Nova schema, no validate option; the service's group has no default
    argument_spec = argument_spec()


def main():
    base.main(ServiceConfIni)


if __name__ == "__main__":
    main()
