# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The keystone_service_endpoint module's steps: ``KeystoneServiceEndpointModule``.

One run, in one openstacksdk session (module_utils/openstack.py): check the
endpoints, read what Keystone holds for the service (its user and the user's
roles on the project, every service entity with the name and type, their
endpoints in every region, the region, whether the password logs in) into the
plain snapshot of module_utils/keystone.py, plan there (``plan_present``,
``plan_absent``), and unless in check mode execute the operations in order and
verify a password that was set by logging in with it. The module file is this
class with its options.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.osdeploy.nova.plugins.module_utils.openstack import OpenStackModule, is_not_found
from ansible_collections.osdeploy.nova.plugins.module_utils import keystone as ks


# how the attributes a plan changes are named in openstacksdk's update_* calls
_SDK_ATTRS = {"enabled": "is_enabled", "description": "description", "url": "url"}


def sdk_attrs(changed):
    """The keyword arguments of an SDK update for the attributes a plan operation changes."""
    return dict((_SDK_ATTRS[name], value) for name, value in changed.items() if name in _SDK_ATTRS)


class KeystoneServiceEndpointModule(OpenStackModule):
    """Reads, plans and writes one service's registration (the options: the keystone_service_endpoint module's)."""

    # -- reading --------------------------------------------------------------
    def region_exists(self, region):
        ident = self.conn.identity

        def get():
            try:
                return ident.get_region(region) is not None
            except Exception as e:
                if is_not_found(e):
                    return False
                raise

        return self.call(get, doing="look up region %s" % region)

    def read_services(self):
        p = self.params
        found = self.listing(self.conn.identity.services, type=p["service_type"],
                             doing="list the services of type %s" % p["service_type"])
        services = [ks.service_dict(s) for s in found
                    if s.name == p["name"] and s.type == p["service_type"]]
        return services

    def read_endpoints(self, services):
        endpoints = []
        for svc in services:
            found = self.listing(self.conn.identity.endpoints, service_id=svc["id"],
                                 doing="list the endpoints of service %s" % svc["id"])
            endpoints.extend(ks.endpoint_dict(e) for e in found)
        return endpoints

    def password_logs_in(self, user_name, domain_id):
        """Whether Keystone gives the user an (unscoped) token for the wanted password."""
        return super(KeystoneServiceEndpointModule, self).password_logs_in(user_name, domain_id, self.params["password"])

    # -- the run: read -> plan -> apply ------------------------------------------
    def run(self):
        p = self.params
        present = p["state"] == "present"
        if present:
            problems = ks.validate_endpoints(p["endpoints"])
            if not p["endpoints"]:
                problems.append("endpoints: give at least one interface (public, internal, admin) with its URL")
            if problems:
                self.fail("; ".join(problems))
        self.connect()
        snapshot, want, role_names = self.read()
        if present:
            plan = ks.plan_present(snapshot, want)
        else:
            plan = ks.plan_absent(snapshot, want, remove_user=p["remove_user"])

        result = dict(changed=bool(plan["ops"]), actions=[op["msg"] for op in plan["ops"]],
                      user_id=plan["user_id"], service_id=plan["service_id"], endpoints=plan["endpoints"],
                      duplicates_removed=plan["duplicates_removed"])
        if not present:
            result["endpoints_removed"] = plan["endpoints_removed"]
        if self.diff_mode:
            result["diff"] = dict(before=ks.summarize(snapshot, p["region"], role_names),
                                  after=ks.summarize(ks.simulate(snapshot, plan), p["region"], role_names))
        password_set = any(op["op"] == "create_user" or (op["op"] == "update_user" and op["password"])
                           for op in plan["ops"])
        if not self.check_mode:
            self.execute(plan, result)
            if present and password_set and not self.password_logs_in(want["user"], want["user_domain_id"]):
                self.fail("the password of user %s was set, but Keystone at %s still refuses it: the account "
                          "may be locked out ([security_compliance] lockout_failure_attempts) or the password "
                          "rejected by a password policy" % (want["user"], self.auth_url))
        if present:
            result["password_action"] = "set" if password_set else (
                "not_checked" if snapshot["password_state"] == ks.PASSWORD_NOT_CHECKED else "unchanged")
        else:
            result["password_action"] = "none"
        for warning in plan["warnings"]:
            self.warn(warning)
        result["api_retries_used"] = self.retry_count
        return result

    def read(self):
        """What Keystone holds for this service: (snapshot, want, role names by id)."""
        p = self.params
        ident = self.conn.identity
        user_name = p["user"] or p["name"]
        present = p["state"] == "present"
        user_domain = self.find_domain(p["user_domain"], "user_domain")
        user = ks.user_dict(self.lookup(ident.users, ident.get_user, user_name, "user", domain_id=user_domain.id))
        project = None
        roles = []
        role_names = {}
        if present:
            if p["project_domain"] == p["user_domain"]:
                project_domain = user_domain
            else:
                project_domain = self.find_domain(p["project_domain"], "project_domain")
            project = self.lookup(ident.projects, ident.get_project, p["project"], "project",
                                  domain_id=project_domain.id)
            if project is None:
                self.fail("project: project %r does not exist in domain %r (Keystone at %s); create it first, "
                          "e.g. openstack project create --domain %s %s"
                          % (p["project"], p["project_domain"], self.auth_url, p["project_domain"], p["project"]))
            for role_name in p["roles"]:
                role = self.lookup(ident.roles, ident.get_role, role_name, "role")
                if role is None and self.check_mode:
                    # a preview: an earlier task of the same run (the baseline's) creates it
                    self.warn("roles: role %r does not exist in Keystone at %s yet; this preview assumes an earlier "
                              "step creates it (the run fails here if none does)" % (role_name, self.auth_url))
                    role_names["(new) " + role_name] = role_name
                    roles.append((role_name, "(new) " + role_name))
                    continue
                if role is None:
                    self.fail("roles: role %r does not exist in Keystone at %s; create it first, e.g. openstack "
                              "role create %s" % (role_name, self.auth_url, role_name))
                roles.append((role.name, role.id))
                role_names[role.id] = role.name

        role_ids = set()
        if user is not None and project is not None:
            role_ids = ks.assigned_role_ids(self.listing(
                ident.role_assignments, user_id=user["id"], scope_project_id=project.id,
                doing="list the roles of user %s" % user_name))
        services = self.read_services()
        endpoints = self.read_endpoints(services)
        region_exists = self.region_exists(p["region"]) if present else True

        password_state = None
        if present and user is not None:
            if p["update_password"] == "on_create":
                password_state = ks.PASSWORD_NOT_CHECKED
            elif p["update_password"] == "when_changed":
                if user["enabled"]:
                    ok = self.password_logs_in(user_name, user_domain.id)
                    password_state = ks.PASSWORD_OK if ok else ks.PASSWORD_WRONG
                else:
                    password_state = ks.PASSWORD_UNKNOWN

        snapshot = dict(user=user, password_state=password_state, role_ids=role_ids, services=services,
                        endpoints=endpoints, region_exists=region_exists)
        want = dict(name=p["name"], type=p["service_type"], description=p["description"], enabled=p["enabled"],
                    region=p["region"], endpoints=p["endpoints"] or {}, user=user_name,
                    user_domain=p["user_domain"], user_domain_id=user_domain.id,
                    project=p["project"], project_id=project.id if project is not None else None,
                    roles=roles, update_password=p["update_password"], state=p["state"])
        return snapshot, want, role_names

    # -- writing ----------------------------------------------------------------
    def execute(self, plan, result):
        p = self.params
        ident = self.conn.identity
        service_id = plan["service_id"]
        user_id = plan["user_id"]
        for op in plan["ops"]:
            kind = op["op"]
            doing = op["msg"]
            if kind == "create_region":
                self.call(ident.create_region, id=op["region"], doing=doing,
                          recheck=lambda: ident.get_region(op["region"]))
            elif kind == "create_user":
                user = self.call(ident.create_user, name=op["name"], domain_id=op["domain_id"],
                                 password=p["password"], is_enabled=True, doing=doing,
                                 recheck=lambda: ident.find_user(op["name"], domain_id=op["domain_id"]))
                user_id = user.id
            elif kind == "update_user":
                attrs = sdk_attrs(op["attrs"])
                if op["password"]:
                    attrs["password"] = p["password"]
                self.call(ident.update_user, op["user_id"], doing=doing, **attrs)
            elif kind == "delete_user":
                self.call(ident.delete_user, op["user_id"], doing=doing, delete=True)
            elif kind == "add_role":
                self.call(ident.assign_project_role_to_user, op["project_id"], user_id, op["role_id"], doing=doing)
            elif kind == "create_service":
                known = set(s["id"] for s in self.read_services())

                def landed_service():
                    new = [s for s in self.read_services() if s["id"] not in known]
                    return new[0] if new else None

                attrs = dict(name=op["name"], type=op["type"], is_enabled=op["enabled"])
                if op["description"] is not None:
                    attrs["description"] = op["description"]
                created = self.call(ident.create_service, doing=doing, recheck=landed_service, **attrs)
                service_id = created["id"] if isinstance(created, dict) else created.id
            elif kind == "update_service":
                self.call(ident.update_service, op["service_id"], doing=doing, **sdk_attrs(op["attrs"]))
            elif kind == "delete_service":
                self.call(ident.delete_service, op["service_id"], doing=doing, delete=True)
            elif kind == "delete_endpoint":
                self.call(ident.delete_endpoint, op["endpoint_id"], doing=doing, delete=True)
            elif kind == "update_endpoint":
                self.call(ident.update_endpoint, op["endpoint_id"], doing=doing, **sdk_attrs(op["attrs"]))
            elif kind == "create_endpoint":
                def landed_endpoint(op=op):
                    for e in ident.endpoints(service_id=service_id, interface=op["interface"], region_id=op["region"]):
                        if e.url == op["url"]:
                            return e
                    return None

                created = self.call(ident.create_endpoint, service_id=service_id, interface=op["interface"],
                                    url=op["url"], region_id=op["region"], is_enabled=op["enabled"],
                                    doing=doing, recheck=landed_endpoint)
                result["endpoints"][op["interface"]]["id"] = created.id
        result["user_id"] = user_id if p["state"] == "present" else None
        result["service_id"] = service_id if p["state"] == "present" else None
