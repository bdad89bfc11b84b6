#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: keystone_service_endpoint
short_description: Register an OpenStack service in Keystone (user, roles, service, endpoints) in one call
version_added: 0.1.0
description:
  - Ensures, in one openstacksdk session, everything the install guides create one CLI command at a
    time for a service such as Nova, Placement or Glance
    (C(openstack user create), C(role add), C(service create), C(endpoint create) x3).
  - The service user in its domain, enabled, with the given password; its roles on a project
    (by default C(admin) on C(service)); roles it has beyond those are left alone.
  - The service entity (name, type, description, enabled). Service entities with the same name and
    type left by earlier manual work are collapsed to one and reported in RV(duplicates_removed).
  - One endpoint per interface given in O(endpoints), in O(region). A wrong URL is corrected in
    place (the endpoint keeps its id); extra endpoints of the same interface are deleted and
    reported. Endpoints in other regions are never touched, and interfaces not listed in
    O(endpoints) are left alone.
  - The password is not reset on every run. The module asks Keystone for an unscoped token as the
    service user with the wanted password; only when Keystone refuses it is the password set, and
    then the new password is verified by a second login. See the notes about lockout.
author:
  - osdeploy.nova developers (@osdeploy)
extends_documentation_fragment:
  - osdeploy.nova.openstack
options:
  name:
    description: Name of the service entity, e.g. C(nova), C(placement), C(glance).
    type: str
    required: true
  service_type:
    description: Type of the service entity, e.g. C(compute), C(placement), C(image).
    type: str
    required: true
  description:
    description:
      - Description of the service entity, e.g. C(OpenStack Compute). When not given, an existing
        description is left alone.
    type: str
  enabled:
    description: Whether the service entity and its endpoints in O(region) are enabled.
    type: bool
    default: true
  user:
    description: The service user. Defaults to O(name).
    type: str
  password:
    description:
      - The service user's password. Required with O(state=present). Never logged or returned.
    type: str
  update_password:
    description:
      - V(when_changed) checks the password by logging in as the user and sets it only when
        Keystone refuses it.
      - V(on_create) sets it only when the user is created (no login attempt is ever made).
      - V(always) sets it on every run (the module then always reports a change).
    type: str
    choices: [when_changed, on_create, always]
    default: when_changed
  user_domain:
    description: Domain (name or id) of the service user.
    type: str
    default: Default
  project:
    description: Project (name or id) on which the user gets O(roles).
    type: str
    default: service
  project_domain:
    description: Domain (name or id) of O(project).
    type: str
    default: Default
  roles:
    description:
      - Roles (names or ids) the user must have on O(project). Missing ones are added; others are kept.
      - A role that Keystone does not have fails the run, naming it. In check mode it is taken as made by an
        earlier step of the same run (the preview warns and shows the assignment).
    type: list
    elements: str
    default: [admin]
  region:
    description: The region of the endpoints. It is created when it does not exist.
    type: str
    default: RegionOne
  endpoints:
    description:
      - "Interface (V(public), V(internal), V(admin)) to URL, for example
        C({public: 'http://controller:8774/v2.1', internal: 'http://controller:8774/v2.1'})."
      - Required with O(state=present).
    type: dict
  state:
    description:
      - V(present) ensures everything above.
      - V(absent) deletes the service's endpoints in O(region); then each service entity with that
        name and type that has no endpoint left in another region (Keystone deletes a service's
        endpoints in every region with it, so a service still used elsewhere is kept and a warning
        says so); then, with O(remove_user), the user, unless the service stays for another region.
    type: str
    choices: [present, absent]
    default: present
  remove_user:
    description:
      - With O(state=absent), whether the service user is deleted as well (its role assignments go
        with it). The user is the module's own (it creates it), so the default is V(true).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description:
      - Reads everything and reports exactly the operations it would run (RV(actions)), without
        writing anything. The password check is a login, which is a read.
  diff_mode:
    support: full
    description: Before and after of the user (without password), its roles, the service entities and the endpoints in O(region).
notes:
  - "Lockout: when Keystone has C([security_compliance] lockout_failure_attempts) set, the login
    with a password that is no longer right counts as one failed attempt. The module follows it
    at once with the password update and a successful login with the new password, and a
    successful login resets Keystone's counter, so a rotation never leaves more than one failed
    attempt behind. A converged run makes one successful login. Keystone checks the lockout before
    the password, so with C(lockout_failure_attempts = 1) a rotation would lock the user: there, use
    O(update_password=on_create) or V(always) (no login attempt before the update), or exempt the
    service user as Keystone's documentation advises for service accounts
    (C(openstack user set --ignore-lockout-failure-attempts nova))."
  - "With C([security_compliance] change_password_upon_first_use), a password set by an admin is
    expired at once, so the verification login fails and the module says so; exempt service users
    with C(openstack user set --ignore-change-password-upon-first-use)."
  - A disabled user cannot log in, so its password cannot be checked; enabling it also sets the password.
  - "Other reasons Keystone may refuse the login of a user with the right password (an expired password,
    a user already locked out) also lead to the password being set; if the new password still
    cannot log in, the module fails and says so."
  - The admin session is one openstacksdk connection; the password check is one extra token
    request as the service user, with the same TLS settings.
seealso:
  - name: Keystone service catalog
    description: Keystone's documentation of services and endpoints.
    link: https://docs.openstack.org/keystone/latest/admin/service-catalog.html
"""

EXAMPLES = r"""
- name: Register Nova in Keystone (user, admin role on project service, service, 3 endpoints)
  osdeploy.nova.keystone_service_endpoint:
    cloud: admin
    name: nova
    service_type: compute
    description: OpenStack Compute
    password: "{{ nova_keystone_password }}"
    region: RegionOne
    endpoints:
      public: "https://cloud.example.org:8774/v2.1"
      internal: "http://controller:8774/v2.1"
      admin: "http://controller:8774/v2.1"

- name: Register Placement, with the admin credentials given directly
  osdeploy.nova.keystone_service_endpoint:
    auth:
      auth_url: http://controller:5000/v3
      username: admin
      password: "{{ keystone_admin_password }}"
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    name: placement
    service_type: placement
    description: Placement API
    password: "{{ placement_keystone_password }}"
    endpoints:
      public: http://controller:8778
      internal: http://controller:8778
      admin: http://controller:8778

- name: Remove Glance's registration in RegionTwo only, keeping the user
  osdeploy.nova.keystone_service_endpoint:
    cloud: admin
    name: glance
    service_type: image
    region: RegionTwo
    state: absent
    remove_user: false
"""

RETURN = r"""
user_id:
  description: Id of the service user; null in check mode when it would be created, and after O(state=absent).
  returned: always
  type: str
  sample: 5d3b0c1e8b2f4c0e9e1c9a1f0b6a2d11
service_id:
  description: Id of the service entity; null in check mode when it would be created, and after O(state=absent).
  returned: always
  type: str
  sample: 0f5c1b1e7d6a4f1d8f7c4f9c2e3b4a55
endpoints:
  description: The endpoints in O(region), per interface given in O(endpoints) (empty after O(state=absent)).
  returned: always
  type: dict
  contains:
    public:
      description: The endpoint of this interface (the same keys for C(internal) and C(admin)).
      type: dict
      contains:
        id:
          description: Endpoint id; null in check mode when it would be created.
          type: str
        url:
          description: Its URL.
          type: str
          sample: http://controller:8774/v2.1
        region:
          description: Its region.
          type: str
          sample: RegionOne
        enabled:
          description: Whether it is enabled.
          type: bool
  sample:
    public: {id: 9a1e6b1c..., url: "http://controller:8774/v2.1", region: RegionOne, enabled: true}
actions:
  description: What was done (or, in check mode, would be done), one sentence per operation, in order. Empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample:
    - create user nova in domain Default
    - add role admin to user nova on project service
    - create service nova (compute)
    - create endpoint public http://controller:8774/v2.1 in RegionOne
duplicates_removed:
  description: Duplicate service entities and endpoints that were (or would be) deleted.
  returned: always
  type: dict
  contains:
    services:
      description: Deleted duplicate service entities.
      type: list
      elements: dict
      sample: [{id: 0f5c..., name: nova, type: compute}]
    endpoints:
      description: Deleted duplicate endpoints (id, interface, url, region).
      type: list
      elements: dict
      sample: [{id: 77ab..., interface: public, url: "http://controller:8774/v2.1", region: RegionOne}]
password_action:
  description:
    - What happened to the password (never the password itself). V(unchanged) the user logged in
      with it; V(set) it was set (user created, refused, not checkable, or O(update_password=always));
      V(not_checked) left alone (O(update_password=on_create)); V(none) with O(state=absent).
  returned: always
  type: str
  sample: unchanged
endpoints_removed:
  description: With O(state=absent), the endpoints deleted in O(region).
  returned: when state is absent
  type: list
  elements: dict
api_retries_used:
  description: How many transient failures were retried during this run.
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils.openstack import OpenStackModule, is_not_found
from ansible_collections.osdeploy.nova.plugins.module_utils import keystone as ks


# how the attributes a plan changes are named in openstacksdk's update_* calls
_SDK_ATTRS = {"enabled": "is_enabled", "description": "description", "url": "url"}


def sdk_attrs(changed):
    """The keyword arguments of an SDK update for the attributes a plan operation changes."""
    return dict((_SDK_ATTRS[name], value) for name, value in changed.items() if name in _SDK_ATTRS)


class KeystoneServiceEndpoint(OpenStackModule):
    argument_spec = dict(
        name=dict(type="str", required=True),
        service_type=dict(type="str", required=True),
        description=dict(type="str"),
        enabled=dict(type="bool", default=True),
        user=dict(type="str"),
        password=dict(type="str", no_log=True),
        update_password=dict(type="str", default="when_changed", no_log=False, choices=["when_changed", "on_create", "always"]),
        user_domain=dict(type="str", default="Default"),
        project=dict(type="str", default="service"),
        project_domain=dict(type="str", default="Default"),
        roles=dict(type="list", elements="str", default=["admin"]),
        region=dict(type="str", default="RegionOne"),
        endpoints=dict(type="dict"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        remove_user=dict(type="bool", default=True),
    )
    module_kwargs = dict(
        supports_check_mode=True,
        required_if=[("state", "present", ("password", "endpoints"))],
    )

    # -- reading --------------------------------------------------------------
    def find_domain(self, name_or_id, option):
        ident = self.conn.identity
        domain = self.lookup(ident.domains, ident.get_domain, name_or_id, "domain")
        if domain is None:
            self.fail("%s: domain %r does not exist in Keystone at %s" % (option, name_or_id, self.auth_url))
        return domain

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
        from keystoneauth1 import session as ks_session
        from keystoneauth1.identity import generic, v3
        import keystoneauth1.exceptions

        auth_url = self.auth_url or self.conn.identity.get_endpoint()
        # no project: an unscoped token, so the answer does not depend on the user's roles
        if auth_url.rstrip("/").endswith("/v3"):
            plugin = v3.Password(auth_url=auth_url, username=user_name, user_domain_id=domain_id,
                                 password=self.params["password"])
        else:  # an unversioned auth URL: let keystoneauth discover the v3 API
            plugin = generic.Password(auth_url=auth_url, username=user_name, user_domain_id=domain_id,
                                      password=self.params["password"])
        admin = self.conn.session
        sess = ks_session.Session(auth=plugin, verify=admin.verify, cert=admin.cert,
                                  timeout=self.params.get("api_timeout"))

        def attempt():
            try:
                sess.get_token()
                return True
            except keystoneauth1.exceptions.Unauthorized:
                return False

        return self.call(attempt, doing="check the password of user %s" % user_name)

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


def main():
    base.main(KeystoneServiceEndpoint)


if __name__ == "__main__":
    main()
