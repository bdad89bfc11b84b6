#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: service_db
short_description: An OpenStack service's databases, database user and grants on MariaDB, idempotently
version_added: 0.1.0
description:
  - One call does what the install guides of Keystone, Placement, Glance or Neutron do by hand in a C(mysql)
    shell (C(CREATE DATABASE keystone), then C(GRANT ALL PRIVILEGES ON keystone.* TO 'keystone'@'localhost')
    and C('keystone'@'%') C(IDENTIFIED BY) a password), reading the server first and changing only what
    differs.
  - No service is assumed. O(databases) and O(user) are required, and the character set defaults to
    MariaDB's full UTF-8, C(utf8mb4). A service whose own schema migrations set another character set needs
    it here, or the migration and this module change the database back and forth (Keystone's first
    migration sets C(utf8), so Keystone's task gives O(charset=utf8mb3)).
  - For Nova use M(osdeploy.nova.nova_db), the same step with Nova's databases, user and character set as
    defaults.
author:
  - osdeploy.nova developers (@osdeploy)
extends_documentation_fragment:
  - osdeploy.nova.database
  - osdeploy.nova.mysql
  - osdeploy.nova.mysql.tls
options:
  databases:
    description:
      - The databases of the service. Names of 1 to 64 letters, digits, C(_), C($) or C(-); system databases
        (C(mysql), C(information_schema), C(performance_schema), C(sys)) are refused.
    type: list
    elements: str
    required: true
  user:
    description:
      - The database user the service connects as. 1 to 80 letters, digits, C(_), C(.), C($) or C(-).
      - It must not be the account the module logs in with.
    type: str
    required: true
  charset:
    description:
      - Default character set of the databases, checked against C(information_schema). C(utf8) is
        accepted as the name of C(utf8mb3).
    type: str
    default: utf8mb4
seealso:
  - module: osdeploy.nova.nova_db
    description: The same step with Nova's defaults.
  - name: Keystone install guide
    description: The manual database steps of a service, here Keystone's.
    link: https://docs.openstack.org/keystone/latest/install/keystone-install-ubuntu.html
"""

EXAMPLES = r"""
- name: Placement's database and user (root over the local socket)
  osdeploy.nova.service_db:
    databases: [placement]
    user: placement
    password: "{{ placement_db_password }}"

- name: Keystone's database in the character set Keystone's own migration sets
  osdeploy.nova.service_db:
    databases: [keystone]
    user: keystone
    password: "{{ keystone_db_password }}"
    charset: utf8mb3

- name: Glance's database from a deployment host over TLS, an explicit collation, TLS required of Glance
  osdeploy.nova.service_db:
    databases: [glance]
    user: glance
    password: "{{ glance_db_password }}"
    collation: utf8mb4_unicode_ci
    login_host: db.example.org
    login_user: admin
    login_password: "{{ mariadb_admin_password }}"
    ca_cert: /etc/ssl/certs/db-ca.pem
    require_tls: true
  register: glance_db

- name: Tell what was done
  ansible.builtin.debug:
    msg: >-
      created {{ glance_db.databases_created }}, grants changed: {{ glance_db.grants_changed }},
      password rotated: {{ glance_db.password_changed }}, TLS requirement changed for:
      {{ glance_db.tls_requirement_changed_for }}

- name: Remove Neutron's user and drop its database with all data
  osdeploy.nova.service_db:
    databases: [neutron]
    user: neutron
    state: absent
    drop_databases: true
"""

RETURN = r"""
databases_created:
  description: Databases created (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: [glance]
databases_altered:
  description: Existing databases whose character set or collation was corrected with C(ALTER DATABASE).
  returned: always
  type: list
  elements: str
  sample: [glance]
databases_dropped:
  description: Databases dropped (O(state=absent) with O(drop_databases=true)).
  returned: always
  type: list
  elements: str
  sample: [neutron]
users_created:
  description: Accounts created, as C(user@host).
  returned: always
  type: list
  elements: str
  sample: [glance@localhost, glance@%]
users_removed:
  description: Accounts dropped by O(state=absent), as C(user@host).
  returned: always
  type: list
  elements: str
  sample: [neutron@localhost, neutron@%]
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
  sample: [glance@%]
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
  sample: [glance@%]
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
  sample: ["placement@%: ALL PRIVILEGES ON `placement`.*"]
grants_revoked:
  description: Grants revoked, as C(user@host) and the grant as it was.
  returned: always
  type: list
  elements: str
  sample: ["glance@%: ALL PRIVILEGES ON `glance%`.*"]
charset:
  description: The character set the databases have (or, in check mode, would have). Only with O(state=present).
  returned: when state is present
  type: str
  sample: utf8mb4
collation:
  description: The collation the databases have (or would have). Only with O(state=present).
  returned: when state is present
  type: str
  sample: utf8mb4_general_ci
server_version:
  description: Version of the server, as it reports it.
  returned: when the module could connect
  type: str
  sample: 11.8.3-MariaDB-0+deb13u1
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.service_db_module import ServiceDbModule, argument_spec


class ServiceDb(ServiceDbModule):
    # no service assumed: the databases and the user are required
    argument_spec = argument_spec(charset="utf8mb4")


def main():
    base.main(ServiceDb)


if __name__ == "__main__":
    main()
