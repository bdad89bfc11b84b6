"""Decision logic of keystone_service_endpoint (plugins/module_utils/keystone.py), no SDK needed."""
import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import keystone as ks

REGION = "RegionOne"
URLS = {"public": "http://pub:8774/v2.1", "internal": "http://int:8774/v2.1", "admin": "http://adm:8774/v2.1"}


def want(**over):
    w = dict(name="nova", type="compute", description="OpenStack Compute", enabled=True, region=REGION,
             endpoints=dict(URLS), user="nova", user_domain="Default", user_domain_id="default",
             project="service", project_id="p1", roles=[("admin", "r-admin")], update_password="when_changed",
             state="present")
    w.update(over)
    return w


def svc(sid, name="nova", stype="compute", description="OpenStack Compute", enabled=True):
    return dict(id=sid, name=name, type=stype, description=description, enabled=enabled)


def ep(eid, service_id, interface, url, region=REGION, enabled=True):
    return dict(id=eid, service_id=service_id, interface=interface, url=url, region_id=region, enabled=enabled)


def user(enabled=True):
    return dict(id="u1", name="nova", domain_id="default", enabled=enabled)


def converged(**over):
    snap = dict(user=user(), password_state=ks.PASSWORD_OK, role_ids={"r-admin"}, region_exists=True,
                services=[svc("s1")],
                endpoints=[ep("e-%s" % i, "s1", i, u) for i, u in URLS.items()])
    snap.update(over)
    return snap


def kinds(plan):
    return [op["op"] for op in plan["ops"]]


def assert_converges(snapshot, w):
    """Planning again on the simulated result must give nothing to do."""
    plan = ks.plan_present(snapshot, w)
    after = ks.simulate(snapshot, plan)
    assert ks.plan_present(after, w)["ops"] == []
    return plan


def test_fresh_creates_everything_in_order():
    snap = dict(user=None, password_state=None, role_ids=set(), services=[], endpoints=[], region_exists=True)
    plan = assert_converges(snap, want())
    assert kinds(plan) == ["create_user", "add_role", "create_service",
                           "create_endpoint", "create_endpoint", "create_endpoint"]
    assert [op["interface"] for op in plan["ops"] if op["op"] == "create_endpoint"] == ["public", "internal", "admin"]
    assert plan["service_id"] is None and plan["user_id"] is None
    assert plan["endpoints"]["admin"] == dict(id=None, url=URLS["admin"], region=REGION, enabled=True)
    assert plan["duplicates_removed"] == dict(services=[], endpoints=[])


def test_missing_region_is_created_first():
    snap = dict(user=None, role_ids=set(), services=[], endpoints=[], region_exists=False)
    plan = ks.plan_present(snap, want(region="RegionTwo"))
    assert plan["ops"][0] == dict(op="create_region", region="RegionTwo", msg="create region RegionTwo")


def test_converged_means_no_operation():
    plan = ks.plan_present(converged(), want())
    assert plan["ops"] == []
    assert plan["service_id"] == "s1" and plan["user_id"] == "u1"
    assert plan["endpoints"]["public"]["id"] == "e-public"


def test_url_drift_is_updated_in_place():
    snap = converged(endpoints=[ep("e-public", "s1", "public", URLS["public"]),
                                ep("e-internal", "s1", "internal", "http://old:1"),
                                ep("e-admin", "s1", "admin", URLS["admin"], enabled=False)])
    plan = assert_converges(snap, want())
    assert kinds(plan) == ["update_endpoint", "update_endpoint"]
    assert plan["ops"][0]["endpoint_id"] == "e-internal" and plan["ops"][0]["attrs"] == {"url": URLS["internal"]}
    assert plan["ops"][1]["endpoint_id"] == "e-admin" and plan["ops"][1]["attrs"] == {"enabled": True}
    assert plan["endpoints"]["internal"]["id"] == "e-internal"


def test_duplicate_endpoints_keep_the_right_url():
    snap = converged(endpoints=[ep("e1", "s1", "public", "http://wrong:1"),
                                ep("e2", "s1", "public", URLS["public"]),
                                ep("e3", "s1", "public", URLS["public"]),
                                ep("e-internal", "s1", "internal", URLS["internal"]),
                                ep("e-admin", "s1", "admin", URLS["admin"])])
    plan = assert_converges(snap, want())
    assert kinds(plan) == ["delete_endpoint", "delete_endpoint"]
    assert sorted(op["endpoint_id"] for op in plan["ops"]) == ["e1", "e3"]
    assert plan["endpoints"]["public"]["id"] == "e2"
    assert sorted(d["id"] for d in plan["duplicates_removed"]["endpoints"]) == ["e1", "e3"]


def test_guide_mistake_public_twice_no_internal():
    snap = converged(endpoints=[ep("e1", "s1", "public", URLS["public"]),
                                ep("e2", "s1", "public", URLS["public"]),
                                ep("e-admin", "s1", "admin", URLS["admin"])])
    plan = assert_converges(snap, want())
    assert kinds(plan) == ["delete_endpoint", "create_endpoint"]
    assert plan["ops"][1]["interface"] == "internal"


def test_duplicate_services_collapse_to_the_one_used_elsewhere():
    services = [svc("a"), svc("b"), svc("c")]
    endpoints = [ep("a1", "a", "public", URLS["public"]),
                 ep("a2", "a", "internal", URLS["internal"]),
                 ep("c-two", "c", "public", "http://two:1", region="RegionTwo"),
                 ep("b1", "b", "admin", URLS["admin"])]
    snap = converged(services=services, endpoints=endpoints)
    plan = assert_converges(snap, want())
    assert plan["service_id"] == "c"  # used in RegionTwo: deleting it would touch RegionTwo
    deleted_services = [op["service_id"] for op in plan["ops"] if op["op"] == "delete_service"]
    assert sorted(deleted_services) == ["a", "b"]
    assert not any(op.get("endpoint_id") == "c-two" for op in plan["ops"])
    assert sorted(d["id"] for d in plan["duplicates_removed"]["services"]) == ["a", "b"]
    assert sorted(d["id"] for d in plan["duplicates_removed"]["endpoints"]) == ["a1", "a2", "b1"]
    # endpoints of a deleted service go before it, creates come last
    order = kinds(plan)
    assert order.index("delete_service") > order.index("delete_endpoint")
    assert order[-3:] == ["create_endpoint"] * 3


def test_keeper_without_other_regions_prefers_most_endpoints_here():
    services = [svc("a"), svc("b")]
    endpoints = [ep("b1", "b", "public", URLS["public"]), ep("b2", "b", "internal", URLS["internal"]),
                 ep("a1", "a", "admin", URLS["admin"])]
    keeper, delete, kept = ks.choose_service(services, endpoints, REGION)
    assert keeper["id"] == "b" and [s["id"] for s in delete] == ["a"] and kept == []


def test_two_duplicates_used_in_other_regions_are_both_kept():
    services = [svc("a"), svc("b")]
    endpoints = [ep("a2", "a", "public", "http://x", region="R2"), ep("b3", "b", "public", "http://y", region="R3"),
                 ep("b1", "b", "public", URLS["public"])]
    snap = converged(services=services, endpoints=endpoints)
    plan = assert_converges(snap, want())
    assert "delete_service" not in kinds(plan)
    assert any("left" in w or "stays" in w for w in plan["warnings"])
    # b's endpoint in this region is a duplicate of the keeper's; R2/R3 untouched
    touched = set(op.get("endpoint_id") for op in plan["ops"])
    assert "a2" not in touched and "b3" not in touched


def test_other_region_endpoints_are_never_touched():
    endpoints = [ep("e-%s" % i, "s1", i, u) for i, u in URLS.items()]
    endpoints.append(ep("far", "s1", "public", "http://far:1", region="RegionTwo"))
    plan = ks.plan_present(converged(endpoints=endpoints), want())
    assert plan["ops"] == []
    plan = ks.plan_present(converged(endpoints=endpoints), want(endpoints={"public": "http://new:1"}))
    assert [op.get("endpoint_id") for op in plan["ops"]] == ["e-public"]


def test_interfaces_not_listed_are_left_alone():
    plan = ks.plan_present(converged(), want(endpoints={"public": URLS["public"]}))
    assert plan["ops"] == []
    assert list(plan["endpoints"]) == ["public"]


@pytest.mark.parametrize("state,mode,expect", [
    (ks.PASSWORD_OK, "when_changed", False),
    (ks.PASSWORD_WRONG, "when_changed", True),
    (ks.PASSWORD_NOT_CHECKED, "on_create", False),
    (ks.PASSWORD_OK, "always", True),
])
def test_password_is_set_only_when_needed(state, mode, expect):
    plan = ks.plan_present(converged(password_state=state), want(update_password=mode))
    if expect:
        assert kinds(plan) == ["update_user"]
        assert plan["ops"][0]["password"] is True and plan["ops"][0]["attrs"] == {}
        assert plan["ops"][0]["msg"] == "update user nova: set its password"
    else:
        assert plan["ops"] == []


def test_disabled_user_is_enabled_and_its_password_set():
    plan = assert_converges(converged(user=user(enabled=False), password_state=ks.PASSWORD_UNKNOWN), want())
    assert kinds(plan) == ["update_user"]
    assert plan["ops"][0]["attrs"] == {"enabled": True} and plan["ops"][0]["password"] is True


def test_missing_roles_are_added_extra_roles_kept():
    w = want(roles=[("admin", "r-admin"), ("service", "r-service")])
    plan = assert_converges(converged(role_ids={"r-admin", "r-other"}), w)
    assert [(op["op"], op["role"]) for op in plan["ops"]] == [("add_role", "service")]


def test_service_description_and_enabled():
    plan = assert_converges(converged(services=[svc("s1", description="old", enabled=False)]), want())
    assert plan["ops"][0]["op"] == "update_service"
    assert plan["ops"][0]["attrs"] == {"description": "OpenStack Compute", "enabled": True}
    assert ks.plan_present(converged(services=[svc("s1", description="old")]), want(description=None))["ops"] == []


def test_disabling_disables_service_and_endpoints():
    plan = assert_converges(converged(), want(enabled=False))
    assert kinds(plan) == ["update_service"] + ["update_endpoint"] * 3


def test_absent_removes_endpoints_service_and_user():
    plan = ks.plan_absent(converged(), want(state="absent"))
    assert kinds(plan) == ["delete_endpoint"] * 3 + ["delete_service", "delete_user"]
    assert len(plan["endpoints_removed"]) == 3
    after = ks.simulate(converged(), plan)
    assert after["user"] is None and after["services"] == [] and after["endpoints"] == []
    assert ks.plan_absent(after, want(state="absent"))["ops"] == []


def test_absent_keeps_service_and_user_used_in_another_region():
    endpoints = [ep("e-%s" % i, "s1", i, u) for i, u in URLS.items()]
    endpoints.append(ep("far", "s1", "public", "http://far:1", region="RegionTwo"))
    plan = ks.plan_absent(converged(endpoints=endpoints), want(state="absent"))
    assert kinds(plan) == ["delete_endpoint"] * 3
    assert len(plan["warnings"]) == 2


def test_absent_can_keep_the_user():
    plan = ks.plan_absent(converged(), want(state="absent"), remove_user=False)
    assert "delete_user" not in kinds(plan)


def test_absent_on_nothing_is_no_change():
    snap = dict(user=None, role_ids=set(), services=[], endpoints=[])
    assert ks.plan_absent(snap, want(state="absent"))["ops"] == []


def test_validate_endpoints():
    assert ks.validate_endpoints(URLS) == []
    problems = ks.validate_endpoints({"public": "controller:8774", "private": "http://x", "admin": None})
    assert len(problems) == 3
    assert ks.validate_endpoints(["http://x"])


def test_sdk_objects_are_read_by_attribute():
    class Obj:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    assert ks.service_dict(Obj(id="s", name="n", type="t", description=None, is_enabled=False)) == \
        dict(id="s", name="n", type="t", description=None, enabled=False)
    assert ks.endpoint_dict(Obj(id="e", service_id="s", interface="public", url="u", region_id="R",
                                is_enabled=True))["region_id"] == "R"
    assert ks.user_dict(None) is None
    assert ks.user_dict(Obj(id="u", name="n", domain_id="d", is_enabled=None))["enabled"] is True
    assert ks.assigned_role_ids([Obj(role={"id": "r1"}), {"role": {"id": "r2"}}, Obj(role=None)]) == {"r1", "r2"}


def test_summary_for_diff_has_no_secret_and_shows_changes():
    snap = converged(endpoints=[ep("e1", "s1", "public", "http://old:1")])
    plan = ks.plan_present(snap, want())
    before = ks.summarize(snap, REGION, {"r-admin": "admin"})
    after = ks.summarize(ks.simulate(snap, plan), REGION, {"r-admin": "admin"})
    assert before["endpoints"] == ["public http://old:1"]
    assert after["endpoints"] == sorted("%s %s" % (i, u) for i, u in URLS.items())
    assert after["user"]["roles"] == ["admin"]
    assert "password" not in repr(after)
