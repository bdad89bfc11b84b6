# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: openstack_release
short_description: The OpenStack release a host gets by an install method, or why its platform cannot run it
version_added: 0.1.0
author:
  - osdeploy.nova developers (@osdeploy)
description:
  - Resolves the contract's C(osdeploy_install_method) and C(osdeploy_openstack_release) against the collection's
    release data and the host's platform data, as the osdeploy role's platform step does before any change.
  - With C(distro) the release is the one the platform's own packages are (an empty release means it; another is
    refused). With C(source) an empty release means the newest maintained one with source data; a release is refused
    without source data, when the platform's Python is outside the release's range, or when its libvirt or QEMU is
    older than the release's Nova requires. Versions compare as numbers (3.9 is older than 3.11).
  - Returns a dictionary with C(release) (the release's data with its C(name); empty when refused) and C(refused)
    (empty, or the reason, naming the variable, and what the platform can run).
positional: method, release, platform, platform_data
options:
  _input:
    description: The release data, by release name (C(__osdeploy_releases) of roles/osdeploy/vars/releases.yml).
    type: dict
    required: true
  method:
    description: The install method, C(distro) or C(source).
    type: str
    required: true
  release:
    description: The release's name as OpenStack spells it (C(2026.2), C(zed)); empty for the default.
    type: str
    required: true
  platform:
    description: The platform's name in the data (C(Debian-13)).
    type: str
    required: true
  platform_data:
    description:
      - What the checks need of the platform, C(release) (the release of its own packages), C(python), C(libvirt) and
        C(qemu) (versions).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The release of this host
  ansible.builtin.set_fact:
    release_choice: >-
      {{ __osdeploy_releases | osdeploy.nova.openstack_release('source', '2026.2', 'Debian-13',
         {'release': '2025.1', 'python': '3.13', 'libvirt': '11.3.0', 'qemu': '10.0'}) }}
  # -> {'release': {'name': '2026.2', 'codename': 'hibiscus', ...}, 'refused': ''}
"""

RETURN = r"""
_value:
  description: The resolved release, or the reason it is refused.
  type: dict
  contains:
    release:
      description: The release's data (as in the input) with its C(name); empty when refused.
      type: dict
    refused:
      description: Empty, or why the choice is refused, naming the variable and the platform's choices.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.osdeploy.nova.plugins.module_utils.releases import Refused, resolve


def openstack_release(releases, method, release, platform, platform_data):
    """releases | osdeploy.nova.openstack_release(method, release, platform, platform_data)"""
    if not isinstance(releases, dict) or not isinstance(platform_data, dict):
        raise AnsibleFilterError("osdeploy.nova.openstack_release: the release data (the input) and platform_data "
                                 "must be dictionaries")
    try:
        return {"release": resolve(releases, method, release, platform, platform_data), "refused": ""}
    except Refused as refused:
        return {"release": {}, "refused": str(refused)}
    except (KeyError, ValueError) as exc:
        raise AnsibleFilterError("osdeploy.nova.openstack_release: the release or platform data is incomplete "
                                 "or malformed: %s" % (exc,))


class FilterModule(object):
    def filters(self):
        return {"openstack_release": openstack_release}
