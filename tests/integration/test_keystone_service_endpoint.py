"""keystone_service_endpoint against a real Keystone (Debian's keystone 22, see service_keystone.py).

Each test registers its own service name, so the tests share one Keystone
without depending on each other. The module runs through Ansible with the
target's Debian Python (openstacksdk 0.101.0); one test runs it with the venv's
Python (openstacksdk 4.x). Preparation and checks use the venv's openstacksdk
directly.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import threading

import pytest

import conftest
# the session fixture `keystone` is used by name in the test signatures
from service_keystone import CLOUD_NAME, keystone  # noqa: F401 pylint: disable=unused-import

MODULE = "keystone_service_endpoint"
PW1 = "Svc'pw1\"\\ @:/%$#a"
PW2 = "Svc'pw2\"\\ @:/%$#b"


def _forms(secret):
    """The secret as it could appear in Ansible's output: raw and JSON-escaped."""
    return {secret, json.dumps(secret)[1:-1]}


def assert_no_secret(result, *secrets):
    for secret in secrets:
        for form in _forms(secret):
            assert form not in result.output, "a password leaked into Ansible's output"
            assert form not in json.dumps(result), "a password leaked into the result"


def urls(port, path=""):
    return {
        "public": "http://public.example.org:%d%s" % (port, path),
        "internal": "http://controller:%d%s" % (port, path),
        "admin": "http://controller-admin:%d%s" % (port, path),
    }


def args(ks, name, service_type, password=PW1, **extra):
    a = dict(ks.module_auth())
    a.update(name=name, service_type=service_type, description="Test %s" % name, password=password,
             endpoints=urls(8774, "/v2.1"))
    a.update(extra)
    return a


def state_of(ks, name, service_type, user=None):
    """What Keystone holds for this service: user, role names on `service`, services, endpoints."""
    conn = ks.connect()
    try:
        ident = conn.identity
        domain = ident.find_domain("default")
        u = ident.find_user(user or name, domain_id=domain.id)
        roles = []
        if u is not None:
            project = ident.find_project("service", domain_id=domain.id)
            for a in ident.role_assignments(user_id=u.id, scope_project_id=project.id):
                roles.append(ident.get_role(a.role["id"]).name)
        services = [s for s in ident.services(type=service_type) if s.name == name]
        endpoints = []
        for s in services:
            endpoints.extend(ident.endpoints(service_id=s.id))
        return dict(user=u, roles=sorted(roles), services=services, endpoints=endpoints)
    finally:
        conn.close()


def in_region(endpoints, region="RegionOne"):
    return {e.interface: e for e in endpoints if e.region_id == region}


def test_fresh_registration_check_mode_and_rerun(ansible_module, keystone):
    ks = keystone
    a = args(ks, "nova-fresh", "compute-fresh")

    # check mode on a fresh Keystone: predicts everything, creates nothing
    check = ansible_module(MODULE, a, check=True, diff=True, verbosity=3)
    assert not check.failed, check.output
    assert check["changed"] is True
    assert check["user_id"] is None and check["service_id"] is None
    assert check["actions"] == [
        "create user nova-fresh in domain Default",
        "add role admin to user nova-fresh on project service",
        "create service nova-fresh (compute-fresh)",
        "create endpoint public http://public.example.org:8774/v2.1 in RegionOne",
        "create endpoint internal http://controller:8774/v2.1 in RegionOne",
        "create endpoint admin http://controller-admin:8774/v2.1 in RegionOne",
    ]
    assert_no_secret(check, PW1, ks.admin_password)
    assert check["diff"]["before"] == dict(user=None, services=[], endpoints=[])
    assert check["diff"]["after"]["user"] == dict(name="nova-fresh", domain_id="default", enabled=True,
                                                  roles=["admin"])
    assert len(check["diff"]["after"]["endpoints"]) == 3
    s = state_of(ks, "nova-fresh", "compute-fresh")
    assert s["user"] is None and s["services"] == [] and s["endpoints"] == []

    # the real run does what check mode said
    first = ansible_module(MODULE, a, diff=True, verbosity=3)
    assert not first.failed, first.output
    assert first["changed"] is True
    assert first["actions"] == check["actions"]
    assert first["password_action"] == "set"
    assert_no_secret(first, PW1, ks.admin_password)
    s = state_of(ks, "nova-fresh", "compute-fresh")
    assert s["user"].id == first["user_id"] and s["user"].is_enabled
    assert s["roles"] == ["admin"]
    assert [x.id for x in s["services"]] == [first["service_id"]]
    assert s["services"][0].description == "Test nova-fresh"
    eps = in_region(s["endpoints"])
    assert len(s["endpoints"]) == 3
    for interface, url in urls(8774, "/v2.1").items():
        assert eps[interface].url == url
        expected = dict(id=eps[interface].id, url=url, region="RegionOne", enabled=True)
        assert first["endpoints"][interface] == expected
    assert ks.authenticates("nova-fresh", PW1)

    # second run: no change, same ids
    second = ansible_module(MODULE, a, verbosity=3)
    assert not second.failed, second.output
    assert second["changed"] is False
    assert second["actions"] == []
    assert second["password_action"] == "unchanged"
    assert (second["user_id"], second["service_id"]) == (first["user_id"], first["service_id"])
    assert second["endpoints"] == first["endpoints"]
    assert_no_secret(second, PW1, ks.admin_password)

    # check mode on the converged state: no change predicted
    check2 = ansible_module(MODULE, a, check=True, diff=True)
    assert check2["changed"] is False and check2["actions"] == []
    assert (check2["user_id"], check2["service_id"]) == (first["user_id"], first["service_id"])


def test_a_user_registered_before_gains_a_new_role_and_a_missing_role_is_previewed(ansible_module, keystone):
    """A cloud deployed with admin alone gains the service role on its next run, and nothing after; a role
    Keystone does not have yet is refused, naming it, except in check mode, which previews a run where an
    earlier step (the baseline's) creates it."""
    ks = keystone
    a = args(ks, "svc-roles", "roles-type", roles=["admin"])
    assert not ansible_module(MODULE, a).failed
    role = "osdtest-role"
    with_role = dict(a, roles=["admin", role])

    preview = ansible_module(MODULE, with_role, check=True, diff=True, verbosity=3)
    assert not preview.failed, preview.output
    assert preview["changed"] is True
    assert preview["actions"] == ["add role %s to user svc-roles on project service" % role]
    # the warning, as Ansible prints it
    assert "role %r does not exist in Keystone" % role in " ".join(preview.output.split()), preview.output
    assert preview["diff"]["after"]["user"]["roles"] == ["admin", role]

    refused = ansible_module(MODULE, with_role)
    assert refused.failed
    assert "roles: role %r does not exist in Keystone" % role in refused["msg"], refused["msg"]
    assert "openstack role create %s" % role in refused["msg"]
    assert state_of(ks, "svc-roles", "roles-type")["roles"] == ["admin"]

    conn = ks.connect()
    try:
        conn.identity.create_role(name=role)
    finally:
        conn.close()
    gained = ansible_module(MODULE, with_role)
    assert not gained.failed, gained.output
    assert gained["changed"] is True
    assert gained["actions"] == ["add role %s to user svc-roles on project service" % role]
    assert state_of(ks, "svc-roles", "roles-type")["roles"] == sorted(["admin", role])
    again = ansible_module(MODULE, with_role)
    assert again["changed"] is False and again["actions"] == []


def test_url_drift_corrected_in_place(ansible_module, keystone):
    ks = keystone
    a = args(ks, "placement-drift", "placement-drift", endpoints=urls(8778))
    first = ansible_module(MODULE, a)
    assert first["changed"] is True, first.output
    # someone edits the internal URL by hand
    conn = ks.connect()
    try:
        conn.identity.update_endpoint(first["endpoints"]["internal"]["id"], url="http://wrong-host:9999")
    finally:
        conn.close()
    check = ansible_module(MODULE, a, check=True)
    assert check["changed"] is True
    expected = ["update endpoint internal http://wrong-host:9999 in RegionOne (%s): url 'http://wrong-host:9999' "
                "-> 'http://controller:8778'" % first["endpoints"]["internal"]["id"]]
    assert check["actions"] == expected
    assert in_region(state_of(ks, "placement-drift", "placement-drift")["endpoints"])["internal"].url == \
        "http://wrong-host:9999"
    fixed = ansible_module(MODULE, a)
    assert fixed["changed"] is True
    assert fixed["actions"] == expected
    assert fixed["endpoints"] == first["endpoints"]  # same ids, right URLs
    eps = in_region(state_of(ks, "placement-drift", "placement-drift")["endpoints"])
    assert eps["internal"].url == "http://controller:8778"
    assert eps["internal"].id == first["endpoints"]["internal"]["id"]
    # the same, with the whole cloud configuration given as a dict
    as_dict = {k: v for k, v in a.items() if k not in ("auth", "region_name")}
    as_dict["cloud"] = dict(auth=ks.auth, region_name=ks.region)
    again = ansible_module(MODULE, as_dict, verbosity=3)
    assert not again.failed, again.output
    assert again["changed"] is False and again["actions"] == []
    assert_no_secret(again, PW1, ks.admin_password)


def test_duplicates_collapsed_and_other_region_untouched(ansible_module, keystone):
    ks = keystone
    name, stype = "glance-dup", "image-dup"
    wanted = urls(9292)
    conn = ks.connect()
    try:
        ident = conn.identity
        if ident.find_region("RegionTwo") is None:
            ident.create_region(id="RegionTwo")
        # the guide's mistakes, twice over: two service entities, public twice, no internal
        svc1 = ident.create_service(name=name, type=stype, description="first")
        svc2 = ident.create_service(name=name, type=stype, description="second")
        e_pub1 = ident.create_endpoint(service_id=svc1.id, interface="public", url=wanted["public"],
                                       region_id="RegionOne")
        e_pub2 = ident.create_endpoint(service_id=svc1.id, interface="public", url=wanted["public"],
                                       region_id="RegionOne")
        e_adm_old = ident.create_endpoint(service_id=svc1.id, interface="admin", url="http://old:9292",
                                          region_id="RegionOne")
        e_svc2 = ident.create_endpoint(service_id=svc2.id, interface="internal", url=wanted["internal"],
                                       region_id="RegionOne")
        e_other = ident.create_endpoint(service_id=svc1.id, interface="public", url="http://region-two:9292",
                                        region_id="RegionTwo")
    finally:
        conn.close()

    a = args(ks, name, stype, endpoints=wanted, description="OpenStack Image")
    check = ansible_module(MODULE, a, check=True)
    assert check["changed"] is True
    assert len(state_of(ks, name, stype)["services"]) == 2  # check mode deleted nothing

    result = ansible_module(MODULE, a, verbosity=3)
    assert not result.failed, result.output
    assert result["changed"] is True
    assert result["actions"] == check["actions"]
    assert result["duplicates_removed"] == check["duplicates_removed"]
    assert result["service_id"] == svc1.id  # the one used in another region is kept
    removed = result["duplicates_removed"]
    assert removed["services"] == [dict(id=svc2.id, name=name, type=stype)]
    removed_ids = sorted(e["id"] for e in removed["endpoints"])
    assert removed_ids == sorted([max(e_pub1.id, e_pub2.id), e_svc2.id])
    assert result["endpoints"]["public"]["id"] == min(e_pub1.id, e_pub2.id)
    assert result["endpoints"]["admin"]["id"] == e_adm_old.id  # corrected in place
    assert_no_secret(result, PW1, ks.admin_password)

    s = state_of(ks, name, stype)
    assert [x.id for x in s["services"]] == [svc1.id]
    assert s["services"][0].description == "OpenStack Image"
    here = [e for e in s["endpoints"] if e.region_id == "RegionOne"]
    assert sorted((e.interface, e.url) for e in here) == sorted(wanted.items())
    two = [e for e in s["endpoints"] if e.region_id == "RegionTwo"]
    assert [(e.id, e.url, e.interface) for e in two] == [(e_other.id, "http://region-two:9292", "public")]

    again = ansible_module(MODULE, a)
    assert again["changed"] is False and again["actions"] == []
    assert again["duplicates_removed"] == dict(services=[], endpoints=[])


def test_password_rotation_with_cloud_name(ansible_module, keystone):
    ks = keystone
    env = {"OS_CLIENT_CONFIG_FILE": ks.clouds_yaml}
    base = args(ks, "cinder-rot", "volume-rot", password=PW1)
    for key in ("auth", "region_name"):
        base.pop(key)
    base["cloud"] = CLOUD_NAME
    first = ansible_module(MODULE, base, env=env)
    assert first["changed"] is True, first.output
    assert ks.authenticates("cinder-rot", PW1)

    rotated = dict(base, password=PW2)
    check = ansible_module(MODULE, rotated, env=env, check=True, verbosity=3)
    assert check["changed"] is True
    assert check["actions"] == ["update user cinder-rot: set its password"]
    assert ks.authenticates("cinder-rot", PW1)  # check mode did not set it
    assert_no_secret(check, PW1, PW2, ks.admin_password)

    result = ansible_module(MODULE, rotated, env=env, verbosity=3)
    assert not result.failed, result.output
    assert result["changed"] is True
    assert result["actions"] == ["update user cinder-rot: set its password"]
    assert result["password_action"] == "set"
    assert_no_secret(result, PW1, PW2, ks.admin_password)
    assert ks.authenticates("cinder-rot", PW2)
    assert not ks.authenticates("cinder-rot", PW1)

    again = ansible_module(MODULE, rotated, env=env)
    assert again["changed"] is False and again["password_action"] == "unchanged"

    # the usual OS_* environment instead of cloud/auth
    from_env = dict(rotated)
    from_env.pop("cloud")
    by_env = ansible_module(MODULE, from_env, env=ks.env(), verbosity=3)
    assert not by_env.failed, by_env.output
    assert by_env["changed"] is False and by_env["user_id"] == first["user_id"]
    assert_no_secret(by_env, PW1, PW2, ks.admin_password)

    # on_create never logs in, so an old password is not detected (documented)
    lazy = ansible_module(MODULE, dict(base, update_password="on_create"), env=env)
    assert lazy["changed"] is False and lazy["password_action"] == "not_checked"
    assert ks.authenticates("cinder-rot", PW2)


def test_absent_removes_what_it_owns(ansible_module, keystone):
    ks = keystone
    a = args(ks, "heat-gone", "orchestration-gone")
    created = ansible_module(MODULE, a)
    assert created["changed"] is True, created.output
    gone = dict(ks.module_auth(), name="heat-gone", service_type="orchestration-gone", state="absent")

    check = ansible_module(MODULE, gone, check=True)
    assert check["changed"] is True
    assert len(check["endpoints_removed"]) == 3
    assert check["actions"][-2:] == ["delete service heat-gone (orchestration-gone, %s)" % created["service_id"],
                                     "delete user heat-gone"]
    s = state_of(ks, "heat-gone", "orchestration-gone")
    assert s["user"] is not None and len(s["services"]) == 1 and len(s["endpoints"]) == 3

    result = ansible_module(MODULE, gone)
    assert not result.failed, result.output
    assert result["changed"] is True
    assert result["actions"] == check["actions"]
    s = state_of(ks, "heat-gone", "orchestration-gone")
    assert s["user"] is None and s["services"] == [] and s["endpoints"] == []

    again = ansible_module(MODULE, gone)
    assert again["changed"] is False and again["actions"] == []


def test_second_region_and_absent_there(ansible_module, keystone):
    """A service registered in RegionOne gets RegionThree endpoints; absent in RegionThree only."""
    ks = keystone
    a = args(ks, "barbican-multi", "key-manager-multi", endpoints=urls(9311))
    one = ansible_module(MODULE, a)
    assert one["changed"] is True, one.output
    three = dict(a, region="RegionThree", endpoints=urls(9312))
    result = ansible_module(MODULE, three)
    assert not result.failed, result.output
    assert result["changed"] is True
    assert result["actions"][0] == "create region RegionThree"
    assert result["service_id"] == one["service_id"] and result["user_id"] == one["user_id"]
    s = state_of(ks, "barbican-multi", "key-manager-multi")
    assert {i: e.url for i, e in in_region(s["endpoints"]).items()} == urls(9311)
    assert {i: e.url for i, e in in_region(s["endpoints"], "RegionThree").items()} == urls(9312)
    assert ansible_module(MODULE, three)["changed"] is False

    gone = dict(ks.module_auth(), name="barbican-multi", service_type="key-manager-multi", state="absent",
                region="RegionThree")
    removed = ansible_module(MODULE, gone)
    assert removed["changed"] is True, removed.output
    assert [op.split()[0] for op in removed["actions"]] == ["delete"] * 3
    assert sorted(e["region"] for e in removed["endpoints_removed"]) == ["RegionThree"] * 3
    assert "still has endpoints in other regions than RegionThree" in removed.output
    s = state_of(ks, "barbican-multi", "key-manager-multi")
    assert s["user"] is not None and len(s["services"]) == 1
    assert {i: e.url for i, e in in_region(s["endpoints"]).items()} == urls(9311)
    assert in_region(s["endpoints"], "RegionThree") == {}
    assert ansible_module(MODULE, gone)["changed"] is False


class ResettingProxy:
    """A TCP proxy on 127.0.0.1 that resets the first `resets` connections after reading a request.

    That is what uwsgi's http socket does now and then: the client sees
    ConnectionResetError ('Connection aborted.') in the middle of a request.
    Later connections are forwarded to Keystone untouched.
    """

    def __init__(self, port, resets):
        self.target = ("127.0.0.1", port)
        self.resets_left = resets
        self.reset_done = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client = self.sock.accept()[0]
            except OSError:
                return
            if self.resets_left > 0:
                self.resets_left -= 1
                client.recv(65536)
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()  # RST instead of an answer
                self.reset_done += 1
                continue
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def test_connection_resets_are_retried(ansible_module, keystone):
    ks = keystone
    a = args(ks, "aodh-reset", "alarming-reset")
    assert ansible_module(MODULE, a)["changed"] is True
    proxy = ResettingProxy(ks.port, resets=2)
    try:
        through = dict(a, auth=dict(ks.auth, auth_url="http://127.0.0.1:%d/v3" % proxy.port))
        result = ansible_module(MODULE, through, verbosity=3)
    finally:
        proxy.close()
    assert not result.failed, result.output
    assert proxy.reset_done == 2
    assert result["changed"] is False and result["actions"] == []
    # keystoneauth itself absorbs a failed version discovery (reset 1) and falls back to the
    # URL as given; the token request (reset 2) is the module's retry
    assert result["api_retries_used"] == 1
    assert_no_secret(result, PW1, ks.admin_password)

    # a bounded number of times: with more resets than retries, a clear error
    proxy = ResettingProxy(ks.port, resets=10)
    try:
        through = dict(a, auth=dict(ks.auth, auth_url="http://127.0.0.1:%d/v3" % proxy.port), api_retries=1)
        failed = ansible_module(MODULE, through)
    finally:
        proxy.close()
    assert failed.failed
    assert proxy.reset_done == 3  # discovery, then the token request: one try and one retry
    assert "gave up after 2 attempts" in failed["msg"]
    assert failed["msg"].startswith("cannot reach Keystone at http://127.0.0.1:%d/v3" % proxy.port), failed["msg"]


def test_openstacksdk_4_converged(ansible_module, keystone, monkeypatch):
    """The same module with the venv's Python, whose openstacksdk is 4.x."""
    ks = keystone
    a = args(ks, "neutron-sdk4", "network-sdk4")
    first = ansible_module(MODULE, a)  # Debian's SDK creates
    assert first["changed"] is True, first.output
    monkeypatch.setattr(conftest, "TARGET_PYTHON", sys.executable)
    probe = subprocess.run([sys.executable, "-c", "import importlib.metadata as m; print(m.version('openstacksdk'))"],
                           capture_output=True, text=True, check=True)
    assert int(probe.stdout.split(".")[0]) >= 1, probe.stdout
    second = ansible_module(MODULE, a, verbosity=3)
    assert not second.failed, second.output
    assert second["changed"] is False and second["actions"] == []
    assert second["endpoints"] == first["endpoints"]
    drift = ansible_module(MODULE, dict(a, endpoints=urls(9696)))
    assert drift["changed"] is True
    assert [e["id"] for e in drift["endpoints"].values()] == [e["id"] for e in first["endpoints"].values()]
    assert_no_secret(second, PW1, ks.admin_password)


def test_bad_admin_credentials(ansible_module, keystone):
    ks = keystone
    wrong = "Wr0ng'\"\\ @:/%$#pw"
    a = args(ks, "swift-bad", "object-bad")
    a["auth"] = dict(ks.auth, password=wrong)
    result = ansible_module(MODULE, a, verbosity=3)
    assert result.failed
    assert result["msg"].startswith("Keystone at %s refused the admin credentials (HTTP 401)" % ks.auth_url)
    assert_no_secret(result, wrong, PW1, ks.admin_password)
    assert state_of(ks, "swift-bad", "object-bad")["user"] is None


def test_keystone_down(ansible_module, keystone):
    ks = keystone
    down = "http://127.0.0.1:%d/v3" % conftest.free_port()  # nothing listens there
    a = args(ks, "swift-down", "object-down")
    a["auth"] = dict(ks.auth, auth_url=down)
    result = ansible_module(MODULE, a, verbosity=3, timeout=120)
    assert result.failed
    assert result["msg"].startswith("cannot reach Keystone at %s" % down), result["msg"]
    assert_no_secret(result, PW1, ks.admin_password)


def test_parameter_errors_are_clear(ansible_module, keystone):
    ks = keystone
    result = ansible_module(MODULE, args(ks, "x-bad", "x-bad", endpoints={"public": "controller:1", "private": "http://x"}))
    assert result.failed
    assert "endpoints.public" in result["msg"] and "unknown interface 'private'" in result["msg"]
    missing = ansible_module(MODULE, args(ks, "x-bad", "x-bad", project="no-such-project"))
    assert missing.failed
    assert "project 'no-such-project' does not exist" in missing["msg"]
    both = ansible_module(MODULE, dict(args(ks, "x-bad", "x-bad"), cloud=dict(auth=ks.auth)))
    assert both.failed
    assert both["msg"] == ("cloud is a dict, so it must carry the connection settings itself; remove auth, "
                           "region_name or give cloud as a name")
    assert_no_secret(both, PW1, ks.admin_password)
    assert_no_secret(missing, PW1, ks.admin_password)
    assert os.path.isdir(ks.dir)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))
