# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: release_change_refused
short_description: Why a run must not deploy a release on a host that runs another one
version_added: 0.1.0
author:
  - osdeploy.nova developers (@osdeploy)
description:
  - Compares what a host runs (C(ansible_facts.deployed_openstack) of M(osdeploy.nova.openstack_release_fact)) with
    the release and install method the inventory asks for, as the osdeploy role does before any change.
  - Returns an empty string where the run may go on (the host runs no Nova or Placement yet, or exactly that
    release by that method), else the refusal. A run that would change the release of a running cloud is
    refused, since Nova accepts a new release only in its upgrade order. The message says what the host runs
    (with the units), why (an older target is a downgrade, which Nova never supports; a newer one is an
    upgrade, one supported hop at a time, with the chain of hops; services between two releases are an
    interrupted upgrade; a version the data does not know), and the values that keep the cloud as it is.
positional: host, deployed, target, method, upgrading
options:
  _input:
    description: The release data, by release name (C(__osdeploy_releases) of roles/osdeploy/vars/releases.yml).
    type: dict
    required: true
  host:
    description: The host's name, for the message.
    type: str
    required: true
  deployed:
    description: What the host runs, C(ansible_facts.deployed_openstack).
    type: dict
    required: true
  target:
    description: The release the run deploys (C(__osdeploy_release.name)).
    type: str
    required: true
  method:
    description: The install method the run uses (C(osdeploy_install_method)).
    type: str
    required: true
  upgrading:
    description:
      - The run is the upgrade command's (C(osdeploy_upgrade)) - the host may also run the release one supported hop
        before O(target), or both; from a source install only, for now.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Refuse a change of release
  ansible.builtin.assert:
    that: refusal | length == 0
    fail_msg: "{{ refusal }}"
  vars:
    refusal: >-
      {{ __osdeploy_releases | osdeploy.nova.release_change_refused(inventory_hostname,
         ansible_facts.deployed_openstack, __osdeploy_release.name, osdeploy_install_method) }}
"""

RETURN = r"""
_value:
  description: Empty, or why the run is refused.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.osdeploy.nova.plugins.module_utils.releases import change_refused


def release_change_refused(releases, host, deployed, target, method, upgrading=False):
    """releases | osdeploy.nova.release_change_refused(host, deployed, target, method, upgrading)"""
    if not isinstance(releases, dict) or not isinstance(deployed, dict):
        raise AnsibleFilterError("osdeploy.nova.release_change_refused: the release data (the input) and deployed "
                                 "must be dictionaries")
    try:
        return change_refused(releases, host, deployed.get("units", {}), str(target), method, bool(upgrading))
    except (KeyError, ValueError) as exc:
        raise AnsibleFilterError("osdeploy.nova.release_change_refused: the release or deployed data is incomplete "
                                 "or malformed: %s" % (exc,))


class FilterModule(object):
    def filters(self):
        return {"release_change_refused": release_change_refused}
