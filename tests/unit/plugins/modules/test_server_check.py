"""server_check's steps against a fake cloud: failure reports, moves, deletes, the flavor and the security groups.

Its decisions (plain functions) are tested in tests/unit/plugins/module_utils/test_server_check_decisions.py.
"""
import re

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import server_check as checks
from ansible_collections.osdeploy.nova.plugins.module_utils.base import Failure
from ansible_collections.osdeploy.nova.plugins.modules import server_check as sc


class _Server(object):
    def __init__(self, status, task_state):
        self.status, self.task_state = status, task_state


class _Compute(object):
    def __init__(self, servers):
        self.servers = servers

    def get_server(self, server_id):
        found = self.servers[server_id]
        if isinstance(found, Exception):
            raise found
        return found


def test_a_timeout_reports_every_server_state():
    """When one server times out, the report says where each of the others is too."""
    check = sc.ServerCheck.__new__(sc.ServerCheck)
    check.conn = type("Conn", (), {})()
    check.conn.compute = _Compute({"a": _Server("BUILD", "spawning"), "b": _Server("ACTIVE", None),
                                   "c": RuntimeError("gone")})
    check.result = {"servers": [dict(id=i, status=None) for i in "abc"]}
    check.read_states()
    assert [(r["status"], r.get("task_state")) for r in check.result["servers"]] == [
        ("BUILD", "spawning"), ("ACTIVE", None), ("unknown (RuntimeError)", None)]


class _Obj(object):
    def __init__(self, **kw):
        self.__dict__.update(kw)


class _Network(object):
    def __init__(self, fail=False):
        self.fail = fail

    def agents(self):
        if self.fail:
            raise RuntimeError("503")
        return [_Obj(agent_type="Open vSwitch agent", host="compute1", is_alive=True),
                _Obj(agent_type="DHCP agent", host="controller", is_alive=False),
                _Obj(agent_type="Open vSwitch agent", host="compute2", is_alive=False)]

    def network_hosting_dhcp_agents(self, net):
        return [_Obj(agent_type="DHCP agent", host="controller", is_alive=False)]

    def ports(self, **query):
        if query.get("device_owner") == "network:dhcp":
            return [_Obj(id="d1", status="ACTIVE", binding_host_id="controller")]
        return [_Obj(id="p1", status="ACTIVE", binding_host_id="compute1", binding_vif_type="ovs",
                     mac_address="fa:16:3e:00:00:01")]


def test_a_failure_report_names_the_port_the_dhcp_port_and_the_agents_involved(monkeypatch):
    monkeypatch.setattr(checks, "dnsmasq_lines", lambda mac: ["dnsmasq: %s" % mac])
    check = sc.ServerCheck.__new__(sc.ServerCheck)
    check.params = {"ping": True}
    check.conn = _Obj(network=_Network())
    report = check.network_report({"host": "compute1", "id": "s1"}, _Obj(id="n1", name="provider"))
    assert report.splitlines() == [
        "port p1: ACTIVE, bound to compute1, vif_type ovs, mac fa:16:3e:00:00:01",
        "DHCP port d1: ACTIVE on controller",
        "agent Open vSwitch agent on compute1: alive",
        "agent DHCP agent on controller: DEAD",
        "dnsmasq: fa:16:3e:00:00:01"]


def test_a_failure_report_that_cannot_be_read_does_not_hide_the_failure():
    check = sc.ServerCheck.__new__(sc.ServerCheck)
    check.conn = _Obj(network=_Network(fail=True))
    assert check.network_report({"host": "compute1", "id": "s1"}, _Obj(id="n1", name="provider")) == (
        "network state unreadable (RuntimeError)")


# -- moving a server (migrate: true) -------------------------------------------------------------------------------
class _Resp(object):
    def __init__(self, doc, status_code=200):
        self.doc, self.status_code, self.text = doc, status_code, str(doc)

    def json(self):
        return self.doc


class _Cloud(object):
    """A cloud where one server moves as the compute API is asked, unless told to fail a move."""

    def __init__(self, live_fails=False, stale_source_allocation=False, migration_keeps=False):
        self.host, self.status, self.task = "compute1", "ACTIVE", None
        self.live_fails, self.stale = live_fails, stale_source_allocation
        self.migration_keeps = migration_keeps
        self.posts = []
        self.migration_ids = []
        self.compute, self.placement, self.network = self, _Placement(self), _Ports(self)

    # compute
    def post(self, url, json=None, microversion=None):
        self.posts.append((url, json, microversion))
        if "migrate" in json:
            self.status, self.host = "VERIFY_RESIZE", json["migrate"]["host"]
            self.migration_ids.append("m-cold")
        elif "confirmResize" in json:
            self.status = "ACTIVE"
        elif "os-migrateLive" in json:
            self.migration_ids.append("m-live")
            if not self.live_fails:
                self.host = json["os-migrateLive"]["host"]
        return _Resp(None, 202)

    def get_server(self, server_id):
        return _Obj(status=self.status, task_state=self.task, compute_host=self.host,
                    hypervisor_hostname=self.host + ".lab")

    def get(self, url, microversion=None):
        if url.startswith("/os-migrations"):
            return _Resp({"migrations": [{"uuid": m, "migration_type": m[2:], "status": "done"}
                                         for m in self.migration_ids]})
        if url.endswith("/os-instance-actions"):
            return _Resp({"instanceActions": [{"action": "live-migration", "request_id": "req-1", "message": "Error"}]})
        return _Resp({"instanceAction": {"events": [
            {"event": "compute_live_migration", "host": "compute2", "result": "Error",
             "traceback": "Traceback...\n  ...\nlibvirt.libvirtError: Cannot recv data: Host key verification failed."}]}})


class _Placement(object):
    def __init__(self, cloud):
        self.cloud = cloud

    def get(self, url):
        consumer = url.rsplit("/", 1)[1]
        if url.startswith("/resource_providers/"):
            return _Resp({"name": consumer.replace("rp-", "") + ".lab"})
        if consumer == "s1":
            rps = {"rp-" + self.cloud.host: {}}
            if self.cloud.stale:
                rps["rp-compute1"] = {}
            return _Resp({"allocations": rps})
        held = self.cloud.migration_keeps
        if isinstance(held, int) and not isinstance(held, bool):  # held for that many more reads
            self.cloud.migration_keeps = held - 1
        return _Resp({"allocations": {"rp-compute1": {}} if held else {}})


class _Ports(object):
    def __init__(self, cloud):
        self.cloud = cloud

    def ports(self, device_id=None):
        return [_Obj(id="p1", status="ACTIVE", binding_host_id=self.cloud.host)]


def _mover(cloud, ping=False):
    check = sc.ServerCheck.__new__(sc.ServerCheck)
    check.params = {"timeout": 5, "poll_interval": 0, "ping": ping, "api_retries": 0}
    check.retry_count = 0
    check.conn = cloud
    return check


def _record():
    return {"host": "compute1", "name": "osdeploy-check-compute1", "id": "s1", "status": "ACTIVE",
            "address": "203.0.113.5", "ping": True, "seconds": {"active": 20.0}, "moves": []}


def test_a_server_moves_cold_then_live_and_the_summary_says_so():
    cloud = _Cloud()
    check, record = _mover(cloud), _record()
    check.move(record, "cold", "compute2", "qdhcp-n1", None)
    check.move(record, "live", "compute1", "qdhcp-n1", None)
    assert cloud.posts == [
        ("/servers/s1/action", {"migrate": {"host": "compute2"}}, "2.56"),
        ("/servers/s1/action", {"confirmResize": None}, None),
        ("/servers/s1/action", {"os-migrateLive": {"host": "compute1", "block_migration": "auto"}}, "2.25")]
    assert [(m["kind"], m["source"], m["target"]) for m in record["moves"]] == [
        ("cold", "compute1", "compute2"), ("live", "compute2", "compute1")]
    record["seconds"]["delete"] = 3.0
    for move in record["moves"]:
        move["seconds"] = 9.0
    assert checks.summary(record) == ("compute1: ACTIVE at 203.0.113.5, ping ok; seconds from create: active 20.0; "
                                      "moved cold to compute2 in 9.0, live to compute1 in 9.0; deleted in 3.0")


def test_a_live_migration_that_fails_is_named_with_the_compute_hosts_error():
    cloud = _Cloud(live_fails=True)
    check, record = _mover(cloud), _record()
    check.move(record, "cold", "compute2", "qdhcp-n1", None)
    with pytest.raises(Failure) as failed:
        check.move(record, "live", "compute1", "qdhcp-n1", None)
    msg = failed.value.msg
    assert msg.startswith("live migration: server osdeploy-check-compute1 is ACTIVE on compute2, not ACTIVE on "
                          "compute1")
    assert ("event compute_live_migration on compute2: Error (libvirt.libvirtError: Cannot recv data: Host key "
            "verification failed.)") in msg


def test_resources_left_on_the_source_fail_the_move():
    check, record = _mover(_Cloud(stale_source_allocation=True)), _record()
    check.params.update(timeout=1, poll_interval=0.1)
    with pytest.raises(Failure) as failed:
        check.move(record, "cold", "compute2", "qdhcp-n1", None)
    assert failed.value.msg == ("cold migration: Placement holds the resources of osdeploy-check-compute1 on "
                                "compute1.lab, compute2.lab, not on compute2.lab (where it runs) alone, 1 s after "
                                "the server was ACTIVE on compute2")


def test_a_migration_that_keeps_its_resources_fails_the_move():
    check, record = _mover(_Cloud(migration_keeps=True)), _record()
    check.params.update(timeout=1, poll_interval=0.1)
    with pytest.raises(Failure) as failed:
        check.move(record, "cold", "compute2", "qdhcp-n1", None)
    assert "the cold migration m-cold of osdeploy-check-compute1 (done) still holds resources" in failed.value.msg


def test_the_move_waits_for_the_source_to_release_what_the_migration_held():
    # Nova shows the server idle on its new host before the source host deletes the migration's allocations
    cloud = _Cloud(migration_keeps=3)
    check, record = _mover(cloud), _record()
    check.move(record, "live", "compute2", "qdhcp-n1", None)
    assert cloud.migration_keeps == -1  # read until released: 3 reads that held resources, then 1 that did not
    assert [(m["kind"], m["target"]) for m in record["moves"]] == [("live", "compute2")]


def test_moving_needs_two_hosts():
    check = sc.ServerCheck.__new__(sc.ServerCheck)
    check.params = {"hosts": ["compute1"], "migrate": True, "timeout": 300, "markers": []}
    with pytest.raises(Failure) as failed:
        check.check_params()
    assert failed.value.msg.startswith("migrate needs two hosts to move a server between, hosts has compute1")


class _NotFound(Exception):
    status_code = 404


class _Deleting(object):
    """A cloud where a server is gone once its delete was asked for and two reads passed."""

    def __init__(self):
        self.events, self.reads = [], {}
        self.compute, self.network = self, self

    def delete_server(self, server_id):
        self.events.append(("delete", server_id))

    def get_server(self, server_id):
        self.events.append(("read", server_id))
        self.reads[server_id] = self.reads.get(server_id, 0) + 1
        if self.reads[server_id] > 2:
            raise _NotFound()
        return _Obj(status="DELETING")

    def ports(self, device_id=None):
        return []


def test_every_server_is_asked_to_go_before_any_is_waited_for():
    cloud = _Deleting()
    check = _mover(cloud)
    check.created = {"s1": "osdeploy-check-compute1", "s2": "osdeploy-check-compute2"}
    records = [dict(_record(), host=h, id=i, name="osdeploy-check-" + h, seconds={})
               for h, i in (("compute1", "s1"), ("compute2", "s2"))]
    starts = [check.request_delete(r["id"], r["name"]) for r in records]
    for record, start in zip(records, starts):
        check.wait_deleted(record, start)
    assert cloud.events[:2] == [("delete", "s1"), ("delete", "s2")]
    assert cloud.events[2:] == [("read", "s1")] * 3 + [("read", "s2")] * 3
    assert check.created == {}
    assert all("delete" in r["seconds"] for r in records)


def test_a_failed_run_waits_for_the_servers_it_made_to_be_gone():
    """cleanup() after a failure: every server it made is asked to go, then waited for, so that the run ends
    with nothing left (a proof that failed at once used to end while its servers were still being deleted)."""
    cloud = _Deleting()
    check = _mover(cloud)
    check.created = {"s1": "osdeploy-check-compute1", "s2": "osdeploy-check-compute2"}
    check.cleanup()
    assert cloud.events[:2] == [("delete", "s1"), ("delete", "s2")]
    assert cloud.events[2:] == [("read", "s1")] * 3 + [("read", "s2")] * 3


def test_a_delete_that_fails_in_cleanup_does_not_hide_the_failure_being_reported():
    class Refusing(_Deleting):
        def delete_server(self, server_id):
            raise RuntimeError("HTTP 500")

    cloud = Refusing()
    check = _mover(cloud)
    check.created = {"s1": "osdeploy-check-compute1"}
    check.cleanup()   # no exception: the run's own failure is what is reported
    assert cloud.events == []


# -- the flavor and the security groups (flavor_spec, open_icmp) ----------------------------------------------------
class _Setup(object):
    """A cloud with the proof's flavor and security groups (present or not); records every write."""

    def __init__(self, flavor=False, groups=(), icmp=(), fail_with=None):
        self.flavors = {"osdeploy-check": _Obj(id="f1", name="osdeploy-check")} if flavor else {}
        self.groups = dict((name, _Obj(id="sg-" + name, name=name)) for name in groups)
        self.rules = [dict(security_group_id="sg-" + name, direction="ingress", protocol="icmp", ether_type="IPv4")
                      for name in icmp]
        self.writes, self.queries = [], []
        self.fail_with = fail_with
        self.compute, self.network, self.image = self, self, self
        self.current_project_id = "p-admin"

    # compute
    def find_flavor(self, name_or_id, ignore_missing=True):
        if self.fail_with:
            raise self.fail_with
        return self.flavors.get(name_or_id)

    def create_flavor(self, **attrs):
        self.writes.append(("flavor", attrs))
        self.flavors[attrs["name"]] = _Obj(id="f-new", **attrs)
        return self.flavors[attrs["name"]]

    # network
    def find_security_group(self, name_or_id, ignore_missing=True, **query):
        self.queries.append(("security group", name_or_id, query))
        return self.groups.get(name_or_id)

    def create_security_group(self, **attrs):
        self.writes.append(("security group", attrs))
        self.groups[attrs["name"]] = _Obj(id="sg-" + attrs["name"], **attrs)
        return self.groups[attrs["name"]]

    def security_group_rules(self, **query):
        self.queries.append(("rules", query))
        return [_Obj(**rule) for rule in self.rules if all(rule.get(k) == v for k, v in query.items())]

    def create_security_group_rule(self, **attrs):
        self.writes.append(("rule", attrs))
        self.rules.append(attrs)
        return _Obj(id="r-new", **attrs)

    # image (for the run's first lookups)
    def find_image(self, name_or_id, ignore_missing=True):
        return None


class _AnsibleModule(object):
    argument_spec = {}
    no_log_values = set()


SPEC = {"vcpus": 1, "ram": 128, "disk": 1}


def _setup_check(cloud, check_mode=False, **params):
    """A ServerCheck on a fake cloud, as run() starts it (connect() only records that it was called)."""
    check = sc.ServerCheck.__new__(sc.ServerCheck)
    check.module = _AnsibleModule()
    check.params = dict(hosts=["compute1"], image="osdeploy-test-image", flavor="osdeploy-check", network="provider",
                        security_groups=["osdeploy-check"], timeout=300, markers=[], migrate=False, ping=False,
                        poll_interval=0, api_retries=0, flavor_spec=None, open_icmp=False, keep=False, reuse=False)
    check.params.update(params)
    check.check_mode = check_mode
    check.conn, check.auth_url, check.retry_count = None, "http://controller:5000/v3", 0
    check.created, check.flavor_spec, check.warnings, check._secrets = {}, None, [], []
    check.floating, check.adopted, check.kept_floating = {}, False, {}
    check.result = dict(changed=False, servers=[], leftovers_deleted=[], created=[])
    check.connects = []

    def connect():
        check.connects.append(True)
        check.conn = cloud
        return cloud

    check.connect = connect
    return check


def test_an_absent_flavor_is_created_public_with_the_spec():
    cloud = _Setup()
    check = _setup_check(cloud, flavor_spec=dict(vcpus="1", ram="128", disk="1"))  # templated: strings
    check.check_params()
    check.conn = cloud
    flavor = check.ensure_flavor()
    assert flavor.id == "f-new"
    assert cloud.writes == [("flavor", dict(name="osdeploy-check", is_public=True, vcpus=1, ram=128, disk=1))]
    assert check.result["created"] == ["flavor osdeploy-check"] and check.result["changed"] is True


def test_an_existing_flavor_is_used_as_it_is():
    cloud = _Setup(flavor=True)
    check = _setup_check(cloud, flavor_spec=dict(vcpus=4, ram=4096, disk=40))
    check.check_params()
    check.conn = cloud
    assert check.ensure_flavor().id == "f1"
    assert cloud.writes == []
    assert check.result["created"] == [] and check.result["changed"] is False


def test_without_a_spec_an_absent_flavor_fails_as_before():
    cloud = _Setup()
    check = _setup_check(cloud)
    check.conn = cloud
    with pytest.raises(Failure) as failed:
        check.ensure_flavor()
    assert failed.value.msg == ("setup: flavor 'osdeploy-check' does not exist at http://controller:5000/v3 "
                                "(option flavor)")
    assert cloud.writes == []


def test_an_absent_security_group_is_created_in_the_connections_project_and_lets_ping_in():
    cloud = _Setup()
    check = _setup_check(cloud, open_icmp=True)
    check.conn = cloud
    check.ensure_security_groups()
    assert cloud.queries[0] == ("security group", "osdeploy-check", {"project_id": "p-admin"})
    assert [w[0] for w in cloud.writes] == ["security group", "rule"]
    assert cloud.writes[0][1]["name"] == "osdeploy-check"
    assert cloud.writes[1][1] == dict(security_group_id="sg-osdeploy-check", direction="ingress", protocol="icmp",
                                      ether_type="IPv4", remote_ip_prefix="0.0.0.0/0")
    assert check.result["created"] == ["security group osdeploy-check", "ICMP rule of osdeploy-check"]
    assert check.result["changed"] is True


def test_a_group_without_an_icmp_rule_gets_one():
    cloud = _Setup(groups=["osdeploy-check"])
    check = _setup_check(cloud, open_icmp=True)
    check.conn = cloud
    check.ensure_security_groups()
    assert [w[0] for w in cloud.writes] == ["rule"]
    assert ("rules", dict(security_group_id="sg-osdeploy-check", direction="ingress", protocol="icmp",
                          ether_type="IPv4")) in cloud.queries
    assert check.result["created"] == ["ICMP rule of osdeploy-check"]


def test_a_group_with_an_icmp_rule_is_left_alone():
    cloud = _Setup(groups=["osdeploy-check"], icmp=["osdeploy-check"])
    check = _setup_check(cloud, open_icmp=True)
    check.conn = cloud
    check.ensure_security_groups()
    assert cloud.writes == []
    assert check.result["created"] == [] and check.result["changed"] is False


def test_without_open_icmp_the_groups_are_not_even_read():
    cloud = _Setup()
    check = _setup_check(cloud)
    check.conn = cloud
    check.ensure_security_groups()
    assert cloud.queries == [] and cloud.writes == []


def test_check_mode_reads_and_reports_what_it_would_create_without_creating():
    cloud = _Setup(groups=["osdeploy-check"])
    check = _setup_check(cloud, check_mode=True, flavor_spec=SPEC, open_icmp=True)
    result = check.run()
    assert check.connects == [True]
    assert cloud.writes == []
    assert result["changed"] is True
    assert result["created"] == ["flavor osdeploy-check", "ICMP rule of osdeploy-check"]
    assert result["msg"] == ("check mode: no server booted on compute1; would create flavor osdeploy-check, "
                             "ICMP rule of osdeploy-check")
    assert result["servers"] == []


def test_check_mode_on_a_converged_cloud_predicts_no_change():
    cloud = _Setup(flavor=True, groups=["osdeploy-check"], icmp=["osdeploy-check"])
    result = _setup_check(cloud, check_mode=True, flavor_spec=SPEC, open_icmp=True).run()
    assert result["changed"] is False and result["created"] == []
    assert result["msg"] == "check mode: no server booted on compute1"


def test_check_mode_without_anything_to_create_does_not_connect():
    check = _setup_check(_Setup(), check_mode=True)
    assert check.run()["msg"] == "check mode: no server booted on compute1"
    assert check.connects == []


class ConnectFailure(Exception):
    """Named like keystoneauth's: the service does not answer (e.g. stopped)."""


class _Forbidden(Exception):
    status_code = 403


def test_check_mode_on_a_cloud_that_cannot_be_reached_warns_that_it_cannot_tell():
    cloud = _Setup(fail_with=ConnectFailure("Unable to establish connection to http://controller:8774/v2.1"))
    check = _setup_check(cloud, check_mode=True, flavor_spec=SPEC, open_icmp=True)
    result = check.run()
    assert result["changed"] is False and result["created"] == [] and cloud.writes == []
    assert len(check.warnings) == 1
    assert check.warnings[0].startswith("check mode: cannot tell whether the flavor, security groups or keypair would be "
                                        "created, as the cloud cannot be read: cannot reach")


class DiscoveryFailure(Exception):
    """Named like keystoneauth's: what a refused connection to Keystone arrives as."""


def test_check_mode_on_a_keystone_that_cannot_be_reached_warns_too():
    def refused():
        try:
            raise ConnectFailure("Unable to establish connection to http://controller:5000/v3")
        except ConnectFailure:
            raise DiscoveryFailure("Could not find versioned identity endpoints")

    check = _setup_check(_Setup(), check_mode=True, flavor_spec=SPEC)
    check.connect = lambda: check.call(refused, doing="authenticate as the admin user")
    result = check.run()
    assert result["changed"] is False and result["msg"] == "check mode: no server booted on compute1"
    assert "cannot be read: no usable identity API" in check.warnings[0]


def test_check_mode_fails_on_a_refusal_as_a_real_run_does():
    check = _setup_check(_Setup(fail_with=_Forbidden("Policy doesn't allow")), check_mode=True, flavor_spec=SPEC)
    with pytest.raises(Failure) as failed:
        check.run()
    assert "(HTTP 403)" in failed.value.msg
    assert "msg" not in check.result  # the skeleton's fail_json takes msg from the failure


def test_a_missing_image_fails_before_anything_is_created():
    cloud = _Setup()
    check = _setup_check(cloud, flavor_spec=SPEC, open_icmp=True)
    with pytest.raises(Failure) as failed:
        check.run()
    assert failed.value.msg.startswith("setup: image 'osdeploy-test-image' does not exist")
    assert cloud.writes == [] and check.result["created"] == []


@pytest.mark.parametrize("spec,says", [
    ({"vcpus": 1, "ram": 128}, "disk is missing"),
    ({"vcpus": 0, "ram": 128, "disk": 1}, "vcpus is 0, not a positive integer"),
    ({"vcpus": 1, "ram": "lots", "disk": 1}, "ram is 'lots', not a positive integer"),
    ({"vcpus": 1, "ram": 128, "disk": -1}, "disk is -1, not a positive integer"),
    ({"vcpus": True, "ram": 128, "disk": 1}, "vcpus is True, not a positive integer"),
    ({"vcpus": 1.5, "ram": 128, "disk": 1}, "vcpus is 1.5, not a positive integer"),
    ({"name": "x", "vcpus": 1, "ram": 128, "disk": 1}, "unknown key name"),
])
def test_a_bad_flavor_spec_is_refused_before_connecting(spec, says):
    cloud = _Setup()
    check = _setup_check(cloud, flavor_spec=spec, open_icmp=True)
    with pytest.raises(Failure) as failed:
        check.run()
    msg = failed.value.msg
    assert msg.startswith("flavor_spec: ") and says in msg, msg
    assert msg.endswith("Give vcpus, ram (MiB) and disk (GiB) as positive integers, e.g. "
                        "flavor_spec: {vcpus: 1, ram: 128, disk: 1}")
    assert check.connects == [] and cloud.writes == []


# -- the whole run: as a project member (admin_cloud), and as admin pinned ------------------------------------------
class ForbiddenException(Exception):
    """Named like openstacksdk's, with the text Nova's policy refusal has."""
    status_code = 403


class _Nova(object):
    """One cloud seen through two connections: the member's (who="member") and admin's (who="admin"). The
    scheduler puts the servers of one request on the hosts of `placement`, in order; every call is logged as
    (who, what)."""

    def __init__(self, placement=("compute2", "compute1"), refuse=None):
        self.placement, self.refuse = list(placement), refuse or {}  # {(who, what): the rule that refuses it}
        self.servers, self.groups, self.log, self.bodies = {}, {}, [], []

    def as_(self, who):
        return _Connection(self, who)


class _Connection(object):
    def __init__(self, cloud, who):
        self.cloud, self.who = cloud, who
        self.compute = self.network = self.image = self
        self.current_project_id = "p-demo" if who == "member" else "p-admin"

    def _log(self, what):
        self.cloud.log.append((self.who, what))
        if (self.who, what) in self.cloud.refuse:
            raise ForbiddenException("ForbiddenException: 403: Client Error for url: http://controller:8774/v2.1, "
                                     "Policy doesn't allow %s to be performed." % self.cloud.refuse[self.who, what])

    # image, network
    def find_image(self, name, ignore_missing=True):
        return _Obj(id="img", name=name)

    def find_network(self, name, ignore_missing=True):
        return _Obj(id="net", name=name)

    def find_flavor(self, name, ignore_missing=True):
        self._log("find flavor")
        return _Obj(id="f1", name=name)

    def agents(self):
        self._log("agents")
        return [_Obj(agent_type="Open vSwitch agent", host=h, is_alive=True) for h in ("compute1", "compute2")]

    def network_hosting_dhcp_agents(self, net):
        return [_Obj(agent_type="DHCP agent", host="controller", is_alive=True)]

    def ports(self, **query):
        if query.get("device_owner") == "network:dhcp":
            return [_Obj(id="d1", status="ACTIVE", binding_host_id="controller")]
        # a server's port: ACTIVE where it runs, with the address get_server reports
        found = self.cloud.servers.get(query.get("device_id"))
        if found is None or found["gone"]:
            return []
        sid = query["device_id"]
        return [_Obj(id="p" + sid, status=found.get("port_status", "ACTIVE"), binding_host_id=found["host"],
                     binding_vif_type="ovs", mac_address="fa:16:3e:00:00:0%s" % sid[1:],
                     fixed_ips=[{"subnet_id": "sub", "ip_address": "203.0.113.%s" % sid[1:]}])]

    # compute, raw
    def post(self, url, json=None, microversion=None):
        self._log("post " + url)
        if url == "/os-server-groups":
            group = dict(id="g1", name=json["server_group"]["name"], policies=json["server_group"]["policies"],
                         members=[])
            self.cloud.groups["g1"] = group
            return _Resp({"server_group": group})
        self.cloud.bodies.append(json)
        server = json["server"]
        assert server["min_count"] == server["max_count"]
        for i in range(server["max_count"]):
            sid = "s%d" % (len(self.cloud.servers) + 1)
            self.cloud.servers[sid] = dict(name="%s-%d" % (server["name"], i + 1), host=self.cloud.placement[i],
                                           project="p-demo", gone=False)
            self.cloud.groups[json["os:scheduler_hints"]["group"]]["members"].append(sid)
        return _Resp({"server": {"id": "s1"}}, 202)

    def get(self, url, microversion=None):
        self._log("get " + url)
        if url == "/os-server-groups":
            return _Resp({"server_groups": list(self.cloud.groups.values())})
        return _Resp({"server_group": self.cloud.groups[url.rsplit("/", 1)[1]]})

    def delete(self, url):
        self._log("delete " + url)
        del self.cloud.groups[url.rsplit("/", 1)[1]]
        return _Resp(None, 204)

    # compute, SDK
    def create_server(self, **attrs):
        self._log("create server %s in %s" % (attrs["name"], attrs["availability_zone"]))
        sid = "s%d" % (len(self.cloud.servers) + 1)
        self.cloud.servers[sid] = dict(name=attrs["name"], host=attrs["availability_zone"].split(":")[1],
                                       project=self.current_project_id, gone=False)
        return _Obj(id=sid)

    def get_server(self, server_id):
        self._log("get server")
        found = self.cloud.servers[server_id]
        if found["gone"]:
            raise _NotFound()
        return _Obj(id=server_id, name=found["name"], status=found.get("status", "ACTIVE"), task_state=None,
                    project_id=found["project"],
                    addresses={"provider": [{"addr": "203.0.113.%s" % server_id[1:], "version": 4}]},
                    # OS-EXT-SRV-ATTR:host: admin's to see
                    compute_host=found["host"] if self.who == "admin" else None)

    def servers(self, **query):
        if query.get("all_projects"):
            self._log("list servers:all_projects")
            if query.get("name"):
                return []
            return [_Obj(id=i) for i in self.cloud.servers]
        self._log("list servers")
        return [_Obj(id=i) for i, s in self.cloud.servers.items() if s["project"] == self.current_project_id]

    def delete_server(self, server_id):
        self._log("delete server")
        self.cloud.servers[server_id]["gone"] = True


def _run_check(cloud, as_member=True, **params):
    check = _setup_check(None, security_groups=[], name_prefix="osdeploy-check-", availability_zone="nova", **params)
    if as_member:
        check.params["admin_cloud"] = "osdeploy-admin"

    def connect():
        check.conn = cloud.as_("member" if as_member else "admin")
        if as_member:
            check.admin_conn = cloud.as_("admin")
        return check.conn

    check.connect = connect
    return check


def test_as_a_member_one_request_into_an_anti_affinity_group_puts_a_server_on_each_host():
    cloud = _Nova(placement=("compute2", "compute1"))
    check = _run_check(cloud, hosts=["compute1", "compute2"])
    result = check.run()
    assert [g for g in cloud.log if g[1] == "post /os-server-groups"] == [("member", "post /os-server-groups")]
    body, = cloud.bodies
    assert body["os:scheduler_hints"] == {"group": "g1"}
    assert body["server"]["availability_zone"] == "nova"   # the zone, not a host: the member may not pin
    assert (body["server"]["min_count"], body["server"]["max_count"]) == (2, 2)
    assert body["server"]["name"] == "osdeploy-check-member"
    # reported in the order of hosts, each with the host admin read and the member's project
    assert [(s["host"], s["name"], s["project_id"]) for s in result["servers"]] == [
        ("compute1", "osdeploy-check-member-2", "p-demo"), ("compute2", "osdeploy-check-member-1", "p-demo")]
    assert re.match(r"compute1: ACTIVE at 203\.0\.113\.2, not pinged; seconds from create: active [\d.]+, port [\d.]+; ",
                    result["summary"][0]), result["summary"][0]
    # the member made, listed (its project's own) and deleted its servers and its group; admin only read
    assert ("member", "list servers") in cloud.log and ("member", "list servers:all_projects") not in cloud.log
    assert ("member", "delete /os-server-groups/g1") in cloud.log and cloud.groups == {}
    assert [w for w, what in cloud.log if what.startswith(("post", "delete", "create"))] == ["member"] * 5
    admin_did = {what for w, what in cloud.log if w == "admin"}
    assert admin_did <= {"get server", "agents", "find flavor", "list servers:all_projects"}
    assert all(s["gone"] for s in cloud.servers.values())
    assert check.created == {} and check.group is None


def test_as_admin_each_server_is_pinned_to_its_host_as_before():
    cloud = _Nova()
    result = _run_check(cloud, as_member=False, hosts=["compute1", "compute2"]).run()
    assert [what for w, what in cloud.log if what.startswith("create")] == [
        "create server osdeploy-check-compute1 in nova:compute1", "create server osdeploy-check-compute2 in nova:compute2"]
    assert {w for w, what in cloud.log} == {"admin"}
    assert not [what for w, what in cloud.log if "os-server-groups" in what]
    assert [(s["host"], s["name"]) for s in result["servers"]] == [
        ("compute1", "osdeploy-check-compute1"), ("compute2", "osdeploy-check-compute2")]
    assert ("admin", "list servers:all_projects") in cloud.log


def test_a_port_that_stays_down_fails_vif_plugging_naming_it_and_leaves_nothing():
    """ACTIVE is not enough: the port must be ACTIVE where the server runs, what any image needs for DHCP."""
    cloud = _Nova()
    check = _run_check(cloud, as_member=False, hosts=["compute1"], timeout=1)
    real_create = _Connection.create_server

    def create_server(self, **attrs):
        server = real_create(self, **attrs)
        cloud.servers[server.id]["port_status"] = "DOWN"
        return server

    _Connection.create_server = create_server
    try:
        with pytest.raises(Failure) as failed:
            check.run()
    finally:
        _Connection.create_server = real_create
    assert failed.value.msg.startswith(
        "VIF plugging: server osdeploy-check-compute1 is ACTIVE on compute1, but port ps1 is DOWN, bound to compute1 "
        "after 1 s\n"), failed.value.msg
    check.cleanup()
    assert all(s["gone"] for s in cloud.servers.values())


def test_the_console_of_a_failure_report_never_hides_the_failure():
    check = sc.ServerCheck.__new__(sc.ServerCheck)

    class Console(object):
        def __init__(self, out):
            self.out = out

        def get_server_console_output(self, server_id):
            if isinstance(self.out, Exception):
                raise self.out
            return self.out

    check.conn = _Obj(compute=Console({"output": "a\ncloud-init: hostname set\n"}))
    assert check.console_tail({"id": "s1"}) == "last console lines:\na\ncloud-init: hostname set"
    check.conn = _Obj(compute=Console({"output": ""}))
    assert check.console_tail({"id": "s1"}) == "last console lines:\n(none)"
    check.conn = _Obj(compute=Console(RuntimeError("409")))
    assert check.console_tail({"id": "s1"}) == "console unreadable (RuntimeError)"


def test_two_servers_of_the_group_on_one_host_fail_the_proof_and_leave_nothing():
    cloud = _Nova(placement=("compute1", "compute1"))
    check = _run_check(cloud, hosts=["compute1", "compute2"])
    with pytest.raises(Failure) as failed:
        check.run()
    assert failed.value.msg == (
        "scheduling: the anti-affinity server group osdeploy-check-member did not place one server on each host: "
        "osdeploy-check-member-1, osdeploy-check-member-2 all went to compute1; no server went to compute2")
    check.cleanup()
    assert all(s["gone"] for s in cloud.servers.values()) and cloud.groups == {}


@pytest.mark.parametrize("refused,rule,says", [
    (("member", "post /os-server-groups"), "os_compute_api:os-server-groups:create",
     "boot: refused by the policy rule os_compute_api:os-server-groups:create (HTTP 403) - create server group "
     "osdeploy-check-member (anti-affinity): "),
    (("member", "list servers"), "os_compute_api:servers:index",
     "API: refused by the policy rule os_compute_api:servers:index (HTTP 403) - list servers (API): "),
    (("admin", "agents"), "get_agent",
     "network: refused by the policy rule get_agent (HTTP 403) - list the network agents (as admin): "),
])
def test_a_call_refused_by_policy_names_the_stage_and_the_rule(refused, rule, says):
    cloud = _Nova(refuse={refused: rule})
    check = _run_check(cloud, hosts=["compute1", "compute2"])
    with pytest.raises(Failure) as failed:
        check.run()
    assert failed.value.msg.startswith(says), failed.value.msg
    check.cleanup()
    assert all(s["gone"] for s in cloud.servers.values()) and cloud.groups == {}


def test_a_member_moves_nothing_itself_and_its_other_servers_go_before_the_moves():
    cloud = _Nova()
    check = _run_check(cloud, hosts=["compute1", "compute2"], migrate=True)
    moved = []

    def move(record, kind, target, namespace, net):
        # the other server is gone already: anti-affinity would keep this one off its host
        moved.append((record["host"], kind, target, [s["gone"] for s in cloud.servers.values()]))
        record["moves"].append(dict(kind=kind, target=target, seconds=1.0, ping=None))

    check.move = move
    result = check.run()
    assert moved == [("compute1", "cold", "compute2", [True, False]), ("compute1", "live", "compute1", [True, False])]
    assert "moved cold to compute2 in 1.0, live to compute1 in 1.0; deleted in" in result["summary"][0]


def test_an_earlier_runs_group_and_its_servers_are_deleted_first():
    cloud = _Nova()
    cloud.servers["s9"] = dict(name="osdeploy-check-member-1", host="compute1", project="p-demo", gone=False)
    cloud.servers["s8"] = dict(name="gone-already", host="compute1", project="p-demo", gone=True)
    cloud.groups["g0"] = dict(id="g0", name="osdeploy-check-member", members=["s9", "s8"])
    cloud.groups["g7"] = dict(id="g7", name="someone-elses", members=[])
    result = _run_check(cloud, hosts=["compute1", "compute2"]).run()
    assert result["leftovers_deleted"] == ["osdeploy-check-member-1", "server group osdeploy-check-member"]
    assert cloud.servers["s9"]["gone"] and list(cloud.groups) == ["g7"]


def test_check_mode_as_a_member_that_does_not_exist_yet_cannot_tell():
    def refused():
        raise MissingRequiredOptions("Auth plugin requires parameters which were not given: auth_url")

    check = _setup_check(_Setup(), check_mode=True, flavor_spec=SPEC, admin_cloud="osdeploy-admin")
    check.connect = lambda: check.call(refused, doing="load the connection settings")
    result = check.run()
    assert result["changed"] is False and result["msg"] == "check mode: no server booted on compute1"
    assert "cannot be read" in check.warnings[0]


class MissingRequiredOptions(Exception):
    """Named like keystoneauth's: what an unknown cloud name ends as."""


def test_a_move_refused_by_policy_names_the_stage_and_the_rule():
    class Refusing(_Cloud):
        def post(self, url, json=None, microversion=None):
            return _Resp({"forbidden": {"code": 403, "message": "Policy doesn't allow "
                                        "os_compute_api:os-migrate-server:migrate_live to be performed."}}, 403)

    check, record = _mover(Refusing()), _record()
    with pytest.raises(Failure) as failed:
        check.move(record, "live", "compute2", "qdhcp-n1", None)
    assert failed.value.msg.startswith("live migration: refused by the policy rule "
                                       "os_compute_api:os-migrate-server:migrate_live (HTTP 403) - live migration of "
                                       "osdeploy-check-compute1: ")


def test_placement_refused_by_policy_fails_the_move_instead_of_reading_no_allocation():
    class Refusing(_Cloud):
        def __init__(self):
            super(Refusing, self).__init__()
            self.placement = self

        def get(self, url, microversion=None):
            if url.startswith("/allocations/"):
                return _Resp({"errors": [{"detail": "Policy does not allow placement:allocations:list to be "
                                                    "performed."}]}, 403)
            return super(Refusing, self).get(url, microversion)

    check, record = _mover(Refusing()), _record()
    with pytest.raises(Failure) as failed:
        check.move(record, "cold", "compute2", "qdhcp-n1", None)
    assert failed.value.msg.startswith("cold migration: refused by the policy rule placement:allocations:list (HTTP 403) "
                                       "- read the allocations of s1: ")


def test_kept_servers_outlive_the_run_and_a_later_run_checks_moves_and_deletes_them_without_booting():
    cloud = _Nova()
    result = _run_check(cloud, hosts=["compute1", "compute2"], keep=True).run()
    assert result["changed"] is True and result["kept"] == ["osdeploy-check-member-2", "osdeploy-check-member-1"]
    assert not any(s["gone"] for s in cloud.servers.values()) and list(cloud.groups) == ["g1"]
    assert result["summary"][0].endswith("kept running")
    # the same again with reuse: the kept ones are found and kept, nothing booted, nothing changed
    del cloud.log[:]
    result = _run_check(cloud, hosts=["compute1", "compute2"], keep=True, reuse=True).run()
    assert result["changed"] is False and len(cloud.servers) == 2
    assert not [what for w, what in cloud.log if what.startswith(("post", "create", "delete"))]
    assert "(kept since an earlier run)" in result["summary"][0]
    # after the upgrade: checked where they are, the first moved, then all deleted with their group
    check = _run_check(cloud, hosts=["compute1", "compute2"], reuse=True, migrate=True)
    moved = []

    def move(record, kind, target, namespace, net):
        moved.append((record["name"], kind, target))
        record["moves"].append(dict(kind=kind, target=target, seconds=1.0, ping=None))

    check.move = move
    result = check.run()
    assert moved == [("osdeploy-check-member-2", "cold", "compute2"), ("osdeploy-check-member-2", "live", "compute1")]
    assert result["changed"] is True and "kept" not in result
    assert all(s["gone"] for s in cloud.servers.values()) and cloud.groups == {}


def test_a_kept_server_that_is_no_longer_active_fails_the_check_and_is_left_to_be_looked_at():
    cloud = _Nova()
    _run_check(cloud, hosts=["compute1", "compute2"], keep=True).run()
    cloud.servers["s1"]["status"] = "SHUTOFF"
    check = _run_check(cloud, hosts=["compute1", "compute2"], reuse=True)
    with pytest.raises(Failure) as failed:
        check.run()
    assert failed.value.msg == ("reuse: server osdeploy-check-member-1, kept by an earlier run, is SHUTOFF (task state "
                                "None), not ACTIVE; delete it to have a new one booted")
    check.cleanup()
    assert not any(s["gone"] for s in cloud.servers.values()) and list(cloud.groups) == ["g1"]


def test_kept_servers_that_share_a_host_now_fail_the_check():
    cloud = _Nova()
    _run_check(cloud, hosts=["compute1", "compute2"], keep=True).run()
    cloud.servers["s2"]["host"] = "compute2"
    with pytest.raises(Failure) as failed:
        _run_check(cloud, hosts=["compute1", "compute2"], reuse=True).run()
    assert failed.value.msg.startswith("reuse: the servers an earlier run kept are no longer one on each host: ")


def test_reuse_without_kept_servers_boots_new_ones():
    cloud = _Nova()
    result = _run_check(cloud, hosts=["compute1", "compute2"], reuse=True, keep=True).run()
    assert result["changed"] is True and len(cloud.servers) == 2 and "(kept since" not in result["summary"][0]


def test_check_mode_predicts_the_kept_servers_a_run_would_boot_check_or_delete():
    cloud = _Nova()
    first = _run_check(cloud, hosts=["compute1", "compute2"], keep=True, reuse=True, check_mode=True).run()
    assert first["changed"] is True and first["msg"].endswith("would boot a server on each and keep them running")
    assert cloud.servers == {}
    _run_check(cloud, hosts=["compute1", "compute2"], keep=True).run()
    again = _run_check(cloud, hosts=["compute1", "compute2"], keep=True, reuse=True, check_mode=True).run()
    assert again["changed"] is False
    end = _run_check(cloud, hosts=["compute1", "compute2"], reuse=True, check_mode=True).run()
    assert end["changed"] is True and end["msg"].endswith("would check, then delete the 2 servers an earlier run kept")
    assert not any(s["gone"] for s in cloud.servers.values())
