# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The keystone_project_user module: ``ProjectUserModule``, and what it decides as a plain function (``plan``).

A project, a user of it with a password, and the user's roles on the project,
as the install guides make their demo project (``openstack project create``,
``user create``, ``role create``, ``role add``); without a user, the project and
the roles, as they make the service project and the roles of the services'
users. The module reads Keystone into
a snapshot (plain dicts), ``plan()`` turns it into the operations to run, and
the module runs them (in check mode: only reports them). The password is
checked by a login, never reset when it logs in. The module file is this class
with its options.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.osdeploy.nova.plugins.module_utils import keystone as ks
from ansible_collections.osdeploy.nova.plugins.module_utils.openstack import OpenStackModule


def plan(snapshot, want):
    """The operations that make Keystone hold what want says, in order, each a dict with ``op`` and ``msg``.

    snapshot: project ({id} or None), user ({id, enabled} or None), password_ok (whether the user logged in with
    the wanted password; None when not checked), roles ({name: id or None when Keystone lacks it}) and role_ids
    (the ids the user has on the project). want: project, project_domain, user (None: the project and the roles
    only), user_domain, roles (names).
    """
    ops = []
    if snapshot["project"] is None:
        ops.append(dict(op="create_project", msg="create project %s in domain %s" % (
            want["project"], want["project_domain"])))
    user = snapshot["user"]
    if want["user"] is None:
        pass
    elif user is None:
        ops.append(dict(op="create_user", msg="create user %s in domain %s" % (want["user"], want["user_domain"])))
    elif not user["enabled"]:
        # a disabled user cannot log in, so its password cannot be checked: it is set with the enabling
        ops.append(dict(op="update_user", enable=True, msg="enable user %s and set its password" % want["user"]))
    elif not snapshot["password_ok"]:
        ops.append(dict(op="update_user", enable=False, msg="set the password of user %s" % want["user"]))
    for name in dict.fromkeys(want["roles"]):  # each once, in order
        role_id = snapshot["roles"].get(name)
        if role_id is None:
            ops.append(dict(op="create_role", role=name, msg="create role %s" % name))
        if want["user"] is not None and (role_id is None or role_id not in snapshot["role_ids"]):
            ops.append(dict(op="add_role", role=name, msg="add role %s to user %s on project %s" % (
                name, want["user"], want["project"])))
    return ops


class ProjectUserModule(OpenStackModule):
    """A project, its user and the user's roles on it (the options: the keystone_project_user module's)."""

    def read(self):
        """(snapshot, ids): what Keystone holds, for plan(); ids holds the domains', project's and user's ids."""
        p = self.params
        ident = self.conn.identity
        project_domain = self.find_domain(p["project_domain"], "project_domain")
        user_domain = user = None
        if p["user"] is not None:
            user_domain = (project_domain if p["user_domain"] == p["project_domain"]
                           else self.find_domain(p["user_domain"], "user_domain"))
            user = ks.user_dict(self.lookup(ident.users, ident.get_user, p["user"], "user",
                                            domain_id=user_domain.id))
        project = self.lookup(ident.projects, ident.get_project, p["project"], "project",
                              domain_id=project_domain.id)
        roles = {}
        for name in p["roles"]:
            role = self.lookup(ident.roles, ident.get_role, name, "role")
            roles[name] = role.id if role is not None else None
        role_ids = set()
        if user is not None and project is not None:
            role_ids = ks.assigned_role_ids(self.listing(
                ident.role_assignments, user_id=user["id"], scope_project_id=project.id,
                doing="list the roles of user %s" % p["user"]))
        password_ok = None
        if user is not None and user["enabled"]:
            password_ok = self.password_logs_in(p["user"], user_domain.id, p["password"])
        snapshot = dict(project=dict(id=project.id) if project is not None else None, user=user,
                        password_ok=password_ok, roles=roles, role_ids=role_ids)
        ids = dict(user_domain=user_domain.id if user_domain is not None else None, project_domain=project_domain.id,
                   project=project.id if project is not None else None, user=user["id"] if user else None)
        return snapshot, ids

    def run(self):
        p = self.params
        self.connect()
        snapshot, ids = self.read()
        ops = plan(snapshot, dict(p))
        result = dict(changed=bool(ops), actions=[op["msg"] for op in ops], project_id=ids["project"],
                      user_id=ids["user"], password_action="unchanged" if p["user"] is not None else "none")
        if any(op["op"] in ("create_user", "update_user") for op in ops):
            result["password_action"] = "set"
        if not self.check_mode:
            self.execute(ops, snapshot, ids)
            result.update(project_id=ids["project"], user_id=ids["user"])
            if result["password_action"] == "set" and not self.password_logs_in(
                    p["user"], ids["user_domain"], p["password"]):
                self.fail("the password of user %s was set, but Keystone at %s still refuses it: the account may be "
                          "locked out ([security_compliance] lockout_failure_attempts) or the password rejected by a "
                          "password policy" % (p["user"], self.auth_url))
        result["api_retries_used"] = self.retry_count
        return result

    def execute(self, ops, snapshot, ids):
        """Run the plan's operations; ids gains the ids of what was created."""
        p = self.params
        ident = self.conn.identity
        roles = dict(snapshot["roles"])
        for op in ops:
            doing = op["msg"]
            if op["op"] == "create_project":
                attrs = dict(name=p["project"], domain_id=ids["project_domain"], is_enabled=True)
                if p["project_description"] is not None:
                    attrs["description"] = p["project_description"]
                ids["project"] = self.call(ident.create_project, doing=doing, recheck=lambda: ident.find_project(
                    p["project"], domain_id=ids["project_domain"]), **attrs).id
            elif op["op"] == "create_user":
                ids["user"] = self.call(ident.create_user, name=p["user"], domain_id=ids["user_domain"],
                                        password=p["password"], is_enabled=True, doing=doing,
                                        recheck=lambda: ident.find_user(p["user"], domain_id=ids["user_domain"])).id
            elif op["op"] == "update_user":
                attrs = dict(password=p["password"])
                if op["enable"]:
                    attrs["is_enabled"] = True
                self.call(ident.update_user, ids["user"], doing=doing, **attrs)
            elif op["op"] == "create_role":
                roles[op["role"]] = self.call(ident.create_role, name=op["role"], doing=doing,
                                              recheck=lambda op=op: ident.find_role(op["role"])).id
            elif op["op"] == "add_role":
                self.call(ident.assign_project_role_to_user, ids["project"], ids["user"], roles[op["role"]],
                          doing=doing)
