#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: openstack_release_fact
short_description: Read which Nova and Placement a host runs, and from which release and install
version_added: 0.1.0
description:
  - For each Nova and Placement unit the collection deploys (C(nova-api), C(nova-api-metadata), C(nova-conductor),
    C(nova-scheduler), C(nova-novncproxy), C(nova-compute), C(placement-api)) that has a unit file, reads what
    systemd would start - the file that wins (C(/etc/systemd/system) before C(/run) before C(/lib)), the virtual
    environment its command runs in (or its uWSGI ini's C(virtualenv)) - and the version of the service's code,
    which is the environment's installed distribution (a source install), or Debian's package C(python3-nova) or
    C(python3-placement) (Debian's own unit).
  - With O(processes), for a source unit also the environments its running processes (its cgroup's, cgroup v2;
    none when it does not run) have mapped files of, so that
    what runs can be told from what the files say - an API runs its environment through a link that an upgrade
    moves before its workers reload.
  - With O(releases), names the OpenStack release of each unit by the major version of its code.
  - The osdeploy role reads it before any change, so that a run never changes the release of a running cloud
    by accident (a change of release is an upgrade, in Nova's order).
  - A pure read. It changes nothing on the host.
author:
  - osdeploy.nova developers (@osdeploy)
options:
  releases:
    description:
      - The collection's release data (C(__osdeploy_releases) of the osdeploy role), by release name, each with
        C(majors) (the major versions of C(nova) and C(openstack-placement)). Without it no release is named.
    type: dict
    default: {}
  processes:
    description:
      - Also read what each source unit's processes run (C(running) of each unit), from their mapped files. Off by
        default, as every run of the roles reads the units before any change, and only the upgrade command's last
        check needs the processes.
    type: bool
    default: false
  root:
    description:
      - Prefix under which the unit files, environments and dpkg's status file are read. For tests with fixture
        trees.
    type: path
    default: /
attributes:
  check_mode:
    support: full
    description: The module only reads, so check mode runs it unchanged.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
  facts:
    support: full
    description: Sets C(ansible_facts.deployed_openstack).
"""

EXAMPLES = r"""
- name: Read what this host runs of Nova and Placement
  osdeploy.nova.openstack_release_fact:
    releases: "{{ __osdeploy_releases }}"

- name: Show it
  ansible.builtin.debug:
    msg: "{{ item.key }}: {{ item.value.version }} ({{ item.value.release }}, {{ item.value.method }})"
  loop: "{{ ansible_facts.deployed_openstack.units | dict2items }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    deployed_openstack:
      description: What the host runs.
      returned: always
      type: dict
      contains:
        units:
          description: By unit, each unit found; empty on a host without Nova or Placement. C(running) only with
            O(processes).
          type: dict
          sample:
            nova-compute: {service: nova, method: source, version: 34.0.0, release: "2026.2",
                           environment: /opt/osdeploy/venvs/nova-34.0.0,
                           running: [/opt/osdeploy/venvs/nova-34.0.0]}
        releases:
          description: The releases the units run (one on a host that is not between two), sorted.
          type: list
          elements: str
          sample: ["2026.2"]
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.release_fact import read_units
from ansible_collections.osdeploy.nova.plugins.module_utils.releases import unit_release


class OpenstackReleaseFact(base.OsdeployModule):
    argument_spec = dict(
        releases=dict(type="dict", default={}),
        processes=dict(type="bool", default=False),
        root=dict(type="path", default="/"),
    )
    module_kwargs = dict(supports_check_mode=True)

    def run(self):
        units = read_units(self.params["root"], processes=self.params["processes"])
        for data in units.values():
            data["release"] = unit_release(self.params["releases"], data)
        found = sorted(set(data["release"] for data in units.values() if data["release"]))
        return dict(changed=False, ansible_facts={"deployed_openstack": {"units": units, "releases": found}})


def main():
    base.main(OpenstackReleaseFact)


if __name__ == "__main__":
    main()
