#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nova_db
short_description: Nova's databases, its database user and grants on MariaDB, idempotently
version_added: 0.1.0
description:
  - One call does what Nova's install guide does by hand in a C(mysql) shell (C(CREATE DATABASE nova_api),
    C(nova), C(nova_cell0), then C(GRANT ALL PRIVILEGES ON <db>.* TO 'nova'@'localhost') and C('nova'@'%')
    C(IDENTIFIED BY) a password), reading the server first and changing only what differs.
  - The defaults are what Nova needs, so that a task names only the password. In particular the databases
    get the character set C(utf8) (C(utf8mb3)), the one Nova itself gives them. Nova's first migration
    (Nova 26 and 31 alike) runs C(ALTER DATABASE ... DEFAULT CHARACTER SET utf8) on C(nova) and
    C(nova_cell0) and creates every table of the three databases in C(utf8). With any other character set
    here, Nova's migration and this module would change the databases back and forth on every run.
  - For the databases of another service (Keystone, Placement, Glance, Neutron) use
    M(osdeploy.nova.service_db), the same step without Nova's defaults.
author:
  - osdeploy.nova developers (@osdeploy)
extends_documentation_fragment:
  - osdeploy.nova.database
  - osdeploy.nova.mysql
  - osdeploy.nova.mysql.tls
options:
  databases:
    description:
      - Nova's databases. Names of 1 to 64 letters, digits, C(_), C($) or C(-); system databases (C(mysql),
        C(information_schema), C(performance_schema), C(sys)) are refused.
      - The default is the API database, the main database of cell1 and cell0's database, named as in the
        install guide. Another list (say, one per cell) works the same way.
    type: list
    elements: str
    default: [nova_api, nova, nova_cell0]
  user:
    description:
      - The database user Nova's services connect as. 1 to 80 letters, digits, C(_), C(.), C($) or C(-).
      - It must not be the account the module logs in with.
    type: str
    default: nova
  charset:
    description:
      - Default character set of the databases, checked against C(information_schema). C(utf8) is
        accepted as the name of C(utf8mb3).
      - The default is what Nova's own migrations set (see above); change it only together with a Nova
        that sets another.
    type: str
    default: utf8mb3
seealso:
  - module: osdeploy.nova.service_db
    description: The same step for the databases of any other OpenStack service.
  - name: Nova controller install guide
    description: The manual steps this module replaces.
    link: https://docs.openstack.org/nova/latest/install/controller-install-ubuntu.html
"""

EXAMPLES = r"""
- name: Nova's databases, user and grants (root over the local socket)
  osdeploy.nova.nova_db:
    password: "{{ nova_db_password }}"

- name: Same from a deployment host over TCP, the user allowed from the management network only
  osdeploy.nova.nova_db:
    password: "{{ nova_db_password }}"
    host_patterns: [localhost, "10.0.0.%"]
    login_host: controller
    login_user: admin
    login_password: "{{ mariadb_admin_password }}"
  register: nova_db

- name: Tell what was done
  ansible.builtin.debug:
    msg: >-
      created {{ nova_db.databases_created }} ({{ nova_db.charset }}/{{ nova_db.collation }}),
      grants changed: {{ nova_db.grants_changed }}, password rotated: {{ nova_db.password_changed }}

- name: Connection URL for [api_database] connection, the password percent-encoded
  ansible.builtin.set_fact:
    nova_api_connection: "{{ 'nova' | osdeploy.nova.db_url(nova_db_password, 'controller', 'nova_api') }}"

- name: Nova's accounts refused by the server unless they connect with TLS (REQUIRE SSL)
  osdeploy.nova.nova_db:
    password: "{{ nova_db_password }}"
    require_tls: true

- name: Remove Nova's database user (the databases and their data stay)
  osdeploy.nova.nova_db:
    state: absent
"""

RETURN = r"""
databases_created:
  description: Databases created (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: [nova_api, nova, nova_cell0]
databases_altered:
  description: Existing databases whose character set or collation was corrected with C(ALTER DATABASE).
  returned: always
  type: list
  elements: str
  sample: [nova_cell0]
databases_dropped:
  description: Databases dropped (O(state=absent) with O(drop_databases=true)).
  returned: always
  type: list
  elements: str
  sample: []
users_created:
  description: Accounts created, as C(user@host).
  returned: always
  type: list
  elements: str
  sample: [nova@localhost, nova@%]
users_removed:
  description: Accounts dropped by O(state=absent), as C(user@host).
  returned: always
  type: list
  elements: str
  sample: []
password_changed:
  description: Whether the password of an existing account was changed (rotation). Accounts created in this
    run are in RV(users_created) instead.
  returned: always
  type: bool
  sample: false
password_changed_for:
  description: The existing accounts whose password was changed, as C(user@host). Never the password.
  returned: always
  type: list
  elements: str
  sample: [nova@localhost, nova@%]
tls_requirement_changed:
  description: Whether the TLS requirement of an existing account was changed (O(require_tls)). Accounts
    created in this run are in RV(users_created) instead.
  returned: always
  type: bool
  sample: true
tls_requirement_changed_for:
  description: The existing accounts whose TLS requirement was changed, as C(user@host), to C(REQUIRE SSL) with
    O(require_tls=true) or back to C(REQUIRE NONE) with O(require_tls=false).
  returned: always
  type: list
  elements: str
  sample: [nova@%]
grants_changed:
  description: Whether any grant was added or revoked.
  returned: always
  type: bool
  sample: true
grants_added:
  description: "Grants added or completed, as C(user@host: ALL PRIVILEGES ON `db`.*)."
  returned: always
  type: list
  elements: str
  sample: ["nova@%: ALL PRIVILEGES ON `nova\\_api`.*"]
grants_revoked:
  description: Grants revoked, as C(user@host) and the grant as it was.
  returned: always
  type: list
  elements: str
  sample: ["nova@%: SELECT ON *.*", "nova@%: GRANT OPTION ON `nova`.*"]
charset:
  description: The character set the databases have (or, in check mode, would have). Only with O(state=present).
  returned: when state is present
  type: str
  sample: utf8mb3
collation:
  description: The collation the databases have (or would have). Only with O(state=present).
  returned: when state is present
  type: str
  sample: utf8mb3_general_ci
server_version:
  description: Version of the server, as it reports it.
  returned: when the module could connect
  type: str
  sample: 10.11.19-MariaDB-0+deb12u1
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils import service_db
from ansible_collections.osdeploy.nova.plugins.module_utils.service_db_module import ServiceDbModule, argument_spec


class NovaDb(ServiceDbModule):
    # utf8mb3: what Nova's first migration sets on its databases (DOCUMENTATION above)
    argument_spec = argument_spec(databases=service_db.DEFAULT_DATABASES, user="nova", charset="utf8mb3")


def main():
    base.main(NovaDb)


if __name__ == "__main__":
    main()
