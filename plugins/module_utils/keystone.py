# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What to create, update and delete in Keystone to register a service: plain functions.

The module (its steps are module_utils/keystone_module.py) reads the current
state (the service user, its role assignments on the project, every service
entity with the wanted name and type, their endpoints in every region, whether
the region exists) into plain dicts, and
these functions turn that snapshot and the wanted state into an ordered list of
operations, the predicted result and the list of duplicates removed. The module
executes the operations (or, in check mode, only reports them). No SDK and no
Ansible here, so the unit tests need neither.

Resources are dicts:
  user      {id, name, domain_id, enabled}
  service   {id, name, type, description, enabled}
  endpoint  {id, service_id, interface, url, region_id, enabled}
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

INTERFACES = ("public", "internal", "admin")

# password_state values (what the module learnt about the user's password)
PASSWORD_OK = "ok"            # the user authenticated with the wanted password
PASSWORD_WRONG = "wrong"      # Keystone refused the wanted password
PASSWORD_UNKNOWN = "unknown"  # could not be checked (user disabled): it will be set
PASSWORD_NOT_CHECKED = "not_checked"  # update_password=on_create: left alone


# -- converting SDK resources (duck-typed: any object with these attributes) -----
def _get(obj, attr, default=None):
    if isinstance(obj, dict):
        return obj.get(attr, default)
    return getattr(obj, attr, default)


def _enabled(obj):
    value = _get(obj, "is_enabled")
    if value is None:
        value = _get(obj, "enabled")
    return True if value is None else bool(value)


def user_dict(obj):
    if obj is None:
        return None
    return dict(id=_get(obj, "id"), name=_get(obj, "name"), domain_id=_get(obj, "domain_id"),
                enabled=_enabled(obj))


def service_dict(obj):
    return dict(id=_get(obj, "id"), name=_get(obj, "name"), type=_get(obj, "type"),
                description=_get(obj, "description"), enabled=_enabled(obj))


def endpoint_dict(obj):
    region = _get(obj, "region_id")
    if region is None:
        region = _get(obj, "region")
    return dict(id=_get(obj, "id"), service_id=_get(obj, "service_id"), interface=_get(obj, "interface"),
                url=_get(obj, "url"), region_id=region, enabled=_enabled(obj))


def assigned_role_ids(assignments):
    """Role ids from role assignment objects/dicts (their ``role`` is a dict with ``id``)."""
    ids = set()
    for item in assignments:
        role = _get(item, "role") or {}
        role_id = role.get("id") if isinstance(role, dict) else _get(role, "id")
        if role_id:
            ids.add(role_id)
    return ids


# -- validation -------------------------------------------------------------------
def validate_endpoints(endpoints):
    """Return a list of problems with the ``endpoints`` option (interface -> URL)."""
    problems = []
    if not isinstance(endpoints, dict):
        return ["endpoints must be a mapping of interface (public, internal, admin) to URL"]
    for interface, url in endpoints.items():
        if interface not in INTERFACES:
            problems.append("endpoints: unknown interface %r (use public, internal or admin)" % (interface,))
        elif not isinstance(url, str) or "://" not in url:
            problems.append("endpoints.%s: %r is not a URL like http://controller:8774/v2.1" % (interface, url))
    return problems


# -- choosing among duplicates --------------------------------------------------
def _endpoints_of(endpoints, service_id, region=None, other_regions=False):
    out = []
    for ep in endpoints:
        if ep["service_id"] != service_id:
            continue
        if region is None or (ep["region_id"] == region) != other_regions:
            out.append(ep)
    return out


def choose_service(services, endpoints, region):
    """Pick the service entity to keep among those with the wanted name and type.

    Returns (keeper or None, services to delete, services kept although duplicate).
    Deleting a service deletes its endpoints in EVERY region (Keystone cascades), so
    a duplicate that has endpoints in another region is never deleted: it is kept
    and reported. The keeper is, in order: one used in another region, the one with
    the most endpoints in this region, an enabled one, the smallest id (stable).
    """
    if not services:
        return None, [], []

    def key(svc):
        others = len(_endpoints_of(endpoints, svc["id"], region, other_regions=True))
        here = len(_endpoints_of(endpoints, svc["id"], region))
        return (0 if others else 1, -here, 0 if svc["enabled"] else 1, svc["id"] or "")

    ordered = sorted(services, key=key)
    keeper = ordered[0]
    delete, kept = [], []
    for svc in ordered[1:]:
        if _endpoints_of(endpoints, svc["id"], region, other_regions=True):
            kept.append(svc)
        else:
            delete.append(svc)
    return keeper, delete, kept


def choose_endpoint(candidates, url):
    """Among endpoints of one interface, keep the one with the wanted URL, else an enabled one."""
    def key(ep):
        return (0 if ep["url"] == url else 1, 0 if ep["enabled"] else 1, ep["id"] or "")

    ordered = sorted(candidates, key=key)
    return ordered[0], ordered[1:]


# -- describing operations ------------------------------------------------------
def _op(op, msg, **data):
    data.update(op=op, msg=msg)
    return data


def _ep_text(ep):
    return "%s %s in %s (%s)" % (ep["interface"], ep["url"], ep["region_id"], ep["id"])


def _svc_text(svc):
    return "%s (%s, %s)" % (svc["name"], svc["type"], svc["id"])


def _changes_text(old, new):
    return ", ".join("%s %r -> %r" % (k, old.get(k), new[k]) for k in sorted(new))


# -- planning -------------------------------------------------------------------
def plan_present(snapshot, want):
    """The operations that bring Keystone to the wanted state, and the predicted result.

    snapshot keys: user (dict or None), password_state, role_ids (set), services
    (list: every entity with the wanted name and type), endpoints (list: all their
    endpoints, every region), region_exists (bool).

    want keys: name, type, description (None = leave alone), enabled, region,
    endpoints (interface -> URL), user, user_domain_id, user_domain (for messages),
    project_id, project (for messages), roles (list of (name, id)),
    update_password (always, when_changed, on_create).

    Returns a dict: ops (ordered), service_id and user_id (None when created by
    an op), endpoints (interface -> {id, url, region, enabled}; id None when
    created by an op), duplicates_removed {services, endpoints}, warnings.
    """
    ops = []
    warnings = []
    region = want["region"]
    dup_services, dup_endpoints = [], []

    if not snapshot.get("region_exists", True):
        ops.append(_op("create_region", "create region %s" % region, region=region))

    # the user, its password and its roles
    user = snapshot.get("user")
    if user is None:
        ops.append(_op("create_user", "create user %s in domain %s" % (want["user"], want["user_domain"]),
                       name=want["user"], domain_id=want["user_domain_id"]))
        missing_roles = list(want["roles"])
    else:
        updates = {}
        if not user["enabled"]:
            updates["enabled"] = True
        state = snapshot.get("password_state")
        set_password = want.get("update_password") == "always" or state in (PASSWORD_WRONG, PASSWORD_UNKNOWN)
        if want.get("update_password") == "on_create":
            set_password = False
        if updates or set_password:
            what = []
            if updates:
                what.append("enable it")
            if set_password:
                what.append("set its password")
            ops.append(_op("update_user", "update user %s: %s" % (want["user"], " and ".join(what)),
                           user_id=user["id"], attrs=updates, password=set_password))
        have = snapshot.get("role_ids") or set()
        missing_roles = [(n, i) for (n, i) in want["roles"] if i not in have]
    for role_name, role_id in missing_roles:
        ops.append(_op("add_role", "add role %s to user %s on project %s" % (role_name, want["user"], want["project"]),
                       role_id=role_id, role=role_name, project_id=want["project_id"]))

    # the service entity, and duplicates of it
    services = snapshot.get("services") or []
    endpoints = snapshot.get("endpoints") or []
    keeper, delete_services, kept_services = choose_service(services, endpoints, region)
    if keeper is None:
        ops.append(_op("create_service", "create service %s (%s)" % (want["name"], want["type"]),
                       name=want["name"], type=want["type"], description=want.get("description"),
                       enabled=want["enabled"]))
        service_id = None
    else:
        service_id = keeper["id"]
        changes = {}
        if want.get("description") is not None and keeper["description"] != want["description"]:
            changes["description"] = want["description"]
        if keeper["enabled"] != want["enabled"]:
            changes["enabled"] = want["enabled"]
        if changes:
            ops.append(_op("update_service", "update service %s: %s" % (_svc_text(keeper), _changes_text(keeper, changes)),
                           service_id=service_id, attrs=changes))
    for svc in kept_services:
        warnings.append("service %s duplicates %s but has endpoints in other regions than %s; its endpoints "
                        "in %s are removed but the entity stays (deleting a service deletes its endpoints in "
                        "every region)"
                        % (_svc_text(svc), _svc_text(keeper), region, region))

    # endpoints of the keeper in this region: one per wanted interface
    result_endpoints = {}
    here = _endpoints_of(endpoints, service_id, region) if keeper is not None else []
    update_ops, create_ops, delete_ops = [], [], []
    for interface in INTERFACES:
        if interface not in want["endpoints"]:
            continue
        url = want["endpoints"][interface]
        group = [ep for ep in here if ep["interface"] == interface]
        if not group:
            create_ops.append(_op("create_endpoint", "create endpoint %s %s in %s" % (interface, url, region),
                                  interface=interface, url=url, region=region, enabled=want["enabled"]))
            result_endpoints[interface] = dict(id=None, url=url, region=region, enabled=want["enabled"])
            continue
        best, others = choose_endpoint(group, url)
        changes = {}
        if best["url"] != url:
            changes["url"] = url
        if best["enabled"] != want["enabled"]:
            changes["enabled"] = want["enabled"]
        if changes:
            update_ops.append(_op("update_endpoint", "update endpoint %s: %s" % (_ep_text(best), _changes_text(best, changes)),
                                  endpoint_id=best["id"], interface=interface, attrs=changes))
        for ep in others:
            delete_ops.append(_op("delete_endpoint", "delete duplicate endpoint %s" % _ep_text(ep), endpoint_id=ep["id"]))
            dup_endpoints.append(dict(id=ep["id"], interface=ep["interface"], url=ep["url"], region=ep["region_id"]))
        result_endpoints[interface] = dict(id=best["id"], url=url, region=region, enabled=want["enabled"])

    ops.extend(delete_ops)
    # duplicate services: their endpoints here are duplicates too (explicitly deleted first,
    # so that the report lists them), then the entity itself
    for svc in kept_services:
        for ep in _endpoints_of(endpoints, svc["id"], region):
            ops.append(_op("delete_endpoint", "delete endpoint %s of duplicate service %s" % (_ep_text(ep), svc["id"]),
                           endpoint_id=ep["id"]))
            dup_endpoints.append(dict(id=ep["id"], interface=ep["interface"], url=ep["url"], region=ep["region_id"]))
    for svc in delete_services:
        for ep in _endpoints_of(endpoints, svc["id"], region):
            ops.append(_op("delete_endpoint", "delete endpoint %s of duplicate service %s" % (_ep_text(ep), svc["id"]),
                           endpoint_id=ep["id"]))
            dup_endpoints.append(dict(id=ep["id"], interface=ep["interface"], url=ep["url"], region=ep["region_id"]))
        ops.append(_op("delete_service", "delete duplicate service %s" % _svc_text(svc), service_id=svc["id"]))
        dup_services.append(dict(id=svc["id"], name=svc["name"], type=svc["type"]))
    ops.extend(update_ops)
    ops.extend(create_ops)

    return dict(ops=ops, service_id=service_id, user_id=user["id"] if user else None,
                endpoints=result_endpoints, warnings=warnings,
                duplicates_removed=dict(services=dup_services, endpoints=dup_endpoints))


def plan_absent(snapshot, want, remove_user=True):
    """Operations that remove what the module owns, never touching other regions.

    Removed: every endpoint of the service (all entities with the wanted name and
    type) in the region; each such service entity that has no endpoint left in
    another region; the user, when remove_user is true and no service entity had
    to stay for another region (a user still serving another region is kept).
    """
    ops, warnings = [], []
    region = want["region"]
    services = snapshot.get("services") or []
    endpoints = snapshot.get("endpoints") or []
    removed_endpoints = []
    staying = []
    for svc in sorted(services, key=lambda s: s["id"] or ""):
        for ep in _endpoints_of(endpoints, svc["id"], region):
            ops.append(_op("delete_endpoint", "delete endpoint %s" % _ep_text(ep), endpoint_id=ep["id"]))
            removed_endpoints.append(dict(id=ep["id"], interface=ep["interface"], url=ep["url"], region=ep["region_id"]))
        if _endpoints_of(endpoints, svc["id"], region, other_regions=True):
            staying.append(svc)
            warnings.append("service %s kept: it still has endpoints in other regions than %s" % (_svc_text(svc), region))
        else:
            ops.append(_op("delete_service", "delete service %s" % _svc_text(svc), service_id=svc["id"]))
    user = snapshot.get("user")
    if user is not None and remove_user:
        if staying:
            warnings.append("user %s kept: the service is still registered in other regions" % want["user"])
        else:
            ops.append(_op("delete_user", "delete user %s" % want["user"], user_id=user["id"]))
    return dict(ops=ops, warnings=warnings, endpoints_removed=removed_endpoints,
                service_id=None, user_id=None, endpoints={},
                duplicates_removed=dict(services=[], endpoints=[]))


def simulate(snapshot, plan):
    """The snapshot as it will be after the plan ran (ids of created things are None).

    Used for check mode and --diff, and by the unit tests to prove that planning
    again on the result gives no operation.
    """
    user = dict(snapshot["user"]) if snapshot.get("user") else None
    role_ids = set(snapshot.get("role_ids") or ())
    services = [dict(s) for s in snapshot.get("services") or []]
    endpoints = [dict(e) for e in snapshot.get("endpoints") or []]
    region_exists = snapshot.get("region_exists", True)
    password_state = snapshot.get("password_state")
    for op in plan["ops"]:
        kind = op["op"]
        if kind == "create_region":
            region_exists = True
        elif kind == "create_user":
            user = dict(id=None, name=op["name"], domain_id=op["domain_id"], enabled=True)
            password_state = PASSWORD_OK
        elif kind == "update_user":
            user.update(op["attrs"])
            if op["password"]:
                password_state = PASSWORD_OK
        elif kind == "delete_user":
            user, role_ids = None, set()
        elif kind == "add_role":
            role_ids.add(op["role_id"])
        elif kind == "create_service":
            services.append(dict(id=None, name=op["name"], type=op["type"], description=op["description"],
                                 enabled=op["enabled"]))
        elif kind == "update_service":
            for s in services:
                if s["id"] == op["service_id"]:
                    s.update(op["attrs"])
        elif kind == "delete_service":
            services = [s for s in services if s["id"] != op["service_id"]]
            endpoints = [e for e in endpoints if e["service_id"] != op["service_id"]]
        elif kind == "delete_endpoint":
            endpoints = [e for e in endpoints if e["id"] != op["endpoint_id"]]
        elif kind == "update_endpoint":
            for e in endpoints:
                if e["id"] == op["endpoint_id"]:
                    e.update(op["attrs"])
        elif kind == "create_endpoint":
            endpoints.append(dict(id=None, service_id=plan["service_id"], interface=op["interface"],
                                  url=op["url"], region_id=op["region"], enabled=op["enabled"]))
    if password_state == PASSWORD_UNKNOWN and user and user["enabled"]:
        password_state = PASSWORD_OK
    return dict(user=user, role_ids=role_ids, services=services, endpoints=endpoints,
                region_exists=region_exists, password_state=password_state)


def summarize(snapshot, region, role_names=None):
    """A secret-free picture of a snapshot, for --diff: user, roles, services, endpoints here."""
    names = role_names or {}
    user = snapshot.get("user")
    if user is not None:
        user = dict(name=user["name"], domain_id=user["domain_id"], enabled=user["enabled"],
                    roles=sorted(names.get(r, r) for r in snapshot.get("role_ids") or ()))
    return dict(
        user=user,
        services=[dict(name=s["name"], type=s["type"], description=s["description"], enabled=s["enabled"])
                  for s in snapshot.get("services") or []],
        endpoints=sorted("%s %s%s" % (e["interface"], e["url"], "" if e["enabled"] else " (disabled)")
                         for e in snapshot.get("endpoints") or [] if e["region_id"] == region),
    )
