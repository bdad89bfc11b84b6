#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: keystone_project_user
short_description: A Keystone project, a user of it with a password, and the user's roles on it, in one call
version_added: 0.1.0
description:
  - Ensures, in one openstacksdk session, what the install guides create one CLI command at a time for their
    demo project (C(openstack project create), C(user create), C(role create), C(role add)).
  - The project in its domain (created when absent; an existing one is left as it is).
  - The user in its domain, enabled, with the given password. The password is not reset on every run. The module
    asks Keystone for an unscoped token as the user with the wanted password; only when Keystone refuses it is
    the password set, and then the new password is verified by a second login. A disabled user is enabled and
    its password set.
  - The user's roles on the project. A role Keystone does not have is created (as the guide creates C(myrole)).
    Roles the user has beyond those are left alone.
  - Without O(user), the project and the roles alone (created when absent), as the install guides make the
    C(service) project and the roles the services' users get on it (C(openstack project create service),
    C(role create)).
author:
  - osdeploy.nova developers (@osdeploy)
extends_documentation_fragment:
  - osdeploy.nova.openstack
options:
  project:
    description: Name or id of the project.
    type: str
    required: true
  project_domain:
    description: Domain (name or id) of O(project).
    type: str
    default: Default
  project_description:
    description: The description of the project when it is created (an existing project keeps its own).
    type: str
  user:
    description:
      - Name or id of the user.
      - Without it, only the project and the roles (which then need no assignment) are ensured; O(password) goes
        with it.
    type: str
  user_domain:
    description: Domain (name or id) of O(user).
    type: str
    default: Default
  password:
    description: The user's password. Never logged or returned. Required with O(user).
    type: str
  roles:
    description:
      - Roles (names or ids) the user must have on O(project). Missing assignments are added, a role Keystone does
        not have is created; other roles of the user are kept. Without O(user), the roles Keystone must have.
      - C(member) is what the default policies of Nova, Neutron, Glance and Placement ask of a project's user
        for everyday work (create, list, reboot, delete servers; ports, images of the project).
    type: list
    elements: str
    default: [member]
attributes:
  check_mode:
    support: full
    description:
      - Reads everything and reports exactly the operations it would run (RV(actions)), without writing anything.
        The password check is a login, which is a read.
  diff_mode:
    support: none
    description: No diff; RV(actions) names each operation.
notes:
  - "Lockout: the login with a password that is no longer right counts as one failed attempt where Keystone has
    C([security_compliance] lockout_failure_attempts) set; the module follows it at once with the update and a
    successful login, which resets Keystone's counter (the same as M(osdeploy.nova.keystone_service_endpoint))."
seealso:
  - module: osdeploy.nova.keystone_service_endpoint
"""

EXAMPLES = r"""
- name: The guide's demo project and user, a member of it
  osdeploy.nova.keystone_project_user:
    cloud: osdeploy-admin
    project: myproject
    project_description: Demo Project
    user: myuser
    password: "{{ demo_password }}"
    roles: [member]

- name: With the guide's own role as well
  osdeploy.nova.keystone_project_user:
    cloud: osdeploy-admin
    project: myproject
    user: myuser
    password: "{{ demo_password }}"
    roles: [member, myrole]

- name: The service project and the roles the services' users get on it
  osdeploy.nova.keystone_project_user:
    cloud: osdeploy-admin
    project: service
    project_description: Service Project
    roles: [admin, service]
"""

RETURN = r"""
project_id:
  description: Id of the project; null in check mode when it would be created.
  returned: always
  type: str
  sample: 7c4d2a6f0e5b4f4c9d1e2f3a4b5c6d7e
user_id:
  description: Id of the user; null in check mode when it would be created, and without O(user).
  returned: always
  type: str
  sample: 5d3b0c1e8b2f4c0e9e1c9a1f0b6a2d11
actions:
  description: What was done (or, in check mode, would be done), one sentence per operation, in order. Empty when
    nothing changed.
  returned: always
  type: list
  elements: str
  sample:
    - create project myproject in domain Default
    - create user myuser in domain Default
    - add role member to user myuser on project myproject
password_action:
  description: What happened to the password (never the password itself). V(unchanged) the user logged in with it;
    V(set) it was (or in check mode would be) set; V(none) without O(user).
  returned: always
  type: str
  sample: unchanged
api_retries_used:
  description: How many transient failures were retried during this run.
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.project_user_module import ProjectUserModule


class KeystoneProjectUser(ProjectUserModule):
    """The module's options; the steps are ProjectUserModule's (module_utils/project_user_module.py)."""

    argument_spec = dict(
        project=dict(type="str", required=True),
        project_domain=dict(type="str", default="Default"),
        project_description=dict(type="str"),
        user=dict(type="str"),
        user_domain=dict(type="str", default="Default"),
        password=dict(type="str", no_log=True),
        roles=dict(type="list", elements="str", default=["member"]),
    )
    module_kwargs = dict(supports_check_mode=True, required_together=[("user", "password")])


def main():
    base.main(KeystoneProjectUser)


if __name__ == "__main__":
    main()
