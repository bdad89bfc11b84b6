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
  - One call does what the install guides do by hand in a C(mysql) shell for Nova, Keystone, Placement or
    Glance (C(CREATE DATABASE nova_api), C(nova), C(nova_cell0), then C(GRANT ALL PRIVILEGES ON <db>.* TO
    'nova'@'localhost') and C('nova'@'%') C(IDENTIFIED BY) a password), but reads the server first and
    changes only what differs, so a second run changes nothing and reports C(changed=false). The defaults
    are Nova's; set O(databases) and O(user) for another service.
  - Formerly C(osdeploy.nova.nova_db); that name still works (it redirects here) but is
    deprecated and will be removed in 2.0.0.
  - With O(state=present) it ensures that each database in O(databases) exists with O(charset) and
    O(collation) (an existing database with another default character set or collation is corrected with
    C(ALTER DATABASE)), that O(user) exists at each of O(host_patterns) with O(password), and that each of
    these accounts holds exactly C(ALL PRIVILEGES) on exactly each listed database.
  - Grants name each database exactly; C(_) is escaped as C(\_), so C(nova_api) does not also match, say,
    C(novaXapi) as the unescaped wildcard pattern of the guides does.
  - With O(revoke_other_grants=true) (the default), every other privilege of these accounts is revoked,
    global privileges (C(ON *.*)) and database-level grants on other databases or patterns, including the
    unescaped C(nova_api.*) grants a manual install left behind; C(GRANT OPTION) on a listed database is
    always revoked. Table-, column- and routine-level grants and roles are not inspected.
  - Accounts of O(user) at host patterns that are not listed are left alone. Remove them with
    O(state=absent) and those host patterns.
  - With O(state=absent) it drops O(user) at each of O(host_patterns) (with all of its grants). The
    databases and the data in them are kept unless O(drop_databases=true).
  - The plain password never reaches the server. The module computes its C(mysql_native_password) hash
    itself and sets it with C(IDENTIFIED BY PASSWORD '<hash>'); to detect a rotation it compares that hash
    with the stored one in SQL, without ever reading or returning the stored hash. So the password is not
    in the server's general log, slow log or process list, and a rotation is applied with C(ALTER USER).
author:
  - osdeploy.nova developers (@osdeploy)
extends_documentation_fragment:
  - osdeploy.nova.mysql
  - osdeploy.nova.mysql.tls
options:
  databases:
    description:
      - The databases the service uses (by default Nova's). Names of 1 to 64 letters, digits, C(_), C($) or
        C(-); system databases (C(mysql), C(information_schema), C(performance_schema), C(sys)) are refused.
    type: list
    elements: str
    default: [nova_api, nova, nova_cell0]
  user:
    description:
      - The database user the service connects as. 1 to 80 letters, digits, C(_), C(.), C($) or C(-).
      - It must not be the account the module logs in with.
    type: str
    default: nova
  password:
    description:
      - Password of O(user) at every host pattern. Required with O(state=present), never empty.
      - Any printable ASCII character is allowed (quotes, backslash, C(@), C(:), C(/), C(%), C($), C(#) and
        spaces). It is never sent to the server, only its C(mysql_native_password) hash, as a parameter of
        the SQL statements. Characters outside printable ASCII are refused because PyMySQL, the driver the
        OpenStack services use, sends passwords as latin-1.
      - Build Nova's connection strings with the P(osdeploy.nova.db_url#filter) filter, which
        percent-encodes it.
    type: str
  host_patterns:
    description:
      - The hosts O(user) may connect from, as MariaDB account host parts (C(localhost), C(%), an address,
        a name, C(10.0.0.%), C(10.0.0.0/255.255.255.0)). Letters are stored in lower case.
    type: list
    elements: str
    default: [localhost, '%']
  charset:
    description:
      - Default character set of the databases, checked against C(information_schema). C(utf8) is
        accepted as the name of C(utf8mb3).
    type: str
    default: utf8mb4
  collation:
    description:
      - Default collation of the databases, checked against C(information_schema); it must belong to
        O(charset).
      - When not set, the server's default collation of O(charset) (C(utf8mb4_general_ci) on Debian 12).
    type: str
  state:
    description:
      - C(present) creates or corrects; C(absent) drops O(user) at O(host_patterns) and, only with
        O(drop_databases=true), the databases.
    type: str
    choices: [present, absent]
    default: present
  drop_databases:
    description:
      - With O(state=absent), also drop the databases in O(databases), B(with all their data).
      - Off by default so that removing the user can never destroy Nova's data by accident.
    type: bool
    default: false
  revoke_other_grants:
    description:
      - Revoke the privileges of the managed accounts that are not C(ALL PRIVILEGES) on a listed database
        (global privileges and database-level grants on other databases or patterns), so that the accounts
        hold privileges on exactly these databases.
      - Set to V(false) when the same user deliberately has privileges elsewhere; those are then reported in
        the diff but not touched.
    type: bool
    default: true
  update_password:
    description:
      - V(always) sets O(password) on existing accounts whose password differs (rotation);
        V(on_create) sets it only on accounts the module creates.
    type: str
    choices: [always, on_create]
    default: always
attributes:
  check_mode:
    support: full
    description: The module reads the server and reports exactly what a real run would do; it changes nothing.
  diff_mode:
    support: full
    description: Before and after of the databases (character set/collation), the accounts and their grants.
      A password is never shown; a rotation appears as C(changed, not shown).
notes:
  - Supports MariaDB 10.4 and later (10.5, 10.11 and 11.8 on Debian 11, 12 and 13). MySQL is refused with a clear message, because its
    default authentication plugin makes the password comparison impossible.
  - C(ALTER DATABASE) changes the defaults for new tables only; existing tables keep their character set.
  - Passwords are C(no_log) and never appear in results, warnings, errors or the diff. If a statement fails
    midway, the task fails and still reports (in the same return values) what had been done before.
seealso:
  - name: MariaDB GRANT
    description: Privilege levels and the wildcards of database-level grants.
    link: https://mariadb.com/kb/en/grant/
  - name: Nova controller install guide
    description: The manual steps this module replaces.
    link: https://docs.openstack.org/nova/zed/install/controller-install-ubuntu.html
"""

EXAMPLES = r"""
- name: Databases, user and grants for Nova (root over the local socket)
  osdeploy.nova.service_db:
    password: "{{ nova_db_password }}"

- name: Same, explicitly, from a deployment host over TCP
  osdeploy.nova.service_db:
    databases: [nova_api, nova, nova_cell0]
    user: nova
    password: "{{ nova_db_password }}"
    host_patterns: [localhost, "%"]
    charset: utf8mb4
    collation: utf8mb4_general_ci
    login_host: controller
    login_user: admin
    login_password: "{{ mariadb_admin_password }}"
  register: service_db

- name: Tell what was done
  ansible.builtin.debug:
    msg: >-
      created {{ service_db.databases_created }}, grants changed: {{ service_db.grants_changed }},
      password rotated: {{ service_db.password_changed }}

- name: Connection string for [api_database] connection, password percent-encoded
  ansible.builtin.set_fact:
    nova_api_connection: "{{ 'nova' | osdeploy.nova.db_url(nova_db_password, 'controller', 'nova_api') }}"

- name: Remove the user (the databases and their data stay)
  osdeploy.nova.service_db:
    state: absent

- name: Remove the user and drop the databases with all data
  osdeploy.nova.service_db:
    state: absent
    drop_databases: true
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
  sample: [nova]
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
  sample: 10.11.19-MariaDB-0+deb12u1
"""

import traceback

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils import service_db as logic
from ansible_collections.osdeploy.nova.plugins.module_utils.mysql import MariaDBLoginModule, server_version, where


class ServiceDb(MariaDBLoginModule):
    argument_spec = dict(
        databases=dict(type="list", elements="str", default=list(logic.DEFAULT_DATABASES)),
        user=dict(type="str", default="nova"),
        password=dict(type="str", no_log=True),
        host_patterns=dict(type="list", elements="str", default=list(logic.DEFAULT_HOST_PATTERNS)),
        charset=dict(type="str", default="utf8mb4"),
        collation=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        drop_databases=dict(type="bool", default=False),
        revoke_other_grants=dict(type="bool", default=True),
        update_password=dict(type="str", default="always", choices=["always", "on_create"], no_log=False),
    )
    module_kwargs = dict(supports_check_mode=True, required_if=[("state", "present", ["password"])])

    def __init__(self):
        super(ServiceDb, self).__init__()
        self.conn = None

    def cleanup(self):
        if self.conn is not None:
            self.conn.close()

    def run(self):
        try:
            want = logic.validate(self.params)
        except logic.ValidationError as e:
            self.fail(str(e))
        self.conn = self.connect_login()
        cur = self.conn.cursor()
        state, charset, collation = self.read(cur, want)
        # plan
        if want["state"] == "present":
            plan = logic.plan_present(want, state, charset, collation)
        else:
            plan = logic.plan_absent(want, state)
        steps = logic.build_steps(plan, want, state)
        if want["state"] == "present":
            self.result.update(charset=charset, collation=collation)
        # apply
        if not self.check_mode:
            try:
                logic.run_steps(cur, steps)
            except logic.StepError as e:
                self.fail("%s on MariaDB at %s; done before the failure: %s" % (
                    e, self.place(), "; ".join(s.description for s in e.done) or "nothing"),
                    **logic.results(e.done))
        result = logic.results(steps)
        result.update(self.result)
        if self.diff_mode:
            result["diff"] = logic.diff(want, state, plan)
        return result

    def place(self):
        p = self.params
        return where(p["login_host"], p["login_port"], p["login_unix_socket"])

    def read(self, cur, want):
        """(State, charset, collation) of the server; reads only."""
        try:
            version = self.result["server_version"] = server_version(self.conn)
            logic.check_server(version)
            logic.check_not_login_account(logic.current_account(cur), want["user"], want["host_patterns"])
            charset = collation = None
            if want["state"] == "present":
                charset, collation = logic.resolve_charset(cur, want["charset"], want["collation"])
            compare = want["password"] if want["update_password"] == "always" else None
            state = logic.read_state(cur, want["user"], want["host_patterns"], want["databases"], compare)
        except logic.ValidationError as e:
            self.fail(str(e))
        except Exception as e:  # the driver's errors while reading
            self.fail("reading the current state from MariaDB at %s failed: %s (the login user needs to read the "
                      "mysql schema and information_schema)" % (self.place(), e), exception=traceback.format_exc())
        return state, charset, collation


def main():
    base.main(ServiceDb)


if __name__ == "__main__":
    main()
