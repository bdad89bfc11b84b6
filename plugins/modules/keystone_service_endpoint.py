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
from ansible_collections.osdeploy.nova.plugins.module_utils.keystone_module import KeystoneServiceEndpointModule


class KeystoneServiceEndpoint(KeystoneServiceEndpointModule):
    """The registration with its options: the steps are module_utils/keystone_module.py's."""

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


def main():
    base.main(KeystoneServiceEndpoint)


if __name__ == "__main__":
    main()
