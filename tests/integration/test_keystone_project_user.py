"""keystone_project_user against a real Keystone (Debian's keystone, see service_keystone.py): the baseline's
demo project and user (#30). Each test uses its own names, so the tests share one Keystone."""
import json

import conftest  # noqa: F401  pylint: disable=unused-import
# the session fixture `keystone` is used by name in the test signatures
from service_keystone import keystone  # noqa: F401 pylint: disable=unused-import

MODULE = "keystone_project_user"
PW1 = "Demo'pw1\"\\ @:/%$#a"
PW2 = "Demo'pw2\"\\ @:/%$#b"


def assert_no_secret(result, *secrets):
    for secret in secrets:
        for form in (secret, json.dumps(secret)[1:-1]):
            assert form not in result.output, "a password leaked into Ansible's output"


def args(ks, project, user, password=PW1, **extra):
    a = dict(ks.module_auth(), project=project, user=user, password=password, project_description="Demo Project")
    a.update(extra)
    return a


def roles_of(ks, project, user):
    conn = ks.connect()
    try:
        ident = conn.identity
        domain = ident.find_domain("default")
        u = ident.find_user(user, domain_id=domain.id)
        p = ident.find_project(project, domain_id=domain.id)
        return sorted(ident.get_role(a.role["id"]).name
                      for a in ident.role_assignments(user_id=u.id, scope_project_id=p.id))
    finally:
        conn.close()


def test_the_demo_project_check_mode_run_and_rerun(ansible_module, keystone):
    ks = keystone
    a = args(ks, "demo-fresh", "demo-user", roles=["member", "demo-role"])
    expected = ["create project demo-fresh in domain Default", "create user demo-user in domain Default",
                "add role member to user demo-user on project demo-fresh", "create role demo-role",
                "add role demo-role to user demo-user on project demo-fresh"]

    check = ansible_module(MODULE, a, check=True, verbosity=3)
    assert not check.failed, check.output
    assert check["changed"] is True and check["actions"] == expected
    assert (check["project_id"], check["user_id"]) == (None, None)
    assert not ks.authenticates("demo-user", PW1, project="demo-fresh")
    assert_no_secret(check, PW1, ks.admin_password)

    first = ansible_module(MODULE, a, verbosity=3)
    assert not first.failed, first.output
    assert first["changed"] is True and first["actions"] == expected
    assert first["password_action"] == "set"
    assert ks.authenticates("demo-user", PW1, project="demo-fresh")  # a token scoped to the project: it has a role
    assert roles_of(ks, "demo-fresh", "demo-user") == ["demo-role", "member"]
    assert_no_secret(first, PW1, ks.admin_password)

    again = ansible_module(MODULE, a, verbosity=3)
    assert not again.failed, again.output
    assert again["changed"] is False and again["actions"] == []
    assert again["password_action"] == "unchanged"
    assert (again["project_id"], again["user_id"]) == (first["project_id"], first["user_id"])
    assert_no_secret(again, PW1, ks.admin_password)

    converged = ansible_module(MODULE, a, check=True)
    assert converged["changed"] is False and converged["actions"] == []


def test_a_new_password_is_predicted_then_set_and_roles_beyond_are_kept(ansible_module, keystone):
    ks = keystone
    a = args(ks, "demo-rot", "demo-rot-user")
    assert not ansible_module(MODULE, a).failed
    conn = ks.connect()
    try:
        ident = conn.identity
        domain = ident.find_domain("default")
        ident.assign_project_role_to_user(ident.find_project("demo-rot", domain_id=domain.id),
                                          ident.find_user("demo-rot-user", domain_id=domain.id),
                                          ident.find_role("reader"))
    finally:
        conn.close()

    rotated = dict(a, password=PW2)
    check = ansible_module(MODULE, rotated, check=True, verbosity=3)
    assert check["changed"] is True and check["actions"] == ["set the password of user demo-rot-user"]
    assert ks.authenticates("demo-rot-user", PW1, project="demo-rot")
    assert_no_secret(check, PW1, PW2, ks.admin_password)

    result = ansible_module(MODULE, rotated, verbosity=3)
    assert result["changed"] is True and result["actions"] == check["actions"], result.output
    assert ks.authenticates("demo-rot-user", PW2, project="demo-rot")
    assert not ks.authenticates("demo-rot-user", PW1, project="demo-rot")
    assert roles_of(ks, "demo-rot", "demo-rot-user") == ["member", "reader"]
    assert_no_secret(result, PW1, PW2, ks.admin_password)


def test_a_disabled_user_is_enabled_with_its_password(ansible_module, keystone):
    ks = keystone
    a = args(ks, "demo-off", "demo-off-user")
    first = ansible_module(MODULE, a)
    assert not first.failed, first.output
    conn = ks.connect()
    try:
        conn.identity.update_user(first["user_id"], is_enabled=False)
    finally:
        conn.close()
    result = ansible_module(MODULE, a)
    assert result["changed"] is True, result.output
    assert result["actions"] == ["enable user demo-off-user and set its password"]
    assert ks.authenticates("demo-off-user", PW1, project="demo-off")


def test_without_a_user_the_project_and_the_roles_alone(ansible_module, keystone):
    """The baseline's service project and the roles of the services' users: check mode, run, re-run; a user
    without its password is refused before any change, naming both."""
    ks = keystone
    a = dict(ks.module_auth(), project="svc-alone", project_description="Service Project",
             roles=["admin", "svc-alone-role"])
    refused = ansible_module(MODULE, dict(a, user="svc-alone-user"))
    assert refused.failed and "user, password" in refused["msg"], refused.output

    expected = ["create project svc-alone in domain Default", "create role svc-alone-role"]
    check = ansible_module(MODULE, a, check=True)
    assert not check.failed, check.output
    assert check["changed"] is True and check["actions"] == expected
    assert (check["user_id"], check["password_action"]) == (None, "none")

    conn = ks.connect()
    try:
        domain = conn.identity.find_domain("default")
        assert conn.identity.find_project("svc-alone", domain_id=domain.id) is None
        assert conn.identity.find_role("svc-alone-role") is None
    finally:
        conn.close()

    first = ansible_module(MODULE, a)
    assert not first.failed, first.output
    assert first["changed"] is True and first["actions"] == expected
    conn = ks.connect()
    try:
        domain = conn.identity.find_domain("default")
        project = conn.identity.find_project("svc-alone", domain_id=domain.id)
        assert project is not None and project.id == first["project_id"]
        assert project.description == "Service Project"
        assert conn.identity.find_role("svc-alone-role") is not None
    finally:
        conn.close()

    again = ansible_module(MODULE, a)
    assert not again.failed, again.output
    assert again["changed"] is False and again["actions"] == []
    assert again["project_id"] == first["project_id"]
