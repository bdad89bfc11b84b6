"""What keystone_project_user decides (plugins/module_utils/project_user_module.py: plan), without Keystone.

The module against a real Keystone: tests/integration/test_keystone_project_user.py.
"""
from ansible_collections.osdeploy.nova.plugins.module_utils.project_user_module import plan

WANT = dict(project="myproject", project_domain="Default", user="myuser", user_domain="Default", roles=["member"])


def snapshot(**kw):
    s = dict(project=dict(id="p1"), user=dict(id="u1", enabled=True), password_ok=True,
             roles={"member": "r-member"}, role_ids={"r-member"})
    s.update(kw)
    return s


def msgs(ops):
    return [op["msg"] for op in ops]


def test_a_fresh_keystone_gets_the_project_the_user_and_the_role():
    ops = plan(dict(project=None, user=None, password_ok=None, roles={"member": "r-member", "myrole": None},
                    role_ids=set()), dict(WANT, roles=["member", "myrole"]))
    assert msgs(ops) == ["create project myproject in domain Default", "create user myuser in domain Default",
                         "add role member to user myuser on project myproject", "create role myrole",
                         "add role myrole to user myuser on project myproject"]


def test_a_converged_keystone_needs_nothing():
    assert plan(snapshot(), WANT) == []


def test_extra_roles_of_the_user_are_kept():
    assert plan(snapshot(role_ids={"r-member", "r-reader"}), WANT) == []


def test_a_refused_password_is_set_and_only_then():
    assert msgs(plan(snapshot(password_ok=False), WANT)) == ["set the password of user myuser"]


def test_a_disabled_user_is_enabled_with_its_password():
    ops = plan(snapshot(user=dict(id="u1", enabled=False), password_ok=None), WANT)
    assert msgs(ops) == ["enable user myuser and set its password"]
    assert ops[0]["enable"] is True


def test_a_missing_assignment_is_added_and_a_role_named_twice_once():
    ops = plan(snapshot(role_ids=set()), dict(WANT, roles=["member", "member"]))
    assert msgs(ops) == ["add role member to user myuser on project myproject"]


def test_without_a_user_only_the_project_and_the_roles():
    fresh = dict(project=None, user=None, password_ok=None, roles={"admin": "r-admin", "service": None},
                 role_ids=set())
    want = dict(WANT, project="service", user=None, roles=["admin", "service"])
    assert msgs(plan(fresh, want)) == ["create project service in domain Default", "create role service"]
    assert plan(snapshot(user=None, password_ok=None, roles={"admin": "r-admin", "service": "r-service"},
                         role_ids=set()), want) == []
