#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nova_conf_ini
short_description: Apply many settings of nova.conf in one call, validated against the installed Nova
version_added: 0.1.0
description:
  - Edits C(/etc/nova/nova.conf) or C(/etc/nova/nova-compute.conf) in place, many settings in one call, the
    way M(osdeploy.nova.service_conf_ini) edits any service's file, and checks every setting against the
    option definitions of the Nova installed on the target first.
  - The schema is the oslo-config-generator namespaces of Nova's nova.conf and the keystoneauth1 auth plugin
    options of the groups that use them. Unknown sections and options fail with a "did you mean"
    suggestion, options the installed Nova removed fail naming what replaces them, deprecated names and
    options deprecated for removal give a warning naming the replacement, and values of the wrong type
    (boolean, integer, port, choices, URI, host address...) fail. Nothing is written when a setting fails.
  - Where nova and oslo.config are not importable on the target, the module says so in a warning, writes the
    settings unchecked and returns RV(validated=false).
  - On top of the secrets every INI file has (see the notes), options that are secret in Nova's schema
    (oslo.config C(secret=True), keystoneauth plugin passwords) are masked and written literally.
author:
  - osdeploy.nova developers (@osdeploy)
extends_documentation_fragment:
  - osdeploy.nova.conf_ini
options:
  settings:
    description:
      - Mapping of section -> option -> value. A value of V(null) removes every line of the option.
      - "Scalars are written as text, booleans as V(true)/V(false)."
      - "A list for a multi-valued option (oslo.config C(MultiStrOpt), e.g. C([pci] alias)) is written as
        repeated C(key = value) lines; a list for a C(ListOpt) (e.g. C([DEFAULT] enabled_apis)) is
        written comma-joined on one line. When Nova's schema is not available, or it does not know the
        option, a list is written as repeated lines: give a C(ListOpt) a comma-separated string then.
        An empty list removes a multi-valued option."
      - "A mapping is written as C(key:value,key:value) (oslo.config C(DictOpt))."
      - "C($name) and C(${group.name}) in a value are oslo.config references to other options (for
        example C($my_ip)) and are written as given; with O(validate) they must name an existing
        option. Secret values and the options in O(literal_options) are written literally: each C($)
        is doubled."
    type: dict
    required: true
  group:
    description: Group of the file. Nova's services read their configuration as the C(nova) group.
    type: str
    default: nova
  validate:
    description:
      - Check sections, options and values against the installed Nova's option schema. This is what the
        module is for; the roles turn it off only when C(nova_conf_validate) is false.
      - When V(false), nothing is refused or warned about; the schema is still used, where available,
        to tell secret, multi-valued and list options apart.
    type: bool
    default: true
  schema_cache_dir:
    description:
      - Folder for the cached option schema, keyed by the versions of nova, oslo.config,
        keystoneauth1 and the libraries that define options. Enumerating takes 1-2 seconds; reading
        the cache a few hundredths. An empty string disables the cache. The cache is never required.
      - Default C(/var/cache/osdeploy-nova) as root, C(~/.cache/osdeploy-nova) otherwise.
    type: path
notes:
  - Debian's nova-compute loads C(/etc/nova/nova-compute.conf) after C(nova.conf); a value there wins.
    Manage both with this module; unknown options already in a file are reported as warnings.
seealso:
  - module: osdeploy.nova.service_conf_ini
    description: The same edit for the files of other OpenStack services, without Nova's schema.
  - name: Nova configuration reference
    description: Every option of nova.conf.
    link: https://docs.openstack.org/nova/latest/configuration/config.html
"""

EXAMPLES = r"""
- name: Controller settings of nova.conf
  osdeploy.nova.nova_conf_ini:
    path: /etc/nova/nova.conf
    settings:
      DEFAULT:
        transport_url: "rabbit://openstack:{{ rabbit_password | urlencode }}@controller:5672/"
        my_ip: 10.0.0.11
      api:
        auth_strategy: keystone
      keystone_authtoken:
        www_authenticate_uri: http://controller:5000/
        auth_url: http://controller:5000/
        memcached_servers: controller:11211
        auth_type: password
        project_domain_name: Default
        user_domain_name: Default
        project_name: service
        username: nova
        password: "{{ nova_password }}"
      vnc:
        enabled: true
        server_listen: $my_ip
        server_proxyclient_address: $my_ip
  register: nova_conf

- name: The compute host's virt_type lives in nova-compute.conf, which Debian loads last
  osdeploy.nova.nova_conf_ini:
    path: /etc/nova/nova-compute.conf
    settings:
      libvirt:
        virt_type: qemu
        vif_driver: null          # unknown to Zed: remove it
      DEFAULT:
        neutron_ovs_bridge: null  # unknown to Zed: remove it
      pci:
        alias:                    # MultiStrOpt: one line per element
          - '{"vendor_id": "8086", "product_id": "154d", "name": "a1"}'
          - '{"vendor_id": "8086", "product_id": "1520", "name": "a2"}'

- name: A value with a literal dollar in a non-secret option
  osdeploy.nova.nova_conf_ini:
    path: /etc/nova/nova.conf
    literal_options: [DEFAULT.instance_name_template]
    settings:
      DEFAULT:
        instance_name_template: instance-$id
"""

RETURN = r"""
changed_options:
  description: The options added, changed or removed, as C(section.option); no values.
  returned: always
  type: list
  elements: str
  sample: [DEFAULT.my_ip, keystone_authtoken.password]
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
collapsed:
  description: Options that appeared more than once in a section and were collapsed into one line.
  returned: always
  type: list
  elements: str
  sample: [DEFAULT.my_ip]
validated:
  description: Whether the settings were checked against the installed Nova's options.
  returned: always
  type: bool
validation:
  description: How validation went, or why it could not be done.
  returned: always
  type: str
  sample: "checked against Nova 26.2.2 (62 sections, 1336 options; schema from cache in 0.06s)"
schema:
  description: Where the option schema came from.
  returned: when Nova's schema was available
  type: dict
  contains:
    nova_version:
      description: Version of the installed nova Python package.
      type: str
    source:
      description: C(cache) or C(enumerated).
      type: str
    seconds:
      description: Time taken to get the schema.
      type: float
    enumeration_seconds:
      description: Time the enumeration took when the schema was built.
      type: float
    cache:
      description: The cache file, null when none was used.
      type: str
backup_file:
  description: The copy of the previous file.
  returned: when O(backup) and the file changed
  type: str
module_warnings:
  description:
    - The warnings of this run (deprecated options, unknown options already in the file, collapsed
      duplicates, validation not possible), also issued as Ansible warnings. ansible-core 2.19 moves
      a module's C(warnings) out of the registered result, so they are returned here as well.
  returned: always
  type: list
  elements: str
  sample: ["[keystone_authtoken] auth_uri is deprecated for removal since Queens: ..."]
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.conf_ini_module import ConfIniModule, argument_spec


class NovaConfIni(ConfIniModule):
    # validate: checked against Nova's schema unless the caller turns it off
    argument_spec = argument_spec(group="nova", validate=True)


def main():
    base.main(NovaConfIni)


if __name__ == "__main__":
    main()
