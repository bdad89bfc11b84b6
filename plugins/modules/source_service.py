#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: source_service
short_description: What one OpenStack service installed from source needs around its environment on a host, in one call
version_added: 0.1.0
description:
  - The files, links, folders and systemd state that Debian's packages of Nova or Placement would have installed,
    for a service whose virtual environment (O(venv)) is made already (M(osdeploy.nova.python_venv)). The source
    role (entry points C(environment) and C(service)) calls it once per step instead of one task per path.
  - In order - the folders of O(directories); the files of O(files), rendered by the calling task (units, uWSGI
    inis, sudoers, logrotate, constraints), and with O(environment_files) nova's C(api-paste.ini), C(rootwrap.conf)
    (its C(exec_dirs) led by the environment's C(bin)) and C(rootwrap.d/*.filters) copied from the environment; the
    links of O(commands) in O(command_dir) and, where this host runs an API, the link O(venv_link) that the APIs run
    the environment by, pointed at O(venv); Debian's packages of O(hold) that are installed, held, and their units
    that the collection does not run, disabled, masked and stopped; C(systemctl daemon-reload) when a file in
    O(unit_dir) changed or a unit is stale (below).
  - A file whose content, mode, owner and group are right is not touched, its modification time kept; a file with
    the right content and other attributes gets them in place (modification time kept); any other is replaced
    atomically, its mode and owner set before its first byte. A file with C(validate) is checked by that command
    before it lands; refused, the old file stays.
  - Never starts, stops (except Debian's units above), restarts or reloads a unit of O(units). It says which should -
    RV(restart) - every unit that was running before the call and runs with something that changed (the
    environment, O(environment_changed); a file of O(files) naming it as C(unit)) or that started before one of
    its files last changed (a run stopped before its restart); RV(reload) - every running API that does not
    restart and whose environment link moved, whose nova C(api-paste.ini) changed, or that has a worker older than
    the link. The caller restarts and reloads them (the source role's handlers).
  - Options are checked before anything is read or changed - a unit O(service) does not have, an API without a port
    in O(ports), a path that is not absolute, a mode that is not an octal string, a C(unit) that is not in O(units),
    a C(validate) without C(%s) - and refused together, each naming the option and the fix.
author:
  - osdeploy.nova developers (@osdeploy)
options:
  service:
    description: The service, C(nova) or C(placement).
    type: str
    required: true
    choices: [nova, placement]
  units:
    description:
      - The systemd units of O(service) on this host, by Debian's names, in the order they restart. C(nova) has
        C(nova-api), C(nova-api-metadata), C(nova-conductor), C(nova-scheduler), C(nova-novncproxy) and
        C(nova-compute); C(placement) has C(placement-api). Others are refused.
      - Their state is read (C(systemctl show)); none is changed.
    type: list
    elements: str
    default: []
  ports:
    description:
      - The port of each API of O(units) (C(nova-api), C(nova-api-metadata), C(placement-api)), by unit. An API of
        O(units) without one is refused (the port itself is in its uWSGI ini, one of O(files)).
    type: dict
    default: {}
  venv:
    description:
      - The service's virtual environment (C(/opt/osdeploy/venvs/<service>-<version>)). Required with O(commands),
        O(environment_files) or an API in O(units).
    type: path
  venv_link:
    description:
      - The link that the APIs run the environment by (their uWSGI C(virtualenv)), pointed at the basename of O(venv)
        when O(units) has an API. Default - C(<folder of venv>/<service>).
    type: path
  environment_changed:
    description:
      - The environment changed in this run (M(osdeploy.nova.python_venv) reported a change) - every running unit of
        O(units) is in RV(restart).
    type: bool
    default: false
  environment_files:
    description:
      - Copy nova's files from the environment into O(config_dir) - C(api-paste.ini) (C(root:<service>) C(0640)),
        C(rootwrap.conf) with C(exec_dirs) led by C(<venv>/bin) and C(rootwrap.d/*.filters) (C(root:root) C(0644),
        a missing folder made C(0755) by the user the module runs as). A missing source fails the run.
      - The source role leaves it off in check mode while the environment is not made yet.
    type: bool
    default: false
  config_dir:
    description: Where O(environment_files) go. Default - C(/etc/<service>).
    type: path
  commands:
    description: The environment's commands linked from O(command_dir) (C(<command_dir>/<name>) to C(<venv>/bin/<name>)).
    type: list
    elements: str
    default: []
  command_dir:
    description: The folder of the links of O(commands), first in Debian's C(PATH).
    type: path
    default: /usr/local/bin
  directories:
    description: Folders, made with missing parents (the same mode) or given their mode, owner and group.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The folder, an absolute path.
        type: str
        required: true
      owner:
        description: Its owner, a user name.
        type: str
        default: root
      group:
        description: Its group, a group name.
        type: str
        default: root
      mode:
        description: Its mode, a quoted octal string (C('0750')).
        type: raw
        required: true
  files:
    description:
      - Files as data - the calling task renders them (C(lookup('ansible.builtin.template', ...))).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file, an absolute path (each once).
        type: str
        required: true
      content:
        description: Its whole text. Never shown in RV(changes); in the diff (O(files) hold no secrets).
        type: str
        required: true
      owner:
        description: Its owner, a user name.
        type: str
        default: root
      group:
        description: Its group, a group name.
        type: str
        default: root
      mode:
        description: Its mode, a quoted octal string (C('0644')).
        type: raw
        required: true
      unit:
        description:
          - The unit of O(units) that runs with this file (its unit file, its uWSGI ini) - a change puts it in
            RV(restart) if it was running, and so does a start older than the file's modification time.
        type: str
      validate:
        description:
          - A command that checks the new content before it lands, C(%s) standing for a file that holds it
            (C(/usr/sbin/visudo -cf %s)); an exit code other than 0 fails the run and leaves the old file.
        type: str
  unit_dir:
    description: The folder of unit files - a change of a file of O(files) in it reloads systemd.
    type: path
    default: /etc/systemd/system
  hold:
    description:
      - C(dpkg-query) patterns of Debian's packages of O(service) (C(nova-*), C(python3-nova)). Those installed are
        held, so that no apt run upgrades them; the C(.service) units they ship in C(/lib/systemd/system) that the
        collection does not run (not one of the seven units above; nova-consoleproxy's SPICE and serial proxies) are
        disabled, masked and stopped.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description:
      - Reads everything and returns what the real run would change (RV(changes), RV(restart), RV(reload)); writes,
        links, holds, masks and reloads nothing. C(validate) commands do not run.
  diff_mode:
    support: full
    description: One diff per file written, its old and new text; for a file whose attributes alone change, those.
notes:
  - Needs C(systemctl) and, with O(hold), C(dpkg-query) and C(dpkg); C(ps) to read the age of an API's workers.
  - The links are made by the user the module runs as (root, with C(become)).
seealso:
  - module: osdeploy.nova.python_venv
    description: Makes the environment this module points everything at.
"""

EXAMPLES = r"""
- name: Placement's files, links and unit around its environment
  osdeploy.nova.source_service:
    service: placement
    units: [placement-api]
    ports: {placement-api: 8778}
    venv: /opt/osdeploy/venvs/placement-16.0.0
    commands: [placement-manage, placement-status]
    files:
      - path: /etc/placement/placement-api-uwsgi.ini
        content: "{{ lookup('ansible.builtin.template', 'uwsgi.ini.j2') }}"
        group: placement
        mode: "0640"
        unit: placement-api
      - path: /etc/systemd/system/placement-api.service
        content: "{{ lookup('ansible.builtin.template', 'unit.service.j2') }}"
        mode: "0644"
        unit: placement-api
    hold: [placement-*, python3-placement]
  register: placement_files

- name: Nova's sudoers, checked before it lands, and its files from the environment
  osdeploy.nova.source_service:
    service: nova
    units: [nova-compute]
    venv: /opt/osdeploy/venvs/nova-34.0.0
    environment_files: true
    files:
      - path: /etc/sudoers.d/nova
        content: "{{ lookup('ansible.builtin.template', 'sudoers.j2') }}"
        mode: "0440"
        validate: /usr/sbin/visudo -cf %s

- name: Folders and a constraints file, before the environment is made
  osdeploy.nova.source_service:
    service: nova
    directories:
      - {path: /var/lib/nova, owner: nova, group: nova, mode: "0755"}
      - {path: /etc/osdeploy/constraints, mode: "0755"}
    files:
      - path: /etc/osdeploy/constraints/2026.2.txt
        content: "{{ lookup('ansible.builtin.template', 'constraints.txt.j2') }}"
        mode: "0644"
"""

RETURN = r"""
changes:
  description:
    - One line per folder, file, link, package held, Debian unit masked, and the daemon-reload, that changed (in check
      mode, would change), with why; never a file's content. Empty when everything was as asked.
  returned: always
  type: list
  elements: str
  sample: ["wrote /etc/nova/nova-api-uwsgi.ini (content)", "linked /opt/osdeploy/venvs/nova -> nova-34.0.0 (pointed at nova-33.0.0)", "systemd: daemon-reload"]
changed_files:
  description: The files of O(files) and of O(environment_files) that changed (in check mode, would change).
  returned: always
  type: list
  elements: str
  sample: [/etc/nova/nova-api-uwsgi.ini]
restart:
  description:
    - The units of O(units), in their order, that were running and run with something that changed, or started
      before one of their files last changed - to restart.
  returned: always
  type: list
  elements: str
  sample: [nova-conductor]
reload:
  description:
    - The running APIs of O(units) that do not restart and whose environment link moved, whose C(api-paste.ini)
      changed, or that have a worker older than the link - to reload worker by worker (uWSGI's chain reload).
  returned: always
  type: list
  elements: str
  sample: [nova-api, nova-api-metadata]
problems:
  description: What was wrong with the options, when the module refused them (nothing changed).
  returned: failure
  type: list
  elements: str
  sample: ["ports: the API nova-api has no port; give it one (ports: {nova-api: <port>})"]
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.source_service import SourceServiceModule


class SourceService(SourceServiceModule):
    argument_spec = dict(
        service=dict(type="str", required=True, choices=["nova", "placement"]),
        units=dict(type="list", elements="str", default=[]),
        ports=dict(type="dict", default={}),
        venv=dict(type="path"),
        venv_link=dict(type="path"),
        environment_changed=dict(type="bool", default=False),
        environment_files=dict(type="bool", default=False),
        config_dir=dict(type="path"),
        commands=dict(type="list", elements="str", default=[]),
        command_dir=dict(type="path", default="/usr/local/bin"),
        directories=dict(type="list", elements="dict", default=[], options=dict(
            path=dict(type="str", required=True),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="root"),
            mode=dict(type="raw", required=True),
        )),
        files=dict(type="list", elements="dict", default=[], options=dict(
            path=dict(type="str", required=True),
            content=dict(type="str", required=True),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="root"),
            mode=dict(type="raw", required=True),
            unit=dict(type="str"),
            validate=dict(type="str"),
        )),
        unit_dir=dict(type="path", default="/etc/systemd/system"),
        hold=dict(type="list", elements="str", default=[]),
    )


def main():
    base.main(SourceService)


if __name__ == "__main__":
    main()
