#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cell_v2
short_description: Nova's schema syncs, cell0, cells and host discovery, idempotent and honest
version_added: 0.1.0
description:
  - Performs one of the C(nova-manage) steps of a Nova controller, but reads the real state first
    and acts only where something has to change, so that C(changed) means that something changed.
  - The state is read directly from the databases named in O(config_files) (with PyMySQL),
    C(nova_api.cell_mappings) and C(host_mappings), the schema versions (C(alembic_version), or
    C(migrate_version) for a database still under sqlalchemy-migrate) compared with the migration
    scripts of the installed nova, and the C(services) and C(compute_nodes) of each cell database.
  - C(nova-manage) runs as O(nova_user) with exactly O(config_files). URLs that it has to store
    are handed over in a private temporary config file, never on its command line (where any
    local user could read them with C(ps)). Its harmless stderr noise (eventlet's monkey-patching
    notice, Python warnings) is dropped; other stderr output of a successful run becomes a warning;
    a failure is reported with its output. Every password and URL in results, warnings and errors
    is masked.
  - Changes are serialized per API database with a MariaDB user lock (C(GET_LOCK)), so two plays
    running the module at the same time neither duplicate a cell nor collide in discovery.
  - The databases are reached with the TLS settings of their URLs, as Nova reaches them. The C(ssl_ca),
    C(ssl_capath), C(ssl_cert), C(ssl_key), C(ssl_cipher) and C(ssl_check_hostname) query parameters of
    a C(mysql+pymysql://) URL are handed to PyMySQL as SQLAlchemy hands them. The TLS options of this
    module (O(ca_cert), ...) apply to the URLs without C(ssl_*) parameters.
author:
  - osdeploy.nova developers (@osdeploy)
extends_documentation_fragment:
  - osdeploy.nova.mysql.tls
options:
  action:
    description:
      - C(api_db_sync) runs C(nova-manage api_db sync) when the API database is not at the newest
        migration of the installed nova.
      - C(db_sync) runs C(nova-manage db sync) when cell0's database or the database of
        C([database] connection) is behind. Like nova-manage, it does not migrate other cells.
      - C(map_cell0) maps cell0 to O(database_connection) (C(cell_v2 map_cell0)), or fixes the URL
        of an existing cell0 (C(cell_v2 update_cell)), which C(map_cell0) alone never does.
      - C(cell) makes the cell called O(name) present with O(transport_url) and
        O(database_connection) (C(create_cell), or C(update_cell) when its URLs drifted; never a
        second cell of the same name), or absent (C(delete_cell)).
      - C(discover_hosts) waits until the hosts of O(wait_for_hosts) have registered, then runs
        C(cell_v2 discover_hosts) once if any host is left to map.
    type: str
    required: true
    choices: [api_db_sync, db_sync, map_cell0, cell, discover_hosts]
  name:
    description:
      - Name of the cell, for O(action=cell). Required there.
      - When several cells already carry this name (nova-manage does not prevent it), O(state=present)
        fails and lists their uuids instead of guessing which one to manage; O(state=absent)
        deletes all of them.
    type: str
  state:
    description:
      - For O(action=cell), whether the cell should exist.
      - O(state=absent) refuses (fails) while hosts are still mapped to the cell.
    type: str
    choices: [present, absent]
    default: present
  transport_url:
    description:
      - Message queue URL of the cell (O(action=cell)). Required to create a cell; when omitted for
        an existing cell its transport_url is left as it is. User and password must be
        percent-encoded.
    type: str
  database_connection:
    description:
      - Database URL of the cell (O(action=cell), required to create one) or of cell0
        (O(action=map_cell0)). User and password must be percent-encoded.
      - For O(action=map_cell0) the default is C([database] connection) of O(config_files) with
        C(_cell0) appended to the database name, credentials kept as written (nova-manage's own
        default unquotes the URL and so breaks a percent-encoded password; this module fixes such a
        cell0).
      - When omitted for an existing cell (O(action=cell)) its database_connection is left as it is.
    type: str
  wait_for_hosts:
    description:
      - For O(action=discover_hosts), compute hosts (as nova-compute names them, its C(host)
        option, by default the hostname) to wait for before discovering. A host is ready when it
        is already mapped, or when a cell database has its nova-compute service and its compute
        node record (only the service with O(by_service=true)).
      - The module fails after O(timeout) seconds with the hosts still missing and what each lacks.
      - Check mode waits too (it only reads), so that its prediction is exact.
    type: list
    elements: str
    default: []
  by_service:
    description:
      - For O(action=discover_hosts), discover by nova-compute service instead of compute node
        record (C(discover_hosts --by-service), for ironic).
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for O(wait_for_hosts).
    type: int
    default: 300
  poll_interval:
    description:
      - Seconds between two reads of the cell databases while waiting for O(wait_for_hosts).
    type: int
    default: 5
  lock_timeout:
    description:
      - Seconds to wait for another run of this module that is changing the same API database.
    type: int
    default: 600
  config_files:
    description:
      - Nova config files, in order (a later one overrides an earlier one), passed to nova-manage
        as C(--config-file) and read by the module for C([api_database] connection),
        C([database] connection) and C([DEFAULT] transport_url).
    type: list
    elements: path
    default: [/etc/nova/nova.conf]
  nova_user:
    description:
      - The user nova-manage runs as. The module itself runs as root (or already as this user).
    type: str
    default: nova
  nova_manage:
    description:
      - Path of the nova-manage command. Searched in C(PATH) when not given.
    type: path
attributes:
  check_mode:
    support: full
    description:
      - Reads the same state and reports what would change (C(changes), C(migrations_ran),
        C(mapped_hosts)) without running nova-manage.
  diff_mode:
    support: none
    description: The results already list every change; URLs could only be shown masked.
requirements:
  - PyMySQL (Debian C(python3-pymysql)) and oslo.config (C(python3-oslo.config)) on the target.
  - nova-manage (Debian C(nova-common)) and C(setpriv) (util-linux).
notes:
  - Only MariaDB/MySQL databases (C(mysql+pymysql://...)) can be read.
  - Cell database URLs stored as templates (C({username}), C({password})...) are expanded with
    C([database] connection) and C([DEFAULT] transport_url), as Nova does.
seealso:
  - name: nova-manage
    description: The cell_v2, api_db and db commands of nova-manage.
    link: https://docs.openstack.org/nova/latest/cli/nova-manage.html
"""

EXAMPLES = r"""
- name: Migrate the API database
  osdeploy.nova.cell_v2:
    action: api_db_sync

- name: Map cell0
  osdeploy.nova.cell_v2:
    action: map_cell0
    database_connection: "mysql+pymysql://nova:{{ nova_db_password | urlencode }}@controller/nova_cell0"

- name: Create (or fix the URLs of) cell1
  osdeploy.nova.cell_v2:
    action: cell
    name: cell1
    transport_url: "rabbit://openstack:{{ rabbit_password | urlencode }}@controller:5672/"
    database_connection: "mysql+pymysql://nova:{{ nova_db_password | urlencode }}@controller/nova"

- name: Migrate cell0 and the cell database
  osdeploy.nova.cell_v2:
    action: db_sync

- name: Map the new compute hosts once they have registered
  osdeploy.nova.cell_v2:
    action: discover_hosts
    wait_for_hosts: "{{ groups['compute'] | map('extract', hostvars, 'ansible_hostname') | list }}"
    timeout: 300
  register: discovery

- name: Remove a cell that has no hosts
  osdeploy.nova.cell_v2:
    action: cell
    name: cell2
    state: absent
"""

RETURN = r"""
action:
  description: The action performed.
  returned: always
  type: str
  sample: cell
changes:
  description: What was changed, or in check mode what would be; empty when nothing.
  returned: always
  type: list
  elements: str
  sample: ["update transport_url of cell 'cell1' (8e5b7c9e-...)"]
cells:
  description: The cell mappings after the action (in check mode, as found), URLs masked.
  returned: always
  type: list
  elements: dict
  contains:
    uuid:
      description: Cell uuid.
      type: str
      sample: 00000000-0000-0000-0000-000000000000
    name:
      description: Cell name (null when it has none).
      type: str
      sample: cell0
    transport_url:
      description: Transport URL with its password masked.
      type: str
      sample: none:///
    database_connection:
      description: Database URL with its password masked.
      type: str
      sample: "mysql+pymysql://nova:********@controller/nova_cell0"
    disabled:
      description: Whether the cell is disabled.
      type: bool
    hosts:
      description: Hosts mapped to the cell.
      type: list
      elements: str
cell:
  description: For O(action=cell) and O(action=map_cell0), the cell managed (masked), null when absent.
  returned: when action is cell or map_cell0
  type: dict
mapped_hosts:
  description: Hosts this run mapped (in check mode, would map). Empty for other actions.
  returned: always
  type: list
  elements: str
  sample: [compute1]
migrations_ran:
  description: Schema migrations that ran (in check mode, would run), one entry per database.
  returned: always
  type: list
  elements: dict
  contains:
    database:
      description: C(api), C(cell0) or C(main) (the database of C([database] connection)).
      type: str
    from_version:
      description: Alembic revision before (null for an empty database).
      type: str
    to_version:
      description: Alembic revision after (in check mode, the head of the installed nova).
      type: str
versions:
  description: Schema version of each database the action looked at, after the action.
  returned: when action is api_db_sync or db_sync
  type: dict
  sample: {api: b30f573d3377}
duplicate_cells:
  description: Names carried by more than one cell mapping, with their uuids (also warned about).
  returned: always
  type: dict
commands:
  description: The nova-manage commands run, with rc and masked stdout.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.cell_v2_module import ACTIONS, CellV2Module


class CellV2(CellV2Module):
    """One nova-manage step with its options: the steps are CellV2Module's (module_utils/cell_v2_module.py)."""

    argument_spec = dict(
        action=dict(type="str", required=True, choices=list(ACTIONS)),
        name=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        transport_url=dict(type="str", no_log=True),
        database_connection=dict(type="str", no_log=True),
        wait_for_hosts=dict(type="list", elements="str", default=[]),
        by_service=dict(type="bool", default=False),
        timeout=dict(type="int", default=300),
        poll_interval=dict(type="int", default=5),
        lock_timeout=dict(type="int", default=600),
        config_files=dict(type="list", elements="path", default=["/etc/nova/nova.conf"]),
        nova_user=dict(type="str", default="nova"),
        nova_manage=dict(type="path"),
    )
    module_kwargs = dict(supports_check_mode=True)


def main():
    base.main(CellV2)


if __name__ == "__main__":
    main()
